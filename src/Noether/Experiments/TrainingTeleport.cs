using Noether.Autodiff;
using Noether.Data;
using Noether.Graphs;
using Noether.Landscape;
using Noether.Symmetry.Census;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>When and how a training run teleports (<see cref="TrainingTeleport{T}"/>).</summary>
/// <param name="Epochs">The epochs to teleport at, counted from 0 (0: before the first optimiser step), as the authors' code counts them.</param>
/// <param name="Count">Teleports per chosen epoch: one before each of its first <paramref name="Count"/> optimiser steps (the authors: 8).</param>
/// <param name="Steps">Ascent steps per teleport (the authors: 10).</param>
/// <param name="BatchSize">Samples of the batch each teleport ascends on, drawn afresh for each from a shuffled pass over the training data (the authors: 200).</param>
/// <param name="LearningRate">The ascent's step size η (see <see cref="GradientNormTeleportSettings"/>).</param>
/// <param name="SquaredNormCap">The ascent stops once ‖∇L‖² on the batch exceeds this (the authors: 100).</param>
/// <param name="Seed">Seeds the teleport batches.</param>
/// <param name="Sharpness">Null: each teleport ascends ‖∇L‖² along every exact census site. Otherwise each teleport moves the
/// one site the run was given to a top Hessian eigenvalue (<see cref="SiteSharpnessTeleport"/>) on its batch; Steps,
/// LearningRate and SquaredNormCap are then not used.</param>
public sealed record TrainingTeleportSettings(IReadOnlyList<int> Epochs, int Count = 8, int Steps = 10, int BatchSize = 200, double LearningRate = 5e-2,
    double SquaredNormCap = 100, int Seed = 0, SharpnessTeleportTarget? Sharpness = null)
{
    /// <summary>The ascent of each teleport.</summary>
    public GradientNormTeleportSettings Ascent => new(Steps, LearningRate, SquaredNormCap);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting that does not fit a run of
    /// <paramref name="epochs"/> epochs of <paramref name="batchesPerEpoch"/> steps over <paramref name="trainCount"/> samples.</summary>
    public void Validate(int epochs, int batchesPerEpoch, int trainCount)
    {
        ArgumentNullException.ThrowIfNull(Epochs);
        if (Epochs.Count == 0) throw Errors.Argument("teleport epochs", "teleport: no epoch to teleport at");
        foreach (int e in Epochs)
            if (e < 0 || e >= epochs) throw Errors.OutOfRange("teleport epochs", e, $"an epoch of the run, 0–{epochs - 1} (0: before the first step)");
        if (Epochs.Distinct().Count() != Epochs.Count) throw Errors.Argument("teleport epochs", $"teleport: an epoch is listed twice ({string.Join(", ", Epochs)})");
        if (Count < 1 || Count > batchesPerEpoch) throw Errors.OutOfRange("teleports", Count, $"1–{batchesPerEpoch} teleports per epoch (one before each of its first steps)");
        if (BatchSize < 1 || BatchSize > trainCount) throw Errors.OutOfRange("teleport batch", BatchSize, $"1–{trainCount} samples (the training set)");
        Ascent.Validate();
        if (Sharpness is { } s)
        {
            if (s.Site < 0) throw Errors.OutOfRange("teleport site", s.Site, "a census site index ≥ 0");
            if (!(s.Amount > 0) || double.IsInfinity(s.Amount)) throw Errors.OutOfRange("teleport target", s.Amount, s.Scale ? "a positive finite factor" : "a positive finite top Hessian eigenvalue");
        }
    }
}

/// <summary>A sharpness target for teleports inside training.</summary>
/// <param name="Site">The census site moved (its index in the census of the training graph, as `noether symmetries` lists them from 0).</param>
/// <param name="Amount">The target λ_max, or the factor on λ_max before each teleport when <paramref name="Scale"/>.</param>
/// <param name="Scale">True: each teleport's target is <paramref name="Amount"/> × λ_max on its batch before it.</param>
public sealed record SharpnessTeleportTarget(int Site, double Amount, bool Scale);

