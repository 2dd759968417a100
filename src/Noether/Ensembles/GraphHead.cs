using Noether.Graphs;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Ensembles;

/// <summary>
/// Finds the ensemble head of an imported graph (<see cref="HeadedModel{T}.Of(Graph{T}, int[])"/>): walking back from output 0
/// past Identity/Dropout, a fully connected layer, an elementwise activation read by nothing else, and a fully connected layer
/// whose output is read only by that activation.
/// </summary>
internal static class GraphHead
{
    /// <summary>What a refusal says was looked for.</summary>
    internal const string LookedFor = "the last two fully connected layers (Gemm, or MatMul + Add) with one elementwise activation (Relu, LeakyRelu, Sigmoid or Tanh) between them, followed by nothing but Identity/Dropout";

    /// <summary>A fully connected layer y = x Vᵀ + b: its node, input value, and where V and b are.</summary>
    /// <param name="Node">The Gemm or MatMul node.</param>
    /// <param name="Input">The value x it reads.</param>
    /// <param name="WeightName">The parameter holding V (h × n) or Vᵀ.</param>
    /// <param name="Transposed">True when the parameter holds Vᵀ (n × h).</param>
    /// <param name="BiasName">The bias parameter, or null.</param>
    /// <param name="Output">The value holding y.</param>
    internal sealed record Layer(string Node, string Input, string WeightName, bool Transposed, string? BiasName, string Output)
    {
        public Tensor<T> Weight<T>(Graph<T> graph) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var w = graph.Parameter(WeightName)!.Value;
            return Transposed ? TensorOps.Transpose(w) : w.Clone();
        }

