using Noether.Autodiff;
using Noether.Conservation;
using Noether.Data;
using Noether.Graphs;
using Noether.Nn;
using Noether.Symmetry.Census;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>Settings of <see cref="GraphTraining"/>: any graph classifier trained by one of PyTorch's optimisers.</summary>
/// <param name="Optimizer">"sgd", "adagrad", "rmsprop", "adam" or "adamw".</param>
/// <param name="Epochs">Passes over the training data.</param>
/// <param name="BatchSize">Minibatch size (the last batch may be smaller).</param>
/// <param name="LearningRate">The peak learning rate.</param>
/// <param name="Momentum">Momentum of SGD and RMSprop (0: none).</param>
/// <param name="Nesterov">Nesterov momentum (SGD).</param>
/// <param name="WeightDecay">λ: L2 for every optimiser but AdamW, decoupled for AdamW.</param>
/// <param name="Schedule">"constant", "step" or "cosine", stepped every optimiser step.</param>
/// <param name="WarmupEpochs">Linear warm-up, in epochs (0: none).</param>
/// <param name="StepEpochs">For "step": epochs between decays.</param>
/// <param name="Gamma">For "step": the decay factor.</param>
/// <param name="Seed">Seeds the minibatch order.</param>
public sealed record GraphTrainingSettings(
    string Optimizer = "sgd",
    int Epochs = 10,
    int BatchSize = 128,
    double LearningRate = 0.1,
    double Momentum = 0,
    bool Nesterov = false,
    double WeightDecay = 0,
    string Schedule = "constant",
    int WarmupEpochs = 0,
    int StepEpochs = 1,
    double Gamma = 0.1,
    int Seed = 0)
{
    /// <summary>The optimiser names.</summary>
    public static IReadOnlyList<string> Optimizers { get; } = ["sgd", "adagrad", "rmsprop", "adam", "adamw"];

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!Optimizers.Contains(Optimizer)) throw Errors.Argument(nameof(Optimizer), $"optimizer '{Optimizer}' is not known: expected {string.Join(", ", Optimizers)}");
        Errors.ThrowIfNotPositive(Epochs, "epochs");
        Errors.ThrowIfNotPositive(BatchSize, "batch size");
        Errors.ThrowIfNotPositive(LearningRate, "learning rate");
        if (!(Momentum >= 0 && Momentum < 1)) throw Errors.OutOfRange("momentum", Momentum, "a value in [0, 1)");
        if (Momentum > 0 && Optimizer is not ("sgd" or "rmsprop")) throw Errors.OutOfRange("momentum", Momentum, $"0 for {Optimizer} (momentum is an SGD and RMSprop setting; Adam's is β₁)");
        if (Nesterov && (Optimizer != "sgd" || Momentum == 0)) throw Errors.Argument(nameof(Nesterov), "nesterov: needs --optimizer sgd and a positive momentum");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) throw Errors.OutOfRange("weight decay", WeightDecay, "a finite value ≥ 0");
        if (!LearningRateSchedule.Kinds.Contains(Schedule)) throw Errors.Argument(nameof(Schedule), $"schedule '{Schedule}' is not known: expected {string.Join(", ", LearningRateSchedule.Kinds)}");
        if (WarmupEpochs < 0 || WarmupEpochs >= Epochs) throw Errors.OutOfRange("warm-up epochs", WarmupEpochs, $"0 ≤ warm-up < epochs ({Epochs})");
        Errors.ThrowIfNotPositive(StepEpochs, "step epochs");
        if (!(Gamma > 0 && Gamma <= 1)) throw Errors.OutOfRange("gamma", Gamma, "a factor in (0, 1]");
    }

    /// <summary>The update rule as the census monitor needs it (PyTorch's: SGD's and Adam's decay coupled, AdamW's decoupled).</summary>
    public OptimizerRule Rule => Optimizer switch
    {
        "sgd" => new OptimizerRule(OptimizerFamily.Sgd, WeightDecay, false, Momentum, Nesterov),
        "adamw" => new OptimizerRule(OptimizerFamily.Adaptive, WeightDecay, true),
        _ => new OptimizerRule(OptimizerFamily.Adaptive, WeightDecay, false),
    };

    /// <summary>The per-step schedule for <paramref name="batchesPerEpoch"/> steps an epoch.</summary>
    public LearningRateSchedule ScheduleFor(int batchesPerEpoch) =>
        new(Schedule, LearningRate, (long)Epochs * batchesPerEpoch, (long)WarmupEpochs * batchesPerEpoch, (long)StepEpochs * batchesPerEpoch, Gamma);

    /// <summary>The optimiser over <paramref name="parameters"/> (PyTorch's defaults for everything not set here).</summary>
    public Optimizer<T> CreateOptimizer<T>(IReadOnlyList<Parameter<T>> parameters) where T : unmanaged, IFloatingPointIeee754<T> => Optimizer switch
    {
        "sgd" => new Sgd<T>(parameters, LearningRate, Momentum, Nesterov, WeightDecay),
        "adagrad" => new AdaGrad<T>(parameters, LearningRate, weightDecay: WeightDecay),
        "rmsprop" => new RmsProp<T>(parameters, LearningRate, momentum: Momentum, weightDecay: WeightDecay),
        "adam" => new Adam<T>(parameters, LearningRate, weightDecay: WeightDecay),
        _ => new AdamW<T>(parameters, LearningRate, weightDecay: WeightDecay),
    };
}

