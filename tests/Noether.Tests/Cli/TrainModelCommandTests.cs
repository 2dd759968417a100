using System.Diagnostics;
using System.Runtime.InteropServices;
using Noether.Data;
using Noether.Graphs;
using Noether.Interop;
using Noether.Serialization;
using Noether.Tests.Interop;

namespace Noether.Tests.Cli;

/// <summary><c>noether train --model</c>: an imported ONNX classifier trained end to end.</summary>
public sealed class TrainModelCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(string name) => Path.Combine(OnnxZooTests.Folder, name);

    [Fact]
    public void Mlp_SmallRun_WritesAModelWhoseAccuracyIsTheReportedOne()
    {
        var r = CliRunner.Run(["train", "--model", Fixture("mlp.onnx"), "--optimizer", "adamw", "--lr", "3e-3", "--weight-decay", "0.01",
            "--schedule", "cosine", "--warmup-epochs", "1", "--epochs", "2", "--batch-size", "32", "--train-limit", "2000", "--checkpoint-every", "1", "--out", _dir, "--force"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (var f in new[] { "model.onnx", "model.safetensors", "training.csv", "training.png", "summary.json", "checkpoints/epoch-1.onnx", "checkpoints/epoch-2.safetensors" })
            Assert.True(File.Exists(Path.Combine(_dir, f)), f);
        var rows = File.ReadAllLines(Path.Combine(_dir, "training.csv"));
        Assert.Equal(3, rows.Length);
        double reported = double.Parse(rows[2].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture);

        // The written model, re-imported and run on the whole test split, has the accuracy the run reported.
        var graph = OnnxModel.Load(Path.Combine(_dir, "model.onnx")).ToGraph<float>();
        var test = FashionMnist.Load(FashionMnist.DefaultDirectory, train: false);
        int correct = 0;
        foreach (var (x, y) in Minibatches.Create(test, 1000, null, shuffle: false))
        {
            var logits = graph.Evaluate(x)[0];
            for (int i = 0; i < y.Length; i++)
            {
                int best = 0;
                for (int k = 1; k < 10; k++) if (logits[i, k] > logits[i, best]) best = k;
                if (best == y[i]) correct++;
            }
        }
        Assert.Equal(reported, correct / (double)test.Count, 12);
        Assert.True(reported > 0.5, $"accuracy {reported}");
        // The safetensors beside it holds the same values under the state_dict names.
        var weights = SafeTensors.Read(Path.Combine(_dir, "model.safetensors"));
        foreach (var p in graph.Parameters) Assert.Equal(p.Value.ToDoubles(), weights[p.Name].ToTensor<float>().ToDoubles());
        // The final checkpoint is the final model.
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "model.onnx")), File.ReadAllBytes(Path.Combine(_dir, "checkpoints", "epoch-2.onnx")));
    }

    [Fact]
    public void Monitor_WritesEveryKthStepAndTheIdentityHoldsInFloat64()
    {
        // SGD with Nesterov momentum and weight decay, float64: the per-step identity holds to rounding (docs/monitor.md);
        // the measured column is recomputed here for the last kept step from the written model (the trained weights).
        var r = CliRunner.Run(["train", "--model", Fixture("mlp.onnx"), "--lr", "0.05", "--momentum", "0.9", "--nesterov", "--weight-decay", "1e-3",
            "--epochs", "1", "--batch-size", "32", "--train-limit", "256", "--float64", "--monitor", "4", "--out", _dir, "--force"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = File.ReadAllLines(Path.Combine(_dir, "monitor.csv"));
        Assert.Equal("step,kind,site,generator,measured,predicted,residual,breaking,integral", rows[0]);
        Assert.Equal(2 * 65, rows.Length - 1); // 8 steps, every 4th kept, 65 census generators
        CliOutput.AssertPng(Path.Combine(_dir, "monitor.png"));
        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "summary.json")));
        var monitor = summary.RootElement.GetProperty("monitor");
        Assert.True(monitor.GetProperty("maxIdentityRelative").GetDouble() <= 1e-10, monitor.ToString());
        var graph = OnnxModel.Load(Path.Combine(_dir, "model.onnx")).ToGraph<double>();
        var gen = Noether.Symmetry.Census.SymmetryCensus.Take(graph).Sites[0].Generators[0];
        var last = rows.Skip(1).First(l => l.StartsWith("8,Rescaling,", StringComparison.Ordinal) && l.Contains(",unit 0,", StringComparison.Ordinal)).Split(',');
        // The file's float32 initializers round the trained weights: Q agrees to float32 precision.
        Support.Close.Assert(gen.Conserved(n => graph.Parameter(n)!.Value.Data), double.Parse(last[^5], System.Globalization.CultureInfo.InvariantCulture), 1e-5);
    }

    [Fact]
    public void OwnNpyData_TrainsAndTests()
    {
        var r = CliRunner.Run(["train", "--model", Fixture("spec_cnn.onnx"), "--train-file", Fixture("inputs.npy"), "--train-labels", Fixture("labels.npy"),
            "--test-file", Fixture("inputs.npy"), "--test-labels", Fixture("labels.npy"), "--optimizer", "rmsprop", "--lr", "1e-3", "--batch-size", "8",
            "--epochs", "1", "--out", _dir, "--force"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Matches("\"trainSamples\": *16,", File.ReadAllText(Path.Combine(_dir, "summary.json")));
    }

    [Fact]
    public void DataOfTheWrongShape_FailsInOneLineNamingTheFileAndBothShapes()
    {
        string x = Path.Combine(_dir, "x.npy"), y = Path.Combine(_dir, "y.npy"), outDir = Path.Combine(_dir, "out");
        Npy.Write(x, ElementType.Float, [4, 3, 8, 8], new double[4 * 3 * 8 * 8]);
        Npy.Write(y, ElementType.Float, [4], [0, 1, 2, 3]);
        var r = CliRunner.Run(["train", "--model", Fixture("resnet20.onnx"), "--train-file", x, "--train-labels", y, "--test-file", x, "--test-labels", y, "--out", outDir]);
        CliRunner.AssertCleanFailure(r, "x.npy", "3×8×8", "1×28×28");
        Assert.False(Directory.Exists(outDir), "nothing may be written");
    }

    [Fact]
    public void DivergingRun_StopsNamingTheStep_AndLeavesNoFiles()
    {
        string outDir = Path.Combine(_dir, "diverge");
        var r = CliRunner.Run(["train", "--model", Fixture("mlp.onnx"), "--lr", "1e30", "--epochs", "1", "--train-limit", "512", "--checkpoint-every", "1", "--out", outDir]);
        CliRunner.AssertCleanFailure(r, "step", "no checkpoint was completed");
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any());
    }

    [Theory]
    [InlineData("--optimizer", "adam")]
    [InlineData("--weight-decay", "0.1")]
    [InlineData("--checkpoint-every", "2")]
    public void ModelOptions_WithoutModel_AreRefused(string option, string value)
    {
        var r = CliRunner.Run(["train", option, value, "--out", Path.Combine(_dir, "o")]);
        CliRunner.AssertCleanFailure(r, option, "--model");
    }

    [Theory]
    [InlineData("--optimizer", "lamb", "lamb")]
    [InlineData("--schedule", "linear", "linear")]
    [InlineData("--momentum", "1.5", "momentum")]
    public void BadModelOptions_FailNamingTheOption(string option, string value, string mention)
    {
        string outDir = Path.Combine(_dir, "o");
        var r = CliRunner.Run(["train", "--model", Fixture("mlp.onnx"), option, value, "--out", outDir]);
        CliRunner.AssertCleanFailure(r, mention);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task CtrlC_KeepsCompletedCheckpoints_AndLeavesNoPartialFile()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGINT needs a POSIX system");
        string outDir = Path.Combine(_dir, "interrupted");
        // 200 epochs of the MLP take minutes; the first epoch line comes after its checkpoint is written.
        using var process = Process.Start(CliRunner.Interruptible(["train", "--model", Fixture("mlp.onnx"), "--epochs", "200", "--checkpoint-every", "1", "--out", outDir]))!;
        var started = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) => { if (e.Data?.StartsWith("epoch 1:", StringComparison.Ordinal) == true) started.TrySetResult(); };
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        var first = await Task.WhenAny(started.Task, Task.Delay(TimeSpan.FromSeconds(90)));
        Assert.True(first == started.Task, "no epoch line within 90 s");
        Assert.Equal(0, Kill(process.Id, 2)); // SIGINT
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 130, $"exit code {process.ExitCode}: {await stderr}");
        // --out is left as it was (not created); the completed checkpoints stay beside it in NAME.checkpoints.
        Assert.False(Directory.Exists(outDir), "a cancelled run must not create --out");
        string kept = outDir + ".checkpoints";
        var files = Directory.EnumerateFiles(kept, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(kept, f)).Order().ToArray();
        Assert.NotEmpty(files);
        // Only complete checkpoint pairs: no temporary or partial file.
        foreach (var f in files) Assert.Matches(@"^epoch-\d+\.(onnx|safetensors)$", f);
        foreach (var f in files.Where(f => f.EndsWith(".onnx", StringComparison.Ordinal)))
        {
            Assert.Contains(Path.ChangeExtension(f, ".safetensors"), files);
            Assert.Equal(6, OnnxModel.Load(Path.Combine(kept, f)).ToGraph<float>().Parameters.Count);
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
