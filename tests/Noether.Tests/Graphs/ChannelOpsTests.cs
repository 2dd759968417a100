using Noether.Autodiff;
using Noether.Graphs;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Graphs;

/// <summary>
/// The fused per-channel ops against the elementwise tape ops they replace (a second algorithm for the same function):
/// values, first-order gradients and Hessian-vector products, float64. Finite differences of the same ops run in
/// GraphOpDerivativeTests (BatchNormalization and Relu nodes).
/// </summary>
public sealed class ChannelOpsTests
{
    private delegate Variable<double> Norm(Variable<double> x, Variable<double> scale, Variable<double> bias);

    private static readonly int[] Shape = [4, 3, 5, 2];
    private static readonly int[] StatShape = [1, 3, 1, 1];
    private const double Epsilon = 1e-5;

    // f = Σ (u ⊙ y)² + Σ w ⊙ y, so the Hessian is not zero even where y is linear in the inputs.
    private static (double Value, double[] Gradient, double[] Hv) Derivatives(Norm norm, Tensor<double>[] point, Tensor<double> w, Tensor<double> u, Tensor<double>[] v)
    {
        ScalarFunction<double> f = (tape, leaves) =>
        {
            var y = norm(leaves[0], leaves[1], leaves[2]);
            return Ops.Add(Ops.Sum(Ops.Multiply(y, tape.Constant(w))), Ops.SumOfSquares(Ops.Multiply(y, tape.Constant(u))));
        };
        var first = new Tape<double>();
        var leaves = point.Select(t => first.Leaf(t)).ToArray();
        var gradient = first.Gradient(f(first, leaves), leaves).SelectMany(g => g.Value.Data).ToArray();
        var hessian = new HessianOperator<double>(f, point);
        return (hessian.Value, gradient, hessian.Multiply(v).SelectMany(t => t.Data).ToArray());
    }

    private static Variable<double> Composed(Variable<double> x, Variable<double> scale, Variable<double> bias, Variable<double> mean, Variable<double> variance) =>
        Ops.Add(Ops.Multiply(Ops.Divide(Ops.Subtract(x, mean), Ops.Sqrt(Ops.AddScalar(variance, Epsilon))), Ops.Reshape(scale, StatShape)), Ops.Reshape(bias, StatShape));

    private static Variable<double> ChannelMean(Variable<double> x) =>
        Ops.MeanAxis(Ops.MeanAxis(Ops.MeanAxis(x, 0, keepDims: true), 2, keepDims: true), 3, keepDims: true);

    private static (Tensor<double>[] Point, Tensor<double> W, Tensor<double> U, Tensor<double>[] V) Problem(int seed)
    {
        var rng = new Random(seed);
        var point = new[] { GraphDerivativeCheck.Random(rng, Shape), GraphDerivativeCheck.Random(rng, 3), GraphDerivativeCheck.Random(rng, 3) };
        for (int i = 0; i < point[0].Length; i++) point[0].Data[i] = 2 * point[0].Data[i] + 0.5; // off-centre, not unit variance
        return (point, GraphDerivativeCheck.Random(rng, Shape), GraphDerivativeCheck.Random(rng, Shape),
            point.Select(t => GraphDerivativeCheck.Random(rng, t.ShapeArray)).ToArray());
    }

    [Fact]
    public void Fixed_statistics_normalisation_equals_the_elementwise_form_bit_for_bit_and_its_derivatives_to_rounding()
    {
        var (point, w, u, v) = Problem(11);
        double[] mean = [0.1, -0.2, 0.3], variance = [0.5, 1.5, 2.0];
        var sigma = variance.Select(s => Math.Sqrt(s + Epsilon)).ToArray();
        Norm fused = (x, s, b) => ChannelOps<double>.NormalizeFixed(x, s, b, mean, sigma);
        Norm composed = (x, s, b) => Composed(x, s, b, x.Tape.Constant(new Tensor<double>(mean, StatShape)), x.Tape.Constant(new Tensor<double>(variance, StatShape)));

        var tape = new Tape<double>();
        var leaves = point.Select(t => tape.Leaf(t)).ToArray();
        Assert.Equal(composed(leaves[0], leaves[1], leaves[2]).Value.Data, fused(leaves[0], leaves[1], leaves[2]).Value.Data);

        var a = Derivatives(fused, point, w, u, v);
        var b = Derivatives(composed, point, w, u, v);
        // Same function, different rounding of the backward rules: float64 agreement to 1e-12 leaves a wide margin.
        Close.Assert(b.Gradient, a.Gradient, 1e-12, 1e-13, "gradient");
        Close.Assert(b.Hv, a.Hv, 1e-12, 1e-13, "Hv");
    }

