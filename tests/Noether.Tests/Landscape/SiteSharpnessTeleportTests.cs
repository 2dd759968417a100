using Noether.Autodiff;
using Noether.Graphs;
using Noether.Landscape;
using Noether.Symmetry.Census;
using Noether.Tensors;
using Noether.Tests.Symmetry.Census;

namespace Noether.Tests.Landscape;

/// <summary>
/// Teleport to a sharpness along a census site of the zoo MLP (784-32-16-10, ReLU), checked against a dense eigensolver.
/// The full Hessian (25 818 parameters) is too large to form, so the batch's inputs are zero outside their first
/// <see cref="Pixels"/> pixels: the loss then does not depend on the first layer's other columns at all, those rows and
/// columns of the Hessian are exactly zero (checked with a product), and the full Hessian's non-zero eigenvalues are those of
/// its block over the remaining 1242 parameters, formed column by column from exact products and diagonalised densely.
/// </summary>
public sealed class SiteSharpnessTeleportTests
{
    private const int Pixels = 16;

    private static (Tensor<double> X, int[] Labels) Batch()
    {
        var rng = new Random(11);
        var x = Tensor<double>.Zeros(16, 1, 28, 28);
        for (int b = 0; b < 16; b++)
            for (int j = 0; j < Pixels; j++) x.Data[b * 784 + j] = Gaussian.Next(rng);
        return (x, Enumerable.Range(0, 16).Select(_ => rng.Next(10)).ToArray());
    }

    // Flat indices (graph parameter order) of every parameter the batch's loss can depend on.
    private static int[] Active(Graph<double> graph)
    {
        var active = new List<int>();
        int offset = 0;
        foreach (var p in graph.Parameters)
        {
            for (int i = 0; i < p.Length; i++)
                if (p.Name != "1.weight" || i % 784 < Pixels) active.Add(offset + i);
            offset += p.Length;
        }
        return [.. active];
    }

    private static HessianOperator<double> Hessian(Graph<double> graph, Tensor<double> x, int[] labels)
    {
        var parameters = graph.Parameters;
        return new HessianOperator<double>((tape, leaves) =>
        {
            for (int i = 0; i < parameters.Count; i++) tape.BindTo(parameters[i], leaves[i]);
            return Ops.CrossEntropy(graph.Run(tape, [tape.Constant(x)]).Output(tape, 0), labels);
        }, parameters.Select(p => p.Value).ToArray());
    }

