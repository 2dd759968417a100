using Noether.Data;
using Noether.Graphs;
using Noether.Interop;
using Noether.Symmetry.Census;

namespace Noether.Experiments;

/// <summary>One optimiser of the protocol, with the authors' settings for it.</summary>
/// <param name="Name">The name the authors use: sgd, adagrad, momentum, rmsprop, adam.</param>
/// <param name="Optimizer">The optimiser (<see cref="GraphTrainingSettings.Optimizers"/>).</param>
/// <param name="LearningRate">Its learning rate.</param>
/// <param name="Momentum">SGD's momentum (0: none).</param>
/// <param name="TeleportEpoch">The epoch (from 0) whose first steps are preceded by the teleports.</param>
/// <param name="TeleportLearningRate">The ascent's step size η.</param>
public sealed record TeleportProtocolArm(string Name, string Optimizer, double LearningRate, double Momentum, int TeleportEpoch, double TeleportLearningRate);

/// <summary>
/// Settings of the ICLR 2024 teleportation protocol (Zhao, Gower, Walters, Yu, "Improving Convergence and Generalization
/// Using Parameter Symmetries", teleport_optimization.py): for each optimiser and seed, a baseline run and a run with
/// teleports, from the same initialisation over the same minibatches.
/// </summary>
/// <param name="Arms">The optimisers (default: the authors' five, <see cref="Paper"/>).</param>
/// <param name="Seeds">Seeds per optimiser (≥ 2 for an interval; the authors: 5). Seed s draws the initialisation, the minibatch order and the teleport batches.</param>
/// <param name="Epochs">Epochs per run (the authors: 40).</param>
/// <param name="BatchSize">Training minibatch (the authors: 20).</param>
/// <param name="Teleports">Teleports at the teleport epoch (the authors: 8, before its first 8 steps).</param>
/// <param name="TeleportSteps">Ascent steps per teleport (the authors: 10).</param>
/// <param name="TeleportBatch">Samples per teleport batch (the authors: 200).</param>
/// <param name="SquaredNormCap">‖∇L‖² past which an ascent stops (the authors: 100).</param>
/// <param name="FirstSeed">The first seed; the runs use FirstSeed … FirstSeed + Seeds − 1.</param>
/// <param name="ResetControl">Also run, per seed, the control the authors' protocol lacks: the same teleport schedule with
/// every ascent stopped before its first move (cap ε), so the run gets the optimiser resets, and pays one product per teleport,
/// but is not moved — what the teleports' moves add beyond the resets.</param>
public sealed record TeleportProtocolSettings(IReadOnlyList<TeleportProtocolArm> Arms, int Seeds = 5, int Epochs = 40, int BatchSize = 20, int Teleports = 8,
    int TeleportSteps = 10, int TeleportBatch = 200, double SquaredNormCap = 100, int FirstSeed = 0, bool ResetControl = true)
{
    /// <summary>
    /// The authors' optimisers and rates (base rate 1e-2): SGD 1e-2 and AdaGrad 1e-2 teleporting at epoch 2 with η = 1e-4;
    /// SGD with momentum 0.9 at 1e-3, RMSprop 1e-4 and Adam 1e-4 teleporting at epoch 0 with η = 5e-2.
    /// </summary>
    public static IReadOnlyList<TeleportProtocolArm> Paper { get; } =
    [
        new("sgd", "sgd", 1e-2, 0, 2, 1e-4),
        new("adagrad", "adagrad", 1e-2, 0, 2, 1e-4),
        new("momentum", "sgd", 1e-3, 0.9, 0, 5e-2),
        new("rmsprop", "rmsprop", 1e-4, 0, 0, 5e-2),
        new("adam", "adam", 1e-4, 0, 0, 5e-2),
    ];

    /// <summary>The profiles: quick (2 seeds × 3 epochs), default (5 × 10), full (5 × 40, the authors').</summary>
    public static TeleportProtocolSettings ForProfile(string profile) => profile switch
    {
        "quick" => new(Paper, Seeds: 2, Epochs: 3),
        "default" => new(Paper, Seeds: 5, Epochs: 10),
        "full" => new(Paper),
        _ => throw Errors.Argument(nameof(profile), $"profile '{profile}' is not known: expected quick, default or full"),
    };

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting (for <paramref name="trainCount"/> training samples).</summary>
    public void Validate(int trainCount)
    {
        ArgumentNullException.ThrowIfNull(Arms);
        if (Arms.Count == 0) throw Errors.Argument(nameof(Arms), "teleport protocol: no optimiser to run");
        if (Arms.Select(a => a.Name).Distinct().Count() != Arms.Count) throw Errors.Argument(nameof(Arms), "teleport protocol: an optimiser is listed twice");
        if (Seeds < 2) throw Errors.OutOfRange("seeds", Seeds, "at least 2 seeds (a 95% interval over seeds needs two)");
        foreach (var a in Arms)
        {
            new GraphTrainingSettings(a.Optimizer, Epochs, BatchSize, a.LearningRate, a.Momentum).Validate();
            new TrainingTeleportSettings([a.TeleportEpoch], Teleports, TeleportSteps, TeleportBatch, a.TeleportLearningRate, SquaredNormCap)
                .Validate(Epochs, Minibatches.BatchCount(trainCount, BatchSize), trainCount);
        }
    }
}

