using Noether.Autodiff;
using Noether.Graphs;
using Noether.Tensors;

namespace Noether.Tests.Graphs;

/// <summary>Every op a graph runs: float64 gradient and Hessian-vector product against central differences.</summary>
public sealed class GraphOpDerivativeTests
{
    private sealed record Case(string Op, int[][] Shapes, Dictionary<string, GraphAttribute> Attributes, HostTensor?[] Constants,
        Func<double, double>? Domain = null, int Outputs = 1, int Opset = 17, (string Name, int[] Shape)[]? Parameters = null);

    private static GraphAttribute I(long v) => new() { Int = v };
    private static GraphAttribute F(double v) => new() { Float = v };
    private static GraphAttribute S(string v) => new() { String = v };
    private static GraphAttribute Is(params long[] v) => new() { Ints = v };
    private static Dictionary<string, GraphAttribute> A(params (string, GraphAttribute)[] a) => a.ToDictionary(x => x.Item1, x => x.Item2);
    private static HostTensor Ints(params long[] v) => HostTensor.Ints(v);
    private static readonly Dictionary<string, GraphAttribute> None = [];
    private static double Positive(double x) => 0.5 + Math.Abs(x);
    private static double AwayFromZero(double x) => Math.Sign(x) * (0.3 + Math.Abs(x));

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["Relu"] = new("Relu", [[3, 4]], None, []),
        ["LeakyRelu"] = new("LeakyRelu", [[3, 4]], A(("alpha", F(0.2))), []),
        ["Sigmoid"] = new("Sigmoid", [[2, 3, 4]], None, []),
        ["Tanh"] = new("Tanh", [[5]], None, []),
        ["Erf"] = new("Erf", [[2, 5]], None, []),
        ["Exp"] = new("Exp", [[2, 5]], None, []),
        ["Log"] = new("Log", [[2, 5]], None, [], Positive),
        ["Sqrt"] = new("Sqrt", [[2, 5]], None, [], Positive),
        ["Neg"] = new("Neg", [[2, 5]], None, []),
        ["Reciprocal"] = new("Reciprocal", [[2, 5]], None, [], AwayFromZero),
        ["Abs"] = new("Abs", [[2, 5]], None, [], AwayFromZero),
        ["Add (broadcast)"] = new("Add", [[2, 3, 4], [3, 1]], None, []),
        ["Sub (broadcast)"] = new("Sub", [[4], [2, 3, 4]], None, []),
        ["Mul (broadcast)"] = new("Mul", [[2, 1, 4], [3, 1]], None, []),
        ["Div (broadcast)"] = new("Div", [[2, 3], [3]], None, [], AwayFromZero),
        ["Pow (tensor exponent)"] = new("Pow", [[2, 3], [3]], None, [], Positive),
        ["Pow (constant exponent)"] = new("Pow", [[2, 3]], None, [null, new HostTensor(ElementType.Float, [], [3.0])]),
        ["Sum"] = new("Sum", [[2, 3], [3], [1, 3]], None, []),
        ["MatMul (batched, broadcast)"] = new("MatMul", [[2, 1, 3, 4], [3, 4, 2]], None, []),
        ["MatMul (matrix)"] = new("MatMul", [[3, 4], [4, 2]], None, []),
        ["MatMul (vector)"] = new("MatMul", [[4], [2, 4, 3]], None, []),
        ["Gemm"] = new("Gemm", [[4, 3], [5, 4], [5]], A(("transA", I(1)), ("transB", I(1)), ("alpha", F(0.7)), ("beta", F(1.3))), []),
        ["Conv (plain)"] = new("Conv", [[2, 3, 6, 5], [4, 3, 3, 2], [4]], A(("pads", Is(1, 1, 1, 1)), ("strides", Is(2, 2))), []),
        ["Conv (groups, dilation, asymmetric pads)"] = new("Conv", [[2, 4, 7, 6], [6, 2, 2, 3], [6]],
            A(("group", I(2)), ("dilations", Is(2, 1)), ("pads", Is(1, 0, 2, 1)), ("strides", Is(1, 2))), []),
        ["Conv (1-D, same padding)"] = new("Conv", [[2, 2, 7], [3, 2, 3]], A(("auto_pad", S("SAME_UPPER")), ("strides", Is(2))), []),
        ["MaxPool"] = new("MaxPool", [[2, 2, 5, 6]], A(("kernel_shape", Is(3, 2)), ("pads", Is(1, 0, 1, 1)), ("strides", Is(2, 2))), []),
        ["MaxPool (ceil mode)"] = new("MaxPool", [[1, 2, 5, 5]], A(("kernel_shape", Is(2, 2)), ("strides", Is(2, 2)), ("ceil_mode", I(1))), []),
        ["AveragePool (excluding pads)"] = new("AveragePool", [[2, 2, 5, 6]], A(("kernel_shape", Is(3, 3)), ("pads", Is(1, 1, 1, 1)), ("strides", Is(2, 2))), []),
        ["AveragePool (including pads)"] = new("AveragePool", [[2, 2, 5, 6]], A(("kernel_shape", Is(2, 3)), ("pads", Is(0, 1, 1, 1)), ("count_include_pad", I(1))), []),
        ["GlobalAveragePool"] = new("GlobalAveragePool", [[2, 3, 4, 5]], None, []),
        ["BatchNormalization (inference)"] = new("BatchNormalization", [[2, 3, 4, 2], [3], [3]], A(("epsilon", F(1e-3))),
            [null, null, null, new HostTensor(ElementType.Float, [3], [0.1, -0.2, 0.3]), new HostTensor(ElementType.Float, [3], [0.5, 1.5, 2.0])]),
        ["BatchNormalization (training)"] = new("BatchNormalization", [[3, 2, 2, 2], [2], [2]], A(("training_mode", I(1))),
            [null, null, null, new HostTensor(ElementType.Float, [2], [0.1, -0.2]), new HostTensor(ElementType.Float, [2], [0.5, 1.5])]),
        ["LayerNormalization"] = new("LayerNormalization", [[2, 3, 4], [3, 4], [3, 4]], A(("axis", I(1))), []),
        ["Softmax"] = new("Softmax", [[2, 3, 4]], A(("axis", I(1))), []),
        ["LogSoftmax"] = new("LogSoftmax", [[3, 5]], None, []),
        ["Softmax (opset 11, coerced to 2-D)"] = new("Softmax", [[2, 3, 4]], A(("axis", I(1))), [], Opset: 11),
        ["ReduceMean"] = new("ReduceMean", [[2, 3, 4]], A(("axes", Is(0, -1)), ("keepdims", I(0))), []),
        ["ReduceSum"] = new("ReduceSum", [[2, 3, 4]], A(("keepdims", I(1))), [null, Ints(1)]),
        ["Reshape"] = new("Reshape", [[2, 3, 4]], None, [null, Ints(0, -1, 2)]),
        ["Flatten"] = new("Flatten", [[2, 3, 4]], A(("axis", I(2))), []),
        ["Transpose"] = new("Transpose", [[2, 3, 4]], A(("perm", Is(2, 0, 1))), []),
        ["Squeeze"] = new("Squeeze", [[2, 1, 4]], None, [null, Ints(1)]),
        ["Unsqueeze"] = new("Unsqueeze", [[2, 4]], None, [null, Ints(0, 3)]),
        ["Concat"] = new("Concat", [[2, 3], [2, 1], [2, 2]], A(("axis", I(1))), []),
        ["Split"] = new("Split", [[5, 2]], A(("axis", I(0))), [null, Ints(2, 3)], Outputs: 2),
        ["Slice (negative step)"] = new("Slice", [[4, 6]], None, [null, Ints(-1, 1), Ints(-5, 100), Ints(1, 0), Ints(-2, 2)]),
        ["Gather"] = new("Gather", [[4, 3]], A(("axis", I(0))), [null, new HostTensor(ElementType.Int64, [2, 2], [3, 0, -1, 3])]),
        ["Expand"] = new("Expand", [[3, 1]], None, [null, Ints(2, 3, 4)]),
        ["Pad (reflect)"] = new("Pad", [[1, 2, 3, 4]], A(("mode", S("reflect"))), [null, Ints(0, 0, 1, 2, 0, 0, 2, 1)]),
        ["Pad (constant)"] = new("Pad", [[2, 3]], None, [null, Ints(1, 0, 0, 2), new HostTensor(ElementType.Float, [], [0.5])]),
        ["Where"] = new("Where", [[2, 3], [3]], None, [], Parameters: null),
        ["Dropout (inference)"] = new("Dropout", [[2, 3]], None, []),
        ["Identity"] = new("Identity", [[2, 3]], None, []),
        ["ReduceSumSquare"] = new("ReduceSumSquare", [[2, 3, 4]], A(("axes", Is(1))), []),
        ["ReduceL1"] = new("ReduceL1", [[2, 3, 4]], A(("axes", Is(2)), ("keepdims", I(0))), []),
        ["ReduceL2"] = new("ReduceL2", [[2, 3, 4]], A(("axes", Is(0, 2))), []),
        ["ReduceLogSum"] = new("ReduceLogSum", [[2, 3, 4]], A(("axes", Is(1))), [], Positive),
        ["ReduceLogSumExp"] = new("ReduceLogSumExp", [[2, 3, 4]], A(("axes", Is(-1))), []),
        ["ReduceMax"] = new("ReduceMax", [[2, 3, 4]], A(("axes", Is(1)), ("keepdims", I(0))), []),
        ["ReduceMin"] = new("ReduceMin", [[2, 3, 4]], None, []),
        ["Max (broadcast)"] = new("Max", [[2, 3], [3], [2, 1]], None, []),
        ["Min"] = new("Min", [[2, 3], [2, 3]], None, []),
        ["Clip"] = new("Clip", [[3, 4]], None, [null, new HostTensor(ElementType.Float, [], [-0.4]), new HostTensor(ElementType.Float, [], [0.5])]),
        ["Softplus"] = new("Softplus", [[3, 4]], None, []),
        ["Softsign"] = new("Softsign", [[3, 4]], None, []),
        ["Elu"] = new("Elu", [[3, 4]], A(("alpha", F(0.7))), []),
        ["Selu"] = new("Selu", [[3, 4]], None, []),
        ["HardSigmoid"] = new("HardSigmoid", [[3, 4]], A(("alpha", F(0.9))), []),
        ["PRelu"] = new("PRelu", [[2, 3, 4], [3, 1]], None, []),
        ["Sin"] = new("Sin", [[3, 4]], None, []),
        ["Cos"] = new("Cos", [[3, 4]], None, []),
        ["Tan"] = new("Tan", [[3, 4]], None, []),
        ["Asin"] = new("Asin", [[3, 4]], None, [], x => 0.8 * x),
        ["Acos"] = new("Acos", [[3, 4]], None, [], x => 0.8 * x),
        ["Atan"] = new("Atan", [[3, 4]], None, []),
        ["Sinh"] = new("Sinh", [[3, 4]], None, []),
        ["Cosh"] = new("Cosh", [[3, 4]], None, []),
        ["Asinh"] = new("Asinh", [[3, 4]], None, []),
        ["Acosh"] = new("Acosh", [[3, 4]], None, [], x => 1.5 + Math.Abs(x)),
        ["Atanh"] = new("Atanh", [[3, 4]], None, [], x => 0.8 * x),
        ["HardSwish"] = new("HardSwish", [[3, 4]], None, [], x => 4 * x),
        ["NegativeLogLikelihoodLoss (weights, ignore_index)"] = new("NegativeLogLikelihoodLoss", [[3, 4, 2], [4]], A(("ignore_index", I(1))),
            [null, new HostTensor(ElementType.Int64, [3, 2], [0, 1, 3, 2, 2, 0]), null]),
        ["NegativeLogLikelihoodLoss (sum)"] = new("NegativeLogLikelihoodLoss", [[3, 4]], A(("reduction", S("sum"))), [null, Ints(3, 0, 2)]),
        ["SoftmaxCrossEntropyLoss (and log_prob)"] = new("SoftmaxCrossEntropyLoss", [[3, 5]], None, [null, Ints(4, 0, 2)], Outputs: 2),
        ["Trilu (lower, k = 1)"] = new("Trilu", [[2, 3, 4]], A(("upper", I(0))), [null, Ints(1)]),
        ["GatherElements"] = new("GatherElements", [[3, 4]], A(("axis", I(1))), [null, new HostTensor(ElementType.Int64, [3, 2], [0, 3, -1, 1, 2, 2])]),
        ["TopK (values)"] = new("TopK", [[3, 5]], A(("axis", I(1))), [null, Ints(2)]),
        ["ThresholdedRelu"] = new("ThresholdedRelu", [[3, 4]], A(("alpha", F(0.3))), []),
        ["GlobalMaxPool"] = new("GlobalMaxPool", [[2, 3, 4, 5]], None, []),
        ["ConvTranspose (groups, strides, dilation, pads, output padding)"] = new("ConvTranspose", [[2, 4, 3, 4], [4, 3, 3, 2], [6]],
            A(("group", I(2)), ("strides", Is(2, 1)), ("pads", Is(1, 0, 0, 1)), ("output_padding", Is(1, 0)), ("dilations", Is(1, 2))), []),
        ["ConvTranspose (1-D, same)"] = new("ConvTranspose", [[1, 2, 5], [2, 3, 3]], A(("strides", Is(2)), ("auto_pad", S("SAME_UPPER"))), []),
        ["ConvTranspose (output_shape beyond the full size)"] = new("ConvTranspose", [[1, 1, 3, 3], [1, 2, 3, 3]], A(("strides", Is(3, 2)), ("output_shape", Is(10, 8))), []),
        ["InstanceNormalization"] = new("InstanceNormalization", [[2, 3, 4, 5], [3], [3]], None, []),
        ["Tile"] = new("Tile", [[2, 3]], None, [null, Ints(2, 3)]),
        ["DepthToSpace (CRD)"] = new("DepthToSpace", [[1, 8, 2, 3]], A(("blocksize", I(2)), ("mode", S("CRD"))), []),
        ["SpaceToDepth"] = new("SpaceToDepth", [[1, 2, 4, 6]], A(("blocksize", I(2))), []),
    };

    public static TheoryData<string> Names() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Gradient_and_hessian_vector_product_match_central_differences(string name)
    {
        var c = Cases[name];
        var rng = new Random(1234 + name.Length);
        var inputs = c.Shapes.Select(s =>
        {
            var t = GraphDerivativeCheck.Random(rng, s);
            if (c.Domain is { } d) for (int i = 0; i < t.Length; i++) t.Data[i] = d(t.Data[i]);
            return t;
        }).ToArray();
        var graph = Build(c);
        GraphDerivativeCheck.Check(graph, inputs, seed: 99);
    }

    private static Graph<double> Build(Case c)
    {
        var graphInputs = c.Shapes.Select((s, i) => new GraphInput($"x{i}", ElementType.Double, s.Select(d => (int?)d).ToArray(), new string?[s.Length])).ToList();
        var constants = new Dictionary<string, HostTensor>();
        var nodeInputs = new List<string>();
        int floatIndex = 0;
        int slots = Math.Max(c.Shapes.Length, c.Constants.Length);
        for (int i = 0; i < slots; i++)
        {
            if (i < c.Constants.Length && c.Constants[i] is { } h)
            {
                constants[$"c{i}"] = h;
                nodeInputs.Add($"c{i}");
            }
            else nodeInputs.Add($"x{floatIndex++}");
        }
        if (c.Op == "Where")
        {
            // Where(condition constant, x0, x1).
            constants["cond"] = new HostTensor(ElementType.Bool, [2, 1], [1, 0]);
            nodeInputs = ["cond", "x0", "x1"];
        }
        var outputs = Enumerable.Range(0, c.Outputs).Select(o => $"y{o}").ToArray();
        var node = new GraphNode("n", c.Op, [.. nodeInputs], outputs, c.Attributes);
        return new Graph<double>([node], graphInputs, outputs, [], constants, c.Opset);
    }

    [Fact]
    public void Parameters_are_differentiated_like_inputs()
    {
        // A two-layer net written as a graph: Gemm → Relu → Gemm, weights as parameters.
        var rng = new Random(5);
        var parameters = new[]
        {
            new Parameter<double>("fc1.weight", GraphDerivativeCheck.Random(rng, 4, 3)),
            new Parameter<double>("fc1.bias", GraphDerivativeCheck.Random(rng, 4)),
            new Parameter<double>("fc2.weight", GraphDerivativeCheck.Random(rng, 2, 4)),
            new Parameter<double>("fc2.bias", GraphDerivativeCheck.Random(rng, 2)),
        };
        var nodes = new[]
        {
            new GraphNode("fc1", "Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], A(("transB", I(1)))),
            new GraphNode("act", "Tanh", ["h"], ["a"]),
            new GraphNode("fc2", "Gemm", ["a", "fc2.weight", "fc2.bias"], ["y"], A(("transB", I(1)))),
        };
        var graph = new Graph<double>(nodes, [new GraphInput("x", ElementType.Double, [null, 3], ["batch", null])], ["y"], parameters, new Dictionary<string, HostTensor>(), 17);
        GraphDerivativeCheck.Check(graph, [GraphDerivativeCheck.Random(rng, 5, 3)], seed: 7);
    }
}
