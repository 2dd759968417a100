using Noether.Autodiff;
using Noether.Data;
using Noether.Graphs;
using Noether.Interop;
using Noether.Landscape;
using Noether.Tensors;

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
    private const int Batch = 128;
    private Graph<double> _graph = null!;
    private Tensor<double> _images = null!;
    private int[] _labels = [];
    private double[] _v = [];
    private double[] _hv = [];
    private string _path = "";

    /// <inheritdoc/>
    public string Name => name;

    /// <inheritdoc/>
    public string Item => "issue 13";

    /// <inheritdoc/>
    public string Description => $"one Hessian-vector product of {file} (forward + gradient graph + double backward), {Batch} Fashion-MNIST images, BatchNorm eval, float64";

    /// <inheritdoc/>
    public double? Target => target;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <inheritdoc/>
    public PythonTwin? Python => new("graph_hvp.py", Name, ["--model", _path.Length > 0 ? _path : Fixture(file)], NeedsInputs: true);

    /// <summary>The path of a model of tests/fixtures/onnx.</summary>
    public static string Fixture(string file) =>
        Program.FindUp(Path.Combine("tests", "fixtures", "onnx", file)) ?? throw new FileNotFoundException($"tests/fixtures/onnx/{file} not found above the working folder", file);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        _path = Fixture(file);
        _graph = OnnxModel.Load(_path).ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
        var batch = FashionMnist.Load(train: true).Subset(0, Batch);
        _images = batch.ImagesAsDouble();
        _labels = batch.Labels;
        var random = new Random(context.Seed);
        int n = _graph.Parameters.Sum(p => p.Value.Length);
        _v = new double[n];
        for (int i = 0; i < n; i++) _v[i] = random.NextDouble() * 2 - 1;
        var arrays = Inputs.Batch(_images, _labels);
        foreach (var (p, offset) in Blocks()) arrays["v:" + p.Name] = (_v.AsSpan(offset, p.Value.Length).ToArray(), p.Value.ShapeArray);
        context.WriteInputs(arrays);
    }

    private IEnumerable<(Parameter<double> Parameter, int Offset)> Blocks()
    {
        int offset = 0;
        foreach (var p in _graph.Parameters)
        {
            yield return (p, offset);
            offset += p.Value.Length;
        }
    }

    private MinibatchHessian Hessian()
    {
        var parameters = _graph.Parameters;
        BatchLoss loss = (tape, leaves, _) =>
        {
            for (int i = 0; i < parameters.Count; i++) tape.BindTo(parameters[i], leaves[i]);
            var logits = _graph.Run(tape, [tape.Constant(_images)]).Output(tape, 0);
            return Ops.CrossEntropy(logits, _labels);
        };
        return new MinibatchHessian(loss, parameters.Select(p => p.Value).ToArray(), 1, parameters.Select(p => p.Name).ToArray());
    }

    /// <inheritdoc/>
    public void Run()
    {
        var hv = new double[_v.Length];
        Hessian().Mean().Multiply(_v, hv);
        _hv = hv;
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Finish(WorkloadContext context)
    {
        var hessian = Hessian();
        var gradient = hessian.Gradient();
        var arrays = new Dictionary<string, (double[], int[])>();
        foreach (var (p, offset) in Blocks())
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
