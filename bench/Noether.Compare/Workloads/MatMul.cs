using System.Numerics;
using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>
/// (d) Square products C ← A·B (n×n, preallocated C) through <see cref="Blas.Gemm{T}"/> with OpenBLAS or the
/// managed kernel, against torch.matmul(a, b, out=c) (bench/compare/matmul.py). Reported per product,
/// with GFLOP/s = 2n³ / time against the machine's estimated peak.
/// </summary>
internal sealed class MatMul<T>(int n, BlasProvider provider) : IWorkload where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _a = [], _b = [], _c = [];

    private static string TypeName => typeof(T) == typeof(double) ? "f64" : "f32";

    /// <inheritdoc/>
    public string Name => $"matmul-{n}-{TypeName}-{(provider == BlasProvider.Managed ? "managed" : "openblas")}";

    /// <inheritdoc/>
    public string Item => "(d)";

    /// <inheritdoc/>
    public string Description => $"{n}×{n} {(typeof(T) == typeof(double) ? "float64" : "float32")} product, Noether {(provider == BlasProvider.Managed ? "managed kernel" : "OpenBLAS")}";

    /// <inheritdoc/>
    public double? Target => null;

    /// <inheritdoc/>
    public bool NoetherImplemented => provider != BlasProvider.OpenBlas || Blas.OpenBlasAvailable;

    /// <summary>Products per timed run: enough that a run lasts well above the timer's resolution.</summary>
    public int Repetitions => n <= 512 ? 20 : 1;

    /// <inheritdoc/>
    public double? Flops => 2.0 * n * n * n;

    /// <inheritdoc/>
    public PythonTwin? Python => new("matmul.py", $"matmul-{n}-{TypeName}", ["--reps", Repetitions.ToString(System.Globalization.CultureInfo.InvariantCulture)], NeedsInputs: false);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        var random = new Random(context.Seed);
        _a = new T[n * n];
        _b = new T[n * n];
        _c = new T[n * n];
        for (int i = 0; i < _a.Length; i++)
        {
            _a[i] = T.CreateTruncating(random.NextDouble() * 2 - 1);
            _b[i] = T.CreateTruncating(random.NextDouble() * 2 - 1);
        }
    }

    /// <inheritdoc/>
    public void Run()
    {
        for (int r = 0; r < Repetitions; r++)
            Blas.Gemm(false, false, n, n, n, T.One, _a, n, _b, n, T.Zero, _c, n, provider);
    }
}
