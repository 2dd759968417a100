using Noether.Autodiff;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Nn;

/// <summary>
/// The one <see cref="Activation"/>: its scalar σ, σ′, σ″ against finite differences and closed forms, its tape form
/// against the scalar σ, the layer built from it, the family names stored in files, and the parser of those names.
/// </summary>
public class ActivationTests
{
    public static TheoryData<string> ElementwiseNames => new() { "identity", "relu", "leaky-relu:0.2", "sigmoid", "tanh" };

    public static TheoryData<string, ActivationKind> ParsedKinds => new()
    {
        { "identity", ActivationKind.Identity },
        { "relu", ActivationKind.Relu },
        { "leaky-relu:0.1", ActivationKind.LeakyRelu },
        { "sigmoid", ActivationKind.Sigmoid },
        { "tanh", ActivationKind.Tanh },
        { "radial", ActivationKind.Radial },
        { "radial-inverse-square", ActivationKind.Radial },
    };

    [Theory]
    [MemberData(nameof(ElementwiseNames))]
    public void Elementwise_TapeValue_MatchesScalarValue(string name)
    {
        var sigma = Activation.Parse(name);
        var z = Gaussian.Matrix(new Random(1), 4, 6, 2);
        var tapeValue = sigma.Evaluate(z);
        for (int i = 0; i < z.Length; i++) Close.Assert(sigma.Value(z.Data[i]), tapeValue.Data[i], 1e-15, 1e-15, $"{name}({z.Data[i]})");
    }

    [Theory]
    [MemberData(nameof(ElementwiseNames))]
    public void Elementwise_ScalarDerivative_MatchesFiniteDifference(string name)
    {
        var sigma = Activation.Parse(name);
        MatchesCentralDifference(sigma.Value, sigma.Derivative, 2, 2, $"{name}'");
    }

    /// <summary>σ″ against the central difference of σ′ (error O(h²)·σ⁗ ≈ 1e-12 plus rounding 1e-16/h ≈ 1e-10 at h = 1e-6).</summary>
    [Theory]
    [MemberData(nameof(ElementwiseNames))]
    public void Elementwise_ScalarSecondDerivative_MatchesFiniteDifferenceOfTheDerivative(string name)
    {
        var sigma = Activation.Parse(name);
        MatchesCentralDifference(sigma.Derivative, sigma.SecondDerivative, 3, 3, $"{name}''");
    }

    // f' against (f(x + h) − f(x − h))/2h, h = 1e-6, at 50 seeded points in [−range, range] away from the kink at 0.
    private static void MatchesCentralDifference(Func<double, double> f, Func<double, double> derivative, int seed, double range, string what)
    {
        var random = new Random(seed);
        for (int i = 0; i < 50; i++)
        {
            double x = 2 * range * random.NextDouble() - range;
            if (Math.Abs(x) < 1e-3) continue; // the kink of ReLU-like σ
            double h = 1e-6;
            Close.Assert((f(x + h) - f(x - h)) / (2 * h), derivative(x), 1e-8, 1e-9, $"{what}({x})");
        }
    }

    [Fact]
    public void SecondDerivative_OfSigmoidAndTanh_MatchesTheClosedFormAtKnownPoints()
    {
        // σ''(0) = 0 for both (odd-symmetric about their centre); tanh''(x) = −2 tanh x sech² x; sigmoid''(ln 3) = s(1−s)(1−2s) with s = 3/4.
        Assert.Equal(0, Activation.Sigmoid.SecondDerivative(0));
        Assert.Equal(0, Activation.Tanh.SecondDerivative(0));
        Close.Assert(0.75 * 0.25 * (1 - 1.5), Activation.Sigmoid.SecondDerivative(Math.Log(3)), 1e-15, 1e-15);
        double t = Math.Tanh(0.7);
        Close.Assert(-2 * t * (1 - t * t), Activation.Tanh.SecondDerivative(0.7), 1e-14, 1e-15);
    }

    [Fact]
    public void SecondDerivative_NotGivenOrRadial_Throws()
    {
        var exp = Activation.Elementwise("exp", Ops.Exp, Math.Exp, Math.Exp);
        Assert.Throws<InvalidOperationException>(() => exp.SecondDerivative(1));
        var withSecond = Activation.Elementwise("exp", Ops.Exp, Math.Exp, Math.Exp, secondDerivative: Math.Exp);
        Assert.Equal(Math.Exp(1.5), withSecond.SecondDerivative(1.5));
        Assert.Throws<InvalidOperationException>(() => Activation.RadialInverseOnePlusNorm.SecondDerivative(1));
    }

