using Noether.Data;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>
/// Issue 4: the top Hessian eigenvalue of the SPEC CNN (conv 3×3·16, pad 1 → max-pool 2 → linear 3136→32 → LeakyReLU 0.01
/// → linear 10; 100,874 parameters) from a fixed number of Hessian-vector products, float64 on both sides, mean
/// cross-entropy on the first 128 Fashion-MNIST training images, seeded random weights shared with the twin.
/// Noether: <see cref="ModelHessian.CrossEntropy{T}(Nn.Module{T}, Tensors.Tensor{T}, int[], IReadOnlyList{Autodiff.Parameter{T}})"/> (records the gradient graph once) and
/// <see cref="Lanczos.Tridiagonalize"/> for <see cref="Products"/> steps (full reorthogonalisation) from a shared start
/// vector, then the largest Ritz value. The twin (bench/compare/lanczos_cnn.py): a power iteration with the same number of
/// products by double backward (torch.autograd.grad with create_graph, then grad_outputs per product). Both time the
/// forward pass, the gradient with its graph and the products. The check: both sides' H·v₀ for the same v₀.
/// </summary>
internal sealed class LanczosCnn : IWorkload
{
    /// <summary>Hessian-vector products per run on each side.</summary>
    public const int Products = 20;

    private const int Batch = 128;
    private SpecCnn<double> _model = null!;
    private Tensor<double> _images = null!;
    private int[] _labels = [];
    private double[] _start = [];
    private double _lambda;

    /// <inheritdoc/>
    public string Name => "lanczos-cnn";

    /// <inheritdoc/>
    public string Item => "issue 4";

    /// <inheritdoc/>
    public string Description => $"top-1 Hessian eigenvalue of the SPEC CNN, {Products} HVPs (Noether Lanczos vs PyTorch power iteration), {Batch} Fashion-MNIST images, float64";

    /// <inheritdoc/>
    public double? Target => 1.0;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <inheritdoc/>
    public PythonTwin? Python => new("lanczos_cnn.py", Name, ["--products", Products.ToString(System.Globalization.CultureInfo.InvariantCulture)], NeedsInputs: true);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        var random = new Random(context.Seed);
        _model = Models.SpecCnn<double>(random);
        var batch = FashionMnist.Load(train: true).Subset(0, Batch);
        _images = batch.ImagesAsDouble();
        _labels = batch.Labels;
        int n = _model.Parameters.Sum(p => p.Value.Length);
        _start = new double[n];
        for (int i = 0; i < n; i++) _start[i] = random.NextDouble() * 2 - 1;
        var arrays = Inputs.Batch(_images, _labels);
        arrays["v0"] = (_start, [n]);
        foreach (var p in _model.Parameters) arrays["param:" + p.Name] = Inputs.Entry(p.Value);
        context.WriteInputs(arrays);
    }

    /// <inheritdoc/>
    public void Run()
    {
        var op = SymmetricOperator.FromHessian(ModelHessian.CrossEntropy(_model, _images, _labels));
        var lanczos = Lanczos.Tridiagonalize(op, _start, Products, new Random(1));
        _lambda = Lanczos.TridiagonalEigen(lanczos.Alpha, lanczos.Beta, Products).Values[^1];
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Finish(WorkloadContext context)
    {
        var hessian = ModelHessian.CrossEntropy(_model, _images, _labels);
        var hv = hessian.Multiply(_start);
        context.WriteResults(new Dictionary<string, (double[], int[])> { ["Hv0"] = (hv, [hv.Length]), ["lambda"] = ([_lambda], [1]) });
        return new Dictionary<string, object?>
        {
            ["parameters"] = hessian.Dimension,
            ["products"] = Products,
            ["lambda_max_lanczos"] = _lambda,
            ["loss"] = hessian.Value,
        };
    }
}
