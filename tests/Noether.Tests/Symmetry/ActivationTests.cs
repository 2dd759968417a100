using Noether.Autodiff;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Symmetry;

public class ActivationTests
{
    public static TheoryData<string> ElementwiseNames => new() { "identity", "relu", "leaky-relu:0.2", "sigmoid", "tanh" };

    [Theory]
    [MemberData(nameof(ElementwiseNames))]
    public void Elementwise_TapeValue_MatchesScalarValue(string name)
    {
        var sigma = Activation.Parse(name);
        var z = RandomMatrix.Gaussian(new Random(1), 4, 6, 2);
        var tapeValue = sigma.Evaluate(z);
        for (int i = 0; i < z.Length; i++) Close.Assert(sigma.Value(z.Data[i]), tapeValue.Data[i], 1e-15, 1e-15, $"{name}({z.Data[i]})");
    }

    [Theory]
    [MemberData(nameof(ElementwiseNames))]
    public void Elementwise_ScalarDerivative_MatchesFiniteDifference(string name)
    {
        var sigma = Activation.Parse(name);
        var random = new Random(2);
        for (int i = 0; i < 50; i++)
        {
            double x = 4 * random.NextDouble() - 2;
            if (Math.Abs(x) < 1e-3) continue; // the kink of ReLU-like σ
            double h = 1e-6;
            double fd = (sigma.Value(x + h) - sigma.Value(x - h)) / (2 * h);
            Close.Assert(fd, sigma.Derivative(x), 1e-8, 1e-9, $"{name}'({x})");
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
        var group = new OrthogonalGroup(5);
        var g = group.RandomElement(random);
        var z = RandomMatrix.Gaussian(random, 5, 7);
        var left = sigma.Evaluate(SymmetryFixtures.MatMul(g, z));
        var right = SymmetryFixtures.MatMul(g, sigma.Evaluate(z));
        Assert.True(SymmetryFixtures.RelativeMaxError(left, right) < 1e-14);
    }

    [Fact]
    public void RadialInverseOnePlusNorm_Column_EqualsClosedForm()
    {
        var z = RandomMatrix.Gaussian(new Random(4), 3, 4);
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
        var z = RandomMatrix.Gaussian(new Random(5), 4, 3);
        const double c = 2.7;
        var scaled = sigma.Evaluate(Scale(z, c));
        var expected = Scale(sigma.Evaluate(z), Math.Pow(c, alpha));
        Assert.True(SymmetryFixtures.RelativeMaxError(scaled, expected) < 1e-14);
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
        Assert.Throws<ArgumentOutOfRangeException>(() => Activation.LeakyRelu(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Activation.LeakyRelu(-0.1));
        Assert.Equal(0.25, Activation.Parse("leaky-relu:0.25").Slope);
    }

    [Theory]
    [InlineData("identity", "GL(4)")]
    [InlineData("relu", "positive scaling (α = 1) on ℝ^4")]
    [InlineData("radial", "O(4)")]
    [InlineData("tanh", null)]
    [InlineData("sigmoid", null)]
    public void ForActivation_ReturnsTheLinearSymmetryGroup(string name, string? group)
    {
        Assert.Equal(group, MatrixGroup.ForActivation(Activation.Parse(name), 4)?.Name);
    }

    [Theory]
    [InlineData(ActivationKind.Identity, "GL(4)")]
    [InlineData(ActivationKind.Relu, "positive scaling (α = 1) on ℝ^4")]
    [InlineData(ActivationKind.LeakyRelu, "positive scaling (α = 1) on ℝ^4")]
    [InlineData(ActivationKind.Tanh, null)]
    [InlineData(ActivationKind.Sigmoid, null)]
    public void ForActivation_OfAKind_IsTheSameMap(ActivationKind kind, string? group)
    {
        Assert.Equal(group, MatrixGroup.ForActivation(kind, 4)?.Name);
        Assert.Equal(1e10, ((GeneralLinearGroup)MatrixGroup.ForActivation(ActivationKind.Identity, 4, 1e10)!).ConditionLimit);
        Assert.Equal("kind", Assert.ThrowsAny<ArgumentException>(() => MatrixGroup.ForActivation(ActivationKind.Radial, 4)).ParamName);
    }

    [Fact]
    public void Radial_Derivative_ThrowsBecauseNotElementwise()
    {
        Assert.Throws<InvalidOperationException>(() => Activation.RadialInverseOnePlusNorm.Derivative(1.0));
    }

    [Fact]
    public void Radial_Gradient_MatchesFiniteDifference()
    {
        var z0 = RandomMatrix.Gaussian(new Random(6), 3, 4);
        var w = RandomMatrix.Gaussian(new Random(7), 3, 4);
        ScalarFunction<double> f = (tape, p) => Ops.Dot(Activation.RadialInverseOnePlusNorm.Apply(p[0]), tape.Constant(w));
        var fd = FiniteDifference.Gradient(f, [z0], 1e-6)[0];
        var ad = FiniteDifference.AutodiffGradient(f, [z0]);
        Close.Assert(fd, ad, 1e-7, 1e-9);
    }

    private static Tensor<double> Scale(Tensor<double> a, double s)
    {
        var r = a.Clone();
        for (int i = 0; i < r.Length; i++) r.Data[i] *= s;
        return r;
    }
}
