using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Attacks;
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
/// <c>noether attack</c>: Fig. 10 (Appendix H). Accuracy of the single model and of each ensemble under L∞ FGSM and PGD
/// against attack strength, under the transfer threat model (examples from the single model, the paper's setting) and
/// the adaptive one (gradients through each ensemble), always labelled.
/// </summary>
internal static class AttackCommand
{
    /// <summary>Profile settings: quick (seconds), default (about a minute on 2 cores), full (the authors' ε_g = 10, 200 members, their grids).</summary>
    public static (CnnTrainingSettings Training, AttackExperimentSettings Experiment) ForProfile(string profile, string dataset, string? dataDir, int seed) => profile switch
    {
        "quick" => (new CnnTrainingSettings(dataset, dataDir, Epochs: 1, Seed: seed, TrainLimit: 10_000),
            new AttackExperimentSettings(Members: 5, Seed: seed, Attacks: AttackPresets.Quick, TestLimit: 500)),
        "full" => (new CnnTrainingSettings(dataset, dataDir, Epochs: 10, Seed: seed),
            new AttackExperimentSettings(EnsembleEpsilon: 10, Members: 200, Seed: seed, Attacks: AttackPresets.Paper)),
        _ => (new CnnTrainingSettings(dataset, dataDir, Epochs: 5, Seed: seed),
            new AttackExperimentSettings(Members: 10, Seed: seed, Attacks: AttackPresets.Default, TestLimit: 2000)),
    };