/// <summary>One training run of the protocol.</summary>
/// <param name="Arm">The optimiser's name.</param>
/// <param name="Seed">The seed.</param>
/// <param name="Teleport">True for the run with teleports.</param>
/// <param name="EpochLoss">Mean training loss of each epoch (before each step, weighted by batch size, as the authors log it).</param>
/// <param name="Seconds">Wall-clock at the end of each epoch since the run started: training steps and teleports, not the evaluation.</param>
/// <param name="TestAccuracy">Test accuracy after the last epoch.</param>
/// <param name="Teleports">The teleports made (empty for a baseline).</param>
/// <param name="Failure">Why the run stopped early (a non-finite loss, a teleport that overflowed), or null; its later epochs are NaN.</param>
/// <param name="Control">True for the reset-only control (<see cref="TeleportProtocolSettings.ResetControl"/>; <paramref name="Teleport"/> is true too).</param>
public sealed record TeleportProtocolRun(string Arm, int Seed, bool Teleport, double[] EpochLoss, double[] Seconds, double TestAccuracy,
    IReadOnlyList<TrainingTeleportRecord> Teleports, string? Failure = null, bool Control = false)
{
    /// <summary>"baseline", "teleport" or "reset-control".</summary>
    public string Variant => Control ? "reset-control" : Teleport ? "teleport" : "baseline";
}

/// <summary>A mean over seeds with its two-sided 95% Student-t interval, mean ± t₀.₉₇₅,ₙ₋₁ · s/√n.</summary>
public sealed record TInterval(double Mean, double Lower, double Upper, int Count)
{
    /// <summary>The interval of <paramref name="values"/> (NaN bounds when fewer than two, or any value is not finite).</summary>
    public static TInterval Of(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int n = values.Count;
        if (n < 2 || values.Any(v => !double.IsFinite(v))) return new(n == 0 ? double.NaN : values.Average(), double.NaN, double.NaN, n);
        double mean = values.Average();
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        double half = MathNet.Numerics.Distributions.StudentT.InvCDF(0, 1, n - 1, 0.975) * sd / Math.Sqrt(n);
        return new(mean, mean - half, mean + half, n);
    }
}

/// <summary>One optimiser's comparison over seeds.</summary>
/// <param name="Arm">The optimiser's name.</param>
/// <param name="Targets">Per seed: the baseline's final training loss.</param>
/// <param name="BaselineTimes">Per seed: seconds the baseline took to first reach it (<see cref="TeleportProtocol.TimeToReach"/>).</param>
/// <param name="TeleportTimes">Per seed: seconds the teleport run took, teleports included (NaN: never reached it).</param>
/// <param name="Difference">T_teleport − T_baseline over seeds (seconds), with its interval.</param>
/// <param name="Ratio">T_teleport / T_baseline over seeds, with its interval.</param>
/// <param name="Reached">Seeds whose teleport run reached the target.</param>
/// <param name="TeleportSeconds">Per seed: seconds spent in teleports.</param>
/// <param name="Gain">Mean over all teleports of ‖∇L‖² after / before on their batches.</param>
/// <param name="FinalLossDifference">Final training loss with teleports − the baseline's, over seeds.</param>
/// <param name="ControlTimes">Per seed: seconds the reset-only control took to reach the target (null without the control).</param>
/// <param name="ControlDifference">T_control − T_baseline over seeds (null without the control).</param>
public sealed record TeleportProtocolArmResult(string Arm, double[] Targets, double[] BaselineTimes, double[] TeleportTimes, TInterval Difference, TInterval Ratio,
    int Reached, double[] TeleportSeconds, double Gain, TInterval? FinalLossDifference = null, double[]? ControlTimes = null, TInterval? ControlDifference = null)
{
    /// <summary>The claim's part for this optimiser: [seeds reached, seeds, upper 95% bound of T_teleport − T_baseline].</summary>
    public double[] Part => [Reached, Targets.Length, Difference.Upper];

    /// <summary>The verdict for this optimiser, from the numbers (<see cref="TeleportProtocolClaims.IsFaster"/>).</summary>
    public bool Faster => TeleportProtocolClaims.IsFaster(Part);
}

