using BenchmarkDotNet.Attributes;
using Noether.Tensors;

namespace Noether.Bench;

/// <summary>
/// All eigenvalues of a random symmetric float64 matrix: LAPACK dsyevd_ from OpenBLAS (baseline) against Noether's
/// own path — multi-threaded Householder tridiagonalisation, then dsterf_ (Auto) or the managed QL (Managed).
/// </summary>
[MemoryDiagnoser]
public class EigenvalueBenchmarks
{
    private Tensor<double> _a = null!;

    /// <summary>Matrix order (750 = the Fig. 8 Hessian).</summary>
    [Params(200, 750)]
    public int N { get; set; }

    /// <summary>A seeded symmetric matrix with standard normal entries.</summary>
    [GlobalSetup]
    public void Setup()
    {
        if (!LinearAlgebra.NativeAvailable)
            throw new InvalidOperationException("the dsyevd baseline needs libopenblas.so.0 (Debian: apt-get install libopenblas0-pthread)");
        var random = new Random(1);
        _a = Tensor<double>.Zeros(N, N);
        for (int i = 0; i < N; i++)
            for (int j = 0; j <= i; j++)
                _a[i, j] = _a[j, i] = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
    }

    /// <summary>LAPACK dsyevd_ (jobz = 'N') through P/Invoke.</summary>
    [Benchmark(Baseline = true)]
    public double[] Dsyevd() => LinearAlgebra.SymmetricEigen(_a, false, BlasProvider.OpenBlas).Values;

    /// <summary>Noether's tridiagonalisation + LAPACK dsterf_ (what <c>noether sharpness</c> uses).</summary>
    [Benchmark]
    public double[] Auto() => LinearAlgebra.SymmetricEigen(_a, false).Values;

    /// <summary>Noether's tridiagonalisation + the managed QL iteration (no native code at all).</summary>
    [Benchmark]
    public double[] Managed() => LinearAlgebra.SymmetricEigen(_a, false, BlasProvider.Managed).Values;
}
