using Noether.Autodiff;
using Noether.Benchmarks;
using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>
/// Issue 4: the full 750×750 Hessian of the Fig. 8 network plus all its eigenvalues — what <c>noether sharpness</c> does
/// per trained net. L = ½‖Y − U tanh(V X)‖², U 10×50, V 50×5, X = I₅, Y 10×5, float64. Noether: <see cref="Hessian.FullInto{T}"/>
/// then all eigenvalues through <see cref="LinearAlgebra.SymmetricEigen"/> (Noether's own tridiagonalisation + LAPACK dsterf_). The twin
/// (bench/compare/hessian_eig_fig8.py): torch.autograd.functional.hessian (fastest of vectorize False/True, and
/// functorch.hessian) + torch.linalg.eigvalsh; it compares its eigenvalues with the ones written here.
/// </summary>
internal sealed class HessianEigFig8 : IWorkload
{
    private static readonly int M = Networks.Fig8.M, H = Networks.Fig8.H, N = Networks.Fig8.N;
    private Fig8Inputs _point = null!;
    private Tensor<double> _hessian = null!;
    private double[] _eigenvalues = [];

    /// <inheritdoc/>
    public string Name => "hessian-eig-fig8";

    /// <inheritdoc/>
    public string Item => "issue 4";

    /// <inheritdoc/>
    public string Description => $"full {M * H + H * N}×{M * H + H * N} Hessian + all eigenvalues, Fig. 8 net, tanh, float64";

    /// <inheritdoc/>
    public double? Target => 0.5;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <inheritdoc/>
    public PythonTwin? Python => new("hessian_eig_fig8.py", Name, [], NeedsInputs: true);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        _point = Fig8Inputs.Create(context);
        _hessian = Tensor<double>.Zeros(_point.Dimension, _point.Dimension);
    }

    /// <inheritdoc/>
    public void Run()
    {
        Hessian.FullInto((_, p) => Networks.Loss(p[0], p[1], _point.X, _point.Y, Networks.Activation.Tanh), [_point.U, _point.V], _hessian);
        (_eigenvalues, _) = LinearAlgebra.SymmetricEigen(_hessian, vectors: false);
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Finish(WorkloadContext context)
    {
        context.WriteResults(new Dictionary<string, (double[], int[])> { ["eigenvalues"] = (_eigenvalues, [_eigenvalues.Length]) });
        return new Dictionary<string, object?>
        {
            ["dimension"] = _eigenvalues.Length,
            ["lambda_max"] = _eigenvalues[^1],
            ["lambda_min"] = _eigenvalues[0],
            ["eigensolver"] = LinearAlgebra.NativeAvailable ? "Noether tridiagonalisation + LAPACK dsterf_ (OpenBLAS)" : "Noether tridiagonalisation + managed QL",
        };
    }
}
