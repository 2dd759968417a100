using System.Numerics.Tensors;

namespace Noether.Tensors;

/// <summary>Elementwise binary operations with broadcasting.</summary>
public enum BinaryOp
{
    /// <summary>a + b</summary>
    Add,
    /// <summary>a − b</summary>
    Subtract,
    /// <summary>a · b</summary>
    Multiply,
    /// <summary>a / b</summary>
    Divide,
}

/// <summary>
/// Value-level tensor kernels (no derivatives): products, transposes, broadcasting arithmetic and
/// reductions. Public methods validate shapes and allocate the result; kernels are TensorPrimitives
/// (SIMD) or <see cref="Blas"/>.
/// </summary>
public static class TensorOps
{
    /// <summary>Elementwise loops are cut at multiples of 64 elements (whole cache lines, whole vectors).</summary>
    private const int Granule = 64;

    /// <summary>Matrix product op(a)·op(b) of rank-2 tensors.</summary>
    public static Tensor<T> MatMul<T>(Tensor<T> a, Tensor<T> b, bool transposeA = false, bool transposeB = false,
        BlasProvider provider = BlasProvider.Auto) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Rank != 2) throw Errors.BadShape("matmul", "left", a.Shape, "a matrix (rank 2)");
        if (b.Rank != 2) throw Errors.BadShape("matmul", "right", b.Shape, "a matrix (rank 2)");
        int m = transposeA ? a.Dim(1) : a.Dim(0), ka = transposeA ? a.Dim(0) : a.Dim(1);
        int kb = transposeB ? b.Dim(1) : b.Dim(0), n = transposeB ? b.Dim(0) : b.Dim(1);
        if (ka != kb)
            throw Errors.ShapeMismatch("matmul", "left", a.Shape, "right", b.Shape,
                $"inner dimensions {ka} and {kb} differ{(transposeA || transposeB ? $"; transposed: left {transposeA}, right {transposeB}" : "")}");
        var c = new Tensor<T>(GC.AllocateUninitializedArray<T>(m * n), [m, n], true);
        Blas.Gemm(transposeA, transposeB, m, n, ka, T.One, a.Data, a.Dim(1), b.Data, b.Dim(1), T.Zero, c.Data, n, provider);
        return c;
    }

    /// <summary>Transpose of a matrix.</summary>
    public static Tensor<T> Transpose<T>(Tensor<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Rank != 2) throw Errors.BadShape("transpose", "tensor", a.Shape, "a matrix (rank 2)");
        int r = a.Dim(0), c = a.Dim(1);
        var t = Tensor<T>.Zeros(c, r);
        var src = a.Data;
        var dst = t.Data;
        const int B = 32;
        for (int i0 = 0; i0 < r; i0 += B)
            for (int j0 = 0; j0 < c; j0 += B)
                for (int i = i0; i < Math.Min(i0 + B, r); i++)
                    for (int j = j0; j < Math.Min(j0 + B, c); j++)
                        dst[j * r + i] = src[i * c + j];
        return t;
    }

    /// <summary>The broadcast shape of two shapes (NumPy rules), or an exception naming both.</summary>
    public static int[] BroadcastShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string op = "broadcast")
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw Errors.ShapeMismatch(op, "left", a, "right", b, $"dimension {i} is {da} against {db}; shapes must be equal or 1 there");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Elementwise a ∘ b with broadcasting.</summary>
    public static Tensor<T> Binary<T>(BinaryOp op, Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.SameShape(b))
        {
            var r = Tensor<T>.EmptyLike(a);
            if (r.Length < Ranges.ParallelElements) Apply(op, a.Data, b.Data, r.Data);
            else ApplySplit(op, a.Data, b.Data, r.Data);
            return r;
        }
        var shape = BroadcastShape(a.Shape, b.Shape, OpName(op));
        // A one-element operand broadcast to the other's shape is a scalar operation.
        if (b.Length == 1 && shape.AsSpan().SequenceEqual(a.Shape))
        {
            var r = Tensor<T>.EmptyLike(a);
            ApplyScalarRight(op, a.Data, b.Data[0], r.Data);
            return r;
        }
        if (a.Length == 1 && shape.AsSpan().SequenceEqual(b.Shape))
        {
            var r = Tensor<T>.EmptyLike(b);
            ApplyScalarLeft(op, a.Data[0], b.Data, r.Data);
            return r;
        }
        // The kernel writes every element: no need to zero the buffer first.
        var result = new Tensor<T>(Scratch<T>.Uninitialized(Tensor<T>.Count(shape)), shape, true);
        BroadcastKernel(op, a, b, result);
        return result;
    }

    /// <summary>Elementwise a ∘ s for a scalar s.</summary>
    public static Tensor<T> Binary<T>(BinaryOp op, Tensor<T> a, T s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = Tensor<T>.EmptyLike(a);
        ApplyScalarRight(op, a.Data, s, r.Data);
        return r;
    }

    /// <summary>Elementwise s ∘ a for a scalar s.</summary>
    public static Tensor<T> Binary<T>(BinaryOp op, T s, Tensor<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = Tensor<T>.EmptyLike(a);
        ApplyScalarLeft(op, s, a.Data, r.Data);
        return r;
    }

    /// <summary>Elementwise −a.</summary>
    public static Tensor<T> Negate<T>(Tensor<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = Tensor<T>.EmptyLike(a);
        TensorPrimitives.Negate<T>(a.Data, r.Data);
        return r;
    }

    /// <summary>Sums <paramref name="a"/> over the axes along which <paramref name="shape"/> was broadcast to a's shape.</summary>
    public static Tensor<T> SumTo<T>(Tensor<T> a, ReadOnlySpan<int> shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Shape.SequenceEqual(shape)) return a;
        var check = BroadcastShape(shape, a.Shape, "sum-to");
        if (!check.AsSpan().SequenceEqual(a.Shape))
            throw Errors.ShapeMismatch("sum-to", "tensor", a.Shape, "target", shape, "the target does not broadcast to the tensor");
        var target = shape.ToArray();
        var buffer = Scratch<T>.Uninitialized(Tensor<T>.Count(target));
        Array.Clear(buffer);
        var result = new Tensor<T>(buffer, target, true);
        if (result.Length == 1)
        {
            result.Data[0] = TensorPrimitives.Sum<T>(a.Data);
            return result;
        }
        // Accumulate with the target broadcast back over a's shape: result[idx mod shape] += a[idx].
        Span<int> ad = stackalloc int[4], td = stackalloc int[4], ts = stackalloc int[4];
        Pad4(a.Shape, ad);
        Pad4(shape, td);
        Strides4(td, ts);
        for (int d = 0; d < 4; d++) if (td[d] == 1) ts[d] = 0;
        var src = a.Data;
        var dst = result.Data;
        int inner = ad[3];
        int idx = 0;
        for (int i0 = 0; i0 < ad[0]; i0++)
            for (int i1 = 0; i1 < ad[1]; i1++)
                for (int i2 = 0; i2 < ad[2]; i2++)
                {
                    int baseT = i0 * ts[0] + i1 * ts[1] + i2 * ts[2];
                    var row = src.AsSpan(idx, inner);
                    if (ts[3] == 0) dst[baseT] += TensorPrimitives.Sum<T>(row);
                    else TensorPrimitives.Add(dst.AsSpan(baseT, inner), row, dst.AsSpan(baseT, inner));
                    idx += inner;
                }
        return result;
    }

    /// <summary>Copies <paramref name="a"/> broadcast to <paramref name="shape"/>.</summary>
    public static Tensor<T> BroadcastTo<T>(Tensor<T> a, ReadOnlySpan<int> shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Shape.SequenceEqual(shape)) return a;
        var check = BroadcastShape(a.Shape, shape, "broadcast-to");
        if (!check.AsSpan().SequenceEqual(shape))
            throw Errors.ShapeMismatch("broadcast-to", "tensor", a.Shape, "target", shape, "the tensor does not broadcast to the target");
        if (a.Length == 1) return Tensor<T>.Full(a.Data[0], shape.ToArray());
        var target = shape.ToArray();
        // a·1 copies a exactly (NaN and −0 included) into every broadcast position; every element is written.
        var result = new Tensor<T>(Scratch<T>.Uninitialized(Tensor<T>.Count(target)), target, true);
        BroadcastKernel(BinaryOp.Multiply, a, Tensor<T>.Scalar(T.One), result);
        return result;
    }

    /// <summary>Sum of all elements.</summary>
    public static T Sum<T>(Tensor<T> a) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Sum<T>(a.Data);

    /// <summary>Frobenius inner product ⟨a, b⟩ = Σ a_ij b_ij.</summary>
    public static T Dot<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Length != b.Length) throw Errors.ShapeMismatch("dot", "left", a.Shape, "right", b.Shape, "element counts differ");
        return TensorPrimitives.Dot<T>(a.Data, b.Data);
    }

    /// <summary>Frobenius norm.</summary>
    public static T Norm<T>(Tensor<T> a) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Norm<T>(a.Data);

    /// <summary>Largest |a_i| (0 for an empty tensor; NaN when an entry is).</summary>
    public static T MaxAbs<T>(Tensor<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = T.Zero;
        foreach (var x in a.Data) max = T.Max(max, T.Abs(x));
        return max;
    }

    /// <summary>Largest |a_i − b_i|.</summary>
    public static T MaxAbsDifference<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!a.SameShape(b)) throw Errors.ShapeMismatch("max-abs-difference", "left", a.Shape, "right", b.Shape, "shapes differ");
        T max = T.Zero;
        for (int i = 0; i < a.Length; i++) max = T.Max(max, T.Abs(a.Data[i] - b.Data[i]));
        return max;
    }

    internal static string OpName(BinaryOp op) => op switch
    {
        BinaryOp.Add => "add",
        BinaryOp.Subtract => "subtract",
        BinaryOp.Multiply => "multiply",
        _ => "divide",
    };

    internal static void Apply<T>(BinaryOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(x, y, d); break;
            case BinaryOp.Subtract: TensorPrimitives.Subtract(x, y, d); break;
            case BinaryOp.Multiply: TensorPrimitives.Multiply(x, y, d); break;
            default: TensorPrimitives.Divide(x, y, d); break;
        }
    }

    /// <summary><see cref="Apply{T}"/> one range per core: each element is one rounding wherever the cut falls, so no bit changes.</summary>
    private static void ApplySplit<T>(BinaryOp op, T[] x, T[] y, T[] d) where T : unmanaged, IFloatingPointIeee754<T> =>
        Ranges.For(d.Length, d.Length, (start, end) => Apply<T>(op, x.AsSpan(start, end - start), y.AsSpan(start, end - start), d.AsSpan(start, end - start)), Granule);

    internal static void ApplyScalarRight<T>(BinaryOp op, ReadOnlySpan<T> x, T s, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(x, s, d); break;
            case BinaryOp.Subtract: TensorPrimitives.Subtract(x, s, d); break;
            case BinaryOp.Multiply: TensorPrimitives.Multiply(x, s, d); break;
            default: TensorPrimitives.Divide(x, s, d); break;
        }
    }

    internal static void ApplyScalarLeft<T>(BinaryOp op, T s, ReadOnlySpan<T> y, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(y, s, d); break;
            case BinaryOp.Subtract: TensorPrimitives.Subtract(s, y, d); break;
            case BinaryOp.Multiply: TensorPrimitives.Multiply(y, s, d); break;
            default: TensorPrimitives.Divide(s, y, d); break;
        }
    }

    // Broadcasting over shapes padded to rank 4; the innermost dimension runs through TensorPrimitives.
    private static void BroadcastKernel<T>(BinaryOp op, Tensor<T> a, Tensor<T> b, Tensor<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<int> ad = stackalloc int[4], bd = stackalloc int[4], rd = stackalloc int[4], asd = stackalloc int[4], bsd = stackalloc int[4];
        Pad4(a.Shape, ad);
        Pad4(b.Shape, bd);
        Pad4(result.Shape, rd);
        Strides4(ad, asd);
        Strides4(bd, bsd);
        for (int d = 0; d < 4; d++)
        {
            if (ad[d] == 1) asd[d] = 0;
            if (bd[d] == 1) bsd[d] = 0;
        }
        int inner = rd[3];
        var x = a.Data;
        var y = b.Data;
        var z = result.Data;
        int idx = 0;
        for (int i0 = 0; i0 < rd[0]; i0++)
            for (int i1 = 0; i1 < rd[1]; i1++)
                for (int i2 = 0; i2 < rd[2]; i2++)
                {
                    int ao = i0 * asd[0] + i1 * asd[1] + i2 * asd[2];
                    int bo = i0 * bsd[0] + i1 * bsd[1] + i2 * bsd[2];
                    var dst = z.AsSpan(idx, inner);
                    if (asd[3] != 0 && bsd[3] != 0) Apply(op, x.AsSpan(ao, inner), y.AsSpan(bo, inner), dst);
                    else if (asd[3] != 0) ApplyScalarRight(op, x.AsSpan(ao, inner), y[bo], dst);
                    else if (bsd[3] != 0) ApplyScalarLeft(op, x[ao], y.AsSpan(bo, inner), dst);
                    else dst.Fill(Scalar(op, x[ao], y[bo]));
                    idx += inner;
                }
    }

    private static T Scalar<T>(BinaryOp op, T x, T y) where T : unmanaged, IFloatingPointIeee754<T> => op switch
    {
        BinaryOp.Add => x + y,
        BinaryOp.Subtract => x - y,
        BinaryOp.Multiply => x * y,
        _ => x / y,
    };

    private static void Pad4(ReadOnlySpan<int> shape, Span<int> padded)
    {
        padded.Fill(1);
        for (int i = 0; i < shape.Length; i++) padded[4 - shape.Length + i] = shape[i];
    }

    private static void Strides4(ReadOnlySpan<int> dims, Span<int> strides)
    {
        strides[3] = 1;
        strides[2] = dims[3];
        strides[1] = dims[2] * dims[3];
        strides[0] = dims[1] * dims[2] * dims[3];
    }
}
