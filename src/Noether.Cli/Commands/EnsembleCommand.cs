using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Ensembles;
using Noether.Experiments;
using Noether.Serialization;
using ScottPlot;
using Spectre.Console;
using static Noether.Cli.Commands.EnsembleCommandOptions;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether ensemble</c>: Fig. 9 (Appendix H). Ensembles of one trained SPEC CNN made by transforming its last two
/// linear layers — group (the nonlinear action, π(g, H₀) on a calibration batch), g⁻¹, random, shuffle, perm-interp —
/// and their test accuracy change against ε, with the members rejected as ill-conditioned counted per ε.
/// </summary>
internal static class EnsembleCommand
{
    /// <summary>The command's default ε grid: the library's plus ε = 20, where the authors' runs produced NaN losses.</summary>
    public static readonly double[] DefaultEpsilons = [0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 20];

    /// <summary>Profile settings: quick (seconds), default (about a minute on 2 cores), full (10 training epochs and 200 members, the authors' count).</summary>
    public static (CnnTrainingSettings Training, EnsembleExperimentSettings Experiment) ForProfile(string profile, string dataset, string? dataDir, int seed) => profile switch
    {
        "quick" => (new CnnTrainingSettings(dataset, dataDir, Epochs: 1, Seed: seed, TrainLimit: 10_000),
            new EnsembleExperimentSettings(Epsilons: [0, 0.1, 1, 20], Members: 5, Seed: seed, TestLimit: 1000)),
        "full" => (new CnnTrainingSettings(dataset, dataDir, Epochs: 10, Seed: seed),
            new EnsembleExperimentSettings(Epsilons: DefaultEpsilons, Members: 200, Seed: seed)),
        _ => (new CnnTrainingSettings(dataset, dataDir, Epochs: 5, Seed: seed),
            new EnsembleExperimentSettings(Epsilons: DefaultEpsilons, Members: 10, Seed: seed)),
    };

