using Noether.Data;
using Noether.Nn;
using Noether.Serialization;

namespace Noether.Experiments;

/// <summary>
/// Where the SPEC CNN of the ensemble and attack experiments comes from: its data, a weights file, or a model trained with
/// given settings and cached in a folder as <see cref="CacheFile"/> with those settings in its metadata. Training is a pure
/// function of its settings, so a cache whose settings match holds the weights retraining would give.
/// </summary>
public static class SpecCnnSource
{
    /// <summary>The cached model's file name in an output folder.</summary>
    public const string CacheFile = "model.safetensors";

    private const string TrainingKey = "noether.training";

    /// <summary>
    /// The data of <paramref name="training"/> and the model in <paramref name="weightsPath"/> if given (it must fit the
    /// data), with the hidden width the ensembles will act on. The messages start with <paramref name="dataName"/> (the data)
    /// and <paramref name="weightsName"/> (the weights file).
    /// </summary>
    public static (ImageDataset Train, ImageDataset Test, SpecCnn<float>? FromWeights, int Hidden) Load(CnnTrainingSettings training, string? weightsPath,
        double? slope, string dataName, string weightsName)
    {
        ArgumentNullException.ThrowIfNull(training);
        var (train, test) = LoadData(training.Dataset, training.DataDirectory, dataName);
        var fromWeights = weightsPath is null ? null : ReadWeights(weightsPath, slope, weightsName);
        if (fromWeights is not null) EnsembleExperiment.CheckFits(fromWeights, test, dataName);
        return (train, test, fromWeights, fromWeights?.Hidden.OutFeatures ?? training.Hidden);
    }

