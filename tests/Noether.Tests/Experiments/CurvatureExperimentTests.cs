using Noether.Autodiff;
using Noether.Experiments;
using Noether.Graphs;
using Noether.Interop;
using Noether.Serialization;
using Noether.Tensors;
using Noether.Tests.Interop;
using Noether.Tests.Support;

namespace Noether.Tests.Experiments;

/// <summary>
/// The curvature experiment on the imported MLP fixture (784-32-16-10), over its last two layers (698 parameters, small
/// enough for a dense Hessian), checked against the dense Hessian of the loss over all 16 fixture images at once.
/// </summary>
public class CurvatureExperimentTests
{
    private static readonly string[] Selected = ["3.weight", "3.bias", "5.weight", "5.bias"];

    internal static (Graph<double> Graph, List<(Tensor<double> Inputs, int[] Labels)> Batches, Tensor<double> All, int[] Labels) Mlp(int batchSize)
    {
        var graph = OnnxModel.Load(Path.Combine(OnnxZooTests.Folder, "mlp.onnx")).ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
        var images = Npy.Read(Path.Combine(OnnxZooTests.Folder, "inputs.npy"));
        var labels = Npy.Read(Path.Combine(OnnxZooTests.Folder, "labels.npy")).Data.Select(v => (int)v).ToArray();
        int count = images.Shape[0], per = images.Length / count;
        var all = Tensor<double>.FromDoubles(images.Data, [count, .. images.Shape[1..]]);
        var batches = new List<(Tensor<double>, int[])>();
        for (int s = 0; s < count; s += batchSize)
            batches.Add((Tensor<double>.FromDoubles(images.Data.AsSpan(s * per, batchSize * per).ToArray(), [batchSize, .. images.Shape[1..]]), labels[s..(s + batchSize)]));
        return (graph, batches, all, labels);
    }

    // The independent reference: the full Hessian of the mean loss over all images in one pass, over the selected parameters.
    internal static Tensor<double> DenseHessian(Graph<double> graph, Tensor<double> all, int[] labels, Tensor<double>? onlyBatch = null, int[]? batchLabels = null)
    {
        var selected = Selected.Select(n => graph.Parameter(n)!).ToArray();
        var x = onlyBatch ?? all;
        var y = batchLabels ?? labels;
        return Hessian.Full<double>((tape, leaves) =>
        {
            for (int i = 0; i < selected.Length; i++) tape.BindTo(selected[i], leaves[i]);
            return Ops.CrossEntropy(graph.Run(tape, [tape.Constant(x)]).Output(tape, 0), y);
        }, selected.Select(p => p.Value).ToArray());
    }

    private static double Diagonal(Tensor<double> h, int offset, int length) => Enumerable.Range(offset, length).Sum(i => h[i, i]);

    [Fact]
    public void Run_MlpLastTwoLayers_TopKEqualsDenseEigensolverAndTracesCoverExactTrace()
    {
        var (graph, batches, all, labels) = Mlp(4);
        var settings = new CurvatureSettings { TopK = 4, Probes = 100, DensityProbes = 3, DensitySteps = 20, SingleBatches = 3, Parameters = Selected, Seed = 3 };
        var result = CurvatureExperiment.Run(graph, batches, settings);
        var dense = DenseHessian(graph, all, labels);
        int n = dense.Dim(0);
        Assert.Equal(698, n);
        Assert.Equal(n, result.Dimension);
        var (exact, _) = LinearAlgebra.SymmetricEigen(dense, vectors: false);
        var top = exact.OrderDescending().Take(4).ToArray();
        double scale = Math.Abs(top[0]);
        // Top-k from products of the minibatch mean vs LAPACK on the one-pass Hessian: both exact up to rounding, so 1e-8 relative.
        Close.Assert(top, result.Top!.Eigen.Values, 0, 1e-8 * scale, "top-4");
        Assert.All(result.Top.Eigen.Residuals, r => Assert.True(r <= 1e-7 * scale, $"residual {r}"));
        // The mean of the per-batch Rayleigh quotients is vᵀHv = λ up to the residual.
        Close.Assert(result.Top.Eigen.Values, result.Top.QuotientMeans, 0, 1e-7 * scale, "mean quotients");

        double trace = Diagonal(dense, 0, n);
        // Hutchinson over 4 batches × 100 probes and Hutch++ with 100 products: within 3 of their standard errors (seeded draw; the
        // intervals' coverage is checked over many seeds in CurvatureTests).
        Assert.True(Math.Abs(result.Trace.Trace - trace) <= 3 * result.Trace.StandardErrorProbes, $"Hutchinson {result.Trace.Trace} ± {result.Trace.StandardErrorProbes} vs exact {trace}");
        Assert.True(Math.Abs(result.HutchPlusPlus!.Trace - trace) <= 3 * result.HutchPlusPlus.StandardError, $"Hutch++ {result.HutchPlusPlus.Trace} ± {result.HutchPlusPlus.StandardError} vs exact {trace}");

        // Per layer: "3" (3.weight, 3.bias) and "5"; each within 3 SE of the dense block trace, and they add up to the total.
        Assert.Equal(["3", "5"], result.LayerTraces.Select(l => l.Name).ToArray());
        int offset = 0;
        foreach (var layer in result.LayerTraces)
        {
            double exactBlock = Diagonal(dense, offset, layer.Parameters);
            Assert.True(Math.Abs(layer.Trace.Trace - exactBlock) <= 3 * layer.Trace.StandardErrorProbes, $"{layer.Name}: {layer.Trace.Trace} ± {layer.Trace.StandardErrorProbes} vs {exactBlock}");
            offset += layer.Parameters;
        }
        Close.Assert(result.Trace.Trace, result.LayerTraces.Sum(l => l.Trace.Trace), 1e-12, 0, "layers add up");

        // Single-batch λ_max against the dense Hessian of that batch alone.
        for (int b = 0; b < 3; b++)
        {
            var (eb, _) = LinearAlgebra.SymmetricEigen(DenseHessian(graph, all, labels, batches[b].Inputs, batches[b].Labels), vectors: false);
            Close.Assert(eb.Max(), result.SingleBatch!.TopEigenvalues[b], 0, 1e-8 * Math.Abs(eb.Max()), $"batch {b}");
        }
        // SLQ: Gauss quadrature nodes lie inside the spectrum.
        var (lo, hi) = result.Density!.Range;
        Assert.True(lo >= exact.Min() - 1e-8 * scale && hi <= exact.Max() + 1e-8 * scale, $"density nodes [{lo}, {hi}] outside [{exact.Min()}, {exact.Max()}]");
    }