/// <summary>Progress of <see cref="GraphTrainer{T}"/>.</summary>
/// <param name="Epoch">Current epoch (1-based).</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="MeanLoss">Mean loss of the epoch so far.</param>
/// <param name="LearningRate">The learning rate of the last step.</param>
/// <param name="Finished">The epoch just finished, when this report closes one.</param>
public readonly record struct GraphTrainingProgress(int Epoch, int Epochs, int Batch, int Batches, double MeanLoss, double LearningRate, EpochRecord? Finished);

/// <summary>
/// Trains a graph classifier (its first input takes a batch of samples, its first output the logits) with mean
/// cross-entropy: BatchNormalization nodes use batch statistics while training (differentiated through, as PyTorch's
/// <c>train()</c>) and their running statistics while evaluating (<c>eval()</c>). After every training step each
/// node's running statistics are updated as PyTorch does: r ← m·r + (1 − m)·s, with m the node's ONNX
/// <c>momentum</c> attribute (PyTorch exports 1 − its momentum) and s the batch mean, or the batch variance with
/// Bessel's correction n/(n − 1). The parameters are the graph's own objects, moved in place.
/// </summary>
public sealed class GraphTrainer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<BatchNormStatistics> _statistics = [];
    private readonly int[] _sampleShape;
    private readonly LearningRateSchedule _schedule;

    /// <summary>
    /// A trainer of <paramref name="graph"/> on samples of shape <paramref name="sampleShape"/> (checked against the
    /// model's first input by <see cref="ModelSampleShape"/>), <paramref name="batchesPerEpoch"/> steps an epoch.
    /// </summary>
    public GraphTrainer(Graph<T> graph, GraphTrainingSettings settings, int[] sampleShape, int batchesPerEpoch)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(sampleShape);
        settings.Validate();
        Errors.ThrowIfNotPositive(batchesPerEpoch, "batches per epoch");
        if (graph.Parameters.Count == 0) throw Errors.Argument(nameof(graph), "graph training: the model has no float parameters to train");
        Settings = settings;
        _sampleShape = sampleShape;
        TrainingGraph = graph.WithOptions(graph.Options with { BatchNorm = BatchNormMode.Training, OnBatchStatistics = _statistics.Add });
        EvaluationGraph = graph.WithOptions(graph.Options with { BatchNorm = BatchNormMode.Inference, OnBatchStatistics = null });
        Optimizer = settings.CreateOptimizer(graph.Parameters);
        _schedule = settings.ScheduleFor(batchesPerEpoch);
        _schedule.Validate();
        var running = new List<Parameter<T>>();
        foreach (var node in graph.Nodes.Where(n => n.OpType == "BatchNormalization"))
            foreach (int i in new[] { 3, 4 })
                if (i < node.Inputs.Length && graph.Constants.TryGetValue(node.Inputs[i], out var c) && c.IsReal)
                    running.Add(new Parameter<T>(node.Inputs[i], c.ToTensor<T>()));
        RunningStatistics = running.GroupBy(p => p.Name).Select(g => g.First()).ToArray();
    }

    /// <summary>The settings.</summary>
    public GraphTrainingSettings Settings { get; }

    /// <summary>The graph run while training (batch statistics).</summary>
    public Graph<T> TrainingGraph { get; }

    /// <summary>The graph run while evaluating (running statistics).</summary>
    public Graph<T> EvaluationGraph { get; }

    /// <summary>
    /// The optimiser. A teleport replaces it by a fresh one (<see cref="ResetOptimizer"/>), so its
    /// <see cref="Optimizer{T}.StepCount"/> counts the steps since the last teleport; <see cref="Steps"/> counts them all.
    /// </summary>
    public Optimizer<T> Optimizer { get; private set; }

    private long _stepsBeforeReset;

    /// <summary>Optimiser steps taken over the whole run (across optimiser resets).</summary>
    public long Steps => _stepsBeforeReset + Optimizer.StepCount;

    /// <summary>
    /// Replaces the optimiser by a fresh one over the same parameters (momentum, AdaGrad/RMSprop/Adam accumulators and
    /// Adam's bias-correction count start again), as the authors' teleportation code re-creates its PyTorch optimiser after
    /// each teleport; the learning-rate schedule keeps counting <see cref="Steps"/>.
    /// </summary>
    public void ResetOptimizer()
    {
        _stepsBeforeReset += Optimizer.StepCount;
        Optimizer = Settings.CreateOptimizer(Optimizer.Parameters);
    }

    /// <summary>The teleports made inside training (null: none); see <see cref="AttachTeleport"/>.</summary>
    public TrainingTeleport<T>? Teleport { get; private set; }

    private int _epoch = -1;
    private int _batchInEpoch;

    /// <summary>
    /// Teleports at the epochs and batches <paramref name="teleport"/>'s settings name, before the optimiser step, then resets
    /// the optimiser (<see cref="ResetOptimizer"/>). Not with a census monitor: a teleport moves the conserved quantities.
    /// </summary>
    public void AttachTeleport(TrainingTeleport<T> teleport)
    {
        ArgumentNullException.ThrowIfNull(teleport);
        if (Monitor is not null) throw Errors.Argument(nameof(teleport), "teleport: not with the census monitor (a teleport moves the conserved quantities the monitor follows)");
        Teleport = teleport;
    }

    /// <summary>The BatchNormalization running statistics, as named tensors (copies, refreshed after every step), for checkpoints.</summary>
    public IReadOnlyList<Parameter<T>> RunningStatistics { get; }

    /// <summary>Everything a checkpoint holds: the parameters, then the running statistics.</summary>
    public IEnumerable<Parameter<T>> State => Optimizer.Parameters.Concat(RunningStatistics);

    /// <summary>
    /// The per-sample shape the model's first input takes for data whose samples are <paramref name="dataSampleShape"/>:
    /// the same shape (fixed dimensions equal), or a flat vector of the same size when the input is [batch, features].
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit (the message names <paramref name="dataSource"/> and both shapes).</exception>
    public static int[] ModelSampleShape(Graph<T> graph, int[] dataSampleShape, string dataSource)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(dataSampleShape);
        if (graph.Inputs.Count == 0) throw Errors.Argument(nameof(graph), "graph training: the model has no inputs");
        var input = graph.Inputs[0];
        var declared = input.Shape;
        int size = dataSampleShape.Aggregate(1, (a, b) => a * b);
        if (declared.Length == dataSampleShape.Length + 1
            && declared.Skip(1).Zip(dataSampleShape).All(p => p.First is null || p.First == p.Second)) return dataSampleShape;
        if (declared.Length == 2 && (declared[1] is null || declared[1] == size)) return [size];
        throw Errors.Argument("data", $"{dataSource}: samples are {Errors.Shape(dataSampleShape)} but the model's input '{input.Name}' is {Graph<T>.DescribeShape(input)}");
    }

    /// <summary>One pass over <paramref name="batches"/>; returns the mean cross-entropy before each step, weighted by batch size.</summary>
    /// <exception cref="NonFiniteLossException">A loss or an input is not finite (the step is named; nothing was updated by it).</exception>
    /// <remarks>With a teleport attached, the epochs are counted from 0 by the calls of this method, and the teleports due
    /// in this epoch run before their steps, inside this call (their cost is the epoch's).</remarks>
    public double TrainEpoch(IEnumerable<(Tensor<T> Inputs, int[] Labels)> batches, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        _epoch++;
        _batchInEpoch = 0;
        if (Teleport is not { } teleport) return Classifier.TrainEpoch(Optimizer, batches, TrainStep, progress, cancellationToken);
        return Classifier.TrainEpoch(Optimizer, batches, (inputs, labels) =>
        {
            if (teleport.IsDue(_epoch, _batchInEpoch))
            {
                teleport.Run(Optimizer.Parameters, _epoch, Steps, cancellationToken);
                ResetOptimizer();
            }
            _batchInEpoch++;
            return TrainStep(inputs, labels);
        }, progress, cancellationToken);
    }

    /// <summary>The learning rate the next step will use.</summary>
    public double NextLearningRate => _schedule.At(Steps);

    /// <summary>One step on one batch: forward with batch statistics, cross-entropy, backward, optimiser, running statistics. Returns the loss before the step.</summary>
    public double TrainStep(Tensor<T> inputs, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        long step = Steps + 1;
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<T>(inputs.Data)) throw new NonFiniteLossException(step, double.NaN, "the input batch contains NaN or ∞");
        _statistics.Clear();
        try
        {
            var (value, gradient) = PoolStepTensors ? DifferentiatePooled(inputs, labels, step) : Differentiate(inputs, labels, step);
            var before = Monitor is null ? null : Snapshot(p => p.Value);
            Optimizer.Step(gradient);
            if (Monitor is not null)
            {
                var grads = Optimizer.Parameters.Select((p, i) => (p.Name, gradient[i].ToDoubles())).ToDictionary(x => x.Name, x => x.Item2);
                var after = Snapshot(p => p.Value);
                var steps = Monitor.Observe(n => before![n], n => grads[n], n => after[n], Optimizer.LearningRate);
                if (Steps % MonitorEvery == 0) _monitored.AddRange(steps);
            }
            foreach (var s in _statistics) UpdateRunning(s);
            return value;
        }
        finally
        {
            _stepScratch.ReleaseAll();
        }
    }

    /// <summary>Forward with batch statistics, the loss and its gradient (the learning rate of the step set on the way).</summary>
    private (double Value, Tensor<T>[] Gradient) Differentiate(Tensor<T> inputs, int[] labels, long step)
    {
        var tape = new Tape<T>();
        var logits = TrainingGraph.Run(tape, [Shape(tape, inputs)]).Output(tape, 0);
        var loss = Ops.CrossEntropy(logits, labels);
        double value = double.CreateTruncating(loss.Value.ScalarValue);
        if (!double.IsFinite(value)) throw new NonFiniteLossException(step, value, "the loss is not finite");
        Optimizer.LearningRate = _schedule.At(Steps);
        return (value, tape.Gradient(loss, Optimizer.Parameters));
    }

    /// <summary>
    /// <see cref="Differentiate"/> with the step's tensors (activations, masks, gradients) from a pool that TrainStep hands
    /// back after the update: each step reuses the last one's buffers instead of fresh memory, which the kernel must fault
    /// in and zero (≈ 9% of a ResNet-20 step). Nothing pooled outlives the step: the optimiser updates parameters in
    /// place and reads the gradients before the release, the statistics are double arrays.
    /// </summary>
    private (double Value, Tensor<T>[] Gradient) DifferentiatePooled(Tensor<T> inputs, int[] labels, long step)
    {
        using (_stepScratch.Enter()) return Differentiate(inputs, labels, step);
    }

    private readonly Scratch<T> _stepScratch = new();

    /// <summary>Whether a step's tensors come from the pool (off: fresh arrays, the reference the tests compare with).</summary>
    internal bool PoolStepTensors { get; init; } = true;

    /// <summary>The census monitor fed by every step (null: none); see <see cref="AttachMonitor"/>.</summary>
    public SiteMonitor? Monitor { get; private set; }

    /// <summary>Every <see cref="MonitorEvery"/>-th step's observations are kept.</summary>
    public int MonitorEvery { get; private set; } = 1;

    /// <summary>The kept observations of the conserved quantities, in step order.</summary>
    public IReadOnlyList<SiteStep> Monitored => _monitored;

    private readonly List<SiteStep> _monitored = [];

    /// <summary>
    /// Follows <paramref name="sites"/>' conserved quantities through training: the monitor observes every step (its
    /// momentum replay needs them all) and the observations of every <paramref name="every"/>-th step are kept.
    /// </summary>
    public void AttachMonitor(IEnumerable<CensusSite> sites, int every)
    {
        ArgumentNullException.ThrowIfNull(sites);
        Errors.ThrowIfNotPositive(every, nameof(every));
        if (Teleport is not null) throw Errors.Argument(nameof(sites), "monitor: not with teleports (a teleport moves the conserved quantities the monitor follows)");
        Monitor = new SiteMonitor(sites, Settings.Rule);
        MonitorEvery = every;
        var start = Snapshot(p => p.Value);
        Monitor.Start(n => start[n]);
    }

    private Dictionary<string, double[]> Snapshot(Func<Parameter<T>, Tensor<T>> value) =>
        Optimizer.Parameters.ToDictionary(p => p.Name, p => value(p).ToDoubles());

    private void UpdateRunning(BatchNormStatistics s)
    {
        // ONNX's momentum is the weight of the old running value (PyTorch exports 1 − its momentum; both default to 0.9 here).
        double m = s.Node.Attributes.TryGetValue("momentum", out var a) && a.Float is { } f ? f : 0.9;
        double bessel = s.Count > 1 ? s.Count / (s.Count - 1.0) : 1.0;
        Update(s.Node.Inputs[3], s.Mean, 1.0);
        Update(s.Node.Inputs[4], s.Variance, bessel);

        void Update(string name, double[] batch, double factor)
        {
            var host = EvaluationGraph.Constants[name];
            for (int i = 0; i < host.Data.Length; i++) host.Data[i] = m * host.Data[i] + (1 - m) * factor * batch[i];
            var copy = RunningStatistics.First(p => p.Name == name).Value;
            for (int i = 0; i < host.Data.Length; i++) copy.Data[i] = T.CreateTruncating(host.Data[i]);
        }
    }

    private Variable<T> Shape(Tape<T> tape, Tensor<T> batch)
    {
        var x = tape.Constant(batch);
        int[] target = [batch.Dim(0), .. _sampleShape];
        return target.SequenceEqual(batch.ShapeArray) ? x : Ops.Reshape(x, target);
    }

    /// <summary>Accuracy (arg-max of the logits, first on ties) with running statistics, without recording.</summary>
    public double Evaluate(IEnumerable<(Tensor<T> Inputs, int[] Labels)> batches, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        long correct = 0, total = 0;
        foreach (var (inputs, labels) in batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var tape = new Tape<T>();
            using var pause = tape.Pause();
            var logits = EvaluationGraph.Run(tape, [Shape(tape, inputs)]).Output(tape, 0).Value;
            if (logits.Rank != 2 || logits.Dim(0) != labels.Length)
                throw Errors.Argument("graph", $"graph training: the model's output is {Errors.Shape(logits.ShapeArray)}, expected [{labels.Length}, classes] logits");
            int classes = logits.Dim(1);
            for (int r = 0; r < labels.Length; r++)
            {
                var row = logits.Data.AsSpan(r * classes, classes);
                int best = 0;
                for (int k = 1; k < classes; k++) if (row[k] > row[best]) best = k;
                if (best == labels[r]) correct++;
            }
            total += labels.Length;
        }
        if (total == 0) throw Errors.Argument(nameof(batches), "evaluate: there were no batches");
        return (double)correct / total;
    }
}

