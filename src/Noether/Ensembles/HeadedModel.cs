using Noether.Autodiff;
using Noether.Graphs;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Ensembles;

/// <summary>
/// A classifier seen as features followed by a two-layer head, the part the ensembles transform: x ↦ f(x) [B, n] (rows
/// are samples), then H = f Vᵀ + b (the hidden pre-activation, [B, h]) and logits σ(H) Uᵀ + c. V̂ = [V | b] and U are the
/// layer pair of <see cref="Symmetry.LayerPair.Linear"/> (SPEC convention). Made from the SPEC CNN (<see cref="Of(SpecCnn{T})"/>:
/// f = flatten(max-pool(conv(x)))) or from an imported graph whose last two fully connected layers have one elementwise
/// activation between them (<see cref="Of(Graph{T}, int[])"/>: f = the value the graph feeds the first of them).
/// Weights are copied when the model is made; the features' own weights are held as the network's (read, not moved).
/// </summary>
public sealed class HeadedModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Func<Tape<T>, Variable<T>, Variable<T>> _features;

    private HeadedModel(string description, int[] sampleShape, Func<Tape<T>, Variable<T>, Variable<T>> features, Tensor<T> hiddenWeight,
        Tensor<T>? hiddenBias, Activation<T> activation, Tensor<T> outputWeight, Tensor<T>? outputBias, SpecCnn<T>? network)
    {
        (Description, SampleShape, _features, HiddenWeight, HiddenBias, Activation, OutputWeight, OutputBias, Network) =
            (description, sampleShape, features, hiddenWeight, hiddenBias, activation, outputWeight, outputBias, network);
        if (hiddenWeight.Rank != 2 || outputWeight.Rank != 2 || outputWeight.Dim(1) != hiddenWeight.Dim(0))
            throw Errors.Argument(nameof(outputWeight), $"{description}: the head's weights V {Errors.Shape(hiddenWeight.Shape)} and U {Errors.Shape(outputWeight.Shape)} do not chain (U must be classes × h with V h × n)");
    }

    /// <summary>The SPEC CNN: features flatten(max-pool(conv(x))), V/b its hidden layer, σ its LeakyReLU, U/c its output layer.</summary>
    public static HeadedModel<T> Of(SpecCnn<T> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var convWeight = model.Conv.Weight.Value.Clone();
        var convBias = model.Conv.Bias?.Value.Clone();
        int stride = model.Conv.Stride, padding = model.Conv.Padding;
        var pool = (MaxPool2d<T>)model.Layers[1];
        int poolKernel = pool.KernelSize, poolStride = pool.Stride;
        Variable<T> Features(Tape<T> tape, Variable<T> inputs) => Ops.Flatten(Ops.Conv2dMaxPool2d(inputs, tape.Constant(convWeight),
            convBias is null ? null : tape.Constant(convBias), stride, padding, poolKernel, poolStride));
        return new HeadedModel<T>("SPEC CNN", [model.InChannels, model.ImageSize, model.ImageSize], Features, model.Hidden.Weight.Value.Clone(),
            model.Hidden.Bias?.Value.Clone(), model.Activation, model.Output.Weight.Value.Clone(), model.Output.Bias?.Value.Clone(), model);
    }

    /// <summary>
    /// An imported classifier (one input, output 0 the logits) whose graph ends with two fully connected layers — Gemm, or
    /// MatMul (+ Add of a bias) — with one elementwise activation between them (Relu, LeakyRelu, Sigmoid or Tanh), followed
    /// by nothing but Identity or Dropout (inference). Inference-mode Dropout and Identity may also sit between the activation
    /// and the second layer. The features are the value feeding the first layer, computed by the graph's nodes that lead to it.
    /// </summary>
    /// <param name="graph">The graph (run with its own options; BatchNorm in inference mode for a trained model).</param>
    /// <param name="sampleShape">The shape of one input sample (the data's, e.g. [1, 28, 28]).</param>
    /// <exception cref="ArgumentException">No such head (the message says what was looked for and what the graph ends with),
    /// or the graph's input does not take samples of <paramref name="sampleShape"/>.</exception>
    public static HeadedModel<T> Of(Graph<T> graph, int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(sampleShape);
        if (graph.Inputs.Count != 1)
            throw Errors.Argument(nameof(graph), $"the model has {graph.Inputs.Count} inputs; an ensemble feeds one (the images)");
        var input = graph.Inputs[0];
        if (input.Shape.Length != sampleShape.Length + 1 || sampleShape.Where((d, i) => input.Shape[i + 1] is int fixedDim && fixedDim != d).Any())
            throw Errors.Argument(nameof(sampleShape), $"the model's input '{input.Name}' is {Graph<T>.DescribeShape(input)}, the data's samples are {string.Join("×", sampleShape)} (a batch B×{string.Join("×", sampleShape)})");
        var head = GraphHead.Find(graph);
        var prefix = Prefix(graph, head.Features);
        Variable<T> Features(Tape<T> tape, Variable<T> inputs) => prefix.Run(tape, [inputs]).Outputs[0].Variable
            ?? throw new GraphException($"the features '{head.Features}' were folded to a constant; they must depend on the input");
        // One sample through the features: they must be a matrix [1, n] with n the first layer's inputs.
        var probe = new Tape<T>();
        Tensor<T> f;
        using (probe.Pause()) f = Features(probe, probe.Constant(Tensor<T>.Zeros([1, .. sampleShape]))).Value;
        var v = head.First.Weight(graph);
        if (f.Rank != 2 || f.Dim(1) != v.Dim(1))
            throw Errors.Argument(nameof(graph), $"the first head layer {head.First.Node} reads '{head.Features}' of shape {Errors.Shape(f.Shape)} for one sample; the ensembles need features [1, {v.Dim(1)}]");
        return new HeadedModel<T>($"graph head {head.First.Node} → {head.ActivationNode} → {head.Second.Node}", [.. sampleShape], Features, v,
            head.First.Bias(graph), new Activation<T>(head.Activation), head.Second.Weight(graph), head.Second.Bias(graph), null);
    }

    /// <summary>The nodes leading to <paramref name="value"/> as a graph with that one output (the same parameters and options).</summary>
    private static Graph<T> Prefix(Graph<T> graph, string value)
    {
        var needed = new HashSet<string> { value };
        var kept = new List<GraphNode>();
        for (int i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            var node = graph.Nodes[i];
            if (!node.Outputs.Any(needed.Contains)) continue;
            kept.Add(node);
            foreach (var input in node.Inputs) if (input.Length > 0) needed.Add(input);
        }
        kept.Reverse();
        return new Graph<T>(kept, graph.Inputs, [value], graph.Parameters, graph.Constants, graph.Opset, graph.Options);
    }

    /// <summary>What the model is ("SPEC CNN", or the graph's head nodes).</summary>
    public string Description { get; }

    /// <summary>The shape of one input sample.</summary>
    public int[] SampleShape { get; }

    /// <summary>V (h × n).</summary>
    public Tensor<T> HiddenWeight { get; }

    /// <summary>b (h), or null.</summary>
    public Tensor<T>? HiddenBias { get; }

    /// <summary>σ between the two layers.</summary>
    public Activation<T> Activation { get; }

    /// <summary>U (classes × h).</summary>
    public Tensor<T> OutputWeight { get; }

    /// <summary>c (classes), or null.</summary>
    public Tensor<T>? OutputBias { get; }

    /// <summary>The SPEC CNN the model was made from, or null for a graph.</summary>
    public SpecCnn<T>? Network { get; }

    /// <summary>Hidden width h.</summary>
    public int Hidden => HiddenWeight.Dim(0);

    /// <summary>Number of classes.</summary>
    public int Classes => OutputWeight.Dim(0);

    /// <summary>The features f(x) [B, n] of a batch [B, …], recorded on <paramref name="tape"/>.</summary>
    public Variable<T> Features(Tape<T> tape, Variable<T> inputs)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(inputs);
        return _features(tape, inputs);
    }

    /// <summary>Throws unless <paramref name="inputs"/> is [B, …sample shape] with B ≥ 1.</summary>
    public void CheckInputs(Tensor<T> inputs, string name)
    {
        ArgumentNullException.ThrowIfNull(inputs, name);
        if (inputs.Rank != SampleShape.Length + 1 || inputs.Dim(0) < 1 || !inputs.ShapeArray.AsSpan(1).SequenceEqual(SampleShape))
            throw Errors.BadShape("ensemble", name, inputs.Shape, SampleShape.Length == 3
                ? $"a batch of images [B, {SampleShape[0]}, {SampleShape[1]}, {SampleShape[2]}] (B ≥ 1) as the model expects"
                : $"a batch [B, {string.Join(", ", SampleShape)}] (B ≥ 1) as the model expects");
    }

    /// <inheritdoc/>
    public override string ToString() => Description;
}
