using Noether.Autodiff;
using Noether.Graphs;
using Noether.Tensors;

namespace Noether.Tests.Symmetry.Census;

/// <summary>Small hand-built graphs with a known symmetry structure, seeded, for the census tests.</summary>
internal static class SmallGraphs
{
    private static readonly Dictionary<string, GraphAttribute> TransB = new() { ["transB"] = new() { Int = 1 } };

    private static Parameter<double> P(Random rng, string name, params int[] shape) => new(name, Graphs.GraphDerivativeCheck.Random(rng, shape));

    private static Graph<double> Make(GraphNode[] nodes, int?[] input, Parameter<double>[] parameters) =>
        new(nodes, [new GraphInput("x", ElementType.Double, input, input.Select(_ => (string?)null).ToArray())], [nodes[^1].Outputs[0]],
            parameters, new Dictionary<string, HostTensor>(), 17);

    /// <summary>x (6) → Gemm 6→5 → Gemm 5→4 → ReLU → Gemm 4→3: GL(5) between the first two maps (nothing nonlinear between),
    /// 4 rescalings across the ReLU, the softmax translation 4 + 1 = 5. Census 25 + 4 + 5 = 34.</summary>
    public static Graph<double> LinearPair(int seed = 1)
    {
        var rng = new Random(seed);
        return Make(
        [
            new GraphNode("fc1", "Gemm", ["x", "w1", "b1"], ["h1"], TransB),
            new GraphNode("fc2", "Gemm", ["h1", "w2", "b2"], ["h2"], TransB),
            new GraphNode("act", "Relu", ["h2"], ["a2"]),
            new GraphNode("fc3", "Gemm", ["a2", "w3", "b3"], ["z"], TransB),
        ], [null, 6], [P(rng, "w1", 5, 6), P(rng, "b1", 5), P(rng, "w2", 4, 5), P(rng, "b2", 4), P(rng, "w3", 3, 4), P(rng, "b3", 3)]);
    }

    /// <summary>x [N, 2, 5, 5] → Conv 1×1 2→3 → Conv 3×3 3→4 (pad 1) → ReLU → GlobalAveragePool → Flatten → Gemm 4→3: GL(3)
    /// between the convs, 4 rescalings across ReLU and pooling, the softmax translation 4 + 1. Census 9 + 4 + 5 = 18.</summary>
    public static Graph<double> ConvPair(int seed = 2)
    {
        var rng = new Random(seed);
        var pad = new Dictionary<string, GraphAttribute> { ["pads"] = new() { Ints = [1, 1, 1, 1] } };
        return Make(
        [
            new GraphNode("conv1", "Conv", ["x", "c1", "cb1"], ["h1"]),
            new GraphNode("conv2", "Conv", ["h1", "c2", "cb2"], ["h2"], pad),
            new GraphNode("act", "Relu", ["h2"], ["a2"]),
            new GraphNode("pool", "GlobalAveragePool", ["a2"], ["p"]),
            new GraphNode("flat", "Flatten", ["p"], ["f"]),
            new GraphNode("fc", "Gemm", ["f", "w", "b"], ["z"], TransB),
        ], [null, 2, 5, 5], [P(rng, "c1", 3, 2, 1, 1), P(rng, "cb1", 3), P(rng, "c2", 4, 3, 3, 3), P(rng, "cb2", 4), P(rng, "w", 3, 4), P(rng, "b", 3)]);
    }

    /// <summary>x (6) → Gemm 6→5 → LayerNormalization (γ, β, ε) → Tanh → Gemm 5→3: the first Gemm's weight and bias are
    /// scale invariant up to ε (one approximate generator); the softmax translation 5 + 1.</summary>
    public static Graph<double> LayerNormed(double epsilon, int seed = 3)
    {
        var rng = new Random(seed);
        return Make(
        [
            new GraphNode("fc1", "Gemm", ["x", "w1", "b1"], ["h"], TransB),
            new GraphNode("ln", "LayerNormalization", ["h", "g", "beta"], ["n"], new Dictionary<string, GraphAttribute> { ["epsilon"] = new() { Float = epsilon } }),
            new GraphNode("act", "Tanh", ["n"], ["a"]),
            new GraphNode("fc2", "Gemm", ["a", "w2", "b2"], ["z"], TransB),
        ], [null, 6], [P(rng, "w1", 5, 6), P(rng, "b1", 5), P(rng, "g", 5), P(rng, "beta", 5), P(rng, "w2", 3, 5), P(rng, "b2", 3)]);
    }

    /// <summary>A seeded N(0, 1) batch of <paramref name="n"/> inputs of the graph's input shape, with random labels below <paramref name="classes"/>.</summary>
    public static (Tensor<double> X, int[] Labels) Batch(Graph<double> graph, int n, int classes, int seed)
    {
        var rng = new Random(seed);
        var shape = graph.Inputs[0].Shape.Select((d, i) => i == 0 ? n : d!.Value).ToArray();
        var x = Tensor<double>.Zeros(shape);
        Gaussian.Fill(rng, x.Data);
        return (x, Enumerable.Range(0, n).Select(_ => rng.Next(classes)).ToArray());
    }
}
