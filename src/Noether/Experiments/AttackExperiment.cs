using Noether.Attacks;
using Noether.Data;
using Noether.Ensembles;
using Noether.Nn;
using Noether.Tensors;
using static Noether.Experiments.AttackLabels;
using static Noether.Experiments.Format;

namespace Noether.Experiments;

/// <summary>Named attack grids for <see cref="AttackExperiment"/>.</summary>
public static class AttackPresets
{
    /// <summary>
    /// FGSM and PGD at ε ∈ {0, 1, 2, 4, 8}/255; PGD with the library convention of 10 steps, α = ε/4 (2/255 at
    /// ε = 8/255) and random start. Strength axis: ε for both.
    /// </summary>
    public static IReadOnlyList<LinfAttack> Default { get; } =
    [
        .. new[] { 0.0, 1, 2, 4, 8 }.Select(e => LinfAttack.Fgsm(e / 255)),
        .. new[] { 0.0, 1, 2, 4, 8 }.Select(e => LinfAttack.Pgd(e / 255, e / 255 / 4, LinfAttack.DefaultSteps, randomStart: true)),
    ];

    /// <summary>
    /// The authors' grids (SPEC): FGSM ε ∈ {0, .003, .006, .009, .012}; PGD with advertorch's defaults (ε = 0.3,
    /// α = 0.01, random start) and 0–3 iterations. Strength axis: ε for FGSM, iterations for PGD.
    /// </summary>
    public static IReadOnlyList<LinfAttack> Paper { get; } =
    [
        .. new[] { 0.0, 0.003, 0.006, 0.009, 0.012 }.Select(LinfAttack.Fgsm),
        .. Enumerable.Range(0, 4).Select(steps => LinfAttack.Pgd(0.3, 0.01, steps, randomStart: true)),
    ];

    /// <summary>A small grid for quick runs: FGSM and PGD-10 (α = ε/4, random start) at ε ∈ {0, 4/255, 8/255}.</summary>
    public static IReadOnlyList<LinfAttack> Quick { get; } =
    [
        .. new[] { 0.0, 4, 8 }.Select(e => LinfAttack.Fgsm(e / 255)),
        .. new[] { 0.0, 4, 8 }.Select(e => LinfAttack.Pgd(e / 255, e / 255 / 4, LinfAttack.DefaultSteps, randomStart: true)),
    ];

    /// <summary>Looks up a preset by name: default, paper or quick.</summary>
    public static IReadOnlyList<LinfAttack> ByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "default" => Default,
            "paper" => Paper,
            "quick" => Quick,
            _ => throw Errors.Argument(nameof(name), $"attack preset '{name}' is unknown: expected default, paper or quick"),
        };
    }
}