    public static Command Create()
    {
        var profile = Profile("quick (1 epoch on 10k images, 5 members, 1000 test images: seconds), default (5 epochs, 10 members, all test images: about a minute) or full (10 epochs, 200 members).");
        var weights = ModelSource.Weights();
        var data = ModelSource.Data();
        var dataDir = ModelSource.DataDir();
        var slope = ModelSource.Slope();
        var builders = Builders();
        var epsilons = NonNegativeList("--epsilons", "ε grid (g = I + εM, ‖M‖₂ ≈ 2), comma-separated, each ≥ 0 (default 0,0.01,0.03,0.1,0.3,1,3,10,20; quick 0,0.1,1,20).");
        var members = Members();
        var meanSoftmax = MeanSoftmax();
        var literal = new Option<bool>("--literal-batch")
        {
            Description = "Group builder: the paper's literal reading σ'(H) = π(g, H)σ(gH) on each prediction batch (outputs depend on the batch size, see --literal-batch-size) instead of π computed once on a calibration batch.",
        };
        var literalSize = CommonOptions.PositiveInt("--literal-batch-size", "Prediction batch size of --literal-batch (reported with the results).", 128);
        var calibration = CalibrationSize();
        var conditionLimit = ConditionLimit();
        var regularise = Regularise();
        var testLimit = TestLimit();
        var seed = CommonOptions.Seed();
        var shard = CommonOptions.Shard();
        var output = CommonOptions.Out("results/ensemble");
        var force = CommonOptions.Force();

        var command = new Command("ensemble", "Fig. 9: ensembles from one trained CNN (group, ginv, random, shuffle, perm-interp): test accuracy change against ε, members rejected as ill-conditioned per ε.")
        {
            profile, weights, data, dataDir, slope, builders, epsilons, members, meanSoftmax, literal, literalSize, calibration, conditionLimit, regularise, testLimit, seed, shard, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            string profileName = parse.GetValue(profile)!;
            var (training, settings) = ForProfile(profileName, parse.GetValue(data)!, parse.GetValue(dataDir), parse.GetValue(seed));
            settings = settings with
            {
                Builders = ParseBuilders(parse.GetValue(builders)) ?? settings.Builders,
                Epsilons = parse.GetValue(epsilons) is { Length: > 0 } e ? e : settings.Epsilons,
                Members = parse.GetValue(members) ?? settings.Members,
                Vote = parse.GetValue(meanSoftmax) ? EnsembleVote.MeanSoftmax : EnsembleVote.Mode,
                GroupReading = parse.GetValue(literal) ? GroupActionReading.BatchDependent : GroupActionReading.Calibrated,
                PredictionBatchSize = parse.GetValue(literalSize),
                CalibrationSize = parse.GetValue(calibration),
                ConditionLimit = parse.GetValue(conditionLimit),
                Policy = parse.GetValue(regularise) ? IllConditionedPolicy.Regularise : IllConditionedPolicy.Reject,
                TestLimit = parse.GetValue(testLimit) ?? settings.TestLimit,
                Shard = parse.GetValue(shard),
            };
            string? weightsPath = parse.GetValue(weights);

            // Everything that can be rejected is checked before the output folder is touched.
            var (train, test, fromWeights, hidden) = ModelSource.Prepare(training, weightsPath, parse.GetValue(slope));
            settings.Validate(hidden);
            if (settings.Shard is { } asked) asked.ItemsOf(EnsembleExperiment.GridSize(settings)); // more shards than points: refused before training

            string outDir = ExperimentConsole.PrepareOutput(parse.GetValue(output)!, parse.GetValue(force), out bool created);
            return Task.FromResult(ExperimentConsole.WithOutput(outDir, created, () =>
            {
                var clock = Stopwatch.StartNew();
                var model = ModelSource.Resolve(fromWeights, weightsPath, outDir, training, train, test, token);
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Fig. 9 ensembles, profile {profileName}: builders {string.Join(", ", settings.BuilderList.Select(EnsembleOptions.Name))}; ε ∈ {{{string.Join(", ", settings.EpsilonList.Select(G))}}}; N = {settings.Members}; vote {VoteName(settings.Vote)}; group reading {ReadingName(settings)}; calibration batch k = {settings.CalibrationSize ?? hidden} (h = {hidden}); condition limit {settings.ConditionLimit:G3} ({(settings.Policy == IllConditionedPolicy.Reject ? "reject" : "regularise")}); seed {settings.Seed}"));
                var result = ExperimentConsole.Run("ensembles", (p, t) => EnsembleExperiment.Run(model.Model, train, test, settings,
                    new InlineProgress<EnsembleExperimentProgress>(q => p.Report(new ExperimentProgress(
                        $"{q.Last.Name} ε={G(q.Last.Epsilon)}", q.Done, q.Total))), t), token);
                if (model.NeedsSaving) ModelSource.Save(outDir, model.Model, model.Training!);
                var info = ModelInfo.Of(model);
                Write(outDir, profileName, info, training.Dataset, result, clock.Elapsed);
                if (settings.Shard is { } part)
                    ShardOutput.Complete(outDir, "ensemble", profileName, part, EnsembleExperiment.GridSize(settings), settings,
                        // A shard rerun on its cached model has the model every other shard trained: "trained" for all.
                        new EnsembleShared(info with { Saved = false, Origin = model.Training is null ? info.Origin : "trained" }, training.Dataset, result.SingleAccuracy, result.TestCount, result.TestSource, result.CalibrationSource, result.Hidden),
                        result.Rows, ["ensemble.csv"], clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    internal static string VoteName(EnsembleVote vote) => vote == EnsembleVote.Mode ? "mode of the members' classes" : "mean softmax";

    private static string ReadingName(EnsembleExperimentSettings s) => s.GroupReading == GroupActionReading.Calibrated
        ? "calibrated (π(g, H₀) once per member)"
        : string.Create(CultureInfo.InvariantCulture, $"literal batch-dependent σ'(H) = π(g, H)σ(gH), prediction batch {s.PredictionBatchSize}");

    /// <summary>What summary.json says about the model.</summary>
    /// <param name="Origin">"trained", "cached FILE" or "weights FILE" (<see cref="LoadedModel.Origin"/>).</param>
    /// <param name="Training">The training settings of a trained model.</param>
    /// <param name="Classes">Output classes.</param>
    /// <param name="Saved">model.safetensors was written into the output folder by this run.</param>
    internal sealed record ModelInfo(string Origin, CnnTrainingSettings? Training, int Classes, bool Saved)
    {
        public static ModelInfo Of(LoadedModel model) => new(model.Origin, model.Training, model.Model.Output.OutFeatures, model.NeedsSaving);
    }

    /// <summary>What every shard computes identically besides its grid points (shard.json's options; merge checks they agree).</summary>
    internal sealed record EnsembleShared(ModelInfo Model, string Dataset, double SingleAccuracy, int TestCount, string TestSource, string CalibrationSource, int Hidden);

    /// <summary>Rebuilds a merged result: the shards' shared values and every grid point.</summary>
    internal static void WriteMerged(string outDir, string profile, EnsembleExperimentSettings settings, EnsembleShared shared, EnsembleAccuracyRow[] rows, TimeSpan elapsed) =>
        Write(outDir, profile, shared.Model, shared.Dataset,
            new EnsembleExperimentResult(settings, shared.SingleAccuracy, shared.TestCount, shared.TestSource, shared.CalibrationSource, shared.Hidden, rows, elapsed.TotalSeconds), elapsed);

    /// <summary>Writes ensemble.csv, summary.json and the figure of <paramref name="result"/> (also one merged from shards) and prints the table.</summary>
    internal static void Write(string outDir, string profile, ModelInfo model, string dataset, EnsembleExperimentResult result, TimeSpan elapsed)
    {
        var s = result.Settings;
        var csv = new CsvTable("builder", "epsilon", "accuracy", "accuracy_change", "members", "rejected", "regularised", "mean_member_accuracy",
            "agreement_with_single", "median_condition", "max_condition");
        foreach (var r in result.Rows)
            csv.AddRow(r.Name, r.Epsilon, r.Accuracy, r.AccuracyChange, r.Members, r.Rejected, r.Regularised, r.MeanMemberAccuracy, r.Agreement, r.MedianCondition, r.MaxCondition);
        csv.Save(Path.Combine(outDir, "ensemble.csv"));

        var epsilons = result.Rows.Select(r => r.Epsilon).Distinct().Order().ToArray();
        var perEpsilon = epsilons.Select(e => new
        {
            epsilon = e,
            rejected = result.Rows.Where(r => r.Epsilon == e).Sum(r => r.Rejected),
            regularised = result.Rows.Where(r => r.Epsilon == e).Sum(r => r.Regularised),
            byBuilder = result.Rows.Where(r => r.Epsilon == e).ToDictionary(r => r.Name, r => r.Rejected),
        }).ToArray();

        var claims = Claims(result);
        const string figure = "ensemble-accuracy.png";
        var figures = new[]
        {
            new FigureRef(figure, "Fig. 9", "Left: test accuracy of each N-member ensemble minus the single model's, against ε (g = I + εM). Right: median condition number of the matrix each member inverts (σ(gH₀) for group/shuffle); members above the limit are rejected and counted. group and shuffle invert the same σ(gH₀), ginv and random report the same g, so their curves coincide."),
        };
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "ensemble",
            profile,
            model = new
            {
                origin = model.Origin,
                training = model.Training,
                hidden = result.Hidden,
                classes = model.Classes,
                singleAccuracy = result.SingleAccuracy,
            },
            dataset,
            testImages = result.TestCount,
            testSource = result.TestSource,
            calibrationSource = result.CalibrationSource,
            settings = new
            {
                builders = s.BuilderList.Select(EnsembleOptions.Name),
                epsilons = s.EpsilonList,
                members = s.Members,
                seed = s.Seed,
                groupElement = s.Form == GroupElementForm.IdentityPlus ? "g = I + εM" : "g = exp(εM)",
                generatorStd = s.GeneratorStd ?? 1 / Math.Sqrt(result.Hidden),
                calibrationBatch = s.CalibrationSize ?? result.Hidden,
                vote = s.Vote == EnsembleVote.Mode ? "mode" : "mean-softmax",
                groupReading = s.GroupReading == GroupActionReading.Calibrated ? "calibrated" : "literal-batch",
                literalBatchSize = s.GroupReading == GroupActionReading.BatchDependent ? s.PredictionBatchSize : (int?)null,
                conditionLimit = s.ConditionLimit,
                illConditioned = s.Policy == IllConditionedPolicy.Reject ? "reject" : "regularise",
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

        DrawFigure(result, epsilons, Path.Combine(outDir, figure));

        // A shard holds only some (builder, ε) points: its table shows the builders it ran, "–" where a point is another shard's.
        var builders = s.BuilderList.Where(b => result.Rows.Any(r => r.Builder == b)).Select(EnsembleOptions.Name).ToArray();
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"Fig. 9: ensemble accuracy − single model ({Pct(result.SingleAccuracy)}), percentage points; (rejected members)"))
            .AddColumn(new TableColumn("ε").RightAligned());
        foreach (var b in builders) table.AddColumn(new TableColumn(b).RightAligned());
        table.AddColumn(new TableColumn("rejected").RightAligned());
        foreach (double e in epsilons)
        {
            var cells = new List<string> { G(e) };
            foreach (var b in builders)
            {
                var r = result.Rows.SingleOrDefault(x => x.Name == b && x.Epsilon == e);
                cells.Add(r is null ? "–" : Markup.Escape(Points(r.AccuracyChange) + (r.Rejected > 0 ? $" ({r.Rejected})" : "") + (r.Regularised > 0 ? $" [{r.Regularised} reg.]" : "")));
            }
            cells.Add(result.Rows.Where(x => x.Epsilon == e).Sum(x => x.Rejected).ToString(CultureInfo.InvariantCulture));
            table.AddRow(cells.ToArray());
        }
        table.Caption(Markup.Escape($"N = {s.Members}, vote {VoteName(s.Vote)}, {result.TestCount} test images, model: {model.Origin}"));
        ExperimentConsole.Write(table);
        foreach (var c in claims) ExperimentConsole.Line($"{c.Verdict}: {c.Statement} — {c.Measured}");
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"wall {elapsed.TotalSeconds:F1} s; wrote ensemble.csv, {figure}, summary.json{(model.Saved ? ", " + ModelSource.CacheFile : "")} to {outDir}"));
    }

    private static double? Nullable(double v) => double.IsFinite(v) ? v : null;

    /// <summary>The paper's Fig. 9 statements against this run.</summary>
    internal static Claim[] Claims(EnsembleExperimentResult result)
    {
        var claims = new List<Claim>();
        var rows = result.Rows;
        EnsembleAccuracyRow? Row(EnsembleBuilderKind b, double e) => rows.FirstOrDefault(r => r.Builder == b && r.Epsilon == e);
        var positive = rows.Select(r => r.Epsilon).Where(e => e > 0).Distinct().Order().ToArray();
        bool hasGroup = rows.Any(r => r.Builder == EnsembleBuilderKind.Group);
        string setting = string.Create(CultureInfo.InvariantCulture, $"N = {result.Settings.Members}, {result.TestCount} test images, single model {Pct(result.SingleAccuracy)}");

        // 1. Small ε keeps the accuracy.
        var small = positive.Where(e => e <= EnsembleClaims.SmallEpsilon).ToArray();
        if (hasGroup && small.Length > 0)
        {
            var changes = small.Select(e => (e, d: Row(EnsembleBuilderKind.Group, e)?.AccuracyChange ?? double.NaN)).ToArray();
            claims.Add(EnsembleClaims.GroupPreservesAccuracy.Make(changes.Select(c => new[] { c.d }).ToArray(),
                string.Join(", ", changes.Select(c => $"ε={G(c.e)}: {Points(c.d)}")), setting));
        }

        // 2. Group ahead of random (and of the other baselines) at ε > 0.
        if (hasGroup)
        {
            foreach (var baseline in new[] { EnsembleBuilderKind.Random, EnsembleBuilderKind.GroupInverse, EnsembleBuilderKind.Shuffle, EnsembleBuilderKind.PermutationInterpolation })
            {
                if (!rows.Any(r => r.Builder == baseline) || positive.Length == 0) continue;
                // ε where either ensemble was not built are left out; a NaN accuracy that was measured counts as a failing part.
                var pairs = positive.Where(e => Row(EnsembleBuilderKind.Group, e) is not null && Row(baseline, e) is not null)
                    .Select(e => (e, g: Row(EnsembleBuilderKind.Group, e)!.Accuracy, b: Row(baseline, e)!.Accuracy)).ToArray();
                if (pairs.Length == 0) continue;
                int ahead = pairs.Count(p => p.g >= p.b - EnsembleClaims.TieTolerance);
                string name = EnsembleOptions.Name(baseline);
                claims.Add(EnsembleClaims.GroupVsBaseline.Make(pairs.Select(p => new[] { p.g, p.b }).ToArray(),
                    $"group ≥ {name} − {G(EnsembleClaims.TieTolerance * 100)} point at {ahead} of {pairs.Length} ε > 0; " + string.Join(", ", pairs.Select(p => $"ε={G(p.e)}: {Pct(p.g)} vs {Pct(p.b)}")),
                    setting, idPart: name,
                    statement: baseline == EnsembleBuilderKind.Random
                        ? "The group ensemble keeps accuracy better than the random-transformation ensemble (smaller accuracy drop at larger ε)."
                        : $"The group ensemble keeps accuracy better than the {name} baseline.",
                    predicted: $"group accuracy ≥ {name} accuracy − {G(EnsembleClaims.TieTolerance * 100)} point (tie tolerance) at every ε > 0"));
            }
        }

        // 3. Ill-conditioned π: counted, never NaN.
        var rejectedByEpsilon = rows.GroupBy(r => r.Epsilon).OrderBy(g => g.Key).Select(g => $"ε={G(g.Key)}: {g.Sum(r => r.Rejected)}").ToArray();
        double worst = rows.Where(r => r.Builder is EnsembleBuilderKind.Group or EnsembleBuilderKind.Shuffle && !double.IsNaN(r.MaxCondition)).Select(r => r.MaxCondition).DefaultIfEmpty(double.NaN).Max();
        int nanAccuracies = rows.Count(r => double.IsNaN(r.Accuracy));
        claims.Add(EnsembleClaims.IllConditionedPi.Make([nanAccuracies],
            $"rejected per ε: {string.Join(", ", rejectedByEpsilon)}; regularised {result.TotalRegularised}; largest condition number kept (group/shuffle: σ(gH₀); literal reading: g) {ExperimentConsole.Sci(worst)}; NaN accuracies: {nanAccuracies}",
            string.Create(CultureInfo.InvariantCulture, $"members with condition number > {result.Settings.ConditionLimit:G3} or non-finite weights are {(result.Settings.Policy == IllConditionedPolicy.Reject ? "rejected" : "regularised")}")));
        return claims.ToArray();
    }

    private static void DrawFigure(EnsembleExperimentResult result, double[] epsilons, string path)
    {
        var positions = epsilons.Select((_, i) => (double)i).ToArray();
        var labels = epsilons.Select(G).ToArray();
        var builders = result.Settings.BuilderList.Where(b => result.Rows.Any(r => r.Builder == b)).ToArray(); // a shard's builders

        var accuracy = Figure.Create($"Fig. 9: accuracy change (single model {Pct(result.SingleAccuracy)})", "ε  (g = I + εM)", "ensemble − single model (points)");
        var condition = Figure.Create("Condition number of the inverted matrix", "ε  (g = I + εM)", "log10 median condition number");
        for (int b = 0; b < builders.Length; b++)
        {
            // A shard may lack some of a builder's ε: those positions get NaN and are left out by Finite.
            var mine = epsilons.Select(e => result.Rows.SingleOrDefault(r => r.Builder == builders[b] && r.Epsilon == e)
                ?? new EnsembleAccuracyRow(builders[b], e, double.NaN, double.NaN, 0, 0, 0, double.NaN, double.NaN, double.NaN, double.NaN)).ToArray();
            var color = Panels.Palette[(int)builders[b] % Panels.Palette.Length]; // same colour per builder in every figure
            string name = EnsembleOptions.Name(builders[b]);
            var (xs, ys) = Finite(positions, mine.Select(r => r.AccuracyChange * 100).ToArray());
            var line = accuracy.Add.Scatter(xs, ys, color);
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 6;
            var (cx, cy) = Finite(positions, mine.Select(r => r.MedianCondition > 0 ? Math.Log10(r.MedianCondition) : double.NaN).ToArray());
            var c = condition.Add.Scatter(cx, cy, color);
            c.LegendText = name;
            c.LineWidth = 2;
            c.MarkerSize = 6;
        }
        accuracy.Add.HorizontalLine(0, 1, Colors.Gray, LinePattern.Dashed);
        condition.Add.HorizontalLine(Math.Log10(result.Settings.ConditionLimit), 1, Colors.Red, LinePattern.Dashed).LegendText = "rejection limit";
        foreach (var p in new[] { accuracy, condition })
        {
            p.Axes.Bottom.SetTicks(positions, labels);
            p.ShowLegend(Edge.Right); // outside: the curves span the whole panel
        }
        Panels.Save([accuracy, condition], 2, path, 760, 440);
    }

    private static (double[] X, double[] Y) Finite(double[] x, double[] y)
    {
        var keep = Enumerable.Range(0, x.Length).Where(i => double.IsFinite(y[i])).ToArray();
        return (keep.Select(i => x[i]).ToArray(), keep.Select(i => y[i]).ToArray());
    }
}
