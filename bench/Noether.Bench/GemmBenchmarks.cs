using BenchmarkDotNet.Attributes;
using Noether.Tensors;

namespace Noether.Bench;

/// <summary>C ← A·B for square float64 matrices: OpenBLAS (baseline) against the managed fallback kernel.</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private double[] _a = [], _b = [], _c = [];

    /// <summary>Matrix size n (n×n times n×n).</summary>
    [Params(64, 256, 512)]
    public int N { get; set; }

    /// <summary>Seeded random operands.</summary>
    [GlobalSetup]
    public void Setup()
    {
        if (!Blas.OpenBlasAvailable)
            throw new InvalidOperationException("the OpenBLAS baseline needs libopenblas.so.0 (Debian: apt-get install libopenblas0-pthread)");
        var random = new Random(1);
        _a = new double[N * N];
        _b = new double[N * N];
        _c = new double[N * N];
        for (int i = 0; i < _a.Length; i++)
        {
            _a[i] = random.NextDouble() * 2 - 1;
            _b[i] = random.NextDouble() * 2 - 1;
        }
    }

    /// <summary>cblas_dgemm through P/Invoke.</summary>
    [Benchmark(Baseline = true)]
    public void OpenBlas() => Blas.Gemm(false, false, N, N, N, 1.0, _a, N, _b, N, 0.0, _c, N, BlasProvider.OpenBlas);

    /// <summary>The managed cache-blocked SIMD kernel.</summary>
    [Benchmark]
    public void Managed() => Blas.Gemm(false, false, N, N, N, 1.0, _a, N, _b, N, 0.0, _c, N, BlasProvider.Managed);
}