        public Tensor<T>? Bias<T>(Graph<T> graph) where T : unmanaged, IFloatingPointIeee754<T> =>
            BiasName is null ? null : graph.Parameter(BiasName)!.Value.Reshape(graph.Parameter(BiasName)!.Length);
    }

    /// <summary>The head: features → <paramref name="First"/> → σ → <paramref name="Second"/>.</summary>
    internal sealed record Found(string Features, Layer First, string ActivationNode, Activation Activation, Layer Second);

    /// <summary>The head of <paramref name="graph"/>, or an <see cref="ArgumentException"/> saying what was looked for and what the graph ends with.</summary>
    public static Found Find<T>(Graph<T> graph) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var producer = new Dictionary<string, GraphNode>();
        var readers = new Dictionary<string, int>();
        foreach (var node in graph.Nodes)
        {
            foreach (var o in node.Outputs) if (o.Length > 0) producer[o] = node;
            foreach (var i in node.Inputs) if (i.Length > 0) readers[i] = readers.GetValueOrDefault(i) + 1;
        }
        foreach (var o in graph.Outputs) readers[o] = readers.GetValueOrDefault(o) + 1;
        bool Single(string value) => readers.GetValueOrDefault(value) == 1;
        GraphNode? Skip(string value)
        {
            var node = producer.GetValueOrDefault(value);
            while (node is { OpType: "Identity" or "Dropout" } && Single(node.Inputs[0])) node = producer.GetValueOrDefault(node.Inputs[0]);
            return node;
        }

        var second = Skip(graph.Outputs[0]) is { } last ? Linear(graph, last, producer, Single) : null;
        var act = second is not null && Single(second.Input) ? Skip(second.Input) : null;
        var sigma = act is not null ? ActivationOf(act) : null;
        var first = sigma is not null && Single(act!.Inputs[0]) && producer.GetValueOrDefault(act.Inputs[0]) is { } n ? Linear(graph, n, producer, Single) : null;
        if (second is null || sigma is null || first is null)
            throw Errors.Argument(nameof(graph), $"no ensemble head: looked for {LookedFor}; the graph ends with {Ending(graph, producer)}");
        var v = graph.Parameter(first.WeightName)!.Value;
        var u = graph.Parameter(second.WeightName)!.Value;
        int h = first.Transposed ? v.Dim(1) : v.Dim(0), hu = second.Transposed ? u.Dim(0) : u.Dim(1);
        if (h != hu)
            throw Errors.Argument(nameof(graph), $"no ensemble head: {first.Node} has {h} outputs but {second.Node} reads {hu}");
        return new Found(first.Input, first, act!.Name, sigma, second);
    }

    /// <summary>A Gemm (alpha = beta = 1, no transA, weight and bias parameters) or a MatMul by a parameter, with an Add of a
    /// bias parameter when it is the node given; null otherwise.</summary>
    private static Layer? Linear<T>(Graph<T> graph, GraphNode node, Dictionary<string, GraphNode> producer, Func<string, bool> single)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool IsMatrix(string name) => graph.Parameter(name) is { Value.Rank: 2 };
        bool IsVector(string name, int length) => graph.Parameter(name) is { } p && p.Length == length && (p.Value.Rank == 1 || (p.Value.Rank == 2 && p.Value.Dim(0) == 1));
        switch (node.OpType)
        {
            case "Gemm":
                if (Float(node, "alpha") != 1 || Float(node, "beta") != 1 || Int(node, "transA") != 0 || node.Inputs.Length < 2 || !IsMatrix(node.Inputs[1])) return null;
                bool transB = Int(node, "transB") != 0;
                var w = graph.Parameter(node.Inputs[1])!.Value;
                int h = transB ? w.Dim(0) : w.Dim(1);
                string? bias = node.Inputs.Length > 2 && node.Inputs[2].Length > 0 ? node.Inputs[2] : null;
                if (bias is not null && !IsVector(bias, h)) return null;
                return new Layer(node.Name, node.Inputs[0], node.Inputs[1], !transB, bias, node.Outputs[0]);
            case "MatMul":
                return node.Inputs.Length == 2 && IsMatrix(node.Inputs[1]) ? new Layer(node.Name, node.Inputs[0], node.Inputs[1], true, null, node.Outputs[0]) : null;
            case "Add":
                for (int side = 0; side < 2; side++)
                {
                    if (producer.GetValueOrDefault(node.Inputs[side]) is not { OpType: "MatMul" } mm || !single(node.Inputs[side])) continue;
                    if (Linear(graph, mm, producer, single) is not { } layer) continue;
                    int width = graph.Parameter(layer.WeightName)!.Value.Dim(1);
                    if (IsVector(node.Inputs[1 - side], width)) return layer with { BiasName = node.Inputs[1 - side], Output = node.Outputs[0] };
                }
                return null;
            default:
                return null;
        }
    }

    private static Activation? ActivationOf(GraphNode node) => node.OpType switch
    {
        "Relu" => Activation.Relu,
        "LeakyRelu" => Activation.LeakyRelu(Float(node, "alpha", 0.01)),
        "Sigmoid" => Activation.Sigmoid,
        "Tanh" => Activation.Tanh,
        _ => null,
    };

    private static double Float(GraphNode node, string name, double fallback = 1) =>
        node.Attributes.TryGetValue(name, out var a) ? a.Float ?? a.Int ?? fallback : fallback;

    private static long Int(GraphNode node, string name) => node.Attributes.TryGetValue(name, out var a) ? a.Int ?? 0 : 0;

    /// <summary>The last nodes on the path from output 0 back along first inputs, e.g. "GlobalAveragePool → Flatten → Gemm".</summary>
    private static string Ending<T>(Graph<T> graph, Dictionary<string, GraphNode> producer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ops = new List<string>();
        var node = producer.GetValueOrDefault(graph.Outputs[0]);
        while (node is not null && ops.Count < 4)
        {
            ops.Add(node.OpType);
            node = node.Inputs.Length > 0 ? producer.GetValueOrDefault(node.Inputs[0]) : null;
        }
        if (ops.Count == 0) return "no node (output 0 is an input or an initializer)";
        ops.Reverse();
        return (node is null ? "" : "… → ") + string.Join(" → ", ops) + $" (output '{graph.Outputs[0]}')";
    }
}
