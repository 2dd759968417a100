using System.Globalization;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;
using Xunit.Abstractions;

namespace Noether.Tests.Landscape;

/// <summary>
/// The whole-data curvature workflow on a small SPEC CNN (8×8 images, 4 channels, 16 hidden units, 10 classes; 1 250
/// parameters) at its seeded initialisation, over 4 096 Gaussian images in 32 batches of 128: the numbers
/// docs/curvature.md quotes come from this test's output
/// (<c>dotnet test tests/Noether.Tests -c Release --filter CurvatureRunTests --logger "console;verbosity=detailed"</c>).
/// Every number printed is also checked against an identity that holds whatever the data.
/// </summary>
public class CurvatureRunTests(ITestOutputHelper output)
{
    internal static (SpecCnn<double> Model, List<(Tensor<double>, int[])> Batches) SmallCnn(int batches, int batchSize, int seed = 1)
    {
        var rng = new Random(seed);
        var model = Models.SpecCnn<double>(rng, inChannels: 1, imageSize: 8, classes: 10, channels: 4, hidden: 16, leakySlope: 0.1);
        var list = new List<(Tensor<double>, int[])>();
        for (int b = 0; b < batches; b++)
            list.Add((Init.Gaussian(Tensor<double>.Zeros(batchSize, 1, 8, 8), 1, rng), Enumerable.Range(0, batchSize).Select(_ => rng.Next(10)).ToArray()));
        return (model, list);
    }

    /// <summary>Tangent of the LeakyReLU rescaling of hidden unit i, (V_i, b_i, U_:i) ↦ (aV_i, ab_i, U_:i/a), and its sign pattern D (t = Dθ).</summary>
    internal static (double[] Tangent, double[] Signs) HiddenRescaling(MinibatchHessian h, SpecCnn<double> model, int unit)
    {
        var theta = ParameterVector.Flatten(model.Parameters);
        var d = new double[h.Dimension];
        var v = h.Block("3.weight");
        int features = v.Length / 16;
        for (int c = 0; c < features; c++) d[v.Offset + unit * features + c] = 1;
        d[h.Block("3.bias").Offset + unit] = 1;
        var u = h.Block("5.weight");
        for (int r = 0; r < 10; r++) d[u.Offset + r * 16 + unit] = -1;
        return (theta.Zip(d, (x, s) => x * s).ToArray(), d);
    }

    private void Line(string text) => output.WriteLine(text);

    private static string F(double x) => x.ToString("G6", CultureInfo.InvariantCulture);