/// <summary>The protocol's runs and, per optimiser, the comparison.</summary>
public sealed record TeleportProtocolResult(TeleportProtocolSettings Settings, IReadOnlyList<TeleportProtocolRun> Runs, IReadOnlyList<TeleportProtocolArmResult> Arms,
    int TrainCount, int GroupDimension, int Sites);

/// <summary>
/// The ICLR 2024 teleportation protocol on an imported classifier: for each optimiser and seed, train from the seed's
/// initialisation without and with teleports (<see cref="TrainingTeleport{T}"/>: float32 training as the authors', float64
/// ascent), then compare the wall-clock each needs to reach the baseline's final training loss, teleports included. The
/// runs of one seed alternate baseline and teleport, so slow drifts of the machine's load fall on both.
/// </summary>
public static class TeleportProtocol
{
    /// <summary>Runs the protocol on <paramref name="onnx"/> with <paramref name="train"/> (training and teleport batches) and <paramref name="test"/>.</summary>
    public static TeleportProtocolResult Run(OnnxModel onnx, ImageDataset train, ImageDataset test, TeleportProtocolSettings settings,
        IProgress<ExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate(train.Count);
        var (twin, sites) = ImportedModelTraining.TeleportSites(onnx, onnx.Source, "model");
        int batches = Minibatches.BatchCount(train.Count, settings.BatchSize);
        long total = (long)settings.Arms.Count * settings.Seeds * (settings.ResetControl ? 3 : 2) * settings.Epochs, done = 0;
        var runs = new List<TeleportProtocolRun>();
        var arms = new List<TeleportProtocolArmResult>();
        int dimension = 0;
        Warm(onnx, train, settings, twin, sites, cancellationToken);
        foreach (var arm in settings.Arms)
        {
            var pairs = new List<(TeleportProtocolRun Baseline, TeleportProtocolRun Teleport)>();
            var controls = new List<TeleportProtocolRun>();
            for (int s = 0; s < settings.Seeds; s++)
            {
                int seed = settings.FirstSeed + s;
                TeleportProtocolRun One(bool teleport, bool control = false)
                {
                    var graph = onnx.ToGraph<float>();
                    Initialize(graph, seed);
                    var sampleShape = GraphTrainer<float>.ModelSampleShape(graph, train.SampleShape, train.Source);
                    var trainer = new GraphTrainer<float>(graph, new GraphTrainingSettings(arm.Optimizer, settings.Epochs, settings.BatchSize, arm.LearningRate, arm.Momentum, Seed: seed),
                        sampleShape, batches);
                    TrainingTeleport<float>? t = null;
                    if (teleport)
                    {
                        t = new TrainingTeleport<float>(twin, sites, new TrainingTeleportSettings([arm.TeleportEpoch], settings.Teleports, settings.TeleportSteps, settings.TeleportBatch,
                            arm.TeleportLearningRate, control ? double.Epsilon : settings.SquaredNormCap, seed), train, sampleShape);
                        trainer.AttachTeleport(t);
                        dimension = t.Dimension;
                    }
                    var rng = new Random(seed);
                    var loss = new double[settings.Epochs];
                    var seconds = new double[settings.Epochs];
                    double elapsed = 0;
                    string? failure = null;
                    for (int e = 0; e < settings.Epochs; e++)
                    {
                        string stage = Format.Inv($"{arm.Name} seed {seed} {(control ? "reset control" : teleport ? "teleport" : "baseline")} epoch {e + 1}/{settings.Epochs}");
                        progress?.Report(new ExperimentProgress(stage, done, total));
                        done++;
                        if (failure is not null)
                        {
                            (loss[e], seconds[e]) = (double.NaN, double.NaN);
                            continue;
                        }
                        var epochBatches = Minibatches.Create<float>(train, settings.BatchSize, rng);
                        var clock = Stopwatch.StartNew();
                        try
                        {
                            loss[e] = trainer.TrainEpoch(epochBatches, null, cancellationToken);
                        }
                        catch (ArithmeticException x)
                        {
                            // A diverged run (non-finite loss, or a teleport whose ascent overflowed) never reaches anything: its
                            // remaining epochs are NaN and the reason is kept.
                            failure = Format.Inv($"epoch {e + 1}: {x.Message}");
                            (loss[e], seconds[e]) = (double.NaN, double.NaN);
                            continue;
                        }
                        elapsed += clock.Elapsed.TotalSeconds;
                        seconds[e] = elapsed;
                    }
                    double accuracy = failure is null ? trainer.Evaluate(Minibatches.Create<float>(test, 1000, null, shuffle: false), cancellationToken) : double.NaN;
                    return new TeleportProtocolRun(arm.Name, seed, teleport, loss, seconds, accuracy, t?.Records.ToArray() ?? Array.Empty<TrainingTeleportRecord>(), failure, control);
                }
                var baseline = One(false);
                var withTeleport = One(true);
                runs.Add(baseline);
                runs.Add(withTeleport);
                pairs.Add((baseline, withTeleport));
                if (settings.ResetControl)
                {
                    var control = One(true, control: true);
                    runs.Add(control);
                    controls.Add(control);
                }
            }
            arms.Add(Compare(arm.Name, pairs, settings.ResetControl ? controls : null));
        }
        progress?.Report(new ExperimentProgress("done", total, total));
        return new TeleportProtocolResult(settings, runs, arms, train.Count, dimension, sites.Count);
    }

