using System.Globalization;
using Noether.Interop;
using Noether.Symmetry.Census;
using Noether.Tensors;
using Noether.Tests.Interop;
using Noether.Tests.Symmetry.Census;

namespace Noether.Tests.Cli;

/// <summary>
/// `teleport --model`: the round trip of issue 14 — the moved ONNX model runs in ONNX Runtime with the original outputs
/// (float32, 1e-5 as every ORT check) and its site's quantities are the targets (float64 in the run: 1e-8; from the
/// exported float32 weights: 1e-5, their rounding).
/// </summary>
public sealed class ModelTeleportCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "noether-model-teleport-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void ResNet20_Site_RoundTripsThroughOnnxRuntime_AndHitsItsTargets()
    {
        var (path, outDir) = Teleport("resnet20.onnx", "out", "--site", "3", "--q-scale", "2");

        var rows = File.ReadAllLines(Path.Combine(outDir, "site-teleport.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(32, rows.Length);
        var original = OnnxModel.Load(path).ToGraph<double>();
        var moved = OnnxModel.Load(Path.Combine(outDir, "model.onnx")).ToGraph<double>();
        var site = SymmetryCensus.Take(original).Sites[3];
        for (int i = 0; i < rows.Length; i++)
        {
            double before = double.Parse(rows[i][1], CultureInfo.InvariantCulture), target = double.Parse(rows[i][2], CultureInfo.InvariantCulture);
            double after = double.Parse(rows[i][3], CultureInfo.InvariantCulture);
            // Independent of the run: Q before from the original file, the target as 2·Q, Q after from the exported file.
            Support.Close.Assert(site.Generators[i].Conserved(n => original.Parameter(n)!.Value.Data), before, 1e-12);
            Support.Close.Assert(2 * before, target, 1e-15);
            Support.Close.Assert(target, after, 1e-8);
            Support.Close.Assert(target, site.Generators[i].Conserved(n => moved.Parameter(n)!.Value.Data), 1e-5);
        }

        AssertOrtOutputsUnchanged(path, Path.Combine(outDir, "model.onnx"));
    }

    [Fact]
    public void Mlp_Sharpness_RoundTripsThroughOnnxRuntime_AndTheWrittenModelHasTheTargetSharpness()
    {
        var (path, outDir) = Teleport("mlp.onnx", "sharp", "--site", "1", "--sharpness-scale", "2", "--batch", "16");
        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        double before = summary.RootElement.GetProperty("sharpnessBefore").GetDouble(), target = summary.RootElement.GetProperty("target").GetDouble();
        Assert.Equal(2 * before, target);
        Assert.True(File.ReadAllLines(Path.Combine(outDir, "sharpness-path.csv")).Length > 2);

        // λ_max of the exported (float32) weights on the run's batch (the seeded synthetic batch of 16, drawn again here):
        // the target up to the weights' rounding, and far from where it started.
        var moved = OnnxModel.Load(Path.Combine(outDir, "model.onnx")).ToGraph<double>();
        var (xb, labels, _) = Noether.Experiments.ImportedModelData.CensusBatch(moved, null, null, 16, new Random(0), "--input", "--labels", "--model");
        var (lambda, _) = Noether.Landscape.SiteSharpnessTeleport.TopEigenvalue(moved, moved.Parameters, xb, labels, new Noether.Landscape.SiteSharpnessOptions());
        Support.Close.Assert(target, lambda, 1e-5);

        AssertOrtOutputsUnchanged(path, Path.Combine(outDir, "model.onnx"));
    }

    [Theory]
    [InlineData(new[] { "--site", "0", "--target-sharpness", "0.001" }, "--target-sharpness", "unreachable")]
    [InlineData(new[] { "--site", "2", "--sharpness-scale", "2" }, "--sharpness-scale", "does not change")]
    [InlineData(new[] { "--q-scale", "2" }, "--batch", "sharpness target")]
    [InlineData(new[] { "--q-scale", "2", "--target-sharpness", "3" }, "--q-scale", "exactly one target")]
    [InlineData(new[] { "--sharpness-scale", "-1" }, "--sharpness-scale", "positive")]
    public void BadSharpnessTargets_AreRefusedInOneLine_AndNothingIsWritten(string[] options, string named, string why)
    {
        AssertRefused([.. options, "--batch", "8"], named, why);
    }

    [Fact]
    public void ResNet20_RandomMembers_RoundTripThroughOnnxRuntime_AndAreDifferentPoints()
    {
        // Item 5's random orbit elements: each member is the model moved by a random element of the whole census group.
        // Independently of the run: ONNX Runtime gives each member file the original outputs, and the weights read back
        // from the files differ from the model's and from each other (the members are distinct points of the orbit).
        var (path, outDir) = Teleport("resnet20.onnx", "members", "--random-members", "2", "--random-scale", "0.5", "--seed", "3");
        var weights = new[] { path, Path.Combine(outDir, "member-1.onnx"), Path.Combine(outDir, "member-2.onnx") }
            .Select(f => OnnxModel.Load(f).ToGraph<double>().Parameters.SelectMany(p => p.Value.Data).ToArray()).ToArray();
        for (int k = 1; k <= 2; k++)
        {
            AssertOrtOutputsUnchanged(path, Path.Combine(outDir, $"member-{k}.onnx"));
            Assert.True(Support.Close.RelativeError(weights[0], weights[k]) > 0.05, $"member {k} is the model itself");
            Assert.True(File.Exists(Path.Combine(outDir, $"member-{k}.safetensors")));
        }
        Assert.True(Support.Close.RelativeError(weights[1], weights[2]) > 0.05, "the two members are the same point");
        var csv = CliOutput.AssertCsv(Path.Combine(outDir, "members.csv"), "member", "file", "distance", "probability_change", "sites_moved");
        Assert.Equal(2, csv.RowCount);
        Assert.All(Enumerable.Range(0, 2), i => Assert.True(csv.GetDouble(i, "probability_change") <= 1e-10));
    }

    // `teleport --model` on a zoo fixture into a fresh folder of _dir; it must succeed.
    private (string Model, string OutDir) Teleport(string fixture, string outName, params string[] options)
    {
        string model = Path.Combine(OnnxZooTests.Folder, fixture), outDir = Path.Combine(_dir, outName);
        var r = CliRunner.Run(["teleport", "--model", model, .. options, "--out", outDir]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return (model, outDir);
    }

    // `teleport --model mlp.onnx` with bad options: one clear line naming the option, and no output folder.
    private void AssertRefused(string[] options, string named, string why)
    {
        var r = CliRunner.Run(["teleport", "--model", Path.Combine(OnnxZooTests.Folder, "mlp.onnx"), .. options, "--out", Path.Combine(_dir, "bad")]);
        CliRunner.AssertCleanFailure(r, named, why);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad")));
    }

    // ONNX Runtime (float32) on 16 fixture images: the moved file gives the original file's outputs to 1e-5.
    private static void AssertOrtOutputsUnchanged(string original, string moved)
    {
        var x = Tensor<float>.FromDoubles(SymmetryCensusTests.Batch(16).X.Data, [16, 1, 28, 28]);
        var expected = OnnxZooTests.RunOrt(original, x).Select(v => (double)v).ToArray();
        var actual = OnnxZooTests.RunOrt(moved, x).Select(v => (double)v).ToArray();
        double err = Support.Close.RelativeError(expected, actual);
        Assert.True(err <= 1e-5, $"ONNX Runtime outputs moved by {err:E2}");
    }

    [Theory]
    [InlineData(new[] { "--site", "99", "--q-scale", "2" }, "--site", "sites 0–")]
    [InlineData(new[] { "--q-scale", "2", "--q-shift", "1" }, "--q-scale", "exactly one target")]
    [InlineData(new[] { "--site", "0" }, "--q-scale", "exactly one target")]
    [InlineData(new[] { "--random-members", "2", "--q-scale", "2" }, "--q-scale", "--random-members")]
    [InlineData(new[] { "--random-members", "0" }, "--random-members", "1 to 100")]
    [InlineData(new[] { "--random-scale", "0.5", "--q-scale", "2" }, "--random-scale", "--random-members")]
    public void BadTargets_AreRefusedInOneLine(string[] options, string named, string why)
    {
        // (An unreachable target needs a one-signed Q, e.g. a normalisation scale; the zoo's inference-mode models have
        // none, so SiteTeleportTests checks that refusal in the library.)
        AssertRefused(options, named, why);
    }
}