    /// <summary>The span loops of the buffered two-layer code compute exactly the scalar σ and σ′ (same formulas, so equal to the bit).</summary>
    [Theory]
    [MemberData(nameof(ElementwiseNames))]
    public void SpanLoops_EqualTheScalarFunctionsToTheBit(string name)
    {
        var sigma = Activation.Parse(name);
        var z = Gaussian.Matrix(new Random(4), 5, 7, 3).Data;
        z[0] = 0; // the kink: the left derivative, as the tape takes it
        var a = new double[z.Length];
        sigma.Apply(z, a);
        var g = Gaussian.Matrix(new Random(5), 5, 7).Data;
        var expected = g.Select((x, i) => x * sigma.Derivative(z[i])).ToArray();
        sigma.MultiplyByDerivative(z, a, g);
        for (int i = 0; i < z.Length; i++)
        {
            Assert.Equal(sigma.Value(z[i]), a[i]);
            // σ' from the value (a(1 − a), 1 − a²) against σ' from x (s(1 − s), sech²): equal up to rounding.
            Close.Assert(expected[i], g[i], 1e-14, 1e-15, $"{name}'({z[i]})");
        }
    }

    [Theory]
    [InlineData("radial")]
    [InlineData("radial-inverse-square")]
    public void Radial_OrthogonalTransform_IsEquivariant(string name)
    {
        // Ex. 5: σ(gz) = gσ(z) for g ∈ O(h).
        var sigma = Activation.Parse(name);
        var random = new Random(3);
        var g = new OrthogonalGroup(5).RandomElement(random);
        var z = Gaussian.Matrix(random, 5, 7);
        var left = sigma.Evaluate(LinearAlgebra.Multiply(g, z));
        var right = LinearAlgebra.Multiply(g, sigma.Evaluate(z));
        Assert.True(RelativeMaxError(left, right) < 1e-14);
    }

    [Fact]
    public void RadialInverseOnePlusNorm_Column_EqualsClosedForm()
    {
        var z = Gaussian.Matrix(new Random(4), 3, 4);
        var s = Activation.RadialInverseOnePlusNorm.Evaluate(z);
        for (int j = 0; j < 4; j++)
        {
            double r = Math.Sqrt(Enumerable.Range(0, 3).Sum(i => z[i, j] * z[i, j]));
            for (int i = 0; i < 3; i++) Close.Assert(z[i, j] / (1 + r), s[i, j], 1e-15);
        }
    }

    [Theory]
    [InlineData("identity", 1.0)]
    [InlineData("relu", 1.0)]
    [InlineData("leaky-relu:0.3", 1.0)]
    [InlineData("radial-inverse-square", -1.0)]
    public void HomogeneityDegree_PositiveScalar_ScalesOutputByPower(string name, double alpha)
    {
        var sigma = Activation.Parse(name);
        Assert.Equal(alpha, sigma.HomogeneityDegree);
        var z = Gaussian.Matrix(new Random(5), 4, 3);
        const double c = 2.7;
        var scaled = sigma.Evaluate(z * c);
        var expected = sigma.Evaluate(z) * Math.Pow(c, alpha);
        Assert.True(RelativeMaxError(scaled, expected) < 1e-14);
    }

