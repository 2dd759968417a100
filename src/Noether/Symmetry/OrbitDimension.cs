using Noether.Nn;
using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>A measured orbit dimension: the numerical rank of M ↦ M̄_θ.</summary>
/// <param name="Dimension">Number of singular values above <paramref name="RelativeTolerance"/>·σ_max.</param>
/// <param name="AlgebraDimension">dim 𝔤 (the number of columns of the map).</param>
/// <param name="SingularValues">All singular values of the map in the algebra basis, largest first.</param>
/// <param name="RelativeTolerance">The rank cut, relative to the largest singular value.</param>
/// <param name="Gap">Smallest kept singular value over the largest dropped one (∞ when none is dropped): how clear the rank is.</param>
public sealed record OrbitDimensionResult(int Dimension, int AlgebraDimension, double[] SingularValues, double RelativeTolerance, double Gap);

/// <summary>
/// The dimension of the orbit G·θ, i.e. of the tangent space {M̄_θ : M ∈ 𝔤} (B.6), measured as the numerical rank
/// (SVD) of the linear map M ↦ M̄_θ written in a basis of 𝔤, next to closed forms. With U (m×h) and V (h×n)
/// generic, the stabiliser algebra is {M : U dπ(M) = 0, MV = 0}, which gives (SPEC, checked by hand):
/// GL_h: h² − max(0, h−n)·max(0, h−m) (eq. 20); positive scaling: h; O(h): C(h,2) − C(max(0, h−m−n), 2)
/// (an antisymmetric M that kills the row space of U and the column space of V lives on their complement, of
/// dimension max(0, h−m−n)). The paper's eqs. 21–22 put min(h, max(m, n)) and max(m, n) in place of h and m + n;
/// they agree with the correct forms only when h ≤ max(m, n).
/// </summary>
public static class OrbitDimension
{
    /// <summary>The default rank cut: singular values ≤ 1e-9·σ_max count as zero (generic Gaussian θ of moderate size has a gap of many orders around it).</summary>
    public const double DefaultTolerance = 1e-9;

    /// <summary>The rank of M ↦ M̄_θ = (−U dπ(M), MV) at θ.</summary>
    public static OrbitDimensionResult Measure(MatrixGroup group, TwoLayerParameters theta, double relativeTolerance = DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(theta);
        group.CheckWidth(theta);
        var basis = group.AlgebraBasis();
        var columns = basis.Select(m => (IReadOnlyList<Tensor<double>>)group.InfinitesimalAction(m, theta).AsList()).ToList();
        return Rank(columns, theta.Count, relativeTolerance);
    }

    /// <summary>The rank of M ↦ M̄_θ for the multilayer action (eq. 18) at the given weights.</summary>
    public static OrbitDimensionResult Measure(MultilayerAction action, IReadOnlyList<Tensor<double>> weights, double relativeTolerance = DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(weights);
        var columns = action.AlgebraBasis().Select(m => (IReadOnlyList<Tensor<double>>)action.InfinitesimalAction(m, weights)).ToList();
        return Rank(columns, weights.Sum(w => w.Length), relativeTolerance);
    }

    /// <summary>GL_h orbit dimension for generic θ: h² − max(0, h−n)·max(0, h−m) (eq. 20, correct as printed).</summary>
    public static int GeneralLinear(int m, int h, int n)
    {
        CheckShape(m, h, n);
        return h * h - Math.Max(0, h - n) * Math.Max(0, h - m);
    }

    /// <summary>Positive-scaling orbit dimension for generic θ: h (no column of U and row of V vanish together).</summary>
    public static int PositiveScaling(int m, int h, int n)
    {
        CheckShape(m, h, n);
        return h;
    }

    /// <summary>O(h) orbit dimension for generic θ: C(h,2) − C(max(0, h−m−n), 2).</summary>
    public static int Orthogonal(int m, int h, int n)
    {
        CheckShape(m, h, n);
        return Choose2(h) - Choose2(Math.Max(0, h - m - n));
    }

    /// <summary>The paper's eq. 21, min(h, max(n, m)): wrong when h &gt; max(m, n).</summary>
    public static int PaperPositiveScaling(int m, int h, int n)
    {
        CheckShape(m, h, n);
        return Math.Min(h, Math.Max(n, m));
    }

    /// <summary>The paper's eq. 22, C(h,2) if h ≤ max(n, m), else C(h,2) − C(h − max(m, n), 2): wrong when h &gt; max(m, n).</summary>
    public static int PaperOrthogonal(int m, int h, int n)
    {
        CheckShape(m, h, n);
        int k = Math.Max(m, n);
        return h <= k ? Choose2(h) : Choose2(h) - Choose2(h - k);
    }

    /// <summary>The correct closed form for <paramref name="group"/>'s kind, or null for an unknown group.</summary>
    public static int? ClosedForm(MatrixGroup group, int m, int n) => ByKind(group, m, n, PositiveScaling, Orthogonal);

    /// <summary>The paper's closed form (eqs. 20–22) for <paramref name="group"/>'s kind, or null for an unknown group.</summary>
    public static int? PaperClosedForm(MatrixGroup group, int m, int n) => ByKind(group, m, n, PaperPositiveScaling, PaperOrthogonal);

    // The closed form of group's kind at h = group.Size; GL(h)'s (eq. 20) is the same in the paper and here.
    private static int? ByKind(MatrixGroup group, int m, int n, Func<int, int, int, int> positiveScaling, Func<int, int, int, int> orthogonal)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group switch
        {
            GeneralLinearGroup => GeneralLinear(m, group.Size, n),
            PositiveScalingGroup => positiveScaling(m, group.Size, n),
            OrthogonalGroup => orthogonal(m, group.Size, n),
            _ => null,
        };
    }

    private static int Choose2(int k) => k * (k - 1) / 2;

    private static void CheckShape(int m, int h, int n)
    {
        Errors.ThrowIfNotPositive(m, nameof(m));
        Errors.ThrowIfNotPositive(h, nameof(h));
        Errors.ThrowIfNotPositive(n, nameof(n));
    }

    private static OrbitDimensionResult Rank(List<IReadOnlyList<Tensor<double>>> columns, int rows, double relativeTolerance)
    {
        if (!(relativeTolerance > 0 && relativeTolerance < 1)) throw Errors.OutOfRange(nameof(relativeTolerance), relativeTolerance, "a number in (0, 1)");
        var j = Tensor<double>.Zeros(rows, columns.Count);
        for (int c = 0; c < columns.Count; c++)
        {
            int r = 0;
            foreach (var t in columns[c])
                foreach (var x in t.Data) j[r++, c] = x;
        }
        var s = LinearAlgebra.SingularValues(j, BlasProvider.Managed); // MathNet, as when the stored results were made
        int rank = LinearAlgebra.Rank(s, relativeTolerance);
        double gap = rank >= s.Length ? double.PositiveInfinity : rank == 0 ? 0 : s[rank] == 0 ? double.PositiveInfinity : s[rank - 1] / s[rank];
        return new OrbitDimensionResult(rank, columns.Count, s, relativeTolerance, gap);
    }
}