    [Fact]
    public void WholeDataCurvature_SmallSpecCnnOn4096Images_ConsistentEstimates()
    {
        var (model, batches) = SmallCnn(32, 128);
        var h = MinibatchHessian.ForModel(model, batches);
        Line($"SPEC CNN 8x8, 4 channels, 16 hidden: n = {h.Dimension}; {h.Batches} batches x 128 = {h.Batches * 128} images");

        var top = Curvature.TopEigenvalues(h, 3, new Random(2), tolerance: 1e-8);
        for (int i = 0; i < 3; i++)
        {
            Line($"lambda_{i + 1} = {F(top.Eigen.Values[i])}  residual {F(top.Eigen.Residuals[i])}  per-batch v'H_b v: mean {F(top.QuotientMeans[i])} +- {F(1.96 * top.QuotientStandardErrors[i])} (95%)");
            Assert.True(Math.Abs(top.QuotientMeans[i] - top.Eigen.Values[i]) <= top.Eigen.Residuals[i] + 1e-12 * Math.Abs(top.Eigen.Values[i]));
        }
        Line($"  ({top.Eigen.Products} products of the mean operator, {top.Eigen.Restarts} thick restarts)");
        Assert.True(top.Eigen.Converged);

        var spread = Curvature.SingleBatchTop(h, Enumerable.Range(0, 10).ToArray(), new Random(3));
        Line($"single-batch lambda_max over 10 batches of 128: min {F(spread.Min)}, median {F(spread.Median)}, max {F(spread.Max)}");
        // Convexity of λ_max: λ_max(mean H_b) ≤ mean λ_max(H_b) (over all 32); so the full-set value is below the 10-batch mean unless
        // the other 22 batches are much flatter — checked against all 32.
        var all = Curvature.SingleBatchTop(h, Enumerable.Range(0, 32).ToArray(), new Random(4));
        Assert.True(top.Eigen.Values[0] <= all.TopEigenvalues.Average() * (1 + 1e-8), "λ_max is convex: the mean Hessian's cannot exceed the mean of the batches'");
        Line($"  mean over all 32 batches {F(all.TopEigenvalues.Average())} >= full-set {F(top.Eigen.Values[0])} (convexity of lambda_max)");

        var table = Curvature.TraceSamples(h, 100, 5);
        var trace = Curvature.Trace(table);
        var plus = Hutchinson.HutchPlusPlus(h.Mean(), 99, new Random(6));
        Line($"trace (Hutchinson, 100 probes x 32 batches) = {F(trace.Trace)}  SE probes {F(trace.StandardErrorProbes)}  SE population {F(trace.StandardErrorPopulation)}");
        Line($"trace (Hutch++, 99 products) = {F(plus.Trace)}  SE {F(plus.StandardError)}  (sketch rank {plus.Rank}, low-rank part {F(plus.LowRankTrace)})");
        double combined = Math.Sqrt(trace.StandardErrorProbes * trace.StandardErrorProbes + plus.StandardError * plus.StandardError);
        Assert.True(Math.Abs(trace.Trace - plus.Trace) <= 4 * combined, "two independent unbiased estimates of the same trace");
        for (int k = 0; k < h.Blocks.Count; k++)
        {
            var bt = Curvature.BlockTrace(table, k);
            Line($"  block {h.Blocks[k].Name} ({h.Blocks[k].Length}): trace {F(bt.Trace)} +- {F(1.96 * bt.StandardErrorProbes)}");
        }

        var tangents = new List<double[]>();
        var signs = new List<double[]>();
        for (int i = 0; i < 16; i++)
        {
            var (t, d) = HiddenRescaling(h, model, i);
            tangents.Add(t);
            signs.Add(d);
        }
        var g = h.Gradient();
        double norm = Math.Abs(top.Eigen.Values[0]);
        var op = h.Mean();
        var orbit = Curvature.Orbit(op, tangents, g, norm);
        Line($"orbit (16 hidden-unit rescalings): rank {orbit.Rank}, |Ht|/(|H||t|) median {F(orbit.TangentResiduals.Order().ElementAt(8))}, max {F(orbit.TangentResiduals.Max())}; |grad| = {F(orbit.GradientNorm)}");
        Line($"  Tr(Q'HQ) = {F(orbit.OrbitTrace)} ({F(100 * orbit.OrbitTrace / trace.Trace)}% of the trace); eigenvalues of Q'HQ in [{F(orbit.OrbitEigenvalues[0])}, {F(orbit.OrbitEigenvalues[^1])}]");
        var projected = Lanczos.RestartedEigenvalues(op.ProjectOut(tangents).Projected, 3, new Random(7), tolerance: 1e-8);
        Line($"  top-3 of PHP: {string.Join(", ", projected.Values.Select(F))}");
        // H t = −D g exactly (differentiate g(θ)ᵀDθ = 0): checks the tangents and the operator together.
        var ht = new double[h.Dimension];
        for (int i = 0; i < 16; i++)
        {
            op.Multiply(tangents[i], ht);
            double err = Math.Sqrt(ht.Select((x, j) => (x + signs[i][j] * g[j]) * (x + signs[i][j] * g[j])).Sum());
            Assert.True(err <= 1e-10 * Math.Max(orbit.GradientNorm, 1e-300), $"unit {i}: ‖Ht + Dg‖ = {err:E2}");
        }
        // Cauchy interlacing: PHP restricted to the complement has its top eigenvalue ≤ λ_max(H).
        Assert.True(projected.Values[0] <= top.Eigen.Values[0] + top.Eigen.Residuals[0] + projected.Residuals[0]);
    }
}