    [Fact]
    public void Batch_statistics_normalisation_equals_the_elementwise_form_in_value_gradient_and_hessian_vector_product()
    {
        var (point, w, u, v) = Problem(12);
        Norm fused = (x, s, b) => ChannelOps<double>.NormalizeBatch(x, s, b, Epsilon,
            (xs, ss, bs) => Composed(xs, ss, bs, ChannelMean(xs), ChannelMean(Ops.Square(Ops.Subtract(xs, ChannelMean(xs))))), out _, out _);
        Norm composed = (x, s, b) =>
        {
            var mean = ChannelMean(x);
            return Composed(x, s, b, mean, ChannelMean(Ops.Square(Ops.Subtract(x, mean))));
        };
        var a = Derivatives(fused, point, w, u, v);
        var b = Derivatives(composed, point, w, u, v);
        // The fused pass sums the statistics in another order and uses the textbook backward formula.
        Close.Assert(b.Value, a.Value, 1e-12, 0, "value");
        Close.Assert(b.Gradient, a.Gradient, 1e-11, 1e-12, "first-order gradient (fused rule)");
        Close.Assert(b.Hv, a.Hv, 1e-11, 1e-12, "Hv (recorded backward)");
    }

    [Fact]
    public void Batch_statistics_are_the_mean_and_biased_variance()
    {
        var (point, _, _, _) = Problem(13);
        var tape = new Tape<double>();
        var x = tape.Constant(point[0]);
        ChannelOps<double>.NormalizeBatch(x, tape.Constant(point[1]), tape.Constant(point[2]), Epsilon, (a, _, _) => a, out var mean, out var variance);
        for (int c = 0; c < 3; c++)
        {
            var values = Enumerable.Range(0, point[0].Length).Where(i => i / 10 % 3 == c).Select(i => point[0].Data[i]).ToArray();
            double m = values.Average();
            Close.Assert(m, mean[c], 1e-14, 1e-15, $"mean of channel {c}");
            Close.Assert(values.Select(z => (z - m) * (z - m)).Average(), variance[c], 1e-13, 0, $"variance of channel {c}");
        }
    }

    [Fact]
    public void Fused_relu_equals_the_relu_applied_after_in_value_gradient_and_hessian_vector_product()
    {
        var (point, w, u, v) = Problem(14);
        double[] mean = [0.1, -0.2, 0.3], variance = [0.5, 1.5, 2.0];
        var sigma = variance.Select(s => Math.Sqrt(s + Epsilon)).ToArray();
        Variable<double> Batch(Variable<double> x, Variable<double> s, Variable<double> b, bool relu) => ChannelOps<double>.NormalizeBatch(x, s, b, Epsilon,
            (xs, ss, bs) => Composed(xs, ss, bs, ChannelMean(xs), ChannelMean(Ops.Square(Ops.Subtract(xs, ChannelMean(xs))))), out _, out _, relu);
        var pairs = new (string What, Norm Fused, Norm After, double Tolerance)[]
        {
            ("fixed statistics", (x, s, b) => ChannelOps<double>.NormalizeFixed(x, s, b, mean, sigma, relu: true),
                (x, s, b) => ChannelOps<double>.Relu(ChannelOps<double>.NormalizeFixed(x, s, b, mean, sigma)), 1e-13),
            ("batch statistics", (x, s, b) => Batch(x, s, b, true), (x, s, b) => ChannelOps<double>.Relu(Batch(x, s, b, false)), 1e-13),
            // a + b with b the input scaled per channel: the residual add of a ResNet block.
            ("add", (x, s, b) => ChannelOps<double>.AddRelu(x, ChannelOps<double>.Scale(x, s)),
                (x, s, b) => ChannelOps<double>.Relu(Ops.Add(x, ChannelOps<double>.Scale(x, s))), 1e-13),
        };
        foreach (var (what, fused, after, tolerance) in pairs)
        {
            var tape = new Tape<double>();
            var leaves = point.Select(t => tape.Leaf(t)).ToArray();
            Assert.Equal(after(leaves[0], leaves[1], leaves[2]).Value.Data, fused(leaves[0], leaves[1], leaves[2]).Value.Data);
            var a = Derivatives(fused, point, w, u, v);
            var b = Derivatives(after, point, w, u, v);
            Close.Assert(b.Gradient, a.Gradient, tolerance, tolerance, what + ": gradient");
            Close.Assert(b.Hv, a.Hv, tolerance, tolerance, what + ": Hv");
        }
    }

