using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Noether.Tensors;

/// <summary>Which implementation performs matrix products.</summary>
public enum BlasProvider
{
    /// <summary>OpenBLAS when it loads, managed otherwise.</summary>
    Auto,
    /// <summary>OpenBLAS through P/Invoke (<c>libopenblas.so.0</c>).</summary>
    OpenBlas,
    /// <summary>The managed cache-blocked SIMD kernel.</summary>
    Managed,
}

/// <summary>
/// General matrix products C ← α·op(A)·op(B) + β·C on row-major buffers, through OpenBLAS when the
/// native library is present (Debian: <c>libopenblas0-pthread</c>) and a managed kernel otherwise.
/// </summary>
public static class Blas
{
    /// <summary>
    /// Products below this many multiply-adds stay managed (<see cref="SmallGemm"/>) under <see cref="BlasProvider.Auto"/>.
    /// OpenBLAS's own small-matrix kernels take 0.1–0.7 µs from 5×5×5 up, faster than the managed kernel, so the cut is low.
    /// </summary>
    internal const long SmallProduct = 8 * 8 * 8;

    /// <summary>The managed provider switches from the direct kernel to the packed, cache-blocked one above this many multiply-adds.</summary>
    internal const long ManagedPackedProduct = 64 * 64 * 64;

    /// <summary>True when <c>libopenblas.so.0</c> was found and loaded.</summary>
    public static bool OpenBlasAvailable => OpenBlasNative.Available;

    /// <summary>OpenBLAS's build description (e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"), or null.</summary>
    public static string? OpenBlasConfig => OpenBlasNative.Available ? Marshal.PtrToStringAnsi(OpenBlasNative.openblas_get_config()) : null;

    /// <summary>Threads OpenBLAS uses, or 1 without it.</summary>
    public static int OpenBlasThreads => OpenBlasNative.Available ? OpenBlasNative.openblas_get_num_threads() : 1;

    /// <summary>C ← α·op(A)·op(B) + β·C with op(A) m×k, op(B) k×n, all row-major with leading dimensions lda, ldb, ldc.</summary>
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc, BlasProvider provider = BlasProvider.Auto)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        bool native = provider switch
        {
            BlasProvider.Managed => false,
            BlasProvider.OpenBlas => OpenBlasNative.Available
                ? true
                : throw new InvalidOperationException("OpenBLAS was requested but libopenblas.so.0 could not be loaded (Debian: apt-get install libopenblas0-pthread)"),
            _ => OpenBlasNative.Available && (long)m * n * k >= SmallProduct,
        };
        if (native) NativeGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        else if ((long)m * n * k <= ManagedPackedProduct) SmallGemm.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        else ManagedGemm.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    private static unsafe void NativeGemm<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int RowMajor = 101, NoTrans = 111, Trans = 112;
        int ta = transA ? Trans : NoTrans, tb = transB ? Trans : NoTrans;
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            if (typeof(T) == typeof(double))
                OpenBlasNative.cblas_dgemm(RowMajor, ta, tb, m, n, k, Unsafe.As<T, double>(ref alpha), (double*)pa, Math.Max(lda, 1),
                    (double*)pb, Math.Max(ldb, 1), Unsafe.As<T, double>(ref beta), (double*)pc, Math.Max(ldc, 1));
            else if (typeof(T) == typeof(float))
                OpenBlasNative.cblas_sgemm(RowMajor, ta, tb, m, n, k, Unsafe.As<T, float>(ref alpha), (float*)pa, Math.Max(lda, 1),
                    (float*)pb, Math.Max(ldb, 1), Unsafe.As<T, float>(ref beta), (float*)pc, Math.Max(ldc, 1));
            else
                ManagedGemm.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        }
    }
}

/// <summary>The P/Invoke surface of libopenblas.so.0. Loaded lazily; absence is not an error.</summary>
internal static unsafe partial class OpenBlasNative
{
    private const string Lib = "libopenblas.so.0";

    public static readonly bool Available = Probe();

    private static bool Probe()
    {
        if (!NativeLibrary.TryLoad(Lib, typeof(OpenBlasNative).Assembly, null, out var handle)) return false;
        return NativeLibrary.TryGetExport(handle, "cblas_dgemm", out _) && NativeLibrary.TryGetExport(handle, "cblas_sgemm", out _);
    }

    [LibraryImport(Lib)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void cblas_dgemm(int order, int transA, int transB, int m, int n, int k, double alpha, double* a, int lda,
        double* b, int ldb, double beta, double* c, int ldc);

    [LibraryImport(Lib)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport(Lib)]
    public static partial nint openblas_get_config();

    [LibraryImport(Lib)]
    public static partial int openblas_get_num_threads();
}

/// <summary>
/// Managed fallback product: operands are first packed to row-major non-transposed panels, then an
/// i-k-j loop over cache blocks streams rows of B through SIMD registers.
/// </summary>
internal static class ManagedGemm
{
    private const int BlockK = 256, BlockN = 512, BlockM = 64;

    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == T.Zero) row.Clear();
            else if (beta != T.One) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
        if (k == 0 || alpha == T.Zero) return;

        // Pack op(A) scaled by α (m×k) and op(B) (k×n) contiguously.
        var ap = new T[m * k];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
                ap[i * k + p] = alpha * (transA ? a[p * lda + i] : a[i * lda + p]);
        T[] bp;
        if (!transB && ldb == n) bp = b[..(k * n)].ToArray();
        else
        {
            bp = new T[k * n];
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++)
                    bp[p * n + j] = transB ? b[j * ldb + p] : b[p * ldb + j];
        }

        for (int j0 = 0; j0 < n; j0 += BlockN)
        {
            int nb = Math.Min(BlockN, n - j0);
            for (int p0 = 0; p0 < k; p0 += BlockK)
            {
                int kb = Math.Min(BlockK, k - p0);
                for (int i0 = 0; i0 < m; i0 += BlockM)
                {
                    int mb = Math.Min(BlockM, m - i0);
                    for (int i = i0; i < i0 + mb; i++)
                    {
                        var crow = c.Slice(i * ldc + j0, nb);
                        for (int p = p0; p < p0 + kb; p++)
                        {
                            // No skipping of zeros: NaN and ∞ in B must propagate as in BLAS.
                            AxpyRow(ap[i * k + p], bp.AsSpan(p * n + j0, nb), crow);
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AxpyRow<T>(T scale, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<T>.Count)
        {
            var s = new Vector<T>(scale);
            ref T xr = ref MemoryMarshal.GetReference(x);
            ref T yr = ref MemoryMarshal.GetReference(y);
            for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var yv = Vector.LoadUnsafe(ref yr, (nuint)i);
                var xv = Vector.LoadUnsafe(ref xr, (nuint)i);
                (yv + s * xv).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < x.Length; i++) y[i] += scale * x[i];
    }
}
