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
            claims = DriftExperiment.Claims(result),
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
