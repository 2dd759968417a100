using Noether.Autodiff;
using Noether.Graphs;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Symmetry.Census;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Graphs;

/// <summary>
/// The paper's networks as graphs: the same outputs and loss gradients as the <see cref="Sequential{T}"/> they come from
/// (a second implementation of every layer), and a census that finds the symmetries the layer-pair view
/// (<see cref="LayerPair"/>, <see cref="MatrixGroup"/>) derives by hand.
/// </summary>
public class SequentialGraphTests
{
    private static (Tensor<double> Logits, Tensor<double>[] Gradient) Run(Func<Tape<double>, Variable<double>> logits, int[] labels, IReadOnlyList<Parameter<double>> parameters)
    {
        var tape = new Tape<double>();
        var z = logits(tape);
        return (z.Value, tape.Gradient(Ops.CrossEntropy(z, labels), parameters));
    }

    [Fact]
    public void SpecCnn_GraphEqualsTheSequential_AndItsCensusFindsTheLayerPairsGroups()
    {
        var (model, images, labels) = TinyCnn.Create(seed: 3, count: 6, imageSize: 8, classes: 4, channels: 3, hidden: 5);
        var graph = SequentialGraph.Of(model, [1, 8, 8]);
        var viaModel = Run(tape => model.Forward(tape, tape.Constant(images)), labels, model.Parameters);
        var viaGraph = Run(tape => graph.Run(tape, [tape.Constant(images)]).Output(tape, 0), labels, model.Parameters);
        // Both go through the same conv kernel; pooling, the products and the losses are separate code: rounding only.
        Close.Assert(viaModel.Logits.Data, viaGraph.Logits.Data, 1e-13, 1e-15, "logits");
        for (int i = 0; i < viaModel.Gradient.Length; i++)
            Close.Assert(viaModel.Gradient[i].Data, viaGraph.Gradient[i].Data, 1e-12, 1e-15, model.Parameters[i].Name);

        var census = SymmetryCensus.Take(graph);
        var pairs = LayerPair.Of(ArchitectureSpec.Of(model), model);
        // The layer pairs: conv channels through max-pool, hidden units across LeakyReLU, both positive scalings; the census
        // adds the softmax translation of the last layer (hidden + 1 generators).
        Assert.Equal([3, 5], pairs.Select(p => p.Group?.AlgebraDimension ?? 0).ToArray());
        var rescalings = census.Sites.Where(s => s.Kind == SiteKind.Rescaling).Select(s => s.Dimension).Order().ToArray();
        Assert.Equal([3, 5], rescalings);
        Assert.Equal(3 + 5 + (5 + 1), census.Dimension);
        var check = CensusVerification.Verify(graph, census, images, labels, new Random(1));
        Assert.All(check.Sites, s => Assert.True(s.Passed, $"{s.Site.Location}: invariance {s.Invariance}, orthogonality {s.Orthogonality}"));
        Assert.Equal(census.Dimension, check.Orbit.Rank);
    }

    [Fact]
    public void LinearMlp_CensusHasGlOfTheHiddenWidth_AsMatrixGroupSays()
    {
        var rng = new Random(2);
        var model = new Sequential<double>("mlp", new Linear<double>(6, 4, true, rng, "0"), new Noether.Nn.Activation<double>(Activation.Identity, "1"), new Linear<double>(4, 3, true, rng, "2"));
        var graph = SequentialGraph.Of(model, [6]);
        var x = Gaussian.Matrix(new Random(4), 10, 6);
        var labels = Enumerable.Range(0, 10).Select(i => i % 3).ToArray();
        var viaModel = Run(tape => model.Forward(tape, tape.Constant(x)), labels, model.Parameters);
        var viaGraph = Run(tape => graph.Run(tape, [tape.Constant(x)]).Output(tape, 0), labels, model.Parameters);
        Close.Assert(viaModel.Logits.Data, viaGraph.Logits.Data, 1e-13, 1e-15, "logits");

        var census = SymmetryCensus.Take(graph);
        int gl = MatrixGroup.ForActivation(Activation.Identity, 4)!.AlgebraDimension;
        Assert.Equal(16, gl);
        Assert.Contains(census.Sites, s => s.Dimension == gl && s.Generators[0].Kind == GeneratorKind.Linear);
    }

    [Fact]
    public void CustomActivation_RefusedNamingIt()
    {
        var cube = Activation.Elementwise("cube", v => Ops.Multiply(v, Ops.Multiply(v, v)), x => x * x * x, x => 3 * x * x);
        var model = new Sequential<double>("m", new Linear<double>(3, 3, true, new Random(1), "0"), new Noether.Nn.Activation<double>(cube, "1"));
        var e = Assert.ThrowsAny<ArgumentException>(() => SequentialGraph.Of(model, [3]));
        Assert.Contains("cube", e.Message);
    }
}
