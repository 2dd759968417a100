using Noether.Data;
using Noether.Experiments;
using Noether.Interop;
using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>
/// Issue 13: training steps of the ResNet-20 fixture (tests/fixtures/onnx/resnet20.onnx, its weights and BatchNorm
/// statistics) on Fashion-MNIST, float32, batch 128, SGD lr 0.1, momentum 0.9, weight decay 5e-4 (PyTorch's coupled L2),
/// BatchNorm with batch statistics and PyTorch's running-statistics update — the recipe of <c>noether train --model</c>
/// with a constant rate. The first <see cref="Steps"/> × 128 training images in order (no shuffle, so both sides see the
/// same batches). Noether: <see cref="GraphTrainer{T}.TrainStep"/>; the twin (bench/compare/resnet20_train.py):
/// make_zoo.py's ResNet20 with the file's initializers, <c>torch.optim.SGD</c>, NCHW or channels-last, whichever is
/// faster. Reported per step; an epoch of 60,000 images is 469 steps. The check: the loss of the first step (same
/// weights, same batch).
/// </summary>
internal sealed class ResNetTrainSteps : IWorkload
{
    /// <summary>Steps per timed run.</summary>
    public const int Steps = 20;

    private const int Batch = 128;
    private OnnxModel _onnx = null!;
    private List<(Tensor<float> Inputs, int[] Labels)> _batches = [];
    private int[] _sampleShape = [];
    private GraphTrainer<float> _trainer = null!;
    private readonly List<double> _losses = [];

    /// <inheritdoc/>
    public string Name => "resnet20-train-steps";

    /// <inheritdoc/>
    public string Item => "issue 13";

    /// <inheritdoc/>
    public string Description => $"{Steps} SGD-momentum steps of ResNet-20 (BatchNorm batch statistics), batch {Batch}, Fashion-MNIST, float32; ms per step (× 469 = an epoch)";

    /// <inheritdoc/>
    public double? Target => 1.0;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <inheritdoc/>
    public int Repetitions => Steps;

    /// <inheritdoc/>
    public PythonTwin? Python => new("resnet20_train.py", Name,
        ["--model", GraphFixtureBatch.Fixture("resnet20.onnx"), "--steps", Steps.ToString(System.Globalization.CultureInfo.InvariantCulture)], NeedsInputs: false);

    private static GraphTrainingSettings Settings => new(Optimizer: "sgd", Epochs: 1, BatchSize: Batch, LearningRate: 0.1, Momentum: 0.9, WeightDecay: 5e-4);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        _onnx = OnnxModel.Load(GraphFixtureBatch.Fixture("resnet20.onnx"));
        var train = FashionMnist.Load(train: true).Subset(0, Steps * Batch);
        _batches = Minibatches.Create(train, Batch, null, shuffle: false).ToList();
        _sampleShape = GraphTrainer<float>.ModelSampleShape(_onnx.ToGraph<float>(), train.SampleShape, train.Source);
    }

    /// <inheritdoc/>
    public void BeforeRun()
    {
        _trainer = new GraphTrainer<float>(_onnx.ToGraph<float>(), Settings, _sampleShape, Minibatches.BatchCount(60_000, Batch));
        _losses.Clear();
    }

    /// <inheritdoc/>
    public void Run()
    {
        foreach (var (inputs, labels) in _batches) _losses.Add(_trainer.TrainStep(inputs, labels));
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Finish(WorkloadContext context)
    {
        context.WriteResults(new Dictionary<string, (double[], int[])> { ["losses"] = (_losses.ToArray(), [_losses.Count]) });
        return new Dictionary<string, object?>
        {
            ["steps"] = Steps,
            ["first_loss"] = _losses[0],
            ["last_loss"] = _losses[^1],
        };
    }
}
