using System.Runtime.InteropServices;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace Noether.Tensors;

/// <summary>
/// Dense eigen- and singular-value decompositions for float64 matrices: LAPACK's divide-and-conquer
/// drivers <c>dsyevd_</c> and <c>dgesdd_</c> from OpenBLAS (<c>libopenblas.so.0</c>) when it loads, and
/// MathNet.Numerics' managed implementation otherwise (or when <see cref="BlasProvider.Managed"/> is asked for);
/// symmetric eigenvalues without vectors go through Noether's own tridiagonalisation (see <see cref="SymmetricEigen"/>).
/// Inputs are row-major <see cref="Tensor{T}"/> matrices and are not modified.
/// </summary>
public static class Lapack
{
    /// <summary>True when OpenBLAS loaded and exports the LAPACK drivers used here.</summary>
    public static bool NativeAvailable => LapackNative.Available;

    /// <summary>
    /// Eigenvalues (ascending) and, when <paramref name="vectors"/>, orthonormal eigenvectors of a symmetric
    /// matrix A: column j of <c>Vectors</c> belongs to <c>Values[j]</c>, so A·V = V·Λ.
    /// </summary>
    /// <remarks>
    /// Eigenvalues only (the Hessian spectra of Fig. 8): under <see cref="BlasProvider.Auto"/> Noether's own multi-threaded
    /// Householder tridiagonalisation (<see cref="Tridiagonalization"/>) followed by LAPACK's dsterf_, or by a managed QL
    /// iteration without OpenBLAS or under <see cref="BlasProvider.Managed"/>; <see cref="BlasProvider.OpenBlas"/> asks for
    /// LAPACK's dsyevd_ itself. With eigenvectors: dsyevd_, or MathNet's managed decomposition as the fallback.
    /// </remarks>
    /// <param name="a">A square symmetric matrix (checked: |a_ij − a_ji| ≤ 1e-8·max|a|; symmetrise first if rounding broke it).</param>
    /// <param name="vectors">Also compute eigenvectors.</param>
    /// <param name="provider">OpenBLAS (dsyevd_), managed, or Auto (see remarks).</param>
    /// <exception cref="ArgumentException">Not square, not symmetric, or not finite.</exception>
    public static (double[] Values, Tensor<double>? Vectors) SymmetricEigen(Tensor<double> a, bool vectors = true, BlasProvider provider = BlasProvider.Auto)
    {
        CheckSymmetric(a);
        int n = a.Dim(0);
        if (n == 0) return ([], vectors ? Tensor<double>.Zeros(0, 0) : null);
        if (!vectors && provider != BlasProvider.OpenBlas) return (TridiagonalEigenvalues(a, provider, Tridiagonalization.DefaultThreads(n)), null);
        return UseNative(provider) ? NativeEigen(a, vectors) : ManagedEigen(a, vectors);
    }

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

