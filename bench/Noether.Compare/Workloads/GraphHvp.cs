using Noether.Landscape;

namespace Noether.Compare.Workloads;

/// <summary>
/// Issue 13: one exact Hessian-vector product of an imported ONNX model's loss (a fixture of tests/fixtures/onnx:
/// ResNet-20 or the transformer encoder), float64 on both sides, mean cross-entropy on the first 128 Fashion-MNIST
/// training images, BatchNorm with its running statistics (PyTorch's <c>eval()</c>, as <c>noether curvature</c> runs it),
/// the file's weights, and a seeded direction v shared with the twin (per parameter, by state_dict name). Noether: the
/// curvature command's path, <see cref="MinibatchHessian.Mean"/> over the one batch (records the forward pass and the
/// gradient graph, then one double-backward product without the product pool). The twin (bench/compare/graph_hvp.py):
/// the make_zoo.py class with the file's initializers, <c>torch.autograd.grad</c> double backward or functorch's
/// forward-over-reverse, whichever is faster. Both time the forward pass, the gradient with its graph and the product.
/// The check: H·v and ∇L against the twin's (the issue asks ≤ 1e-10 relative).
/// </summary>
internal sealed class GraphHvp(string name, string file, double target) : IWorkload
{
    private GraphFixtureBatch _fixture = null!;
    private double[] _v = [];
    private double[] _hv = [];

    /// <inheritdoc/>
    public string Name => name;

    /// <inheritdoc/>
    public string Item => "issue 13";

    /// <inheritdoc/>
    public string Description => $"one Hessian-vector product of {file} (forward + gradient graph + double backward), {GraphFixtureBatch.Batch} Fashion-MNIST images, BatchNorm eval, float64";

    /// <inheritdoc/>
    public double? Target => target;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <inheritdoc/>
    public PythonTwin? Python => new("graph_hvp.py", Name, ["--model", _fixture?.Path ?? GraphFixtureBatch.Fixture(file)], NeedsInputs: true);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        _fixture = new GraphFixtureBatch(file);
        var random = new Random(context.Seed);
        _v = new double[_fixture.Dimension];
        for (int i = 0; i < _v.Length; i++) _v[i] = random.NextDouble() * 2 - 1;
        var arrays = Inputs.Batch(_fixture.Images, _fixture.Labels);
        foreach (var (p, offset) in _fixture.Blocks()) arrays["v:" + p.Name] = (_v.AsSpan(offset, p.Value.Length).ToArray(), p.Value.ShapeArray);
        context.WriteInputs(arrays);
    }

    /// <inheritdoc/>
    public void Run()
    {
        var hv = new double[_v.Length];
        _fixture.Hessian().Mean().Multiply(_v, hv);
        _hv = hv;
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Finish(WorkloadContext context)
    {
        var hessian = _fixture.Hessian();
        var gradient = hessian.Gradient();
        var arrays = new Dictionary<string, (double[], int[])>();
        foreach (var (p, offset) in _fixture.Blocks())
        {
            arrays["Hv:" + p.Name] = (_hv.AsSpan(offset, p.Value.Length).ToArray(), p.Value.ShapeArray);
            arrays["grad:" + p.Name] = (gradient.AsSpan(offset, p.Value.Length).ToArray(), p.Value.ShapeArray);
        }
        context.WriteResults(arrays);
        return new Dictionary<string, object?>
        {
            ["model"] = file,
            ["parameters"] = hessian.Dimension,
            ["loss"] = hessian.Loss(0),
            ["hv_norm"] = Math.Sqrt(_hv.Sum(x => x * x)),
        };
    }
}
