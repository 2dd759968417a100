using System.CommandLine;
using System.Globalization;
using Noether.Data;
using Noether.Ensembles;
using Noether.Experiments;
using Noether.Graphs;
using Noether.Interop;
using Noether.Nn;
using Noether.Serialization;

namespace Noether.Cli.Commands;

/// <summary>The trained model an ensemble/attack command works on (the SPEC CNN or an imported graph, as features and a head), and where it came from.</summary>
/// <param name="Model">The network (float32).</param>
/// <param name="Origin">"weights FILE", "cached FILE", "trained" or "model FILE.onnx".</param>
/// <param name="Training">The training settings when Noether trained it (this run or a cached run), else null.</param>
/// <param name="NeedsSaving">True when the model was trained in this run and belongs in the output folder.</param>
internal sealed record LoadedModel(HeadedModel<float> Model, string Origin, CnnTrainingSettings? Training, bool NeedsSaving);

/// <summary>
/// The model for <c>noether ensemble</c> and <c>noether attack</c>: <c>--weights FILE.safetensors</c> (e.g. from
/// <c>noether train</c>, or a PyTorch <c>state_dict</c> saved with safetensors under the SPEC CNN's names), otherwise
/// the model <c>noether train</c> would train with the profile's settings. A trained model is saved as
/// <c>model.safetensors</c> in the output folder with its training settings in the metadata; a later run into the same
/// folder (with <c>--force</c>) reuses it when the settings match — training is a pure function of its settings, so the
/// cached weights are the ones retraining would give.
/// </summary>
internal static class ModelSource
{
    public static Option<string?> Weights() => new Option<string?>("--weights")
    {
        Description = "SPEC CNN weights (safetensors, PyTorch state_dict names 0.weight … 5.bias, e.g. from `noether train`); default: train one with the profile's settings, or reuse model.safetensors cached in --out.",
    }.ExistingFile();

    public static Option<string> Data()
    {
        var data = new Option<string>("--data") { Description = "Dataset: fashion-mnist or cifar10 (binary batches, see --data-dir).", DefaultValueFactory = _ => "fashion-mnist" };
        data.AcceptOnlyFromAmong("fashion-mnist", "cifar10");
        return data;
    }

    public static Option<string?> DataDir() => new Option<string?>("--data-dir") { Description = "Folder with the dataset's files (default: Debian's /usr/share/datasets/fashion-mnist; CIFAR-10: the cifar-10-batches-bin folder)." }.ExistingDirectory();

    public static Option<double?> Slope()
    {
        var option = new Option<double?>("--leaky-slope")
        {
            Description = "LeakyReLU slope of a --weights model (a plain state_dict does not store it; Noether's files carry it in their metadata; otherwise 0.01).",
        };
        // analyze's rule for spec-cnn:slope=S: a finite number ≥ 0.
        option.Validators.Add(r =>
        {
            if (r.TryGet(out double? v) && v is { } s && !(s >= 0 && double.IsFinite(s)))
                r.AddError($"--leaky-slope must be a finite number ≥ 0 (got {s.ToString(CultureInfo.InvariantCulture)})");
        });
        return option;
    }

    /// <summary>
    /// What <c>ensemble</c> and <c>attack</c> check before touching the output folder: the training memory when no --weights
    /// is given, then the data, the --weights model if given (it must fit the data), and the hidden width the ensembles will act on.
    /// </summary>
    public static (ImageDataset Train, ImageDataset Test, SpecCnn<float>? FromWeights, int Hidden) Prepare(CnnTrainingSettings training, string? weightsPath, double? slope)
    {
        if (weightsPath is null) CheckTrainingMemory(training);
        return SpecCnnSource.Load(training, weightsPath, slope, "--data", "--weights");
    }

    /// <summary>
    /// Refuses --channels/--hidden whose SPEC CNN cannot be held: more weights in one layer than a tensor can hold, or
    /// training memory above <see cref="MemoryBudget.Limit"/> (<see cref="MemoryEstimate.CnnTraining"/>).
    /// </summary>
    public static void CheckTrainingMemory(CnnTrainingSettings s)
    {
        string what = string.Create(CultureInfo.InvariantCulture, $"--channels {s.Channels} --hidden {s.Hidden}");
        SpecCnnSource.CheckHiddenLayer(s, "--hidden", what);
        MemoryBudget.Check(what, MemoryEstimate.CnnTraining(s));
    }

    /// <summary>Refuses an ensemble of <paramref name="members"/> whose heads, calibration draws and member logits on the
    /// <paramref name="test"/> images cannot be held (<see cref="MemoryEstimate.Ensemble"/>).</summary>
    public static void CheckMembers(int members, int hidden, int channels, ImageDataset test, string dataset) =>
        MemoryBudget.Check(string.Create(CultureInfo.InvariantCulture, $"--members {members}"),
            MemoryEstimate.Ensemble(members, hidden, channels, test.ClassCount, dataset, test.Count, hidden));