    /// <summary>Checks that <paramref name="a"/> is a finite symmetric matrix.</summary>
    private static void CheckSymmetric(Tensor<double> a)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rank != 2 || a.Dim(0) != a.Dim(1)) throw Errors.BadShape("symmetric eigen", nameof(a), a.Shape, "a square matrix");
        int n = a.Dim(0);
        if (n == 0) return;
        ReadOnlySpan<double> data = a.Data;
        // MaxMagnitude returns the entry itself, sign included; NaN or ∞ exactly when some entry is.
        double max = Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(data));
        if (!double.IsFinite(max)) CheckFinite(a, "symmetric eigen");
        // |a_ij − a_ji| in 32×32 tiles, so the column walk stays in cache.
        double worst = 0;
        const int tile = 32;
        for (int i0 = 0; i0 < n; i0 += tile)
            for (int j0 = 0; j0 <= i0; j0 += tile)
                for (int i = i0, iEnd = Math.Min(i0 + tile, n); i < iEnd; i++)
                {
                    var row = data.Slice(i * n, n);
                    for (int j = j0, jEnd = Math.Min(j0 + tile, i); j < jEnd; j++)
                        worst = Math.Max(worst, Math.Abs(row[j] - data[j * n + i]));
                }
        if (worst > 1e-8 * max)
        {
            for (int i = 0; i < n; i++)
                for (int j = 0; j < i; j++)
                    if (Math.Abs(data[i * n + j] - data[j * n + i]) == worst)
                        throw new ArgumentException($"symmetric eigen: a ({n}×{n}) is not symmetric: a[{i},{j}] − a[{j},{i}] = {Math.Abs(data[i * n + j] - data[j * n + i]):G3} (largest |entry| {max:G3})", nameof(a));
        }
    }

    /// <summary>
    /// Thin singular value decomposition A = U·diag(S)·Vᵀ of an m×n matrix, r = min(m, n): singular values
    /// descending, and with <paramref name="vectors"/> U (m×r, orthonormal columns) and Vᵀ (r×n, orthonormal rows).
    /// </summary>
    /// <exception cref="ArgumentException">Not a matrix, or not finite.</exception>
    public static (double[] Values, Tensor<double>? U, Tensor<double>? VT) Svd(Tensor<double> a, bool vectors = false, BlasProvider provider = BlasProvider.Auto)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rank != 2) throw Errors.BadShape("svd", nameof(a), a.Shape, "a matrix (rank 2)");
        CheckFinite(a, "svd");
        int m = a.Dim(0), n = a.Dim(1), r = Math.Min(m, n);
        if (r == 0) return ([], vectors ? Tensor<double>.Zeros(m, 0) : null, vectors ? Tensor<double>.Zeros(0, n) : null);
        return UseNative(provider) ? NativeSvd(a, vectors) : ManagedSvd(a, vectors);
    }

    /// <summary>
    /// Number of singular values above <paramref name="tolerance"/>; by default tol = max(m, n)·ε·σ_max with
    /// ε = 2⁻⁵² (NumPy's <c>matrix_rank</c> rule: the rounding a backward-stable SVD can leave in a zero singular value).
    /// </summary>
    public static int NumericalRank(Tensor<double> a, double? tolerance = null, BlasProvider provider = BlasProvider.Auto)
    {
        if (tolerance is { } t && (!(t >= 0) || double.IsInfinity(t))) throw Errors.OutOfRange(nameof(tolerance), t, "a non-negative finite number");
        var (s, _, _) = Svd(a, false, provider);
        if (s.Length == 0) return 0;
        double tol = tolerance ?? Math.Max(a.Dim(0), a.Dim(1)) * Math.Pow(2, -52) * s[0];
        return s.Count(x => x > tol);
    }

    private static bool UseNative(BlasProvider provider) => provider switch
    {
        BlasProvider.Managed => false,
        BlasProvider.OpenBlas => LapackNative.Available
            ? true
            : throw new InvalidOperationException("OpenBLAS LAPACK was requested but libopenblas.so.0 (with dsyevd_ and dgesdd_) could not be loaded (Debian: apt-get install libopenblas0-pthread)"),
        _ => LapackNative.Available,
    };

    private static void CheckFinite(Tensor<double> a, string op)
    {
        if (!a.AllFinite()) throw new ArgumentException($"{op}: a ({Errors.Shape(a.Shape)}) contains NaN or infinity", nameof(a));
    }

    private static unsafe (double[], Tensor<double>?) NativeEigen(Tensor<double> a, bool vectors)
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

    private static unsafe (double[], Tensor<double>?, Tensor<double>?) NativeSvd(Tensor<double> a, bool vectors)
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

    private static (double[], Tensor<double>?) ManagedEigen(Tensor<double> a, bool vectors)
    {
        int n = a.Dim(0);
        var evd = ToMatrix(a).Evd(Symmetricity.Symmetric);
        var values = evd.EigenValues.Select(c => c.Real).ToArray();
        var order = Enumerable.Range(0, n).OrderBy(i => values[i]).ToArray();
        var sorted = order.Select(i => values[i]).ToArray();
        if (!vectors) return (sorted, null);
        var v = Tensor<double>.Zeros(n, n);
        var ev = evd.EigenVectors;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
                v.Data[i * n + j] = ev[i, order[j]];
        return (sorted, v);
    }

    private static (double[], Tensor<double>?, Tensor<double>?) ManagedSvd(Tensor<double> a, bool vectors)
    {
        int m = a.Dim(0), n = a.Dim(1), r = Math.Min(m, n);
        var svd = ToMatrix(a).Svd(vectors);
        var s = svd.S.ToArray();
        if (!vectors) return (s, null, null);
        var u = Tensor<double>.Zeros(m, r);
        var vt = Tensor<double>.Zeros(r, n);
        for (int i = 0; i < m; i++)
            for (int p = 0; p < r; p++)
                u.Data[i * r + p] = svd.U[i, p];
        for (int p = 0; p < r; p++)
            for (int j = 0; j < n; j++)
                vt.Data[p * n + j] = svd.VT[p, j];
        return (s, u, vt);
    }

    private static Matrix<double> ToMatrix(Tensor<double> a)
    {
        int m = a.Dim(0), n = a.Dim(1);
        return Matrix<double>.Build.Dense(m, n, (i, j) => a.Data[i * n + j]);
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
