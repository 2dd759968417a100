using System.Globalization;
using Noether.Nn;
using Noether.Serialization;
using Noether.Tests.Data;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Cli;

public sealed class TeleportValleyCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-teleport-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (Tensor<double> U, Tensor<double> V) Read(string path)
    {
        var file = SafeTensors.Read(path);
        return (file.GetTensor<double>("U"), file.GetTensor<double>("V"));
    }

    private static Tensor<double> Imbalance(Tensor<double> u, Tensor<double> v)
    {
        var a = TensorOps.MatMul(u, u, transposeA: true);
        var b = TensorOps.MatMul(v, v, transposeB: true);
        for (int i = 0; i < a.Length; i++) a.Data[i] -= b.Data[i];
        return a;
    }

    /// <summary>Quick run to Tr Q = 0, then a second run from its trained weights to a whole Q matrix read from CSV.</summary>
    [Fact]
    public void Teleport_QuickThenTargetQFromCsv_ReachesTheTargetsWithTheLossUnchanged()
    {
        string first = Path.Combine(_dir, "trace");
        var r = CliRunner.Run(["teleport", "--profile", "quick", "--out", first]);
        CliOutput.AssertSucceeded(r, first);
        foreach (var png in new[] { "teleport-spectrum.png", "teleport-path.png" }) CliOutput.AssertPng(Path.Combine(first, png));
        CliOutput.AssertCsv(Path.Combine(first, "teleport-path.csv"), "t", "distance", "trace_q", "sharpness", "loss");
        CliOutput.AssertCsv(Path.Combine(first, "teleport-spectrum.csv"), "index", "eigenvalue_before", "eigenvalue_after");
        var summary = CliOutput.Summary(first, "teleport");
        var result = summary.GetProperty("result");
        Assert.True(result.GetProperty("relativeLossChange").GetDouble() <= 1e-9);
        Assert.True(result.GetProperty("targetError").GetDouble() <= 1e-8);
        // teleport-target-reached is Noether's own solver: passed, not "reproduced".
        Assert.Equal<string>(["Reproduced", "Passed", "Measured"], summary.GetProperty("claims").EnumerateArray().Select(c => c.GetProperty("verdict").GetString()!).ToArray());
        Assert.Equal(2, summary.GetProperty("figures").GetArrayLength());
        // Independently of the summary: the saved teleported weights have Tr Q = 0 and the same product UV.
        var (u0, v0) = Read(Path.Combine(first, "trained.safetensors"));
        var (u1, v1) = Read(Path.Combine(first, "teleported.safetensors"));
        Close.Assert(0, TensorOps.Dot(u1, u1) - TensorOps.Dot(v1, v1), 0, 1e-8, "Tr Q after");
        Close.Assert(TensorOps.MatMul(u0, v0), TensorOps.MatMul(u1, v1), 1e-10, 1e-12, "UV");

        // A 4×4 target (the quick network has h = 4; U is 5×4, V 4×6, so UᵀU and VVᵀ are definite and any Q is reachable).
        var target = new double[,] { { 2, 0.5, 0, -1 }, { 0.5, -3, 0.2, 0 }, { 0, 0.2, 1, 0.3 }, { -1, 0, 0.3, -0.5 } };
        string csv = Path.Combine(_dir, "q.csv");
        File.WriteAllLines(csv, Enumerable.Range(0, 4).Select(i => string.Join(",", Enumerable.Range(0, 4).Select(j => target[i, j].ToString("R", CultureInfo.InvariantCulture)))));
        string second = Path.Combine(_dir, "matrix");
        var r2 = CliRunner.Run(["teleport", "--profile", "quick", "--weights", Path.Combine(first, "trained.safetensors"), "--target-q", csv, "--out", second]);
        CliOutput.AssertSucceeded(r2, second);
        var (u2, v2) = Read(Path.Combine(second, "teleported.safetensors"));
        Close.Assert(Tensor<double>.FromArray(target), Imbalance(u2, v2), 0, 1e-8, "Q reached");
        Close.Assert(TensorOps.MatMul(u0, v0), TensorOps.MatMul(u2, v2), 1e-9, 1e-11, "UV");
        Assert.Equal("ClosedForm", CliOutput.Summary(second, "teleport").GetProperty("result").GetProperty("method").GetString());
    }

    [Fact]
    public void Teleport_BadInput_FailsCleanlyNamingTheInput()
    {
        string trained = Path.Combine(_dir, "trained");
        CliOutput.AssertSucceeded(CliRunner.Run(["teleport", "--profile", "quick", "--out", trained]), trained);
        string weights = Path.Combine(trained, "trained.safetensors");
        void Fails(string[] args, params string[] mentions)
        {
            string outDir = Path.Combine(_dir, "bad-" + Guid.NewGuid().ToString("N"));
            var r = CliRunner.Run([.. args, "--out", outDir]);
            CliRunner.AssertCleanFailure(r, mentions);
            Assert.False(Directory.Exists(outDir), $"{string.Join(' ', args)} left {outDir} behind");
        }
        // Below the minimum of λ_max along the scalar path: unreachable there, with the range seen.
        Fails(["teleport", "--profile", "quick", "--weights", weights, "--target-sharpness", "0.001"], "target sharpness", "unreachable along the path");
        Fails(["teleport", "--profile", "quick", "--weights", weights, "--shape", "5x3x6"], "--weights", "U 5×4");
        Fails(["teleport", "--profile", "quick", "--target-trace", "NaN"], "--target-trace", "finite");
        Fails(["teleport", "--profile", "quick", "--target-sharpness", "-2"], "--target-sharpness", "positive");
        Fails(["teleport", "--profile", "quick", "--target-trace", "1", "--target-sharpness", "2"], "at most one target");
        // U is 5×4 in the quick network: with --shape 3x4x6 it is 3×4, and Q' has at most 3 positive eigenvalues; I₄ has 4.
        string eye = Path.Combine(_dir, "eye.csv");
        File.WriteAllLines(eye, ["1,0,0,0", "0,1,0,0", "0,0,1,0", "0,0,0,1"]);
        Fails(["teleport", "--profile", "quick", "--shape", "3x4x2", "--target-q", eye], "target Q is unreachable", "4 positive eigenvalues");
        Fails(["teleport", "--profile", "quick", "--target-q", Path.Combine(_dir, "missing.csv")], "--target-q", "not found");
    }

    [Fact]
    public void Valley_Quick_GroupSlicesAreFlatAndRandomOnesRise()
    {
        var r = CliRunner.Run(["valley", "--profile", "quick", "--out", _dir, "--force"]);
        CliOutput.AssertSucceeded(r, _dir);
        CliOutput.AssertPng(Path.Combine(_dir, "valley-1d.png"));
        CliOutput.AssertPng(Path.Combine(_dir, "valley-2d.png"));
        var csv = CliOutput.AssertCsv(Path.Combine(_dir, "valley-1d.csv"), "curve", "kind", "coordinate", "distance", "loss");
        CliOutput.AssertCsv(Path.Combine(_dir, "valley-2d.csv"), "plane", "a", "b", "loss");
        var rows = Enumerable.Range(0, csv.RowCount).ToArray();
        double centre = rows.Where(i => csv[i, "kind"] == "random" && csv.GetDouble(i, "coordinate") == 0).Select(i => csv.GetDouble(i, "loss")).First();
        foreach (var i in rows.Where(i => csv[i, "kind"] == "group")) Close.Assert(centre, csv.GetDouble(i, "loss"), 1e-12, 0, "group path loss");
        foreach (var curve in rows.Where(i => csv[i, "kind"] == "random").GroupBy(i => csv[i, "curve"]))
            Assert.True(curve.Max(i => csv.GetDouble(i, "loss")) > 2 * centre, $"{curve.Key} should rise");
        var summary = CliOutput.Summary(_dir, "valley");
        // valley-random-rises is Noether's control (Li et al.'s convention): passed, not "reproduced".
        Assert.Equal<string>(["Reproduced", "Passed"], summary.GetProperty("claims").EnumerateArray().Select(c => c.GetProperty("verdict").GetString()!).ToArray());
    }

    /// <summary>--cnn: a SPEC CNN in `noether train`'s format and Fashion-MNIST-shaped IDX files; the head's group slices are flat.</summary>
    [Fact]
    public void Valley_Cnn_ChartsTheLastTwoLayersOfASavedModel()
    {
        string data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(data);
        int count = 12;
        foreach (var prefix in new[] { "train", "t10k" })
        {
            File.WriteAllBytes(Path.Combine(data, prefix + "-images-idx3-ubyte"), IdxFiles.Images(count, 28, 28, IdxFiles.RandomBytes(count * 28 * 28, 1)));
            File.WriteAllBytes(Path.Combine(data, prefix + "-labels-idx1-ubyte"), IdxFiles.Labels(Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray()));
        }
        var model = new SpecCnn<float>(new Random(3), 1, 28, 10, channels: 2, hidden: 6);
        string weights = Path.Combine(_dir, "model.safetensors");
        SafeTensors.Write(weights, model.Parameters.Select(p => (p.Name, p.Value)),
            new Dictionary<string, string> { ["noether.arch"] = "spec-cnn:in=1,size=28,channels=2,hidden=6,classes=10,slope=0.01" });
        string outDir = Path.Combine(_dir, "valley");
        var r = CliRunner.Run(["valley", "--profile", "quick", "--cnn", weights, "--data", data, "--grid", "5", "--points", "9", "--out", outDir]);
        CliOutput.AssertSucceeded(r, outDir);
        var summary = CliOutput.Summary(outDir, "valley");
        Assert.Contains("SPEC CNN", summary.GetProperty("model").GetString());
        Assert.Equal("Reproduced", summary.GetProperty("claims")[0].GetProperty("verdict").GetString());
        Assert.True(summary.GetProperty("flatness").GetProperty("groupLineDeviation").GetDouble() <= 1e-12);

        var bad = Path.Combine(_dir, "bad.safetensors");
        SafeTensors.Write(bad, model.Parameters.Select(p => (p.Name, p.Value)));
        CliRunner.AssertCleanFailure(CliRunner.Run(["valley", "--cnn", bad, "--data", data, "--out", Path.Combine(_dir, "bad")]), "--cnn", "noether.arch");
    }

    /// <summary>
    /// --model: the zoo MLP (ONNX) on the first 16 Fashion-MNIST test images; the census's ReLU rescalings chart flat, the
    /// random lines rise, and the loss at θ* in valley-1d.csv equals an independent forward pass of the same batch.
    /// </summary>
    [Fact]
    public void Valley_Model_ChartsAnImportedModelAlongItsCensus()
    {
        string model = Path.Combine(Noether.Tests.Interop.OnnxZooTests.Folder, "mlp.onnx");
        string outDir = Path.Combine(_dir, "model");
        var r = CliRunner.Run(["valley", "--model", model, "--samples", "16", "--points", "5", "--grid", "3", "--directions", "2", "--out", outDir]);
        CliOutput.AssertSucceeded(r, outDir);
        var summary = CliOutput.Summary(outDir, "valley");
        Assert.Equal<string>(["Reproduced", "Passed"], summary.GetProperty("claims").EnumerateArray().Select(c => c.GetProperty("verdict").GetString()!).ToArray());
        Assert.Equal(model, summary.GetProperty("settings").GetProperty("model").GetString());
        Assert.Contains("census sites", summary.GetProperty("settings").GetProperty("group").GetString(), StringComparison.Ordinal);
        var graph = Noether.Interop.OnnxModel.Load(model).ToGraph<double>(new Noether.Graphs.GraphOptions { BatchNorm = Noether.Graphs.BatchNormMode.Inference });
        var (x, y) = Noether.Data.FashionMnist.Load(train: false).Gather<double>(Enumerable.Range(0, 16).ToArray());
        Close.Assert(Noether.Experiments.ModelReportExperiment.Loss(graph, x, y), summary.GetProperty("lStar").GetDouble(), 1e-14, 0, "L*");
        var csv = CliOutput.AssertCsv(Path.Combine(outDir, "valley-1d.csv"), "curve", "kind", "coordinate", "distance", "loss");
        Assert.Equal(4 * 5, csv.RowCount);
    }
}
