using Noether.Tensors;

namespace Noether.Autodiff;

/// <summary>
/// Kernels for batched backward rules: a batch of B gradients of a node of shape s is one tensor [B, …s].
/// Parent operands (shape ≤ s, right-aligned NumPy broadcasting) broadcast over the batch axis as they are,
/// except where a helper below pads them first. Raw tensors: nothing is recorded.
/// </summary>
internal static class Batched
{
    /// <summary>[B, …shape].</summary>
    public static int[] With(int batch, ReadOnlySpan<int> shape)
    {
        var r = new int[shape.Length + 1];
        r[0] = batch;
        shape.CopyTo(r.AsSpan(1));
        return r;
    }

    // [B, …shape] with shape right-aligned into rank `rank` (leading 1s), for broadcasting against [B, …out].
    private static int[] Padded(int batch, ReadOnlySpan<int> shape, int rank)
    {
        var r = new int[rank + 1];
        r.AsSpan().Fill(1);
        r[0] = batch;
        shape.CopyTo(r.AsSpan(1 + rank - shape.Length));
        return r;
    }

    /// <summary>g [B, …out] summed over the axes along which <paramref name="target"/> was broadcast: [B, …target].</summary>
    public static Tensor<T> ReduceTo<T>(Tensor<T> g, int[] target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.Shape[1..].SequenceEqual(target)) return g;
        int b = g.Dim(0);
        var summed = TensorOps.SumTo(g, Padded(b, target, g.Rank - 1));
        return new Tensor<T>(summed.Data, With(b, target), true);
    }

    /// <summary>g [B, …in] repeated along broadcast axes: [B, …out].</summary>
    public static Tensor<T> BroadcastTo<T>(Tensor<T> g, ReadOnlySpan<int> outShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int b = g.Dim(0);
        if (g.Shape[1..].SequenceEqual(outShape)) return g;
        var padded = new Tensor<T>(g.Data, Padded(b, g.Shape[1..], outShape.Length), true);
        return TensorOps.BroadcastTo(padded, With(b, outShape));
    }

    /// <summary>g ⊙ x with x broadcast over the batch.</summary>
    public static Tensor<T> Multiply<T>(Tensor<T> g, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        TensorOps.Binary(BinaryOp.Multiply, g, x);

    /// <summary>s·g.</summary>
    public static Tensor<T> Scale<T>(Tensor<T> g, T s) where T : unmanaged, IFloatingPointIeee754<T> =>
        TensorOps.Binary(BinaryOp.Multiply, g, s);

    /// <summary>The same buffer seen as [B, …shape].</summary>
    public static Tensor<T> Reshape<T>(Tensor<T> g, int[] shape) where T : unmanaged, IFloatingPointIeee754<T> =>
        new(g.Data, With(g.Dim(0), shape), true);

    /// <summary>Each [r, c] slice transposed: [B, c, r].</summary>
    public static Tensor<T> TransposeEach<T>(Tensor<T> g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int b = g.Dim(0), r = g.Dim(1), c = g.Dim(2);
        var t = new Tensor<T>(Scratch<T>.Uninitialized(g.Length), [b, c, r], true);
        ref T src = ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(g.Data);
        ref T dst = ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(t.Data);
        // Sequential reads, writes strided by r within one small item (it stays in L1).
        for (int k = 0, o = 0; k < b; k++, o += r * c)
            for (int i = 0; i < r; i++)
            {
                ref T row = ref System.Runtime.CompilerServices.Unsafe.Add(ref src, o + i * c);
                ref T column = ref System.Runtime.CompilerServices.Unsafe.Add(ref dst, o + i);
                for (int j = 0; j < c; j++)
                    System.Runtime.CompilerServices.Unsafe.Add(ref column, j * r) = System.Runtime.CompilerServices.Unsafe.Add(ref row, j);
            }
        return t;
    }

    /// <summary>
    /// Batched matrix products for the backward rules of op(A)·op(B) = C (m×k times k×n), from the batch of
    /// output gradients g [B, m, n]: the gradient batches for A and B, each as one large product.
    /// </summary>
    public static (Tensor<T>? A, Tensor<T>? B) MatMulBackward<T>(Tensor<T> g, Tensor<T> a, Tensor<T> b, bool transA, bool transB, bool needA, bool needB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = g.Dim(0), m = g.Dim(1), n = g.Dim(2);
        int k = transA ? a.Dim(0) : a.Dim(1);
        Tensor<T>? ga = null, gb = null;
        if (needA)
        {
            // g·op(B)ᵀ for all items at once: stacked rows (B·m)×n times n×k.
            var x = new Tensor<T>(Scratch<T>.Uninitialized(batch * m * k), [batch, m, k], true);
            Blas.Gemm(false, !transB, batch * m, k, n, T.One, g.Data, n, b.Data, b.Dim(1), T.Zero, x.Data, k);
            ga = transA ? TransposeEach(x) : x;
        }
        if (needB)
        {
            // (op(A)ᵀ·g_β)ᵀ = g_βᵀ·op(A) for all items at once: the transposed items stacked, (B·n)×m times m×k.
            var gt = TransposeEach(g);
            var x = new Tensor<T>(Scratch<T>.Uninitialized(batch * n * k), [batch, n, k], true);
            Blas.Gemm(false, transA, batch * n, k, m, T.One, gt.Data, m, a.Data, a.Dim(1), T.Zero, x.Data, k);
            gb = transB ? x : TransposeEach(x);
        }
        return (ga, gb);
    }

    /// <summary>For a scalar node value = c·f(a): the batch [B] of output gradients times the tensor d = ∂/∂a: [B, …a].</summary>
    public static Tensor<T> Outer<T>(Tensor<T> g, Tensor<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = g.Length, n = d.Length;
        var r = new Tensor<T>(Scratch<T>.Uninitialized(batch * n), With(batch, d.Shape), true);
        for (int item = 0; item < batch; item++)
            System.Numerics.Tensors.TensorPrimitives.Multiply<T>(d.Data, g.Data[item], r.Data.AsSpan(item * n, n));
        return r;
    }

    /// <summary>⟨g_β, x⟩ for each item β of g [B, …x]: shape [B, …scalarShape].</summary>
    public static Tensor<T> DotEach<T>(Tensor<T> g, Tensor<T> x, int[] scalarShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = g.Dim(0), n = x.Length;
        var r = new Tensor<T>(new T[batch], With(batch, scalarShape), true);
        for (int item = 0; item < batch; item++)
            r.Data[item] = System.Numerics.Tensors.TensorPrimitives.Dot<T>(g.Data.AsSpan(item * n, n), x.Data);
        return r;
    }
}