    /// <summary>
    /// Refuses settings whose hidden layer would have more weights than one tensor can hold (C·(side/2)²·h); the message
    /// starts with <paramref name="what"/> (the settings as the caller names them) and the exception names <paramref name="name"/>.
    /// </summary>
    public static void CheckHiddenLayer(CnnTrainingSettings settings, string name, string what)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int pooled = (settings.Dataset == "cifar10" ? 32 : 28) / 2;
        double hiddenWeights = (double)settings.Channels * pooled * pooled * settings.Hidden;
        if (hiddenWeights > Array.MaxLength)
            throw Errors.Argument(name, string.Create(CultureInfo.InvariantCulture,
                $"{what}: the hidden layer would have {settings.Channels}·{pooled}²·{settings.Hidden} = {hiddenWeights:G3} weights, more than one tensor can hold ({Array.MaxLength})"));
    }

    /// <summary>Both splits of <paramref name="dataset"/>; an empty split is refused naming <paramref name="name"/> and its files.</summary>
    public static (ImageDataset Train, ImageDataset Test) LoadData(string dataset, string? directory, string name)
    {
        var (train, test) = CnnTraining.Load(new CnnTrainingSettings(dataset, directory));
        RequireImages(train, name);
        RequireImages(test, name);
        return (train, test);
    }

    /// <summary>An empty split (an IDX file that declares 0 images) is refused naming its files, not later by a reshape.</summary>
    public static void RequireImages(ImageDataset data, string name)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw new InvalidDataException($"{name}: {data.Source} holds no images");
    }

    /// <summary>Reads a model file (<see cref="ModelFile.Read"/>); a message about the file starts with <paramref name="name"/>.</summary>
    public static ModelFile ReadFile(string path, string name)
    {
        try
        {
            return ModelFile.Read(path);
        }
        catch (ArgumentException e)
        {
            throw Errors.Argument(name, $"{name}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads a safetensors file into a SPEC CNN (image side inferred from the hidden layer's width, so that a model for
    /// other data is reported as such by the data check); the messages start with <paramref name="name"/> and name the file,
    /// the tensor and both shapes.
    /// </summary>
    public static SpecCnn<float> ReadWeights(string path, double? slope, string name)
    {
        var file = ReadFile(path, name);
        try
        {
            return file.SpecCnn<float>(slope);
        }
        catch (ArgumentException e)
        {
            throw Errors.Argument(name, $"{name}: {e.Message}", e);
        }
    }

    /// <summary>The model cached in <paramref name="folder"/> when it was trained with exactly <paramref name="training"/>, else null (also for a damaged cache).</summary>
    public static SpecCnn<float>? TryCached(string folder, CnnTrainingSettings training, int imageSize)
    {
        ArgumentNullException.ThrowIfNull(training);
        string path = Path.Combine(folder, CacheFile);
        if (!File.Exists(path)) return null;
        try
        {
            var file = ModelFile.Read(path);
            if (!file.Metadata.TryGetValue(TrainingKey, out var key) || key != Key(training)) return null;
            return file.SpecCnn<float>(training.LeakySlope, imageSize);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException)
        {
            return null; // a damaged cache is retrained and overwritten
        }
    }

    /// <summary>
    /// The model cached in <paramref name="earlier"/> (the folder an earlier run wrote) for <paramref name="training"/>, copied
    /// into <paramref name="folder"/> when that is another folder (a result that replaces the earlier one keeps its cache); null when there is none.
    /// </summary>
    public static SpecCnn<float>? ReuseCached(string earlier, string folder, CnnTrainingSettings training, int imageSize)
    {
        if (TryCached(earlier, training, imageSize) is not { } cached) return null;
        if (earlier != folder) File.Copy(Path.Combine(earlier, CacheFile), Path.Combine(folder, CacheFile), overwrite: true);
        return cached;
    }

    /// <summary>The images training uses: the first <see cref="CnnTrainingSettings.TrainLimit"/> of <paramref name="train"/>, or all.</summary>
    public static ImageDataset TrainingImages(CnnTrainingSettings training, ImageDataset train)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(train);
        return training.TrainLimit is { } limit && limit < train.Count ? train.Subset(0, limit) : train;
    }

    /// <summary>
    /// Trains the SPEC CNN on <see cref="TrainingImages"/>, reporting "epoch e/E loss L" with the batches done of all epochs'.
    /// </summary>
    public static CnnTrainingResult Train(CnnTrainingSettings training, ImageDataset train, ImageDataset test, IProgress<ExperimentProgress>? progress,
        CancellationToken cancellationToken = default)
    {
        var t = TrainingImages(training, train);
        int batches = Minibatches.BatchCount(t.Count, training.BatchSize, dropLast: false);
        long total = (long)training.Epochs * batches;
        return CnnTraining.Run(training, t, test, progress is null ? null : new InlineProgress<CnnTrainingProgress>(q => progress.Report(new ExperimentProgress(
            string.Create(CultureInfo.InvariantCulture, $"epoch {q.Epoch}/{q.Epochs} loss {q.MeanLoss:F3}"), (long)(q.Epoch - 1) * batches + q.Batch, total))), cancellationToken);
    }

    /// <summary>Saves a model trained with <paramref name="training"/> as <paramref name="folder"/>'s <see cref="CacheFile"/>.</summary>
    public static void Save(string folder, SpecCnn<float> model, CnnTrainingSettings training)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(training);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            [ModelFile.ArchitectureKey] = ModelFile.SpecCnnArchitecture(model),
            ["noether.dataset"] = training.Dataset,
            [TrainingKey] = Key(training),
        };
        ModelFile.Write(Path.Combine(folder, CacheFile), model.Parameters, SafeTensorDType.F32, metadata);
    }

    /// <summary>Everything that determines the trained weights (the data directory only through the data it holds).</summary>
    internal static string Key(CnnTrainingSettings s) => string.Create(CultureInfo.InvariantCulture,
        $"dataset={s.Dataset};epochs={s.Epochs};batch={s.BatchSize};lr={s.LearningRate:R};seed={s.Seed};channels={s.Channels};hidden={s.Hidden};slope={s.LeakySlope:R};limit={s.TrainLimit?.ToString(CultureInfo.InvariantCulture) ?? "all"}");
}
