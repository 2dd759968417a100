using Noether.Ensembles;
using static Noether.Experiments.Format;

namespace Noether.Cli.Output;

/// <summary>The files, table and claims of <c>noether ensemble</c> (Fig. 9), also of a result merged from shards.</summary>
internal static class EnsembleWriter
{
    internal static string VoteName(EnsembleVote vote) => vote == EnsembleVote.Mode ? "mode of the members' classes" : "mean softmax";

    internal static string ReadingName(EnsembleExperimentSettings s) => s.Ensemble.Reading == GroupActionReading.Calibrated
        ? "calibrated (π(g, H₀) once per member)"
        : string.Create(CultureInfo.InvariantCulture, $"literal batch-dependent σ'(H) = π(g, H)σ(gH), prediction batch {s.Ensemble.PredictionBatchSize}");

    /// <summary>What every shard computes identically besides its grid points (shard.json's options; merge checks they agree).</summary>
    internal sealed record EnsembleShared(EnsembleModelInfo Model, string Dataset, double SingleAccuracy, int TestCount, string TestSource, string CalibrationSource, int Hidden);

    /// <summary>Rebuilds a merged result: the shards' shared values and every grid point.</summary>
    internal static void WriteMerged(string outDir, string profile, EnsembleExperimentSettings settings, EnsembleShared shared, EnsembleAccuracyRow[] rows, TimeSpan elapsed) =>
        Write(outDir, profile, shared.Model, shared.Dataset,
            new EnsembleExperimentResult(settings, shared.SingleAccuracy, shared.TestCount, shared.TestSource, shared.CalibrationSource, shared.Hidden, rows, elapsed.TotalSeconds), elapsed);

