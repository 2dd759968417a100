using Noether.Conservation;
using Noether.Landscape;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>Appendix F.1: closed forms checked against a numerical gradient flow and finite differences.</summary>
public class EllipseTests
{
    [Theory]
    [InlineData(0.5, 0.8, -0.4)]
    [InlineData(2.0, -1.2, 0.3)]
    [InlineData(3.5, 0.2, 0.9)]
    public void Flow_NumericalGradientFlow_MatchesClosedFormAndConservesQ(double a, double w10, double w20)
    {
        double[] times = [0.05, 0.2, 0.7, 1.5];
        var s = DormandPrince.Solve((_, w, dw) => { var (g1, g2) = Ellipse.Gradient(a, w[0], w[1]); dw[0] = -g1; dw[1] = -g2; },
            0, [w10, w20], times, 1e-12, 1e-15);
        double q0 = Ellipse.ConservedQuantity(a, w10, w20);
        for (int i = 0; i < times.Length; i++)
        {
            var (w1, w2) = Ellipse.Flow(a, w10, w20, times[i]);
            Close.Assert(w1, s.States[i][0], 1e-9, 1e-15, "w1");
            Close.Assert(w2, s.States[i][1], 1e-9, 1e-15, "w2");
            Close.Assert(q0, Ellipse.ConservedQuantity(a, s.States[i][0], s.States[i][1]), 1e-8, 0, "Q");
            Close.Assert(Ellipse.Loss(a, w1, w2), Ellipse.LossAt(a, Ellipse.Loss(a, w10, w20), w20, times[i]), 1e-12, 0, "L(t)");
        }
    }

    [Theory]
    [InlineData(2.0, 1.0, 1e-3)]
    [InlineData(2.0, 1.0, 0.7)]
    [InlineData(0.5, 3.0, 40)]
    [InlineData(4.0, 2.0, 1e6)]
    public void StartForConservedQuantity_InvertsQOfStart(double a, double l0, double q)
    {
        double w20 = Ellipse.StartForConservedQuantity(a, l0, q);
        Assert.InRange(a * w20 * w20, 0, l0);
        Close.Assert(q, Ellipse.ConservedQuantityOfStart(a, l0, w20), 1e-11, 0);
    }

    [Theory]
    [InlineData(2.0, 1.0, 0.4, 0.3)]
    [InlineData(0.5, 2.0, 1.1, 1.0)]
    public void LossSensitivityToQ_MatchesFiniteDifferenceInQ(double a, double l0, double w20, double t)
    {
        double q = Ellipse.ConservedQuantityOfStart(a, l0, w20);
        double dq = 1e-6 * q;
        double lp = Ellipse.LossAt(a, l0, Ellipse.StartForConservedQuantity(a, l0, q + dq), t);
        double lm = Ellipse.LossAt(a, l0, Ellipse.StartForConservedQuantity(a, l0, q - dq), t);
        Close.Assert((lp - lm) / (2 * dq), Ellipse.LossSensitivityToQ(a, l0, w20, t), 1e-5, 1e-12);
    }

    [Fact]
    public void LossSensitivityToQ_Circle_IsZero()
    {
        Close.Assert(0, Ellipse.LossSensitivityToQ(1, 1, 0.5, 0.7), 0, 1e-15);
        Close.Assert(Math.Exp(-4 * 0.7), Ellipse.LossAt(1, 1, 0.5, 0.7), 1e-14);
    }

    [Fact]
    public void BadInput_ThrowsNamingTheInput()
    {
        Assert.Equal("q", Assert.Throws<ArgumentOutOfRangeException>(() => Ellipse.StartForConservedQuantity(2, 1, 0)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentOutOfRangeException>(() => Ellipse.StartForConservedQuantity(-1, 1, 1)).ParamName);
        Assert.Equal("w20", Assert.Throws<ArgumentOutOfRangeException>(() => Ellipse.ConservedQuantityOfStart(2, 1, 1)).ParamName);
        Assert.Equal("w2", Assert.Throws<ArgumentOutOfRangeException>(() => Ellipse.ConservedQuantity(2, 1, 0)).ParamName);
    }
}
