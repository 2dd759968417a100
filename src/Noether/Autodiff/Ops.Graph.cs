using Noether.Tensors;

namespace Noether.Autodiff;

public static partial class Ops
{
    // The operations general computation graphs (Noether.Graphs, ONNX import) need beyond the paper's models.
    // Every layout operation (transpose, slice, pad, concatenation, im2col, pooling windows) is a gather with a
    // fixed index map: gather and scatter-add are linear and each other's adjoints, so each one's backward rule is
    // the other and they differentiate any number of times. Batched matrix products are bilinear and written the
    // same way. None records a batched rule (full Hessians of graphs fall back to one product per column).

    /// <summary>
    /// y[i] = a.flat[index[i]], or 0 where index[i] = −1, with shape <paramref name="shape"/> (index has one entry per
    /// output element). Linear in a; its backward rule is <see cref="ScatterAdd{T}"/>, whose own is this gather.
    /// </summary>
    /// <param name="a">The source tensor.</param>
    /// <param name="index">Flat source position of each output element, in [−1, a.Length).</param>
    /// <param name="shape">The output shape (its element count is index.Length).</param>
    public static Variable<T> Gather<T>(Variable<T> a, int[] index, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(shape);
        if (Tensor<T>.Count(shape) != index.Length)
            throw Errors.BadShape("gather", nameof(shape), shape, $"{index.Length} elements (one per index)");
        var value = new Tensor<T>(GatherValues(a.Value.Data, index), (int[])shape.Clone());
        var source = a.Value.ShapeArray;
        return a.Tape.Record(value, [a], g => [ScatterAdd(g, index, source)], null);
    }

    /// <summary>
    /// The adjoint of <see cref="Gather{T}"/>: a tensor of shape <paramref name="shape"/> with y.flat[index[i]] += g[i]
    /// (entries with index −1 are dropped).
    /// </summary>
    public static Variable<T> ScatterAdd<T>(Variable<T> g, int[] index, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(shape);
        if (g.Value.Length != index.Length)
            throw Errors.BadShape("scatter-add", nameof(g), g.Shape, $"{index.Length} elements (one per index)");
        int n = Tensor<T>.Count(shape);
        var data = new T[n];
        var src = g.Value.Data;
        for (int i = 0; i < index.Length; i++)
        {
            int j = index[i];
            if (j < 0) continue;
            if (j >= n) throw Errors.OutOfRange($"{nameof(index)}[{i}]", j, $"a flat position in [-1, {n})");
            data[j] += src[i];
        }
        var gShape = g.Value.ShapeArray;
        return g.Tape.Record(new Tensor<T>(data, (int[])shape.Clone()), [g], h => [Gather(h, index, gShape)], null);
    }

