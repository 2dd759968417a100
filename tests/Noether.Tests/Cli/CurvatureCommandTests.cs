using Noether.Data;
using Noether.Graphs;
using Noether.Interop;
using Noether.Tensors;
using Noether.Tests.Experiments;
using Noether.Tests.Interop;
using Noether.Tests.Support;

namespace Noether.Tests.Cli;

/// <summary>
/// <c>noether curvature</c> end to end on the MLP fixture over the first 32 Fashion-MNIST training images, its last two
/// layers selected (698 parameters): files written, the numbers consistent across files, the top eigenvalues equal to a
/// dense eigensolver on the same images; shards that add up to the unsharded trace; bad input refused.
/// </summary>
public sealed class CurvatureCommandTests : IDisposable
{
    private const string Selected = "3.weight,3.bias,5.weight,5.bias";
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-curvature-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Model => Path.Combine(OnnxZooTests.Folder, "mlp.onnx");

    [Fact]
    public void Curvature_MlpFixture_WritesConsistentFilesAndTopKEqualsDenseEigensolver()
    {
        string outDir = Path.Combine(_dir, "run");
        var r = CliRunner.RunInProcess(["curvature", "--model", Model, "--images", "32", "--batch-size", "8", "--top-k", "3", "--probes", "40",
            "--density-probes", "2", "--density-steps", "15", "--single-batches", "2", "--layers", "--parameters", Selected, "--seed", "4", "--out", outDir]);
        CliOutput.AssertSucceeded(r, outDir);
        foreach (var png in new[] { "density.png", "layers.png", "single-batch.png" }) CliOutput.AssertPng(Path.Combine(outDir, png));
        var csv = CliOutput.AssertCsv(Path.Combine(outDir, "curvature.csv"), "quantity", "index", "value", "residual", "standard_error", "standard_error_population", "ci95_low", "ci95_high");
        var layers = CliOutput.AssertCsv(Path.Combine(outDir, "layers.csv"), "layer", "parameters", "trace", "standard_error", "standard_error_population", "ci95_low", "ci95_high");
        var density = CliOutput.AssertCsv(Path.Combine(outDir, "density.csv"), "eigenvalue", "density");
        var summary = CliOutput.Summary(outDir, "curvature");
        Assert.Equal(698, summary.GetProperty("parameters").GetInt32());
        Assert.Equal(4, summary.GetProperty("batches").GetInt32());

        // curvature.csv and summary.json carry the same numbers (round-trip formatting: equal as doubles).
        var eig = summary.GetProperty("top").GetProperty("eigenvalues").EnumerateArray().Select(CliOutput.Number).ToArray();
        var rows = Enumerable.Range(0, csv.RowCount).ToArray();
        Assert.Equal(eig, rows.Where(i => csv[i, "quantity"] == "eigenvalue").Select(i => csv.GetDouble(i, "value")).ToArray());
        double trace = CliOutput.Number(summary.GetProperty("trace").GetProperty("hutchinson"));
        Assert.Equal(trace, rows.Where(i => csv[i, "quantity"] == "trace_hutchinson").Select(i => csv.GetDouble(i, "value")).Single());
        var singles = rows.Where(i => csv[i, "quantity"] == "single_batch_top").Select(i => csv.GetDouble(i, "value")).ToArray();
        Assert.Equal(summary.GetProperty("singleBatch").GetProperty("topEigenvalues").EnumerateArray().Select(CliOutput.Number).ToArray(), singles);
        // Per-layer traces come from the same probes and add up to the total.
        Assert.Equal(["3", "5"], Enumerable.Range(0, layers.RowCount).Select(i => layers[i, "layer"]).ToArray());
        Close.Assert(trace, Enumerable.Range(0, layers.RowCount).Sum(i => layers.GetDouble(i, "trace")), 1e-12, 0, "layers add up");
        // The density is a smoothed probability density: it integrates to ≈ 1 over its grid (trapezoid; the grid spans the nodes ± 3σ or more).
        var x = Enumerable.Range(0, density.RowCount).Select(i => density.GetDouble(i, "eigenvalue")).ToArray();
        var y = Enumerable.Range(0, density.RowCount).Select(i => density.GetDouble(i, "density")).ToArray();
        double integral = 0;
        for (int i = 1; i < x.Length; i++) integral += 0.5 * (y[i] + y[i - 1]) * (x[i] - x[i - 1]);
        Assert.InRange(integral, 0.95, 1.05);

        // Independent: the dense Hessian of the mean loss over the same 32 images in one pass, its top-3 from LAPACK.
        var train = FashionMnist.Load(train: true);
        var (all, labels) = train.Gather<double>(Enumerable.Range(0, 32).ToArray());
        var graph = OnnxModel.Load(Model).ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
        var (exact, _) = LinearAlgebra.SymmetricEigen(CurvatureExperimentTests.DenseHessian(graph, all, labels), vectors: false);
        var top = exact.OrderDescending().Take(3).ToArray();
        Close.Assert(top, eig, 0, 1e-8 * Math.Abs(top[0]), "top-3 vs dense");
    }

