using Noether.Nn;

namespace Noether.Conservation;

/// <summary>Predicted moments of a conserved quantity over random initialisations.</summary>
/// <param name="Mean">E[Q].</param>
/// <param name="Variance">Var[Q].</param>
/// <param name="FourthCumulant">κ₄[Q] (for the standard error of a sample variance), or NaN when not derived.</param>
public sealed record QuantityMoments(double Mean, double Variance, double FourthCumulant)
{
    /// <summary>Standard error of the mean of <paramref name="draws"/> independent draws.</summary>
    public double StandardErrorOfMean(int draws) => Math.Sqrt(Variance / draws);

    /// <summary>Standard error of the unbiased sample variance of <paramref name="draws"/> draws: √(κ₄/N + 2σ⁴/(N − 1)).</summary>
    public double StandardErrorOfVariance(int draws) =>
        Math.Sqrt((double.IsNaN(FourthCumulant) ? 0 : FourthCumulant) / draws + 2 * Variance * Variance / (draws - 1));
}

/// <summary>
/// Q under Xavier initialisation (Appendix E): U_ij ~ N(0, 1/h), V_ij ~ N(0, 1/n) (eq. 46).
/// <para>Linear, Q = ½Tr[UᵀU − VVᵀ] (eq. 45): Tr UᵀU is a sum of m·h terms (1/h)χ²₁, so E = m and Var = 2m/h; likewise
/// Tr VVᵀ has E = h, Var = 2h/n. Hence E[Q] = ½(m − h) (eq. 47 prints m − h, the mean of the unhalved trace) and
/// Var[Q] = ½(m/h + h/n). Cumulants of c·χ²₁ are κ_r = c^r 2^{r−1}(r−1)!, so κ₄[Q] = 3m/h³ + 3h/n³.</para>
/// <para>Eq. 48 form, Q = ½Tr[UᵀU] − Σ G(V_aj), with s² = 1/n: E = m/2 − hn·E G(v), Var = m/(2h) + hn·Var G(v), where
/// identity/ReLU/LeakyReLU: G = v²/2 (E = s²/2, Var = s⁴/2); sigmoid: G = v + eᵛ − 1 (E = e^{s²/2} − 1,
/// Var = s² + e^{2s²} − e^{s²} + 2s²e^{s²/2}, using E[v eᵛ] = s²e^{s²/2}); tanh: G = ¼(cosh 2v − 1)
/// (E = ¼(e^{2s²} − 1), Var = (1/16)(½(1 + e^{8s²}) − e^{4s²})).</para>
/// </summary>
public static class XavierDistribution
{
    /// <summary>Moments of ½Tr[UᵀU − VVᵀ].</summary>
    public static QuantityMoments LinearTrace(int m, int h, int n)
    {
        Check(m, h, n);
        return new QuantityMoments(0.5 * (m - h), 0.5 * ((double)m / h + (double)h / n),
            3.0 * m / ((double)h * h * h) + 3.0 * h / ((double)n * n * n));
    }

    /// <summary>Moments of the eq. 48 form for σ (identity, ReLU, LeakyReLU, sigmoid, tanh), or null when not derived.</summary>
    public static QuantityMoments? IntegralForm(Activation activation, int m, int h, int n)
    {
        ArgumentNullException.ThrowIfNull(activation);
        Check(m, h, n);
        double s2 = 1.0 / n;
        (double mean, double variance)? g = activation.Kind switch
        {
            ActivationKind.Identity or ActivationKind.Relu or ActivationKind.LeakyRelu => (s2 / 2, s2 * s2 / 2),
            ActivationKind.Sigmoid => (Math.Exp(s2 / 2) - 1, s2 + Math.Exp(2 * s2) - Math.Exp(s2) + 2 * s2 * Math.Exp(s2 / 2)),
            ActivationKind.Tanh => (0.25 * (Math.Exp(2 * s2) - 1), (0.5 * (1 + Math.Exp(8 * s2)) - Math.Exp(4 * s2)) / 16),
            _ => null,
        };
        if (g is not { } v) return null;
        double kappa4 = activation.Kind is ActivationKind.Identity or ActivationKind.Relu or ActivationKind.LeakyRelu
            ? LinearTrace(m, h, n).FourthCumulant : double.NaN;
        return new QuantityMoments(0.5 * m - (double)h * n * v.mean, (double)m / (2 * h) + (double)h * n * v.variance, kappa4);
    }

    private static void Check(int m, int h, int n)
    {
        Errors.ThrowIfNotPositive(m, nameof(m));
        Errors.ThrowIfNotPositive(h, nameof(h));
        Errors.ThrowIfNotPositive(n, nameof(n));
    }
}
