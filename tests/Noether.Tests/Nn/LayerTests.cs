using CsCheck;
using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Nn;

public class LayerTests
{
    private const string Seed = "0N0XIDEW4Y50";

    internal static Tensor<double> Random(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var t = Tensor<double>.Zeros(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = 2 * rng.NextDouble() - 1;
        return t;
    }

    [Fact]
    public void Linear_Forward_IsInputTimesWeightTransposedPlusBias()
    {
        Gen.Select(Gen.Int[1, 5], Gen.Int[1, 6], Gen.Int[1, 6], Gen.Int[0, 1_000_000]).Sample((n, fin, fout, seed) =>
        {
            var layer = new Linear<double>(fin, fout, true, new Random(seed));
            var x = Random(seed + 1, n, fin);
            var y = layer.Predict(x);
            Assert.Equal([n, fout], y.ShapeArray);
            for (int i = 0; i < n; i++)
                for (int o = 0; o < fout; o++)
                {
                    double sum = layer.Bias!.Value[o];
                    for (int k = 0; k < fin; k++) sum += x[i, k] * layer.Weight.Value[o, k];
                    Close.Assert(sum, y[i, o], 1e-14, 1e-15);
                }
        }, iter: 100, seed: Seed);
    }

    [Fact]
    public void Linear_GradientsForWeightBiasAndInput_MatchFiniteDifferences()
    {
        Gen.Select(Gen.Int[1, 5], Gen.Int[1, 6], Gen.Int[1, 6], Gen.Int[0, 1_000_000]).Sample((n, fin, fout, seed) =>
        {
            var readout = Random(seed + 2, n, fout);
            ScalarFunction<double> f = (tape, v) =>
            {
                var layer = new Linear<double>(v[1].Value, v[2].Value, "l");
                // Route the leaves through the layer: bind its parameters to the given variables by using them directly.
                var y = Ops.Add(Ops.MatMul(v[0], v[1], transposeB: true), v[2]);
                Assert.Equal(layer.Predict(v[0].Value).Data, y.Value.Data);
                return Ops.Sum(Ops.Multiply(Ops.Tanh(y), tape.Constant(readout)));
            };
            var point = new[] { Random(seed + 1, n, fin), Random(seed + 3, fout, fin), Random(seed + 4, fout) };
            var analytic = FiniteDifference.AutodiffGradient(f, point);
            var numeric = FiniteDifference.Gradient(f, point).SelectMany(g => g).ToArray();
            Assert.True(Close.RelativeError(numeric, analytic) <= 1e-6);
        }, iter: 100, seed: Seed);
    }

    [Fact]
    public void Linear_DefaultInit_IsWithinPyTorchBounds()
    {
        var layer = new Linear<double>(50, 20, true, new Random(1), "fc1");
        double bound = 1 / Math.Sqrt(50);
        Assert.All(layer.Weight.Value.Data, w => Assert.InRange(w, -bound, bound));
        Assert.All(layer.Bias!.Value.Data, b => Assert.InRange(b, -bound, bound));
        Assert.True(layer.Weight.Value.Data.Max() > 0.9 * bound && layer.Weight.Value.Data.Min() < -0.9 * bound, "the draws should fill the interval");
        Assert.Equal(["fc1.weight", "fc1.bias"], layer.Parameters.Select(p => p.Name));
        Assert.Equal([20, 50], layer.Weight.Value.ShapeArray);
        Assert.Single(new Linear<double>(50, 20, false, new Random(1)).Parameters);
    }

    [Fact]
    public void Linear_WrongInputWidth_NamesLayerAndShapes()
    {
        var layer = new Linear<double>(4, 3, true, new Random(1), "fc1");
        var ex = Assert.Throws<ArgumentException>(() => layer.Predict(Tensor<double>.Zeros(2, 5)));
        Assert.Contains("fc1", ex.Message);
        Assert.Contains("2×5", ex.Message);
        Assert.Contains("3×4", ex.Message);
    }

    [Fact]
    public void Conv2dLayer_ShapesInitAndForward_MatchOp()
    {
        var conv = new Conv2d<double>(3, 5, 3, 2, 1, true, new Random(2), "c");
        Assert.Equal([5, 3, 3, 3], conv.Weight.Value.ShapeArray);
        double bound = 1 / Math.Sqrt(27);
        Assert.All(conv.Weight.Value.Data.Concat(conv.Bias!.Value.Data), w => Assert.InRange(w, -bound, bound));
        var x = Random(3, 2, 3, 7, 7);
        var tape = new Tape<double>();
        var expected = Ops.Conv2d(tape.Constant(x), tape.Constant(conv.Weight.Value), tape.Constant(conv.Bias.Value), 2, 1).Value;
        Assert.Equal(expected.Data, conv.Predict(x).Data);
        Assert.Equal([2, 5, 4, 4], conv.Predict(x).ShapeArray);
    }

    [Theory]
    [InlineData(ActivationKind.Identity)]
    [InlineData(ActivationKind.Relu)]
    [InlineData(ActivationKind.LeakyRelu)]
    [InlineData(ActivationKind.Sigmoid)]
    [InlineData(ActivationKind.Tanh)]
    public void Activation_AppliesTheNamedFunction(ActivationKind kind)
    {
        Func<double, double> f = kind switch
        {
            ActivationKind.Identity => z => z,
            ActivationKind.Relu => z => Math.Max(0, z),
            ActivationKind.LeakyRelu => z => z > 0 ? z : 0.2 * z,
            ActivationKind.Sigmoid => z => 1 / (1 + Math.Exp(-z)),
            ActivationKind.Tanh => Math.Tanh,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not an elementwise layer kind"),
        };
        var layer = new Activation<double>(Activation.Of(kind, 0.2), "act");
        var x = Random(4, 3, 5);
        var y = layer.Predict(x);
        for (int i = 0; i < x.Length; i++) Close.Assert(f(x.Data[i]), y.Data[i], 1e-15, 1e-16);
        Assert.Equal(kind == ActivationKind.LeakyRelu ? 0.2 : 0, layer.Slope);
    }

    [Fact]
    public void Sequential_DuplicateNames_Throw()
    {
        var rng = new Random(1);
        var ex = Assert.Throws<ArgumentException>(() => new Sequential<double>(new Linear<double>(2, 2, true, rng), new Linear<double>(2, 2, true, rng)));
        Assert.Contains("linear", ex.Message);
        // Distinct layer names, but a nested sequence re-uses the parameter name "0.weight".
        var nested = new Sequential<double>("inner", new Linear<double>(2, 2, true, rng, "0"));
        var ex2 = Assert.Throws<ArgumentException>(() => new Sequential<double>("outer", nested, new Linear<double>(2, 2, true, rng, "0")));
        Assert.Contains("0.weight", ex2.Message);
    }

    [Fact]
    public void Sequential_ParametersInLayerOrder_ForwardComposes()
    {
        var rng = new Random(5);
        var fc1 = new Linear<double>(4, 6, true, rng, "fc1");
        var act = Activation<double>.Tanh("act");
        var fc2 = new Linear<double>(6, 2, false, rng, "fc2");
        var model = new Sequential<double>("mlp", fc1, act, fc2);
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight"], model.Parameters.Select(p => p.Name));
        Assert.Equal(4 * 6 + 6 + 12, model.ParameterCount);
        Assert.Same(act, model["act"]);
        var x = Random(6, 3, 4);
        Assert.Equal(fc2.Predict(act.Predict(fc1.Predict(x))).Data, model.Predict(x).Data);
    }

    [Fact]
    public void Module_InputFromAnotherTape_Throws()
    {
        var layer = new Linear<double>(2, 2, true, new Random(1));
        var other = new Tape<double>();
        Assert.Throws<ArgumentException>(() => layer.Forward(new Tape<double>(), other.Constant(Tensor<double>.Zeros(1, 2))));
    }
}
