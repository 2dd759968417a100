using System.Numerics;
using Noether.Autodiff;
using Noether.Data;
using Noether.Graphs;
using Noether.Interop;
using Noether.Nn;
using Noether.Symmetry.Census;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether train --model m.onnx</c>: trains an imported model with one of PyTorch's optimisers on Fashion-MNIST,
/// CIFAR-10 or the user's own tensors; writes the trained model (.onnx and .safetensors), checkpoints, training.csv,
/// training.png and summary.json.
/// </summary>
internal static class TrainModelCommand
{
    /// <summary>The options only the --model path reads.</summary>
    internal sealed class Options
    {
        public Option<string> Optimizer { get; } = new("--optimizer") { Description = "With --model: sgd, adagrad, rmsprop, adam or adamw.", DefaultValueFactory = _ => "sgd" };
        public Option<double> Momentum { get; } = new("--momentum") { Description = "With --model: momentum of SGD or RMSprop (default 0).", DefaultValueFactory = _ => 0 };
        public Option<bool> Nesterov { get; } = new("--nesterov") { Description = "With --model: Nesterov momentum (SGD)." };
        public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "With --model: weight decay λ (L2; decoupled for AdamW).", DefaultValueFactory = _ => 0 };
        public Option<string> Schedule { get; } = new("--schedule") { Description = "With --model: learning-rate schedule, constant, step or cosine (stepped every batch).", DefaultValueFactory = _ => "constant" };
        public Option<int> WarmupEpochs { get; } = new("--warmup-epochs") { Description = "With --model: linear warm-up epochs.", DefaultValueFactory = _ => 0 };
        public Option<int> StepEpochs { get; } = new("--step-epochs") { Description = "With --schedule step: epochs between decays.", DefaultValueFactory = _ => 1 };
        public Option<double> Gamma { get; } = new("--gamma") { Description = "With --schedule step: decay factor.", DefaultValueFactory = _ => 0.1 };
        public Option<int> CheckpointEvery { get; } = new("--checkpoint-every") { Description = "With --model: write checkpoints/epoch-N.onnx (+ .safetensors) every N epochs (0: none).", DefaultValueFactory = _ => 0 };
        public Option<int> Monitor { get; } = new("--monitor") { Description = "With --model: follow every census site's conserved quantity through every step, predicted by the exact per-step identity and the modified-equation integral (docs/monitor.md); keep every N-th step in monitor.csv (0: off).", DefaultValueFactory = _ => 0 };
        public Option<bool> Float64 { get; } = new("--float64") { Description = "With --model: train in float64 (default float32)." };
        public Option<string?> TrainFile { get; } = new("--train-file") { Description = "With --model: your own training data, a .safetensors with \"inputs\" and \"labels\", or an inputs .npy (with --train-labels)." };
        public Option<string?> TrainLabels { get; } = new("--train-labels") { Description = "Labels .npy for an inputs .npy --train-file." };
        public Option<string?> TestFile { get; } = new("--test-file") { Description = "Test data like --train-file (default: the last 10% of --train-file, held out)." };
        public Option<string?> TestLabels { get; } = new("--test-labels") { Description = "Labels .npy for an inputs .npy --test-file." };
        public Option<string?> TeleportAt { get; } = new("--teleport-at") { Description = "With --model: teleport to a larger gradient norm along the census's exact groups at these epochs, counted from 0 (0: before the first step), e.g. 0 or 2,10 (docs/teleport-training.md)." };
        public Option<int> Teleports { get; } = new("--teleports") { Description = "With --teleport-at: teleports per chosen epoch, one before each of its first N steps.", DefaultValueFactory = _ => 8 };
        public Option<int> TeleportSteps { get; } = new("--teleport-steps") { Description = "With --teleport-at: gradient-ascent steps K per teleport (one Hessian-vector product each).", DefaultValueFactory = _ => 10 };
        public Option<int> TeleportBatch { get; } = new("--teleport-batch") { Description = "With --teleport-at: samples of the batch each teleport ascends on.", DefaultValueFactory = _ => 200 };
        public Option<double> TeleportLr { get; } = new("--teleport-lr") { Description = "With --teleport-at: the ascent's step size η on the group coordinates.", DefaultValueFactory = _ => 5e-2 };
        public Option<double> TeleportCap { get; } = new("--teleport-cap") { Description = "With --teleport-at: stop a teleport's ascent once ‖∇L‖² on its batch exceeds this.", DefaultValueFactory = _ => 100 };
        public Option<string?> TeleportTo { get; } = new("--teleport-to") { Description = "With --teleport-at: gradient-norm (default: ascend ‖∇L‖² along every exact site), sharpness:X (move --teleport-site until λ_max on the teleport batch is X) or sharpness-scale:S (to S × λ_max before each teleport)." };
        public Option<int?> TeleportSite { get; } = new("--teleport-site") { Description = "With --teleport-to sharpness…: the census site to move (its index in `noether symmetries --model`, from 0)." };