    [Fact]
    public void Relu_equals_the_tape_relu_bit_for_bit_including_signed_zeros_and_nan()
    {
        var data = new[] { -1.5, -0.0, 0.0, 2.0, double.NaN, 1e-300, -1e-300, 3.0 };
        var seed = new[] { 0.5, -2.0, 1.0, 3.0, 4.0, -1.0, 2.0, 0.25 };
        var tape = new Tape<double>();
        var x = tape.Leaf(new Tensor<double>(data, 2, 4));
        var fused = ChannelOps<double>.Relu(x);
        var reference = Ops.Relu(x);
        Assert.Equal(reference.Value.Data.Select(BitConverter.DoubleToInt64Bits), fused.Value.Data.Select(BitConverter.DoubleToInt64Bits));
        var g = tape.Constant(new Tensor<double>(seed, 2, 4));
        var gFused = tape.Gradient(fused, [x], g, createGraph: true)[0];
        var gReference = tape.Gradient(reference, [x], g, createGraph: true)[0];
        Assert.Equal(gReference.Value.Data.Select(BitConverter.DoubleToInt64Bits), gFused.Value.Data.Select(BitConverter.DoubleToInt64Bits));
    }
    [Fact]
    public void Vector_lanes_equal_the_scalar_rule_bit_for_bit_in_float32_and_float64()
    {
        // Planes of 37 values: whole 8- and 4-lane vectors plus a scalar tail per channel, with signed zeros, NaN, ±∞ and
        // subnormals among random values. The vector kernels must round exactly as the elementwise tape ops (fixed
        // statistics: subtract, divide, multiply, add) and the ReLU's x·[x > 0].
        CheckLanes<float>(f => BitConverter.SingleToInt32Bits(f));
        CheckLanes<double>(d => BitConverter.DoubleToInt64Bits(d));
    }

