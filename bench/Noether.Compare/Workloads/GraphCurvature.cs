using Noether.Landscape;
using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Compare.Workloads;

/// <summary>
/// Issue 15: the curvature users ask PyHessian for, on an imported ONNX model (a fixture of tests/fixtures/onnx), float64 on
/// both sides, mean cross-entropy on the first 128 Fashion-MNIST training images, BatchNorm with its running statistics:
/// the top Hessian eigenvalue by <see cref="PowerSteps"/> power-iteration products from a shared start v₀, then a
/// Hutchinson trace over <see cref="Probes"/> shared Rademacher probes (written by this runner, so both sides multiply
/// the same vectors). Timed on both sides: the forward pass, the gradient graph (recorded once) and every product.
/// Noether: the batch's <see cref="MinibatchHessian.Batch"/> operator (what <c>noether curvature</c> multiplies), products
/// one by one for the power iteration and 16 probes per batched product for the trace (<see cref="Hutchinson"/>'s
/// batching). The twin (bench/compare/graph_curvature.py): PyHessian's way, <c>torch.autograd.grad</c> with
/// <c>retain_graph</c> per product, and the batched variant <c>is_grads_batched</c> when torch can run it; the faster
/// counts. The check: λ and every probe's zᵀHz against the twin's.
/// </summary>
internal sealed class GraphCurvature(string name, string file, double? target) : IWorkload
{
    /// <summary>Power-iteration products for λ_max.</summary>
    public const int PowerSteps = 20;

    /// <summary>Hutchinson probes.</summary>
    public const int Probes = 100;

    private const int ProbesPerProduct = 16;
    private GraphFixtureBatch _fixture = null!;
    private double[] _start = [];
    private double[] _probes = [];
    private double _lambda;
    private double[] _samples = [];

    /// <inheritdoc/>
    public string Name => name;

    /// <inheritdoc/>
    public string Item => "issue 15";

    /// <inheritdoc/>
    public string Description => $"λ_max by {PowerSteps} power-iteration Hessian-vector products + a {Probes}-probe Hutchinson trace of {file}, {GraphFixtureBatch.Batch} Fashion-MNIST images, BatchNorm eval, float64";

    /// <inheritdoc/>
    public double? Target => target;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <inheritdoc/>
    public PythonTwin? Python => new("graph_curvature.py", Name, ["--model", _fixture?.Path ?? GraphFixtureBatch.Fixture(file)], NeedsInputs: true);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        _fixture = new GraphFixtureBatch(file);
        var random = new Random(context.Seed);
        int n = _fixture.Dimension;
        _start = new double[n];
        for (int i = 0; i < n; i++) _start[i] = random.NextDouble() * 2 - 1;
        _probes = new double[Probes * n];
        for (int i = 0; i < _probes.Length; i++) _probes[i] = random.Next(2) == 0 ? -1.0 : 1.0;
        var arrays = Inputs.Batch(_fixture.Images, _fixture.Labels);
        arrays["start"] = (_start, [n]);
        arrays["probes"] = (_probes, [Probes, n]);
        context.WriteInputs(arrays, new Dictionary<string, double> { ["power_steps"] = PowerSteps, ["probes_per_product"] = ProbesPerProduct });
    }

    /// <inheritdoc/>
    public void Run()
    {
        var op = _fixture.Hessian().Batch(0);
        int n = op.Dimension;
        var v = _start.ToArray();
        var hv = new double[n];
        TensorPrimitives.Divide(v, TensorPrimitives.Norm<double>(v), v);
        double lambda = 0;
        for (int k = 0; k < PowerSteps; k++)
        {
            op.Multiply(v, hv);
            lambda = TensorPrimitives.Dot<double>(v, hv);
            TensorPrimitives.Divide(hv, TensorPrimitives.Norm<double>(hv), v);
        }
        var samples = new double[Probes];
        for (int start = 0; start < Probes; start += ProbesPerProduct)
        {
            int b = Math.Min(ProbesPerProduct, Probes - start);
            var z = new Tensor<double>(_probes.AsSpan(start * n, b * n).ToArray(), b, n);
            var hz = op.MultiplyMany(z);
            for (int k = 0; k < b; k++) samples[start + k] = TensorPrimitives.Dot<double>(z.Data.AsSpan(k * n, n), hz.Data.AsSpan(k * n, n));
        }
        _lambda = lambda;
        _samples = samples;
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Finish(WorkloadContext context)
    {
        context.WriteResults(new Dictionary<string, (double[], int[])> { ["lambda"] = ([_lambda], [1]), ["samples"] = (_samples, [Probes]) });
        return new Dictionary<string, object?>
        {
            ["model"] = file,
            ["parameters"] = _start.Length,
            ["lambda_max_estimate"] = _lambda,
            ["trace_estimate"] = _samples.Average(),
            ["trace_standard_error"] = Math.Sqrt(_samples.Sum(s => (s - _samples.Average()) * (s - _samples.Average())) / (Probes - 1) / Probes),
        };
    }
}