    private static T[] GatherValues<T>(T[] src, int[] index) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dst = new T[index.Length];
        for (int i = 0; i < index.Length; i++)
        {
            int j = index[i];
            if (j < 0) continue;
            if (j >= src.Length) throw Errors.OutOfRange($"index[{i}]", j, $"a flat position in [-1, {src.Length})");
            dst[i] = src[j];
        }
        return dst;
    }

    /// <summary>
    /// Concatenation along <paramref name="axis"/> (all other dimensions equal). The gradient of each part is a gather
    /// of its block of g, so the op differentiates again.
    /// </summary>
    public static Variable<T> Concat<T>(IReadOnlyList<Variable<T>> parts, int axis) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw Errors.Argument(nameof(parts), "concat: no parts");
        var first = parts[0];
        int rank = first.Rank;
        int ax = axis < 0 ? axis + rank : axis;
        if (ax < 0 || ax >= rank) throw Errors.OutOfRange(nameof(axis), axis, $"an axis of a rank-{rank} tensor");
        var shape = first.Value.ShapeArray;
        int total = 0;
        for (int p = 0; p < parts.Count; p++)
        {
            Same(first, parts[p]);
            var s = parts[p].Shape;
            if (s.Length != rank) throw Errors.ShapeMismatch("concat", $"parts[{p}]", s, "parts[0]", first.Shape, "ranks differ");
            for (int d = 0; d < rank; d++)
                if (d != ax && s[d] != shape[d]) throw Errors.ShapeMismatch("concat", $"parts[{p}]", s, "parts[0]", first.Shape, $"dimension {d} differs");
            total += s[ax];
        }
        shape[ax] = total;
        int outer = 1, inner = 1;
        for (int d = 0; d < ax; d++) outer *= shape[d];
        for (int d = ax + 1; d < rank; d++) inner *= shape[d];
        var data = new T[Tensor<T>.Count(shape)];
        var blocks = new int[parts.Count][];
        int offset = 0;
        for (int p = 0; p < parts.Count; p++)
        {
            int len = parts[p].Value.Dim(ax);
            var map = new int[parts[p].Value.Length];
            var src = parts[p].Value.Data;
            int k = 0;
            for (int o = 0; o < outer; o++)
                for (int a = 0; a < len; a++)
                {
                    int dst = (o * total + offset + a) * inner;
                    for (int i = 0; i < inner; i++, k++)
                    {
                        map[k] = dst + i;
                        data[dst + i] = src[k];
                    }
                }
            blocks[p] = map;
            offset += len;
        }
        var partShapes = parts.Select(v => v.Value.ShapeArray).ToArray();
        return first.Tape.Record(new Tensor<T>(data, shape), parts.ToArray(), g =>
        {
            var r = new Variable<T>?[blocks.Length];
            for (int p = 0; p < r.Length; p++) if (parts[p].RequiresGrad) r[p] = Gather(g, blocks[p], partShapes[p]);
            return r;
        }, null);
    }

    /// <summary>
    /// Batched matrix product a·b over the last two axes, the leading (batch) axes broadcast as in NumPy's matmul:
    /// a [..., m, k], b [..., k, n] → [..., m, n]. Bilinear; its backward rule is two batched products (and sums over
    /// broadcast batch axes), so it differentiates again.
    /// </summary>
    public static Variable<T> BatchMatMul<T>(Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = Same(a, b);
        if (a.Rank < 2) throw Errors.BadShape("batch-matmul", "left", a.Shape, "rank ≥ 2");
        if (b.Rank < 2) throw Errors.BadShape("batch-matmul", "right", b.Shape, "rank ≥ 2");
        if (a.Rank == 2 && b.Rank == 2) return MatMul(a, b);
        var value = BatchMatMulValue(a.Value, b.Value);
        return tape.Record(value, [a, b], g => [
            a.RequiresGrad ? SumTo(BatchMatMul(g, SwapLastAxes(b)), a.Value.ShapeArray) : null,
            b.RequiresGrad ? SumTo(BatchMatMul(SwapLastAxes(a), g), b.Value.ShapeArray) : null], null);
    }

    /// <summary>Swaps the last two axes (a batched transpose).</summary>
    public static Variable<T> SwapLastAxes<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rank < 2) throw Errors.BadShape("swap-last-axes", "input", a.Shape, "rank ≥ 2");
        if (a.Rank == 2) return Transpose(a);
        var perm = new int[a.Rank];
        for (int i = 0; i < perm.Length; i++) perm[i] = i;
        (perm[^1], perm[^2]) = (perm[^2], perm[^1]);
        return Permute(a, perm);
    }

    /// <summary>Permutes the axes: output axis i is input axis perm[i] (NumPy's transpose).</summary>
    public static Variable<T> Permute<T>(Variable<T> a, int[] perm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(perm);
        var (index, shape) = PermuteIndex(a.Shape, perm);
        return Gather(a, index, shape);
    }

    /// <summary>
    /// The flat source index of each element of the permuted tensor, and its shape. A graph asks for the same few maps on
    /// every pass (an attention layer's transposes), so each is built once — an odometer over the output that carries the
    /// source offset — and kept, read-only, while the kept maps stay under <see cref="PermuteCacheElements"/> indices.
    /// </summary>
    public static (int[] Index, int[] Shape) PermuteIndex(ReadOnlySpan<int> shape, int[] perm)
    {
        int rank = shape.Length;
        if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
            throw Errors.Argument(nameof(perm), $"permute: [{string.Join(",", perm)}] is not a permutation of the {rank} axes of a {Errors.Shape(shape)} tensor");
        var outShape = new int[rank];
        for (int d = 0; d < rank; d++) outShape[d] = shape[perm[d]];
        string key = string.Join(",", shape.ToArray()) + "|" + string.Join(",", perm);
        if (PermuteCache.TryGetValue(key, out var cached)) return (cached, outShape);
        var index = BuildPermuteIndex(shape, perm, outShape);
        if (Interlocked.Add(ref _permuteCached, index.Length) <= PermuteCacheElements) PermuteCache.TryAdd(key, index);
        return (index, outShape);
    }

    /// <summary>Indices kept by <see cref="PermuteIndex"/> at most (128 MB).</summary>
    private const long PermuteCacheElements = 1 << 25;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]> PermuteCache = new();
    private static long _permuteCached;

    private static int[] BuildPermuteIndex(ReadOnlySpan<int> shape, int[] perm, int[] outShape)
    {
        int rank = shape.Length;
        var strides = new int[rank];
        int s = 1;
        for (int d = rank - 1; d >= 0; d--) { strides[d] = s; s *= shape[d]; }
        var index = new int[s];
        if (s == 0 || rank == 0) return index;
        int inner = outShape[rank - 1], innerStride = strides[perm[rank - 1]];
        var counter = new int[rank];
        int src = 0;
        for (int i = 0; i < s; i += inner)
        {
            for (int j = 0, v = src; j < inner; j++, v += innerStride) index[i + j] = v;
            for (int d = rank - 2; d >= 0; d--)
            {
                int step = strides[perm[d]];
                if (++counter[d] < outShape[d])
                {
                    src += step;
                    break;
                }
                src -= (outShape[d] - 1) * step;
                counter[d] = 0;
            }
        }
        return index;
    }

    private static Tensor<T> BatchMatMulValue<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = a.Dim(-2), k = a.Dim(-1), kb = b.Dim(-2), n = b.Dim(-1);
        if (k != kb) throw Errors.ShapeMismatch("batch-matmul", "left", a.Shape, "right", b.Shape, $"inner dimensions {k} and {kb} differ");
        var batch = TensorOps.BroadcastShape(a.Shape[..^2], b.Shape[..^2], "batch-matmul");
        var shape = new int[batch.Length + 2];
        batch.CopyTo(shape, 0);
        shape[^2] = m;
        shape[^1] = n;
        var c = new T[Tensor<T>.Count(shape)];
        int count = 1;
        foreach (int d in batch) count *= d;
        var ao = BatchOffsets(a.Shape[..^2], batch, m * k);
        var bo = BatchOffsets(b.Shape[..^2], batch, k * n);
        for (int i = 0; i < count; i++)
            Blas.Gemm(false, false, m, n, k, T.One, a.Data.AsSpan(ao[i], m * k), k, b.Data.AsSpan(bo[i], k * n), n, T.Zero, c.AsSpan(i * m * n, m * n), n);
        return new Tensor<T>(c, shape);
    }

    // The offset of each broadcast batch position's matrix in a tensor whose batch axes are `own`.
    private static int[] BatchOffsets(ReadOnlySpan<int> own, int[] batch, int matrix)
    {
        int count = 1;
        foreach (int d in batch) count *= d;
        var result = new int[count];
        int rank = batch.Length, lead = rank - own.Length;
        var strides = new int[rank];
        int s = matrix;
        for (int d = rank - 1; d >= lead; d--)
        {
            int size = own[d - lead];
            strides[d] = size == 1 ? 0 : s;
            s *= size;
        }
        var counter = new int[rank];
        for (int i = 0; i < count; i++)
        {
            int off = 0;
            for (int d = 0; d < rank; d++) off += counter[d] * strides[d];
            result[i] = off;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++counter[d] < batch[d]) break;
                counter[d] = 0;
            }
        }
        return result;
    }

    /// <summary>The error function erf(a) elementwise; its derivative (2/√π)·exp(−a²) is written in ops, so it differentiates again.</summary>
    public static Variable<T> Erf<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        var value = Tensor<T>.Zeros(a.Value.ShapeArray);
        var x = a.Value.Data;
        for (int i = 0; i < x.Length; i++) value.Data[i] = T.CreateTruncating(MathNet.Numerics.SpecialFunctions.Erf(double.CreateTruncating(x[i])));
        var c = T.CreateTruncating(2 / Math.Sqrt(Math.PI));
        return a.Tape.Record(value, [a], g => [Multiply(g, Scale(Exp(Scale(Multiply(a, a), -T.One)), c))], null);
    }

    /// <summary>
    /// aᵇ elementwise with broadcasting, both operands differentiable: ∂/∂a = b·aᵇ⁻¹, ∂/∂b = aᵇ·ln a (NaN for a &lt; 0,
    /// where the power is not differentiable in b; asked only when b needs a gradient).
    /// </summary>
    public static Variable<T> Pow<T>(Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = Same(a, b);
        var shape = TensorOps.BroadcastShape(a.Shape, b.Shape, "pow");
        var av = TensorOps.BroadcastTo(a.Value, shape);
        var bv = TensorOps.BroadcastTo(b.Value, shape);
        var data = new T[av.Length];
        for (int i = 0; i < data.Length; i++) data[i] = T.Pow(av.Data[i], bv.Data[i]);
        Variable<T>? y = null;
        y = tape.Record(new Tensor<T>(data, shape), [a, b], g => [
            a.RequiresGrad ? SumTo(Multiply(g, Multiply(b, Pow(a, AddScalar(b, -T.One)))), a.Value.ShapeArray) : null,
            b.RequiresGrad ? SumTo(Multiply(g, Multiply(y!, Log(a))), b.Value.ShapeArray) : null], null);
        return y;
    }
}
