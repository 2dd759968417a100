using Noether.Graphs;
using Noether.Symmetry.Census;
using Noether.Tensors;

namespace Noether.Tests.Symmetry.Census;

/// <summary>The GL(n) site between two linear maps with nothing nonlinear between them, and the LayerNorm scale site.</summary>
public sealed class LinearAndNormalizationSiteTests
{
    private static double[] D(Graph<double> g, string name) => g.Parameter(name)!.Value.Data;

    // Every site passes both checks and the tangent map's rank equals the census's dimension, with a clear gap.
    private static void AssertVerified(Graph<double> graph, SymmetryCensus census, int batch, int seed)
    {
        var (x, labels) = SmallGraphs.Batch(graph, batch, 3, seed);
        var result = CensusVerification.Verify(graph, census, x, labels, new Random(seed + 1));
        foreach (var s in result.Sites) Assert.True(s.Passed, $"{s.Site.Location}: invariance {s.Invariance:E2}, orthogonality {s.Orthogonality:E2}");
        Assert.Equal(census.Dimension, result.Orbit.Rank);
        Assert.True(result.Orbit.ClearGap, $"gap {result.Orbit.Gap:E2}");
    }

    [Fact]
    public void Linear_pair_gets_the_whole_general_linear_group_and_every_site_is_verified()
    {
        // Gemm 6→5 → Gemm 5→4 → ReLU → Gemm 4→3: GL(5) = 25, rescalings 4, softmax translation 4 + 1 = 5; total 34.
        var graph = SmallGraphs.LinearPair();
        var census = SymmetryCensus.Take(graph);
        Assert.Equal(new[] { (SiteKind.GeneralLinear, 25), (SiteKind.Rescaling, 4), (SiteKind.SoftmaxTranslation, 5) },
            census.Sites.Select(s => (s.Kind, s.Dimension)).ToArray());
        Assert.Equal(34, census.Dimension);
        AssertVerified(graph, census, 16, 7);
    }

