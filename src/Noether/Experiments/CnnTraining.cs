using Noether.Data;
using Noether.Nn;

namespace Noether.Experiments;

/// <summary>Settings of <see cref="CnnTraining"/>: the SPEC CNN trained with Adam (issue defaults: lr 1e-3, batch 128).</summary>
/// <param name="Dataset">"fashion-mnist" or "cifar10".</param>
/// <param name="DataDirectory">Where the dataset's files are; null for the default location.</param>
/// <param name="Epochs">Passes over the training split.</param>
/// <param name="BatchSize">Minibatch size.</param>
/// <param name="LearningRate">Adam's step size.</param>
/// <param name="Seed">Seeds the initialisation and the minibatch order.</param>
/// <param name="Channels">Convolution channels.</param>
/// <param name="Hidden">Hidden width h (the group acts on the layers around it).</param>
/// <param name="LeakySlope">LeakyReLU's negative slope.</param>
/// <param name="TrainLimit">Use only the first this many training images (null: all).</param>
public sealed record CnnTrainingSettings(
    string Dataset = "fashion-mnist",
    string? DataDirectory = null,
    int Epochs = 10,
    int BatchSize = 128,
    double LearningRate = 1e-3,
    int Seed = 0,
    int Channels = 16,
    int Hidden = 32,
    double LeakySlope = 0.01,
    int? TrainLimit = null)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Dataset is not ("fashion-mnist" or "cifar10"))
            throw Errors.Argument(nameof(Dataset), $"dataset '{Dataset}' is not known: expected fashion-mnist or cifar10");
        Errors.ThrowIfNotPositive(Epochs, "epochs");
        Errors.ThrowIfNotPositive(BatchSize, "batch size");
        Errors.ThrowIfNotPositive(LearningRate, "learning rate");
        Errors.ThrowIfNotPositive(Channels, "channels");
        Errors.ThrowIfNotPositive(Hidden, "hidden width");
        if (!double.IsFinite(LeakySlope)) throw Errors.OutOfRange("leaky slope", LeakySlope, "a finite number");
        if (TrainLimit is { } limit) Errors.ThrowIfNotPositive(limit, "train limit");
    }
}

/// <summary>One finished epoch.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainLoss">Mean cross-entropy over the epoch's minibatches.</param>
/// <param name="TestAccuracy">Accuracy on the test split after the epoch.</param>
/// <param name="Seconds">Wall time of the epoch's training (evaluation excluded).</param>
public sealed record EpochRecord(int Epoch, double TrainLoss, double TestAccuracy, double Seconds);

/// <summary>Progress of <see cref="CnnTraining"/>.</summary>
/// <param name="Epoch">Current epoch (1-based).</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="MeanLoss">Mean loss of the epoch so far.</param>
/// <param name="Finished">The epoch just finished, when this report closes one.</param>
public readonly record struct CnnTrainingProgress(int Epoch, int Epochs, int Batch, int Batches, double MeanLoss, EpochRecord? Finished);

/// <summary>The trained model and its history.</summary>
/// <param name="Model">The trained network (float32).</param>
/// <param name="Epochs">One record per epoch.</param>
/// <param name="TrainSource">Where the training data came from.</param>
/// <param name="TestSource">Where the test data came from.</param>
/// <param name="TrainCount">Training images used.</param>
/// <param name="TestCount">Test images.</param>
public sealed record CnnTrainingResult(SpecCnn<float> Model, IReadOnlyList<EpochRecord> Epochs, string TrainSource, string TestSource, int TrainCount, int TestCount)
{
    /// <summary>Test accuracy after the last epoch.</summary>
    public double FinalTestAccuracy => Epochs[^1].TestAccuracy;
}

/// <summary>
/// Trains the SPEC CNN (conv 3×3 → max-pool 2 → linear h → LeakyReLU → linear classes) on Fashion-MNIST or
/// CIFAR-10 with Adam on inputs in [0, 1], evaluating the official test split after every epoch. A pure
/// function of its settings: the same seed gives the same model.
/// </summary>
public static class CnnTraining
{
    /// <summary>Loads the data, trains, evaluates.</summary>
    public static CnnTrainingResult Run(CnnTrainingSettings settings, IProgress<CnnTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var (train, test) = Load(settings);
        // An IDX file that declares 0 images parses; training on it would fail later with a message that names no file.
        foreach (var split in new[] { train, test })
            if (split.Count == 0) throw new DataFormatException(split.Source, "holds no images");
        if (settings.TrainLimit is { } limit && limit < train.Count) train = train.Subset(0, limit);
        return Run(settings, train, test, progress, cancellationToken);
    }

    /// <summary>Trains on given data (images in [0, 1]).</summary>
    public static CnnTrainingResult Run(CnnTrainingSettings settings, ImageDataset train, ImageDataset test,
        IProgress<CnnTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        settings.Validate();
        if (train.Height != train.Width)
            throw Errors.Argument(nameof(train), $"train: images are {train.Height}×{train.Width}; the SPEC CNN expects square images");
        var rng = new Random(settings.Seed);
        var model = Models.SpecCnn<float>(rng, train.Channels, train.Height, train.ClassCount, settings.Channels, settings.Hidden, settings.LeakySlope);
        var optimizer = new Adam<float>(model.Parameters, settings.LearningRate);
        int batches = Minibatches.BatchCount(train.Count, settings.BatchSize, dropLast: false);
        var history = new List<EpochRecord>();
        for (int epoch = 1; epoch <= settings.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            int e = epoch;
            var stepProgress = progress is null ? null : new InlineProgress<TrainingProgress>(p =>
                progress.Report(new CnnTrainingProgress(e, settings.Epochs, p.Batch, batches, p.MeanLoss, null)));
            double loss = Classifier.TrainEpoch(model, optimizer, Minibatches.Create(train, settings.BatchSize, rng), stepProgress, cancellationToken);
            double seconds = clock.Elapsed.TotalSeconds;
            cancellationToken.ThrowIfCancellationRequested();
            double accuracy = Classifier.Evaluate(model, Minibatches.Create(test, 1000, null, shuffle: false));
            var record = new EpochRecord(epoch, loss, accuracy, seconds);
            history.Add(record);
            progress?.Report(new CnnTrainingProgress(epoch, settings.Epochs, batches, batches, loss, record));
        }
        return new CnnTrainingResult(model, history, train.Source, test.Source, train.Count, test.Count);
    }

    /// <summary>The training and test splits named by the settings.</summary>
    public static (ImageDataset Train, ImageDataset Test) Load(CnnTrainingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Dataset == "cifar10"
            ? (Cifar10.Load(settings.DataDirectory, train: true), Cifar10.Load(settings.DataDirectory, train: false))
            : (FashionMnist.Load(settings.DataDirectory, train: true), FashionMnist.Load(settings.DataDirectory, train: false));
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (unlike <see cref="Progress{T}"/>, which posts).</summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    /// <inheritdoc/>
    public void Report(T value) => report(value);
}
