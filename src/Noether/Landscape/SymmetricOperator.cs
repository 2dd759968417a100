using System.Numerics;
using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>y = A·x for a symmetric n×n operator A, without forming A (x and y do not overlap).</summary>
public delegate void LinearMap(ReadOnlySpan<double> x, Span<double> y);

/// <summary>
/// A symmetric linear operator known only through its products A·x: a Hessian through Hessian-vector products
/// (double backward), or an explicit matrix. Lanczos, Hutchinson's trace and stochastic Lanczos quadrature
/// (<see cref="Lanczos"/>, <see cref="Hutchinson"/>, <see cref="StochasticLanczosQuadrature"/>) work on it, so
/// they scale to models whose Hessian is too large to store. Counts the products it computes.
/// </summary>
/// <remarks>Not thread-safe (a Hessian operator records on one tape).</remarks>
public sealed class SymmetricOperator
{
    private readonly LinearMap _multiply;
    private readonly Func<Tensor<double>, Tensor<double>>? _multiplyMany;

    /// <summary>An operator of size <paramref name="dimension"/> given by its product.</summary>
    /// <param name="dimension">n ≥ 1.</param>
    /// <param name="multiply">y = A·x for one vector.</param>
    /// <param name="multiplyMany">Optional: rows of a k×n matrix at once (e.g. a batched Hessian pass); by default one product per row.</param>
    public SymmetricOperator(int dimension, LinearMap multiply, Func<Tensor<double>, Tensor<double>>? multiplyMany = null)
    {
        Errors.ThrowIfNotPositive(dimension, nameof(dimension));
        ArgumentNullException.ThrowIfNull(multiply);
        Dimension = dimension;
        _multiply = multiply;
        _multiplyMany = multiplyMany;
    }

    /// <summary>n: the operator is n×n.</summary>
    public int Dimension { get; }

    /// <summary>Products A·x computed so far (each row of a <see cref="MultiplyMany"/> counts one).</summary>
    public long Products { get; private set; }

    /// <summary>y = A·x.</summary>
    /// <exception cref="ArgumentException">x or y does not have <see cref="Dimension"/> entries.</exception>
    public void Multiply(ReadOnlySpan<double> x, Span<double> y)
    {
        if (x.Length != Dimension) throw new ArgumentException($"symmetric operator: x has {x.Length} entries, expected {Dimension}", nameof(x));
        if (y.Length != Dimension) throw new ArgumentException($"symmetric operator: y has {y.Length} entries, expected {Dimension}", nameof(y));
        _multiply(x, y);
        Products++;
    }

    /// <summary>A·xᵢ for every row xᵢ of <paramref name="rows"/> (k×n); row i of the result is A·xᵢ.</summary>
    public Tensor<double> MultiplyMany(Tensor<double> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Rank != 2 || rows.Dim(1) != Dimension)
            throw Errors.BadShape("symmetric operator", nameof(rows), rows.Shape, $"k×{Dimension} (one vector per row)");
        int k = rows.Dim(0), n = Dimension;
        Tensor<double> result;
        if (_multiplyMany is not null)
        {
            result = _multiplyMany(rows);
            if (!result.HasShape(k, n)) throw new InvalidOperationException($"symmetric operator: the batched product returned {result}, expected {k}×{n}");
        }
        else
        {
            result = Tensor<double>.Zeros(k, n);
            for (int i = 0; i < k; i++) _multiply(rows.Data.AsSpan(i * n, n), result.Data.AsSpan(i * n, n));
        }
        Products += k;
        return result;
    }

    /// <summary>The operator of an explicit symmetric matrix (dense product; for tests and small problems).</summary>
    /// <exception cref="ArgumentException">Not square (symmetry is the caller's promise; it is not checked).</exception>
    public static SymmetricOperator FromMatrix(Tensor<double> matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (matrix.Rank != 2 || matrix.Dim(0) != matrix.Dim(1) || matrix.Dim(0) == 0)
            throw Errors.BadShape("symmetric operator", nameof(matrix), matrix.Shape, "a non-empty square matrix");
        int n = matrix.Dim(0);
        var a = matrix.Data;
        return new SymmetricOperator(n, (x, y) =>
        {
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                var row = a.AsSpan(i * n, n);
                for (int j = 0; j < n; j++) s += row[j] * x[j];
                y[i] = s;
            }
        }, rows => TensorOps.MatMul(rows, matrix, transposeB: true));
    }

    /// <summary>
    /// The Hessian of <paramref name="hessian"/>'s function as an operator (exact Hessian-vector products by double
    /// backward; batches of vectors share one pass through <see cref="HessianOperator{T}.MultiplyMany"/>). For a float32
    /// Hessian the vectors are rounded to float32 and the products widened back: prefer a float64 model for spectra.
    /// </summary>
    public static SymmetricOperator FromHessian<T>(HessianOperator<T> hessian) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(hessian);
        if (hessian is HessianOperator<double> h)
            return new SymmetricOperator(h.Dimension, (x, y) => h.Multiply(x).CopyTo(y), h.MultiplyMany);
        int n = hessian.Dimension;
        return new SymmetricOperator(n, (x, y) =>
        {
            var xt = new T[n];
            for (int i = 0; i < n; i++) xt[i] = T.CreateTruncating(x[i]);
            var r = hessian.Multiply(xt);
            for (int i = 0; i < n; i++) y[i] = double.CreateTruncating(r[i]);
        }, rows => hessian.MultiplyMany(rows.Cast<T>()).Cast<double>());
    }
}
