using System.Runtime.InteropServices;

namespace Noether.Tensors;

/// <summary>
/// LAPACK's divide-and-conquer drivers <c>dsyevd_</c> and <c>dgesdd_</c> (and <c>dsterf_</c> after Noether's own
/// tridiagonalisation) from OpenBLAS (<c>libopenblas.so.0</c>): the native provider behind <see cref="LinearAlgebra"/>,
/// which validates the input and chooses the provider. Inputs are row-major matrices and are not modified.
/// </summary>
internal static class Lapack
{
    /// <summary>Eigenvalues (ascending) through the tridiagonal form, on <paramref name="threads"/> threads (tests pin it).</summary>
    internal static double[] TridiagonalEigenvalues(Tensor<double> a, BlasProvider provider, int threads)
    {
        int n = a.Dim(0);
        // Pooled: Fig. 8 and the sharpness sweeps ask for one 4.5 MB working copy per network, which would otherwise
        // churn the large-object heap into a gen-2 collection every few calls.
        var work = System.Buffers.ArrayPool<double>.Shared.Rent(n * n + 8);
        try
        {
            a.Data.AsSpan(0, n * n).CopyTo(work);
            work.AsSpan(n * n, 8).Clear();
            var d = new double[n];
            var e = new double[Math.Max(1, n - 1)];
            Tridiagonalization.Reduce(work, n, d, e, threads);
            return Tensors.TridiagonalEigenvalues.Compute(d, e, native: provider != BlasProvider.Managed && LapackNative.Available);
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(work);
        }
    }

    /// <summary>dsyevd_ on a validated, non-empty symmetric matrix: eigenvalues ascending, eigenvectors as columns.</summary>
    internal static unsafe (double[] Values, Tensor<double>? Vectors) NativeEigen(Tensor<double> a, bool vectors)
    {
        int n = a.Dim(0), lda = n, info = 0, lwork = -1, liwork = -1, iworkQuery = 0;
        byte jobz = vectors ? (byte)'V' : (byte)'N', uplo = (byte)'L';
        // Row-major A is column-major Aᵀ = A: the buffer can be handed over as is (a copy: LAPACK overwrites it).
        var work = (double[])a.Data.Clone();
        var w = new double[n];
        double workQuery = 0;
        fixed (double* pa = work, pw = w)
        {
            LapackNative.dsyevd_(&jobz, &uplo, &n, pa, &lda, pw, &workQuery, &lwork, &iworkQuery, &liwork, &info, 1, 1);
            Check(info, "dsyevd_ (workspace query)");
            lwork = Math.Max(1, (int)workQuery);
            liwork = Math.Max(1, iworkQuery);
            var scratch = new double[lwork];
            var iscratch = new int[liwork];
            fixed (double* ps = scratch)
            fixed (int* pi = iscratch)
                LapackNative.dsyevd_(&jobz, &uplo, &n, pa, &lda, pw, ps, &lwork, pi, &liwork, &info, 1, 1);
        }
        Check(info, "dsyevd_");
        if (!vectors) return (w, null);
        // Column j of the column-major result is eigenvector j: transpose into row-major V[i, j].
        var v = Tensor<double>.Zeros(n, n);
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
                v.Data[i * n + j] = work[j * n + i];
        return (w, v);
    }

    /// <summary>dgesdd_ on a validated matrix with min(m, n) ≥ 1: the thin SVD.</summary>
    internal static unsafe (double[] Values, Tensor<double>? U, Tensor<double>? VT) NativeSvd(Tensor<double> a, bool vectors)
    {
        // Row-major A (m×n) is column-major Aᵀ (n×m). LAPACK factors Aᵀ = U'·Σ·V'ᵀ, so A = V'·Σ·U'ᵀ: LAPACK's V'ᵀ
        // (r×m, column-major) is exactly our U in row-major, and its U' (n×r, column-major) our Vᵀ.
        int m = a.Dim(0), n = a.Dim(1), r = Math.Min(m, n);
        int rows = n, cols = m, lda = n, info = 0, lwork = -1;
        byte jobz = vectors ? (byte)'S' : (byte)'N';
        var work = (double[])a.Data.Clone();
        var s = new double[r];
        var vt = vectors ? new double[r * n] : new double[1];
        var u = vectors ? new double[m * r] : new double[1];
        int ldu = vectors ? n : 1, ldvt = vectors ? r : 1;
        var iwork = new int[8 * r];
        double workQuery = 0;
        fixed (double* pa = work, ps = s, pu = vt, pvt = u)
        fixed (int* pi = iwork)
        {
            LapackNative.dgesdd_(&jobz, &rows, &cols, pa, &lda, ps, pu, &ldu, pvt, &ldvt, &workQuery, &lwork, pi, &info, 1);
            Check(info, "dgesdd_ (workspace query)");
            lwork = Math.Max(1, (int)workQuery);
            var scratch = new double[lwork];
            fixed (double* pw = scratch)
                LapackNative.dgesdd_(&jobz, &rows, &cols, pa, &lda, ps, pu, &ldu, pvt, &ldvt, pw, &lwork, pi, &info, 1);
        }
        Check(info, "dgesdd_");
        return vectors ? (s, new Tensor<double>(u, m, r), new Tensor<double>(vt, r, n)) : (s, null, null);
    }

    private static void Check(int info, string routine)
    {
        if (info < 0) throw new InvalidOperationException($"{routine}: argument {-info} was invalid (a bug in Noether's LAPACK wrapper)");
        if (info > 0) throw new InvalidOperationException($"{routine}: the algorithm failed to converge (info = {info})");
    }
}

/// <summary>The LAPACK entry points of libopenblas.so.0 (Fortran convention: every argument by pointer, hidden string lengths last).</summary>
internal static unsafe partial class LapackNative
{
    private const string Lib = "libopenblas.so.0";

    public static readonly bool Available = Probe();

    private static bool Probe()
    {
        if (!NativeLibrary.TryLoad(Lib, typeof(LapackNative).Assembly, null, out var handle)) return false;
        return NativeLibrary.TryGetExport(handle, "dsyevd_", out _) && NativeLibrary.TryGetExport(handle, "dgesdd_", out _)
            && NativeLibrary.TryGetExport(handle, "dsterf_", out _);
    }

    [LibraryImport(Lib)]
    public static partial void dsyevd_(byte* jobz, byte* uplo, int* n, double* a, int* lda, double* w, double* work, int* lwork,
        int* iwork, int* liwork, int* info, nuint jobzLength, nuint uploLength);

    [LibraryImport(Lib)]
    public static partial void dsterf_(int* n, double* d, double* e, int* info);

    [LibraryImport(Lib)]
    public static partial void dgesdd_(byte* jobz, int* m, int* n, double* a, int* lda, double* s, double* u, int* ldu, double* vt, int* ldvt,
        double* work, int* lwork, int* iwork, int* info, nuint jobzLength);
}