    [Fact]
    public void Curvature_ModuloOrbit_EqualsTheDenseHessianProjectedOffTheHandBuiltTangents()
    {
        string outDir = Path.Combine(_dir, "orbit");
        var r = CliRunner.RunInProcess(["curvature", "--model", Model, "--images", "32", "--batch-size", "8", "--top-k", "2", "--probes", "4",
            "--density-probes", "0", "--single-batches", "0", "--parameters", Selected, "--modulo-orbit", "--seed", "4", "--out", outDir]);
        CliOutput.AssertSucceeded(r, outDir);
        var orbit = CliOutput.Summary(outDir, "curvature").GetProperty("moduloOrbit");
        // The census of 784-32-16-10: 32 rescalings (they also move 1.weight, outside the selection: left out), 16 rescalings
        // across the second ReLU and the softmax translation's 16 + 1.
        Assert.Equal(33, orbit.GetProperty("generators").GetInt32());
        Assert.Equal(32, orbit.GetProperty("droppedGenerators").GetInt32());
        Assert.Equal(33, orbit.GetProperty("rank").GetInt32());

        // Independent: the tangents written out from the network's structure, the dense Hessian over the same 32 images,
        // P = I − QQᵀ from an SVD of the tangents, and the top-2 of PHP by LAPACK.
        var train = FashionMnist.Load(train: true);
        var (all, labels) = train.Gather<double>(Enumerable.Range(0, 32).ToArray());
        var graph = OnnxModel.Load(Model).ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
        var h = CurvatureExperimentTests.DenseHessian(graph, all, labels);
        int n = h.Dim(0);
        double[] w3 = graph.Parameter("3.weight")!.Value.Data, b3 = graph.Parameter("3.bias")!.Value.Data, w5 = graph.Parameter("5.weight")!.Value.Data;
        var t = Tensor<double>.Zeros(n, 33);
        for (int j = 0; j < 16; j++)
        {
            for (int k = 0; k < 32; k++) t[j * 32 + k, j] = w3[j * 32 + k];   // 3.weight row j (offset 0)
            t[512 + j, j] = b3[j];                                             // 3.bias (offset 512)
            for (int c = 0; c < 10; c++) t[528 + c * 16 + j, j] = -w5[c * 16 + j]; // 5.weight column j (offset 528)
            for (int c = 0; c < 10; c++) t[528 + c * 16 + j, 16 + j] = 1;        // translation along column j
        }
        for (int c = 0; c < 10; c++) t[688 + c, 32] = 1;                        // translation of 5.bias (offset 688)
        var (_, u, _) = LinearAlgebra.Svd(t, vectors: true);
        var q = Tensor<double>.Zeros(n, 33);
        for (int i = 0; i < n; i++) for (int k = 0; k < 33; k++) q[i, k] = u![i, k];
        var p = Tensor<double>.Identity(n) - q.MatMul(TensorOps.Transpose(q));
        var php = p.MatMul(h).MatMul(p);
        var (values, _) = LinearAlgebra.SymmetricEigen(php, vectors: false);
        var expectedTop = values.OrderDescending().Take(2).ToArray();
        var top = orbit.GetProperty("topModuloOrbit").EnumerateArray().Select(CliOutput.Number).ToArray();
        Close.Assert(expectedTop, top, 0, 1e-8 * Math.Abs(expectedTop[0]), "top-2 of PHP vs dense");
        var qhq = TensorOps.Transpose(q).MatMul(h).MatMul(q);
        double orbitTrace = Enumerable.Range(0, 33).Sum(k => qhq[k, k]);
        Close.Assert(orbitTrace, CliOutput.Number(orbit.GetProperty("orbitTrace")), 1e-9, 1e-12, "trace over the tangents");
    }

