using Noether.Symmetry.Census;

namespace Noether.Tests.Symmetry.Census;

public sealed class CensusDiscoveryTests
{
    // The discovery searches all 2n² linear maps mixing a site's producer slices among themselves and its consumer
    // slices among themselves, and keeps those that leave every logit unchanged to first order on many random
    // inputs: an independent count of the site's algebra that could come out larger (a missed symmetry, a dead unit)
    // or smaller (a wrong census generator) than the census's n.
    [Theory]
    [InlineData("spec_cnn.onnx", 0)]     // 16 conv channels through MaxPool and Flatten: 512 unknowns
    public void Discovery_on_a_rescaling_site_finds_the_census_dimension(string file, int siteIndex)
    {
        var graph = SymmetryCensusTests.Load(file);
        var site = SymmetryCensus.Take(graph).Sites.Where(s => s.Kind == SiteKind.Rescaling).ElementAt(siteIndex);
        var check = CensusDiscovery.Check(graph, site, new Random(4));
        Assert.True(check.Constraints > check.Unknowns);
        Assert.True(check.Agrees, $"{file} {site.Location}: discovered {check.Discovered}, census {check.CensusDimension} (gap {check.Gap:E2})");
        Assert.True(check.ClearGap, $"gap {check.Gap:E2}");
    }

    // Finding (MLP, second hidden layer, 16 units, 416 unknowns after factoring out maps that do not move θ): with the
    // default number of inputs (48, i.e. 480 constraints) discovery found 58 directions, not 16 — one unit was dead on
    // those inputs (its in- and out-weights are then free: 16 + 10 directions) and 48 inputs realise too few ReLU
    // activation patterns to pin down the rest. These hold for those data only. With 1000 inputs no unit is dead and the
    // discovery equals the census (measured 03:09 UTC 2026-12-06; at 200 inputs it was 30). The test asserts the
    // 1000-input agreement and checks independently, from the pre-activations on the very inputs used, that no unit
    // is dead there.
    [Fact]
    public void Discovery_on_mlp_last_hidden_layer_with_enough_inputs_equals_the_census()
    {
        var graph = SymmetryCensusTests.Load("mlp.onnx");
        var site = SymmetryCensus.Take(graph).Sites.Where(s => s.Kind == SiteKind.Rescaling).ElementAt(1);
        var check = CensusDiscovery.Check(graph, site, new Random(4), samples: 1000);
        var gemm = graph.Nodes.Single(n => n.OpType == "Gemm" && n.Inputs[1] == "3.weight");
        var probe = new Noether.Graphs.Graph<double>(graph.Nodes, graph.Inputs, [gemm.Outputs[0]], graph.Parameters, graph.Constants, graph.Opset);
        var pre = check.Samples.Select(x => probe.Evaluate(x)[0].Data).ToArray();
        Assert.Equal(0, Enumerable.Range(0, 16).Count(u => pre.All(z => z[u] <= 0)));
        Assert.True(check.ClearGap, $"gap {check.Gap:E2}");
        Assert.Equal(16, check.Discovered);
    }
}
