using Noether.Attacks;
using Noether.Ensembles;
using static Noether.Cli.Commands.EnsembleCommandOptions;
using static Noether.Experiments.Format;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether attack</c>: Fig. 10 (Appendix H). Accuracy of the single model and of each ensemble under L∞ FGSM and PGD
/// against attack strength, under the transfer threat model (examples from the single model, the paper's setting) and
/// the adaptive one (gradients through each ensemble), always labelled.
/// </summary>
internal static class AttackCommand
{
    /// <summary>Profile settings: quick (seconds), default (about a minute on 2 cores), full (the authors' ε_g = 10, 200 members, their grids).</summary>
    public static AttackExperimentSettings ForProfile(string profile, int seed) => profile switch
    {
        "quick" => new AttackExperimentSettings(Attacks: AttackPresets.Quick, TestLimit: 500) { Ensemble = new(EnsembleBuilderKind.Group, 0.3, Members: 5, Seed: seed) },
        "full" => new AttackExperimentSettings(Attacks: AttackPresets.Paper) { Ensemble = new(EnsembleBuilderKind.Group, 10, Members: 200, Seed: seed) },
        _ => new AttackExperimentSettings(Attacks: AttackPresets.Default, TestLimit: 2000) { Ensemble = new(EnsembleBuilderKind.Group, 0.3, Members: 10, Seed: seed) },
    };

    public static Command Create()
    {
        var profile = Profile("quick (1 epoch on 10k images, 5 members, 500 test images: seconds), default (5 epochs, 10 members, ε ∈ {0,1,2,4,8}/255, 2000 test images: about a minute) or full (10 epochs, ε_g = 10 with 200 members, the paper's grids, all test images).");
        var shared = new EnsembleCommandOptions();
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
        var ensembleEpsilon = NonNegative("--ensemble-epsilon", "ε_g of every ensemble (g = I + ε_g M; default 0.3, full profile 10).");
        var run = RunOptions.Sweep("results/attack");

        var command = run.Command("attack", "Fig. 10: FGSM and PGD (L∞) accuracy against attack strength for the single model and each ensemble, transfer and adaptive threat models.",
            [profile, .. shared.ModelOptions, preset, epsilons, pgdStep, pgdSteps, noRandomStart, threat, adaptiveLoss, ensembleEpsilon, .. shared.ChoiceOptions]);
        CliAction.Set(command, (parse, token) =>
        {
            string profileName = parse.GetValue(profile)!;
            int seed = parse.GetValue(run.Seed);
            var training = shared.Training(parse, profileName, seed);
            var settings = ForProfile(profileName, seed);
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
            var choice = shared.Read(parse, settings.Builders, settings.Ensemble, settings.TestLimit);
            settings = settings with
            {
                Attacks = attacks,
                ThreatModels = threatName switch { "transfer" => [ThreatModel.Transfer], "adaptive" => [ThreatModel.Adaptive], _ => [ThreatModel.Transfer, ThreatModel.Adaptive] },
                AdaptiveLoss = parse.GetValue(adaptiveLoss) == "mean-softmax" ? EnsembleAttackLoss.AveragedProbabilities : EnsembleAttackLoss.AveragedLogits,
                Shard = run.ShardOf(parse),
                Builders = choice.Builders,
                Ensemble = choice.Ensemble with { Epsilon = parse.GetValue(ensembleEpsilon) ?? choice.Ensemble.Epsilon },
                Vote = choice.Vote,
                TestLimit = choice.TestLimit,
            };
            return shared.Start(parse, run, token, training, settings.Validate, settings.Ensemble.Members, settings.Shard, () => AttackExperiment.GridSize(settings), r =>
            {
                ExperimentConsole.Line(Describe(settings, profileName, grid));
                var result = ExperimentConsole.Run("attacks", (p, t) => AttackExperiment.Run(r.Model.Model, r.Train, r.Test, settings,
                    new InlineProgress<AttackExperimentProgress>(q => p.Report(new ExperimentProgress(q.Stage,
                        (long)(q.StageIndex - 1) * q.Total + q.Done, (long)q.Stages * q.Total))), t), token);
                var info = r.SaveModel();
                int width = r.Hidden;
                AttackWriter.Write(r.OutDir, profileName, grid, info, width, training.Dataset, result, r.Clock.Elapsed);
                if (settings.Shard is { } part)
                    ShardOutput.Complete(r.OutDir, "attack", profileName, part, AttackExperiment.GridSize(settings), settings,
                        new AttackWriter.AttackShared(grid, r.ForShards(info), width, training.Dataset,
                            result.SingleAccuracy, result.TestCount, result.TestSource, [.. result.Ensembles]),
                        result.Rows.Chunk(AttackExperiment.RowsPerAttack(settings)).ToArray(), ["attack.csv"], r.Clock.Elapsed);
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    // The run's one-line description before it starts: the grid, the threat models and the ensembles attacked.
    private static string Describe(AttackExperimentSettings settings, string profileName, string grid)
    {
        var ensemble = settings.Ensemble;
        string adaptive = settings.ThreatModelList.Contains(ThreatModel.Adaptive) ? $" (adaptive loss: {AttackLabels.LossName(settings.AdaptiveLoss)})" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"Fig. 10 attacks, profile {profileName}, grid {grid}: {string.Join("; ", settings.AttackList.Select(a => a.Label))}; threat models {string.Join(" + ", settings.ThreatModelList.Select(AttackLabels.Threat))}{adaptive}; ensembles {string.Join(", ", settings.BuilderList.Select(EnsembleOptions.Name))} at ε_g = {G(ensemble.Epsilon, 4)}, N = {ensemble.Members}, vote {EnsembleWriter.VoteName(settings.Vote)}; seed {ensemble.Seed}");
    }
}
