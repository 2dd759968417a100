namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether converge</c>: convergence rate against the conserved quantity (Appendix F). Three parts: the ellipse of F.1
/// (closed-form L(t) against a numerical gradient flow for several Q at one L(0)), the radial network of F.2 / Fig. 7
/// (σᵢ^X(t) under the gradient flow against eq. 59 solved on its own and the eq. 69 bound, λᵢ tracked, and GD at the
/// paper's η beside it), and Fig. 6 (GD steps to near-convergence against Q per σ, with Spearman's ρ against Q and |Q|).
/// </summary>
internal static class ConvergeCommand
{
    private static readonly string[] Parts = ["ellipse", "radial", "rate"];

    /// <summary>The settings of the three parts in a profile: quick (seconds), default (about a minute), full (the paper's).</summary>
    public static (EllipseConvergenceSettings Ellipse, RadialConvergenceSettings Radial, ConvergenceRateSettings Rate) ForProfile(string profile, int seed) => profile switch
    {
        "quick" => (new EllipseConvergenceSettings(Points: 61),
            RadialConvergenceSettings.Quick with { Seed = seed, TrackUnrestrictedFlow = false },
            ConvergenceRateSettings.Quick with { Records = 60, Seed = seed }),
        "full" => (new EllipseConvergenceSettings(), new RadialConvergenceSettings(Seed: seed, TrackUnrestrictedFlow: false), new ConvergenceRateSettings(Seed: seed)),
        _ => (new EllipseConvergenceSettings(),
            // The paper's μ and η over t = 0.1: at μ = 0.01 the flow is stiff (λ ≈ 4e-4), ≈ 2.9 million Dormand–Prince steps per unit time.
            new RadialConvergenceSettings(Steps: 10_000, Records: 61, Seed: seed, TrackUnrestrictedFlow: false),
            new ConvergenceRateSettings(LearningRate: 1e-2, MaxSteps: 40_000, Records: 120, Seed: seed)),
    };

    public static Command Create()
    {
        var profile = CommonOptions.Profile("quick (seconds), default (about a minute on 2 cores) or full (the paper's settings: radial GD 10⁶ steps at η = 1e-5, Fig. 6 400 000 steps at lr 1e-3).");
        var part = new Option<string[]>("--part")
        {
            Description = "Parts to run, comma-separated: ellipse (F.1), radial (F.2, Fig. 7), rate (Fig. 6).",
            DefaultValueFactory = _ => Parts,
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
            HelpName = "ellipse,radial,rate",
        };
        part.CustomParser = r =>
        {
            var items = string.Join(",", r.Tokens.Select(t => t.Value)).Split([',', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (items.Length == 0) r.AddError("--part: expected a comma-separated list of ellipse, radial, rate");
            foreach (var item in items)
                if (!Parts.Contains(item))
                {
                    r.AddError($"--part: unknown part '{item}'; valid: ellipse, radial, rate");
                    return [];
                }
            return items.Distinct().ToArray();
        };
        var run = RunOptions.Sweep("results/converge");
        run.Shard!.Description = "With --part rate only: run part i of n of the Fig. 6 grid (σ × σ_U × σ_V; i/n, 1 ≤ i ≤ n, e.g. 2/4); join the parts with `noether merge`. The ellipse and radial parts are small and not sharded.";

        var command = run.Command("converge", "Appendix F: convergence rate against Q — the ellipse (F.1), the radial network against eq. 59 and the eq. 69 bound (Fig. 7), and GD steps to near-convergence against Q per σ (Fig. 6).",
            profile, part);
        CliAction.Set(command, (parse, token) =>
        {
            string profileName = parse.GetValue(profile)!;
            var parts = parse.GetValue(part)!;
            var (ellipseSettings, radialSettings, rateSettings) = ForProfile(profileName, parse.GetValue(run.Seed));
            if (run.ShardOf(parse) is { } sharded)
            {
                // Only Fig. 6 is a grid worth splitting; a shard runs nothing else, so the merged output is that of `--part rate`.
                if (!parts.SequenceEqual(["rate"]))
                    throw Errors.Argument("--shard", $"--shard {sharded} splits the Fig. 6 grid only: add --part rate (got --part {string.Join(",", parts)}; run ellipse and radial unsharded with --part ellipse,radial)");
                rateSettings = rateSettings with { Shard = sharded };
            }
            return run.Write(parse, token, outDir =>
            {
                var clock = Stopwatch.StartNew();
                EllipseConvergenceResult? ellipse = null;
                RadialConvergenceResult? radial = null;
                ConvergenceRateResult? rate = null;
                var seconds = new Dictionary<string, double>();
                if (parts.Contains("ellipse"))
                {
                    var t = Stopwatch.StartNew();
                    ellipse = ExperimentConsole.Run("ellipse (F.1)", (p, c) => EllipseConvergence.Run(ellipseSettings, Adapt(p), c), token);
                    seconds["ellipse"] = t.Elapsed.TotalSeconds;
                }
                if (parts.Contains("radial"))
                {
                    var t = Stopwatch.StartNew();
                    radial = ExperimentConsole.Run("radial (Fig. 7)", (p, c) => RadialConvergence.Run(radialSettings, Adapt(p), c), token);
                    seconds["radial"] = t.Elapsed.TotalSeconds;
                }
                if (parts.Contains("rate"))
                {
                    var t = Stopwatch.StartNew();
                    rate = ExperimentConsole.Run("rate (Fig. 6)", (p, c) => ConvergenceRate.Run(rateSettings, Adapt(p), c), token);
                    seconds["rate"] = t.Elapsed.TotalSeconds;
                }
                ConvergeWriter.Write(outDir, profileName, parts, ellipse, radial, rate, seconds, clock.Elapsed);
                if (rateSettings.Shard is { } done)
                    ShardOutput.Complete(outDir, "converge", profileName, done, ConvergenceRate.GridSize(rateSettings), rateSettings, null, rate!.Runs,
                        ["rate.csv", "rate-curves.csv"], clock.Elapsed);
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    /// <summary>Sweep progress as the console's progress.</summary>
    internal static IProgress<SweepProgress> Adapt(IProgress<ExperimentProgress> p) =>
        new InlineProgress<SweepProgress>(s => p.Report(new ExperimentProgress(s.Label, s.Done, s.Total)));
}
