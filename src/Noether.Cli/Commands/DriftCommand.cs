using Noether.Nn;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether drift</c>: Fig. 3 (Appendix D.2). How far the eq. 48 quantity Q (conserved by gradient flow) drifts under
/// gradient descent, as ΔQ̃(t) = Q̃(t) − Q̃(0) of eq. 43, for σ ∈ {identity, ReLU, sigmoid, tanh} and η ∈ {0.1, 0.01, 0.001},
/// with the loss, next to the gradient flow integrated from the same θ₀; every GD step of a quadratic Q is checked
/// against the eq. 41 identity and the eq. 42 bound.
/// </summary>
internal static class DriftCommand
{
    /// <summary>The settings of a profile: quick (seconds), default (under a minute on 2 cores), full (the authors' setting).</summary>
    public static DriftSettings ForProfile(string profile) => profile switch
    {
        "quick" => new DriftSettings { Steps = 2_000, SigmoidSteps = 4_000, Records = 80 },
        "full" => DriftSettings.Paper,
        _ => new DriftSettings { Steps = 100_000, SigmoidSteps = 200_000, Records = 200 },
    };

    public static Command Create()
    {
        var profile = CommonOptions.Profile("quick (a few seconds), default (under a minute on 2 cores) or full (the paper's 400 000 steps, 800 000 for sigmoid).");
        var steps = new Option<long?>("--steps") { Description = "Gradient-descent steps per run (sigmoid runs take twice as many, as in the paper); overrides the profile." };
        steps.Validators.Add(r => { if (r.TryGet(out long? v) && v is <= 0) r.AddError($"--steps must be a positive integer (got {v})"); });
        var lr = ListOptions.PositiveDoubles("--lr", "Learning rates η, comma-separated.", [0.1, 0.01, 0.001]);
        var activations = ListOptions.Activations("--activations", "Elementwise activations σ, comma-separated.", ["identity", "relu", "sigmoid", "tanh"], elementwiseOnly: true);
        var records = new Option<int?>("--records") { Description = "Points per curve (log-spaced); overrides the profile." };
        records.Validators.Add(r => { if (r.TryGet(out int? v) && v is <= 1) r.AddError($"--records must be an integer ≥ 2 (got {v})"); });
        var loss = new Option<string>("--loss")
        {
            Description = "mean: ‖Y − F‖²/(m·k), PyTorch's MSELoss as the authors used; half-sum: ½‖Y − F‖² (SPEC convention).",
            DefaultValueFactory = _ => "mean",
        };
        loss.AcceptOnlyFromAmong("mean", "half-sum");
        var initStd = CommonOptions.PositiveDouble("--init-std", "Standard deviation of the entries of U₀ and V₀.", 0.1)
            .Bounded(double.Epsilon, 100, "larger initial weights overflow the loss and Q in float64");
        var flowTime = ListOptions.OptionalPositiveDouble("--flow-time", "End time of the gradient flow (default: steps × the smallest η, the span of the slowest GD run).");
        var noFlow = new Option<bool>("--no-flow") { Description = "Skip the gradient-flow contrast." };
        var run = RunOptions.Sweep("results/drift");

        var command = run.Command("drift", "Fig. 3: drift of the conserved quantity Q under gradient descent (ΔQ~ of eq. 43) and the loss, per σ and η, against the gradient flow; eq. 41 checked at every step.",
            profile, steps, lr, activations, records, loss, initStd, flowTime, noFlow);
        CliAction.Set(command, (parse, token) =>
        {
            string profileName = parse.GetValue(profile)!;
            var settings = ForProfile(profileName);
            if (parse.GetValue(steps) is { } n) settings = settings with { Steps = n, SigmoidSteps = checked(2 * n) };
            if (parse.GetValue(records) is { } r) settings = settings with { Records = r };
            settings = settings with
            {
                LearningRates = parse.GetValue(lr)!,
                Activations = parse.GetValue(activations)!,
                Loss = parse.GetValue(loss) == "half-sum" ? SquaredErrorLoss.HalfSum : SquaredErrorLoss.Mean,
                InitStd = parse.GetValue(initStd),
                FlowTime = parse.GetValue(flowTime),
                IncludeGradientFlow = !parse.GetValue(noFlow),
                Seed = parse.GetValue(run.Seed),
                Shard = run.ShardOf(parse),
                Parallelism = Environment.ProcessorCount,
            };
            return run.Write(parse, token, outDir =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Drift of Q (eq. 48) under GD, profile {profileName}: m={settings.M}, h={settings.H}, n={settings.N}, X = I, loss {(settings.Loss == SquaredErrorLoss.Mean ? "‖Y − F‖²/(m·k) (PyTorch MSELoss)" : "½‖Y − F‖²")}, {settings.Steps} steps ({settings.SigmoidSteps ?? settings.Steps} for sigmoid), η ∈ {{{string.Join(", ", settings.LearningRates)}}}, seed {settings.Seed}"));
                var clock = Stopwatch.StartNew();
                var result = ExperimentConsole.Run("drift", (p, t) => DriftExperiment.Run(settings, p, t), token);
                DriftWriter.Write(outDir, profileName, result, clock.Elapsed);
                if (settings.Shard is { } part)
                    ShardOutput.Complete(outDir, "drift", profileName, part, DriftExperiment.GridSize(settings), settings, null, result.Curves, ["drift.csv"], clock.Elapsed);
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
