using Noether.Autodiff;
using Noether.Graphs;
using Noether.Interop;
using Noether.Serialization;
using Noether.Symmetry.Census;
using Noether.Tensors;
using Noether.Tests.Interop;

namespace Noether.Tests.Symmetry.Census;

public sealed class SymmetryCensusTests
{
    internal static Graph<double> Load(string file, GraphOptions? options = null) => OnnxModel.Load(Path.Combine(OnnxZooTests.Folder, file)).ToGraph<double>(options);

    internal static (Tensor<double> X, int[] Labels) Batch(int count)
    {
        var images = Npy.Read(Path.Combine(OnnxZooTests.Folder, "inputs.npy"));
        var labels = Npy.Read(Path.Combine(OnnxZooTests.Folder, "labels.npy"));
        int per = images.Length / images.Shape[0];
        var x = Tensor<double>.FromDoubles(images.Data.AsSpan(0, count * per).ToArray(), [count, .. images.Shape[1..]]);
        return (x, labels.Data.Take(count).Select(v => (int)v).ToArray());
    }

    // Known counts, by hand from make_zoo.py (BatchNorm nodes are exported in inference mode: running statistics are
    // constants, so the weights feeding a BatchNorm are NOT scale invariant; its γ_c, β_c rescale against the next conv):
    //   mlp       784→32 ReLU →16 ReLU →10: rescalings 32 + 16; softmax translation 16 columns + bias = 17. Total 65.
    //   spec_cnn  conv 16 ch → MaxPool → Flatten → 32 LeakyReLU → 10: rescalings 16 (conv channel c ↔ columns
    //             c·196…c·196+195 of 3.weight) + 32; translation 32 + 1 = 33. Total 81.
    //   vgg       BN γβ → ReLU → next conv/linear: 16 + 16 (through MaxPool) + 32 + 32 (through MaxPool, Flatten) and
    //             the linear 64 → ReLU → 10: 64; translation 64 + 1 = 65. Total 225.
    //   resnet20  inside each of the 9 basic blocks: bn1 γβ → ReLU → conv2 (16, 16, 16, 32, 32, 32, 64, 64, 64 = 336);
    //             every block output feeds the next block's conv1 AND its skip Add (fan-out), and bn2 feeds the Add:
    //             nothing crosses a skip; translation 64 + 1 = 65. Total 401.
    //   transformer  no rescaling between Linears (every other Linear feeds a residual stream or GELU), but one across
    //             each LayerNorm's affine output (γ_j, β_j ↔ input column j of its consumers: norm1 → Q, K, V; norm2 →
    //             fc1; the final norm → mean over tokens → head): 5 × 32, with no permutation symmetry (the residual
    //             stream's features are shared); the head's translation 32 + 1 = 33; attention sites and the residual
    //             stream's LayerNorm scale site, the LayerNorms' centring and β transfer are counted in
    //             Transformer_census_dimension_equals_the_closed_form below (2097 in all; the same for the
    //             nn.MultiheadAttention export, whose packed in-projection is cut into Q, K and V by Slice nodes).
    [Theory]
    [InlineData("mlp.onnx", new[] { 32, 16 }, 17, 65, 2)]
    [InlineData("spec_cnn.onnx", new[] { 16, 32 }, 33, 81, 2)]
    [InlineData("vgg.onnx", new[] { 16, 16, 32, 32, 64 }, 65, 225, 5)]
    [InlineData("resnet20.onnx", new[] { 16, 16, 16, 32, 32, 32, 64, 64, 64 }, 65, 401, 9)]
    [InlineData("transformer.onnx", new[] { 32, 32, 32, 32, 32 }, 33, 2097, 0)]
    [InlineData("transformer_mha.onnx", new[] { 32, 32, 32, 32, 32 }, 33, 2097, 0)]
    public void Census_of_zoo_model_has_the_hand_derived_sites(string file, int[] rescalings, int translation, int total, int permuted)
    {
        var census = SymmetryCensus.Take(Load(file));
        Assert.Equal(rescalings, census.Sites.Where(s => s.Kind == SiteKind.Rescaling).Select(s => s.Dimension).ToArray());
        Assert.Equal(translation, census.Sites.Single(s => s.Kind == SiteKind.SoftmaxTranslation).Dimension);
        Assert.Equal(total, census.Dimension);
        Assert.Equal(rescalings.Take(permuted), census.Discrete.Where(d => d.Location != "attention").Select(d => d.Count));
    }

