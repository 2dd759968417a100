using System.Numerics;
using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Graphs;

/// <summary>
/// The op set a <see cref="Graph{T}"/> runs, with ONNX's semantics (opsets 7–17). Runtime values go through
/// <see cref="Ops"/>, so every op has exact first and second derivatives; host values (constants, shapes) are folded.
/// Attribute values an implementation does not honour are refused by name, never ignored.
/// </summary>
internal static partial class GraphOps<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private delegate GraphValue<T>?[] OpImpl(NodeContext<T> c);

    private static readonly Dictionary<string, OpImpl> Table = new()
    {
        // elementwise
        ["Relu"] = c => [c.Out(ChannelOps<T>.Relu(c.Var(0)))],
        ["LeakyRelu"] = c => [c.Out(Ops.LeakyRelu(c.Var(0), T.CreateTruncating(c.Float("alpha", 0.01))))],
        ["Sigmoid"] = c => [c.Out(Ops.Sigmoid(c.Var(0)))],
        ["Tanh"] = c => [c.Out(Ops.Tanh(c.Var(0)))],
        ["Erf"] = c => [c.Out(Ops.Erf(c.Var(0)))],
        ["Exp"] = c => [c.Out(Ops.Exp(c.Var(0)))],
        ["Log"] = c => [c.Out(Ops.Log(c.Var(0)))],
        ["Sqrt"] = c => Unary(c, Math.Sqrt, v => Ops.Sqrt(v)),
        ["Neg"] = c => Unary(c, x => -x, v => Ops.Scale(v, -T.One)),
        ["Reciprocal"] = c => [c.Out(Ops.Reciprocal(c.Var(0)))],
        ["Abs"] = c => Unary(c, Math.Abs, Abs),
        ["Identity"] = c => [c.Input(0)],
        ["Add"] = c => c.FuseRelu ? AddRelu(c) : Binary(c, (a, b) => a + b, Ops.Add),
        ["Sub"] = c => Binary(c, (a, b) => a - b, Ops.Subtract),
        ["Mul"] = c => Binary(c, (a, b) => a * b, Ops.Multiply),
        ["Div"] = c => Binary(c, (a, b) => a / b, Ops.Divide, integerDivision: true),
        ["Pow"] = Pow,
        ["Sum"] = c => Variadic(c, Ops.Add, 1.0),
        ["Mean"] = c => Variadic(c, Ops.Add, 1.0 / c.Node.Inputs.Count(i => i.Length > 0)),
        // linear algebra and convolution
        ["MatMul"] = MatMul,
        ["Gemm"] = Gemm,
        ["Conv"] = Conv,
        ["MaxPool"] = c => Pool(c, max: true),
        ["AveragePool"] = c => Pool(c, max: false),
        ["GlobalAveragePool"] = GlobalAveragePool,
        ["GlobalMaxPool"] = GlobalMaxPool,
        ["ConvTranspose"] = ConvTranspose,
        ["InstanceNormalization"] = InstanceNormalization,
        ["Tile"] = Tile,
        ["Trilu"] = Trilu,
        ["GatherElements"] = GatherElements,
        ["TopK"] = TopK,
        ["ThresholdedRelu"] = c => [c.Out(ThresholdedRelu(c.Var(0), c.Float("alpha", 1.0)))],
        ["DepthToSpace"] = DepthToSpace,
        ["SpaceToDepth"] = SpaceToDepth,
        // normalisation
        ["BatchNormalization"] = BatchNormalization,
        ["LayerNormalization"] = LayerNormalization,
        ["Softmax"] = c => Softmax(c, log: false),
        ["LogSoftmax"] = c => Softmax(c, log: true),
        ["Dropout"] = Dropout,
        ["NegativeLogLikelihoodLoss"] = NegativeLogLikelihood,
        ["SoftmaxCrossEntropyLoss"] = SoftmaxCrossEntropy,
        // reductions
        ["ReduceSum"] = c => Reduce(c, mean: false),
        ["ReduceMean"] = c => Reduce(c, mean: true),
        ["ReduceSumSquare"] = c => Reduce(c, mean: false, before: v => Ops.Multiply(v, v)),
        ["ReduceL1"] = c => Reduce(c, mean: false, before: Abs),
        ["ReduceL2"] = c => Reduce(c, mean: false, before: v => Ops.Multiply(v, v), after: v => Ops.Sqrt(v)),
        ["ReduceLogSum"] = c => Reduce(c, mean: false, after: v => Ops.Log(v)),
        ["ReduceLogSumExp"] = ReduceLogSumExp,
        ["ReduceMax"] = c => ReduceExtreme(c, max: true),
        ["ReduceMin"] = c => ReduceExtreme(c, max: false),
        ["Max"] = c => Extreme(c, max: true),
        ["Min"] = c => Extreme(c, max: false),
        ["Clip"] = Clip,
        ["Softplus"] = c => [c.Out(Softplus(c.Var(0)))],
        ["Softsign"] = c => [c.Out(Ops.Divide(c.Var(0), Ops.AddScalar(Abs(c.Var(0)), T.One)))],
        ["Elu"] = c => [c.Out(Elu(c.Var(0), c.Float("alpha", 1.0), 1.0))],
        ["Selu"] = c => [c.Out(Elu(c.Var(0), c.Float("alpha", 1.67326319217681884765625), c.Float("gamma", 1.05070102214813232421875)))],
        ["HardSigmoid"] = c => [c.Out(Clamp(Ops.AddScalar(Ops.Scale(c.Var(0), T.CreateTruncating(c.Float("alpha", 0.2))), T.CreateTruncating(c.Float("beta", 0.5))), 0, 1))],
        ["PRelu"] = PRelu,
        // layout
        ["Reshape"] = Reshape,
        ["Flatten"] = Flatten,
        ["Transpose"] = Transpose,
        ["Squeeze"] = Squeeze,
        ["Unsqueeze"] = Unsqueeze,
        ["Concat"] = Concat,
        ["Split"] = Split,
        ["Slice"] = Slice,
        ["Gather"] = Gather,
        ["Expand"] = Expand,
        ["Pad"] = Pad,
        // folded (host) computations
        ["Shape"] = Shape,
        ["Size"] = c => [c.Out(new HostTensor(ElementType.Int64, [], [c.Input(0).Shape.Aggregate(1.0, (a, d) => a * d)]))],
        ["Constant"] = Constant,
        ["ConstantOfShape"] = ConstantOfShape,
        ["Cast"] = Cast,
        ["Range"] = Range,
        ["Equal"] = c => HostCompare(c, (a, b) => a == b),
        ["Less"] = c => HostCompare(c, (a, b) => a < b),
        ["Greater"] = c => HostCompare(c, (a, b) => a > b),
        ["LessOrEqual"] = c => HostCompare(c, (a, b) => a <= b),
        ["GreaterOrEqual"] = c => HostCompare(c, (a, b) => a >= b),
        ["And"] = c => HostCompare(c, (a, b) => a != 0 && b != 0),
        ["Or"] = c => HostCompare(c, (a, b) => a != 0 || b != 0),
        ["Xor"] = c => HostCompare(c, (a, b) => (a != 0) ^ (b != 0)),
        ["Not"] = c => [c.Out(new HostTensor(ElementType.Bool, c.Values(0).Shape, c.Values(0).Data.Select(v => v == 0 ? 1.0 : 0.0).ToArray()))],
        ["IsNaN"] = c => [c.Out(new HostTensor(ElementType.Bool, c.Values(0).Shape, c.Values(0).Data.Select(v => double.IsNaN(v) ? 1.0 : 0.0).ToArray()))],
        ["IsInf"] = c => [c.Out(new HostTensor(ElementType.Bool, c.Values(0).Shape, c.Values(0).Data.Select(v =>
            double.IsPositiveInfinity(v) && c.Int("detect_positive", 1) != 0 || double.IsNegativeInfinity(v) && c.Int("detect_negative", 1) != 0 ? 1.0 : 0.0).ToArray()))],
        ["ArgMax"] = c => ArgExtreme(c, max: true),
        ["ArgMin"] = c => ArgExtreme(c, max: false),
        ["Sin"] = c => [c.Out(Sin(c.Var(0)))],
        ["Cos"] = c => [c.Out(Cos(c.Var(0)))],
        ["Tan"] = c => [c.Out(Smooth(c.Var(0), Math.Tan, a => Ops.Reciprocal(Ops.Square(Cos(a)))))],
        ["Asin"] = c => [c.Out(Smooth(c.Var(0), Math.Asin, a => Ops.Reciprocal(Ops.Sqrt(OneMinusSquare(a)))))],
        ["Acos"] = c => [c.Out(Smooth(c.Var(0), Math.Acos, a => Ops.Scale(Ops.Reciprocal(Ops.Sqrt(OneMinusSquare(a))), -T.One)))],
        ["Atan"] = c => [c.Out(Smooth(c.Var(0), Math.Atan, a => Ops.Reciprocal(Ops.AddScalar(Ops.Square(a), T.One))))],
        ["Sinh"] = c => [c.Out(Sinh(c.Var(0)))],
        ["Cosh"] = c => [c.Out(Cosh(c.Var(0)))],
        ["Asinh"] = c => [c.Out(Smooth(c.Var(0), Math.Asinh, a => Ops.Reciprocal(Ops.Sqrt(Ops.AddScalar(Ops.Square(a), T.One)))))],
        ["Acosh"] = c => [c.Out(Smooth(c.Var(0), Math.Acosh, a => Ops.Reciprocal(Ops.Sqrt(Ops.AddScalar(Ops.Square(a), -T.One)))))],
        ["Atanh"] = c => [c.Out(Smooth(c.Var(0), Math.Atanh, a => Ops.Reciprocal(OneMinusSquare(a))))],
        ["HardSwish"] = c => [c.Out(Ops.Multiply(c.Var(0), Clamp(Ops.AddScalar(Ops.Scale(c.Var(0), T.One / T.CreateTruncating(6)), T.CreateTruncating(0.5)), 0, 1)))],
        ["Where"] = Where,
        ["Floor"] = c => Unary(c, Math.Floor, null),
        ["Ceil"] = c => Unary(c, Math.Ceiling, null),
    };

    public static IReadOnlyList<string> Names { get; } = Table.Keys.Order(StringComparer.Ordinal).ToArray();

    public static bool Supports(string opType, string domain) => domain is "" or "ai.onnx" && Table.ContainsKey(opType);

    public static GraphValue<T>?[] Run(NodeContext<T> c)
    {
        foreach (var legacy in LegacyAttributes)
            if (c.Node.Attributes.ContainsKey(legacy)) throw c.Unsupported($"attribute '{legacy}' (semantics of opsets before 7)");
        return Table[c.Node.OpType](c);
    }

    private static readonly string[] LegacyAttributes = ["broadcast", "consumed_inputs", "is_test", "spatial"];

    // ---- elementwise ---------------------------------------------------------------------------------------------

    private static Variable<T> Abs(Variable<T> v)
    {
        var sign = Tensor<T>.Zeros(v.Value.ShapeArray);
        for (int i = 0; i < sign.Length; i++) sign.Data[i] = v.Value.Data[i] > T.Zero ? T.One : v.Value.Data[i] < T.Zero ? -T.One : T.Zero;
        return Ops.MultiplyConstant(v, sign);
    }

    private static GraphValue<T>?[] Unary(NodeContext<T> c, Func<double, double> host, Func<Variable<T>, Variable<T>>? run)
    {
        if (c.IsHost(0) && (run is null || !c.Host(0).IsReal || c.Host(0).Rank > Tensor<T>.MaxRank))
        {
            var h = c.Host(0);
            return [c.Out(new HostTensor(h.Type, h.Shape, h.Data.Select(host).ToArray()))];
        }
        if (run is null) c.Host(0);
        return [c.Out(run!(c.Var(0)))];
    }

    private static GraphValue<T>?[] Binary(NodeContext<T> c, Func<double, double, double> host, Func<Variable<T>, Variable<T>, Variable<T>> run, bool integerDivision = false)
    {
        if (c.IsHost(0) && c.IsHost(1) && !(c.Host(0).IsReal && c.Host(1).IsReal))
        {
            var a = c.Host(0);
            var b = c.Host(1);
            var (shape, ia, ib) = Broadcast(c, a.Shape, b.Shape);
            var data = new double[ia.Length];
            bool integer = !a.IsReal;
            for (int i = 0; i < data.Length; i++)
            {
                double r = host(a.Data[ia[i]], b.Data[ib[i]]);
                data[i] = integer && integerDivision ? Math.Truncate(r) : r;
            }
            return [c.Out(new HostTensor(a.Type, shape, data))];
        }
        var x = c.Var(0);
        var y = c.Var(1);
        c.CheckRank(TensorOps.BroadcastShape(x.Shape, y.Shape, c.Node.OpType));
        return [c.Out(run(x, y))];
    }

    // Add with the Relu that reads it fused in (NodeContext.FuseRelu): max(0, a + b) without keeping a + b.
    private static GraphValue<T>?[] AddRelu(NodeContext<T> c)
    {
        if (!c.IsHost(0) && !c.IsHost(1) && c.Shape(0).AsSpan().SequenceEqual(c.Shape(1)))
        {
            c.CheckRank(c.Shape(0));
            return [c.Out(ChannelOps<T>.AddRelu(c.Var(0), c.Var(1)))];
        }
        var sum = Binary(c, (a, b) => a + b, Ops.Add)[0]!;
        return [c.Out(ChannelOps<T>.Relu(sum.Variable ?? c.Tape.Constant(sum.Host!.ToTensor<T>())))];
    }

    private static GraphValue<T>?[] Variadic(NodeContext<T> c, Func<Variable<T>, Variable<T>, Variable<T>> combine, double scale)
    {
        Variable<T>? acc = null;
        for (int i = 0; i < c.Inputs.Length; i++)
        {
            if (!c.Has(i)) continue;
            var v = c.Var(i);
            if (acc is not null) c.CheckRank(TensorOps.BroadcastShape(acc.Shape, v.Shape, c.Node.OpType));
            acc = acc is null ? v : combine(acc, v);
        }
        if (acc is null) throw c.Invalid("no inputs");
        return [c.Out(scale == 1 ? acc : Ops.Scale(acc, T.CreateTruncating(scale)))];
    }

    private static GraphValue<T>?[] Pow(NodeContext<T> c)
    {
        var x = c.Var(0);
        if (c.IsHost(1) && c.Host(1).Length == 1)
        {
            var p = c.Host(1);
            var y = Ops.Pow(x, T.CreateTruncating(p.Data[0]));
            // A one-element exponent of higher rank still broadcasts the result's shape.
            var shape = TensorOps.BroadcastShape(x.Shape, p.Shape, "Pow");
            if (!y.Shape.SequenceEqual(shape)) y = Ops.Reshape(y, shape);
            return [c.Out(y)];
        }
        var e = c.Var(1);
        c.CheckRank(TensorOps.BroadcastShape(x.Shape, e.Shape, "Pow"));
        return [c.Out(Ops.Pow(x, e))];
    }

    // ---- linear algebra -------------------------------------------------------------------------------------------

    private static GraphValue<T>?[] MatMul(NodeContext<T> c)
    {
        var a = c.Var(0);
        var b = c.Var(1);
        if (a.Rank == 0 || b.Rank == 0) throw c.Invalid("MatMul needs operands of rank ≥ 1");
        bool vecA = a.Rank == 1, vecB = b.Rank == 1;
        if (vecA) a = Ops.Reshape(a, 1, a.Value.Dim(0));
        if (vecB) b = Ops.Reshape(b, b.Value.Dim(0), 1);
        var batch = TensorOps.BroadcastShape(a.Shape[..^2], b.Shape[..^2], "MatMul");
        c.CheckRank([.. batch, 1, 1]);
        var y = Ops.BatchMatMul(a, b);
        if (vecA || vecB)
        {
            var shape = y.Value.ShapeArray.ToList();
            if (vecB) shape.RemoveAt(shape.Count - 1);
            if (vecA) shape.RemoveAt(shape.Count - (vecB ? 1 : 2));
            y = Ops.Reshape(y, [.. shape]);
        }
        return [c.Out(y)];
    }

    private static GraphValue<T>?[] Gemm(NodeContext<T> c)
    {
        var a = c.Var(0);
        var b = c.Var(1);
        if (a.Rank != 2 || b.Rank != 2) throw c.Invalid($"Gemm needs matrices, got {Errors.Shape(a.Shape)} and {Errors.Shape(b.Shape)}");
        bool ta = c.Int("transA", 0) != 0, tb = c.Int("transB", 0) != 0;
        double alpha = c.Float("alpha", 1), beta = c.Float("beta", 1);
        var y = Ops.MatMul(a, b, ta, tb);
        if (alpha != 1) y = Ops.Scale(y, T.CreateTruncating(alpha));
        if (c.Has(2) && beta != 0)
        {
            var bias = c.Var(2);
            if (beta != 1) bias = Ops.Scale(bias, T.CreateTruncating(beta));
            y = Ops.Add(y, bias);
        }
        return [c.Out(y)];
    }

    // ---- normalisation --------------------------------------------------------------------------------------------

    private static GraphValue<T>?[] BatchNormalization(NodeContext<T> c)
    {
        var x = c.Var(0);
        if (x.Rank < 2) throw c.Invalid($"input is {Errors.Shape(x.Shape)}, expected [N, C, …]");
        int channels = x.Value.Dim(1);
        var statShape = new int[x.Rank];
        Array.Fill(statShape, 1);
        statShape[1] = channels;
        // Per-channel inputs as [C]; the elementwise form of the training outputs below broadcasts them as [1, C, 1, …].
        Variable<T> Stat(int i)
        {
            var v = c.Var(i);
            if (v.Value.Length != channels) throw c.Invalid($"input {i} has {v.Value.Length} elements, expected one per channel ({channels})");
            return v.Rank == 1 ? v : Ops.Reshape(v, channels);
        }
        var scale = Stat(1);
        var bias = Stat(2);
        double epsilon = c.Float("epsilon", 1e-5);
        double momentum = c.Float("momentum", 0.9);
        bool training = c.Options.BatchNorm switch
        {
            BatchNormMode.Training => true,
            BatchNormMode.Inference => false,
            _ => c.Opset >= 14 && c.Int("training_mode", 0) != 0,
        };
        bool extraOutputs = c.Node.Outputs.Skip(1).Any(o => o.Length > 0);
        var eps = T.CreateTruncating(epsilon);
        if (!training)
        {
            if (extraOutputs && c.Opset >= 14) throw c.Invalid("running-statistics outputs are defined only in training mode");
            if (extraOutputs) throw c.Unsupported("the training outputs of BatchNormalization before opset 14");
            var runningMean = Stat(3).Value.Data;
            var sigma = Stat(4).Value.Data.Select(v => T.Sqrt(v + eps)).ToArray();
            return [c.Out(ChannelOps<T>.NormalizeFixed(x, scale, bias, runningMean, sigma, c.FuseRelu))];
        }
        if (!extraOutputs)
        {
            var fused = ChannelOps<T>.NormalizeBatch(x, scale, bias, eps,
                (xs, ss, bs) => BatchNormComposed(xs, Ops.Reshape(ss, statShape), Ops.Reshape(bs, statShape), eps).Result, out var batchMean, out var batchVariance,
                c.FuseRelu);
            c.Options.OnBatchStatistics?.Invoke(new BatchNormStatistics(c.Node, batchMean, batchVariance, x.Value.Length / channels));
            return [c.Out(fused)];
        }
        var (result, mean, variance) = BatchNormComposed(x, Ops.Reshape(scale, statShape), Ops.Reshape(bias, statShape), eps);
        c.Options.OnBatchStatistics?.Invoke(new BatchNormStatistics(c.Node, mean.Value.ToDoubles(), variance.Value.ToDoubles(), x.Value.Length / channels));
        if (c.Opset < 14) throw c.Unsupported("the training outputs of BatchNormalization before opset 14");
        var m = T.CreateTruncating(momentum);
        var runningMeanOut = Ops.Add(Ops.Scale(c.Var(3), m), Ops.Scale(Ops.Reshape(mean, channels), T.One - m));
        var runningVar = Ops.Add(Ops.Scale(c.Var(4), m), Ops.Scale(Ops.Reshape(variance, channels), T.One - m));
        return [c.Out(result), c.Out(runningMeanOut), c.Out(runningVar)];
    }

    // Batch-statistics BatchNormalization from elementwise tape ops (scale and bias shaped [1, C, 1, …]).
    private static (Variable<T> Result, Variable<T> Mean, Variable<T> Variance) BatchNormComposed(Variable<T> x, Variable<T> scale, Variable<T> bias, T eps)
    {
        var mean = ChannelMean(x);
        var centered = Ops.Subtract(x, mean);
        var variance = ChannelMean(Ops.Multiply(centered, centered));
        var normalized = Ops.Divide(centered, Ops.Sqrt(Ops.AddScalar(variance, eps)));
        return (Ops.Add(Ops.Multiply(normalized, scale), bias), mean, variance);
    }

    // Mean over every axis but 1, kept as size-1 axes.
    private static Variable<T> ChannelMean(Variable<T> x)
    {
        var m = Ops.MeanAxis(x, 0, keepDims: true);
        for (int d = 2; d < x.Rank; d++) m = Ops.MeanAxis(m, d, keepDims: true);
        return m;
    }

    private static GraphValue<T>?[] LayerNormalization(NodeContext<T> c)
    {
        var x = c.Var(0);
        int axis = c.Axis(c.Int("axis", -1), x.Rank);
        double epsilon = c.Float("epsilon", 1e-5);
        var shape = x.Value.ShapeArray;
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis; d < shape.Length; d++) inner *= shape[d];
        var flat = Ops.Reshape(x, outer, inner);
        var mean = Ops.MeanAxis(flat, 1, keepDims: true);
        var centered = Ops.Subtract(flat, mean);
        var variance = Ops.MeanAxis(Ops.Multiply(centered, centered), 1, keepDims: true);
        var invStd = Ops.Reciprocal(Ops.Sqrt(Ops.AddScalar(variance, T.CreateTruncating(epsilon))));
        var y = Ops.Reshape(Ops.Multiply(centered, invStd), shape);
        y = Ops.Multiply(y, c.Var(1));
        if (c.Has(2)) y = Ops.Add(y, c.Var(2));
        var statShape = shape.Select((d, i) => i < axis ? d : 1).ToArray();
        return [c.Out(y), c.Out(Ops.Reshape(mean, statShape)), c.Out(Ops.Reshape(invStd, statShape))];
    }

    private static GraphValue<T>?[] Softmax(NodeContext<T> c, bool log)
    {
        var x = c.Var(0);
        var shape = x.Value.ShapeArray;
        if (x.Rank == 0) throw c.Invalid("softmax of a scalar");
        int axis;
        if (c.Opset >= 13) axis = c.Axis(c.Int("axis", -1), x.Rank);
        else
        {
            // Before opset 13 the input is coerced to 2-D at axis and normalised along the flattened trailing part.
            int at = c.Axis(c.Int("axis", 1), x.Rank);
            int outer = 1;
            for (int d = 0; d < at; d++) outer *= shape[d];
            x = Ops.Reshape(x, outer, -1);
            axis = 1;
        }
        // exp(x − m) / Σ exp(x − m) with m the (constant) maximum along the axis: softmax is invariant under the
        // shift, so holding m fixed changes neither the value nor any derivative.
        var y = SoftmaxAlong(x, axis, log);
        return [c.Out(y.Shape.SequenceEqual(shape) ? y : Ops.Reshape(y, shape))];
    }

    private static Variable<T> SoftmaxAlong(Variable<T> x, int axis, bool log)
    {
        var max = AxisMax(x.Value, axis);
        var z = Ops.Subtract(x, x.Tape.Constant(max));
        var e = Ops.Exp(z);
        var s = Ops.SumAxis(e, axis, keepDims: true);
        return log ? Ops.Subtract(z, Ops.Log(s)) : Ops.Divide(e, s);
    }

    private static GraphValue<T>?[] NegativeLogLikelihood(NodeContext<T> c) => [c.Out(Nll(c, c.Var(0)))];

    private static GraphValue<T>?[] SoftmaxCrossEntropy(NodeContext<T> c)
    {
        var scores = c.Var(0);
        if (scores.Rank < 2) throw c.Invalid($"scores are {Errors.Shape(scores.Shape)}, expected [N, C, …]");
        var logProb = SoftmaxAlong(scores, 1, log: true);
        return [c.Out(Nll(c, logProb)), c.Out(logProb)];
    }

    // −Σ w[t]·x[n, t, …] over the targets t (ignore_index dropped), reduced as asked: the picks are a gather and the
    // weights (a runtime input or ones) are gathered too, so the loss is exact in both and differentiates again.
    private static Variable<T> Nll(NodeContext<T> c, Variable<T> x)
    {
        var shape = x.Value.ShapeArray;
        if (shape.Length < 2) throw c.Invalid($"input is {Errors.Shape(shape)}, expected [N, C, …]");
        var target = c.Host(1);
        int n = shape[0], classes = shape[1], rest = shape[2..].Aggregate(1, (a, d) => a * d);
        var targetShape = new[] { n }.Concat(shape[2..]).ToArray();
        if (!target.Shape.SequenceEqual(targetShape)) throw c.Invalid($"target is {Errors.Shape(target.Shape)}, expected {Errors.Shape(targetShape)}");
        long? ignore = c.Attribute("ignore_index") is not null ? c.Int("ignore_index", 0) : null;
        var pick = new int[target.Length];
        var classOf = new int[target.Length];
        var kept = Tensor<T>.Zeros(targetShape);
        for (int i = 0; i < pick.Length; i++)
        {
            long t = (long)target.Data[i];
            if (ignore == t) { pick[i] = classOf[i] = -1; continue; }
            if (t < 0 || t >= classes) throw c.Invalid($"target {t} is outside [0, {classes})");
            int b = i / rest, r = i % rest;
            pick[i] = (b * classes + (int)t) * rest + r;
            classOf[i] = (int)t;
            kept.Data[i] = T.One;
        }
        var picked = Ops.Gather(x, pick, targetShape);
        var w = c.Has(2) ? Ops.Gather(c.Var(2), classOf, targetShape) : c.Tape.Constant(kept);
        var loss = Ops.Scale(Ops.Multiply(picked, w), -T.One);
        return c.String("reduction", "mean") switch
        {
            "none" => loss,
            "sum" => Ops.Sum(loss),
            "mean" => Ops.Divide(Ops.Sum(loss), Ops.Sum(w)),
            var r => throw c.Unsupported($"reduction '{r}'"),
        };
    }

    private static Tensor<T> AxisMax(Tensor<T> x, int axis)
    {
        int outer = 1, inner = 1, n = x.Dim(axis);
        for (int d = 0; d < axis; d++) outer *= x.Dim(d);
        for (int d = axis + 1; d < x.Rank; d++) inner *= x.Dim(d);
        var shape = x.ShapeArray;
        shape[axis] = 1;
        var m = Tensor<T>.Full(T.NegativeInfinity, shape);
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < n; k++)
                for (int i = 0; i < inner; i++)
                {
                    var v = x.Data[(o * n + k) * inner + i];
                    ref var slot = ref m.Data[o * inner + i];
                    if (v > slot) slot = v;
                }
        for (int i = 0; i < m.Length; i++) if (!T.IsFinite(m.Data[i])) m.Data[i] = T.Zero;
        return m;
    }

    private static GraphValue<T>?[] Dropout(NodeContext<T> c)
    {
        bool training = c.Opset >= 12 && c.Has(2) && c.Host(2).Data.Any(v => v != 0);
        // The ratio matters only in training mode.
        if (training && (c.Opset >= 12 ? (c.Has(1) ? c.Values(1).Data[0] : 0.5) : c.Float("ratio", 0.5)) != 0) throw c.Unsupported("dropout in training mode (random masks); export the model in eval() mode");
        var x = c.Input(0);
        var mask = new HostTensor(ElementType.Bool, x.Shape, Enumerable.Repeat(1.0, x.Shape.Aggregate(1, (a, d) => a * d)).ToArray());
        return [x, c.Out(mask)];
    }

    // ---- reductions -----------------------------------------------------------------------------------------------

    private static GraphValue<T>?[] Reduce(NodeContext<T> c, bool mean, Func<Variable<T>, Variable<T>>? before = null, Func<Variable<T>, Variable<T>>? after = null)
    {
        var x = c.Var(0);
        if (before is not null) x = before(x);
        long[]? axes;
        bool axesAsInput = c.Node.OpType == "ReduceSum" ? c.Opset >= 13 : c.Opset >= 18;
        axes = axesAsInput ? (c.Has(1) ? c.Host(1).ToLongs() : null) : c.Ints("axes");
        bool keep = c.Int("keepdims", 1) != 0;
        if ((axes is null || axes.Length == 0) && c.Int("noop_with_empty_axes", 0) != 0) return [c.Out(x)];
        int rank = x.Rank;
        var list = axes is null || axes.Length == 0 ? Enumerable.Range(0, rank).ToArray() : axes.Select(a => c.Axis(a, rank)).Distinct().ToArray();
        var y = x;
        long count = 1;
        foreach (int a in list)
        {
            y = Ops.SumAxis(y, a, keepDims: true);
            count *= x.Value.Dim(a);
        }
        if (mean) y = Ops.Scale(y, T.One / T.CreateTruncating(count));
        if (after is not null) y = after(y);
        if (!keep) y = Ops.Reshape(y, x.Value.ShapeArray.Where((_, d) => !list.Contains(d)).ToArray());
        return [c.Out(y)];
    }

    private static (int[] Axes, bool Keep) ReduceAxes(NodeContext<T> c, int rank)
    {
        bool axesAsInput = c.Node.OpType == "ReduceSum" ? c.Opset >= 13 : c.Opset >= 18;
        var axes = axesAsInput ? (c.Has(1) ? c.Host(1).ToLongs() : null) : c.Ints("axes");
        if ((axes is null || axes.Length == 0) && c.Int("noop_with_empty_axes", 0) != 0) return ([], c.Int("keepdims", 1) != 0);
        var list = axes is null || axes.Length == 0 ? Enumerable.Range(0, rank).ToArray() : axes.Select(a => c.Axis(a, rank)).Distinct().ToArray();
        return (list, c.Int("keepdims", 1) != 0);
    }

    private static GraphValue<T>?[] ReduceLogSumExp(NodeContext<T> c)
    {
        // log Σ exp(x − m) + m with m the (constant) maximum: the shift cancels, so value and derivatives are exact.
        var x = c.Var(0);
        var (axes, keep) = ReduceAxes(c, x.Rank);
        var keptShape = x.Value.ShapeArray.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        var m = Tensor<T>.Full(T.NegativeInfinity, keptShape);
        var index = ReducedIndex(x.Value.ShapeArray, axes);
        for (int i = 0; i < index.Length; i++) if (x.Value.Data[i] > m.Data[index[i]]) m.Data[index[i]] = x.Value.Data[i];
        for (int i = 0; i < m.Length; i++) if (!T.IsFinite(m.Data[i])) m.Data[i] = T.Zero;
        var shift = c.Tape.Constant(m);
        var y = Ops.Exp(Ops.Subtract(x, shift));
        foreach (int a in axes) y = Ops.SumAxis(y, a, keepDims: true);
        y = Ops.Add(Ops.Log(y), shift);
        if (!keep) y = Ops.Reshape(y, x.Value.ShapeArray.Where((_, d) => !axes.Contains(d)).ToArray());
        return [c.Out(y)];
    }

    // For each element of a tensor of the given shape, the flat index of its slot in the reduced (kept-dims) tensor.
    private static int[] ReducedIndex(int[] shape, int[] axes)
    {
        var kept = shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        var strides = Strides(kept);
        var index = new int[Count(shape)];
        ForEach(shape, (i, at) =>
        {
            int k = 0;
            for (int d = 0; d < shape.Length; d++) if (kept[d] != 1) k += at[d] * strides[d];
            index[i] = k;
        });
        return index;
    }

    private static GraphValue<T>?[] ReduceExtreme(NodeContext<T> c, bool max)
    {
        // The extreme element of each slot (first of equal ones), as a fixed gather: piecewise linear, differentiable again.
        var x = c.Var(0);
        var (axes, keep) = ReduceAxes(c, x.Rank);
        var shape = x.Value.ShapeArray;
        if (axes.Length == 0) return [c.Out(x)];
        if (axes.Any(a => shape[a] == 0)) throw c.Unsupported("a max/min over an empty axis");
        var kept = shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        var slot = ReducedIndex(shape, axes);
        var best = Enumerable.Repeat(-1, Count(kept)).ToArray();
        var data = x.Value.Data;
        for (int i = 0; i < slot.Length; i++)
        {
            int b = best[slot[i]];
            if (b < 0 || (max ? data[i] > data[b] : data[i] < data[b]) || (T.IsNaN(data[i]) && !T.IsNaN(data[b]))) best[slot[i]] = i;
        }
        var y = Ops.Gather(x, best, kept);
        if (!keep) y = Ops.Reshape(y, shape.Where((_, d) => !axes.Contains(d)).ToArray());
        return [c.Out(y)];
    }

    private static GraphValue<T>?[] Extreme(NodeContext<T> c, bool max)
    {
        var parts = Enumerable.Range(0, c.Inputs.Length).Where(c.Has).Select(c.Var).ToArray();
        if (parts.Length == 0) throw c.Invalid("no inputs");
        var shape = parts.Aggregate(Array.Empty<int>(), (s, p) => TensorOps.BroadcastShape(s, p.Shape, c.Node.OpType));
        c.CheckRank(shape);
        var maps = parts.Select(p => BroadcastIndex(p.Value.ShapeArray, shape)).ToArray();
        int n = Count(shape);
        var pick = new int[n];
        for (int i = 0; i < n; i++)
            for (int k = 1; k < parts.Length; k++)
            {
                var v = parts[k].Value.Data[maps[k][i]];
                var b = parts[pick[i]].Value.Data[maps[pick[i]][i]];
                if (max ? v > b : v < b) pick[i] = k;
            }
        Variable<T>? y = null;
        for (int k = 0; k < parts.Length; k++)
        {
            var index = new int[n];
            for (int i = 0; i < n; i++) index[i] = pick[i] == k ? maps[k][i] : -1;
            var term = Ops.Gather(parts[k], index, shape);
            y = y is null ? term : Ops.Add(y, term);
        }
        return [c.Out(y!)];
    }

    // Clamps to [lo, hi] by a fixed mask: x where inside, the bound (a constant) where outside.
    private static Variable<T> Clamp(Variable<T> x, double lo, double hi)
    {
        var mask = Tensor<T>.Zeros(x.Value.ShapeArray);
        var bound = Tensor<T>.Zeros(x.Value.ShapeArray);
        for (int i = 0; i < mask.Length; i++)
        {
            double v = double.CreateTruncating(x.Value.Data[i]);
            if (v < lo) bound.Data[i] = T.CreateTruncating(lo);
            else if (v > hi) bound.Data[i] = T.CreateTruncating(hi);
            else mask.Data[i] = T.One;
        }
        return Ops.Add(Ops.MultiplyConstant(x, mask), x.Tape.Constant(bound));
    }

    private static GraphValue<T>?[] Clip(NodeContext<T> c)
    {
        double lo, hi;
        if (c.Opset >= 11)
        {
            lo = c.Has(1) ? c.Host(1).Data[0] : double.NegativeInfinity;
            hi = c.Has(2) ? c.Host(2).Data[0] : double.PositiveInfinity;
        }
        else
        {
            lo = c.Float("min", double.NegativeInfinity);
            hi = c.Float("max", double.PositiveInfinity);
        }
        return [c.Out(Clamp(c.Var(0), lo, hi))];
    }

    private static Variable<T> Softplus(Variable<T> x)
    {
        // log(1 + eˣ) = max(x, 0) + log(1 + e^−|x|), with the max a fixed mask: stable, and exact since the two pieces agree.
        var positive = Tensor<T>.Zeros(x.Value.ShapeArray);
        for (int i = 0; i < positive.Length; i++) positive.Data[i] = x.Value.Data[i] > T.Zero ? T.One : T.Zero;
        var relu = Ops.MultiplyConstant(x, positive);
        return Ops.Add(relu, Ops.Log(Ops.AddScalar(Ops.Exp(Ops.Scale(Abs(x), -T.One)), T.One)));
    }

    private static Variable<T> Elu(Variable<T> x, double alpha, double gamma)
    {
        var positive = Tensor<T>.Zeros(x.Value.ShapeArray);
        var negative = Tensor<T>.Zeros(x.Value.ShapeArray);
        for (int i = 0; i < positive.Length; i++)
        {
            bool p = x.Value.Data[i] > T.Zero;
            positive.Data[i] = p ? T.One : T.Zero;
            negative.Data[i] = p ? T.Zero : T.One;
        }
        // Where x ≤ 0 only: α(eˣ − 1), with x masked first so eˣ never overflows on the other side.
        var inside = Ops.MultiplyConstant(x, negative);
        var y = Ops.Add(Ops.MultiplyConstant(x, positive), Ops.MultiplyConstant(Ops.Scale(Ops.AddScalar(Ops.Exp(inside), -T.One), T.CreateTruncating(alpha)), negative));
        return gamma == 1 ? y : Ops.Scale(y, T.CreateTruncating(gamma));
    }

    private static GraphValue<T>?[] PRelu(NodeContext<T> c)
    {
        // x where x > 0, slope·x elsewhere: relu(x) + slope ⊙ (x − relu(x)), the masks fixed.
        var x = c.Var(0);
        var slope = c.Var(1);
        c.CheckRank(TensorOps.BroadcastShape(x.Shape, slope.Shape, "PRelu"));
        var relu = Ops.Relu(x);
        return [c.Out(Ops.Add(relu, Ops.Multiply(slope, Ops.Subtract(x, relu))))];
    }

    // An elementwise function with value f and derivative f′ written in ops (so the rule differentiates again).
    private static Variable<T> Smooth(Variable<T> a, Func<double, double> f, Func<Variable<T>, Variable<T>> derivative)
    {
        var value = Tensor<T>.Zeros(a.Value.ShapeArray);
        for (int i = 0; i < value.Length; i++) value.Data[i] = T.CreateTruncating(f(double.CreateTruncating(a.Value.Data[i])));
        return a.Tape.Record(value, [a], g => [Ops.Multiply(g, derivative(a))], null);
    }

    private static Variable<T> OneMinusSquare(Variable<T> a) => Ops.AddScalar(Ops.Scale(Ops.Square(a), -T.One), T.One);

    private static Variable<T> Sin(Variable<T> a) => Smooth(a, Math.Sin, Cos);

    private static Variable<T> Cos(Variable<T> a) => Smooth(a, Math.Cos, x => Ops.Scale(Sin(x), -T.One));

    private static Variable<T> Sinh(Variable<T> a) => Smooth(a, Math.Sinh, Cosh);

    private static Variable<T> Cosh(Variable<T> a) => Smooth(a, Math.Cosh, Sinh);

    private static GraphValue<T>?[] ArgExtreme(NodeContext<T> c, bool max)
    {
        // An index: an integer output with no derivative.
        var x = c.Values(0);
        int rank = x.Rank;
        int axis = c.Axis(c.Int("axis", 0), rank);
        bool keep = c.Int("keepdims", 1) != 0, last = c.Int("select_last_index", 0) != 0;
        int outer = x.Shape[..axis].Aggregate(1, (a, d) => a * d), n = x.Shape[axis], inner = x.Shape[(axis + 1)..].Aggregate(1, (a, d) => a * d);
        var data = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                for (int k = 1; k < n; k++)
                {
                    double v = x.Data[(o * n + k) * inner + i], b = x.Data[(o * n + best) * inner + i];
                    if (max ? v > b || (last && v == b) : v < b || (last && v == b)) best = k;
                }
                data[o * inner + i] = best;
            }
        var shape = keep ? x.Shape.Select((d, i) => i == axis ? 1 : d).ToArray() : x.Shape.Where((_, i) => i != axis).ToArray();
        return [c.Out(new HostTensor(ElementType.Int64, shape, data))];
    }

    private static Variable<T> ThresholdedRelu(Variable<T> x, double alpha)
    {
        var mask = Tensor<T>.Zeros(x.Value.ShapeArray);
        for (int i = 0; i < mask.Length; i++) mask.Data[i] = double.CreateTruncating(x.Value.Data[i]) > alpha ? T.One : T.Zero;
        return Ops.MultiplyConstant(x, mask);
    }
}
