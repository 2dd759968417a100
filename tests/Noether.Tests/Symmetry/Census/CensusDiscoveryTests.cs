using Noether.Graphs;
using Noether.Symmetry.Census;

namespace Noether.Tests.Symmetry.Census;

public sealed class CensusDiscoveryTests
{
    // The discovery searches, per site, a family of vector fields on the site's own entries that is larger than the
    // census's algebra (2n² slice-mixing maps for a site of n units, every translation of a translation site's entries)
    // and keeps those that leave the class probabilities unchanged to first order on many random inputs: an independent
    // count that could come out larger (a missed symmetry, a dead unit) or smaller (a wrong census generator) than the
    // census's dimension.
    [Theory]
    [InlineData("spec_cnn.onnx", 0)]     // 16 conv channels through MaxPool and Flatten
    public void Discovery_on_a_rescaling_site_finds_the_census_dimension(string file, int siteIndex)
    {
        var graph = SymmetryCensusTests.Load(file);
        var site = SymmetryCensus.Take(graph).Sites.Where(s => s.Kind == SiteKind.Rescaling).ElementAt(siteIndex);
        var check = CensusDiscovery.Check(graph, site, new Random(4));
        Assert.True(check.Constraints > check.Unknowns);
        Assert.True(check.Agrees, $"{file} {site.Location}: discovered {check.Discovered}, census {check.CensusDimension} (gap {check.Gap:E2})");
        Assert.True(check.ClearGap, $"gap {check.Gap:E2}");
    }

    // Finding (MLP, second hidden layer, 16 units, 416 unknowns after factoring out maps that do not move θ): with few
    // inputs discovery finds more than the census — a unit dead on those inputs (its in- and out-weights are then free)
    // and too few ReLU activation patterns. These hold for those data only. With 1000 inputs no unit is dead and the
    // discovery equals the census: 16 rescalings and, since the consumer family (mix the head's 10-entry columns, rank 10)
    // holds every change of the head's weight, the 16 column translations W → W + 1aᵀ of the softmax site (the class
    // probabilities do not see them): 32. The test asserts the 1000-input agreement and checks independently, from the
    // pre-activations on the very inputs used, that no unit is dead there.
    [Fact]
    public void Discovery_on_mlp_last_hidden_layer_with_enough_inputs_equals_the_census()
    {
        var graph = SymmetryCensusTests.Load("mlp.onnx");
        var census = SymmetryCensus.Take(graph);
        var site = census.Sites.Where(s => s.Kind == SiteKind.Rescaling).ElementAt(1);
        var check = CensusDiscovery.Check(graph, site, new Random(4), samples: 1000, census: census);
        var gemm = graph.Nodes.Single(n => n.OpType == "Gemm" && n.Inputs[1] == "3.weight");
        var probe = new Graph<double>(graph.Nodes, graph.Inputs, [gemm.Outputs[0]], graph.Parameters, graph.Constants, graph.Opset);
        var pre = check.Samples.Select(x => probe.Evaluate(x)[0].Data).ToArray();
        Assert.Equal(1000, pre.Length);
        Assert.Equal(0, Enumerable.Range(0, 16).Count(u => pre.All(z => z[u] <= 0)));
        Assert.True(check.ClearGap, $"gap {check.Gap:E2}");
        Assert.Equal(16 + 16, check.CensusDimension);
        Assert.Equal(16 + 16, check.Discovered);
        // Alone, the site's census is its own 16: the softmax translation's directions then show as a surplus.
        Assert.Equal(16, CensusDiscovery.Check(graph, site, new Random(4), samples: 1000).CensusDimension);
    }