    [Fact]
    public void Parse_UnknownName_ThrowsNamingChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => Activation.Parse("swish"));
        Assert.Contains("swish", e.Message);
        Assert.Contains("relu", e.Message);
    }

    [Fact]
    public void Parse_BadLeakySlope_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Activation.Parse("leaky-relu:abc"));
        Assert.Contains("slope", e.Message);
        Assert.Equal("slope", Assert.Throws<ArgumentOutOfRangeException>(() => Activation.Parse("leaky-relu:1")).ParamName);
        Assert.Equal("slope", Assert.Throws<ArgumentOutOfRangeException>(() => Activation.Parse("leaky-relu:-0.1")).ParamName);
        Assert.Equal("slope", Assert.Throws<ArgumentOutOfRangeException>(() => Activation.LeakyRelu(double.NaN)).ParamName);
        Assert.Equal(0.25, Activation.Parse("leaky-relu:0.25").Slope);
    }

    /// <summary>Stored names keep their meaning: "leaky-relu" without a slope is PyTorch's 0.01, slope 0 is ReLU.</summary>
    [Fact]
    public void Parse_StoredLeakyNames_KeepTheirMeaning()
    {
        Assert.Equal(0.01, Activation.Parse("leaky-relu").Slope);
        Assert.Equal(0.01, Activation.PyTorchLeakySlope);
        Assert.Same(Activation.Relu, Activation.Parse("leaky-relu:0"));
        Assert.Equal("leaky-relu(0.25)", Activation.Parse("LeakyReLU=0.25").Name);
    }

    [Theory]
    [MemberData(nameof(ParsedKinds))]
    public void Parse_GivesTheFamily(string name, ActivationKind expected) => Assert.Equal(expected, Activation.Parse(name).Kind);

    /// <summary>The names results store for each family (CSV columns, summary.json): a compatibility contract.</summary>
    [Theory]
    [InlineData(ActivationKind.Identity, "identity")]
    [InlineData(ActivationKind.Relu, "relu")]
    [InlineData(ActivationKind.LeakyRelu, "leaky-relu")]
    [InlineData(ActivationKind.Sigmoid, "sigmoid")]
    [InlineData(ActivationKind.Tanh, "tanh")]
    [InlineData(ActivationKind.Radial, "radial")]
    [InlineData(ActivationKind.Custom, "custom")]
    public void FamilyName_IsTheStoredName(ActivationKind kind, string stored)
    {
        Assert.Equal(stored, Activation.FamilyName(kind));
        if (Activation.HasFixedFunction(kind)) Assert.Equal(stored, Activation.Of(kind, 0.3).Family);
    }

    [Fact]
    public void Elementwise_IsCustom()
    {
        var exp = Activation.Elementwise("exp", Ops.Exp, Math.Exp, Math.Exp);
        Assert.Equal(ActivationKind.Custom, exp.Kind);
        Assert.True(exp.IsElementwise);
        Assert.False(Activation.RadialInverseOnePlusNorm.IsElementwise);
    }

    [Fact]
    public void LeakyRelu_KeepsItsFamilyForEverySlope_AndReducedGivesTheSimplest()
    {
        Assert.Equal(ActivationKind.LeakyRelu, Activation.LeakyRelu(0).Kind);
        Assert.Equal(ActivationKind.LeakyRelu, Activation.LeakyRelu(1).Kind);
        Assert.Same(Activation.Relu, Activation.LeakyRelu(0).Reduced);
        Assert.Same(Activation.Identity, Activation.LeakyRelu(1).Reduced);
        var leaky = Activation.LeakyRelu(0.2);
        Assert.Same(leaky, leaky.Reduced);
        Assert.Same(Activation.Tanh, Activation.Tanh.Reduced);
        Assert.Equal(0.2, Activation.Of(ActivationKind.LeakyRelu, 0.2).Slope);
        Assert.Equal(0, Activation.Of(ActivationKind.Relu, 0.2).Slope);
    }

    [Theory]
    [InlineData(ActivationKind.Radial)]
    [InlineData(ActivationKind.Custom)]
    public void Of_FamilyWithoutAFixedFunction_ThrowsNamingKind(ActivationKind kind)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Activation.Of(kind, 0.01));
        Assert.Equal("kind", e.ParamName);
        Assert.Contains("Identity, Relu, LeakyRelu, Sigmoid or Tanh", e.Message);
        Assert.False(Activation.HasFixedFunction(kind));
    }

    /// <summary>
    /// Every family with a fixed function builds a layer whose output matches the scalar σ (written independently of the
    /// tape ops the layer uses) entry by entry, in float64 and float32.
    /// </summary>
    [Fact]
    public void EveryFixedFamily_BuildsALayerAgreeingWithTheScalarSigma()
    {
        var z = LayerTests.Random(7, 3, 5);
        for (int i = 0; i < z.Length; i++) z.Data[i] *= 4;
        foreach (var kind in Enum.GetValues<ActivationKind>().Where(Activation.HasFixedFunction))
        {
            var sigma = Activation.Of(kind, 0.1);
            var layer = new Activation<double>(sigma, "act");
            Assert.Equal(kind, layer.Kind);
            Assert.Equal(kind == ActivationKind.LeakyRelu ? 0.1 : 0, layer.Slope);
            var y = layer.Predict(z);
            var y32 = new Activation<float>(sigma, "act").Predict(z.Cast<float>());
            for (int i = 0; i < z.Length; i++)
            {
                Close.Assert(sigma.Value(z.Data[i]), y.Data[i], 1e-15, 1e-16, $"{kind}({z.Data[i]})");
                Close.Assert(sigma.Value(z.Data[i]), y32.Data[i], 1e-6, 1e-7, $"{kind}({z.Data[i]}) in float32");
            }
        }
    }

    [Fact]
    public void Layer_RadialOrCustomInFloat32_IsRejectedNamingTheFunction()
    {
        Assert.Equal("function", Assert.ThrowsAny<ArgumentException>(() => new Activation<double>(Activation.RadialInverseOnePlusNorm)).ParamName);
        var exp = Activation.Elementwise("exp", Ops.Exp, Math.Exp, Math.Exp);
        Assert.Equal("function", Assert.ThrowsAny<ArgumentException>(() => new Activation<float>(exp)).ParamName);
        var y = new Activation<double>(exp).Predict(Tensor<double>.Ones(2, 2));
        Assert.All(y.Data, v => Assert.Equal(Math.E, v, 15));
    }

    [Fact]
    public void Radial_Derivative_ThrowsBecauseNotElementwise()
    {
        Assert.Throws<InvalidOperationException>(() => Activation.RadialInverseOnePlusNorm.Derivative(1.0));
    }

    [Fact]
    public void Radial_Gradient_MatchesFiniteDifference()
    {
        var z0 = Gaussian.Matrix(new Random(6), 3, 4);
        var w = Gaussian.Matrix(new Random(7), 3, 4);
        ScalarFunction<double> f = (tape, p) => Ops.Dot(Activation.RadialInverseOnePlusNorm.Apply(p[0]), tape.Constant(w));
        var fd = FiniteDifference.Gradient(f, [z0], 1e-6)[0];
        var ad = FiniteDifference.AutodiffGradient(f, [z0]);
        Close.Assert(fd, ad, 1e-7, 1e-9);
    }

    // max|a − b| / max|b|.
    private static double RelativeMaxError(Tensor<double> a, Tensor<double> b) =>
        TensorOps.MaxAbs(a - b) / TensorOps.MaxAbs(b);
}