    [Fact]
    public void Curvature_ShardTables_CoverAllBatchesAndAverageToTheUnshardedTrace()
    {
        string[] Args(string outDir, params string[] extra) => ["curvature", "--model", Model, "--images", "24", "--batch-size", "8", "--top-k", "1", "--probes", "6",
            "--density-probes", "0", "--single-batches", "0", "--parameters", "5.weight,5.bias", "--layers", "--seed", "2", "--out", outDir, .. extra];
        string whole = Path.Combine(_dir, "whole");
        CliOutput.AssertSucceeded(CliRunner.RunInProcess(Args(whole)), whole);
        double trace = CliOutput.Number(CliOutput.Summary(whole, "curvature").GetProperty("trace").GetProperty("hutchinson"));
        var samples = new List<double>();
        var seen = new List<int>();
        foreach (var shard in new[] { "1/2", "2/2" })
        {
            string dir = Path.Combine(_dir, "shard" + shard[0]);
            CliOutput.AssertSucceeded(CliRunner.RunInProcess(Args(dir, "--shard", shard)), dir);
            var table = CliOutput.AssertCsv(Path.Combine(dir, "trace-samples.csv"), "batch", "probe", "total", "5.weight", "5.bias");
            for (int i = 0; i < table.RowCount; i++)
            {
                samples.Add(table.GetDouble(i, "total"));
                if (table[i, "probe"] == "0") seen.Add(int.Parse(table[i, "batch"], System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        Assert.Equal([0, 1, 2], seen.Order().ToArray());
        Assert.Equal(6 * 3, samples.Count);
        // The same probes in every shard: the mean of the joined table is the unsharded estimate (up to summation order).
        Close.Assert(trace, samples.Average(), 1e-12, 0, "joined shards");

        // noether merge joins the tables and reports what the unsharded run reports for the trace, bit for bit: the estimate,
        // both standard errors and every layer's trace (the same sums over the same table in the same order).
        string merged = Path.Combine(_dir, "merged");
        CliOutput.AssertSucceeded(CliRunner.RunInProcess(["merge", Path.Combine(_dir, "shard2"), Path.Combine(_dir, "shard1"), "--out", merged]), merged);
        var a = CliOutput.Summary(whole, "curvature").GetProperty("trace");
        var b = CliOutput.Summary(merged, "curvature").GetProperty("trace");
        foreach (var key in new[] { "hutchinson", "standardErrorProbes", "standardErrorPopulation" })
            Assert.Equal(CliOutput.Number(a.GetProperty(key)), CliOutput.Number(b.GetProperty(key)));
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "layers.csv")), File.ReadAllText(Path.Combine(merged, "layers.csv")));
        var joined = CliOutput.AssertCsv(Path.Combine(merged, "trace-samples.csv"), "batch", "probe", "total", "5.weight", "5.bias");
        Assert.Equal(6 * 3, joined.RowCount);

        // Shards of different runs, or an incomplete set, are refused with one line and nothing written.
        string other = Path.Combine(_dir, "other2");
        CliOutput.AssertSucceeded(CliRunner.RunInProcess(Args(other, "--shard", "2/2").Select(a => a == "6" ? "7" : a).ToArray()), other);
        string refused = Path.Combine(_dir, "refused");
        CliRunner.AssertOneLineFailure(CliRunner.RunInProcess(["merge", Path.Combine(_dir, "shard1"), other, "--out", refused]), "probes");
        CliRunner.AssertOneLineFailure(CliRunner.RunInProcess(["merge", Path.Combine(_dir, "shard1"), "--out", refused]), "2/2", "missing");
        Assert.False(Directory.Exists(refused));
    }

    [Fact]
    public void Curvature_BadInput_OneLineNothingWritten()
    {
        string outDir = Path.Combine(_dir, "bad");
        CliRunner.AssertOneLineFailure(CliRunner.RunInProcess(["curvature", "--model", Model, "--images", "30", "--batch-size", "8", "--out", outDir]), "--images 30", "multiple");
        CliRunner.AssertOneLineFailure(CliRunner.RunInProcess(["curvature", "--model", Model, "--images", "16", "--batch-size", "8", "--parameters", "nope", "--out", outDir]), "nope", "mlp.onnx");
        CliRunner.AssertOneLineFailure(CliRunner.RunInProcess(["curvature", "--model", Model, "--images", "16", "--batch-size", "8", "--single-batches", "5", "--out", outDir]), "--single-batches");
        CliRunner.AssertOneLineFailure(CliRunner.RunInProcess(["curvature", "--model", Path.Combine(_dir, "missing.onnx"), "--out", outDir]), "missing.onnx");
        CliRunner.AssertOneLineFailure(CliRunner.RunInProcess(["curvature", "--model", Model, "--images", "16", "--batch-size", "8", "--shard", "3/2", "--out", outDir]), "--shard");
        CliRunner.AssertOneLineFailure(CliRunner.RunInProcess(["curvature", "--model", Model, "--images", "16", "--batch-size", "8", "--shard", "1/2", "--modulo-orbit", "--out", outDir]), "--modulo-orbit", "--shard");
        Assert.False(Directory.Exists(outDir));
    }
}