    // A unit made dead (bias −1e6: its pre-activation is negative on every input) gets no gradient on its slices: its 16
    // producer coordinates (the producer slices, 32 weights + bias, have rank 16 over the 16 units) and its 10 consumer
    // coordinates (its column of the 10-class head) are constrained by no input. Discovery then exceeds the census, and the
    // finding says how many coordinates no input constrains — enough to hold the surplus. 1000 inputs, as above, so that
    // the live units' activation patterns leave no surplus of their own.
    [Fact]
    public void Discovery_with_a_dead_unit_reports_its_unconstrained_coordinates()
    {
        var graph = SymmetryCensusTests.Load("mlp.onnx");
        graph.Parameter("3.bias")!.Value.Data[5] = -1e6;
        var census = SymmetryCensus.Take(graph);
        var site = census.Sites.Where(s => s.Kind == SiteKind.Rescaling).ElementAt(1);
        var check = CensusDiscovery.Check(graph, site, new Random(4), samples: 1000, census: census);
        Assert.Equal(16 + 10, check.Unconstrained);
        Assert.True(check.Discovered > check.CensusDimension, $"discovered {check.Discovered}, census {check.CensusDimension}");
        // Exactly: the 26 free coordinates less the two census directions among them (the unit's rescaling, its column's
        // translation under the softmax).
        Assert.True(check.Discovered - check.CensusDimension == 26 - 2, check.Finding);
        Assert.Contains("get no gradient from any of these inputs", check.Finding, StringComparison.Ordinal);
        Assert.Contains("enough to hold the whole surplus", check.Finding, StringComparison.Ordinal);
        // The same site without the dead unit: every coordinate is constrained.
        var healthy = SymmetryCensusTests.Load("mlp.onnx");
        var healthyCensus = SymmetryCensus.Take(healthy);
        var again = CensusDiscovery.Check(healthy, healthyCensus.Sites.Where(s => s.Kind == SiteKind.Rescaling).ElementAt(1), new Random(4), samples: 1000, census: healthyCensus);
        Assert.Equal(0, again.Unconstrained);
    }

    // The nn.MultiheadAttention transformer (packed in-projection cut by Slice nodes): discovery agrees with the census on
    // every site. The families reach into each other: a LayerNorm-affine rescaling site's family (mix the (γ_a, β_a)
    // slices, mix the consumers' input columns) also holds, for every u in the column space of the stacked consumer
    // weights (rank D), the centring W → W + u (1/γ)ᵀ with its bias part moved into β by a β transfer (δβ = −⟨β, 1/γ⟩ v,
    // W v = u): D more; at the head (W 10 × 32, rank 10) the 10 centrings and the 22 β directions in W's null space. The
    // census's dimension in each family comes from the span of all its generators (CensusSpan), not from this argument.
    // The centring families of norm1 (every translation of W_Q, W_K, W_V and their biases: 3168 unknowns), norm2 (fc1:
    // 2112) and the residual stream (8384) are left to the CLI run (docs/census.md) to keep this test short; every other
    // site is checked here.
    [Fact]
    public void Discovery_on_the_multihead_attention_transformer_agrees_with_the_census_site_by_site()
    {
        var graph = SymmetryCensusTests.Load("transformer_mha.onnx");
        var census = SymmetryCensus.Take(graph);
        var result = CensusDiscovery.Run(graph, census, new Random(21), new DiscoveryOptions { MaxUnknowns = 1200 });
        foreach (var d in result.Sites)
        {
            if (!d.Checked)
            {
                Assert.True(d.Site.Kind is SiteKind.Centring or SiteKind.StreamCentring, d.Finding);
                Assert.True(d.Unknowns > 2000, d.Finding);
                continue;
            }
            Assert.True(d.Agrees, d.Finding);
            Assert.True(d.ClearGap, $"{d.Site.Location}: gap {d.Gap:E2}");
        }
        Assert.Equal(census.Sites.Count - 5, result.Sites.Count(d => d.Checked));
        // The affine sites of norm1 and norm2 hold twice their own dimension (centring and β transfer reach into them).
        Assert.All(result.Sites.Where(d => d.Site.Kind == SiteKind.Rescaling && !d.Site.Location.StartsWith("norm.", StringComparison.Ordinal)),
            d => Assert.Equal(2 * d.Site.Dimension, d.CensusDimension));
    }

