using Noether.Graphs;
using Noether.Symmetry.Census;

namespace Noether.Tests.Symmetry.Census;

/// <summary>A LayerNorm's centring and β transfer (transformer.onnx), checked by moving the tensors by hand.</summary>
public sealed class LayerNormCentringTests
{
    private static double[] Data(Graph<double> g, string name) => g.Parameter(name)!.Value.Data;

    // max |z' − z| / max |z| over the logits of 8 fixture images, after <paramref name="move"/> changed the tensors.
    private static double LogitChange(Action<Graph<double>> move)
    {
        var graph = SymmetryCensusTests.Load("transformer.onnx");
        var (x, _) = SymmetryCensusTests.Batch(8);
        var before = graph.Evaluate(x)[0].Data;
        move(graph);
        var after = graph.Evaluate(x)[0].Data;
        return before.Zip(after, (p, q) => Math.Abs(p - q)).Max() / before.Max(Math.Abs);
    }

    // Independent of CensusSite.Apply: fc1 (64 × 32, z = W y + b after norm2, y = γ ⊙ x̂ + β) moved by hand. Centring:
    // W[r, :] += s_r/γ, b[r] −= s_r ⟨β, 1/γ⟩ for random s_r — since Σ_j x̂_j = 0 the logits are unchanged to float64
    // rounding (through two GELU MLPs and attention: ≤ 1e-12 relative). Without the bias term the change is
    // s_r ⟨β, 1/γ⟩ ≠ 0 and must show (the check can fail). β transfer: β += w, b −= W w.
    [Fact]
    public void Centring_and_beta_transfer_leave_the_logits_unchanged_and_centring_needs_its_bias_term()
    {
        var rng = new Random(31);
        var s = Enumerable.Range(0, 64).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        var w = Enumerable.Range(0, 32).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        void Centre(Graph<double> g, bool bias)
        {
            var gamma = Data(g, "layers.0.norm2.weight");
            var beta = Data(g, "layers.0.norm2.bias");
            var weight = Data(g, "layers.0.fc1.weight");
            var b = Data(g, "layers.0.fc1.bias");
            double c = Enumerable.Range(0, 32).Sum(j => beta[j] / gamma[j]);
            for (int r = 0; r < 64; r++)
            {
                for (int j = 0; j < 32; j++) weight[r * 32 + j] += s[r] / gamma[j];
                if (bias) b[r] -= s[r] * c;
            }
        }
        Assert.True(LogitChange(g => Centre(g, bias: true)) <= 1e-12);
        Assert.True(LogitChange(g => Centre(g, bias: false)) > 1e-6);
        double transfer = LogitChange(g =>
        {
            var beta = Data(g, "layers.0.norm2.bias");
            var weight = Data(g, "layers.0.fc1.weight");
            var b = Data(g, "layers.0.fc1.bias");
            for (int j = 0; j < 32; j++) beta[j] += w[j];
            for (int r = 0; r < 64; r++) b[r] -= Enumerable.Range(0, 32).Sum(j => weight[r * 32 + j] * w[j]);
        });
        Assert.True(transfer <= 1e-12, $"{transfer:E2}");
    }

    // The census's centring site of norm2 → fc1 moves exactly these entries: generator r has 1/γ_j on W[r, j] and
    // −⟨β, 1/γ⟩ on b[r]; the head's site lists C − 1 = 9 rows; both sites report no conserved quantity.
    [Fact]
    public void Census_centring_generators_have_the_derived_coefficients_and_no_conserved_quantity()
    {
        var graph = SymmetryCensusTests.Load("transformer.onnx");
        var census = SymmetryCensus.Take(graph);
        var site = census.Sites.Single(s => s.Kind == SiteKind.Centring && s.Location.StartsWith("layers.0.norm2.weight", StringComparison.Ordinal));
        var gamma = Data(graph, "layers.0.norm2.weight");
        var beta = Data(graph, "layers.0.norm2.bias");
        double c = Enumerable.Range(0, 32).Sum(j => beta[j] / gamma[j]);
        Assert.Equal(64, site.Dimension);
        var g5 = site.Generators[5];
        var tangent = g5.Tangent(n => Data(graph, n)).ToArray();
        Assert.Equal(33, tangent.Length);
        for (int j = 0; j < 32; j++) Assert.Contains(("layers.0.fc1.weight", 5 * 32 + j, 1 / gamma[j]), tangent);
        var bias = tangent.Single(t => t.Parameter == "layers.0.fc1.bias");
        Assert.Equal(5, bias.Index);
        Support.Close.Assert(-c, bias.Value, 1e-14, 1e-16);
        Assert.False(site.Conserves);
        Assert.Equal(9, census.Sites.Single(s => s.Kind == SiteKind.Centring && s.Location.StartsWith("norm.weight", StringComparison.Ordinal)).Dimension);
        var (x, labels) = SymmetryCensusTests.Batch(4);
        var check = CensusVerification.Verify(graph, census, x, labels, new Random(3)).Sites.Single(k => k.Site == site);
        Assert.Empty(check.Conserved);
        Assert.True(check.Passed, $"invariance {check.Invariance:E2}, orthogonality {check.Orthogonality:E2}");
    }
}
