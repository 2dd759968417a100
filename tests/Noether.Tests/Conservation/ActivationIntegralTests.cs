using Noether.Autodiff;
using Noether.Conservation;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Conservation;

public class ActivationIntegralTests
{
    public static TheoryData<string, double, double> ClosedFormRanges => new()
    {
        { "identity", -4, 4 },
        { "relu", 0, 4 },            // σ/σ' = 0/0 for x < 0: quadrature refuses it (see below)
        { "leaky-relu:0.1", -4, 4 },
        { "sigmoid", -6, 6 },
        { "tanh", -3, 3 },
    };

    [Theory]
    [MemberData(nameof(ClosedFormRanges))]
    public void ClosedForm_MatchesQuadrature(string name, double from, double to)
    {
        var integral = ActivationIntegral.For(Activation.Parse(name));
        Assert.True(integral.HasClosedForm);
        for (int i = 0; i <= 40; i++)
        {
            double v = from + (to - from) * i / 40.0;
            double closed = integral.ClosedForm(v);
            double numeric = integral.Quadrature(v);
            Assert.True(Math.Abs(closed - numeric) <= 1e-9 * Math.Max(1, Math.Abs(closed)), $"{name}: G({v}) closed {closed:R} vs quadrature {numeric:R}");
        }
    }

    [Theory]
    [InlineData("sigmoid")]
    [InlineData("tanh")]
    [InlineData("identity")]
    public void ClosedForm_DerivativeIsSigmaOverSigmaPrime(string name)
    {
        // G'(v) = σ(v)/σ'(v), independently of the quadrature.
        var sigma = Activation.Parse(name);
        var integral = ActivationIntegral.For(sigma);
        foreach (double v in new[] { -2.5, -0.7, 0.3, 1.9 })
        {
            const double h = 1e-5;
            double fd = (integral.ClosedForm(v + h) - integral.ClosedForm(v - h)) / (2 * h);
            Close.Assert(sigma.Value(v) / sigma.Derivative(v), fd, 1e-8);
        }
        Assert.Equal(0.0, integral.ClosedForm(0));
    }

    [Fact]
    public void Quadrature_CustomSoftplus_HasDerivativeSigmaOverSigmaPrime()
    {
        // softplus(x) = log(1 + eˣ), σ' = logistic(x): no closed form here, so G comes from quadrature.
        var softplus = Activation.Elementwise("softplus",
            z => Ops.Log(Ops.AddScalar(Ops.Exp(z), 1.0)),
            x => Math.Log(1 + Math.Exp(x)),
            x => 1 / (1 + Math.Exp(-x)));
        var integral = ActivationIntegral.For(softplus);
        Assert.False(integral.HasClosedForm);
        foreach (double v in new[] { -1.5, 0.4, 2.2 })
        {
            const double h = 1e-4;
            double fd = (integral.Evaluate(v + h) - integral.Evaluate(v - h)) / (2 * h);
            Close.Assert(softplus.Value(v) / softplus.Derivative(v), fd, 1e-7);
        }
    }

    [Fact]
    public void Quadrature_ReluOnNegativeSide_ThrowsNamingThePoint()
    {
        var e = Assert.Throws<ArgumentException>(() => ActivationIntegral.For(Activation.Relu).Quadrature(-1.0));
        Assert.Contains("cannot handle 'relu'", e.Message);
        Assert.Contains("σ' = 0", e.Message);
    }

    [Fact]
    public void For_RadialActivation_ThrowsBecauseNotElementwise()
    {
        var e = Assert.Throws<ArgumentException>(() => ActivationIntegral.For(Activation.RadialInverseOnePlusNorm));
        Assert.Contains("elementwise", e.Message);
    }

    [Fact]
    public void For_CustomHomogeneous_UsesQuadraticClosedForm()
    {
        // σ(x) = 2x for x > 0, x/2 otherwise: degree 1, σ/σ' = x, G = v²/2.
        var sigma = Activation.Elementwise("two-slope", z => Ops.LeakyRelu(z, 0.25), x => x > 0 ? 2 * x : 0.5 * x, x => x > 0 ? 2 : 0.5, 1);
        var integral = ActivationIntegral.For(sigma);
        Assert.True(integral.IsQuadratic);
        Close.Assert(integral.Quadrature(1.7), integral.Evaluate(1.7), 1e-10);
        Close.Assert(integral.Quadrature(-1.3), integral.Evaluate(-1.3), 1e-10);
    }

    [Theory]
    [InlineData("identity")]
    [InlineData("relu")]
    [InlineData("tanh")]
    [InlineData("sigmoid")]
    public void IntegralFormTerms_OnAFlatVector_MatchTheScalarEq48Terms(string name)
    {
        var sigma = Activation.Parse(name);
        var random = new Random(11);
        var u = Gaussian.Matrix(random, 3, 4, 0.7);
        var v = Gaussian.Matrix(random, 4, 2, 0.7);
        var (first, second) = ActivationIntegral.For(sigma).IntegralFormTerms(u.Data.Concat(v.Data).ToArray(), u.Length);
        var terms = ConservedQuantity.IntegralForm(sigma).Terms([u, v]);
        Close.Assert(terms.First[0], first, 1e-13, 1e-14, "½‖U‖²");
        Close.Assert(terms.Second[0], second, 1e-12, 1e-14, "Σ G(V)");
        Assert.Equal("uCount", Assert.ThrowsAny<ArgumentOutOfRangeException>(() => ActivationIntegral.For(sigma).IntegralFormTerms(new double[3], 4)).ParamName);
    }
}
