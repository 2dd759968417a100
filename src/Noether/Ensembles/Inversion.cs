using Noether.Tensors;

namespace Noether.Ensembles;

/// <summary>The (pseudo)inverse of one matrix an ensemble member needs, with its conditioning.</summary>
/// <param name="Inverse">A⁺ (n×m for an m×n A), or null when A was rejected.</param>
/// <param name="ConditionNumber">s_max / s_min of A over its min(m, n) singular values (∞ for a rank-deficient or non-finite A).</param>
/// <param name="Regularised">True when the damped inverse was used.</param>
internal readonly record struct Inversion(Tensor<double>? Inverse, double ConditionNumber, bool Regularised);

/// <summary>Pseudoinverses by SVD with a condition-number guard (dense, small: h×h or h×k with h ≈ 32).</summary>
internal static class Inversions
{
    /// <summary>
    /// A⁺ = V diag(1/s) Uᵀ when s_max/s_min ≤ <paramref name="conditionLimit"/>. Otherwise: null (reject), or with
    /// <paramref name="regularise"/> the Tikhonov-damped inverse V diag(s/(s² + λ²)) Uᵀ with λ = s_max/limit, whose
    /// largest gain is limit/(2 s_max) — bounded, so the member stays finite.
    /// </summary>
    public static Inversion PseudoInverse(Tensor<double> a, double conditionLimit, bool regularise)
    {
        if (!a.AllFinite()) return new Inversion(null, double.PositiveInfinity, false);
        var (s, u, vt) = Lapack.Svd(a, vectors: true);
        double condition = s[^1] > 0 ? s[0] / s[^1] : double.PositiveInfinity;
        if (s[0] == 0) return new Inversion(null, double.PositiveInfinity, false);
        bool damped = !(condition <= conditionLimit);
        if (damped && !regularise) return new Inversion(null, condition, false);
        double lambda = s[0] / conditionLimit;
        int m = a.Dim(0), n = a.Dim(1), r = s.Length;
        // A⁺ = Σ_r v_r (gain_r) u_rᵀ: an n×m matrix.
        var inverse = Tensor<double>.Zeros(n, m);
        var data = inverse.Data;
        for (int q = 0; q < r; q++)
        {
            double gain = damped ? s[q] / (s[q] * s[q] + lambda * lambda) : 1 / s[q];
            for (int i = 0; i < n; i++)
            {
                double vi = vt!.Data[q * n + i] * gain;
                if (vi == 0) continue;
                for (int j = 0; j < m; j++) data[i * m + j] += vi * u!.Data[j * r + q];
            }
        }
        return new Inversion(inverse, condition, damped);
    }

    /// <summary>s_max / s_min of a square or rectangular matrix (∞ when singular or not finite).</summary>
    public static double ConditionNumber(Tensor<double> a)
    {
        if (!a.AllFinite()) return double.PositiveInfinity;
        var (s, _, _) = Lapack.Svd(a);
        return s[^1] > 0 ? s[0] / s[^1] : double.PositiveInfinity;
    }
}