    // Refutation: the census of old, without the LayerNorm centring and β transfer, on transformer.onnx. The affine sites of
    // norm1 (→ Q, K, V) and norm2 (→ fc1) then hold 2D invariant directions against the census's D (for every u in the
    // column space of the stacked consumer weights, the centring W + u (1/γ)ᵀ with its bias part moved into β), and the
    // softmax translation's family (every translation of the head's W and b) 33 + 9 (the centrings of the 10 logit rows,
    // one of them already a translation); the final norm's family, which also holds every change of the head's weight,
    // finds more than the census too. With the two new sites in the census the same families agree.
    [Fact]
    public void Discovery_refutes_a_transformer_census_without_the_layer_norm_centring()
    {
        const int D = 32, classes = 10;
        var graph = SymmetryCensusTests.Load("transformer.onnx");
        var full = SymmetryCensus.Take(graph);
        var options = new DiscoveryOptions { Samples = 150, MaxUnknowns = 1200 };
        var old = new SymmetryCensus(full.Sites.Where(s => s.Kind is SiteKind.Rescaling or SiteKind.SoftmaxTranslation).ToArray(), [], []);
        foreach (var d in CensusDiscovery.Run(graph, old, new Random(26), options).Sites)
        {
            Assert.True(d.ClearGap, $"{d.Site.Location}: gap {d.Gap:E2}");
            // The final norm's family also holds the softmax translation's 32 column translations of the head.
            Assert.Equal(d.Site.Location.StartsWith("norm.", StringComparison.Ordinal) ? 2 * D : d.Site.Dimension, d.CensusDimension);
            if (d.Site.Kind == SiteKind.SoftmaxTranslation) Assert.Equal(D + 1 + classes - 1, d.Discovered);
            else if (!d.Site.Location.StartsWith("norm.", StringComparison.Ordinal)) Assert.Equal(2 * D, d.Discovered);
            Assert.Contains("does not list", d.Finding, StringComparison.Ordinal);
        }
        var now = new SymmetryCensus(full.Sites.Where(s => s.Kind is SiteKind.Rescaling or SiteKind.SoftmaxTranslation or SiteKind.Centring or SiteKind.BetaTransfer).ToArray(), [], []);
        var checks = CensusDiscovery.Run(graph, now, new Random(26), options).Sites.Where(d => d.Site.Kind is SiteKind.Rescaling or SiteKind.SoftmaxTranslation).ToArray();
        Assert.Equal(6, checks.Length);
        foreach (var d in checks)
        {
            Assert.True(d.Agrees, d.Finding);
            Assert.True(d.ClearGap, $"{d.Site.Location}: gap {d.Gap:E2}");
        }
    }

    [Fact]
    public void Discovery_agrees_on_the_new_site_kinds_of_small_graphs()
    {
        // GL(5) between two Gemms and GL(3) between a 1×1 conv and a conv: the slice-mixing family gl(n) × gl(n) has
        // exactly gl(n) (P → AP, W → W A⁻¹ to first order) as its invariant part; the LayerNorm site on its ε = 0 copy.
        foreach (var graph in new[] { SmallGraphs.LinearPair(), SmallGraphs.ConvPair(), SmallGraphs.LayerNormed(1e-5) })
        {
            var result = CensusDiscovery.Run(graph, SymmetryCensus.Take(graph), new Random(22));
            foreach (var d in result.Sites)
            {
                Assert.True(d.Agrees, d.Finding);
                Assert.True(d.ClearGap, $"{d.Site.Location}: gap {d.Gap:E2}");
            }
        }
    }

    [Fact]
    public void Discovery_refutes_a_census_that_lists_only_the_diagonal_of_a_linear_pair()
    {
        // The census of old: between two linear maps with nothing nonlinear between them, only the n rescalings. The
        // discovery's family (mix the n producer slices, mix the n consumer slices) holds all of gl(5): it must find 25
        // invariant directions, not 5, and report the difference as a finding.
        var graph = SmallGraphs.LinearPair();
        var gl = SymmetryCensus.Take(graph).Sites.Single(s => s.Kind == SiteKind.GeneralLinear);
        var diagonal = Enumerable.Range(0, 5).Select(a => gl.Generators[a * 5 + a]).Select((g, a) => new CensusGenerator($"unit {a}", GeneratorKind.Scaling,
            g.Couplings.GroupBy(c => c.Target).Select(p => new ParameterEntries(p.Key, p.Select(c => c.TargetIndex).ToArray(), p.Select(c => c.Coefficient).ToArray())).ToArray())).ToList();
        var under = new CensusSite(SiteKind.Rescaling, "fc1 → identity → fc2 (diagonal only)", "(R>0)^5", "Q_c", diagonal);
        var check = CensusDiscovery.Run(graph, new SymmetryCensus([under], [], []), new Random(23)).Sites.Single();
        Assert.Equal(25, check.Discovered);
        Assert.False(check.Agrees);
        Assert.True(check.ClearGap, $"gap {check.Gap:E2}");
        Assert.Contains("does not list", check.Finding, StringComparison.Ordinal);
    }

