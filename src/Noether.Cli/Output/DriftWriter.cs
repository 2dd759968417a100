using Noether.Symmetry;
using static Noether.Experiments.Format;

namespace Noether.Cli.Output;

/// <summary>The files, claims and table of <c>noether drift</c> (Fig. 3), also of a result merged from shards.</summary>
internal static class DriftWriter
{
    private static string Method(DriftCurve c) => c.IsGradientFlow ? "flow" : "gd";

    /// <summary>Writes drift.csv, summary.json and the figures of <paramref name="result"/> (also a result merged from shards) and prints the table.</summary>
    public static void Write(string outDir, string profile, DriftResult result, TimeSpan elapsed)
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
            eq41Holds = c.Eq41?.Holds(),
            seconds = c.Seconds,
        }).ToArray();
        var flows = result.FlowCurves();
        var descents = result.DescentCurves();
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

        DriftFigures.Drift(result, Path.Combine(outDir, "drift-q.png"));
        DriftFigures.Loss(result, Path.Combine(outDir, "drift-loss.png"));

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape("Fig. 3: drift of Q under GD vs gradient flow"))
            .AddColumn("σ").AddColumn("run").AddColumn(new TableColumn("steps").RightAligned()).AddColumn(new TableColumn("loss: start → end").RightAligned())
            .AddColumn(new TableColumn("max |ΔQ~|").RightAligned()).AddColumn(new TableColumn("eq. 41 error").RightAligned())
            .AddColumn(new TableColumn("eq. 42 bound violations").RightAligned()).AddColumn(new TableColumn("seconds").RightAligned());
        foreach (var c in result.Curves)
        {
            string run = c.IsGradientFlow ? "gradient flow" : $"GD η={c.LearningRate.ToString("G3", CultureInfo.InvariantCulture)}";
            string stepsText = c.IsGradientFlow ? $"t={c.Time[^1].ToString("G4", CultureInfo.InvariantCulture)} ({c.FlowSteps} RK)" : c.Step[^1].ToString(CultureInfo.InvariantCulture);
            string loss = $"{Sci(c.Loss[0])} → {Sci(c.FinalLoss)}{(c.Diverged ? " [red]diverged[/]" : "")}";
            string eq41 = c.Eq41 is { } e ? (e.ResolvableChecks > 0 ? Sci(e.MaxRelativeError) : $"{Sci(e.MaxErrorOverMagnitude)}*") : "–";
            string bound = c.Eq41 is { } b ? (b.BoundViolations == 0 ? "[green]0[/]" : $"[red]{b.BoundViolations}[/]") : "–";
            table.AddRow(Markup.Escape(c.Activation), Markup.Escape(run), Markup.Escape(stepsText), loss, Sci(c.MaxAbsDeltaNormalisedQ), eq41, bound,
                Fixed(c.Seconds, 1));
        }
        table.Caption(Markup.Escape("eq. 41 error: max |ΔQ − η²Q(∇L)| / |η²Q(∇L)|; *: / (|f₁| + |f₂|), no step resolvable; –: Q not quadratic"));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"wall {elapsed.TotalSeconds:F1} s; wrote drift.csv, summary.json, drift-q.png, drift-loss.png to {outDir}"));
    }

    // The report contract: the claims this run tests, judged by the rules of DriftClaims from the curves' numbers.
    private static List<Claim> Claims(DriftResult result)
    {
        static string Eta(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
        var claims = new List<Claim>();
        var flows = result.FlowCurves();
        var descents = result.DescentCurves();
        string setting = string.Create(CultureInfo.InvariantCulture,
            $"m={result.Settings.M}, h={result.Settings.H}, n={result.Settings.N}, X = I, {result.Settings.Steps} GD steps ({result.Settings.SigmoidSteps ?? result.Settings.Steps} for sigmoid)");
        if (result.WorstFlow() is var (worstCurve, worst))
        {
            claims.Add(DriftClaims.FlowConservesQ.Make([worst],
                $"max |ΔQ~| = {Sci(worst)} ({worstCurve.Activation}); σ ∈ {{{string.Join(", ", flows.Select(c => c.Activation))}}}",
                $"Dormand–Prince with tolerance {Sci(result.Settings.FlowTolerance)}; {setting}"));
        }
        if (descents.Length > 0)
        {
            var groups = result.DescentsByActivation();
            string Text((string Activation, DriftCurve[] ByEta) g) => $"{g.Activation}: " + string.Join(" / ", g.ByEta.Select(c => (c.Diverged ? "diverged " : "") + Sci(c.MaxAbsDeltaNormalisedQ)));
            string etas = string.Join(" / ", descents.Select(c => c.LearningRate).Distinct().OrderByDescending(e => e).Select(Eta));
            if (result.Settings.LearningRates.Count >= 2)
            {
                var parts = groups.Select(g => new[] { result.FlowDrift(g.Activation) }.Concat(g.ByEta.Select(DriftResult.JudgedDrift)).ToArray()).ToArray();
                var held = groups.Where((g, i) => DriftClaims.GdDrifts.Judge(parts[i]) == Verdict.Reproduced).Select(g => g.Activation).ToArray();
                claims.Add(DriftClaims.GdDrifts.Make(parts, $"max |ΔQ~| for η = {etas}: {string.Join("; ", groups.Select(Text))}",
                    held.Length == groups.Length ? setting : $"holds for {(held.Length == 0 ? "no σ" : string.Join(", ", held))}; {setting}"));
                var magnitudes = groups.Select(g => g.ByEta.Select(DriftResult.JudgedDrift).ToArray()).ToArray();
                claims.Add(DriftClaims.SameMagnitudeAcrossEta.Make(magnitudes,
                    "largest / smallest max |ΔQ~| over η: " + string.Join(", ", groups.Select((g, i) => $"{g.Activation} {Sci(magnitudes[i].Max() / magnitudes[i].Min())}")),
                    $"η = {etas}; {setting}"));
            }
            var largest = descents.MaxBy(c => c.MaxAbsDeltaNormalisedQ)!;
            claims.Add(DriftClaims.GdSmall.Make([descents.Select(DriftResult.JudgedDrift).ToArray()],
                $"largest max |ΔQ~| = {Sci(largest.MaxAbsDeltaNormalisedQ)} ({largest.Activation}, η = {Eta(largest.LearningRate)}){(descents.Any(c => c.Diverged) ? "; some runs diverged" : "")}",
                setting));
            if (result.Eq41Total() is { } total)
            {
                var checkedCurves = descents.Where(c => c.Eq41 is not null);
                long checks = total.Checks, resolvable = total.ResolvableChecks;
                double errMagnitude = total.MaxErrorOverMagnitude, errRelative = total.MaxRelativeError;
                claims.Add(DriftClaims.Eq41Exact.Make([errMagnitude, resolvable, errRelative],
                    $"{checks} steps checked ({string.Join(", ", checkedCurves.Select(c => c.Activation).Distinct())}): max error {Sci(errMagnitude)} relative to the terms' size" +
                        (resolvable > 0 ? $", {Sci(errRelative)} relative to ΔQ over {resolvable} resolvable steps" : "; no step moved Q by more than its rounding"),
                    "the printed factor η² is for Q = Tr[UᵀU − VVᵀ]; eq. 48's ½Tr form, used here, takes η²/2"));
                long violations = total.BoundViolations;
                double ratio = total.MaxBoundRatio;
                claims.Add(DriftClaims.Eq42Bound.Make([violations, checks],
                    $"{violations} violations in {checks} steps" + (resolvable > 0 ? $"; max |ΔQ| / bound = {Sci(ratio)} over the resolvable steps" : "")));
            }
        }
        return claims;
    }

    // Captions from the measured curves: what the run shows, not what the paper expects.
    private static FigureRef[] Figures(DriftResult result)
    {
        var flows = result.FlowCurves();
        var descents = result.DescentCurves().Where(c => !c.Diverged).ToArray();
        string flowText = flows.Length == 0 ? "no flow run"
            : $"the gradient flow's largest |ΔQ~| is {Sci(flows.Max(c => c.MaxAbsDeltaNormalisedQ))}";
        string gdText = descents.Length == 0 ? "every GD run diverged" : string.Join(", ", descents.GroupBy(c => c.LearningRate).OrderByDescending(g => g.Key)
            .Select(g => $"η = {g.Key.ToString("G3", CultureInfo.InvariantCulture)}: up to {Sci(g.Max(c => c.MaxAbsDeltaNormalisedQ))}"));
        int diverged = result.Curves.Count(c => c.Diverged);
        return
        [
            new("drift-q.png", "Fig. 3", $"Normalised drift |ΔQ~(t)| of eq. 43 against time t = η·step, one panel per activation, one curve per learning rate, gradient flow dashed. Measured: GD drifts {gdText}; {flowText}{(diverged > 0 ? $"; {diverged} run(s) diverged" : "")}."),
            new("drift-loss.png", "Fig. 3", $"Loss against t = η·step for the same runs (curves drawn nested so that each stays visible); final losses {string.Join(", ", result.Curves.GroupBy(c => c.Activation).Select(g => $"{g.Key} {Sci(g.Min(c => c.FinalLoss))}–{Sci(g.Max(c => c.FinalLoss))}"))}."),
        ];
    }
}