    /// <summary>
    /// An untimed run of every optimiser with its teleports on a few batches before anything is timed, so that no timed run
    /// pays for compiling the code paths it is the first to take (.NET compiles methods on first use and again, optimised,
    /// once they are hot): otherwise the first baseline would carry that cost and flatter the teleport runs.
    /// </summary>
    private static void Warm(OnnxModel onnx, ImageDataset train, TeleportProtocolSettings settings, Graph<double> twin,
        IReadOnlyList<CensusSite> sites, CancellationToken cancellationToken)
    {
        var data = train.Subset(0, Math.Min(train.Count, settings.BatchSize * (settings.Teleports + 40)));
        var shape = GraphTrainer<float>.ModelSampleShape(onnx.ToGraph<float>(), train.SampleShape, train.Source);
        int batches = Minibatches.BatchCount(data.Count, settings.BatchSize);
        foreach (var arm in settings.Arms)
        {
            var graph = onnx.ToGraph<float>();
            Initialize(graph, settings.FirstSeed);
            var trainer = new GraphTrainer<float>(graph, new GraphTrainingSettings(arm.Optimizer, 1, settings.BatchSize, arm.LearningRate, arm.Momentum), shape, batches);
            trainer.AttachTeleport(new TrainingTeleport<float>(twin, sites, new TrainingTeleportSettings([0], Math.Min(settings.Teleports, batches), settings.TeleportSteps,
                Math.Min(settings.TeleportBatch, data.Count), arm.TeleportLearningRate, settings.SquaredNormCap), data, shape));
            try
            {
                trainer.TrainEpoch(Minibatches.Create<float>(data, settings.BatchSize, new Random(0)), null, cancellationToken);
            }
            catch (ArithmeticException)
            {
                // A warm-up that diverges has still compiled what it ran; the timed runs record their own failures.
            }
        }
    }

