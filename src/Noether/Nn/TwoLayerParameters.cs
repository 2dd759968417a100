using Noether.Tensors;

namespace Noether.Nn;

/// <summary>
/// θ = (U, V) of the two-layer network F(X) = U σ(VX): U is m×h, V is h×n (SPEC conventions). The tensors are
/// held, not copied; the list form <see cref="AsList"/> is [U, V].
/// </summary>
public sealed record TwoLayerParameters
{
    /// <summary>Wraps U (m×h) and V (h×n), checking that the hidden widths agree.</summary>
    public TwoLayerParameters(Tensor<double> u, Tensor<double> v)
    {
        ArgumentNullException.ThrowIfNull(u);
        ArgumentNullException.ThrowIfNull(v);
        if (u.Rank != 2) throw Errors.BadShape("two-layer parameters", "U", u.Shape, "an m×h matrix");
        if (v.Rank != 2) throw Errors.BadShape("two-layer parameters", "V", v.Shape, "an h×n matrix");
        if (u.Dim(1) != v.Dim(0))
            throw Errors.ShapeMismatch("two-layer parameters", "U", u.Shape, "V", v.Shape, $"U has {u.Dim(1)} columns but V has {v.Dim(0)} rows; both must be the hidden width h");
        U = u;
        V = v;
    }

    /// <summary>The output layer, m×h.</summary>
    public Tensor<double> U { get; }

    /// <summary>The hidden layer, h×n.</summary>
    public Tensor<double> V { get; }

    /// <summary>Output width m.</summary>
    public int M => U.Dim(0);

    /// <summary>Hidden width h.</summary>
    public int H => U.Dim(1);

    /// <summary>Input width n.</summary>
    public int N => V.Dim(1);

    /// <summary>Number of scalars, m·h + h·n.</summary>
    public int Count => U.Length + V.Length;

    /// <summary>[U, V].</summary>
    public Tensor<double>[] AsList() => [U, V];

    /// <summary>A deep copy.</summary>
    public TwoLayerParameters Copy() => new(U.Clone(), V.Clone());

    /// <summary>From a list [U, V].</summary>
    public static TwoLayerParameters FromList(IReadOnlyList<Tensor<double>> theta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        if (theta.Count != 2) throw Errors.Argument(nameof(theta), $"two-layer parameters: expected [U, V], got {theta.Count} tensors");
        return new TwoLayerParameters(theta[0], theta[1]);
    }

    /// <summary>Gaussian parameters with standard deviations <paramref name="stdU"/> and <paramref name="stdV"/>.</summary>
    public static TwoLayerParameters Gaussian(Random random, int m, int h, int n, double stdU = 1, double stdV = 1) =>
        new(Tensors.Gaussian.Matrix(random, m, h, stdU), Tensors.Gaussian.Matrix(random, h, n, stdV));

    /// <summary>Xavier initialisation as in Appendix E (eq. 46): U_ij ~ N(0, 1/h), V_ij ~ N(0, 1/n).</summary>
    public static TwoLayerParameters Xavier(Random random, int m, int h, int n) =>
        Gaussian(random, m, h, n, 1 / Math.Sqrt(h), 1 / Math.Sqrt(n));

    /// <summary>θ + s·δ.</summary>
    public TwoLayerParameters Add(TwoLayerParameters delta, double s = 1)
    {
        ArgumentNullException.ThrowIfNull(delta);
        CheckSameShape(delta, nameof(delta));
        return new(Axpy(U, delta.U, s), Axpy(V, delta.V, s));
    }

    /// <summary>⟨θ, δ⟩ = ⟨U, δU⟩ + ⟨V, δV⟩.</summary>
    public double Inner(TwoLayerParameters other)
    {
        ArgumentNullException.ThrowIfNull(other);
        CheckSameShape(other, nameof(other));
        return TensorOps.Dot(U, other.U) + TensorOps.Dot(V, other.V);
    }

    /// <summary>‖θ‖ = √(‖U‖² + ‖V‖²).</summary>
    public double Norm() => Math.Sqrt(Inner(this));

    /// <inheritdoc/>
    public override string ToString() => $"(U {M}×{H}, V {H}×{N})";

    internal void CheckSameShape(TwoLayerParameters other, string name)
    {
        if (!U.SameShape(other.U) || !V.SameShape(other.V))
            throw Errors.Argument(name, $"{name} is {other} but the parameters are {this}");
    }

    private static Tensor<double> Axpy(Tensor<double> x, Tensor<double> y, double s)
    {
        var r = x.Clone();
        for (int i = 0; i < r.Length; i++) r.Data[i] += s * y.Data[i];
        return r;
    }
}