    [Fact]
    public void Discovery_refutes_a_census_generator_that_is_not_a_symmetry()
    {
        // Unit 0's incoming weights scaled without its outgoing ones: not a symmetry. Its family (mix the producer slice
        // with itself: 1 unknown) has no invariant direction, so discovery finds 0 < 1 and says a generator is wrong.
        var graph = SymmetryCensusTests.Load("mlp.onnx");
        var good = SymmetryCensus.Take(graph).Sites[0].Generators[0];
        var wrong = new CensusSite(SiteKind.Rescaling, "unit 0 without its outgoing weights", "R>0", "none",
            [new CensusGenerator("unit 0", GeneratorKind.Scaling, good.Entries.Where(e => e.Parameter != "3.weight").ToArray())]);
        var check = CensusDiscovery.Run(graph, new SymmetryCensus([wrong], [], []), new Random(24)).Sites.Single();
        Assert.Equal(1, check.Unknowns);
        Assert.Equal(0, check.Discovered);
        Assert.Contains("not a symmetry", check.Finding, StringComparison.Ordinal);
    }

    [Fact]
    public void A_site_whose_family_exceeds_the_limit_is_reported_not_checked()
    {
        var graph = SymmetryCensusTests.Load("mlp.onnx");
        var census = SymmetryCensus.Take(graph);
        var result = CensusDiscovery.Run(graph, census, new Random(25), new DiscoveryOptions { MaxUnknowns = 200 });
        // Site 0 (32 units: 32·(32 + 16) unknowns) and site 1 (16·(16 + 10)) are above 200; the translation (16·10 + 10 = 170) is not.
        Assert.Equal(new[] { false, false, true }, result.Sites.Select(d => d.Checked).ToArray());
        Assert.Equal(2, result.Findings.Count);
        Assert.All(result.Findings.Take(2), f => Assert.Contains("not checked", f, StringComparison.Ordinal));
        Assert.True(result.Sites[2].Agrees, result.Sites[2].Finding);
    }

    [Theory]
    [InlineData(1.0, 37, 37)]      // singular values O(1): both paths count the same null space
    [InlineData(1e-7, 37, 38)]     // one at 1e-7 of the largest: the SVD resolves it, the Gram matrix (to ~1e-8) cannot
    public void Constraints_DirectAndGramPaths_CountTheNullSpaceToTheirResolution(double smallest, int direct, int gram)
    {
        // 240 rows of A = L·diag(s)·R (L 240×83, R 83×120 Gaussian; s = 1 except the last, `smallest`): rank 83, null space
        // 37 in exact arithmetic. The direct path (the family's rows, singular values to ~1e-16) and the Gram path (AᵀA,
        // eigenvalues to ~1e-16 of the largest, so singular values to ~1e-8) are forced with the limit.
        const int rows = 240, rank = 83, unknowns = 120;
        var rng = new Random(3);
        var l = new double[rows, rank];
        var r = new double[rank, unknowns];
        for (int i = 0; i < rows; i++) for (int k = 0; k < rank; k++) l[i, k] = Noether.Tensors.Gaussian.Next(rng);
        for (int k = 0; k < rank; k++) for (int j = 0; j < unknowns; j++) r[k, j] = Noether.Tensors.Gaussian.Next(rng) * (k == rank - 1 ? smallest : 1);
        var byRows = new CensusDiscovery.Constraints(unknowns);
        var byGram = new CensusDiscovery.Constraints(unknowns, directLimit: 0);
        double squares = 0;
        for (int i = 0; i < rows; i++)
        {
            var row = new double[unknowns];
            for (int j = 0; j < unknowns; j++)
                for (int k = 0; k < rank; k++) row[j] += l[i, k] * r[k, j];
            squares += row.Sum(v => v * v);
            byRows.Add((double[])row.Clone());
            byGram.Add(row);
        }
        var (d1, gap1) = byRows.NullDimension(Math.Sqrt(squares));
        var (d2, gap2) = byGram.NullDimension(Math.Sqrt(squares));
        Assert.Equal(direct, d1);
        Assert.Equal(gram, d2);
        Assert.True(gap1 >= 1e4 && gap2 >= 1e4, $"gaps {gap1:E2} (rows), {gap2:E2} (Gram)");
    }
}