    public static Command Create()
    {
        var profile = Profile("quick (1 epoch on 10k images, 5 members, 500 test images: seconds), default (5 epochs, 10 members, ε ∈ {0,1,2,4,8}/255, 2000 test images: about a minute) or full (10 epochs, ε_g = 10 with 200 members, the paper's grids, all test images).");
        var weights = ModelSource.Weights();
        var data = ModelSource.Data();
        var dataDir = ModelSource.DataDir();
        var slope = ModelSource.Slope();
        var preset = new Option<string?>("--preset") { Description = "Attack grid: default (FGSM and PGD-10 at ε ∈ {0,1,2,4,8}/255, α = ε/4, random start), paper (FGSM ε ∈ {0,.003,.006,.009,.012}; PGD ε = 0.3, α = 0.01, random start, 0–3 steps) or quick. Default: the profile's." };
        preset.AcceptOnlyFromAmong("default", "paper", "quick");
        var epsilons = NonNegativeList("--epsilons", "Attack radii ε (pixels in [0, 1]; 8/255 accepted): FGSM and PGD at each; overrides the preset.");
        var pgdStep = NonNegative("--pgd-step", "PGD step α with --epsilons (default ε/4: 2/255 at ε = 8/255).");
        var pgdSteps = CommonOptions.PositiveInt("--pgd-steps", "PGD steps with --epsilons.", LinfAttack.DefaultSteps);
        var noRandomStart = new Option<bool>("--no-random-start") { Description = "PGD with --epsilons starts at the clean image instead of a uniform point of the ε-ball." };
        var threat = new Option<string>("--threat") { Description = "transfer (examples from the single model, the paper's setting), adaptive (gradients through each ensemble) or both.", DefaultValueFactory = _ => "both" };
        threat.AcceptOnlyFromAmong("transfer", "adaptive", "both");
        var adaptiveLoss = new Option<string>("--adaptive-loss") { Description = "What the adaptive attack differentiates: logits (cross-entropy of the averaged logits) or mean-softmax (−log of the mean softmax; stronger against mode-voting ensembles).", DefaultValueFactory = _ => "logits" };
        adaptiveLoss.AcceptOnlyFromAmong("logits", "mean-softmax");
        var builders = Builders();
        var ensembleEpsilon = NonNegative("--ensemble-epsilon", "ε_g of every ensemble (g = I + ε_g M; default 0.3, full profile 10).");
        var members = Members();
        var meanSoftmax = MeanSoftmax();
        var calibration = CalibrationSize();
        var conditionLimit = ConditionLimit();
        var regularise = Regularise();
        var testLimit = TestLimit();
        var seed = CommonOptions.Seed();
        var shard = CommonOptions.Shard();
        var output = CommonOptions.Out("results/attack");
        var force = CommonOptions.Force();

        var command = new Command("attack", "Fig. 10: FGSM and PGD (L∞) accuracy against attack strength for the single model and each ensemble, transfer and adaptive threat models.")
        {
            profile, weights, data, dataDir, slope, preset, epsilons, pgdStep, pgdSteps, noRandomStart, threat, adaptiveLoss, builders, ensembleEpsilon, members,
            meanSoftmax, calibration, conditionLimit, regularise, testLimit, seed, shard, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            string profileName = parse.GetValue(profile)!;
            var (training, settings) = ForProfile(profileName, parse.GetValue(data)!, parse.GetValue(dataDir), parse.GetValue(seed));
            IReadOnlyList<LinfAttack> attacks = parse.GetValue(preset) is { } name ? AttackPresets.ByName(name) : settings.AttackList;
            string grid = parse.GetValue(preset) ?? (profileName == "full" ? "paper" : profileName == "quick" ? "quick" : "default");
            if (parse.GetValue(epsilons) is { Length: > 0 } radii)
            {
                double? alpha = parse.GetValue(pgdStep);
                int steps = parse.GetValue(pgdSteps);
                bool start = !parse.GetValue(noRandomStart);
                attacks = [.. radii.Select(LinfAttack.Fgsm), .. radii.Select(e => LinfAttack.Pgd(e, alpha ?? e / 4, steps, start))];
                grid = "custom";
            }
            string threatName = parse.GetValue(threat)!;
            settings = settings with
            {
                Attacks = attacks,
                ThreatModels = threatName switch { "transfer" => [ThreatModel.Transfer], "adaptive" => [ThreatModel.Adaptive], _ => [ThreatModel.Transfer, ThreatModel.Adaptive] },
                AdaptiveLoss = parse.GetValue(adaptiveLoss) == "mean-softmax" ? EnsembleAttackLoss.AveragedProbabilities : EnsembleAttackLoss.AveragedLogits,
                Builders = ParseBuilders(parse.GetValue(builders)) ?? settings.Builders,
                EnsembleEpsilon = parse.GetValue(ensembleEpsilon) ?? settings.EnsembleEpsilon,
                Members = parse.GetValue(members) ?? settings.Members,
                Vote = parse.GetValue(meanSoftmax) ? EnsembleVote.MeanSoftmax : EnsembleVote.Mode,
                CalibrationSize = parse.GetValue(calibration),
                ConditionLimit = parse.GetValue(conditionLimit),
                Policy = parse.GetValue(regularise) ? IllConditionedPolicy.Regularise : IllConditionedPolicy.Reject,
                TestLimit = parse.GetValue(testLimit) ?? settings.TestLimit,
                Shard = parse.GetValue(shard),
            };
            string? weightsPath = parse.GetValue(weights);

            var (train, test, fromWeights, hidden) = ModelSource.Prepare(training, weightsPath, parse.GetValue(slope));
            settings.Validate(hidden);
            if (settings.Shard is { } asked) asked.ItemsOf(AttackExperiment.GridSize(settings)); // more shards than attacks: refused before training

            string outDir = ExperimentConsole.PrepareOutput(parse.GetValue(output)!, parse.GetValue(force), out bool created);
            return Task.FromResult(ExperimentConsole.WithOutput(outDir, created, () =>
            {
                var clock = Stopwatch.StartNew();
                var model = ModelSource.Resolve(fromWeights, weightsPath, outDir, training, train, test, token);
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Fig. 10 attacks, profile {profileName}, grid {grid}: {string.Join("; ", settings.AttackList.Select(a => a.Label))}; threat models {string.Join(" + ", settings.ThreatModelList.Select(Threat))}{(settings.ThreatModelList.Contains(ThreatModel.Adaptive) ? $" (adaptive loss: {LossName(settings.AdaptiveLoss)})" : "")}; ensembles {string.Join(", ", settings.BuilderList.Select(EnsembleOptions.Name))} at ε_g = {G(settings.EnsembleEpsilon)}, N = {settings.Members}, vote {EnsembleCommand.VoteName(settings.Vote)}; seed {settings.Seed}"));
                var result = ExperimentConsole.Run("attacks", (p, t) => AttackExperiment.Run(model.Model, train, test, settings,
                    new InlineProgress<AttackExperimentProgress>(q => p.Report(new ExperimentProgress(q.Stage,
                        (long)(q.StageIndex - 1) * q.Total + q.Done, (long)q.Stages * q.Total))), t), token);
                if (model.NeedsSaving) ModelSource.Save(outDir, model.Model, model.Training!);
                var info = EnsembleCommand.ModelInfo.Of(model);
                int width = model.Model.Hidden.OutFeatures;
                Write(outDir, profileName, grid, info, width, training.Dataset, result, clock.Elapsed);
                if (settings.Shard is { } part)
                    ShardOutput.Complete(outDir, "attack", profileName, part, AttackExperiment.GridSize(settings), settings,
                        // A shard rerun on its cached model has the model every other shard trained: "trained" for all.
                        new AttackShared(grid, info with { Saved = false, Origin = model.Training is null ? info.Origin : "trained" }, width, training.Dataset,
                            result.SingleAccuracy, result.TestCount, result.TestSource, [.. result.Ensembles]),
                        result.Rows.Chunk(AttackExperiment.RowsPerAttack(settings)).ToArray(), ["attack.csv"], clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    /// <summary>What every shard computes identically besides its attacks (shard.json's options; merge checks they agree).</summary>
    /// <param name="Grid">The attack grid's name (output only).</param>
    /// <param name="Model">What summary.json says about the model.</param>
    /// <param name="Hidden">The model's hidden width h.</param>
    /// <param name="Dataset">The data set's name.</param>
    /// <param name="SingleAccuracy">The single model's clean test accuracy.</param>
    /// <param name="TestCount">Test images used.</param>
    /// <param name="TestSource">Where they came from.</param>
    /// <param name="Ensembles">The ensembles (built from the seed in every shard) and their clean accuracies.</param>
    internal sealed record AttackShared(string Grid, EnsembleCommand.ModelInfo Model, int Hidden, string Dataset, double SingleAccuracy, int TestCount,
        string TestSource, EnsembleSummary[] Ensembles);

    /// <summary>Rebuilds a merged result from the shards' shared values and every attack's rows (one array per grid item) and writes it.</summary>
    internal static void WriteMerged(string outDir, string profile, AttackExperimentSettings settings, AttackShared shared, AttackAccuracyRow[][] items, TimeSpan elapsed) =>
        Write(outDir, profile, shared.Grid, shared.Model, shared.Hidden, shared.Dataset,
            new AttackExperimentResult(settings, shared.SingleAccuracy, shared.TestCount, shared.TestSource, shared.Ensembles, [.. items.SelectMany(r => r)], elapsed.TotalSeconds),
            elapsed);

    private static string Threat(ThreatModel t) => t == ThreatModel.Transfer ? "transfer" : "adaptive";

    private static string LossName(EnsembleAttackLoss l) => l == EnsembleAttackLoss.AveragedLogits ? "cross-entropy of the averaged logits" : "−log mean softmax";

    private static string Kind(AttackKind k) => k == AttackKind.Fgsm ? "FGSM" : "PGD";

    /// <summary>"8/255" when ε is a whole number of 255ths, else "0.003".</summary>
    private static string Radius(double e)
    {
        double k = e * 255;
        return e == 0 ? "0" : Math.Abs(k - Math.Round(k)) < 1e-9 ? $"{Math.Round(k).ToString(CultureInfo.InvariantCulture)}/255" : G(e);
    }

    private static string StrengthLabel(AttackExperimentResult result, AttackAccuracyRow r) =>
        result.StrengthAxis(r.Attack.Kind) == "steps" ? Steps(r.Attack.Steps) : Radius(r.Attack.Epsilon);

    private static string Steps(int n) => n == 1 ? "1 step" : $"{n.ToString(CultureInfo.InvariantCulture)} steps";

    /// <summary>Writes attack.csv, summary.json and the figure of <paramref name="result"/> (also one merged from shards) and prints the table.</summary>
    internal static void Write(string outDir, string profile, string grid, EnsembleCommand.ModelInfo model, int hidden, string dataset, AttackExperimentResult result, TimeSpan elapsed)
    {
        var s = result.Settings;
        var csv = new CsvTable("threat_model", "attack", "epsilon", "step_size", "steps", "random_start", "strength", "strength_axis", "model", "accuracy");
        foreach (var r in result.Rows)
            csv.AddRow(r.ThreatName, Kind(r.Attack.Kind), r.Attack.Epsilon, r.Attack.StepSize, r.Attack.Steps, r.Attack.RandomStart, r.Strength,
                result.StrengthAxis(r.Attack.Kind), r.Model, r.Accuracy);
        csv.Save(Path.Combine(outDir, "attack.csv"));

        var claims = Claims(result);
        const string figure = "attack-accuracy.png";
        var figures = new[]
        {
            new FigureRef(figure, "Fig. 10", "Test accuracy against attack strength for the single model (black) and each ensemble: FGSM and PGD, under the transfer threat model (examples computed on the single model, the paper's setting) and the adaptive one (gradients through each ensemble)."),
        };
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "attack",
            profile,
            model = new
            {
                origin = model.Origin,
                training = model.Training,
                hidden,
                classes = model.Classes,
                singleAccuracy = result.SingleAccuracy,
            },
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
                ensembleEpsilon = s.EnsembleEpsilon,
                members = s.Members,
                vote = s.Vote == EnsembleVote.Mode ? "mode" : "mean-softmax",
                calibrationBatch = s.CalibrationSize ?? hidden,
                conditionLimit = s.ConditionLimit,
                illConditioned = s.Policy == IllConditionedPolicy.Reject ? "reject" : "regularise",
                seed = s.Seed,
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

        DrawFigure(result, Path.Combine(outDir, figure));

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
        table.Caption(Markup.Escape($"ensembles at ε_g = {G(s.EnsembleEpsilon)}, N = {s.Members}, vote {EnsembleCommand.VoteName(s.Vote)}; transfer = examples from the single model{(s.ThreatModelList.Contains(ThreatModel.Adaptive) ? $"; adaptive = {LossName(s.AdaptiveLoss)} of each ensemble" : "")}; ill-conditioned members: {(rejected.Length == 0 ? "none" : rejected)}; model: {model.Origin}"));
        ExperimentConsole.Write(table);
        foreach (var c in claims) ExperimentConsole.Line($"{c.Verdict}: {c.Statement} — {c.Measured}");
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"wall {elapsed.TotalSeconds:F1} s; wrote attack.csv, {figure}, summary.json{(model.Saved ? ", " + ModelSource.CacheFile : "")} to {outDir}"));
    }

    /// <summary>The paper's Fig. 10 statements against this run (transfer rows, as in the paper; adaptive rows reported).</summary>
    internal static Claim[] Claims(AttackExperimentResult result)
    {
        var claims = new List<Claim>();
        var rows = result.Rows;
        string setting = string.Create(CultureInfo.InvariantCulture,
            $"transfer threat model (the paper's), ε_g = {G(result.Settings.EnsembleEpsilon)}, N = {result.Settings.Members}, {result.TestCount} test images");
        // Points that are attacks at all: ε > 0 and, on a steps axis, at least one step.
        static bool Attacked(AttackAccuracyRow r) => r.Attack.Epsilon > 0 && (r.Attack.Steps > 0 || r.Attack.RandomStart);
        double Acc(ThreatModel t, LinfAttack a, string model) => rows.FirstOrDefault(r => r.Threat == t && r.Attack == a && r.Model == model)?.Accuracy ?? double.NaN;
        var fgsm = rows.Where(r => r.Threat == ThreatModel.Transfer && r.Attack.Kind == AttackKind.Fgsm && Attacked(r)).Select(r => r.Attack).Distinct().ToArray();
        var pgd = rows.Where(r => r.Threat == ThreatModel.Transfer && r.Attack.Kind == AttackKind.Pgd && Attacked(r)).Select(r => r.Attack).Distinct().ToArray();
        bool hasGroup = result.Settings.BuilderList.Contains(EnsembleBuilderKind.Group);
        string Strength(LinfAttack a) => result.StrengthAxis(a.Kind) == "steps" ? Steps(a.Steps) : "ε=" + Radius(a.Epsilon);

        if (hasGroup && fgsm.Length > 0)
        {
            var pairs = fgsm.Select(a => (a, g: Acc(ThreatModel.Transfer, a, "group"), s: Acc(ThreatModel.Transfer, a, "single"))).ToArray();
            int better = pairs.Count(p => p.g > p.s);
            claims.Add(EnsembleClaims.FgsmGroupImproves.Make(pairs.Select(p => new[] { p.g, p.s }).ToArray(),
                $"group > single at {better} of {pairs.Length}; " + string.Join(", ", pairs.Select(p => $"{Strength(p.a)}: {Pct(p.g)} vs {Pct(p.s)}")), setting));

            foreach (var baseline in new[] { EnsembleBuilderKind.Random, EnsembleBuilderKind.GroupInverse, EnsembleBuilderKind.Shuffle, EnsembleBuilderKind.PermutationInterpolation })
            {
                if (!result.Settings.BuilderList.Contains(baseline)) continue;
                string name = EnsembleOptions.Name(baseline);
                // Strengths where the baseline was not attacked are left out (as before); a NaN group accuracy fails its part.
                var vs = fgsm.Select(a => (a, g: Acc(ThreatModel.Transfer, a, "group"), b: Acc(ThreatModel.Transfer, a, name))).Where(p => !double.IsNaN(p.b)).ToArray();
                if (vs.Length == 0) continue;
                int ahead = vs.Count(p => p.g > p.b);
                claims.Add(EnsembleClaims.FgsmGroupVsBaseline.Make(vs.Select(p => new[] { p.g, p.b }).ToArray(),
                    $"group > {name} at {ahead} of {vs.Length}; " + string.Join(", ", vs.Select(p => $"{Strength(p.a)}: {Pct(p.g)} vs {Pct(p.b)}")), setting, idPart: name,
                    statement: $"Under FGSM attacks of various strength the group ensemble consistently performs better than the {name} baseline.",
                    predicted: $"group accuracy > {name} accuracy at every FGSM strength > 0"));
            }
        }
        if (hasGroup && pgd.Length > 0)
        {
            var pairs = pgd.Select(a => (a, g: Acc(ThreatModel.Transfer, a, "group"), s: Acc(ThreatModel.Transfer, a, "single"))).ToArray();
            var largest = pairs.MaxBy(p => Math.Abs(p.g - p.s));
            claims.Add(EnsembleClaims.PgdNoGain.Make(pairs.Select(p => new[] { p.g, p.s }).ToArray(),
                $"largest difference group − single {Points(largest.g - largest.s)} points ({(largest.g >= largest.s ? "a gain" : "a loss")}); " + string.Join(", ", pairs.Select(p => $"{Strength(p.a)}: {Pct(p.g)} vs {Pct(p.s)}")),
                setting));
        }
        if (hasGroup && result.Settings.ThreatModelList.Contains(ThreatModel.Adaptive))
        {
            var adaptive = rows.Where(r => r.Threat == ThreatModel.Adaptive && Attacked(r)).Select(r => r.Attack).Distinct().ToArray();
            if (adaptive.Length > 0)
                claims.Add(EnsembleClaims.AdaptiveGroupVsSingle.Measure(
                    string.Join(", ", adaptive.Select(a => $"{Kind(a.Kind)} {Strength(a)}: group {Pct(Acc(ThreatModel.Adaptive, a, "group"))} vs single {Pct(Acc(ThreatModel.Adaptive, a, "single"))}")),
                    $"adaptive loss: {LossName(result.Settings.AdaptiveLoss)}"));
        }
        var ill = result.Ensembles.Select(e => $"{e.Name}: {e.Members} kept, {e.Rejected} rejected, {e.Regularised} regularised").ToArray();
        claims.Add(EnsembleClaims.AttackIllConditioned.Measure(string.Join("; ", ill)));
        return claims.ToArray();
    }

    private static void DrawFigure(AttackExperimentResult result, string path)
    {
        var plots = new List<Plot>();
        var names = new[] { "single" }.Concat(result.Settings.BuilderList.Select(EnsembleOptions.Name)).ToArray();
        foreach (var threat in result.Settings.ThreatModelList)
            foreach (var kind in new[] { AttackKind.Fgsm, AttackKind.Pgd })
            {
                var attacks = result.Rows.Where(r => r.Threat == threat && r.Attack.Kind == kind).Select(r => r.Attack).Distinct().OrderBy(a => a.Epsilon).ThenBy(a => a.Steps).ToArray();
                if (attacks.Length == 0) continue;
                bool steps = result.StrengthAxis(kind) == "steps";
                var positions = attacks.Select((_, i) => (double)i).ToArray();
                var labels = attacks.Select(a => steps ? a.Steps.ToString(CultureInfo.InvariantCulture) : Radius(a.Epsilon)).ToArray();
                string title = $"{Kind(kind)}{(kind == AttackKind.Pgd ? $"-{attacks[^1].Steps}" : "")}, {Threat(threat)}{(threat == ThreatModel.Transfer ? " (examples from the single model)" : " (gradients through each ensemble)")}";
                if (kind == AttackKind.Pgd && steps) title = $"PGD ε = {Radius(attacks[0].Epsilon)}, {Threat(threat)}";
                var plot = Figure.Create(title, steps ? "PGD iterations" : "attack ε", "test accuracy (%)");
                for (int m = 0; m < names.Length; m++)
                {
                    var ys = attacks.Select(a => (result.Rows.FirstOrDefault(r => r.Threat == threat && r.Attack == a && r.Model == names[m])?.Accuracy ?? double.NaN) * 100).ToArray();
                    var keep = Enumerable.Range(0, ys.Length).Where(i => double.IsFinite(ys[i])).ToArray();
                    if (keep.Length == 0) continue;
                    // A builder keeps its colour across figures whatever subset was run.
                    var color = m == 0 ? Colors.Black : Panels.Palette[(int)result.Settings.BuilderList[m - 1] % Panels.Palette.Length];
                    var line = plot.Add.Scatter(keep.Select(i => positions[i]).ToArray(), keep.Select(i => ys[i]).ToArray(), color);
                    line.LegendText = names[m];
                    line.LineWidth = m == 0 ? 3 : 2;
                    line.MarkerSize = 6;
                    if (m == 0) line.LinePattern = LinePattern.Dashed;
                }
                plot.Axes.Bottom.SetTicks(positions, labels);
                plot.ShowLegend(Edge.Right); // outside: the curves fill the panel
                plots.Add(plot);
            }
        Panels.Save(plots, Math.Min(2, plots.Count), path, 720, 430);
    }
}
