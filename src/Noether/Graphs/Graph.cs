using System.Numerics;
using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Graphs;

/// <summary>How BatchNormalization nodes normalise.</summary>
public enum BatchNormMode
{
    /// <summary>As each node says: its <c>training_mode</c> attribute (ONNX opset ≥ 14) picks batch statistics, otherwise the running ones.</summary>
    FromModel,
    /// <summary>Always the stored running mean and variance (PyTorch's <c>eval()</c>).</summary>
    Inference,
    /// <summary>Always the statistics of the batch being run (PyTorch's <c>train()</c>), differentiated through.</summary>
    Training,
}

/// <summary>Options of a graph run.</summary>
public sealed record GraphOptions
{
    /// <summary>BatchNormalization semantics (default: as the model says).</summary>
    public BatchNormMode BatchNorm { get; init; } = BatchNormMode.FromModel;

    /// <summary>
    /// Called by every BatchNormalization node that normalises with batch statistics, with those statistics (a trainer
    /// updates the running ones from them; the graph itself never changes its constants).
    /// </summary>
    public Action<BatchNormStatistics>? OnBatchStatistics { get; init; }
}

/// <summary>The statistics one BatchNormalization node computed from a batch.</summary>
/// <param name="Node">The node (its inputs 3 and 4 name the running mean and variance; its <c>momentum</c> attribute, ONNX's, is 1 − PyTorch's).</param>
/// <param name="Mean">Per-channel mean.</param>
/// <param name="Variance">Per-channel (biased) variance, the one the node normalised with.</param>
/// <param name="Count">Values per channel (N·H·W), for the unbiased correction n/(n−1).</param>
public sealed record BatchNormStatistics(GraphNode Node, double[] Mean, double[] Variance, long Count);

/// <summary>A value flowing through a graph: a runtime variable on the tape, or a tensor known without running (folded).</summary>
public sealed class GraphValue<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A runtime value.</summary>
    public GraphValue(Variable<T> variable) => Variable = variable ?? throw Errors.Null(nameof(variable));

    /// <summary>
    /// A runtime value of rank above <see cref="Tensor{T}.MaxRank"/>, held flat: only layout ops (reshape, transpose,
    /// slice, …), which work on index maps, accept it (e.g. the rank-6 transpose of a patch embedding).
    /// </summary>
    internal GraphValue(Variable<T> flat, int[] logicalShape)
    {
        Variable = flat;
        _logicalShape = logicalShape;
    }

    private readonly int[]? _logicalShape;

    /// <summary>A folded (host) value.</summary>
    public GraphValue(HostTensor host) => Host = host ?? throw Errors.Null(nameof(host));

    /// <summary>The runtime value, or null for a folded one.</summary>
    public Variable<T>? Variable { get; }

    /// <summary>The folded value, or null for a runtime one.</summary>
    public HostTensor? Host { get; }

    /// <summary>The shape.</summary>
    public int[] Shape => _logicalShape ?? Variable?.Value.ShapeArray ?? Host!.Shape;

    /// <summary>The element type.</summary>
    public ElementType Type => Variable is not null ? HostTensor.TypeOf<T>() : Host!.Type;

    /// <summary>The values as doubles.</summary>
    public double[] ToDoubles() => Variable?.Value.ToDoubles() ?? Host!.Data;
}

/// <summary>What one run of a graph produced.</summary>
public sealed class GraphRun<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    internal GraphRun(GraphValue<T>[] outputs, IReadOnlyList<GraphNode> folded)
    {
        Outputs = outputs;
        Folded = folded;
    }

    /// <summary>The graph's outputs, in order.</summary>
    public IReadOnlyList<GraphValue<T>> Outputs { get; }

    /// <summary>The nodes evaluated without running (constants and shape computations, folded from constants and input shapes).</summary>
    public IReadOnlyList<GraphNode> Folded { get; }

    /// <summary>Output <paramref name="i"/> as a variable (a folded output becomes a constant of the tape).</summary>
    public Variable<T> Output(Tape<T> tape, int i)
    {
        var v = Outputs[i];
        return v.Variable ?? tape.Constant(v.Host!.ToTensor<T>());
    }
}

