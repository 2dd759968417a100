using Noether.Tensors;

namespace Noether.Conservation;

/// <summary>
/// One optimiser step of the momentum form of the modified equation for a conserved quantity (time t = ηk; docs/monitor.md
/// derives it from the heavy-ball recursion after Kunin et al. 2021): a·Q̈ + c·Q̇ + κ·Q = f with a = η(1 + μ)/2,
/// c = 1 − μ (heavy ball) or 1 − μ + ημλ (Nesterov), κ = 2λ (quadratic Q) or λ (linear Q), and the driving term f held
/// constant over the step's length h = η. The step is propagated exactly, [Q, Q̇, 1] ↦ e^{hA}[Q, Q̇, 1], so the only
/// approximation is the modified equation itself.
/// </summary>
internal readonly record struct InertialFlow(double QQ, double QR, double RQ, double RR, double QF, double RF)
{
    /// <summary>The propagator of one step of learning rate <paramref name="eta"/> (κ = <paramref name="kappa"/>).</summary>
    public static InertialFlow Over(double eta, double mu, bool nesterov, double lambda, double kappa)
    {
        double a = eta * (1 + mu) / 2, c = 1 - mu + (nesterov ? eta * mu * lambda : 0);
        var e = LinearAlgebra.Exponential(new Tensor<double>([0, eta, 0, -eta * kappa / a, -eta * c / a, eta / a, 0, 0, 0], 3, 3));
        return new(e[0, 0], e[0, 1], e[1, 0], e[1, 1], e[0, 2], e[1, 2]);
    }

    /// <summary>(Q, dQ/dt) after the step from their values before it and the step's driving term f.</summary>
    public (double Q, double Rate) Advance(double q, double rate, double drive) =>
        (QQ * q + QR * rate + QF * drive, RQ * q + RR * rate + RF * drive);
}