/// <summary>Settings of <see cref="AttackExperiment"/> (paper Fig. 10).</summary>
/// <param name="Builders">Ensembles to compare with the single model; null means all five.</param>
/// <param name="Vote">How the ensemble predicts (mode of classes, or mean softmax).</param>
/// <param name="ThreatModels">Transfer, adaptive or both (null: both).</param>
/// <param name="AdaptiveLoss">What the adaptive attack differentiates: the averaged logits (the issue's definition) or the mean softmax.</param>
/// <param name="Attacks">The attack grid (null: <see cref="AttackPresets.Default"/>).</param>
/// <param name="TestLimit">Use only the first this many test images (null: all).</param>
/// <param name="BatchSize">Images per attack batch.</param>
public sealed record AttackExperimentSettings(
    IReadOnlyList<EnsembleBuilderKind>? Builders = null,
    EnsembleVote Vote = EnsembleVote.Mode,
    IReadOnlyList<ThreatModel>? ThreatModels = null,
    EnsembleAttackLoss AdaptiveLoss = EnsembleAttackLoss.AveragedLogits,
    IReadOnlyList<LinfAttack>? Attacks = null,
    int? TestLimit = null,
    int BatchSize = 500)
{
    /// <summary>
    /// How every ensemble is made: its ε_g (<see cref="EnsembleOptions.Epsilon"/>, default 0.3), members, seed (which also
    /// seeds the PGD random starts: the same start for every target of one attack), form of g, generator std, calibration
    /// batch, condition limit and policy; each builder replaces the builder (<see cref="EnsembleOptions.For"/>).
    /// </summary>
    public EnsembleOptions Ensemble { get; init; } = new(EnsembleBuilderKind.Group, 0.3);

    /// <summary>Run only this part of the grid (<see cref="AttackExperiment.GridSize"/>); null: all of it.</summary>
    public Shard? Shard { get; init; }

    /// <summary>A quick run: 5 members, <see cref="AttackPresets.Quick"/>, the first 1000 test images.</summary>
    public static AttackExperimentSettings Quick { get; } = new(Attacks: AttackPresets.Quick, TestLimit: 1000) { Ensemble = new(EnsembleBuilderKind.Group, 0.3, Members: 5) };

    /// <summary>The builders to run.</summary>
    public IReadOnlyList<EnsembleBuilderKind> BuilderList => Builders ?? Enum.GetValues<EnsembleBuilderKind>();

    /// <summary>The threat models to run.</summary>
    public IReadOnlyList<ThreatModel> ThreatModelList => ThreatModels ?? [ThreatModel.Transfer, ThreatModel.Adaptive];

    /// <summary>The attacks to run.</summary>
    public IReadOnlyList<LinfAttack> AttackList => Attacks ?? AttackPresets.Default;

    /// <summary>The options of the ensemble for one builder.</summary>
    public EnsembleOptions Options(EnsembleBuilderKind builder) => Ensemble.For(builder, Ensemble.Epsilon);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting (h is the model's hidden width).</summary>
    public void Validate(int hidden)
    {
        foreach (var builder in BuilderList) Options(builder).Validate(hidden);
        if (ThreatModelList.Count == 0) throw Errors.Argument(nameof(ThreatModels), "attack experiment: no threat model given");
        foreach (var t in ThreatModelList) if (!Enum.IsDefined(t)) throw Errors.OutOfRange("threat model", t, "transfer or adaptive");
        if (AttackList.Count == 0) throw Errors.Argument(nameof(Attacks), "attack experiment: no attacks given");
        foreach (var attack in AttackList) (attack ?? throw Errors.Null(nameof(Attacks), "an attack is null")).Validate();
        if (!Enum.IsDefined(Vote)) throw Errors.OutOfRange("vote", Vote, "mode or mean-softmax");
        if (!Enum.IsDefined(AdaptiveLoss)) throw Errors.OutOfRange("adaptive loss", AdaptiveLoss, "averaged logits or averaged probabilities");
        if (TestLimit is { } limit) Errors.ThrowIfNotPositive(limit, "test limit");
        Errors.ThrowIfNotPositive(BatchSize, "batch size");
    }
}

/// <summary>One ensemble of the comparison.</summary>
/// <param name="Builder">The construction.</param>
/// <param name="Members">Members kept.</param>
/// <param name="Rejected">Members rejected as ill-conditioned.</param>
/// <param name="Regularised">Members kept with a damped inverse.</param>
/// <param name="CleanAccuracy">Test accuracy without attack (NaN without members).</param>
/// <param name="MedianCondition">Median condition number of the inverted matrices.</param>
public sealed record EnsembleSummary(EnsembleBuilderKind Builder, int Members, int Rejected, int Regularised, double CleanAccuracy, double MedianCondition)
{
    /// <summary>The builder's short name.</summary>
    public string Name => EnsembleOptions.Name(Builder);
}

/// <summary>One point of Fig. 10: a model's accuracy on adversarial examples of one attack under one threat model.</summary>
/// <param name="Threat">Whose gradients made the examples (for the single model both threat models coincide).</param>
/// <param name="Attack">The attack.</param>
/// <param name="Strength">The x value: ε, or the number of PGD steps when the grid varies steps at fixed ε (see
/// <see cref="AttackExperimentResult.StrengthAxis"/>).</param>
/// <param name="Builder">The ensemble, or null for the single model.</param>
/// <param name="Accuracy">Accuracy on the adversarial examples (NaN for an ensemble without members).</param>
public sealed record AttackAccuracyRow(ThreatModel Threat, LinfAttack Attack, double Strength, EnsembleBuilderKind? Builder, double Accuracy)
{
    /// <summary>"single" or the builder's short name.</summary>
    public string Model => Builder is { } b ? EnsembleOptions.Name(b) : "single";

    /// <summary>"transfer" or "adaptive".</summary>
    public string ThreatName => Threat == ThreatModel.Transfer ? "transfer" : "adaptive";
}

/// <summary>Everything Fig. 10 plots and its summary prints.</summary>
/// <param name="Settings">The settings run.</param>
/// <param name="SingleAccuracy">The single model's clean accuracy.</param>
/// <param name="TestCount">Test images used.</param>
/// <param name="TestSource">Where they came from.</param>
/// <param name="Ensembles">The ensembles compared.</param>
/// <param name="Rows">Rows in attack order; within an attack, per threat model: single model, then ensembles in builder order
/// (only the shard's attacks, in grid order, when sharded; <see cref="AttackExperiment.RowsPerAttack"/> rows per attack).</param>
/// <param name="Seconds">Wall time.</param>
public sealed record AttackExperimentResult(AttackExperimentSettings Settings, double SingleAccuracy, int TestCount, string TestSource,
    IReadOnlyList<EnsembleSummary> Ensembles, IReadOnlyList<AttackAccuracyRow> Rows, double Seconds)
{
    /// <summary>"epsilon", or "steps" when every attack of this kind has the same ε (the paper's PGD grid varies iterations).</summary>
    public string StrengthAxis(AttackKind kind) => AttackExperiment.StepsAxis(Settings.AttackList, kind) ? "steps" : "epsilon";

    /// <summary>A point that is an attack at all: ε &gt; 0 and at least one step or a random start.</summary>
    public static bool Attacked(AttackAccuracyRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return row.Attack.Epsilon > 0 && (row.Attack.Steps > 0 || row.Attack.RandomStart);
    }

    /// <summary>The accuracy of <paramref name="model"/> ("single" or a builder's name) under <paramref name="attack"/> and <paramref name="threat"/>; NaN when not run.</summary>
    public double Accuracy(ThreatModel threat, LinfAttack attack, string model) =>
        Rows.FirstOrDefault(r => r.Threat == threat && r.Attack == attack && r.Model == model)?.Accuracy ?? double.NaN;

    /// <summary>The distinct attacks of <paramref name="threat"/> (of <paramref name="kind"/> when given) that are attacks at all, in row order.</summary>
    public LinfAttack[] Attacks(ThreatModel threat, AttackKind? kind = null) =>
        Rows.Where(r => r.Threat == threat && (kind is null || r.Attack.Kind == kind) && Attacked(r)).Select(r => r.Attack).Distinct().ToArray();

    /// <summary>The group ensemble's and <paramref name="other"/>'s accuracy under each transfer attack of <paramref name="attacks"/>.</summary>
    public (LinfAttack Attack, double Group, double Other)[] GroupVersus(IEnumerable<LinfAttack> attacks, string other) =>
        attacks.Select(a => (a, Accuracy(ThreatModel.Transfer, a, "group"), Accuracy(ThreatModel.Transfer, a, other))).ToArray();
}

/// <summary>Progress of <see cref="AttackExperiment"/>.</summary>
/// <param name="Stage">What is being computed, e.g. "adaptive PGD-10 ε=0.0314 … on group".</param>
/// <param name="StageIndex">1-based stage number.</param>
/// <param name="Stages">Number of stages.</param>
/// <param name="Done">Images done in this stage.</param>
/// <param name="Total">Images in this stage.</param>
public readonly record struct AttackExperimentProgress(string Stage, int StageIndex, int Stages, int Done, int Total);

/// <summary>
/// Paper Fig. 10: accuracy against attack strength, FGSM and PGD, for the single model and each ensemble, under the
/// transfer threat model (examples computed on the single model once per attack, as in the paper) and the adaptive one
/// (gradients through each ensemble's averaged logits). A pure function of its inputs and settings.
/// </summary>
/// <remarks>
/// Defects of the authors' notebooks (SPEC "Ensembles and attacks") not copied here: cross-entropy is applied to raw
/// logits (theirs applied it to softmax outputs, a double softmax); images stay in [0, 1] end to end, the range the
/// attacks clip to (theirs fed [−0.5, 0.5] to the model but clipped to [0, 1]); each image is perturbed once per attack
/// step and projected once (theirs perturbed twice); the official test split is used (theirs held out 1000 training
/// images); everything is seeded.
/// <para>Reading the adaptive rows: with <see cref="EnsembleAttackLoss.AveragedLogits"/> (the issue's definition) the
/// attack can look weak against group ensembles for a reason unrelated to robustness. Their members' π(g, H₀) is
/// ill-conditioned, so a few members have large logits off the calibration batches and dominate the average, while the
/// ensemble predicts by the mode of its members' classes. Measured on Fashion-MNIST (2000 test images, ε_g = 0.3, 10
/// members, PGD-10 at 8/255): the attack drives the averaged-logit classifier to 29% but the mode vote stays at 65%;
/// the mean-softmax objective (<see cref="EnsembleAttackLoss.AveragedProbabilities"/>) brings the mode vote to 46%,
/// below the single model's 57% and below the transfer attack's 54%. Compare all three before calling an ensemble robust.</para>
/// </remarks>
public static class AttackExperiment
{
    /// <summary>
    /// The number of grid items: one per attack, in the settings' attack order. An item computes the transfer examples on
    /// the single model and, for the adaptive threat model, one set per ensemble, and evaluates every model on them. Its PGD
    /// random starts are seeded from (seed, attack index) alone, and the ensembles, the single model's and each ensemble's
    /// clean accuracy are built from the seed in every shard identically, so each item depends only on the inputs, the
    /// settings and the item.
    /// </summary>
    public static int GridSize(AttackExperimentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.AttackList.Count;
    }

    /// <summary>Rows one attack (grid item) contributes: per threat model, the single model and every ensemble.</summary>
    public static int RowsPerAttack(AttackExperimentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.ThreatModelList.Count * (1 + settings.BuilderList.Count);
    }

    /// <summary>Runs the comparison (the attacks of <see cref="AttackExperimentSettings.Shard"/> when set).</summary>
    /// <param name="model">The trained SPEC CNN.</param>
    /// <param name="calibration">The training split (calibration batches of the group and shuffle builders).</param>
    /// <param name="test">The test split (images in [0, 1]).</param>
    /// <param name="settings">Ensembles, attacks, threat models, sizes.</param>
    /// <param name="progress">Reported after every attack batch.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static AttackExperimentResult Run(SpecCnn<float> model, ImageDataset calibration, ImageDataset test, AttackExperimentSettings settings,
        IProgress<AttackExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Run(HeadedModel<float>.Of(model), calibration, test, settings, progress, cancellationToken);
    }

    /// <summary>
    /// Runs the comparison on any model of features and a two-layer head (the SPEC CNN, or an imported graph's head); the
    /// attacks differentiate the whole model, features included.
    /// </summary>
    public static AttackExperimentResult Run(HeadedModel<float> model, ImageDataset calibration, ImageDataset test, AttackExperimentSettings settings,
        IProgress<AttackExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        test = EnsembleExperiment.Prepare(model, calibration, test, settings.Validate, settings.TestLimit);
        var clock = Stopwatch.StartNew();

        var trunk = new EnsembleHeads<float>(model, null);
        var ensembles = settings.BuilderList.Select(b => EnsembleBuilder.Build(model, calibration, settings.Options(b), cancellationToken)).ToArray();
        var cleanHidden = EnsembleExperiment.HiddenPreActivations(trunk, test, settings.BatchSize, cancellationToken);
        double singleAccuracy = EnsembleExperiment.Accuracy(EnsembleExperiment.SingleModelPredictions(trunk, cleanHidden), test.Labels);
        var summaries = ensembles.Select(e => new EnsembleSummary(e.Options.Builder, e.Count, e.Rejected, e.Regularised,
            EnsembleAccuracy(e, cleanHidden, test.Labels, settings.Vote),
            e.Count == 0 ? double.NaN : e.Members.Select(m => m.ConditionNumber).Order().ElementAt(e.Count / 2))).ToArray();

        bool transfer = settings.ThreatModelList.Contains(ThreatModel.Transfer), adaptive = settings.ThreatModelList.Contains(ThreatModel.Adaptive);
        int usable = ensembles.Count(e => e.Count > 0);
        var items = Shard.ItemsOf(settings.Shard, GridSize(settings));
        int stages = items.Length * (1 + (adaptive ? usable : 0));
        int stage = 0;
        var rows = new List<AttackAccuracyRow>();
        var singleTarget = AttackTarget<float>.Model(model);
        for (int a = items.Start; a < items.End; a++)
        {
            var attack = settings.AttackList[a];
            double strength = StepsAxis(settings.AttackList, attack.Kind) ? attack.Steps : attack.Epsilon;
            int attackSeed = EnsembleBuilder.StreamSeed(settings.Ensemble.Seed, a, 4);

            // Transfer: one set of examples from the single model, shown to everyone.
            var onSingle = Perturb(singleTarget, test, attack, attackSeed, settings.BatchSize, ++stage, stages, "single model", progress, cancellationToken);
            var hidden = EnsembleExperiment.HiddenPreActivations(trunk, onSingle, settings.BatchSize, cancellationToken);
            double single = EnsembleExperiment.Accuracy(EnsembleExperiment.SingleModelPredictions(trunk, hidden), test.Labels);
            if (transfer)
            {
                rows.Add(new AttackAccuracyRow(ThreatModel.Transfer, attack, strength, null, single));
                foreach (var e in ensembles)
                    rows.Add(new AttackAccuracyRow(ThreatModel.Transfer, attack, strength, e.Options.Builder, EnsembleAccuracy(e, hidden, test.Labels, settings.Vote)));
            }
            if (adaptive)
            {
                rows.Add(new AttackAccuracyRow(ThreatModel.Adaptive, attack, strength, null, single));
                foreach (var e in ensembles)
                {
                    double accuracy = double.NaN;
                    if (e.Count > 0)
                    {
                        var onEnsemble = Perturb(AttackTarget<float>.Ensemble(e, settings.AdaptiveLoss), test, attack, attackSeed, settings.BatchSize, ++stage, stages,
                            $"{EnsembleOptions.Name(e.Options.Builder)} ensemble", progress, cancellationToken);
                        accuracy = EnsembleAccuracy(e, EnsembleExperiment.HiddenPreActivations(trunk, onEnsemble, settings.BatchSize, cancellationToken), test.Labels, settings.Vote);
                    }
                    rows.Add(new AttackAccuracyRow(ThreatModel.Adaptive, attack, strength, e.Options.Builder, accuracy));
                }
            }
        }
        return new AttackExperimentResult(settings, singleAccuracy, test.Count, test.Source, summaries, rows, clock.Elapsed.TotalSeconds);
    }

    /// <summary>True when every attack of <paramref name="kind"/> in the grid has the same ε and there are several step counts.</summary>
    internal static bool StepsAxis(IReadOnlyList<LinfAttack> attacks, AttackKind kind)
    {
        var same = attacks.Where(a => a.Kind == kind).ToArray();
        return kind == AttackKind.Pgd && same.Length > 1 && same.All(a => a.Epsilon == same[0].Epsilon) && same.Select(a => a.Steps).Distinct().Count() > 1;
    }

    private static double EnsembleAccuracy(Ensemble<float> ensemble, Tensor<float> hidden, int[] labels, EnsembleVote vote) =>
        ensemble.Count == 0 ? double.NaN : EnsembleExperiment.Accuracy(ensemble.PredictFromHidden(hidden, vote), labels);

    private static ImageDataset Perturb(AttackTarget<float> target, ImageDataset test, LinfAttack attack, int seed, int batchSize, int stage, int stages,
        string on, IProgress<AttackExperimentProgress>? progress, CancellationToken cancellationToken)
    {
        string label = $"{attack.Label} on {on}";
        var inner = progress is null ? null : new InlineProgress<AttackProgress>(p => progress.Report(new AttackExperimentProgress(label, stage, stages, p.Done, p.Total)));
        return LinfAttacks.Perturb(target, test, attack, seed, batchSize, inner, cancellationToken);
    }

    /// <summary>The paper's Fig. 10 statements against this run (transfer rows, as in the paper; adaptive rows reported).</summary>
    public static Claim[] Claims(AttackExperimentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var claims = new List<Claim>();
        string setting = string.Create(CultureInfo.InvariantCulture,
            $"transfer threat model (the paper's), ε_g = {G(result.Settings.Ensemble.Epsilon, 4)}, N = {result.Settings.Ensemble.Members}, {result.TestCount} test images");
        var fgsm = result.Attacks(ThreatModel.Transfer, AttackKind.Fgsm);
        var pgd = result.Attacks(ThreatModel.Transfer, AttackKind.Pgd);
        bool hasGroup = result.Settings.BuilderList.Contains(EnsembleBuilderKind.Group);
        string Strength(LinfAttack a) => result.StrengthAxis(a.Kind) == "steps" ? Steps(a.Steps) : "ε=" + Radius(a.Epsilon);

        if (hasGroup && fgsm.Length > 0)
        {
            var pairs = result.GroupVersus(fgsm, "single");
            int better = pairs.Count(p => p.Group > p.Other);
            claims.Add(EnsembleClaims.FgsmGroupImproves.Make(pairs.Select(p => new[] { p.Group, p.Other }).ToArray(),
                $"group > single at {better} of {pairs.Length}; " + string.Join(", ", pairs.Select(p => $"{Strength(p.Attack)}: {Pct(p.Group)} vs {Pct(p.Other)}")), setting));

            foreach (var baseline in new[] { EnsembleBuilderKind.Random, EnsembleBuilderKind.GroupInverse, EnsembleBuilderKind.Shuffle, EnsembleBuilderKind.PermutationInterpolation })
            {
                if (!result.Settings.BuilderList.Contains(baseline)) continue;
                string name = EnsembleOptions.Name(baseline);
                // Strengths where the baseline was not attacked are left out (as before); a NaN group accuracy fails its part.
                var vs = result.GroupVersus(fgsm, name).Where(p => !double.IsNaN(p.Other)).ToArray();
                if (vs.Length == 0) continue;
                int ahead = vs.Count(p => p.Group > p.Other);
                claims.Add(EnsembleClaims.FgsmGroupVsBaseline.Make(vs.Select(p => new[] { p.Group, p.Other }).ToArray(),
                    $"group > {name} at {ahead} of {vs.Length}; " + string.Join(", ", vs.Select(p => $"{Strength(p.Attack)}: {Pct(p.Group)} vs {Pct(p.Other)}")), setting, idPart: name,
                    statement: $"Under FGSM attacks of various strength the group ensemble consistently performs better than the {name} baseline.",
                    predicted: $"group accuracy > {name} accuracy at every FGSM strength > 0"));
            }
        }
        if (hasGroup && pgd.Length > 0)
        {
            var pairs = result.GroupVersus(pgd, "single");
            var largest = pairs.MaxBy(p => Math.Abs(p.Group - p.Other));
            claims.Add(EnsembleClaims.PgdNoGain.Make(pairs.Select(p => new[] { p.Group, p.Other }).ToArray(),
                $"largest difference group − single {Points(largest.Group - largest.Other)} points ({(largest.Group >= largest.Other ? "a gain" : "a loss")}); " + string.Join(", ", pairs.Select(p => $"{Strength(p.Attack)}: {Pct(p.Group)} vs {Pct(p.Other)}")),
                setting));
        }
        if (hasGroup && result.Settings.ThreatModelList.Contains(ThreatModel.Adaptive))
        {
            var adaptive = result.Attacks(ThreatModel.Adaptive);
            if (adaptive.Length > 0)
                claims.Add(EnsembleClaims.AdaptiveGroupVsSingle.Measure(
                    string.Join(", ", adaptive.Select(a => $"{Kind(a.Kind)} {Strength(a)}: group {Pct(result.Accuracy(ThreatModel.Adaptive, a, "group"))} vs single {Pct(result.Accuracy(ThreatModel.Adaptive, a, "single"))}")),
                    $"adaptive loss: {LossName(result.Settings.AdaptiveLoss)}"));
        }
        var ill = result.Ensembles.Select(e => $"{e.Name}: {e.Members} kept, {e.Rejected} rejected, {e.Regularised} regularised").ToArray();
        claims.Add(EnsembleClaims.AttackIllConditioned.Measure(string.Join("; ", ill)));
        return claims.ToArray();
    }
}