        public IEnumerable<Option> All => [Optimizer, Momentum, Nesterov, WeightDecay, Schedule, WarmupEpochs, StepEpochs, Gamma, CheckpointEvery, Monitor, Float64, TrainFile, TrainLabels, TestFile, TestLabels,
            TeleportAt, Teleports, TeleportSteps, TeleportBatch, TeleportLr, TeleportCap, TeleportTo, TeleportSite];

        /// <summary>The teleport options other than --teleport-at.</summary>
        public IEnumerable<Option> TeleportDetails => [Teleports, TeleportSteps, TeleportBatch, TeleportLr, TeleportCap, TeleportTo, TeleportSite];

        /// <summary>The options of the gradient-norm ascent only.</summary>
        public IEnumerable<Option> AscentOnly => [TeleportSteps, TeleportLr, TeleportCap];

        /// <summary>The first model-only option given without --model, or null.</summary>
        public string? GivenWithoutModel(ParseResult parse) => All.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false })?.Name;
    }

    internal sealed record Request(string ModelPath, GraphTrainingSettings Settings, string Dataset, string? DataDirectory, int? TrainLimit,
        bool Float64, int CheckpointEvery, int Monitor, string? TrainFile, string? TrainLabels, string? TestFile, string? TestLabels,
        TrainingTeleportSettings? Teleport = null);

    public static Request Read(ParseResult parse, Options o, string model, string dataset, string? dataDir, int epochs, int batch, double lr, int seed, int? limit)
    {
        var settings = new GraphTrainingSettings(parse.GetValue(o.Optimizer)!, epochs, batch, lr, parse.GetValue(o.Momentum), parse.GetValue(o.Nesterov),
            parse.GetValue(o.WeightDecay), parse.GetValue(o.Schedule)!, parse.GetValue(o.WarmupEpochs), parse.GetValue(o.StepEpochs), parse.GetValue(o.Gamma), seed);
        settings.Validate();
        int every = parse.GetValue(o.CheckpointEvery);
        if (every < 0) throw Errors.Argument("--checkpoint-every", $"--checkpoint-every must be ≥ 0 epochs, not {every}");
        int monitor = parse.GetValue(o.Monitor);
        if (monitor < 0) throw Errors.Argument("--monitor", $"--monitor must be ≥ 0 steps, not {monitor}");
        if (!File.Exists(model)) throw new FileNotFoundException($"{model}: no such model file", model);
        var request = new Request(model, settings, dataset, dataDir, limit, parse.GetValue(o.Float64), every, monitor,
            parse.GetValue(o.TrainFile), parse.GetValue(o.TrainLabels), parse.GetValue(o.TestFile), parse.GetValue(o.TestLabels));
        if (request.TrainFile is null && (request.TrainLabels ?? request.TestFile ?? request.TestLabels) is not null)
            throw Errors.Argument("--train-labels", "--train-labels, --test-file and --test-labels need --train-file");
        return request with { Teleport = TeleportCommandOptions.Read(parse, o, settings, monitor) };
    }

    /// <summary>The model and data of a run, loaded before --out is touched.</summary>
    internal sealed record Loaded(OnnxModel Onnx, ImageDataset Train, ImageDataset Test, int[] SampleShape,
        (Graph<double> Twin, IReadOnlyList<CensusSite> Sites)? Teleport = null);

    /// <summary>
    /// Loads the model and the data and checks the run's memory (<see cref="MemoryEstimate.GraphTraining"/>, from the
    /// values the model's recorded forward pass holds per sample) before anything is trained or written.
    /// </summary>
    public static Loaded Load(Request request)
    {
        var onnx = OnnxModel.Load(request.ModelPath);
        var (train, test, sampleShape) = ImportedModelData.Load(request.Dataset, request.DataDirectory, request.TrainLimit,
            request.TrainFile, request.TrainLabels, request.TestFile, request.TestLabels, "--test-file");
        var loaded = new Loaded(onnx, train, test, sampleShape);
        var (values, parameters) = request.Float64 ? RecordedValues<double>(request, loaded) : RecordedValues<float>(request, loaded);
        var data = request.TrainFile is null ? MemoryEstimate.ImageData(request.Dataset, request.TrainLimit)
            : MemoryEstimate.TensorData((long)train.Count + test.Count, train.SampleSize);
        MemoryBudget.Check(string.Create(CultureInfo.InvariantCulture, $"--batch-size {request.Settings.BatchSize}"),
            MemoryEstimate.GraphTraining(request.Settings, parameters, values, request.Float64, request.Monitor > 0, train.Count, data));
        return request.Teleport is null ? loaded : loaded with { Teleport = TeleportCommandOptions.Check(request, onnx, train) };
    }

    /// <summary>The training graph's recorded values per sample (<see cref="MemoryEstimate.RecordedValues{T}"/>) and its parameter count.</summary>
    private static ((long PerSample, long Fixed) Values, long Parameters) RecordedValues<T>(Request request, Loaded loaded)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var graph = loaded.Onnx.ToGraph<T>(new GraphOptions { BatchNorm = BatchNormMode.Training });
        // Checked before any training: a wrong data shape fails in one line naming the data and both shapes.
        var shape = GraphTrainer<T>.ModelSampleShape(graph, loaded.SampleShape, request.TrainFile ?? loaded.Train.Source);
        if (graph.Inputs.Count != 1) throw Errors.Argument("--model", $"--model {request.ModelPath}: the model has {graph.Inputs.Count} inputs; training feeds one (the samples)");
        return (MemoryEstimate.RecordedValues(graph, shape), graph.Parameters.Sum(p => (long)p.Length));
    }

    /// <summary>
    /// Trains into <paramref name="outDir"/> (the run's staging folder: --out changes only when the run completes).
    /// Checkpoints go to <paramref name="checkpointDir"/> (--out's sibling NAME.checkpoints) as they are made, so they
    /// outlive a failed or cancelled run; a completed run also carries them in its result under checkpoints/.
    /// </summary>
    public static int Run(Request request, Loaded loaded, string outDir, string checkpointDir, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        return request.Float64 ? Run<double>(loaded.Onnx, request, loaded.Train, loaded.Test, loaded.SampleShape, outDir, checkpointDir, token, loaded.Teleport)
            : Run<float>(loaded.Onnx, request, loaded.Train, loaded.Test, loaded.SampleShape, outDir, checkpointDir, token, loaded.Teleport);
    }

    /// <summary>The folder checkpoints are written to for --out <paramref name="output"/>: NAME.checkpoints beside it.</summary>
    public static string CheckpointFolder(string output) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(output)) + ".checkpoints";

    private static int Run<T>(OnnxModel onnx, Request request, ImageDataset train, ImageDataset test, int[] sampleShape, string outDir, string checkpointDir,
        CancellationToken token, (Graph<double> Twin, IReadOnlyList<CensusSite> Sites)? teleportSites)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var graph = onnx.ToGraph<T>();
        // Checked before any training: a wrong data shape fails in one line naming the data and both shapes.
        GraphTrainer<T>.ModelSampleShape(graph, sampleShape, request.TrainFile ?? train.Source);
        var s = request.Settings;
        CliAction.Out.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Training {Path.GetFileName(request.ModelPath)} ({graph.Parameters.Count} parameter tensors, {graph.Parameters.Sum(p => (long)p.Length)} values, {(request.Float64 ? "float64" : "float32")}) on {train.Count} samples of {train.Source}: {s.Epochs} epochs, batch {s.BatchSize}, {s.Optimizer} lr {s.LearningRate} ({s.Schedule}), momentum {s.Momentum}{(s.Nesterov ? " Nesterov" : "")}, weight decay {s.WeightDecay}, seed {s.Seed}")));
        var sites = ImportedModelTraining.MonitorSites(onnx, request.ModelPath, request.Monitor, "--monitor");
        var teleport = TeleportCommandOptions.Create<T>(request, teleportSites, train, sampleShape);
        var clock = Stopwatch.StartNew();
        GraphTrainingResult result;
        string? lastCheckpoint;
        try
        {
            (result, lastCheckpoint) = ExperimentConsole.Epochs(p => ImportedModelTraining.Run(onnx, graph, s, train, test, sampleShape, request.CheckpointEvery, checkpointDir,
                sites, request.Monitor, new InlineProgress<GraphTrainingProgress>(q => p.Report(
                    new EpochProgress(q.Epoch, q.Epochs, q.Batch, q.Batches, string.Create(CultureInfo.InvariantCulture, $"epoch {q.Epoch}/{q.Epochs}  loss {q.MeanLoss:F4}  lr {q.LearningRate:G3}"),
                        q.Finished is { } e ? EpochLine(e, q.LearningRate) : null))), token, teleport));
        }
        catch (ArgumentException e) when (e.ParamName == TrainingTeleport<T>.TargetName)
        {
            throw Errors.Argument("--teleport-to", $"--teleport-to: {Errors.Plain(e)}", e);
        }
        var elapsed = clock.Elapsed;
        if (lastCheckpoint is not null) ImportedModelTraining.CopyCheckpoints(checkpointDir, outDir); // the completed run's result carries its checkpoints too
        TrainingWriter.WriteModel(outDir, onnx, graph, request, train, test, result, elapsed);
        return ExitCodes.Ok;
    }

    private static string EpochLine(EpochRecord e, double lr) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {e.Epoch}: train loss {e.TrainLoss:F4}, test accuracy {e.TestAccuracy * 100:F2}%, lr {lr:G4} ({e.Seconds:F1} s)");
}