    [Theory]
    [InlineData("mlp.onnx")]
    [InlineData("spec_cnn.onnx")]
    [InlineData("vgg.onnx")]
    [InlineData("resnet20.onnx")]
    [InlineData("transformer.onnx")]
    [InlineData("transformer_mha.onnx")]
    public void Every_site_of_zoo_model_is_verified_at_its_weights(string file)
    {
        var graph = Load(file);
        var census = SymmetryCensus.Take(graph);
        var (x, labels) = Batch(8);
        var before = graph.Parameters.Select(p => (double[])p.Value.Data.Clone()).ToArray();
        var result = CensusVerification.Verify(graph, census, x, labels, new Random(5));
        foreach (var s in result.Sites)
            Assert.True(s.Passed, $"{file}: {s.Site.Location}: invariance {s.Invariance:E2}, orthogonality {s.Orthogonality:E2}");
        Assert.Equal(census.Dimension, result.Orbit.Rank);
        Assert.True(result.Orbit.ClearGap, $"{file}: rank gap {result.Orbit.Gap:E2}");
        // The parameters are restored exactly.
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i], graph.Parameters[i].Value.Data);
    }

    [Fact]
    public void Mlp_rescaling_generator_moves_row_bias_and_column_of_the_unit()
    {
        var graph = Load("mlp.onnx");
        var site = SymmetryCensus.Take(graph).Sites[0];
        var gen = site.Generators[3];
        // Independent construction: unit 3 of the first hidden layer is row 3 of 1.weight (32×784), 1.bias[3], and
        // column 3 of 3.weight (16×32, PyTorch's [out, in] with Gemm transB = 1).
        var expected = new List<(string, int, double)>();
        for (int i = 0; i < 784; i++) expected.Add(("1.weight", 3 * 784 + i, 1));
        expected.Add(("1.bias", 3, 1));
        for (int o = 0; o < 16; o++) expected.Add(("3.weight", o * 32 + 3, -1));
        var actual = gen.Entries.SelectMany(e => e.Indices.Select((k, i) => (e.Parameter, k, e.Coefficients[i]))).ToList();
        Assert.Equal(expected, actual);
        // Its conserved quantity is ‖w_in‖² + b² − ‖w_out‖², computed here from the tensors directly.
        var w1 = graph.Parameter("1.weight")!.Value.Data;
        var w2 = graph.Parameter("3.weight")!.Value.Data;
        double q = Enumerable.Range(0, 784).Sum(i => w1[3 * 784 + i] * w1[3 * 784 + i]) + Math.Pow(graph.Parameter("1.bias")!.Value.Data[3], 2)
                   - Enumerable.Range(0, 16).Sum(o => w2[o * 32 + 3] * w2[o * 32 + 3]);
        Support.Close.Assert(q, gen.Conserved(n => graph.Parameter(n)!.Value.Data), 1e-14);
    }

    [Fact]
    public void Batch_statistics_batchnorm_scale_sites_are_approximate_and_exact_at_epsilon_zero()
    {
        // In training mode the weights feeding a BatchNorm channel are scale invariant up to ε: BN(e^t z) − BN(z) is
        // O(ε/σ²) ≈ 1e-5 relative, far above float64 rounding. The census lists them as approximate; the verification
        // reports that deviation (never drops the site) and checks the site on the graph's ε = 0 copy, where it is exact.
        var graph = Load("vgg.onnx", new GraphOptions { BatchNorm = BatchNormMode.Training });
        var census = SymmetryCensus.Take(graph);
        var scale = census.Sites.Where(s => s.Kind == SiteKind.NormalizationScale).ToArray();
        Assert.Equal(new[] { 16, 16, 32, 32 }, scale.Select(s => s.Dimension).ToArray());
        Assert.All(scale, s => Assert.False(s.Exact));
        var (x, labels) = Batch(8);
        var result = CensusVerification.Verify(graph, census, x, labels, new Random(2));
        foreach (var s in result.Sites)
        {
            Assert.True(s.Passed, $"{s.Site.Location}: invariance {s.Invariance:E2}, orthogonality {s.Orthogonality:E2}, at ε = 0 {s.InvarianceWithoutEpsilon:E2}");
            if (s.Site.Exact) Assert.Null(s.InvarianceWithoutEpsilon);
            else
            {
                Assert.InRange(s.Invariance, 1e-12, 1e-2);
                Assert.True(s.InvarianceWithoutEpsilon <= 1e-12 && s.OrthogonalityWithoutEpsilon <= 1e-12,
                    $"{s.Site.Location} at ε = 0: invariance {s.InvarianceWithoutEpsilon:E2}, orthogonality {s.OrthogonalityWithoutEpsilon:E2}");
            }
        }
    }

    [Fact]
    public void Network_of_tanh_layers_has_an_empty_census_that_says_so()
    {
        var rng = new Random(1);
        Parameter<double> P(string name, params int[] shape) => new(name, Graphs.GraphDerivativeCheck.Random(rng, shape));
        var nodes = new[]
        {
            new GraphNode("fc1", "Gemm", ["x", "w1", "b1"], ["h"], new Dictionary<string, GraphAttribute> { ["transB"] = new() { Int = 1 } }),
            new GraphNode("act1", "Tanh", ["h"], ["a"]),
            new GraphNode("fc2", "Gemm", ["a", "w2", "b2"], ["z"], new Dictionary<string, GraphAttribute> { ["transB"] = new() { Int = 1 } }),
            new GraphNode("act2", "Tanh", ["z"], ["y"]),
        };
        var graph = new Graph<double>(nodes, [new GraphInput("x", ElementType.Double, [null, 3], ["batch", null])], ["y"],
            [P("w1", 4, 3), P("b1", 4), P("w2", 2, 4), P("b2", 2)], new Dictionary<string, HostTensor>(), 17);
        var census = SymmetryCensus.Take(graph);
        Assert.True(census.IsEmpty);
        Assert.Equal(0, census.Dimension);
        Assert.StartsWith("no continuous symmetry found", census.Notes[0]);
    }

    [Fact]
    public void Verification_reports_a_site_that_is_not_a_symmetry_as_failed()
    {
        // Scaling a hidden unit's incoming weights without compensating its outgoing ones changes the function: the
        // check must catch it (loss moves by far more than rounding, and the generator is not orthogonal to ∇L).
        var graph = Load("mlp.onnx");
        var good = SymmetryCensus.Take(graph).Sites[0].Generators[0];
        var wrong = new CensusSite(SiteKind.Rescaling, "unit 0 without its outgoing weights", "R>0", "none",
            [new CensusGenerator("unit 0", GeneratorKind.Scaling, good.Entries.Where(e => e.Parameter != "3.weight").ToArray())]);
        var census = new SymmetryCensus([wrong], [], []);
        var (x, labels) = Batch(8);
        var check = CensusVerification.Verify(graph, census, x, labels, new Random(3)).Sites.Single();
        Assert.False(check.Passed);
        Assert.True(check.Invariance > 1e-8 || check.Orthogonality > 1e-8, $"invariance {check.Invariance:E2}, orthogonality {check.Orthogonality:E2}");
    }

    // make_zoo.py's transformer: depth L = 2 encoder layers, model width D = 32, H = 4 heads of d_k = d_v = D/H = 8, a
    // 10-class head. Per layer and head: GL(d_k) on (W_Q,h, b_Q,h | W_K,h, b_K,h) — d_k² — and GL(d_v) on
    // (W_V,h, b_V,h | columns of W_O for h) — d_v²; per layer the key bias b_K (D entries) is free (softmax over keys
    // ignores q·b_K); the head: softmax translation D + 1. With LayerNormalization nodes (N = 1; N = 0 for the opset-13
    // export, whose decomposed LayerNorm the census does not recognise): each LayerNorm's affine output rescales against
    // its consumers' input columns, D per LayerNorm (2 per layer and the final one), and the residual stream (embedding,
    // positions, every W_O/b_O and fc2), read only by LayerNorms and the residual Adds, has one scale (approximate: ε).
    // Each LayerNorm's normalised value x̂ has zero mean over the features, so every consumer output row r can move along
    // 1/γ (W[r, :] + s/γ, b[r] − s⟨β, 1/γ⟩): 3D rows per norm1 (Q, K, V), F = 64 per norm2 (fc1), and C − 1 = 9 at the
    // head (the sum of its C rows is a softmax translation); and its β can move into its consumers' biases (β_j + s,
    // b − s W[:, j]): D per LayerNorm. The residual stream is read only by LayerNorms, which remove its mean over the
    // features: every writer may add a multiple of 1 — W → W + 1uᵀ for the embedding (P = 49 inputs), each W_O (D) and
    // fc2 (F), + s1 for their biases and for each of the T = 16 position rows: P + 1 + T + L·(D + 1 + F + 1) = 262.
    // Per layer, whatever the normalisation, the value bias can move into the output bias (b_V + s e_j, b_O − s W_O[:, j]:
    // the attention weights sum to 1): D more.
    // Closed form: L·(H·d_k² + H·d_v² + 2D) + D + 1
    //            + N·((2L + 1)·D + 1 + L·(3D + F) + C − 1 + (2L + 1)·D + P + 1 + T + L·(D + F + 2))
    //            = 2·(256 + 256 + 64) + 33 + (161 + 320 + 9 + 160 + 262) = 2097 (1185 for the opset-13 export).
    // Measured: the rank of the tangent map at the fixture's weights.
    [Theory]
    [InlineData("transformer.onnx", 1)]
    [InlineData("transformer_mha.onnx", 1)]
    [InlineData("transformer.opset13.onnx", 0)]
    public void Transformer_census_dimension_equals_the_closed_form_and_the_tangent_map_rank(string file, int normalizations)
    {
        const int L = 2, D = 32, H = 4, dk = D / H, dv = D / H, F = 64, C = 10, P = 49, T = 16;
        int closedForm = L * (H * dk * dk + H * dv * dv + 2 * D) + D + 1
            + normalizations * ((2 * L + 1) * D + 1 + L * (3 * D + F) + C - 1 + (2 * L + 1) * D + P + 1 + T + L * (D + F + 2));
        var graph = Load(file);
        var census = SymmetryCensus.Take(graph);
        Assert.Equal(closedForm, census.Dimension);
        Assert.Equal(2 * L * H, census.Sites.Count(s => s.Kind == SiteKind.GeneralLinear));
        Assert.Equal(normalizations, census.Sites.Count(s => s.Kind == SiteKind.NormalizationScale));
        Assert.Equal(normalizations * (2 * L + 1), census.Sites.Count(s => s.Kind == SiteKind.Rescaling));
        Assert.Equal(normalizations * (2 * L + 1), census.Sites.Count(s => s.Kind == SiteKind.Centring));
        Assert.Equal(normalizations * (2 * L + 1) + L, census.Sites.Count(s => s.Kind == SiteKind.BetaTransfer));
        Assert.Equal(normalizations, census.Sites.Count(s => s.Kind == SiteKind.StreamCentring));
        var (x, labels) = Batch(4);
        var result = CensusVerification.Verify(graph, census, x, labels, new Random(9));
        Assert.Equal(closedForm, result.Orbit.Rank);
        Assert.True(result.Orbit.ClearGap, $"gap {result.Orbit.Gap:E2}");
        foreach (var s in result.Sites)
            Assert.True(s.Passed, $"{s.Site.Location}: invariance {s.Invariance:E2}, orthogonality {s.Orthogonality:E2}, at ε = 0 {s.InvarianceWithoutEpsilon:E2}");
    }

    [Fact]
    public void Attention_qk_generator_conserves_the_head_block_of_wq_wqT_minus_wk_wkT()
    {
        // Independent computation of (Ŵ_Q,h Ŵ_Q,hᵀ − Ŵ_K,h Ŵ_K,hᵀ)[a, b] from the tensors (PyTorch [out, in] layout).
        var graph = Load("transformer.onnx");
        var site = SymmetryCensus.Take(graph).Sites.First(s => s.Kind == SiteKind.GeneralLinear && s.Location.Contains("head 1"));
        int a = 2, b = 5, d = 8, h = 1, din = 32;
        var wq = graph.Parameter("layers.0.attn.q.weight")!.Value.Data; var bq = graph.Parameter("layers.0.attn.q.bias")!.Value.Data;
        var wk = graph.Parameter("layers.0.attn.k.weight")!.Value.Data; var bk = graph.Parameter("layers.0.attn.k.bias")!.Value.Data;
        int ra = h * d + a, rb = h * d + b;
        double expected = Enumerable.Range(0, din).Sum(j => wq[ra * din + j] * wq[rb * din + j] - wk[ra * din + j] * wk[rb * din + j]) + bq[ra] * bq[rb] - bk[ra] * bk[rb];
        var gen = site.Generators[a * d + b];
        Support.Close.Assert(expected, gen.Conserved(n => graph.Parameter(n)!.Value.Data), 1e-13, 1e-15);
    }

    [Fact]
    public void Multihead_attention_packed_in_projection_is_cut_into_per_head_sites()
    {
        // nn.MultiheadAttention packs W_Q, W_K, W_V into one in_proj weight [3E, E] (and bias [3E]); its export cuts the
        // projection into Q, K and V with Slice nodes whose bounds come from the shape. Head 1's Q/K site of layer 0 must
        // act on rows 8…15 (Q) and 32 + 8…32 + 15 (K) of the packed weight: the generator E[a, b] moves row h·d + a of Q
        // by row h·d + b, and K's row E + h·d + b by −(row E + h·d + a). Its conserved quantity is computed here from the
        // packed tensors independently.
        const int E = 32, d = 8, h = 1, a = 2, b = 5;
        var graph = Load("transformer_mha.onnx");
        var census = SymmetryCensus.Take(graph);
        var site = census.Sites.First(s => s.Kind == SiteKind.GeneralLinear && s.Location.Contains("in_proj_weight", StringComparison.Ordinal) && s.Location.EndsWith("head 1", StringComparison.Ordinal));
        var w = graph.Parameter("layers.0.attn.mha.in_proj_weight")!.Value.Data;
        var bias = graph.Parameter("layers.0.attn.mha.in_proj_bias")!.Value.Data;
        int qa = h * d + a, qb = h * d + b, ka = E + qa, kb = E + qb;
        double expected = Enumerable.Range(0, E).Sum(j => w[qa * E + j] * w[qb * E + j] - w[ka * E + j] * w[kb * E + j]) + bias[qa] * bias[qb] - bias[ka] * bias[kb];
        Support.Close.Assert(expected, site.Generators[a * d + b].Conserved(n => graph.Parameter(n)!.Value.Data), 1e-13, 1e-15);
        // The key bias is the packed bias's middle third.
        var key = census.Sites.First(s => s.Kind == SiteKind.Translation);
        Assert.Equal(Enumerable.Range(E, E), key.Generators.SelectMany(g => g.Entries.SelectMany(e => e.Indices)));
        Assert.DoesNotContain(census.Notes, n => n.Contains("not matched", StringComparison.Ordinal));
    }
}
