using Noether.Data;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>
/// (b) One training epoch of the SPEC CNN on all 60,000 Fashion-MNIST training images, batch 128, float32,
/// Adam lr 1e-3, mirroring bench/compare/cnn_epoch.py: pixels / 255 without further normalisation, conv 3×3
/// (1→16, padding 1) → max-pool 2 → flatten → linear 3136→32 → LeakyReLU(0.01) → linear 32→10, mean
/// cross-entropy on logits. Timed: one seeded shuffle, 469 batches (gather, forward, backward, Adam step).
/// Untimed: data loading, model and optimiser creation, the test accuracy reported afterwards.
/// </summary>
internal sealed class CnnEpoch : IWorkload
{
    private ImageDataset _train = null!, _test = null!;
    private SpecCnn<float> _model = null!;
    private Adam<float> _optimizer = null!;
    private int _seed;
    private double _lastLoss;

    /// <inheritdoc/>
    public string Name => "cnn-epoch";

    /// <inheritdoc/>
    public string Item => "(b)";

    /// <inheritdoc/>
    public string Description => "1 epoch SPEC CNN (conv3×3·16 → pool2 → 3136→32 → LeakyReLU → 10), Adam, 60k Fashion-MNIST, batch 128, float32";

    /// <inheritdoc/>
    public double? Target => 1.5;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <inheritdoc/>
    public PythonTwin? Python => new("cnn_epoch.py", Name, [], NeedsInputs: false);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        _seed = context.Seed;
        _train = FashionMnist.Load(train: true);
        _test = FashionMnist.Load(train: false);
    }

    /// <inheritdoc/>
    public void BeforeRun()
    {
        var rng = new Random(_seed);
        _model = Models.SpecCnn<float>(rng);
        _optimizer = new Adam<float>(_model.Parameters, 1e-3);
    }

    /// <inheritdoc/>
    public void Run()
    {
        var batches = Minibatches.Create(_train, 128, new Random(_seed));
        _lastLoss = Classifier.TrainEpoch(_model, _optimizer, batches);
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Finish(WorkloadContext context)
    {
        double accuracy = Classifier.Evaluate(_model, Minibatches.Create(_test, 1000, null, shuffle: false));
        return new Dictionary<string, object?> { ["epoch_mean_loss"] = _lastLoss, ["test_accuracy"] = accuracy };
    }
}
