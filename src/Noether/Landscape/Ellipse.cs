namespace Noether.Landscape;

/// <summary>
/// Paper Appendix F.1: the "ellipse" L(w₁, w₂) = w₁² + a·w₂² (a &gt; 0) under gradient flow ẇ = −∇L, whose solution is
/// w₁(t) = w₁₀e^{−2t}, w₂(t) = w₂₀e^{−2at}, and whose conserved quantity is Q = w₁^{2a}/w₂² (read as (w₁²)^a/w₂², so it is
/// defined for negative w₁ too). At a fixed initial loss L₀, Q picks the starting point on the level set and hence the
/// whole loss curve: L(t) = (L₀ − a w₂₀²)e^{−4t} + a w₂₀² e^{−4at}.
/// </summary>
public static class Ellipse
{
    /// <summary>L = w₁² + a·w₂².</summary>
    public static double Loss(double a, double w1, double w2) => w1 * w1 + a * w2 * w2;

    /// <summary>∇L = (2w₁, 2a·w₂).</summary>
    public static (double G1, double G2) Gradient(double a, double w1, double w2) => (2 * w1, 2 * a * w2);

    /// <summary>Q = w₁^{2a}/w₂² = (w₁²)^a / w₂² (F.1), conserved by the gradient flow.</summary>
    /// <exception cref="ArgumentOutOfRangeException">w₂ = 0 (Q is infinite there).</exception>
    public static double ConservedQuantity(double a, double w1, double w2)
    {
        if (w2 == 0) throw Errors.OutOfRange(nameof(w2), w2, "w₂ ≠ 0 (Q = w₁^{2a}/w₂² is infinite on the w₁ axis)");
        return Math.Pow(w1 * w1, a) / (w2 * w2);
    }

    /// <summary>The gradient-flow solution w(t) = (w₁₀e^{−2t}, w₂₀e^{−2at}).</summary>
    public static (double W1, double W2) Flow(double a, double w10, double w20, double t) => (w10 * Math.Exp(-2 * t), w20 * Math.Exp(-2 * a * t));

    /// <summary>L(t) = (L₀ − a w₂₀²)e^{−4t} + a w₂₀² e^{−4at} for the start with initial loss L₀ and second coordinate w₂₀ (F.1).</summary>
    public static double LossAt(double a, double initialLoss, double w20, double t)
    {
        double s = a * w20 * w20;
        return (initialLoss - s) * Math.Exp(-4 * t) + s * Math.Exp(-4 * a * t);
    }

    /// <summary>Q of the start (w₁₀, w₂₀) with w₁₀² = L₀ − a w₂₀²: Q = (L₀ − a w₂₀²)^a / w₂₀².</summary>
    public static double ConservedQuantityOfStart(double a, double initialLoss, double w20)
    {
        CheckStart(a, initialLoss, w20);
        return Math.Pow(initialLoss - a * w20 * w20, a) / (w20 * w20);
    }

    /// <summary>
    /// The paper's ∂_Q L(t) at fixed L₀ (F.1): (dL(t)/dw₂₀)·(dQ/dw₂₀)⁻¹. Zero for a = 1 (circle), as the paper notes.
    /// </summary>
    public static double LossSensitivityToQ(double a, double initialLoss, double w20, double t)
    {
        CheckStart(a, initialLoss, w20);
        double w = w20, r = initialLoss - a * w * w;
        double dL = -2 * a * w * Math.Exp(-4 * t) + 2 * a * w * Math.Exp(-4 * a * t);
        double dQ = (a * Math.Pow(r, a - 1) * (-2 * a * w) * w * w - 2 * w * Math.Pow(r, a)) / Math.Pow(w, 4);
        return dL / dQ;
    }

    /// <summary>
    /// The w₂₀ &gt; 0 of the start with initial loss L₀ and conserved quantity Q: the root of (L₀ − a s)^a / s = Q in
    /// s = w₂₀² ∈ (0, L₀/a), where the left side falls strictly from +∞ to 0, so every Q &gt; 0 is reached exactly once.
    /// Solved by bisection on log s to full double precision.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">a or L₀ not positive, or Q not positive (Q = 0 would need w₁₀ = 0; Q &lt; 0 is impossible).</exception>
    public static double StartForConservedQuantity(double a, double initialLoss, double q)
    {
        Errors.ThrowIfNotPositive(a, nameof(a));
        Errors.ThrowIfNotPositive(initialLoss, nameof(initialLoss));
        if (!(q > 0) || double.IsInfinity(q))
            throw Errors.OutOfRange(nameof(q), q, "a positive finite Q (Q = w₁^{2a}/w₂² is > 0 whenever w₁ ≠ 0; Q = 0 only on the w₂ axis, where L₀ fixes w₂ alone)");
        double hi = initialLoss / a; // s = w₂₀² lies in (0, hi)
        double G(double s) => a * Math.Log(initialLoss - a * s) - Math.Log(s) - Math.Log(q); // decreasing in s
        // Bisection in s, geometric while the lower end is 0.
        double sLo = hi * 1e-300, sHi = hi;
        if (G(sLo) < 0) return Math.Sqrt(sLo);
        for (int i = 0; i < 4000 && sHi - sLo > 4 * double.Epsilon * sHi; i++)
        {
            double mid = sLo > 0 && sHi / sLo > 4 ? Math.Sqrt(sLo * sHi) : 0.5 * (sLo + sHi);
            if (mid <= sLo || mid >= sHi) break;
            if (G(mid) > 0) sLo = mid;
            else sHi = mid;
        }
        return Math.Sqrt(0.5 * (sLo + sHi));
    }

    private static void CheckStart(double a, double initialLoss, double w20)
    {
        Errors.ThrowIfNotPositive(a, nameof(a));
        Errors.ThrowIfNotPositive(initialLoss, nameof(initialLoss));
        if (!(w20 != 0 && a * w20 * w20 < initialLoss))
            throw Errors.OutOfRange(nameof(w20), w20, $"0 < a·w₂₀² < L₀ = {initialLoss} (so that w₁₀² = L₀ − a·w₂₀² > 0)");
    }
}
