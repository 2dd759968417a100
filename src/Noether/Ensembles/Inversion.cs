using Noether.Tensors;

namespace Noether.Ensembles;

/// <summary>The (pseudo)inverse one ensemble member needs, with its conditioning.</summary>
/// <param name="Inverse">A⁺ (n×m for an m×n A), or null when A was rejected.</param>
/// <param name="ConditionNumber">s_max / s_min of A over its min(m, n) singular values (∞ for a rank-deficient or non-finite A).</param>
/// <param name="Regularised">True when the damped inverse was used.</param>
internal readonly record struct Inversion(Tensor<double>? Inverse, double ConditionNumber, bool Regularised);

/// <summary>The ensembles' policy for ill-conditioned members; the linear algebra is <see cref="LinearAlgebra"/>'s.</summary>
internal static class Inversions
{
    /// <summary>
    /// A⁺ by <see cref="LinearAlgebra.ConditionLimitedPseudoInverse"/>: the plain inverse when s_max/s_min ≤
    /// <paramref name="conditionLimit"/>; otherwise null (reject), or with <paramref name="regularise"/> the damped one.
    /// A non-finite or zero A is rejected.
    /// </summary>
    public static Inversion PseudoInverse(Tensor<double> a, double conditionLimit, bool regularise)
    {
        if (!a.AllFinite()) return new Inversion(null, double.PositiveInfinity, false);
        var inverse = LinearAlgebra.ConditionLimitedPseudoInverse(a, conditionLimit);
        if (inverse.SingularValues[0] == 0) return new Inversion(null, double.PositiveInfinity, false);
        if (inverse.Damped && !regularise) return new Inversion(null, inverse.ConditionNumber, false);
        return new Inversion(inverse.Matrix, inverse.ConditionNumber, inverse.Damped);
    }

    /// <summary>s_max / s_min (∞ when singular or not finite: a member whose g overflowed is as bad as a singular one).</summary>
    public static double ConditionNumber(Tensor<double> a) => a.AllFinite() ? LinearAlgebra.ConditionNumber(a) : double.PositiveInfinity;
}
