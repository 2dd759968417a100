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
        var e = Exp(new[,] { { 0, eta, 0 }, { -eta * kappa / a, -eta * c / a, eta / a }, { 0, 0, 0 } });
        return new(e[0, 0], e[0, 1], e[1, 0], e[1, 1], e[0, 2], e[1, 2]);
    }

    /// <summary>(Q, dQ/dt) after the step from their values before it and the step's driving term f.</summary>
    public (double Q, double Rate) Advance(double q, double rate, double drive) =>
        (QQ * q + QR * rate + QF * drive, RQ * q + RR * rate + RF * drive);

    // e^M by scaling and squaring: ‖M/2^s‖₁ ≤ ½, then 20 Taylor terms (remainder < ½²⁰/20! ≈ 4e-25). ‖M‖ ≤ 2 + 2/(1 + μ) + ηκ/a
    // for these steps, so s ≤ 4.
    internal static double[,] Exp(double[,] m)
    {
        int n = m.GetLength(0);
        double norm = 0;
        for (int j = 0; j < n; j++)
        {
            double column = 0;
            for (int i = 0; i < n; i++) column += Math.Abs(m[i, j]);
            norm = Math.Max(norm, column);
        }
        int squarings = norm > 0.5 ? (int)Math.Ceiling(Math.Log2(norm / 0.5)) : 0;
        double scale = Math.Pow(2, -squarings);
        var result = Identity(n);
        var term = Identity(n);
        for (int k = 1; k <= 20; k++)
        {
            term = Multiply(term, m);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    term[i, j] *= scale / k;
                    result[i, j] += term[i, j];
                }
        }
        for (int s = 0; s < squarings; s++) result = Multiply(result, result);
        return result;
    }

    private static double[,] Identity(int n)
    {
        var id = new double[n, n];
        for (int i = 0; i < n; i++) id[i, i] = 1;
        return id;
    }

    private static double[,] Multiply(double[,] x, double[,] y)
    {
        int n = x.GetLength(0);
        var z = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += x[i, k] * y[k, j];
                z[i, j] = s;
            }
        return z;
    }
}
