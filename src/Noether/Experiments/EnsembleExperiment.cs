using Noether.Autodiff;
using Noether.Data;
using Noether.Ensembles;
using Noether.Nn;
using Noether.Tensors;
using static Noether.Experiments.Format;

namespace Noether.Experiments;

/// <summary>
/// Settings of <see cref="EnsembleExperiment"/> (paper Fig. 9: accuracy change against ε for the five builders).
/// </summary>
/// <param name="Builders">Which constructions; null means all five (group, ginv, random, shuffle, perm-interp).</param>
/// <param name="Epsilons">The ε grid; null means <see cref="DefaultEpsilons"/>.</param>
/// <param name="Vote">Mode of the members' classes (the paper's rule) or mean softmax.</param>
/// <param name="TestLimit">Use only the first this many test images (null: all).</param>
/// <param name="BatchSize">Images per forward pass.</param>
public sealed record EnsembleExperimentSettings(
    IReadOnlyList<EnsembleBuilderKind>? Builders = null,
    IReadOnlyList<double>? Epsilons = null,
    EnsembleVote Vote = EnsembleVote.Mode,
    int? TestLimit = null,
    int BatchSize = 1000)
{
    /// <summary>
    /// How every ensemble of the grid is made (members N, seed, form of g, generator std, calibration batch, condition
    /// limit and policy, the group builder's reading); each (builder, ε) point replaces its builder and ε
    /// (<see cref="EnsembleOptions.For"/>). Each point uses the same seed, so the builders share g and H₀ member by member.
    /// </summary>
    public EnsembleOptions Ensemble { get; init; } = new(EnsembleBuilderKind.Group, 0);

    /// <summary>Run only this part of the grid (<see cref="EnsembleExperiment.GridSize"/>); null: all of it.</summary>
    public Shard? Shard { get; init; }

    /// <summary>The default ε grid: 0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10 (with M's entries of std 1/√h, ‖εM‖₂ ≈ 2ε).</summary>
    public static IReadOnlyList<double> DefaultEpsilons { get; } = [0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];

    /// <summary>A quick run: ε ∈ {0, 0.1, 1, 10}, 5 members, the first 1000 test images.</summary>
    public static EnsembleExperimentSettings Quick { get; } = new(Epsilons: [0, 0.1, 1, 10], TestLimit: 1000) { Ensemble = new(EnsembleBuilderKind.Group, 0, Members: 5) };

    /// <summary>The builders to run (all five when <see cref="Builders"/> is null).</summary>
    public IReadOnlyList<EnsembleBuilderKind> BuilderList => Builders ?? Enum.GetValues<EnsembleBuilderKind>();

    /// <summary>The ε grid to run.</summary>
    public IReadOnlyList<double> EpsilonList => Epsilons ?? DefaultEpsilons;

    /// <summary>The ensemble options for one (builder, ε) point.</summary>
    public EnsembleOptions Options(EnsembleBuilderKind builder, double epsilon) => Ensemble.For(builder, epsilon);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting (h is the model's hidden width).</summary>
    public void Validate(int hidden)
    {
        if (BuilderList.Count == 0) throw Errors.Argument(nameof(Builders), "ensemble experiment: no builders given");
        if (EpsilonList.Count == 0) throw Errors.Argument(nameof(Epsilons), "ensemble experiment: the ε grid is empty");
        foreach (var builder in BuilderList)
            foreach (double epsilon in EpsilonList) Options(builder, epsilon).Validate(hidden);
        if (!Enum.IsDefined(Vote)) throw Errors.OutOfRange("vote", Vote, "mode or mean-softmax");
        if (TestLimit is { } limit) Errors.ThrowIfNotPositive(limit, "test limit");
        Errors.ThrowIfNotPositive(BatchSize, "batch size");
    }
}

/// <summary>One (builder, ε) point of Fig. 9.</summary>
/// <param name="Builder">The construction.</param>
/// <param name="Epsilon">ε.</param>
/// <param name="Accuracy">Ensemble test accuracy (NaN when every member was rejected).</param>
/// <param name="AccuracyChange">Accuracy − the single model's accuracy (Fig. 9's y axis).</param>
/// <param name="Members">Members kept.</param>
/// <param name="Rejected">Members rejected as ill-conditioned.</param>
/// <param name="Regularised">Members kept with a damped inverse.</param>
/// <param name="MeanMemberAccuracy">Mean over members of each member's own accuracy.</param>
/// <param name="Agreement">Fraction of test images where the ensemble predicts the single model's class.</param>
/// <param name="MedianCondition">Median condition number of the members' inverted matrices (NaN without members).</param>
/// <param name="MaxCondition">Largest of them.</param>
public sealed record EnsembleAccuracyRow(EnsembleBuilderKind Builder, double Epsilon, double Accuracy, double AccuracyChange, int Members, int Rejected,
    int Regularised, double MeanMemberAccuracy, double Agreement, double MedianCondition, double MaxCondition)
{
    /// <summary>The builder's short name (group, ginv, random, shuffle, perm-interp).</summary>
    public string Name => EnsembleOptions.Name(Builder);
}

/// <summary>Everything Fig. 9 plots and its summary prints.</summary>
/// <param name="Settings">The settings run.</param>
/// <param name="SingleAccuracy">The single model's test accuracy.</param>
/// <param name="TestCount">Test images used.</param>
/// <param name="TestSource">Where they came from.</param>
/// <param name="CalibrationSource">Where calibration batches were drawn from.</param>
/// <param name="Hidden">The model's hidden width h (= the default calibration batch size).</param>
/// <param name="Rows">One row per (builder, ε), builders in order, ε ascending within each (only the shard's, in grid order, when sharded).</param>
/// <param name="Seconds">Wall time.</param>
public sealed record EnsembleExperimentResult(EnsembleExperimentSettings Settings, double SingleAccuracy, int TestCount, string TestSource,
    string CalibrationSource, int Hidden, IReadOnlyList<EnsembleAccuracyRow> Rows, double Seconds)
{
    /// <summary>Members rejected over all points.</summary>
    public int TotalRejected => Rows.Sum(r => r.Rejected);

    /// <summary>Members regularised over all points.</summary>
    public int TotalRegularised => Rows.Sum(r => r.Regularised);

    /// <summary>The row of <paramref name="builder"/> at <paramref name="epsilon"/>, or null when that point was not run (here).</summary>
    public EnsembleAccuracyRow? Row(EnsembleBuilderKind builder, double epsilon) => Rows.FirstOrDefault(r => r.Builder == builder && r.Epsilon == epsilon);

    /// <summary>Every ε of the rows, ascending, once.</summary>
    public double[] Epsilons() => Rows.Select(r => r.Epsilon).Distinct().Order().ToArray();

    /// <summary>Every ε &gt; 0 of the rows, ascending, once.</summary>
    public double[] PositiveEpsilons() => Rows.Select(r => r.Epsilon).Where(e => e > 0).Distinct().Order().ToArray();

    /// <summary>The group ensemble's accuracy change at each ε in (0, <paramref name="limit"/>] (NaN where it was not run).</summary>
    public (double Epsilon, double Change)[] GroupChanges(double limit) =>
        PositiveEpsilons().Where(e => e <= limit).Select(e => (e, Row(EnsembleBuilderKind.Group, e)?.AccuracyChange ?? double.NaN)).ToArray();

    /// <summary>The accuracies of the group ensemble and <paramref name="baseline"/> at every ε &gt; 0 where both were built.</summary>
    public (double Epsilon, double Group, double Baseline)[] GroupVersus(EnsembleBuilderKind baseline) =>
        PositiveEpsilons().Where(e => Row(EnsembleBuilderKind.Group, e) is not null && Row(baseline, e) is not null)
            .Select(e => (e, Row(EnsembleBuilderKind.Group, e)!.Accuracy, Row(baseline, e)!.Accuracy)).ToArray();

    /// <summary>Members rejected at each ε (ascending).</summary>
    public (double Epsilon, int Rejected)[] RejectedByEpsilon() => Rows.GroupBy(r => r.Epsilon).OrderBy(g => g.Key).Select(g => (g.Key, g.Sum(r => r.Rejected))).ToArray();

    /// <summary>The largest condition number kept by the group and shuffle ensembles (NaN without one).</summary>
    public double WorstKeptCondition() => Rows.Where(r => r.Builder is EnsembleBuilderKind.Group or EnsembleBuilderKind.Shuffle && !double.IsNaN(r.MaxCondition))
        .Select(r => r.MaxCondition).DefaultIfEmpty(double.NaN).Max();

    /// <summary>Points whose ensemble accuracy is NaN.</summary>
    public int NanAccuracies() => Rows.Count(r => double.IsNaN(r.Accuracy));
}

/// <summary>Progress of <see cref="EnsembleExperiment"/>: (builder, ε) points finished.</summary>
/// <param name="Done">Points done.</param>
/// <param name="Total">Points in all.</param>
/// <param name="Last">The point just finished.</param>
public readonly record struct EnsembleExperimentProgress(int Done, int Total, EnsembleAccuracyRow Last);

/// <summary>
/// Paper Fig. 9: for each builder and ε, an N-member ensemble of the trained model and its test accuracy compared with
/// the single model's. The hidden pre-activations of the test set are computed once and every ensemble is evaluated on
/// them (members differ only after the hidden layer). A pure function of its inputs and settings.
/// </summary>
public static class EnsembleExperiment
{
    /// <summary>
    /// The number of grid items: one ensemble per (builder, ε), builders in the settings' order, ε ascending within each.
    /// Every point builds its ensemble from the seed alone (the builders share g and H₀ member by member), and the model,
    /// the test set's hidden pre-activations and the single model's accuracy are computed in every shard identically,
    /// so each item depends only on the inputs, the settings and the item.
    /// </summary>
    public static int GridSize(EnsembleExperimentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.BuilderList.Count * settings.EpsilonList.Count;
    }

    /// <summary>Runs the sweep (the points of <see cref="EnsembleExperimentSettings.Shard"/> when set).</summary>
    /// <param name="model">The trained SPEC CNN (trained with <see cref="CnnTraining"/> or loaded from safetensors).</param>
    /// <param name="calibration">The training split (calibration batches are drawn from it).</param>
    /// <param name="test">The test split.</param>
    /// <param name="settings">Grid and sizes.</param>
    /// <param name="progress">Reports every finished point.</param>
    /// <param name="cancellationToken">Checked between points.</param>
    public static EnsembleExperimentResult Run(SpecCnn<float> model, ImageDataset calibration, ImageDataset test, EnsembleExperimentSettings settings,
        IProgress<EnsembleExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Run(HeadedModel<float>.Of(model), calibration, test, settings, progress, cancellationToken);
    }

    /// <summary>Runs the sweep on any model of features and a two-layer head (the SPEC CNN, or an imported graph's head).</summary>
    public static EnsembleExperimentResult Run(HeadedModel<float> model, ImageDataset calibration, ImageDataset test, EnsembleExperimentSettings settings,
        IProgress<EnsembleExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        test = Prepare(model, calibration, test, settings.Validate, settings.TestLimit);
        var clock = Stopwatch.StartNew();
        int h = model.Hidden;
        var trunk = new EnsembleHeads<float>(model, null);
        var hidden = HiddenPreActivations(trunk, test, settings.BatchSize, cancellationToken);
        var single = SingleModelPredictions(trunk, hidden);
        double singleAccuracy = Accuracy(single, test.Labels);

        var rows = new List<EnsembleAccuracyRow>();
        var epsilons = settings.EpsilonList.Order().ToArray();
        var items = Shard.ItemsOf(settings.Shard, GridSize(settings));
        for (int k = items.Start; k < items.End; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (builder, epsilon) = (settings.BuilderList[k / epsilons.Length], epsilons[k % epsilons.Length]);
            var ensemble = EnsembleBuilder.Build(model, calibration, settings.Options(builder, epsilon), cancellationToken);
            var row = Evaluate(ensemble, hidden, test.Labels, single, singleAccuracy, settings.Vote);
            rows.Add(row);
            progress?.Report(new EnsembleExperimentProgress(rows.Count, items.Length, row));
        }
        return new EnsembleExperimentResult(settings, singleAccuracy, test.Count, test.Source, calibration.Source, h, rows, clock.Elapsed.TotalSeconds);
    }

    internal static EnsembleAccuracyRow Evaluate(Ensemble<float> ensemble, Tensor<float> hidden, int[] labels, int[] single, double singleAccuracy, EnsembleVote vote)
    {
        var conditions = ensemble.Members.Select(m => m.ConditionNumber).Order().ToArray();
        double median = conditions.Length == 0 ? double.NaN : conditions[conditions.Length / 2];
        double max = conditions.Length == 0 ? double.NaN : conditions[^1];
        var o = ensemble.Options;
        if (ensemble.Count == 0)
            return new EnsembleAccuracyRow(o.Builder, o.Epsilon, double.NaN, double.NaN, 0, ensemble.Rejected, 0, double.NaN, double.NaN, median, max);
        var logits = ensemble.MemberLogitsFromHidden(hidden);
        var predicted = EnsembleVoting.Combine(logits, vote);
        var members = EnsembleVoting.MemberPredictions(logits);
        int n = labels.Length;
        long memberCorrect = 0, agree = 0;
        for (int i = 0; i < n; i++)
        {
            for (int m = 0; m < ensemble.Count; m++) if (members[i, m] == labels[i]) memberCorrect++;
            if (predicted[i] == single[i]) agree++;
        }
        double accuracy = Accuracy(predicted, labels);
        return new EnsembleAccuracyRow(o.Builder, o.Epsilon, accuracy, accuracy - singleAccuracy, ensemble.Count, ensemble.Rejected, ensemble.Regularised,
            (double)memberCorrect / ((long)n * ensemble.Count), (double)agree / n, median, max);
    }

    /// <summary>H = f(x)Vᵀ + b for the whole data set, [N, h].</summary>
    internal static Tensor<float> HiddenPreActivations(EnsembleHeads<float> trunk, ImageDataset data, int batchSize, CancellationToken cancellationToken)
    {
        int h = trunk.Hidden;
        var hidden = new Tensor<float>(new float[data.Count * h], data.Count, h);
        int start = 0;
        foreach (var (inputs, _) in Minibatches.Create(data, batchSize, null, shuffle: false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var tape = new Tape<float>();
            using (tape.Pause())
                trunk.HiddenPreActivation(tape, tape.Constant(inputs)).Value.Data.AsSpan().CopyTo(hidden.Data.AsSpan(start * h));
            start += inputs.Dim(0);
        }
        return hidden;
    }

    /// <summary>The single model's classes from its hidden pre-activations (arg-max, first on ties).</summary>
    internal static int[] SingleModelPredictions(EnsembleHeads<float> trunk, Tensor<float> hidden)
    {
        var tape = new Tape<float>();
        Tensor<float> logits;
        using (tape.Pause()) logits = trunk.Logits(tape, tape.Constant(hidden)).Value;
        return EnsembleVoting.Combine(logits.Reshape(hidden.Dim(0), 1, trunk.Classes), EnsembleVote.Mode);
    }

    internal static double Accuracy(int[] predicted, int[] labels)
    {
        long correct = 0;
        for (int i = 0; i < labels.Length; i++) if (predicted[i] == labels[i]) correct++;
        return (double)correct / labels.Length;
    }

    /// <summary>
    /// What a run on the SPEC CNN checks first, for the ensemble and the attack experiment alike: the inputs are there,
    /// the settings are valid for the model's hidden width (<paramref name="validate"/>), both data sets fit the model;
    /// returns the test set cut to its first <paramref name="testLimit"/> images.
    /// </summary>
    internal static ImageDataset Prepare(HeadedModel<float> model, ImageDataset calibration, ImageDataset test, Action<int> validate, int? testLimit)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(calibration);
        ArgumentNullException.ThrowIfNull(test);
        validate(model.Hidden);
        CheckFits(model, calibration, nameof(calibration));
        CheckFits(model, test, nameof(test));
        return testLimit is { } limit && limit < test.Count ? test.Subset(0, limit) : test;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="name"/> unless <paramref name="data"/> is non-empty
    /// and has the model's image shape and class count.</summary>
    public static void CheckFits(SpecCnn<float> model, ImageDataset data, string name)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckFits(HeadedModel<float>.Of(model), data, name);
    }

    /// <summary>The same for any model of features and a head: the data's samples must have its sample shape, its classes its outputs.</summary>
    public static void CheckFits(HeadedModel<float> model, ImageDataset data, string name)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw Errors.Argument(name, $"{name}: the data set is empty");
        if (!data.SampleShape.SequenceEqual(model.SampleShape))
            throw Errors.Argument(name, $"{name}: images are {string.Join("×", data.SampleShape)} but the model expects {string.Join("×", model.SampleShape)}");
        if (data.ClassCount != model.Classes)
            throw Errors.Argument(name, $"{name}: the data set has {data.ClassCount} classes but the model outputs {model.Classes}");
    }

    /// <summary>The paper's Fig. 9 statements against this run.</summary>
    public static Claim[] Claims(EnsembleExperimentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var claims = new List<Claim>();
        var rows = result.Rows;
        var positive = result.PositiveEpsilons();
        bool hasGroup = rows.Any(r => r.Builder == EnsembleBuilderKind.Group);
        string setting = string.Create(CultureInfo.InvariantCulture, $"N = {result.Settings.Ensemble.Members}, {result.TestCount} test images, single model {Pct(result.SingleAccuracy)}");

        // 1. Small ε keeps the accuracy.
        var changes = result.GroupChanges(EnsembleClaims.SmallEpsilon);
        if (hasGroup && changes.Length > 0)
        {
            claims.Add(EnsembleClaims.GroupPreservesAccuracy.Make(changes.Select(c => new[] { c.Change }).ToArray(),
                string.Join(", ", changes.Select(c => $"ε={G(c.Epsilon, 4)}: {Points(c.Change)}")), setting));
        }

        // 2. Group ahead of random (and of the other baselines) at ε > 0.
        if (hasGroup)
        {
            foreach (var baseline in new[] { EnsembleBuilderKind.Random, EnsembleBuilderKind.GroupInverse, EnsembleBuilderKind.Shuffle, EnsembleBuilderKind.PermutationInterpolation })
            {
                if (!rows.Any(r => r.Builder == baseline) || positive.Length == 0) continue;
                // ε where either ensemble was not built are left out; a NaN accuracy that was measured counts as a failing part.
                var pairs = result.GroupVersus(baseline);
                if (pairs.Length == 0) continue;
                int ahead = pairs.Count(p => p.Group >= p.Baseline - EnsembleClaims.TieTolerance);
                string name = EnsembleOptions.Name(baseline);
                claims.Add(EnsembleClaims.GroupVsBaseline.Make(pairs.Select(p => new[] { p.Group, p.Baseline }).ToArray(),
                    $"group ≥ {name} − {G(EnsembleClaims.TieTolerance * 100, 4)} point at {ahead} of {pairs.Length} ε > 0; " + string.Join(", ", pairs.Select(p => $"ε={G(p.Epsilon, 4)}: {Pct(p.Group)} vs {Pct(p.Baseline)}")),
                    setting, idPart: name,
                    statement: baseline == EnsembleBuilderKind.Random
                        ? "The group ensemble keeps accuracy better than the random-transformation ensemble (smaller accuracy drop at larger ε)."
                        : $"The group ensemble keeps accuracy better than the {name} baseline.",
                    predicted: $"group accuracy ≥ {name} accuracy − {G(EnsembleClaims.TieTolerance * 100, 4)} point (tie tolerance) at every ε > 0"));
            }
        }

        // 3. Ill-conditioned π: counted, never NaN.
        var rejectedByEpsilon = result.RejectedByEpsilon().Select(r => $"ε={G(r.Epsilon, 4)}: {r.Rejected}");
        double worst = result.WorstKeptCondition();
        int nanAccuracies = result.NanAccuracies();
        claims.Add(EnsembleClaims.IllConditionedPi.Make([nanAccuracies],
            $"rejected per ε: {string.Join(", ", rejectedByEpsilon)}; regularised {result.TotalRegularised}; largest condition number kept (group/shuffle: σ(gH₀); literal reading: g) {Sci(worst)}; NaN accuracies: {nanAccuracies}",
            string.Create(CultureInfo.InvariantCulture, $"members with condition number > {result.Settings.Ensemble.ConditionLimit:G3} or non-finite weights are {(result.Settings.Ensemble.Policy == IllConditionedPolicy.Reject ? "rejected" : "regularised")}")));
        return claims.ToArray();
    }
}