    /// <summary>Writes ensemble.csv, summary.json and the figure of <paramref name="result"/> (also one merged from shards) and prints the table.</summary>
    internal static void Write(string outDir, string profile, EnsembleModelInfo model, string dataset, EnsembleExperimentResult result, TimeSpan elapsed)
    {
        var s = result.Settings;
        var csv = new CsvTable("builder", "epsilon", "accuracy", "accuracy_change", "members", "rejected", "regularised", "mean_member_accuracy",
            "agreement_with_single", "median_condition", "max_condition");
        foreach (var r in result.Rows)
            csv.AddRow(r.Name, r.Epsilon, r.Accuracy, r.AccuracyChange, r.Members, r.Rejected, r.Regularised, r.MeanMemberAccuracy, r.Agreement, r.MedianCondition, r.MaxCondition);
        csv.Save(Path.Combine(outDir, "ensemble.csv"));

        var epsilons = result.Epsilons();
        var perEpsilon = epsilons.Select(e => new
        {
            epsilon = e,
            rejected = result.Rows.Where(r => r.Epsilon == e).Sum(r => r.Rejected),
            regularised = result.Rows.Where(r => r.Epsilon == e).Sum(r => r.Regularised),
            byBuilder = result.Rows.Where(r => r.Epsilon == e).ToDictionary(r => r.Name, r => r.Rejected),
        }).ToArray();

        var claims = EnsembleExperiment.Claims(result);
        const string figure = "ensemble-accuracy.png";
        var figures = new[]
        {
            new FigureRef(figure, "Fig. 9", "Left: test accuracy of each N-member ensemble minus the single model's, against ε (g = I + εM). Right: median condition number of the matrix each member inverts (σ(gH₀) for group/shuffle); members above the limit are rejected and counted. group and shuffle invert the same σ(gH₀), ginv and random report the same g, so their curves coincide."),
        };
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "ensemble",
            profile,
            model = model.Json(result.Hidden, result.SingleAccuracy),
            dataset,
            testImages = result.TestCount,
            testSource = result.TestSource,
            calibrationSource = result.CalibrationSource,
            settings = new
            {
                builders = s.BuilderList.Select(EnsembleOptions.Name),
                epsilons = s.EpsilonList,
                members = s.Ensemble.Members,
                seed = s.Ensemble.Seed,
                groupElement = s.Ensemble.Form == GroupElementForm.IdentityPlus ? "g = I + εM" : "g = exp(εM)",
                generatorStd = s.Ensemble.GeneratorStd ?? 1 / Math.Sqrt(result.Hidden),
                calibrationBatch = s.Ensemble.CalibrationSize ?? result.Hidden,
                vote = s.Vote == EnsembleVote.Mode ? "mode" : "mean-softmax",
                groupReading = s.Ensemble.Reading == GroupActionReading.Calibrated ? "calibrated" : "literal-batch",
                literalBatchSize = s.Ensemble.Reading == GroupActionReading.BatchDependent ? s.Ensemble.PredictionBatchSize : (int?)null,
                conditionLimit = s.Ensemble.ConditionLimit,
                illConditioned = s.Ensemble.Policy == IllConditionedPolicy.Reject ? "reject" : "regularise",
            },
            rows = result.Rows.Select(r => new
            {
                builder = r.Name,
                r.Epsilon,
                accuracy = Nullable(r.Accuracy),
                accuracyChange = Nullable(r.AccuracyChange),
                r.Members,
                r.Rejected,
                r.Regularised,
                meanMemberAccuracy = Nullable(r.MeanMemberAccuracy),
                agreementWithSingle = Nullable(r.Agreement),
                medianCondition = Nullable(r.MedianCondition),
                maxCondition = Nullable(r.MaxCondition),
            }),
            illConditionedPerEpsilon = perEpsilon,
            totalRejected = result.TotalRejected,
            totalRegularised = result.TotalRegularised,
            claims,
            figures,
            wallSeconds = elapsed.TotalSeconds,
            experimentSeconds = result.Seconds,
        });

        EnsembleFigures.Accuracy(result, epsilons, Path.Combine(outDir, figure));

        // A shard holds only some (builder, ε) points: its table shows the builders it ran, "–" where a point is another shard's.
        var builders = s.BuilderList.Where(b => result.Rows.Any(r => r.Builder == b)).Select(EnsembleOptions.Name).ToArray();
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"Fig. 9: ensemble accuracy − single model ({Pct(result.SingleAccuracy)}), percentage points; (rejected members)"))
            .AddColumn(new TableColumn("ε").RightAligned());
        foreach (var b in builders) table.AddColumn(new TableColumn(b).RightAligned());
        table.AddColumn(new TableColumn("rejected").RightAligned());
        foreach (double e in epsilons)
        {
            var cells = new List<string> { G(e, 4) };
            foreach (var b in builders)
            {
                var r = result.Rows.SingleOrDefault(x => x.Name == b && x.Epsilon == e);
                cells.Add(r is null ? "–" : Markup.Escape(Points(r.AccuracyChange) + (r.Rejected > 0 ? $" ({r.Rejected})" : "") + (r.Regularised > 0 ? $" [{r.Regularised} reg.]" : "")));
            }
            cells.Add(result.Rows.Where(x => x.Epsilon == e).Sum(x => x.Rejected).ToString(CultureInfo.InvariantCulture));
            table.AddRow(cells.ToArray());
        }
        table.Caption(Markup.Escape($"N = {s.Ensemble.Members}, vote {VoteName(s.Vote)}, {result.TestCount} test images, model: {model.Origin}"));
        ExperimentConsole.Write(table);
        foreach (var c in claims) ExperimentConsole.Line($"{c.Verdict}: {c.Statement} — {c.Measured}");
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"wall {elapsed.TotalSeconds:F1} s; wrote ensemble.csv, {figure}, summary.json{(model.Saved ? ", " + SpecCnnSource.CacheFile : "")} to {outDir}"));
    }

    private static double? Nullable(double v) => double.IsFinite(v) ? v : null;

}
