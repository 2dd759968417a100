using System.Globalization;
using Google.Protobuf;
using Noether.Tests.Interop;
using Onnx;

namespace Noether.Tests.Cli;

/// <summary>
/// <c>train --model … --teleport-at</c> and <c>teleport-protocol</c>: teleports recorded in teleports.csv and summary.json,
/// and every bad input refused in one line naming its option, with nothing written.
/// </summary>
public sealed class TeleportTrainingCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-teleport-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Mlp => Path.Combine(OnnxZooTests.Folder, "mlp_teleport.onnx");

    private string Out => Path.Combine(_dir, "out");

    private static string[] Train(string model, params string[] more) =>
        ["train", "--model", model, "--epochs", "2", "--batch-size", "20", "--train-limit", "200", "--float64", .. more];

    [Fact]
    public void Teleports_AreRecordedInTheCsvAndTheSummary_WithTheLossKept()
    {
        var r = CliRunner.Run([.. Train(Mlp, "--teleport-at", "1", "--teleports", "3", "--teleport-steps", "2", "--teleport-batch", "50"), "--out", Out]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = File.ReadAllLines(Path.Combine(Out, "teleports.csv"));
        Assert.Equal(4, rows.Length);
        var header = rows[0].Split(',');
        double Col(string[] row, string name) => double.Parse(row[Array.IndexOf(header, name)], CultureInfo.InvariantCulture);
        for (int i = 1; i < rows.Length; i++)
        {
            var row = rows[i].Split(',');
            // Epoch 1 (from 0) of 10 steps: the teleports precede its steps 0, 1, 2 — after the 10 steps of epoch 0.
            Assert.Equal(1, Col(row, "epoch"));
            Assert.Equal(10 + i - 1, Col(row, "step"));
            Assert.Equal(2, Col(row, "hvps"));
            Assert.True(Col(row, "relative_loss_change") <= 1e-10, rows[i]);
            Assert.True(Col(row, "grad_norm_sq_after") > Col(row, "grad_norm_sq_before"), rows[i]);
        }
        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Out, "summary.json")));
        var teleports = summary.RootElement.GetProperty("teleports");
        Assert.Equal(3, teleports.GetProperty("count").GetInt32());
        Assert.Equal(6, teleports.GetProperty("hessianVectorProducts").GetInt32());
        Assert.Equal(20, summary.RootElement.GetProperty("steps").GetInt32()); // the optimiser resets do not lose steps
    }

    [Fact]
    public void SharpnessTeleports_HitTheirTargets_WithTheLossKept()
    {
        var r = CliRunner.Run([.. Train(Mlp, "--teleport-at", "1", "--teleports", "2", "--teleport-batch", "50", "--teleport-to", "sharpness-scale:2",
            "--teleport-site", "0"), "--out", Out]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = File.ReadAllLines(Path.Combine(Out, "teleports.csv"));
        Assert.Equal(3, rows.Length);
        var header = rows[0].Split(',');
        double Col(string[] row, string name) => double.Parse(row[Array.IndexOf(header, name)], CultureInfo.InvariantCulture);
        for (int i = 1; i < rows.Length; i++)
        {
            var row = rows[i].Split(',');
            Assert.Equal(10 + i - 1, Col(row, "step"));
            Assert.Equal(0, Col(row, "ascent_steps"));
            Assert.Equal(2 * Col(row, "sharpness_before"), Col(row, "target_sharpness"));
            Support.Close.Assert(Col(row, "target_sharpness"), Col(row, "sharpness_after"), 1e-8);
            Assert.True(Col(row, "relative_loss_change") <= 1e-10, rows[i]);
            Assert.NotEqual(0, Col(row, "t"));
        }
        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Out, "summary.json")));
        Assert.Equal(20, summary.RootElement.GetProperty("steps").GetInt32());
    }

    public static TheoryData<string[], string[]> BadInputs => new()
    {
        { ["--teleport-at", "1", "--teleport-to", "sharpness:0.001", "--teleport-site", "0"], ["--teleport-to", "teleport 1 (epoch 1", "unreachable", "no checkpoint"] },
        { ["--teleport-at", "0", "--teleport-to", "sharpness:2", "--teleport-site", "2"], ["--teleport-to", "does not change"] },
        { ["--teleport-at", "0", "--teleport-to", "sharpness:2"], ["--teleport-site", "needs"] },
        { ["--teleport-at", "0", "--teleport-site", "0"], ["--teleport-site", "goes with"] },
        { ["--teleport-at", "0", "--teleport-to", "sharp:2"], ["--teleport-to", "expects"] },
        { ["--teleport-at", "0", "--teleport-to", "sharpness:-1", "--teleport-site", "0"], ["--teleport-to", "positive"] },
        { ["--teleport-at", "0", "--teleport-to", "sharpness:2", "--teleport-site", "9"], ["--teleport-site 9", "does not exist"] },
        { ["--teleport-at", "0", "--teleport-to", "sharpness:2", "--teleport-site", "0", "--teleport-lr", "0.1"], ["--teleport-lr", "gradient-norm"] },
        { ["--teleport-at", "2"], ["--teleport-at 2", "beyond the run", "0–1"] },
        { ["--teleport-at", "x"], ["--teleport-at", "epochs counted from 0"] },
        { ["--teleport-at", "0,0"], ["--teleport-at", "twice"] },
        { ["--teleport-at", "0", "--teleport-steps", "0"], ["--teleport-steps", "at least 1"] },
        { ["--teleport-at", "0", "--teleports", "0"], ["--teleports", "at least 1"] },
        { ["--teleport-at", "0", "--teleports", "11"], ["--teleports 11", "10 steps"] },
        { ["--teleport-at", "0", "--teleport-batch", "201"], ["--teleport-batch 201", "200 samples"] },
        { ["--teleport-at", "0", "--teleport-lr", "-1"], ["--teleport-lr", "positive"] },
        { ["--teleport-steps", "3"], ["--teleport-steps", "needs --teleport-at"] },
        { ["--teleport-at", "0", "--monitor", "1"], ["--teleport-at", "--monitor"] },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadTeleportOptions_AreRefusedInOneLine_AndNothingIsWritten(string[] options, string[] mentions)
    {
        var r = CliRunner.RunInProcess([.. Train(Mlp, options), "--out", Out]);
        CliRunner.AssertOneLineFailure(r, mentions);
        Assert.False(Directory.Exists(Out), "a refused run created --out");
    }

    [Fact]
    public void AModelWithoutAnExactSymmetry_HasNoReachableTarget_AndIsRefusedWithTheReason()
    {
        // The MLP with tanh in place of LeakyReLU and a tanh on its output: no rescaling, no softmax translation.
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Mlp));
        foreach (var n in proto.Graph.Node.Where(n => n.OpType == "LeakyRelu"))
        {
            n.OpType = "Tanh";
            n.Attribute.Clear();
        }
        string logits = proto.Graph.Output[0].Name;
        proto.Graph.Node.Add(new NodeProto { Name = "squash", OpType = "Tanh", Input = { logits }, Output = { "squashed" } });
        proto.Graph.Output[0].Name = "squashed";
        string path = Path.Combine(_dir, "tanh.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());

        var r = CliRunner.RunInProcess([.. Train(path, "--teleport-at", "0"), "--out", Out]);
        CliRunner.AssertOneLineFailure(r, "--teleport-at", "no teleport target is reachable", "no continuous symmetry");
        Assert.False(Directory.Exists(Out), "a refused run created --out");
    }

    [Theory]
    [InlineData(new[] { "--seeds", "1" }, new[] { "--seeds", "at least 2" })]
    [InlineData(new[] { "--epochs", "2" }, new[] { "--epochs", "exceed 2" })]
    [InlineData(new[] { "--optimizers", "sgd,lbfgs" }, new[] { "--optimizers", "lbfgs" })]
    [InlineData(new[] { "--train-limit", "100" }, new[] { "--train-limit 100", "teleport" })]
    public void Protocol_BadInputs_AreRefusedInOneLine(string[] options, string[] mentions)
    {
        var r = CliRunner.RunInProcess(["teleport-protocol", "--model", Mlp, "--profile", "quick", .. options, "--out", Out]);
        CliRunner.AssertOneLineFailure(r, mentions);
        Assert.False(Directory.Exists(Out), "a refused run created --out");
    }

    [Fact]
    public void Protocol_QuickSubset_WritesTheComparisonAndAVerdictPerOptimiser()
    {
        var r = CliRunner.Run(["teleport-protocol", "--model", Mlp, "--profile", "quick", "--optimizers", "adam", "--epochs", "2", "--train-limit", "400", "--out", Out]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (var f in new[] { "curves.csv", "comparison.csv", "teleports.csv", "teleport-protocol.png", "summary.json" })
            Assert.True(File.Exists(Path.Combine(Out, f)), f);
        Assert.Equal(1 + 2 * 3 * 2, File.ReadAllLines(Path.Combine(Out, "curves.csv")).Length); // 2 seeds × (baseline, teleport, reset control) × 2 epochs
        var teleports = File.ReadAllLines(Path.Combine(Out, "teleports.csv"));
        Assert.Equal(1 + 2 * 2 * 8, teleports.Length); // 8 per teleport run and per control run
        // The control's teleports stop before their first move: only the resets (and one product each) are left.
        Assert.All(teleports.Skip(1).Where(l => l.Contains(",reset-control,", StringComparison.Ordinal)), l => Assert.Contains(",0,1,1,", l));
        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Out, "summary.json")));
        var adam = summary.RootElement.GetProperty("optimizers")[0];
        Assert.Contains(adam.GetProperty("verdict").GetString(), new[] { "faster", "not faster" });
        Assert.Contains(adam.GetProperty("verdict").GetString()!, r.Stdout);
        Assert.Equal("teleport-protocol-faster", summary.RootElement.GetProperty("claims")[0].GetProperty("id").GetString());
    }
}