    // H restricted to the active indices (rows and columns), from exact products with unit vectors, symmetrised.
    private static Tensor<double> DenseBlock(HessianOperator<double> h, int[] active)
    {
        int n = h.Dimension, m = active.Length;
        var block = Tensor<double>.Zeros(m, m);
        for (int start = 0; start < m; start += 64)
        {
            int rows = Math.Min(64, m - start);
            var e = Tensor<double>.Zeros(rows, n);
            for (int r = 0; r < rows; r++) e.Data[r * n + active[start + r]] = 1;
            var he = h.MultiplyMany(e);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < m; c++) block[start + r, c] = he.Data[r * n + active[c]];
        }
        return LinearAlgebra.SymmetricPart(block);
    }

    private static double DenseTop(Tensor<double> block) => LinearAlgebra.SymmetricEigen(block, vectors: false).Values.Max();

    private static double[] Probabilities(Graph<double> graph, Tensor<double> x)
    {
        var tape = new Tape<double>();
        using var pause = tape.Pause();
        return Ops.Softmax(tape.Constant(graph.Evaluate(x)[0])).Value.Data;
    }

    [Fact]
    public void Teleport_ReachesTheTarget_AsADenseEigensolverMeasuresIt_WithTheFunctionUnchanged()
    {
        var graph = SymmetryCensusTests.Load("mlp.onnx");
        var site = SymmetryCensus.Take(graph).Sites[0];
        var (x, labels) = Batch();
        var active = Active(graph);
        var h0 = Hessian(graph, x, labels);

        // The inactive first-layer columns are in the Hessian's kernel: H·v = 0 for a v supported on them.
        var v = new double[h0.Dimension];
        var rng = new Random(3);
        var isActive = new bool[v.Length];
        foreach (int i in active) isActive[i] = true;
        for (int i = 0; i < v.Length; i++) v[i] = isActive[i] ? 0 : Gaussian.Next(rng);
        Assert.Equal(0, h0.Multiply(v).Max(Math.Abs));

        double before = DenseTop(DenseBlock(h0, active));
        var p0 = Probabilities(graph, x);
        double target = 1.5 * before;
        var r = SiteSharpnessTeleport.Teleport(graph, site, x, labels, target);

        // Lanczos's value within its residual (1e-10 relative) of the dense one, before and after; the target within 1e-8.
        Support.Close.Assert(before, r.SharpnessBefore, 1e-9);
        double after = DenseTop(DenseBlock(Hessian(graph, x, labels), active));
        Support.Close.Assert(after, r.SharpnessAfter, 1e-9);
        Assert.True(Math.Abs(after - target) <= 1.1e-8 * target, $"dense λ_max {after:R} vs target {target:R}");
        Assert.True(r.RelativeError <= 1e-8, $"reported error {r.RelativeError:E2}");
        Assert.NotEqual(0, r.T);

        // An exact symmetry: class probabilities and loss equal to float64 rounding.
        double change = Support.Close.RelativeError(p0, Probabilities(graph, x));
        Assert.True(change <= 1e-12, $"probabilities moved by {change:E2} (relative)");
        Support.Close.Assert(r.LossBefore, r.LossAfter, 1e-12);
    }

    [Fact]
    public void Teleport_BelowTheLowerBoundOfThePath_IsRefusedWithTheRange_AndRestoresTheParameters()
    {
        // Along site 0 (hidden layer 1 scaled by e^t), the first layer's block of H scales by e^{−2t} and the second layer's
        // weights' block by e^{2t}, so λ_max(t) ≥ max(e^{−2t}A, e^{2t}B) ≥ √(AB) for every t (A, B the blocks' top eigenvalues).
        var graph = SymmetryCensusTests.Load("mlp.onnx");
        var site = SymmetryCensus.Take(graph).Sites[0];
        var (x, labels) = Batch();
        var active = Active(graph);
        Assert.Equal(["1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias"], graph.Parameters.Select(p => p.Name));
        var block = DenseBlock(Hessian(graph, x, labels), active);
        int first = 32 * Pixels + 32, second = 16 * 32; // active entries of 1.weight and 1.bias, then 3.weight
        double a = DenseTop(Sub(block, 0, first)), b = DenseTop(Sub(block, first, second));
        double bound = Math.Sqrt(a * b);
        var saved = graph.Parameters.Select(p => p.Value.Data.ToArray()).ToArray();

        var e = Assert.Throws<ArgumentException>(() => SiteSharpnessTeleport.Teleport(graph, site, x, labels, 0.5 * bound));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("unreachable", e.Message);
        var range = System.Text.RegularExpressions.Regex.Match(e.Message, @"stays in \[([^,]+), ([^\]]+)\]");
        Assert.True(range.Success, e.Message);
        double min = double.Parse(range.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(min >= bound * (1 - 1e-5), $"reported minimum {min} below the lower bound {bound}");
        for (int i = 0; i < saved.Length; i++) Assert.Equal(saved[i], graph.Parameters[i].Value.Data);
    }

    [Fact]
    public void Teleport_AlongTheSoftmaxTranslation_IsRefused_ForItLeavesTheHessianAsItIs()
    {
        var graph = SymmetryCensusTests.Load("mlp.onnx");
        var site = SymmetryCensus.Take(graph).Sites[2];
        Assert.Equal(SiteKind.SoftmaxTranslation, site.Kind);
        var (x, labels) = Batch();
        var e = Assert.Throws<ArgumentException>(() => SiteSharpnessTeleport.Teleport(graph, site, x, labels, 100));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("does not change along its path", e.Message);
    }

    private static Tensor<double> Sub(Tensor<double> m, int offset, int length)
    {
        var s = Tensor<double>.Zeros(length, length);
        for (int i = 0; i < length; i++)
            for (int j = 0; j < length; j++) s[i, j] = m[offset + i, offset + j];
        return s;
    }
}