/// <summary>One teleport made inside training.</summary>
/// <param name="Index">0-based, in order.</param>
/// <param name="Epoch">The epoch it ran in (from 0).</param>
/// <param name="Step">Optimiser steps taken before it.</param>
/// <param name="Result">What it did and cost (loss and ‖∇L‖² on its batch before and after, products, seconds; for a sharpness
/// teleport no ascent steps, no coordinates, and the products of its Lanczos runs).</param>
/// <param name="Sharpness">A sharpness teleport's path, target and λ_max before and after (null for a gradient-norm teleport).</param>
public sealed record TrainingTeleportRecord(int Index, int Epoch, long Step, GradientNormTeleportResult Result, SiteSharpnessResult? Sharpness = null);

/// <summary>
/// Teleportation inside a graph training loop (<see cref="GraphTrainer{T}.AttachTeleport"/>): before the first
/// <see cref="TrainingTeleportSettings.Count"/> steps of each chosen epoch, the training parameters (any precision) are
/// copied into a float64 twin of the model, moved by <see cref="GradientNormTeleport"/> along the census's exact sites to a
/// larger ‖∇L‖² on a fresh batch, and copied back (rounded to the training precision); the trainer then resets its
/// optimiser. The teleport batches come from their own seeded shuffled passes over the training data, as the authors'
/// separate teleport loader does, so the training batches are the same with and without teleports.
/// </summary>
public sealed class TrainingTeleport<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Graph<double> _twin;
    private readonly GradientNormTeleport _teleport;
    private readonly ImageDataset _train;
    private readonly int[] _sampleShape;
    private readonly Random _rng;
    private readonly List<TrainingTeleportRecord> _records = [];
    private IEnumerator<(Tensor<double> Inputs, int[] Labels)>? _batches;

    /// <summary>
    /// Teleports along <paramref name="sites"/> (exact census sites of <paramref name="twin"/>, a float64 graph of the model
    /// being trained whose parameters have the training graph's names) on batches of <paramref name="train"/> shaped
    /// [batch, .. <paramref name="sampleShape"/>].
    /// </summary>
    public TrainingTeleport(Graph<double> twin, IReadOnlyList<CensusSite> sites, TrainingTeleportSettings settings, ImageDataset train, int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(twin);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(sampleShape);
        ArgumentNullException.ThrowIfNull(sites);
        settings.Ascent.Validate();
        if (settings.Sharpness is not null && sites.Count != 1)
            throw Errors.Argument(nameof(sites), $"teleport: a sharpness target moves one site, {sites.Count} given");
        _twin = twin;
        _teleport = new GradientNormTeleport(twin, sites);
        Settings = settings;
        _train = train;
        _sampleShape = sampleShape;
        _rng = new Random(settings.Seed);
    }

    /// <summary>The settings.</summary>
    public TrainingTeleportSettings Settings { get; }

    /// <summary>The group's dimension (generators of the sites moved).</summary>
    public int Dimension => _teleport.Dimension;

    /// <summary>The sites moved.</summary>
    public IReadOnlyList<CensusSite> Sites => _teleport.Sites;

    /// <summary>The teleports made so far.</summary>
    public IReadOnlyList<TrainingTeleportRecord> Records => _records;

    /// <summary>True when a teleport is due before step <paramref name="batch"/> (from 0) of epoch <paramref name="epoch"/> (from 0).</summary>
    public bool IsDue(int epoch, int batch) => batch < Settings.Count && Settings.Epochs.Contains(epoch);

    /// <summary>Teleports <paramref name="parameters"/> (moved in place) on the next teleport batch and records it.</summary>
    public TrainingTeleportRecord Run(IReadOnlyList<Parameter<T>> parameters, int epoch, long step, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var p in parameters)
        {
            var twin = _twin.Parameter(p.Name) ?? throw Errors.Argument(nameof(parameters), $"teleport: '{p.Name}' is not a parameter of the float64 twin");
            var source = p.Value.Data;
            var target = twin.Value.Data;
            for (int i = 0; i < target.Length; i++) target[i] = double.CreateTruncating(source[i]);
        }
        var (inputs, labels) = NextBatch();
        SiteSharpnessResult? sharpness = null;
        GradientNormTeleportResult result;
        if (Settings.Sharpness is { } goal) (result, sharpness) = ToSharpness(goal, inputs, labels, epoch, step, cancellationToken);
        else result = _teleport.Run(inputs, labels, Settings.Ascent, cancellationToken);
        foreach (var p in parameters)
        {
            var source = _twin.Parameter(p.Name)!.Value.Data;
            var target = p.Value.Data;
            for (int i = 0; i < target.Length; i++) target[i] = T.CreateTruncating(source[i]);
        }
        var record = new TrainingTeleportRecord(_records.Count, epoch, step, result, sharpness);
        _records.Add(record);
        return record;
    }

    // The twin's one site moved to the target λ_max on the batch; ‖∇L‖² measured before and after for the record.
    private (GradientNormTeleportResult, SiteSharpnessResult) ToSharpness(SharpnessTeleportTarget target, Tensor<double> inputs, int[] labels, int epoch, long step,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var (lossBefore, normBefore) = _teleport.Measure(inputs, labels);
        var options = new SiteSharpnessOptions(Seed: Settings.Seed);
        double value = target.Amount;
        long products = 0;
        if (target.Scale)
        {
            var (now, p) = SiteSharpnessTeleport.TopEigenvalue(_twin, _twin.Parameters, inputs, labels, options, cancellationToken);
            (value, products) = (target.Amount * now, p);
        }
        SiteSharpnessResult moved;
        try
        {
            moved = SiteSharpnessTeleport.Teleport(_twin, _teleport.Sites[0], inputs, labels, value, options, cancellationToken);
        }
        catch (ArgumentException e) when (e.ParamName == "target")
        {
            throw Errors.Argument(TargetName, $"teleport {_records.Count + 1} (epoch {epoch}, after {step} steps): {Errors.Plain(e)}", e);
        }
        var (lossAfter, normAfter) = _teleport.Measure(inputs, labels);
        var result = new GradientNormTeleportResult(lossBefore, lossAfter, normBefore, normAfter, 0, checked((int)(products + moved.Products)), 2, false,
            clock.Elapsed.TotalSeconds, []);
        if (!(result.RelativeLossChange <= GradientNormTeleport.LossTolerance))
            throw new ArithmeticException(string.Create(CultureInfo.InvariantCulture,
                $"teleport: the loss on the teleport batch changed from {lossBefore:R} to {lossAfter:R} (relative {result.RelativeLossChange:E2}): the site moved is not a symmetry of this loss"));
        return (result, moved);
    }

    /// <summary>The parameter name of the <see cref="ArgumentException"/> by which a sharpness target that a teleport cannot reach stops the run.</summary>
    public const string TargetName = "teleport target";

    private (Tensor<double> Inputs, int[] Labels) NextBatch()
    {
        for (int attempt = 0; attempt < 2; attempt++)
        {
            _batches ??= Minibatches.Create<double>(_train, Settings.BatchSize, _rng, dropLast: true).GetEnumerator();
            if (_batches.MoveNext())
            {
                var (x, y) = _batches.Current;
                int[] shape = [x.Dim(0), .. _sampleShape];
                return (shape.SequenceEqual(x.ShapeArray) ? x : x.Reshape(shape), y);
            }
            _batches = null; // a pass is over: the next one reshuffles
        }
        throw Errors.Argument("teleport batch", $"teleport: a batch of {Settings.BatchSize} needs at least that many training samples ({_train.Count})");
    }
}
