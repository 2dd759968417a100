using Noether.Attacks;
using Noether.Ensembles;
using static Noether.Experiments.Format;
using static Noether.Experiments.AttackLabels;

namespace Noether.Cli.Output;

/// <summary>The files, table and claims of <c>noether attack</c> (Fig. 10), also of a result merged from shards; the labels of attacks.</summary>
internal static class AttackWriter
{
    /// <summary>What every shard computes identically besides its attacks (shard.json's options; merge checks they agree).</summary>
    /// <param name="Grid">The attack grid's name (output only).</param>
    /// <param name="Model">What summary.json says about the model.</param>
    /// <param name="Hidden">The model's hidden width h.</param>
    /// <param name="Dataset">The data set's name.</param>
    /// <param name="SingleAccuracy">The single model's clean test accuracy.</param>
    /// <param name="TestCount">Test images used.</param>
    /// <param name="TestSource">Where they came from.</param>
    /// <param name="Ensembles">The ensembles (built from the seed in every shard) and their clean accuracies.</param>
    internal sealed record AttackShared(string Grid, EnsembleModelInfo Model, int Hidden, string Dataset, double SingleAccuracy, int TestCount,
        string TestSource, EnsembleSummary[] Ensembles);

    /// <summary>Rebuilds a merged result from the shards' shared values and every attack's rows (one array per grid item) and writes it.</summary>
    internal static void WriteMerged(string outDir, string profile, AttackExperimentSettings settings, AttackShared shared, AttackAccuracyRow[][] items, TimeSpan elapsed) =>
        Write(outDir, profile, shared.Grid, shared.Model, shared.Hidden, shared.Dataset,
            new AttackExperimentResult(settings, shared.SingleAccuracy, shared.TestCount, shared.TestSource, shared.Ensembles, [.. items.SelectMany(r => r)], elapsed.TotalSeconds),
            elapsed);

    internal static string StrengthLabel(AttackExperimentResult result, AttackAccuracyRow r) =>
        result.StrengthAxis(r.Attack.Kind) == "steps" ? Steps(r.Attack.Steps) : Radius(r.Attack.Epsilon);

