using Noether.Serialization;
using Noether.Symmetry.Census;
using Noether.Tensors;
using Noether.Tests.Interop;

namespace Noether.Tests.Symmetry.Census;

/// <summary>attention_split.onnx (make_zoo.py --only attention_split): one packed Q/K/V Linear cut by an ONNX Split.</summary>
public sealed class PackedAttentionTests
{
    // The model (make_zoo.py's AttentionSplit): 4 tokens → Linear 196→8 → x + attention(LN1(x)) with a packed qkv Linear
    // 8→24 cut by Split into Q, K, V (2 heads of d = 4), explicit output projection → LN → mean over tokens → Linear 8→10.
    // Closed form, from the configuration (D = 8, H = 2, d = 4, C = 10): GL(d) per head for Q/K and V/O, 2·H·d² = 64; the
    // key bias D = 8; LN1 → qkv and LN → head rescalings 2D = 16; the residual stream's scale 1 (embedding, W_O/b_O);
    // centring 3D (the qkv rows) + C − 1 (head rows) = 33; β transfer 2D = 16; softmax translation D + 1 = 9; and the
    // stream's centring (both its readers are LayerNorms): W → W + 1uᵀ for the embedding (196 inputs) and W_O (D), + s1
    // for their biases: 196 + 1 + D + 1 = 206; the value bias moved into the output bias (the attention weights sum to
    // 1): D — these two found by this test's discovery before they were sites. Total 361.
    [Fact]
    public void Split_packed_attention_census_equals_the_closed_form_is_verified_and_discovery_agrees()
    {
        const int D = 8, H = 2, d = 4, C = 10;
        int closedForm = 2 * H * d * d + D + 2 * D + 1 + 3 * D + C - 1 + 2 * D + D + 1 + 196 + 1 + D + 1 + D;
        var graph = SymmetryCensusTests.Load("attention_split.onnx");
        // The import itself: PyTorch's float64 logits on the fixture images (as OnnxZooTests: the file stores LayerNorm's ε
        // as float32, ~1e-8 relative; float32 arithmetic would be ~1e-6 off).
        var (x, labels) = SymmetryCensusTests.Batch(16);
        var torch = Npy.Read(Path.Combine(OnnxZooTests.Folder, "attention_split.f64.npy"));
        double err = Support.Close.RelativeError(graph.Evaluate(x)[0].Data, torch.Data);
        Assert.True(err <= 1e-7, $"relative error {err:E3} against PyTorch float64");
        var census = SymmetryCensus.Take(graph);
        Assert.Equal(closedForm, census.Dimension);
        Assert.Equal(2 * H, census.Sites.Count(s => s.Kind == SiteKind.GeneralLinear));
        // The key bias is the packed bias's middle third.
        var key = census.Sites.Single(s => s.Kind == SiteKind.Translation);
        Assert.Equal(Enumerable.Range(D, D), key.Generators.SelectMany(g => g.Entries.Where(e => e.Parameter == "attn.qkv.bias").SelectMany(e => e.Indices)));
        var check = CensusVerification.Verify(graph, census, x, labels, new Random(41));
        foreach (var s in check.Sites)
            Assert.True(s.Passed, $"{s.Site.Location}: invariance {s.Invariance:E2}, orthogonality {s.Orthogonality:E2}, at ε = 0 {s.InvarianceWithoutEpsilon:E2}");
        Assert.Equal(closedForm, check.Orbit.Rank);
        Assert.True(check.Orbit.ClearGap, $"gap {check.Orbit.Gap:E2}");
        var discovery = CensusDiscovery.Run(graph, census, new Random(42));
        foreach (var s in discovery.Sites)
        {
            Assert.True(s.Agrees, s.Finding);
            Assert.True(s.ClearGap, $"{s.Site.Location}: gap {s.Gap:E2}");
        }
        // Refutation: without the centring and β transfer sites the LayerNorm-affine families find more than the census.
        var old = new SymmetryCensus(census.Sites.Where(s => s.Kind is not (SiteKind.Centring or SiteKind.BetaTransfer)).ToArray(), [], []);
        var refuted = CensusDiscovery.Run(graph, old, new Random(42)).Sites.Where(s => s.Site.Kind == SiteKind.Rescaling).ToArray();
        Assert.Equal(2, refuted.Length);
        Assert.All(refuted, s => Assert.True(s.Discovered > s.CensusDimension, $"{s.Site.Location}: {s.Discovered} for {s.CensusDimension}"));
    }
}