    /// <summary>
    /// The comparison over seeds: per seed the target is the baseline's final epoch loss; each run's time to reach it is
    /// <see cref="TimeToReach"/>; the difference and the ratio get t-intervals (NaN bounds when a teleport run never reached it).
    /// With <paramref name="controls"/> (the reset-only runs, one per pair), their times and T_control − T_baseline too.
    /// </summary>
    public static TeleportProtocolArmResult Compare(string arm, IReadOnlyList<(TeleportProtocolRun Baseline, TeleportProtocolRun Teleport)> pairs,
        IReadOnlyList<TeleportProtocolRun>? controls = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var targets = pairs.Select(p => p.Baseline.EpochLoss[^1]).ToArray();
        var tb = pairs.Select((p, i) => TimeToReach(p.Baseline.Seconds, p.Baseline.EpochLoss, targets[i])).ToArray();
        var tt = pairs.Select((p, i) => TimeToReach(p.Teleport.Seconds, p.Teleport.EpochLoss, targets[i])).ToArray();
        var difference = TInterval.Of(tt.Zip(tb, (a, b) => a - b).ToArray());
        var ratio = TInterval.Of(tt.Zip(tb, (a, b) => a / b).ToArray());
        var teleports = pairs.SelectMany(p => p.Teleport.Teleports).ToArray();
        var tc = controls?.Select((c, i) => TimeToReach(c.Seconds, c.EpochLoss, targets[i])).ToArray();
        return new TeleportProtocolArmResult(arm, targets, tb, tt, difference, ratio, tt.Count(double.IsFinite),
            pairs.Select(p => p.Teleport.Teleports.Sum(t => t.Result.Seconds)).ToArray(),
            teleports.Length == 0 ? double.NaN : teleports.Average(t => t.Result.Gain),
            TInterval.Of(pairs.Select(p => p.Teleport.EpochLoss[^1] - p.Baseline.EpochLoss[^1]).ToArray()),
            tc, tc is null ? null : TInterval.Of(tc.Zip(tb, (a, b) => a - b).ToArray()));
    }

    /// <summary>
    /// The first time the loss curve (epoch-end times <paramref name="seconds"/>, epoch losses <paramref name="loss"/>) reaches
    /// <paramref name="target"/>: at the first epoch e with loss ≤ target, interpolated linearly in time between epoch e − 1
    /// and e (the epoch's end time when e is the first epoch); NaN when no epoch reaches it.
    /// </summary>
    public static double TimeToReach(IReadOnlyList<double> seconds, IReadOnlyList<double> loss, double target)
    {
        ArgumentNullException.ThrowIfNull(seconds);
        ArgumentNullException.ThrowIfNull(loss);
        if (seconds.Count != loss.Count) throw Errors.Argument(nameof(loss), $"time to reach: {loss.Count} losses for {seconds.Count} times");
        for (int e = 0; e < loss.Count; e++)
        {
            if (!(loss[e] <= target)) continue;
            if (e == 0 || loss[e - 1] == loss[e]) return seconds[e];
            double f = (loss[e - 1] - target) / (loss[e - 1] - loss[e]);
            return seconds[e - 1] + f * (seconds[e] - seconds[e - 1]);
        }
        return double.NaN;
    }

    /// <summary>
    /// Draws the parameters of seed <paramref name="seed"/> as PyTorch initialises nn.Linear: a [out, in] weight and the bias
    /// beside it (same name with .bias) uniform in ±1/√in (the authors' init_param_MLP draws the same distribution).
    /// </summary>
    /// <exception cref="ArgumentException">A parameter that is neither such a weight nor its bias (the protocol is for MLPs).</exception>
    public static void Initialize<T>(Graph<T> graph, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(graph);
        var rng = new Random(seed);
        foreach (var p in graph.Parameters)
        {
            int fanIn;
            if (p.Value.Rank == 2) fanIn = p.Value.Dim(1);
            else if (p.Value.Rank == 1 && p.Name.EndsWith(".bias", StringComparison.Ordinal) && graph.Parameter(p.Name[..^5] + ".weight") is { Value.Rank: 2 } w) fanIn = w.Value.Dim(1);
            else throw Errors.Argument(nameof(graph), $"teleport protocol: parameter '{p.Name}' {Errors.Shape(p.Value.ShapeArray)} is not a Linear weight or bias; the protocol initialises MLPs");
            double bound = 1 / Math.Sqrt(fanIn);
            var data = p.Value.Data;
            for (int i = 0; i < data.Length; i++) data[i] = T.CreateTruncating((2 * rng.NextDouble() - 1) * bound);
        }
    }
}