    /// <summary>Writes attack.csv, summary.json and the figure of <paramref name="result"/> (also one merged from shards) and prints the table.</summary>
    internal static void Write(string outDir, string profile, string grid, EnsembleModelInfo model, int hidden, string dataset, AttackExperimentResult result, TimeSpan elapsed)
    {
        var s = result.Settings;
        var csv = new CsvTable("threat_model", "attack", "epsilon", "step_size", "steps", "random_start", "strength", "strength_axis", "model", "accuracy");
        foreach (var r in result.Rows)
            csv.AddRow(r.ThreatName, Kind(r.Attack.Kind), r.Attack.Epsilon, r.Attack.StepSize, r.Attack.Steps, r.Attack.RandomStart, r.Strength,
                result.StrengthAxis(r.Attack.Kind), r.Model, r.Accuracy);
        csv.Save(Path.Combine(outDir, "attack.csv"));

        var claims = AttackExperiment.Claims(result);
        const string figure = "attack-accuracy.png";
        var figures = new[]
        {
            new FigureRef(figure, "Fig. 10", "Test accuracy against attack strength for the single model (black) and each ensemble: FGSM and PGD, under the transfer threat model (examples computed on the single model, the paper's setting) and the adaptive one (gradients through each ensemble)."),
        };
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "attack",
            profile,
            model = model.Json(hidden, result.SingleAccuracy),
            dataset,
            testImages = result.TestCount,
            testSource = result.TestSource,
            settings = new
            {
                grid,
                attacks = s.AttackList.Select(a => new { kind = Kind(a.Kind), a.Epsilon, a.StepSize, a.Steps, a.RandomStart, label = a.Label }),
                threatModels = s.ThreatModelList.Select(Threat),
                adaptiveLoss = s.AdaptiveLoss == EnsembleAttackLoss.AveragedLogits ? "averaged-logits" : "mean-softmax",
                builders = s.BuilderList.Select(EnsembleOptions.Name),
                ensembleEpsilon = s.Ensemble.Epsilon,
                members = s.Ensemble.Members,
                vote = s.Vote == EnsembleVote.Mode ? "mode" : "mean-softmax",
                calibrationBatch = s.Ensemble.CalibrationSize ?? hidden,
                conditionLimit = s.Ensemble.ConditionLimit,
                illConditioned = s.Ensemble.Policy == IllConditionedPolicy.Reject ? "reject" : "regularise",
                seed = s.Ensemble.Seed,
                pixelRange = "[0, 1], perturbed once and clipped once per step",
            },
            ensembles = result.Ensembles.Select(e => new
            {
                builder = e.Name,
                e.Members,
                e.Rejected,
                e.Regularised,
                cleanAccuracy = double.IsFinite(e.CleanAccuracy) ? e.CleanAccuracy : (double?)null,
                medianCondition = double.IsFinite(e.MedianCondition) ? e.MedianCondition : (double?)null,
            }),
            rows = result.Rows.Select(r => new
            {
                threatModel = r.ThreatName,
                attack = Kind(r.Attack.Kind),
                epsilon = r.Attack.Epsilon,
                stepSize = r.Attack.StepSize,
                steps = r.Attack.Steps,
                randomStart = r.Attack.RandomStart,
                strength = r.Strength,
                strengthAxis = result.StrengthAxis(r.Attack.Kind),
                model = r.Model,
                accuracy = double.IsFinite(r.Accuracy) ? r.Accuracy : (double?)null,
            }),
            claims,
            figures,
            wallSeconds = elapsed.TotalSeconds,
            experimentSeconds = result.Seconds,
        });

        AttackFigures.Accuracy(result, Path.Combine(outDir, figure));

        var names = new[] { "single" }.Concat(s.BuilderList.Select(EnsembleOptions.Name)).ToArray();
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"Fig. 10: accuracy under attack ({result.TestCount} test images; clean: single {Pct(result.SingleAccuracy)}, " +
                string.Join(", ", result.Ensembles.Select(e => $"{e.Name} {Pct(e.CleanAccuracy)}")) + ")"))
            .AddColumn("threat model").AddColumn("attack").AddColumn(new TableColumn("strength").RightAligned());
        foreach (var n in names) table.AddColumn(new TableColumn(n).RightAligned());
        foreach (var group in result.Rows.GroupBy(r => (r.Threat, r.Attack)))
        {
            var first = group.First();
            var cells = new List<string> { first.ThreatName, Markup.Escape(Kind(first.Attack.Kind) + (first.Attack.Kind == AttackKind.Pgd ? $"-{first.Attack.Steps}" : "")), Markup.Escape(StrengthLabel(result, first)) };
            foreach (var n in names) cells.Add(Pct(group.FirstOrDefault(r => r.Model == n)?.Accuracy ?? double.NaN));
            table.AddRow(cells.ToArray());
        }
        string rejected = string.Join(", ", result.Ensembles.Where(e => e.Rejected + e.Regularised > 0).Select(e => $"{e.Name}: {e.Rejected} rejected, {e.Regularised} regularised"));
        table.Caption(Markup.Escape($"ensembles at ε_g = {G(s.Ensemble.Epsilon, 4)}, N = {s.Ensemble.Members}, vote {EnsembleWriter.VoteName(s.Vote)}; transfer = examples from the single model{(s.ThreatModelList.Contains(ThreatModel.Adaptive) ? $"; adaptive = {LossName(s.AdaptiveLoss)} of each ensemble" : "")}; ill-conditioned members: {(rejected.Length == 0 ? "none" : rejected)}; model: {model.Origin}"));
        ExperimentConsole.Write(table);
        foreach (var c in claims) ExperimentConsole.Line($"{c.Verdict}: {c.Statement} — {c.Measured}");
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"wall {elapsed.TotalSeconds:F1} s; wrote attack.csv, {figure}, summary.json{(model.Saved ? ", " + SpecCnnSource.CacheFile : "")} to {outDir}"));
    }

}