/// <summary>How attacks, threat models and strengths are named in claims, tables and figures of Fig. 10.</summary>
public static class AttackLabels
{
    /// <summary>"transfer" or "adaptive".</summary>
    public static string Threat(ThreatModel t) => t == ThreatModel.Transfer ? "transfer" : "adaptive";

    /// <summary>What the adaptive attack differentiates, in words.</summary>
    public static string LossName(EnsembleAttackLoss l) => l == EnsembleAttackLoss.AveragedLogits ? "cross-entropy of the averaged logits" : "−log mean softmax";

    /// <summary>"FGSM" or "PGD".</summary>
    public static string Kind(AttackKind k) => k == AttackKind.Fgsm ? "FGSM" : "PGD";

    /// <summary>"8/255" when ε is a whole number of 255ths, else "0.003".</summary>
    public static string Radius(double e)
    {
        double k = e * 255;
        return e == 0 ? "0" : Math.Abs(k - Math.Round(k)) < 1e-9 ? $"{Math.Round(k).ToString(CultureInfo.InvariantCulture)}/255" : G(e, 4);
    }

    /// <summary>"1 step", "3 steps".</summary>
    public static string Steps(int n) => n == 1 ? "1 step" : $"{n.ToString(CultureInfo.InvariantCulture)} steps";
}
