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
        if (x.Length != Dimension) throw Errors.Argument(nameof(x), $"symmetric operator: x has {x.Length} entries, expected {Dimension}");
        if (y.Length != Dimension) throw Errors.Argument(nameof(y), $"symmetric operator: y has {y.Length} entries, expected {Dimension}");
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
    /// backward; batches of vectors share one pass through <see cref="HessianOperator{T}.MultiplyMany(Tensor{T})"/>). For a float32
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

    /// <summary>
    /// The diagonal block A_BB = Eᵀ A E of the entries [offset, offset + length) (E embeds the block into the full
    /// vector with zeros elsewhere): e.g. the Hessian of one parameter tensor with the others held fixed. Each product
    /// is one product of this operator.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or outside [0, n).</exception>
    public SymmetricOperator Block(int offset, int length)
    {
        if (offset < 0 || offset >= Dimension) throw Errors.OutOfRange(nameof(offset), offset, $"an index in [0, {Dimension})");
        if (length < 1 || length > Dimension - offset) throw Errors.OutOfRange(nameof(length), length, $"between 1 and {Dimension - offset} (the entries left after offset {offset})");
        int n = Dimension;
        var full = new double[n];
        var result = new double[n];
        return new SymmetricOperator(length, (x, y) =>
        {
            Array.Clear(full);
            x.CopyTo(full.AsSpan(offset, length));
            Multiply(full, result);
            result.AsSpan(offset, length).CopyTo(y);
        }, rows =>
        {
            int k = rows.Dim(0);
            var embedded = Tensor<double>.Zeros(k, n);
            for (int i = 0; i < k; i++) rows.Data.AsSpan(i * length, length).CopyTo(embedded.Data.AsSpan(i * n + offset, length));
            var products = MultiplyMany(embedded);
            var block = Tensor<double>.Zeros(k, length);
            for (int i = 0; i < k; i++) products.Data.AsSpan(i * n + offset, length).CopyTo(block.Data.AsSpan(i * length, length));
            return block;
        });
    }

    /// <summary>
    /// P·A·P with P = I − QQᵀ the orthogonal projector onto the complement of span{<paramref name="directions"/>} (Q an
    /// orthonormal basis of that span, by Gram–Schmidt applied twice; directions dependent on earlier ones to 1e-10 of
    /// their norm are dropped): the operator "modulo" those directions, e.g. a Hessian modulo the tangent space of a
    /// symmetry orbit. It has eigenvalue 0 on the span and the directions are annihilated exactly up to rounding.
    /// </summary>
    /// <param name="directions">Vectors of n entries, all finite.</param>
    /// <returns>The projected operator and Q (one orthonormal row per kept direction).</returns>
    /// <exception cref="ArgumentException">A vector of the wrong length or with a non-finite entry, or no directions.</exception>
    public (SymmetricOperator Projected, Tensor<double> Basis) ProjectOut(IReadOnlyList<double[]> directions)
    {
        var q = OrthonormalBasis(directions, Dimension, nameof(directions));
        int n = Dimension, r = q.Dim(0);
        void Project(Span<double> v)
        {
            for (int i = 0; i < r; i++)
            {
                var qi = q.Data.AsSpan(i * n, n);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(qi, -System.Numerics.Tensors.TensorPrimitives.Dot<double>(qi, v), v, v);
            }
        }
        var px = new double[n];
        var op = new SymmetricOperator(n, (x, y) =>
        {
            x.CopyTo(px);
            Project(px);
            Multiply(px, y);
            Project(y);
        }, rows =>
        {
            var p = new Tensor<double>(rows.Data.AsSpan().ToArray(), rows.ShapeArray);
            for (int i = 0; i < p.Dim(0); i++) Project(p.Data.AsSpan(i * n, n));
            var products = MultiplyMany(p);
            for (int i = 0; i < products.Dim(0); i++) Project(products.Data.AsSpan(i * n, n));
            return products;
        });
        return (op, q);
    }

    /// <summary>An orthonormal basis (rows) of span{directions} by twice-applied Gram–Schmidt, dropping dependent vectors.</summary>
    internal static Tensor<double> OrthonormalBasis(IReadOnlyList<double[]> directions, int n, string name)
    {
        ArgumentNullException.ThrowIfNull(directions, name);
        if (directions.Count == 0) throw Errors.Argument(name, "symmetric operator: no directions to project out");
        var kept = new List<double[]>();
        for (int d = 0; d < directions.Count; d++)
        {
            var t = directions[d] ?? throw Errors.Null($"{name}[{d}]");
            if (t.Length != n) throw Errors.Argument(name, $"symmetric operator: {name}[{d}] has {t.Length} entries, expected {n}");
            int bad = Array.FindIndex(t, x => !double.IsFinite(x));
            if (bad >= 0) throw Errors.Argument(name, $"symmetric operator: {name}[{d}] has a non-finite entry {t[bad]} at {bad}");
            var v = (double[])t.Clone();
            double norm0 = System.Numerics.Tensors.TensorPrimitives.Norm<double>(v);
            if (!(norm0 > 0)) continue;
            for (int pass = 0; pass < 2; pass++)
                foreach (var k in kept) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(k, -System.Numerics.Tensors.TensorPrimitives.Dot<double>(k, v), v, v);
            double norm = System.Numerics.Tensors.TensorPrimitives.Norm<double>(v);
            if (norm <= 1e-10 * norm0) continue;
            System.Numerics.Tensors.TensorPrimitives.Divide(v, norm, v);
            kept.Add(v);
        }
        if (kept.Count == 0) throw Errors.Argument(name, "symmetric operator: every direction to project out is zero");
        var q = Tensor<double>.Zeros(kept.Count, n);
        for (int i = 0; i < kept.Count; i++) kept[i].CopyTo(q.Data, i * n);
        return q;
    }
}
