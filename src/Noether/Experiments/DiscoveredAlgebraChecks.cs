using Noether.Symmetry;

namespace Noether.Experiments;

/// <summary>
/// How a discovered algebra is judged: against the dimension derived by hand, by its invariance on fresh data, by the
/// structure its basis shows (read from the residuals <see cref="SymmetryDiscovery"/> measures) and by where the
/// constraint spectrum sits on either side of the rank cut.
/// </summary>
public static class DiscoveredAlgebraChecks
{
    /// <summary>Largest relative invariance residual (⟨∇L, (UA, BV)⟩ on fresh data) of a basis that counts as a symmetry.</summary>
    public const double InvarianceLimit = 1e-9;

    /// <summary>Residual below which a structural property of the basis (A = −B, B diagonal, …) is read as holding.</summary>
    public const double StructureLimit = 1e-6;

    /// <summary>The dimension equals the one derived by hand (true when none is known).</summary>
    public static bool MatchesKnown(this DiscoveredAlgebra a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.KnownDimension is not { } k || k == a.Dimension;
    }

    /// <summary>Every basis element leaves the loss invariant on fresh data (within <see cref="InvarianceLimit"/>); true for {0}.</summary>
    public static bool IsInvariant(this DiscoveredAlgebra a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Dimension == 0 || a.MaxInvarianceResidual <= InvarianceLimit;
    }

    /// <summary>The structure the basis shows, e.g. "A = −B, B diagonal".</summary>
    public static string Structure(this DiscoveredAlgebra a)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Dimension == 0) return "{0}: no continuous symmetry";
        var parts = new List<string> { a.MaxPairResidual <= StructureLimit ? "A = −B" : "A + B ≠ 0" };
        if (a.MaxOffDiagonal <= StructureLimit) parts.Add("B diagonal");
        else if (a.MaxSymmetricTraceless <= StructureLimit) parts.Add(a.MaxPairResidual <= StructureLimit ? "B antisymmetric" : "B antisymmetric + cI");
        else parts.Add("B general");
        return string.Join(", ", parts);
    }

    /// <summary>s_rank / s_max: the smallest kept singular value relative to the largest (null when none is kept).</summary>
    public static double? LastKeptRelative(this DiscoveredAlgebra a)
    {
        ArgumentNullException.ThrowIfNull(a);
        int rank = a.SingularValues.Length - a.Dimension;
        return rank > 0 && a.SingularValues[0] > 0 ? a.SingularValues[rank - 1] / a.SingularValues[0] : null;
    }

    /// <summary>s_(rank+1) / s_max: the largest dropped singular value relative to the largest (null when none is dropped).</summary>
    public static double? FirstNullRelative(this DiscoveredAlgebra a)
    {
        ArgumentNullException.ThrowIfNull(a);
        int rank = a.SingularValues.Length - a.Dimension;
        return a.Dimension > 0 && a.SingularValues[0] > 0 ? a.SingularValues[rank] / a.SingularValues[0] : null;
    }
}