    private static void CheckLanes<T>(Func<T, long> bits) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int[] shape = [3, 2, 37];
        var rng = new Random(17);
        T[] special = [T.Zero, -T.Zero, T.NaN, T.PositiveInfinity, T.NegativeInfinity, T.Epsilon, -T.Epsilon, T.One];
        var data = new T[3 * 2 * 37];
        for (int i = 0; i < data.Length; i++) data[i] = i % 5 == 0 ? special[i / 5 % special.Length] : T.CreateTruncating(4 * rng.NextDouble() - 2);
        var tape = new Tape<T>();
        var x = tape.Leaf(new Tensor<T>(data, shape));
        var scale = tape.Leaf(new Tensor<T>([T.CreateTruncating(1.5), T.CreateTruncating(-0.75)], 2));
        var bias = tape.Leaf(new Tensor<T>([T.CreateTruncating(0.25), T.CreateTruncating(-0.5)], 2));
        T[] mean = [T.CreateTruncating(0.1), T.CreateTruncating(-0.3)];
        T[] sigma = [T.CreateTruncating(0.7), T.CreateTruncating(1.3)];
        var statShape = new[] { 1, 2, 1 };
        var elementwise = Ops.Add(Ops.Multiply(Ops.Divide(Ops.Subtract(x, tape.Constant(new Tensor<T>(mean, statShape))), tape.Constant(new Tensor<T>(sigma, statShape))),
            Ops.Reshape(scale, statShape)), Ops.Reshape(bias, statShape));
        var fused = ChannelOps<T>.NormalizeFixed(x, scale, bias, mean, sigma, relu: true);
        var reference = Ops.Relu(elementwise);
        Assert.Equal(reference.Value.Data.Select(bits), fused.Value.Data.Select(bits));
        Assert.Equal(Ops.Relu(x).Value.Data.Select(bits), ChannelOps<T>.Relu(x).Value.Data.Select(bits));
        // The backward masks: g·[y > 0] through the fused op equals the tape ReLU's rule.
        var seed = tape.Constant(new Tensor<T>(data.Select((_, i) => T.CreateTruncating(rng.NextDouble() - 0.5)).ToArray(), shape));
        var gFused = tape.Gradient(ChannelOps<T>.Relu(x), [x], seed)[0];
        var gReference = tape.Gradient(Ops.Relu(x), [x], seed)[0];
        Assert.Equal(gReference.Value.Data.Select(bits), gFused.Value.Data.Select(bits));
    }
    [Fact]
    public void Split_over_cores_changes_no_bit()
    {
        // Above Ranges.ParallelElements the statistics, the normalisation, the backward sums and the ReLU masks run on
        // one range of channels (or elements) per core. Each channel depends only on itself, so every channel of the
        // large tensor must equal, bit for bit, the same channel normalised alone (a tensor small enough to stay serial).
        // Planes of 37·29 = 1073 values: not a whole number of vectors.
        int n = 16, c = 5, h = 37, w = 29, plane = h * w;
        Assert.True((long)n * c * plane >= Noether.Tensors.Ranges.ParallelElements && (long)n * plane < Noether.Tensors.Ranges.ParallelElements);
        var rng = new Random(21);
        float[] Draw(int length) => Enumerable.Range(0, length).Select(_ => (float)(4 * rng.NextDouble() - 1.5)).ToArray();
        var data = Draw(n * c * plane);
        var scale = Draw(c);
        var bias = Draw(c);
        var seed = Draw(n * c * plane);
        var (value, gradient, stats) = Run(data, scale, bias, seed, c);
        for (int k = 0; k < c; k++)
        {
            float[] Channel(float[] a) => Enumerable.Range(0, n).SelectMany(b => a.AsSpan((b * c + k) * plane, plane).ToArray()).ToArray();
            var (v1, g1, s1) = Run(Channel(data), [scale[k]], [bias[k]], Channel(seed), 1);
            Assert.Equal(v1.Select(BitConverter.SingleToInt32Bits), Channel(value).Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(g1[0].Select(BitConverter.SingleToInt32Bits), Channel(gradient[0]).Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(BitConverter.SingleToInt32Bits(g1[1][0]), BitConverter.SingleToInt32Bits(gradient[1][k]));
            Assert.Equal(BitConverter.SingleToInt32Bits(g1[2][0]), BitConverter.SingleToInt32Bits(gradient[2][k]));
            Assert.Equal(s1[0][0], stats[0][k]);
            Assert.Equal(s1[1][0], stats[1][k]);
        }
        // The standalone ReLU over a long buffer (the element ranges are whole vectors but the last): the tape ReLU's bits.
        var tape = new Tape<float>();
        var x = tape.Leaf(new Tensor<float>(data, n, c, h, w));
        var g = tape.Constant(new Tensor<float>(seed, n, c, h, w));
        Assert.Equal(Ops.Relu(x).Value.Data.Select(BitConverter.SingleToInt32Bits), ChannelOps<float>.Relu(x).Value.Data.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(tape.Gradient(Ops.Relu(x), [x], g)[0].Value.Data.Select(BitConverter.SingleToInt32Bits),
            tape.Gradient(ChannelOps<float>.Relu(x), [x], g)[0].Value.Data.Select(BitConverter.SingleToInt32Bits));
        // The residual junction relu(x + y), added and rectified range by range in one pass: the tape's Relu(Add) bits,
        // value and both gradients (one seed element in 7 lands on an exact zero sum, where the mask decides).
        var other = data.Select((v, i) => i % 7 == 0 ? -v : (float)(2 * rng.NextDouble() - 1)).ToArray();
        var y = tape.Leaf(new Tensor<float>(other, n, c, h, w));
        var fusedSum = ChannelOps<float>.AddRelu(x, y);
        var tapeSum = Ops.Relu(Ops.Add(x, y));
        Assert.Equal(tapeSum.Value.Data.Select(BitConverter.SingleToInt32Bits), fusedSum.Value.Data.Select(BitConverter.SingleToInt32Bits));
        var fusedGrads = tape.Gradient(fusedSum, [x, y], g);
        var tapeGrads = tape.Gradient(tapeSum, [x, y], g);
        for (int i = 0; i < 2; i++)
            Assert.Equal(tapeGrads[i].Value.Data.Select(BitConverter.SingleToInt32Bits), fusedGrads[i].Value.Data.Select(BitConverter.SingleToInt32Bits));

        (float[] Value, float[][] Gradient, double[][] Stats) Run(float[] input, float[] s, float[] b, float[] upstream, int channels)
        {
            var t = new Tape<float>();
            var xs = t.Leaf(new Tensor<float>(input, n, channels, h, w));
            var ss = t.Leaf(new Tensor<float>(s, channels));
            var bs = t.Leaf(new Tensor<float>(b, channels));
            var y = ChannelOps<float>.NormalizeBatch(xs, ss, bs, 1e-5f, (a, _, _) => a, out var mean, out var variance, relu: true);
            var grads = t.Gradient(y, [xs, ss, bs], t.Constant(new Tensor<float>(upstream, n, channels, h, w)));
            return (y.Value.Data, grads.Select(v => v.Value.Data).ToArray(), [mean, variance]);
        }
    }
}