/// <summary>The history of a <see cref="GraphTraining"/> run.</summary>
/// <param name="Epochs">One record per epoch.</param>
/// <param name="Steps">Optimiser steps taken.</param>
/// <param name="TrainCount">Training samples.</param>
/// <param name="TestCount">Test samples.</param>
/// <param name="Monitored">The census monitor's kept observations (empty without a monitor).</param>
/// <param name="Teleports">The teleports made inside training, in order (null or empty without teleports).</param>
public sealed record GraphTrainingResult(IReadOnlyList<EpochRecord> Epochs, long Steps, int TrainCount, int TestCount, IReadOnlyList<SiteStep> Monitored,
    IReadOnlyList<TrainingTeleportRecord>? Teleports = null)
{
    /// <summary>Test accuracy after the last epoch.</summary>
    public double FinalTestAccuracy => Epochs[^1].TestAccuracy;
}

/// <summary>Trains a graph classifier for the settings' epochs, evaluating the test data after each one.</summary>
public static class GraphTraining
{
    /// <summary>
    /// Trains <paramref name="graph"/> (its parameters move in place) on <paramref name="train"/>, evaluating on
    /// <paramref name="test"/> after each epoch; <paramref name="epochDone"/> (e.g. a checkpoint writer) runs after each
    /// evaluated epoch (evaluation in batches of the training batch size, bounding memory). With <paramref name="monitorSites"/>
    /// (a census of the model) every generator's conserved quantity is followed through every step and each
    /// <paramref name="monitorEvery"/>-th step's observations are kept (<see cref="SiteMonitor"/>). A pure function of the
    /// settings and the model: the same seed gives the same trajectory. With <paramref name="teleport"/> the run teleports
    /// at its epochs (<see cref="GraphTrainer{T}.AttachTeleport"/>); an epoch's seconds include its teleports.
    /// </summary>
    public static GraphTrainingResult Run<T>(Graph<T> graph, GraphTrainingSettings settings, ImageDataset train, ImageDataset test,
        int[]? dataSampleShape = null, Action<EpochRecord, GraphTrainer<T>>? epochDone = null,
        IProgress<GraphTrainingProgress>? progress = null, CancellationToken cancellationToken = default,
        IEnumerable<CensusSite>? monitorSites = null, int monitorEvery = 1, TrainingTeleport<T>? teleport = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        settings.Validate();
        var sampleShape = GraphTrainer<T>.ModelSampleShape(graph, dataSampleShape ?? train.SampleShape, train.Source);
        int batches = Minibatches.BatchCount(train.Count, settings.BatchSize, dropLast: false);
        var trainer = new GraphTrainer<T>(graph, settings, sampleShape, batches);
        if (monitorSites is not null) trainer.AttachMonitor(monitorSites, monitorEvery);
        if (teleport is not null) trainer.AttachTeleport(teleport);
        var rng = new Random(settings.Seed);
        var history = new List<EpochRecord>();
        for (int epoch = 1; epoch <= settings.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            int e = epoch;
            var stepProgress = progress is null ? null : new InlineProgress<TrainingProgress>(p =>
                progress.Report(new GraphTrainingProgress(e, settings.Epochs, p.Batch, batches, p.MeanLoss, trainer.Optimizer.LearningRate, null)));
            double loss = trainer.TrainEpoch(Minibatches.Create<T>(train, settings.BatchSize, rng), stepProgress, cancellationToken);
            double seconds = clock.Elapsed.TotalSeconds;
            cancellationToken.ThrowIfCancellationRequested();
            double accuracy = trainer.Evaluate(Minibatches.Create<T>(test, settings.BatchSize, null, shuffle: false), cancellationToken);
            var record = new EpochRecord(epoch, loss, accuracy, seconds);
            history.Add(record);
            epochDone?.Invoke(record, trainer);
            progress?.Report(new GraphTrainingProgress(epoch, settings.Epochs, batches, batches, loss, trainer.Optimizer.LearningRate, record));
        }
        return new GraphTrainingResult(history, trainer.Steps, train.Count, test.Count, trainer.Monitored, teleport?.Records);
    }
}