    /// <summary>The same for the ensembles of an imported graph (<see cref="MemoryEstimate.EnsembleOnGraph"/>).</summary>
    public static void CheckMembers(int members, HeadedModel<float> model, Graph<float> graph, ImageDataset test, string dataset) =>
        MemoryBudget.Check(string.Create(CultureInfo.InvariantCulture, $"--members {members}"),
            MemoryEstimate.EnsembleOnGraph(members, model.Hidden, model.Classes, dataset, test.Count, model.Hidden,
                graph.Parameters.Sum(p => (long)p.Length), MemoryEstimate.RecordedValues(graph, test.SampleShape)));

    /// <summary>Reads a model file (<see cref="SpecCnnSource.ReadFile"/>); a message about the file starts with <paramref name="option"/>.</summary>
    public static ModelFile ReadFile(string path, string option) => SpecCnnSource.ReadFile(path, option);

    /// <summary>
    /// A model file of Noether's own architectures (<c>--weights</c> + <c>--arch</c>: an MLP or the SPEC CNN) as a float64
    /// graph over its parameters (<see cref="SequentialGraph"/>), for the commands written for imported graphs.
    /// </summary>
    public static Graph<double> ArchGraph(string weightsPath, string archText)
    {
        ArchitectureSpec spec;
        try
        {
            spec = ArchitectureSpec.Parse(archText);
        }
        catch (ArgumentException e)
        {
            throw Errors.Argument("--arch", $"--arch: {Errors.Plain(e)}", e);
        }
        var model = ReadFile(weightsPath, "--weights").Build(spec);
        int[] sample = model is SpecCnn<double> cnn ? [cnn.InChannels, cnn.ImageSize, cnn.ImageSize] : [model.Layers.OfType<Linear<double>>().First().InFeatures];
        return SequentialGraph.Of(model, sample);
    }

    /// <summary>
    /// An imported classifier for <c>ensemble</c>/<c>attack --model</c>: the ONNX file as a float32 graph (BatchNorm in inference
    /// mode), its head found (<see cref="HeadedModel{T}.Of(Graph{T}, int[])"/>) and checked against the data: one line naming
    /// --model when the file has no such head or its input does not take the data's samples.
    /// </summary>
    public static (HeadedModel<float> Model, Graph<float> Graph) Imported(string path, ImageDataset test, string dataName)
    {
        var graph = OnnxModel.Load(path).ToGraph<float>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
        HeadedModel<float> model;
        try
        {
            model = HeadedModel<float>.Of(graph, test.SampleShape);
        }
        catch (ArgumentException e)
        {
            throw Errors.Argument("--model", $"--model {path}: {Errors.Plain(e)}{(e.ParamName == "sampleShape" ? $" ({dataName} {test.Source})" : "")}", e);
        }
        catch (GraphException e)
        {
            throw new DataFormatException(path, $"does not run on {dataName} samples {string.Join("×", test.SampleShape)}: {e.Message}", e);
        }
        if (test.ClassCount != model.Classes)
            throw Errors.Argument("--model", $"--model {path}: the model outputs {model.Classes} classes, the {dataName} data set has {test.ClassCount}");
        return (model, graph);
    }

    /// <summary>Trains with a progress bar (<see cref="SpecCnnSource.Train"/>).</summary>
    public static SpecCnn<float> Train(CnnTrainingSettings training, ImageDataset train, ImageDataset test, CancellationToken token)
    {
        var result = ExperimentConsole.Run("training the SPEC CNN", (p, ct) => SpecCnnSource.Train(training, train, test, p, ct), token);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"trained: test accuracy {result.FinalTestAccuracy * 100:F2}% after {result.Epochs.Count} epochs on {result.TrainCount} images"));
        return result.Model;
    }

    /// <summary>
    /// The model to use: --weights, or the cache in <paramref name="outDir"/>, or a fresh training run. Called after the
    /// output folder is prepared (the cache lives there) but before any result is written.
    /// </summary>
    public static LoadedModel Resolve(SpecCnn<float>? fromWeights, string? weightsPath, string outDir, CnnTrainingSettings training,
        ImageDataset train, ImageDataset test, CancellationToken token)
    {
        if (fromWeights is not null) return new LoadedModel(HeadedModel<float>.Of(fromWeights), $"weights {weightsPath}", null, false);
        // The run writes into a staging folder; the cache of an earlier run is in the --out it will replace.
        string earlier = CliRun.Current?.Show(outDir) ?? outDir;
        if (SpecCnnSource.ReuseCached(earlier, outDir, training, train.Height) is { } cached)
        {
            ExperimentConsole.Line($"reusing the model cached in {Path.Combine(earlier, SpecCnnSource.CacheFile)} (same training settings)");
            return new LoadedModel(HeadedModel<float>.Of(cached), $"cached {Path.Combine(earlier, SpecCnnSource.CacheFile)}", training, false);
        }
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"no --weights: training the SPEC CNN on {training.Dataset} ({training.Epochs} epochs, batch {training.BatchSize}, Adam lr {training.LearningRate}, h = {training.Hidden}, seed {training.Seed}{(training.TrainLimit is { } l ? $", first {l} training images" : "")})"));
        return new LoadedModel(HeadedModel<float>.Of(Train(training, train, test, token)), "trained", training, true);
    }
}