/// <summary>
/// A computation graph over named inputs and parameters: nodes (ONNX's op types and attributes, in topological order)
/// executed on the autodiff tape, so every output has exact gradients and Hessian-vector products with respect to
/// the inputs and the parameters. Parameters are <see cref="Parameter{T}"/>s bound to the tape when first used; other
/// initializers (BatchNormalization's running statistics, integer tensors, scalars) are constants. Shape computations
/// (Shape, Gather, Concat, …) whose inputs are constants or input shapes are folded: evaluated on the host while the
/// graph runs, never recorded.
/// </summary>
public sealed class Graph<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<string, Parameter<T>> _parameters;

    /// <summary>Creates a graph. Node inputs must be graph inputs, parameters, constants or outputs of earlier nodes.</summary>
    public Graph(IReadOnlyList<GraphNode> nodes, IReadOnlyList<GraphInput> inputs, IReadOnlyList<string> outputs,
        IReadOnlyList<Parameter<T>> parameters, IReadOnlyDictionary<string, HostTensor> constants, int opset, GraphOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(constants);
        (Nodes, Inputs, Outputs, Parameters, Constants, Opset) = (nodes, inputs, outputs, parameters, constants, opset);
        Options = options ?? new GraphOptions();
        _parameters = parameters.ToDictionary(p => p.Name);
        var known = new HashSet<string>(inputs.Select(i => i.Name).Concat(_parameters.Keys).Concat(constants.Keys)) { "" };
        foreach (var node in nodes)
        {
            if (!GraphOps<T>.Supports(node.OpType, node.Domain))
                throw Errors.GraphUnsupported(node, $"op type '{(node.Domain is "" or "ai.onnx" ? "" : node.Domain + ".")}{node.OpType}' is not supported; supported: {string.Join(", ", SupportedOps)}");
            foreach (var i in node.Inputs)
                if (!known.Contains(i)) throw Errors.GraphInvalid(node, $"input '{i}' is neither a graph input, an initializer nor an earlier node's output");
            foreach (var o in node.Outputs) known.Add(o);
        }
        foreach (var o in outputs)
            if (!known.Contains(o)) throw new GraphException($"graph output '{o}' is produced by no node");
        _reluAfter = ReluFusions(nodes, outputs);
    }

    // Node index → index of the Relu fused into it: a BatchNormalization (one output) or Add whose output is read only
    // by that Relu and is not a graph output. The fused op never materialises the pre-ReLU tensor, which no backward
    // rule needs (the ReLU's own rule needs only its mask): one tensor less per layer in the recorded graph.
    private readonly Dictionary<int, int> _reluAfter;

    private static Dictionary<int, int> ReluFusions(IReadOnlyList<GraphNode> nodes, IReadOnlyList<string> outputs)
    {
        var readers = new Dictionary<string, List<int>>();
        for (int i = 0; i < nodes.Count; i++)
            foreach (var input in nodes[i].Inputs)
                if (input.Length > 0)
                {
                    if (!readers.TryGetValue(input, out var list)) readers[input] = list = [];
                    list.Add(i);
                }
        var graphOutputs = new HashSet<string>(outputs);
        var fusions = new Dictionary<int, int>();
        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            if (node.OpType is not ("BatchNormalization" or "Add") || node.Domain is not ("" or "ai.onnx")) continue;
            if (node.Outputs.Skip(1).Any(o => o.Length > 0) || node.Outputs[0].Length == 0 || graphOutputs.Contains(node.Outputs[0])) continue;
            if (!readers.TryGetValue(node.Outputs[0], out var list) || list.Count != 1) continue;
            var relu = nodes[list[0]];
            if (relu.OpType == "Relu" && relu.Domain is ("" or "ai.onnx") && relu.Inputs.Length == 1 && relu.Outputs.Length == 1) fusions[i] = list[0];
        }
        return fusions;
    }

    /// <summary>The op types a graph may use.</summary>
    public static IReadOnlyList<string> SupportedOps => GraphOps<T>.Names;

    /// <summary>The nodes, in execution (topological) order.</summary>
    public IReadOnlyList<GraphNode> Nodes { get; }

    /// <summary>The runtime inputs, in order.</summary>
    public IReadOnlyList<GraphInput> Inputs { get; }

    /// <summary>The output names, in order.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>The trainable tensors (float initializers), in the model's order.</summary>
    public IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>Initializers that are not parameters: running statistics, integer tensors, scalars.</summary>
    public IReadOnlyDictionary<string, HostTensor> Constants { get; }

    /// <summary>The default-domain opset the nodes follow.</summary>
    public int Opset { get; }

    /// <summary>The run options.</summary>
    public GraphOptions Options { get; }

    /// <summary>The parameter named <paramref name="name"/>, or null.</summary>
    public Parameter<T>? Parameter(string name) => _parameters.GetValueOrDefault(name);

    /// <summary>Runs the graph on float inputs (one per graph input, in order); parameters are bound to the tape.</summary>
    public GraphRun<T> Run(Tape<T> tape, IReadOnlyList<Variable<T>> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return Run(tape, inputs.Select(v => new GraphValue<T>(v)).ToArray());
    }

    /// <summary>Runs the graph on inputs that may be host tensors (integer inputs such as indices or shapes).</summary>
    public GraphRun<T> Run(Tape<T> tape, IReadOnlyList<GraphValue<T>> inputs)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != Inputs.Count)
            throw Errors.Argument(nameof(inputs), $"graph run: {inputs.Count} inputs given, the graph has {Inputs.Count} ({string.Join(", ", Inputs.Select(i => i.Name))})");
        var values = new Dictionary<string, GraphValue<T>>();
        for (int i = 0; i < inputs.Count; i++)
        {
            var declared = Inputs[i];
            var shape = inputs[i].Shape;
            if (declared.Shape.Length != shape.Length)
                throw new GraphException($"input '{declared.Name}' is {Errors.Shape(shape)}, the model expects rank {declared.Shape.Length} ({DescribeShape(declared)})");
            for (int d = 0; d < shape.Length; d++)
                if (declared.Shape[d] is int fixedDim && fixedDim != shape[d])
                    throw new GraphException($"input '{declared.Name}' is {Errors.Shape(shape)}, the model expects {DescribeShape(declared)} (dimension {d} must be {fixedDim})");
            values[declared.Name] = inputs[i];
        }
        foreach (var (name, c) in Constants) values.TryAdd(name, new GraphValue<T>(c));
        var folded = new List<GraphNode>();
        var fusedRelus = new HashSet<int>();
        for (int index = 0; index < Nodes.Count; index++)
        {
            var node = Nodes[index];
            if (fusedRelus.Contains(index)) continue; // computed by the node before it
            bool fuse = _reluAfter.TryGetValue(index, out int reluIndex);
            var args = new GraphValue<T>?[node.Inputs.Length];
            for (int i = 0; i < args.Length; i++)
            {
                var name = node.Inputs[i];
                if (name.Length == 0) continue;
                if (values.TryGetValue(name, out var v)) args[i] = v;
                else if (_parameters.TryGetValue(name, out var p)) values[name] = args[i] = new GraphValue<T>(tape.Bind(p));
                else throw Errors.GraphInvalid(node, $"input '{name}' has no value");
            }
            var context = new NodeContext<T>(node, tape, args, Opset, Options, fuse);
            GraphValue<T>?[] results;
            try
            {
                results = GraphOps<T>.Run(context);
            }
            catch (GraphException) { throw; }
            catch (ArgumentException e)
            {
                throw Errors.GraphInvalid(node, e.Message, e);
            }
            if (results.Length < node.Outputs.Length)
            {
                for (int o = results.Length; o < node.Outputs.Length; o++)
                    if (node.Outputs[o].Length > 0) throw Errors.GraphUnsupported(node, $"output {o} ('{node.Outputs[o]}') is not computed by Noether");
            }
            bool allHost = true;
            for (int o = 0; o < node.Outputs.Length; o++)
            {
                if (node.Outputs[o].Length == 0) continue;
                var r = results[o] ?? throw Errors.GraphUnsupported(node, $"output {o} ('{node.Outputs[o]}') is not computed by Noether");
                if (r.Variable is not null) allHost = false;
                values[node.Outputs[o]] = r;
            }
            if (fuse)
            {
                // The op returned max(0, its output): that is the Relu's output.
                values[Nodes[reluIndex].Outputs[0]] = values[node.Outputs[0]];
                values.Remove(node.Outputs[0]);
                fusedRelus.Add(reluIndex);
            }
            if (allHost) folded.Add(node);
        }
        var outputs = new GraphValue<T>[Outputs.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            if (values.TryGetValue(Outputs[i], out var v)) outputs[i] = v;
            else if (_parameters.TryGetValue(Outputs[i], out var p)) outputs[i] = new GraphValue<T>(tape.Bind(p));
            else throw new GraphException($"graph output '{Outputs[i]}' has no value");
        }
        return new GraphRun<T>(outputs, folded);
    }

    /// <summary>The same graph (sharing its parameter objects and constants) with other run options.</summary>
    public Graph<T> WithOptions(GraphOptions options) => new(Nodes, Inputs, Outputs, Parameters, Constants, Opset, options);

    /// <summary>Evaluates the graph without recording (inference): the outputs' values, folded ones converted to <typeparamref name="T"/>.</summary>
    public Tensor<T>[] Evaluate(params Tensor<T>[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var tape = new Tape<T>();
        using var pause = tape.Pause();
        var run = Run(tape, inputs.Select(t => tape.Constant(t)).ToArray());
        return run.Outputs.Select(o => o.Variable?.Value ?? o.Host!.ToTensor<T>()).ToArray();
    }

    /// <summary>Describes an input's declared shape, dynamic dimensions by name (e.g. "batch×1×28×28").</summary>
    public static string DescribeShape(GraphInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Shape.Length == 0 ? "scalar" : string.Join("×", input.Shape.Select((d, i) => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? input.DimNames[i] ?? "?"));
    }
}
