namespace Noether.Tensors;

/// <summary>
/// All eigenvalues of a symmetric tridiagonal matrix: LAPACK's dsterf_ (Pal–Walker–Kahan QR, square-root free) from
/// OpenBLAS, or a managed implicit QL iteration with Wilkinson shifts (Golub &amp; Van Loan §8.3.5; EISPACK's tql1).
/// </summary>
internal static class TridiagonalEigenvalues
{
    /// <summary>Sweeps allowed per eigenvalue before the managed iteration gives up (LAPACK allows 30).</summary>
    private const int MaxSweeps = 60;

    /// <summary>
    /// Eigenvalues, ascending, of the tridiagonal matrix with <paramref name="diagonal"/> (n) and
    /// <paramref name="offDiagonal"/> (at least n − 1 entries). Both arrays are overwritten.
    /// </summary>
    internal static double[] Compute(double[] diagonal, double[] offDiagonal, bool native)
    {
        int n = diagonal.Length;
        if (n == 0) return [];
        if (native) Sterf(diagonal, offDiagonal);
        else QL(diagonal, offDiagonal);
        return diagonal;
    }

    private static unsafe void Sterf(double[] d, double[] e)
    {
        int n = d.Length, info = 0;
        fixed (double* pd = d, pe = e) LapackNative.dsterf_(&n, pd, pe, &info);
        if (info < 0) throw new InvalidOperationException($"dsterf_: argument {-info} was invalid (a bug in Noether's LAPACK wrapper)");
        if (info > 0) throw new InvalidOperationException($"dsterf_: {info} eigenvalues failed to converge");
    }

    /// <summary>Implicit QL with a Wilkinson shift on the leading unreduced block; e[i] couples rows i and i + 1.</summary>
    internal static void QL(double[] d, double[] offDiagonal)
    {
        int n = d.Length;
        var e = new double[n];
        Array.Copy(offDiagonal, e, n - 1);
        const double eps = 1.1102230246251565e-16; // 2⁻⁵³
        // Deflate at eps·‖T‖ (EISPACK's absolute test): backward stable, and it converges on clusters of zero
        // eigenvalues, where a test relative to |d_m| + |d_m+1| alone may never be met.
        double norm = 0;
        for (int i = 0; i < n; i++) norm = Math.Max(norm, Math.Abs(d[i]) + Math.Abs(e[i]) + (i > 0 ? Math.Abs(e[i - 1]) : 0));
        for (int l = 0; l < n; l++)
        {
            int sweeps = 0, m;
            do
            {
                // The first negligible coupling at or after l ends the block being iterated on.
                for (m = l; m < n - 1; m++)
                    if (Math.Abs(e[m]) <= eps * norm) break;
                if (m == l) break;
                if (++sweeps > MaxSweeps) throw new InvalidOperationException($"tridiagonal QL: eigenvalue {l} did not converge in {MaxSweeps} sweeps");
                double g = (d[l + 1] - d[l]) / (2 * e[l]);
                double r = double.Hypot(g, 1);
                g = d[m] - d[l] + e[l] / (g + Math.CopySign(r, g));
                double s = 1, c = 1, p = 0;
                int i;
                bool underflow = false;
                for (i = m - 1; i >= l; i--)
                {
                    double f = s * e[i], b = c * e[i];
                    e[i + 1] = r = double.Hypot(f, g);
                    if (r == 0)
                    {
                        // The rotation underflowed: deflate here and sweep again.
                        d[i + 1] -= p;
                        e[m] = 0;
                        underflow = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - p;
                    r = (d[i] - g) * s + 2 * c * b;
                    p = s * r;
                    d[i + 1] = g + p;
                    g = c * r - b;
                }
                if (underflow) continue;
                d[l] -= p;
                e[l] = g;
                e[m] = 0;
            }
            while (m != l);
        }
        Array.Sort(d);
    }
}
