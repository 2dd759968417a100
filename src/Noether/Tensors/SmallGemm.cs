using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Noether.Tensors;

/// <summary>
/// Direct (unpacked) products for small matrices, where a native call, OpenBLAS's thread hand-off and
/// operand packing cost more than the arithmetic. Each output row is accumulated in SIMD registers over
/// the whole inner dimension, then written once: C ← α·acc + β·C (β = 0 ignores C, so NaN there is dropped,
/// as BLAS does). Zeros in A are not skipped, so NaN and ∞ in B propagate as in BLAS.
/// </summary>
internal static class SmallGemm
{
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == T.Zero)
        {
            for (int i = 0; i < m; i++) ScaleRow(c.Slice(i * ldc, n), beta);
            return;
        }
        ref T ar = ref MemoryMarshal.GetReference(a);
        ref T br = ref MemoryMarshal.GetReference(b);
        ref T cr = ref MemoryMarshal.GetReference(c);
        if (!transB) RowTimesMatrix(transA, m, n, k, alpha, ref ar, lda, ref br, ldb, beta, ref cr, ldc);
        else RowDotRows(transA, m, n, k, alpha, ref ar, lda, ref br, ldb, beta, ref cr, ldc);
    }

    // C[i, :] = Σ_p op(A)[i, p] · B[p, :]: rows of B stream through up to four vector accumulators.
    private static void RowTimesMatrix<T>(bool transA, int m, int n, int k, T alpha, ref T a, int lda, ref T b, int ldb,
        T beta, ref T c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int vc = Vector.IsHardwareAccelerated ? Vector<T>.Count : int.MaxValue;
        int strideA = transA ? lda : 1, stepRow = transA ? 1 : lda;
        for (int i = 0; i < m; i++)
        {
            ref T arow = ref Unsafe.Add(ref a, i * stepRow);
            ref T crow = ref Unsafe.Add(ref c, i * ldc);
            int j = 0;
            for (; j + 4 * vc <= n; j += 4 * vc)
            {
                Vector<T> s0 = Vector<T>.Zero, s1 = Vector<T>.Zero, s2 = Vector<T>.Zero, s3 = Vector<T>.Zero;
                for (int p = 0; p < k; p++)
                {
                    var x = new Vector<T>(Unsafe.Add(ref arow, p * strideA));
                    ref T brow = ref Unsafe.Add(ref b, p * ldb + j);
                    s0 += x * Vector.LoadUnsafe(ref brow);
                    s1 += x * Vector.LoadUnsafe(ref brow, (nuint)vc);
                    s2 += x * Vector.LoadUnsafe(ref brow, (nuint)(2 * vc));
                    s3 += x * Vector.LoadUnsafe(ref brow, (nuint)(3 * vc));
                }
                Store(s0, alpha, beta, ref Unsafe.Add(ref crow, j));
                Store(s1, alpha, beta, ref Unsafe.Add(ref crow, j + vc));
                Store(s2, alpha, beta, ref Unsafe.Add(ref crow, j + 2 * vc));
                Store(s3, alpha, beta, ref Unsafe.Add(ref crow, j + 3 * vc));
            }
            for (; j + vc <= n; j += vc)
            {
                Vector<T> s0 = Vector<T>.Zero;
                for (int p = 0; p < k; p++)
                    s0 += new Vector<T>(Unsafe.Add(ref arow, p * strideA)) * Vector.LoadUnsafe(ref Unsafe.Add(ref b, p * ldb + j));
                Store(s0, alpha, beta, ref Unsafe.Add(ref crow, j));
            }
            for (; j < n; j++)
            {
                T s = T.Zero;
                for (int p = 0; p < k; p++) s += Unsafe.Add(ref arow, p * strideA) * Unsafe.Add(ref b, p * ldb + j);
                ref T cij = ref Unsafe.Add(ref crow, j);
                cij = beta == T.Zero ? alpha * s : alpha * s + beta * cij;
            }
        }
    }

    // C[i, j] = ⟨op(A)[i, :], B[j, :]⟩: with B transposed both operands are rows (contiguous unless A is transposed too).
    private static void RowDotRows<T>(bool transA, int m, int n, int k, T alpha, ref T a, int lda, ref T b, int ldb,
        T beta, ref T c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int vc = Vector.IsHardwareAccelerated ? Vector<T>.Count : int.MaxValue;
        // With A transposed its "row" i is a strided column: gather it once per i (rare: only TT products).
        T[] column = transA ? new T[k] : [];
        for (int i = 0; i < m; i++)
        {
            if (transA)
                for (int p = 0; p < k; p++) column[p] = Unsafe.Add(ref a, p * lda + i);
            ref T arow = ref transA ? ref MemoryMarshal.GetArrayDataReference(column) : ref Unsafe.Add(ref a, i * lda);
            ref T crow = ref Unsafe.Add(ref c, i * ldc);
            for (int j = 0; j < n; j++)
            {
                ref T brow = ref Unsafe.Add(ref b, j * ldb);
                int p = 0;
                T s = T.Zero;
                if (k >= vc)
                {
                    var acc = Vector<T>.Zero;
                    for (; p + vc <= k; p += vc)
                        acc += Vector.LoadUnsafe(ref arow, (nuint)p) * Vector.LoadUnsafe(ref brow, (nuint)p);
                    s = Vector.Sum(acc);
                }
                for (; p < k; p++) s += Unsafe.Add(ref arow, p) * Unsafe.Add(ref brow, p);
                ref T cij = ref Unsafe.Add(ref crow, j);
                cij = beta == T.Zero ? alpha * s : alpha * s + beta * cij;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(Vector<T> s, T alpha, T beta, ref T destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (alpha != T.One) s *= alpha;
        if (beta != T.Zero) s += Vector.LoadUnsafe(ref destination) * beta;
        s.StoreUnsafe(ref destination);
    }

    private static void ScaleRow<T>(Span<T> row, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (beta == T.Zero) row.Clear();
        else if (beta != T.One) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
    }
}
