using Noether.Autodiff;
using Noether.Benchmarks;
using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>
/// (c) The full 750×750 Hessian of the Fig. 8 network, L = ½‖Y − U σ(V X)‖², U 10×50, V 50×5, X = I₅,
/// Y 10×5, float64, σ = identity or tanh, through <see cref="Hessian.FullInto{T}"/> (record the gradient once
/// with its graph, then batched backward passes over blocks of columns, into a reused buffer). Timed: building the operator and all 750 columns.
/// The twin (bench/compare/hessian_fig8.py) compares its Hessian with the one written here.
/// </summary>
internal sealed class HessianFig8(bool tanh) : IWorkload
{
    private static readonly int M = Networks.Fig8.M, H = Networks.Fig8.H, N = Networks.Fig8.N;
    private Fig8Inputs _point = null!;
    private Tensor<double>? _hessian;

    /// <inheritdoc/>
    public string Name => tanh ? "hessian-fig8-tanh" : "hessian-fig8-identity";

    /// <inheritdoc/>
    public string Item => "(c)";

    /// <inheritdoc/>
    public string Description => $"full {M * H + H * N}×{M * H + H * N} Hessian, Fig. 8 net (U {M}×{H}, V {H}×{N}, X = I), {(tanh ? "tanh" : "identity")}, float64";

    /// <inheritdoc/>
    public double? Target => 0.5;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <inheritdoc/>
    public PythonTwin? Python => new("hessian_fig8.py", Name, [], NeedsInputs: true);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        _point = Fig8Inputs.Create(context);
        // The 750×750 result buffer is allocated once and reused by every run (FullInto): a fresh 4.5 MB array per
        // run costs .NET a full GC, the counterpart of the malloc trimming that mallopt switches off for PyTorch.
        _hessian = Tensor<double>.Zeros(_point.Dimension, _point.Dimension);
    }

    /// <inheritdoc/>
    public void Run() => Hessian.FullInto(Loss, [_point.U, _point.V], _hessian!);

    private Variable<double> Loss(Tape<double> tape, IReadOnlyList<Variable<double>> p) =>
        Networks.Loss(p[0], p[1], _point.X, _point.Y, tanh ? Networks.Activation.Tanh : Networks.Activation.Identity);

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Finish(WorkloadContext context)
    {
        var h = _hessian ?? throw new InvalidOperationException("Finish before Run");
        context.WriteResults(new Dictionary<string, (double[], int[])> { ["H"] = Inputs.Entry(h) });
        double asymmetry = 0; // Hessian.Full symmetrises; 0 confirms the layout the twin compares against
        int n = h.Dim(0);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                asymmetry = Math.Max(asymmetry, Math.Abs(h[i, j] - h[j, i]));
        return new Dictionary<string, object?> { ["dimension"] = n, ["max_asymmetry"] = asymmetry };
    }
}
