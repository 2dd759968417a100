using System.Numerics;
using CsCheck;
using Noether.Tensors;

namespace Noether.Tests.Tensors;

/// <summary>
/// The managed products (direct small kernel up to 64³ multiply-adds, packed cache-blocked kernel above) against
/// OpenBLAS. Both are sums of k products in some order; each differs from the exact result by at most
/// γ·(|α|(|A||B|)_ij + |β||C_ij|) with γ ≈ (k + 2)·u (u the unit roundoff, ε/2), so they differ from each other by at
/// most (k + 2)·ε·(|α|(|A||B|)_ij + |β||C_ij|): the bound used here, entry by entry, plus 2(k + 2)·η for
/// results in the subnormal range (η the smallest subnormal, where rounding errors stop being relative).
/// </summary>
public class GemmTests
{
    private static readonly Gen<(int M, int N, int K, bool TA, bool TB, int Pad, double Alpha, double Beta, int Seed)> Cases =
        Gen.Select(Gen.Int[1, 80], Gen.Int[1, 80], Gen.Int[1, 80], Gen.Bool, Gen.Bool, Gen.Int[0, 3],
                   Gen.OneOf(Gen.Double[-2, 2], Gen.Const(1.0)), Gen.OneOf(Gen.Double[-2, 2], Gen.Const(0.0), Gen.Const(1.0)))
            .SelectMany(t => Gen.Int[0, int.MaxValue].Select(seed => (t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7, t.Item8, seed)));

    [Fact]
    public void ManagedGemm_Float64_MatchesOpenBlas() =>
        Cases.Sample(c => Compare<double>(c.M, c.N, c.K, c.TA, c.TB, c.Pad, c.Alpha, c.Beta, c.Seed), iter: 150, seed: "0N0XIDEW4Y50");

    [Fact]
    public void ManagedGemm_Float32_MatchesOpenBlas() =>
        Cases.Sample(c => Compare<float>(c.M, c.N, c.K, c.TA, c.TB, c.Pad, c.Alpha, c.Beta, c.Seed), iter: 150, seed: "0N0XIDEW4Y50");

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 7, 1)]
    [InlineData(7, 1, 9)]
    [InlineData(65, 67, 69)] // above the direct kernel's range: the packed kernel
    [InlineData(3, 130, 700)]
    public void ManagedGemm_EdgeSizesAllTransposes_MatchOpenBlas(int m, int n, int k)
    {
        foreach (var ta in new[] { false, true })
            foreach (var tb in new[] { false, true })
            {
                Compare<double>(m, n, k, ta, tb, 1, 0.7, -1.3, m * 1000 + n);
                Compare<float>(m, n, k, ta, tb, 0, -1.1, 0.5, m * 1000 + n);
            }
    }

    private static void Compare<T>(int m, int n, int k, bool ta, bool tb, int pad, double alpha, double beta, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.True(Blas.OpenBlasAvailable, "this test needs libopenblas.so.0 (Debian: libopenblas0-pthread)");
        var rng = new Random(seed);
        // Stored shapes: A is m×k (k×m when transposed), B is k×n (n×k); leading dimensions padded.
        int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
        int lda = ac + pad, ldb = bc + pad, ldc = n + pad;
        var a = Fill<T>(rng, ar * lda);
        var b = Fill<T>(rng, br * ldb);
        var c0 = Fill<T>(rng, m * ldc);
        var native = (T[])c0.Clone();
        var managed = (T[])c0.Clone();
        T al = T.CreateChecked(alpha), be = T.CreateChecked(beta);
        Blas.Gemm(ta, tb, m, n, k, al, a, lda, b, ldb, be, native, ldc, BlasProvider.OpenBlas);
        Blas.Gemm(ta, tb, m, n, k, al, a, lda, b, ldb, be, managed, ldc, BlasProvider.Managed);
        double eps = typeof(T) == typeof(float) ? Math.Pow(2, -23) : Math.Pow(2, -52);
        // Below the normal range rounding is absolute: each operation may also err by the smallest subnormal η.
        double eta = double.CreateChecked(T.Epsilon);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double aip = double.CreateChecked(ta ? a[p * lda + i] : a[i * lda + p]);
                    double bpj = double.CreateChecked(tb ? b[j * ldb + p] : b[p * ldb + j]);
                    magnitude += Math.Abs(aip * bpj);
                }
                double bound = (k + 2) * eps * (Math.Abs(alpha) * magnitude + Math.Abs(beta) * Math.Abs(double.CreateChecked(c0[i * ldc + j])))
                    + (k + 2) * 2 * eta;
                double diff = Math.Abs(double.CreateChecked(native[i * ldc + j]) - double.CreateChecked(managed[i * ldc + j]));
                if (!(diff <= bound))
                    throw new Xunit.Sdk.XunitException($"{typeof(T).Name} {m}×{n}×{k} transA={ta} transB={tb} α={alpha} β={beta}: C[{i},{j}] differs by {diff:E3} > {bound:E3}");
            }
            // Padding between rows must be left alone.
            for (int j = n; j < ldc && i < m - 1; j++)
                Assert.Equal(c0[i * ldc + j], managed[i * ldc + j]);
        }
    }

    private static T[] Fill<T>(Random rng, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = new T[count];
        for (int i = 0; i < count; i++) x[i] = T.CreateChecked(rng.NextDouble() * 4 - 2);
        return x;
    }
}
