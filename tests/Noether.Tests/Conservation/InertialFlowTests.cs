using Noether.Conservation;

namespace Noether.Tests.Conservation;

/// <summary>
/// The momentum form's one-step propagator against closed-form solutions of a·Q̈ + c·Q̇ + κQ = f (a = η(1 + μ)/2,
/// c = 1 − μ) over a step of length η. Both sides are float64 evaluations of smooth functions of O(1) arguments, so they
/// agree to ~1e-15; 1e-12 leaves room.
/// </summary>
public sealed class InertialFlowTests
{
    [Theory]
    [InlineData(0.1, 0.9, 3.0, -0.7, 2.5)]
    [InlineData(0.002, 0.9, 0.2, 0.01, 0.3)]
    [InlineData(0.05, 0.5, 1.0, 0.0, 1.0)]
    public void WithoutDecay_EqualsTheClosedForm(double eta, double mu, double q0, double rate0, double drive)
    {
        // κ = 0: Q̇ relaxes to f/c at rate β = c/a; Q integrates it.
        double a = eta * (1 + mu) / 2, c = 1 - mu, beta = c / a, h = eta, decay = Math.Exp(-beta * h);
        double rate = rate0 * decay + drive / c * (1 - decay);
        double q = q0 + rate0 * (1 - decay) / beta + drive / c * (h - (1 - decay) / beta);
        var (q1, r1) = InertialFlow.Over(eta, mu, nesterov: false, lambda: 0, kappa: 0).Advance(q0, rate0, drive);
        Assert.Equal(q, q1, 1e-12);
        Assert.Equal(rate, r1, 1e-12);
    }

    [Theory]
    [InlineData(0.1, 0.9, 0.05)]
    [InlineData(0.01, 0.5, 0.5)]
    [InlineData(0.2, 0.9, 2.0)]  // underdamped: c² < 4aκ
    public void WithDecay_EqualsTheClosedForm(double eta, double mu, double kappa)
    {
        // Homogeneous part from the characteristic roots r = (−c ± √(c² − 4aκ))/(2a) (complex when underdamped), particular
        // solution f/κ.
        double a = eta * (1 + mu) / 2, c = 1 - mu, h = eta, q0 = 1.3, rate0 = -0.4, drive = 0.8;
        var disc = System.Numerics.Complex.Sqrt(c * c - 4 * a * kappa);
        var r1 = (-c + disc) / (2 * a);
        var r2 = (-c - disc) / (2 * a);
        double steady = drive / kappa, x0 = q0 - steady;
        // x(t) = A e^{r1 t} + B e^{r2 t}, x(0) = x0, x'(0) = rate0.
        var b = (rate0 - r1 * x0) / (r2 - r1);
        var aa = x0 - b;
        var x = aa * System.Numerics.Complex.Exp(r1 * h) + b * System.Numerics.Complex.Exp(r2 * h);
        var dx = aa * r1 * System.Numerics.Complex.Exp(r1 * h) + b * r2 * System.Numerics.Complex.Exp(r2 * h);
        var (q1, rate1) = InertialFlow.Over(eta, mu, nesterov: false, lambda: 0, kappa: kappa).Advance(q0, rate0, drive);
        Assert.Equal(steady + x.Real, q1, 1e-12);
        Assert.Equal(dx.Real, rate1, 1e-12);
    }

    [Fact]
    public void Nesterov_AddsItsDamping()
    {
        // Nesterov's c = 1 − μ + ημλ: the same closed form as heavy ball with that c (κ = 0 isolates it).
        double eta = 0.1, mu = 0.9, lambda = 0.3;
        double a = eta * (1 + mu) / 2, c = 1 - mu + eta * mu * lambda, decay = Math.Exp(-c / a * eta);
        var (_, rate) = InertialFlow.Over(eta, mu, nesterov: true, lambda, kappa: 0).Advance(0, 1, 0);
        Assert.Equal(decay, rate, 1e-12);
        var (_, heavy) = InertialFlow.Over(eta, mu, nesterov: false, lambda, kappa: 0).Advance(0, 1, 0);
        Assert.True(Math.Abs(heavy - rate) > 1e-4, "Nesterov's extra damping must change the step");
    }
}
