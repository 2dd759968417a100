using Noether.Autodiff;
using Noether.Experiments;
using Noether.Graphs;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Experiments;

/// <summary>
/// <see cref="SharpnessWeights.Estimate"/> on graphs (<c>sharpness --model</c>): its Lanczos top eigenvalues against LAPACK on
/// the dense Hessian (<see cref="Hessian.Full{T}"/>, computed independently from the same loss), for the whole model and per
/// parameter tensor's diagonal block. Float64, seeded.
/// </summary>
public class SharpnessWeightsTests
{
    private static readonly SharpnessEstimateSettings Settings = new(TopK: 3, TraceProbes: 0, DensityProbes: 0, Seed: 5);

    // The dense Hessian of the mean cross-entropy of output 0 over the named parameters (the others fixed).
    private static Tensor<double> Dense(Graph<double> graph, Tensor<double> x, int[] y, IReadOnlyList<string> names)
    {
        var selected = names.Select(n => graph.Parameter(n)!).ToArray();
        return Hessian.Full<double>((tape, leaves) =>
        {
            for (int i = 0; i < selected.Length; i++) tape.BindTo(selected[i], leaves[i]);
            return Ops.CrossEntropy(graph.Run(tape, [tape.Constant(x)]).Output(tape, 0), y);
        }, selected.Select(p => p.Value).ToArray());
    }

    private static double[] Top(Tensor<double> dense, int k) => LinearAlgebra.SymmetricEigen(dense, vectors: false).Values.OrderDescending().Take(k).ToArray();

    private static SharpnessInput Input(Graph<double> graph, Tensor<double> x, int[] y, int[] sampleShape) =>
        new(SharpnessModel.Of(graph, MemoryEstimate.RecordedValues(graph, sampleShape)), x, y, "fashion-mnist", "fixture", null, "ONNX F32");

    [Fact]
    public void Estimate_WholeGraphMlp_TopEigenvaluesEqualDenseEigensolver()
    {
        // A whole model small enough for the dense Hessian (784-3-2-10: 2 393 parameters) as a graph, on 16 zoo images.
        var (_, _, all, labels) = CurvatureExperimentTests.Mlp(16);
        var rng = new Random(11);
        var model = new Sequential<double>("mlp", new Linear<double>(784, 3, true, rng, "0"), Activation<double>.Tanh("1"), new Linear<double>(3, 2, true, rng, "2"),
            Activation<double>.Tanh("3"), new Linear<double>(2, 10, true, rng, "4"));
        var graph = SequentialGraph.Of(model, [784]);
        var x = all.Reshape(all.Dim(0), 784);
        var blocks = SharpnessWeights.Estimate(Input(graph, x, labels, [784]), perLayer: false, Settings, null, CancellationToken.None);

        var block = Assert.Single(blocks);
        Assert.Equal("model", block.Block);
        var dense = Dense(graph, x, labels, graph.Parameters.Select(p => p.Name).ToArray());
        Assert.Equal(2393, dense.Dim(0));
        Assert.Equal(2393, block.Result.Parameters);
        var top = Top(dense, 3);
        // Lanczos (residual tolerance 1e-8, full reorthogonalisation) against LAPACK: both exact to rounding for separated top eigenvalues.
        Close.Assert(top, block.Result.TopEigenvalues, 0, 1e-8 * Math.Abs(top[0]), "top-3");
        Assert.True(block.Result.LanczosConverged);
        Close.Assert(ModelReportExperiment.Loss(graph, x, labels), block.Loss, 1e-14, 0, "loss");
    }

    [Fact]
    public void Estimate_ZooMlpPerTensor_TopEigenvaluesEqualDenseDiagonalBlocks()
    {
        // The imported zoo MLP (784-32-16-10); every block but 1.weight's (25 088 parameters) is compared with the matching
        // diagonal block of one dense Hessian over the other tensors (730 parameters).
        var (graph, _, all, labels) = CurvatureExperimentTests.Mlp(16);
        var blocks = SharpnessWeights.Estimate(Input(graph, all, labels, [1, 28, 28]), perLayer: true, Settings, null, CancellationToken.None);
        Assert.Equal(graph.Parameters.Select(p => p.Name).ToArray(), blocks.Select(b => b.Block).ToArray());
        string[] compared = ["1.bias", "3.weight", "3.bias", "5.weight", "5.bias"];
        var dense = Dense(graph, all, labels, compared);
        int offset = 0;
        foreach (var name in compared)
        {
            int n = graph.Parameter(name)!.Length;
            var block = Tensor<double>.Zeros(n, n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) block[i, j] = dense[offset + i, offset + j];
            offset += n;
            var estimate = blocks.Single(b => b.Block == name);
            Assert.Equal(graph.Parameter(name)!.Value.ShapeArray, estimate.Shape);
            Assert.Equal(Math.Min(3, n), estimate.TopKUsed);
            var top = Top(block, estimate.TopKUsed);
            Close.Assert(top, estimate.Result.TopEigenvalues, 0, 1e-8 * Math.Abs(top[0]), name);
            // The block's gradient norm is that of the full gradient restricted to the tensor.
            Assert.True(estimate.GradientNorm > 0);
        }
        // 1.weight's block was estimated too (no dense reference at 25 088²): its largest eigenvalue bounds every diagonal entry
        // (a Rayleigh quotient of a unit vector), checked against central second differences of the loss at the centre pixel's
        // weights (h = 1e-4: truncation ~h² times the fourth derivative and rounding ~1e-16/h² both far below the 1e-6 allowed).
        var first = blocks.Single(b => b.Block == "1.weight");
        Assert.Equal(3, first.Result.TopEigenvalues.Length);
        var weight = graph.Parameter("1.weight")!.Value.Data;
        const double h = 1e-4;
        double largest = 0;
        for (int unit = 0; unit < 8; unit++)
        {
            int i = unit * 784 + 14 * 28 + 14;
            double saved = weight[i], centre = ModelReportExperiment.Loss(graph, all, labels);
            weight[i] = saved + h;
            double plus = ModelReportExperiment.Loss(graph, all, labels);
            weight[i] = saved - h;
            double minus = ModelReportExperiment.Loss(graph, all, labels);
            weight[i] = saved;
            double diagonal = (plus - 2 * centre + minus) / (h * h);
            largest = Math.Max(largest, diagonal);
            Assert.True(first.Result.TopEigenvalues[0] >= diagonal - 1e-6, $"λ_max {first.Result.TopEigenvalues[0]} < H_ii {diagonal} at entry {i}");
        }
        Assert.True(largest > 0, "the centre pixel's weights have curvature");
    }
}
