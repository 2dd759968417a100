using Noether.Autodiff;
using Noether.Benchmarks;
using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Compare.Workloads;

/// <summary>
/// (a) Full-batch gradient descent on the Fig. 3 network: L = ½‖Y − U σ(V X)‖² (summed), U 5×50, V 50×10,
/// X = I₁₀, Y 5×10, float64, 2000 steps of lr 0.01, σ = identity or ReLU. Each step records the loss on a
/// reset tape, takes the gradient with respect to the two parameters and updates them in place — what
/// a user of Noether writes. Twin: bench/compare/gd_fig3.py.
/// </summary>
internal sealed class GradientDescentFig3(bool relu) : IWorkload
{
    private const int Steps = 2000;
    private static readonly int M = Networks.Fig3.M, H = Networks.Fig3.H, N = Networks.Fig3.N;
    private const double LearningRate = 0.01;

    private Tensor<double> _u0 = null!, _v0 = null!, _x = null!, _y = null!;
    private Parameter<double> _u = null!, _v = null!;
    private readonly Tape<double> _tape = new();
    private double _lastLoss;

    /// <inheritdoc/>
    public string Name => relu ? "gd-fig3-relu" : "gd-fig3-identity";

    /// <inheritdoc/>
    public string Item => "(a)";

    /// <inheritdoc/>
    public string Description => $"{Steps} full-batch GD steps, Fig. 3 net (U {M}×{H}, V {H}×{N}, X = I), {(relu ? "ReLU" : "identity")}, float64";

    /// <inheritdoc/>
    public double? Target => 0.2;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <inheritdoc/>
    public PythonTwin? Python => new("gd_fig3.py", Name, [], NeedsInputs: true);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        var random = new Random(context.Seed);
        _u0 = Inputs.Gaussian(random, 0.1, M, H); // Fig. 3: U, V ~ N(0, 0.1²)
        _v0 = Inputs.Gaussian(random, 0.1, H, N);
        _y = Inputs.Gaussian(random, 1.0, M, N);
        _x = Tensor<double>.Identity(N);
        _u = new Parameter<double>("U", _u0.Clone());
        _v = new Parameter<double>("V", _v0.Clone());
        context.WriteInputs(
            new Dictionary<string, (double[], int[])>
            {
                ["U"] = Inputs.Entry(_u0), ["V"] = Inputs.Entry(_v0), ["X"] = Inputs.Entry(_x), ["Y"] = Inputs.Entry(_y),
            },
            new Dictionary<string, double> { ["steps"] = Steps, ["lr"] = LearningRate });
    }

    /// <inheritdoc/>
    public void BeforeRun()
    {
        _u0.Data.CopyTo(_u.Value.Data, 0);
        _v0.Data.CopyTo(_v.Value.Data, 0);
    }

    /// <inheritdoc/>
    public void Run()
    {
        Parameter<double>[] parameters = [_u, _v];
        for (int step = 0; step < Steps; step++)
        {
            _tape.Reset();
            var u = _tape.Bind(_u);
            var v = _tape.Bind(_v);
            var loss = Networks.Loss(u, v, _x, _y, relu ? Networks.Activation.Relu : Networks.Activation.Identity);
            var grads = _tape.Gradient(loss, parameters);
            _lastLoss = loss.Value.ScalarValue;
            TensorPrimitives.MultiplyAdd(grads[0].Data, -LearningRate, _u.Value.Data, _u.Value.Data);
            TensorPrimitives.MultiplyAdd(grads[1].Data, -LearningRate, _v.Value.Data, _v.Value.Data);
        }
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Finish(WorkloadContext context)
    {
        context.WriteResults(new Dictionary<string, (double[], int[])> { ["U"] = Inputs.Entry(_u.Value), ["V"] = Inputs.Entry(_v.Value) });
        return new Dictionary<string, object?> { ["final_loss"] = _lastLoss };
    }
}
