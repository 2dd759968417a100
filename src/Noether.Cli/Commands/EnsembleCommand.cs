using Noether.Ensembles;
using static Noether.Cli.Commands.EnsembleCommandOptions;
using static Noether.Experiments.Format;

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
    public static EnsembleExperimentSettings ForProfile(string profile, int seed) => profile switch
    {
        "quick" => new EnsembleExperimentSettings(Epsilons: [0, 0.1, 1, 20], TestLimit: 1000) { Ensemble = new(EnsembleBuilderKind.Group, 0, Members: 5, Seed: seed) },
        "full" => new EnsembleExperimentSettings(Epsilons: DefaultEpsilons) { Ensemble = new(EnsembleBuilderKind.Group, 0, Members: 200, Seed: seed) },
        _ => new EnsembleExperimentSettings(Epsilons: DefaultEpsilons) { Ensemble = new(EnsembleBuilderKind.Group, 0, Members: 10, Seed: seed) },
    };

    public static Command Create()
    {
        var profile = Profile("quick (1 epoch on 10k images, 5 members, 1000 test images: seconds), default (5 epochs, 10 members, all test images: about a minute) or full (10 epochs, 200 members).");
        var shared = new EnsembleCommandOptions();
        var epsilons = NonNegativeList("--epsilons", "ε grid (g = I + εM, ‖M‖₂ ≈ 2), comma-separated, each ≥ 0 (default 0,0.01,0.03,0.1,0.3,1,3,10,20; quick 0,0.1,1,20).");
        var literal = new Option<bool>("--literal-batch")
        {
            Description = "Group builder: the paper's literal reading σ'(H) = π(g, H)σ(gH) on each prediction batch (outputs depend on the batch size, see --literal-batch-size) instead of π computed once on a calibration batch.",
        };
        var literalSize = CommonOptions.PositiveInt("--literal-batch-size", "Prediction batch size of --literal-batch (reported with the results).", 128);
        var run = RunOptions.Sweep("results/ensemble");

        var command = run.Command("ensemble", "Fig. 9: ensembles from one trained CNN (group, ginv, random, shuffle, perm-interp): test accuracy change against ε, members rejected as ill-conditioned per ε.",
            [profile, .. shared.ModelOptions, epsilons, literal, literalSize, .. shared.ChoiceOptions]);
        CliAction.Set(command, (parse, token) =>
        {
            string profileName = parse.GetValue(profile)!;
            int seed = parse.GetValue(run.Seed);
            var training = shared.Training(parse, profileName, seed);
            var settings = ForProfile(profileName, seed);
            var choice = shared.Read(parse, settings.Builders, settings.Ensemble, settings.TestLimit);
            settings = settings with
            {
                Builders = choice.Builders,
                Epsilons = parse.GetValue(epsilons) is { Length: > 0 } e ? e : settings.Epsilons,
                Ensemble = choice.Ensemble with
                {
                    Reading = parse.GetValue(literal) ? GroupActionReading.BatchDependent : GroupActionReading.Calibrated,
                    PredictionBatchSize = parse.GetValue(literalSize),
                },
                Vote = choice.Vote,
                TestLimit = choice.TestLimit,
                Shard = run.ShardOf(parse),
            };
            var ensemble = settings.Ensemble;
            return shared.Start(parse, run, token, training, settings.Validate, ensemble.Members, settings.Shard, () => EnsembleExperiment.GridSize(settings), r =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Fig. 9 ensembles, profile {profileName}: builders {string.Join(", ", settings.BuilderList.Select(EnsembleOptions.Name))}; ε ∈ {{{string.Join(", ", settings.EpsilonList.Select(v => G(v, 4)))}}}; N = {ensemble.Members}; vote {EnsembleWriter.VoteName(settings.Vote)}; group reading {EnsembleWriter.ReadingName(settings)}; calibration batch k = {ensemble.CalibrationSize ?? r.Hidden} (h = {r.Hidden}); condition limit {ensemble.ConditionLimit:G3} ({(ensemble.Policy == IllConditionedPolicy.Reject ? "reject" : "regularise")}); seed {ensemble.Seed}"));
                var result = ExperimentConsole.Run("ensembles", (p, t) => EnsembleExperiment.Run(r.Model.Model, r.Train, r.Test, settings,
                    new InlineProgress<EnsembleExperimentProgress>(q => p.Report(new ExperimentProgress(
                        $"{q.Last.Name} ε={G(q.Last.Epsilon, 4)}", q.Done, q.Total))), t), token);
                var info = r.SaveModel();
                EnsembleWriter.Write(r.OutDir, profileName, info, training.Dataset, result, r.Clock.Elapsed);
                if (settings.Shard is { } part)
                    ShardOutput.Complete(r.OutDir, "ensemble", profileName, part, EnsembleExperiment.GridSize(settings), settings,
                        new EnsembleWriter.EnsembleShared(r.ForShards(info), training.Dataset, result.SingleAccuracy, result.TestCount, result.TestSource, result.CalibrationSource, result.Hidden),
                        result.Rows, ["ensemble.csv"], r.Clock.Elapsed);
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
