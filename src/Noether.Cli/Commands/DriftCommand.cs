using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Experiments;
using Noether.Serialization;
using Noether.Symmetry;
using ScottPlot;
using Spectre.Console;

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
        var initStd = CommonOptions.PositiveDouble("--init-std", "Standard deviation of the entries of U₀ and V₀.", 0.1);
        var flowTime = ListOptions.OptionalPositiveDouble("--flow-time", "End time of the gradient flow (default: steps × the smallest η, the span of the slowest GD run).");
        var noFlow = new Option<bool>("--no-flow") { Description = "Skip the gradient-flow contrast." };
        var seed = CommonOptions.Seed();
        var shard = CommonOptions.Shard();
        var output = CommonOptions.Out("results/drift");
        var force = CommonOptions.Force();

        var command = new Command("drift", "Fig. 3: drift of the conserved quantity Q under gradient descent (ΔQ~ of eq. 43) and the loss, per σ and η, against the gradient flow; eq. 41 checked at every step.")
        {
            profile, steps, lr, activations, records, loss, initStd, flowTime, noFlow, seed, shard, output, force,
        };
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
                Seed = parse.GetValue(seed),
                Shard = parse.GetValue(shard),
                Parallelism = Environment.ProcessorCount,
            };
            string outDir = ExperimentConsole.PrepareOutput(parse.GetValue(output)!, parse.GetValue(force), out bool created);
            return Task.FromResult(ExperimentConsole.WithOutput(outDir, created, () =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Drift of Q (eq. 48) under GD, profile {profileName}: m={settings.M}, h={settings.H}, n={settings.N}, X = I, loss {(settings.Loss == SquaredErrorLoss.Mean ? "‖Y − F‖²/(m·k) (PyTorch MSELoss)" : "½‖Y − F‖²")}, {settings.Steps} steps ({settings.SigmoidSteps ?? settings.Steps} for sigmoid), η ∈ {{{string.Join(", ", settings.LearningRates)}}}, seed {settings.Seed}"));
                var clock = Stopwatch.StartNew();
                var result = ExperimentConsole.Run("drift", (p, t) => DriftExperiment.Run(settings, p, t), token);
                Write(outDir, profileName, result, clock.Elapsed);
                if (settings.Shard is { } part)
                    ShardOutput.Complete(outDir, "drift", profileName, part, DriftExperiment.GridSize(settings), settings, null, result.Curves, ["drift.csv"], clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    private static string Method(DriftCurve c) => c.IsGradientFlow ? "flow" : "gd";

    /// <summary>Writes drift.csv, summary.json and the figures of <paramref name="result"/> (also a result merged from shards) and prints the table.</summary>
    internal static void Write(string outDir, string profile, DriftResult result, TimeSpan elapsed)
    {
        var csv = new CsvTable("activation", "method", "learning_rate", "step", "time", "loss", "q", "delta_q_normalised");
        foreach (var c in result.Curves)
            for (int i = 0; i < c.Step.Length; i++)
                csv.AddRow(c.Activation, Method(c), c.IsGradientFlow ? null : c.LearningRate, c.Step[i], c.Time[i], c.Loss[i], c.Q[i], c.DeltaNormalisedQ[i]);
        csv.Save(Path.Combine(outDir, "drift.csv"));

        var curves = result.Curves.Select(c => new
        {
            activation = c.Activation,
            method = Method(c),
            learningRate = c.IsGradientFlow ? (double?)null : c.LearningRate,
            steps = c.IsGradientFlow ? (long?)null : c.Step[^1],
            flowEndTime = c.IsGradientFlow ? c.Time[^1] : (double?)null,
            flowSteps = c.IsGradientFlow ? c.FlowSteps : (long?)null,
            initialLoss = c.Loss[0],
            finalLoss = c.FinalLoss,
            diverged = c.Diverged,
            initialQ = c.Q[0],
            finalQ = c.Q[^1],
            maxAbsDeltaNormalisedQ = c.MaxAbsDeltaNormalisedQ,
            eq41 = c.Eq41,
            eq41Holds = c.Eq41 is { } e ? e.BoundViolations == 0 && e.MaxErrorOverMagnitude <= 1e-10 && (e.ResolvableChecks == 0 || e.MaxRelativeError <= 1e-10) : (bool?)null,
            seconds = c.Seconds,
        }).ToArray();
        var flows = result.Curves.Where(c => c.IsGradientFlow).ToArray();
        var descents = result.Curves.Where(c => !c.IsGradientFlow).ToArray();
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "drift",
            profile,
            settings = result.Settings,
            quantity = "Q = ½Tr[UᵀU] − Σ∫₀^V σ/σ' (eq. 48); normalised drift ΔQ~ = Q~(t) − Q~(0) (eq. 43)",
            eq41Definition = "Q_{t+1} − Q_t = η²(½‖∂L/∂U‖² − Σ G(∂L/∂V)) checked at every GD step for quadratic Q (identity, ReLU, LeakyReLU); maxRelativeError over steps where η²Q(∇L) is resolvable",
            curves,
            maxFlowDrift = flows.Length == 0 ? (double?)null : flows.Max(c => c.MaxAbsDeltaNormalisedQ),
            minDescentDrift = descents.Length == 0 ? (double?)null : descents.Min(c => c.MaxAbsDeltaNormalisedQ),
            eq41AllHold = curves.All(c => c.eq41Holds is not false),
            wallSeconds = elapsed.TotalSeconds,
            claims = Claims(result),
            figures = Figures(result),
        });

        DrawPanels(result, c => c.DeltaNormalisedQ, "log10 |ΔQ~(t)|  (normalised drift, eq. 43)", "Drift of the conserved quantity Q",
            Path.Combine(outDir, "drift-q.png"), Alignment.MiddleRight, nested: false);
        // In t = η·step every GD run follows the flow, so the loss curves lie on top of each other: draw them nested
        // (widest first) so that each stays visible.
        DrawPanels(result, c => c.Loss, $"log10 loss  ({(result.Settings.Loss == SquaredErrorLoss.Mean ? "‖Y − F‖²/(m·k)" : "½‖Y − F‖²")})", "Loss",
            Path.Combine(outDir, "drift-loss.png"), Alignment.LowerLeft, nested: true);

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape("Fig. 3: drift of Q under GD vs gradient flow"))
            .AddColumn("σ").AddColumn("run").AddColumn(new TableColumn("steps").RightAligned()).AddColumn(new TableColumn("loss: start → end").RightAligned())
            .AddColumn(new TableColumn("max |ΔQ~|").RightAligned()).AddColumn(new TableColumn("eq. 41 error").RightAligned())
            .AddColumn(new TableColumn("eq. 42 bound violations").RightAligned()).AddColumn(new TableColumn("seconds").RightAligned());
        foreach (var c in result.Curves)
        {
            string run = c.IsGradientFlow ? "gradient flow" : $"GD η={c.LearningRate.ToString("G3", CultureInfo.InvariantCulture)}";
            string stepsText = c.IsGradientFlow ? $"t={c.Time[^1].ToString("G4", CultureInfo.InvariantCulture)} ({c.FlowSteps} RK)" : c.Step[^1].ToString(CultureInfo.InvariantCulture);
            string loss = $"{ExperimentConsole.Sci(c.Loss[0])} → {ExperimentConsole.Sci(c.FinalLoss)}{(c.Diverged ? " [red]diverged[/]" : "")}";
            string eq41 = c.Eq41 is { } e ? (e.ResolvableChecks > 0 ? ExperimentConsole.Sci(e.MaxRelativeError) : $"{ExperimentConsole.Sci(e.MaxErrorOverMagnitude)}*") : "–";
            string bound = c.Eq41 is { } b ? (b.BoundViolations == 0 ? "[green]0[/]" : $"[red]{b.BoundViolations}[/]") : "–";
            table.AddRow(Markup.Escape(c.Activation), Markup.Escape(run), Markup.Escape(stepsText), loss, ExperimentConsole.Sci(c.MaxAbsDeltaNormalisedQ), eq41, bound,
                ExperimentConsole.Fixed(c.Seconds, 1));
        }
        table.Caption(Markup.Escape("eq. 41 error: max |ΔQ − η²Q(∇L)| / |η²Q(∇L)|; *: / (|f₁| + |f₂|), no step resolvable; –: Q not quadratic"));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"wall {elapsed.TotalSeconds:F1} s; wrote drift.csv, summary.json, drift-q.png, drift-loss.png to {outDir}"));
    }

    // One panel per σ, one curve per η (same colour in every panel) and the flow (black, dashed), log10 y against log10 t.
    private static void DrawPanels(DriftResult result, Func<DriftCurve, double[]> quantity, string yLabel, string what, string path, Alignment legend, bool nested)
    {
        var etas = result.Settings.LearningRates;
        var plots = new List<Plot>();
        foreach (var group in result.Curves.GroupBy(c => c.Activation))
        {
            var plot = Figure.Create($"{what}, σ = {group.Key}", "log10 t  (t = η · step; flow time)", yLabel);
            foreach (var c in group)
            {
                var (x, y) = Panels.LogLog(c.Time, quantity(c));
                if (x.Length == 0) continue;
                if (c.IsGradientFlow) Panels.Line(plot, x, y, Colors.Black, "gradient flow", 2f, LinePattern.Dashed);
                else
                {
                    int index = etas.ToList().IndexOf(c.LearningRate);
                    float width = nested ? 1.5f + 2.5f * (etas.Count - 1 - index) : 2f;
                    Panels.Line(plot, x, y, Panels.Palette[index % Panels.Palette.Length], $"GD η = {c.LearningRate.ToString("G3", CultureInfo.InvariantCulture)}", width);
                }
            }
            plot.ShowLegend(legend);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path);
    }

    // The report contract: the claims this run tests, judged by the rules of DriftClaims from the curves' numbers.
    private static List<Claim> Claims(DriftResult result)
    {
        static string S(double v) => ExperimentConsole.Sci(v);
        static string Eta(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
        static double Drift(DriftCurve c) => c.Diverged ? double.PositiveInfinity : c.MaxAbsDeltaNormalisedQ;
        var claims = new List<Claim>();
        var flows = result.Curves.Where(c => c.IsGradientFlow).ToArray();
        var descents = result.Curves.Where(c => !c.IsGradientFlow).ToArray();
        string setting = string.Create(CultureInfo.InvariantCulture,
            $"m={result.Settings.M}, h={result.Settings.H}, n={result.Settings.N}, X = I, {result.Settings.Steps} GD steps ({result.Settings.SigmoidSteps ?? result.Settings.Steps} for sigmoid)");
        if (flows.Length > 0)
        {
            var worstCurve = flows.MaxBy(c => c.MaxAbsDeltaNormalisedQ)!;
            double worst = flows.Any(c => double.IsNaN(c.MaxAbsDeltaNormalisedQ)) ? double.NaN : worstCurve.MaxAbsDeltaNormalisedQ;
            claims.Add(DriftClaims.FlowConservesQ.Make([worst],
                $"max |ΔQ~| = {S(worst)} ({worstCurve.Activation}); σ ∈ {{{string.Join(", ", flows.Select(c => c.Activation))}}}",
                $"Dormand–Prince with tolerance {S(result.Settings.FlowTolerance)}; {setting}"));
        }
        if (descents.Length > 0)
        {
            var groups = descents.GroupBy(c => c.Activation).Select(g => (Activation: g.Key, ByEta: g.OrderByDescending(c => c.LearningRate).ToArray())).ToArray();
            double FlowDrift(string activation) => flows.Where(f => f.Activation == activation).Select(f => f.MaxAbsDeltaNormalisedQ).DefaultIfEmpty(0).Max();
            string Text((string Activation, DriftCurve[] ByEta) g) => $"{g.Activation}: " + string.Join(" / ", g.ByEta.Select(c => (c.Diverged ? "diverged " : "") + S(c.MaxAbsDeltaNormalisedQ)));
            string etas = string.Join(" / ", descents.Select(c => c.LearningRate).Distinct().OrderByDescending(e => e).Select(Eta));
            if (result.Settings.LearningRates.Count >= 2)
            {
                var parts = groups.Select(g => new[] { FlowDrift(g.Activation) }.Concat(g.ByEta.Select(Drift)).ToArray()).ToArray();
                var held = groups.Where((g, i) => DriftClaims.GdDrifts.Judge(parts[i]) == Verdict.Reproduced).Select(g => g.Activation).ToArray();
                claims.Add(DriftClaims.GdDrifts.Make(parts, $"max |ΔQ~| for η = {etas}: {string.Join("; ", groups.Select(Text))}",
                    held.Length == groups.Length ? setting : $"holds for {(held.Length == 0 ? "no σ" : string.Join(", ", held))}; {setting}"));
                var magnitudes = groups.Select(g => g.ByEta.Select(Drift).ToArray()).ToArray();
                claims.Add(DriftClaims.SameMagnitudeAcrossEta.Make(magnitudes,
                    "largest / smallest max |ΔQ~| over η: " + string.Join(", ", groups.Select((g, i) => $"{g.Activation} {S(magnitudes[i].Max() / magnitudes[i].Min())}")),
                    $"η = {etas}; {setting}"));
            }
            var largest = descents.MaxBy(c => c.MaxAbsDeltaNormalisedQ)!;
            claims.Add(DriftClaims.GdSmall.Make([descents.Select(Drift).ToArray()],
                $"largest max |ΔQ~| = {S(largest.MaxAbsDeltaNormalisedQ)} ({largest.Activation}, η = {Eta(largest.LearningRate)}){(descents.Any(c => c.Diverged) ? "; some runs diverged" : "")}",
                setting));
            var checkedCurves = descents.Where(c => c.Eq41 is not null).ToArray();
            if (checkedCurves.Length > 0)
            {
                long checks = checkedCurves.Sum(c => c.Eq41!.Checks);
                long resolvable = checkedCurves.Sum(c => c.Eq41!.ResolvableChecks);
                double errMagnitude = checkedCurves.Max(c => c.Eq41!.MaxErrorOverMagnitude);
                double errRelative = checkedCurves.Max(c => c.Eq41!.MaxRelativeError);
                claims.Add(DriftClaims.Eq41Exact.Make([errMagnitude, resolvable, errRelative],
                    $"{checks} steps checked ({string.Join(", ", checkedCurves.Select(c => c.Activation).Distinct())}): max error {S(errMagnitude)} relative to the terms' size" +
                        (resolvable > 0 ? $", {S(errRelative)} relative to ΔQ over {resolvable} resolvable steps" : "; no step moved Q by more than its rounding"),
                    "the printed factor η² is for Q = Tr[UᵀU − VVᵀ]; eq. 48's ½Tr form, used here, takes η²/2"));
                long violations = checkedCurves.Sum(c => c.Eq41!.BoundViolations);
                double ratio = checkedCurves.Max(c => c.Eq41!.MaxBoundRatio);
                claims.Add(DriftClaims.Eq42Bound.Make([violations, checks],
                    $"{violations} violations in {checks} steps" + (resolvable > 0 ? $"; max |ΔQ| / bound = {S(ratio)} over the resolvable steps" : "")));
            }
        }
        return claims;
    }

    // Captions from the measured curves: what the run shows, not what the paper expects.
    private static FigureRef[] Figures(DriftResult result)
    {
        var flows = result.Curves.Where(c => c.IsGradientFlow).ToArray();
        var descents = result.Curves.Where(c => !c.IsGradientFlow && !c.Diverged).ToArray();
        string flowText = flows.Length == 0 ? "no flow run"
            : $"the gradient flow's largest |ΔQ~| is {ExperimentConsole.Sci(flows.Max(c => c.MaxAbsDeltaNormalisedQ))}";
        string gdText = descents.Length == 0 ? "every GD run diverged" : string.Join(", ", descents.GroupBy(c => c.LearningRate).OrderByDescending(g => g.Key)
            .Select(g => $"η = {g.Key.ToString("G3", CultureInfo.InvariantCulture)}: up to {ExperimentConsole.Sci(g.Max(c => c.MaxAbsDeltaNormalisedQ))}"));
        int diverged = result.Curves.Count(c => c.Diverged);
        return
        [
            new("drift-q.png", "Fig. 3", $"Normalised drift |ΔQ~(t)| of eq. 43 against time t = η·step, one panel per activation, one curve per learning rate, gradient flow dashed. Measured: GD drifts {gdText}; {flowText}{(diverged > 0 ? $"; {diverged} run(s) diverged" : "")}."),
            new("drift-loss.png", "Fig. 3", $"Loss against t = η·step for the same runs (curves drawn nested so that each stays visible); final losses {string.Join(", ", result.Curves.GroupBy(c => c.Activation).Select(g => $"{g.Key} {ExperimentConsole.Sci(g.Min(c => c.FinalLoss))}–{ExperimentConsole.Sci(g.Max(c => c.FinalLoss))}"))}."),
        ];
    }
}