    [Fact]
    public void Linear_pair_invariance_holds_for_an_explicit_finite_element_and_E_ab_conserves_the_gram_difference()
    {
        // Independent of CensusSite.Apply: W1 → A W1, b1 → A b1, W2 → W2 A⁻¹ for a well-conditioned random A leaves the
        // logits unchanged (float64 rounding through three small Gemms: ≤ 1e-12 relative); and the conserved quantity of
        // E_ab is (W1 W1ᵀ + b1 b1ᵀ − W2ᵀ W2)_ab, computed here from the tensors.
        var graph = SmallGraphs.LinearPair();
        var (x, _) = SmallGraphs.Batch(graph, 8, 3, 9);
        var before = graph.Evaluate(x)[0].Data.ToArray();
        var site = SymmetryCensus.Take(graph).Sites[0];
        double[] w1 = D(graph, "w1"), b1 = D(graph, "b1"), w2 = D(graph, "w2");
        int a = 1, b = 3;
        double q = Enumerable.Range(0, 6).Sum(j => w1[a * 6 + j] * w1[b * 6 + j]) + b1[a] * b1[b] - Enumerable.Range(0, 4).Sum(o => w2[o * 5 + a] * w2[o * 5 + b]);
        Support.Close.Assert(q, site.Generators[a * 5 + b].Conserved(n => D(graph, n)), 1e-13, 1e-15);

        var rng = new Random(10);
        var m = Tensor<double>.Zeros(5, 5);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++) m[i, j] = (i == j ? 1 : 0) + 0.3 * Gaussian.Next(rng);
        var inv = LinearAlgebra.Inverse(m);
        double[] nw1 = new double[30], nb1 = new double[5], nw2 = new double[20];
        for (int i = 0; i < 5; i++)
            for (int k = 0; k < 5; k++)
            {
                for (int j = 0; j < 6; j++) nw1[i * 6 + j] += m[i, k] * w1[k * 6 + j];
                nb1[i] += m[i, k] * b1[k];
                for (int o = 0; o < 4; o++) nw2[o * 5 + k] += w2[o * 5 + i] * inv[i, k];
            }
        nw1.CopyTo(w1, 0);
        nb1.CopyTo(b1, 0);
        nw2.CopyTo(w2, 0);
        var after = graph.Evaluate(x)[0].Data;
        double scale = before.Max(Math.Abs);
        Assert.All(before.Zip(after), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-12 * scale, $"{p.First} vs {p.Second}"));
    }

    [Fact]
    public void Conv_1x1_into_conv_gets_GL_of_the_channels_and_every_site_is_verified()
    {
        // Conv 1×1 2→3 → Conv 3×3 3→4 (zero padding) → ReLU → GlobalAveragePool → Flatten → Gemm 4→3: GL(3) = 9 (channel
        // mixing commutes with a convolution over channels and with zero padding), rescalings 4, translation 5; total 18.
        var graph = SmallGraphs.ConvPair();
        var census = SymmetryCensus.Take(graph);
        Assert.Equal(new[] { (SiteKind.GeneralLinear, 9), (SiteKind.Rescaling, 4), (SiteKind.SoftmaxTranslation, 5) },
            census.Sites.Select(s => (s.Kind, s.Dimension)).ToArray());
        Assert.Equal(18, census.Dimension);
        AssertVerified(graph, census, 6, 11);
    }

    [Fact]
    public void Weights_feeding_a_layer_norm_are_an_approximate_site_exact_at_epsilon_zero()
    {
        // LN(e^t h) = LN(h) exactly only at ε = 0; at ε = 1e-5 with Var(h) = O(1) the loss moves by ~1e-6 relative, far
        // above rounding. The site is listed as approximate, its invariance at ε is reported (above 1e-12), and it passes
        // on the ε = 0 copy of the graph (≤ 1e-12).
        var graph = SmallGraphs.LayerNormed(1e-5);
        var census = SymmetryCensus.Take(graph);
        var site = census.Sites.Single(s => s.Kind == SiteKind.NormalizationScale);
        Assert.False(site.Exact);
        Assert.Equal(1, site.Dimension);
        Assert.Equal(new[] { "w1", "b1" }, site.Generators[0].Entries.Select(e => e.Parameter).ToArray());
        // + the softmax translation 5 + 1, + the centring of the normalised value (only the LayerNorm reads it, and removes
        // its mean): w1 → w1 + 1uᵀ (6 inputs) and b1 → b1 + s1.
        Assert.Equal(1 + 6 + 7, census.Dimension);
        Assert.Equal(7, census.Sites.Single(s => s.Kind == SiteKind.StreamCentring).Dimension);
        var (x, labels) = SmallGraphs.Batch(graph, 16, 3, 13);
        var result = CensusVerification.Verify(graph, census, x, labels, new Random(14));
        var check = result.Sites.Single(s => s.Site == site);
        Assert.InRange(check.Invariance, 1e-12, 1e-3);
        Assert.True(check.InvarianceWithoutEpsilon <= 1e-12, $"ε = 0: {check.InvarianceWithoutEpsilon:E2}");
        Assert.True(check.OrthogonalityWithoutEpsilon <= 1e-12, $"ε = 0: {check.OrthogonalityWithoutEpsilon:E2}");
        Assert.True(check.Passed);
        Assert.Equal(14, result.Orbit.Rank);
        Assert.True(result.Sites.Single(s => s.Site.Kind == SiteKind.StreamCentring).Passed); // exact at ε = 1e-5 too

        // Independently: a graph built with ε = 0 gives the same logits after w1, b1 are scaled by 2.5.
        var exact = SmallGraphs.LayerNormed(0);
        var before = exact.Evaluate(x)[0].Data.ToArray();
        foreach (var n in new[] { "w1", "b1" }) { var d = D(exact, n); for (int i = 0; i < d.Length; i++) d[i] *= 2.5; }
        var after = exact.Evaluate(x)[0].Data;
        Assert.All(before.Zip(after), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-12 * before.Max(Math.Abs)));
    }

    // The zoo transformer (pre-norm): the residual stream is the sum of the embedding (weight, bias), the positions and
    // every block's output projection (attention W_O, b_O; MLP fc2), and it is read only by LayerNorms and the residual
    // Adds: scaling all of them scales the stream, which every LayerNorm removes (up to ε) — one approximate site.
    [Fact]
    public void Transformer_residual_stream_is_one_layer_norm_scale_site()
    {
        var graph = SymmetryCensusTests.Load("transformer.onnx");
        var census = SymmetryCensus.Take(graph);
        var site = census.Sites.Single(s => s.Kind == SiteKind.NormalizationScale);
        var writers = site.Generators[0].Entries.Select(e => e.Parameter).ToHashSet();
        // Each writer is recognised by its length (names of pre-transposed MatMul weights are ONNX's own): embedding
        // 49·32 + 32, positions 16·32, per layer W_O 32·32 + 32 and fc2 64·32 + 32.
        Assert.Equal(3 + 2 * 4, writers.Count);
        Assert.Contains("pos", writers);
        Assert.Equal(49 * 32 + 32 + 16 * 32 + 2 * (32 * 32 + 32 + 64 * 32 + 32), writers.Sum(w => graph.Parameter(w)!.Length));
        // No LayerNorm parameter is among them (γ, β of a normalisation are not scale invariant).
        Assert.DoesNotContain(writers, w => w.Contains("norm", StringComparison.Ordinal));
    }
}