    [Fact]
    public void Run_ReluRescalingTangents_OrbitTraceEqualsDenseAndProjectedTopInterlaces()
    {
        var (graph, batches, all, labels) = Mlp(8);
        // Rescaling hidden unit j of the 16-unit ReLU layer: t = (+row j of 3.weight, +3.bias[j], −column j of 5.weight, 0).
        var w3 = graph.Parameter("3.weight")!.Value;
        var b3 = graph.Parameter("3.bias")!.Value;
        var w5 = graph.Parameter("5.weight")!.Value;
        int n = 16 * 32 + 16 + 10 * 16 + 10;
        var tangents = new List<double[]>();
        for (int j = 0; j < 16; j++)
        {
            var t = new double[n];
            for (int i = 0; i < 32; i++) t[j * 32 + i] = w3[j, i];
            t[16 * 32 + j] = b3[j];
            for (int r = 0; r < 10; r++) t[16 * 32 + 16 + r * 16 + j] = -w5[r, j];
            tangents.Add(t);
        }
        var settings = new CurvatureSettings { TopK = 3, Probes = 8, DensityProbes = 0, SingleBatches = 0, Layers = false, Parameters = Selected, Tangents = tangents, Seed = 1 };
        var result = CurvatureExperiment.Run(graph, batches, settings);
        var dense = DenseHessian(graph, all, labels);
        var orbit = result.ModuloOrbit!.Orbit;
        Assert.Equal(16, orbit.Rank);
        var q = orbit.Basis;
        double expected = 0;
        for (int r = 0; r < q.Dim(0); r++)
            for (int i = 0; i < n; i++)
            {
                double hq = 0;
                for (int k = 0; k < n; k++) hq += dense[i, k] * q[r, k];
                expected += q[r, i] * hq;
            }
        double scale = Math.Abs(result.Top!.Eigen.Values[0]);
        Close.Assert(expected, orbit.OrbitTrace, 0, 1e-9 * scale, "Tr(QᵀHQ)");
        // Cauchy interlacing: the eigenvalues of PHP restricted to the complement are bounded by H's from above.
        for (int i = 0; i < 3; i++) Assert.True(result.ModuloOrbit.ProjectedTop.Values[i] <= result.Top.Eigen.Values[i] + 1e-8 * scale);
    }

    [Fact]
    public void Run_BadSettings_RefusedWithTheSettingNamed()
    {
        var (graph, batches, _, _) = Mlp(8);
        Assert.Contains("no parameter 'nope'", Assert.Throws<ArgumentException>(() => CurvatureExperiment.Run(graph, batches, new CurvatureSettings { Parameters = ["nope"] })).Message);
        Assert.Equal("Probes", Assert.ThrowsAny<ArgumentException>(() => CurvatureExperiment.Run(graph, batches, new CurvatureSettings { Probes = 1 })).ParamName);
        Assert.Contains("tangent 0", Assert.Throws<ArgumentException>(() => CurvatureExperiment.Run(graph, batches,
            new CurvatureSettings { Parameters = Selected, Tangents = [new double[3]] })).Message);
    }

    [Fact]
    public void Run_ShardedTraceTables_MergeToTheUnshardedTraceBitForBit()
    {
        var (graph, batches, _, _) = Mlp(4);
        var common = new CurvatureSettings { Probes = 6, Parameters = ["5.weight", "5.bias"], Seed = 9 };
        var whole = CurvatureExperiment.Run(graph, batches, common with { Shard = null, DensityProbes = 0, SingleBatches = 0, TopK = 1 });
        var parts = new[] { 1, 2, 3 }.Select(i => CurvatureExperiment.Run(graph, batches, common with { Shard = new Shard(i, 3) }).TraceSamples).ToArray();
        var merged = Noether.Landscape.TraceShard.Merge(parts);
        Assert.Equal(whole.TraceSamples.Samples, merged.Samples);
        Assert.Equal(whole.Trace.Trace, Noether.Landscape.Curvature.Trace(merged).Trace);
    }
}
