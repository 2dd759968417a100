using Noether.Nn;
using static Noether.Experiments.Format;

namespace Noether.Cli.Output;

/// <summary>The files, claims and tables of <c>noether converge</c> (also of a Fig. 6 result merged from shards).</summary>
internal static class ConvergeWriter
{
    /// <summary>
    /// Writes the CSVs, figures and summary.json of the parts that ran (also of a Fig. 6 result merged from shards) and
    /// prints their tables and claims.
    /// </summary>
    internal static void Write(string outDir, string profile, string[] parts, EllipseConvergenceResult? ellipse, RadialConvergenceResult? radial,
        ConvergenceRateResult? rate, IReadOnlyDictionary<string, double> partSeconds, TimeSpan elapsed)
    {
        var claims = new List<Claim>();
        var figures = new List<FigureRef>();
        var files = new WrittenFiles(outDir);
        object? ellipseJson = ellipse is null ? null : Ellipse(files, ellipse, claims, figures);
        object? radialJson = radial is null ? null : Radial(files, radial, claims, figures);
        object? rateJson = rate is null ? null : Rate(files, rate, claims, figures);
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "converge",
            profile,
            parts,
            claims,
            figures,
            ellipse = ellipseJson,
            radial = radialJson,
            rate = rateJson,
            partSeconds,
            wallSeconds = elapsed.TotalSeconds,
        });
        files.Add("summary.json");
        ExperimentConsole.ClaimTable(claims);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"wall {elapsed.TotalSeconds:F1} s; wrote {files} to {outDir}"));
    }

    // ---- F.1 ellipse ------------------------------------------------------------------------------

    private static object Ellipse(WrittenFiles files, EllipseConvergenceResult r, List<Claim> claims, List<FigureRef> figures)
    {
        var csv = new CsvTable("q", "w1_0", "w2_0", "t", "loss_closed_form", "loss_numerical");
        foreach (var c in r.Curves)
            for (int i = 0; i < r.Times.Length; i++) csv.AddRow(c.Q, c.W10, c.W20, r.Times[i], c.ClosedFormLoss[i], c.NumericalLoss[i]);
        files.Save(csv, "ellipse.csv");
        files.Draw("converge-ellipse.png", path => ConvergeFigures.Ellipse(r, path));
        double maxErr = r.MaxRelativeError, maxDrift = r.MaxQDrift, spread = r.FinalLossSpread;
        var measuredEnds = r.FinalLosses;
        var slowest = r.Curves.MaxBy(c => c.NumericalLoss[^1])!;
        var fastest = r.Curves.MinBy(c => c.NumericalLoss[^1])!;
        figures.Add(new FigureRef("converge-ellipse.png", null,
            $"Appendix F.1: loss of the ellipse L = w₁² + {G(r.Settings.A)}·w₂² under gradient flow from one initial loss and several Q = w₁^{{2a}}/w₂²: lines are the closed form, dots the numerical flow. Measured: at t = {G(r.Times[^1])} the numerical L ranges over a factor {G(spread)}, from {Sci(fastest.NumericalLoss[^1])} (Q = {G(fastest.Q)}) to {Sci(slowest.NumericalLoss[^1])} (Q = {G(slowest.Q)})."));

        claims.Add(ConvergenceClaims.EllipseClosedForm.Make([maxErr], $"max relative error {Sci(maxErr)}; max Q drift along the flow {Sci(maxDrift)}",
            $"a = {G(r.Settings.A)}, Dormand–Prince rtol {G(r.Settings.RelativeTolerance)}"));
        claims.Add(ConvergenceClaims.EllipseQSetsRate.Make([measuredEnds],
            $"numerical L(T = {G(r.Times[^1])}) ranges over a factor {G(spread)} across Q ∈ {{{string.Join(", ", r.Curves.Select(c => G(c.Q)))}}}",
            r.Settings.A == 1 ? "a = 1 (a circle): the paper's special case where Q does not act on the rate" : "larger Q puts more of L₀ in w₁, which decays as e^{−4t}; for a > 1 that is the slower direction"));

        var table = new Table().Border(TableBorder.Rounded).Title("F.1 ellipse: closed form vs numerical gradient flow")
            .AddColumn(new TableColumn("Q").RightAligned()).AddColumn(new TableColumn("w₁(0)").RightAligned()).AddColumn(new TableColumn("w₂(0)").RightAligned())
            .AddColumn(new TableColumn($"L(t={G(r.Times[^1])})").RightAligned()).AddColumn(new TableColumn("max rel. error").RightAligned())
            .AddColumn(new TableColumn("max Q drift").RightAligned()).AddColumn(new TableColumn("∂L/∂Q at T").RightAligned());
        foreach (var c in r.Curves)
            table.AddRow(G(c.Q), G(c.W10, 4), G(c.W20, 4), Sci(c.ClosedFormLoss[^1]), Sci(c.MaxRelativeError), Sci(c.MaxQDrift), Sci(c.SensitivityAtEnd));
        ExperimentConsole.Write(table);

        return new
        {
            settings = new { r.Settings.A, r.Settings.InitialLoss, q = r.Settings.QValues, r.Settings.Duration, r.Settings.Points, r.Settings.RelativeTolerance },
            curves = r.Curves.Select(c => new { q = c.Q, w10 = c.W10, w20 = c.W20, finalLoss = c.ClosedFormLoss[^1], c.MaxRelativeError, c.MaxQDrift, sensitivityAtEnd = c.SensitivityAtEnd }),
            maxRelativeError = maxErr,
            maxQDrift = maxDrift,
        };
    }

    // ---- F.2 radial / Fig. 7 ------------------------------------------------------------------------

    private static object Radial(WrittenFiles files, RadialConvergenceResult r, List<Claim> claims, List<FigureRef> figures)
    {
        var s = r.Settings;
        bool gd = s.RunDescent;
        var csv = new CsvTable("scale", "q", "step", "time", "mode", "sigma_y", "lambda", "sigma_flow", "sigma_eq59", "bound_eq69", "sigma_gd", "loss_flow", "loss_gd");
        foreach (var run in r.Runs)
            for (int t = 0; t < r.Times.Length; t++)
                for (int i = 0; i < r.SingularValues.Length; i++)
                    csv.AddRow(run.Scale, run.Q, r.RecordedSteps[t], r.Times[t], i + 1, r.SingularValues[i], run.Lambda[i], run.FlowSigma[t][i], run.OdeSigma[t][i], run.Bound[t][i],
                        gd ? run.DescentSigma[t][i] : null, run.FlowLoss[t], gd ? run.DescentLoss[t] : null);
        files.Save(csv, "radial.csv");
        files.Draw("converge-radial.png", path => ConvergeFigures.Radial(r, path));
        double flowDev = r.MaxFlowDeviation, flowDrift = r.MaxFlowLambdaDrift, excess = r.MaxBoundExcess;
        int violations = r.BoundViolations;
        int boundPoints = r.Runs.Count * r.SingularValues.Length * r.Times.Length;
        claims.Add(ConvergenceClaims.RadialFlowEq59.Make([flowDev], $"max relative deviation {Sci(flowDev)} over {r.Runs.Count} Q × {r.SingularValues.Length} modes × {r.Times.Length} times",
            "flow integrated on the full matrices (restricted to the spectral family) by Dormand–Prince"));
        claims.Add(ConvergenceClaims.RadialLambdaConserved.Make([flowDrift], $"max relative drift {Sci(flowDrift)}"));
        claims.Add(ConvergenceClaims.RadialEq69Bound.Make([violations, boundPoints], $"{violations} violations; max excess {Sci(excess)} (relative to σ^Y)",
            "violations counted above the integrator's noise floor 10·rtol·σ^Y"));
        var divergedRuns = gd ? r.Runs.Where(x => x.DescentDivergedAtStep is not null).ToArray() : [];
        if (gd)
        {
            var bad = r.Runs.Where(x => x.DescentDivergedAtStep is not null || !(x.MaxDescentLambdaDrift <= ConvergenceClaims.DescentLambdaTolerance)).ToArray();
            string measured = string.Join("; ", r.Runs.Select(x => x.DescentDivergedAtStep is { } d
                ? $"μ = {G(x.Scale)}: diverged at step {d}"
                : $"μ = {G(x.Scale)}: σ deviation {Sci(x.MaxDescentDeviation)}, λ drift {Sci(x.MaxDescentLambdaDrift)}"));
            claims.Add(ConvergenceClaims.RadialGdVsFlow.Make(r.Runs.Select(x => new[] { x.DescentDivergedAtStep is null ? 0.0 : 1.0, x.MaxDescentLambdaDrift }).ToArray(), measured,
                bad.Length == 0 ? null : $"with v̄ small the gradients scale like 1/v̄³, so GD at this η is unstable or drifts at μ ∈ {{{string.Join(", ", bad.Select(x => G(x.Scale)))}}}; the gradient flow conserves λ there",
                statement: $"GD at η = {G(s.LearningRate)}{(s.LearningRate == 1e-5 ? " (the paper's)" : " (the paper used 1e-5)")}, {s.Steps} steps, follows the gradient flow and conserves λᵢ."));
        }
        var times = r.FlowTimesToOnePercent;
        double rho = r.SpearmanQVsTimeToOnePercent;
        claims.Add(ConvergenceClaims.Fig7SmallerQFaster.Make([rho],
            $"time to 1% of L(0): {string.Join(", ", r.Runs.Zip(times, (x, t) => $"Q = {G(x.Q)}: {(t is { } v ? G(v) : $"> {G(r.Times[^1])}")}"))}; ρ = {G(rho)}",
            times.Any(t => t is null) ? "runs that did not reach 1% within the span rank last (censored)" : null));
        var order = r.Runs.Zip(times).OrderBy(p => p.First.Q).ToArray();
        figures.Add(new FigureRef("converge-radial.png", "Fig. 7",
            $"Appendix F.2: singular values σᵢ^X(t) of the radial network U g(V) from spectral initialisations of {r.Runs.Count} Q: the gradient flow (colours), eq. 59 solved on its own (dashed) and GD at η = {G(s.LearningRate)} (circles{(divergedRuns.Length > 0 ? $"; absent for μ ∈ {{{string.Join(", ", divergedRuns.Select(x => G(x.Scale)))}}}, where GD diverged" : "")}). " +
            $"Measured flow time to 1% of L(0), by increasing Q: {string.Join(", ", order.Select(p => p.Second is { } t ? G(t) : "not reached"))} (Spearman ρ = {G(rho)})."));

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"Fig. 7 radial network: gradient flow vs eq. 59 and eq. 69, GD at η = {G(s.LearningRate)} ({s.Steps} steps)"))
            .AddColumn(new TableColumn("μ").RightAligned()).AddColumn(new TableColumn("Q").RightAligned()).AddColumn(new TableColumn("flow vs eq. 59").RightAligned())
            .AddColumn(new TableColumn("flow λ drift").RightAligned()).AddColumn(new TableColumn("eq. 69 violations").RightAligned())
            .AddColumn(new TableColumn("t to 1% L₀").RightAligned())
            .AddColumn(new TableColumn("GD vs eq. 59").RightAligned()).AddColumn(new TableColumn("GD λ drift").RightAligned()).AddColumn("GD");
        for (int k = 0; k < r.Runs.Count; k++)
        {
            var x = r.Runs[k];
            table.AddRow(G(x.Scale), G(x.Q, 4), Sci(x.MaxFlowDeviation), Sci(x.MaxFlowLambdaDrift), x.BoundViolations == 0 ? "[green]0[/]" : $"[red]{x.BoundViolations}[/]",
                times[k] is { } t ? G(t) : "–",
                gd ? Sci(x.MaxDescentDeviation) : "–", gd ? Sci(x.MaxDescentLambdaDrift) : "–",
                !gd ? "–" : x.DescentDivergedAtStep is { } d ? $"[red]diverged at step {d}[/]" : x.MaxDescentLambdaDrift > 1e-3 ? "[yellow]finite, λ not conserved[/]" : "[green]close to the flow[/]");
        }
        ExperimentConsole.Write(table);

        return new
        {
            settings = new { s.Outputs, s.Inputs, scales = s.ScaleList, s.LearningRate, s.Steps, s.Records, s.Seed, s.RelativeTolerance, s.RunDescent, s.TrackUnrestrictedFlow },
            singularValues = r.SingularValues,
            runs = r.Runs.Select((x, k) => new
            {
                scale = x.Scale, q = x.Q, lambda = x.Lambda, x.MaxFlowDeviation, x.MaxFlowLambdaDrift, x.BoundViolations, x.MaxBoundExcess,
                x.UnrestrictedDeparture, x.UnrestrictedMaxOffDiagonal, flowTimeToOnePercent = times[k],
                maxDescentDeviation = gd ? x.MaxDescentDeviation : (double?)null, maxDescentLambdaDrift = gd ? x.MaxDescentLambdaDrift : (double?)null,
                x.MaxDescentOffDiagonal, x.DescentDivergedAtStep, x.FlowSteps, x.UnrestrictedSteps,
            }),
            maxFlowDeviation = flowDev,
            maxFlowLambdaDrift = flowDrift,
            boundViolations = violations,
            spearmanQVsTimeToOnePercent = rho,
        };
    }

    // ---- Fig. 6 ---------------------------------------------------------------------------------------

    private static object Rate(WrittenFiles files, ConvergenceRateResult r, List<Claim> claims, List<FigureRef> figures)
    {
        var s = r.Settings;
        var csv = new CsvTable("activation", "std_u", "std_v", "q", "final_q", "initial_loss", "final_loss", "steps_to_threshold", "diverged");
        foreach (var x in r.Runs) csv.AddRow(Name(x.Activation), x.StdU, x.StdV, x.Q, x.FinalQ, x.InitialLoss, x.FinalLoss, x.StepsToThreshold, x.Diverged);
        files.Save(csv, "rate.csv");
        var curves = new CsvTable("activation", "std_u", "std_v", "q", "step", "loss");
        foreach (var x in r.Runs)
            for (int i = 0; i < x.Steps.Length; i++) curves.AddRow(Name(x.Activation), x.StdU, x.StdV, x.Q, x.Steps[i], x.Losses[i]);
        files.Save(curves, "rate-curves.csv");
        files.Draw("converge-rate.png", path => ConvergeFigures.Rate(r, path));
        figures.Add(new FigureRef("converge-rate.png", "Fig. 6",
            $"GD steps until the loss falls to {G(s.ThresholdFraction)} × the zero-predictor loss, against Q at initialisation, one panel per σ; Q is swept by the init stds of U and V ({string.Join(", ", s.StdUList.Select(v => G(v)))} each). Measured Spearman ρ against Q: {string.Join(", ", r.Correlations.Select(c => $"{Name(c.Activation)} {G(c.SpearmanCensored, 2)}"))}; against |Q|: {string.Join(", ", r.Correlations.Select(c => $"{Name(c.Activation)} {G(c.SpearmanMagnitude, 2)}"))}; {r.Runs.Count(x => x.StepsToThreshold is null)} of {r.Runs.Count} runs never reached the threshold."));

        string perActivation(Func<ConvergenceCorrelation, double> f) => string.Join(", ", r.Correlations.Select(c => $"{Name(c.Activation)} {G(f(c), 2)}"));
        claims.Add(ConvergenceClaims.Fig6StepsCorrelate.Make(r.Correlations.Select(c => new[] { c.SpearmanCensored }).ToArray(), $"ρ vs Q: {perActivation(c => c.SpearmanCensored)}",
            $"{s.StdUList.Count * s.StdVList.Count} inits per σ; a run that never reached the threshold counts as {s.MaxSteps + 1} steps"));
        claims.Add(ConvergenceClaims.Fig6StepsFollowAbsQ.Measure($"ρ vs |Q|: {perActivation(c => c.SpearmanMagnitude)}"));

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"Fig. 6: GD steps to L ≤ {Sci(r.Threshold)} (= {G(s.ThresholdFraction)} × L(U = 0)), lr {G(s.LearningRate)}, ≤ {s.MaxSteps} steps"))
            .AddColumn("σ").AddColumn(new TableColumn("reached").RightAligned()).AddColumn(new TableColumn("Q range").RightAligned())
            .AddColumn(new TableColumn("steps range").RightAligned()).AddColumn(new TableColumn("ρ(Q, steps)").RightAligned())
            .AddColumn(new TableColumn("ρ(|Q|, steps)").RightAligned()).AddColumn(new TableColumn("ρ reached only").RightAligned());
        foreach (var c in r.Correlations)
        {
            var mine = r.Runs.Where(x => x.Activation == c.Activation).ToArray();
            var steps = mine.Where(x => x.StepsToThreshold is not null).Select(x => x.StepsToThreshold!.Value).ToArray();
            table.AddRow(Name(c.Activation), $"{c.Reached}/{c.Runs}", $"{G(mine.Min(x => x.Q))} … {G(mine.Max(x => x.Q))}",
                steps.Length == 0 ? "–" : $"{steps.Min()} … {steps.Max()}", G(c.SpearmanCensored, 2), G(c.SpearmanMagnitude, 2), G(c.SpearmanReached, 2));
        }
        ExperimentConsole.Write(table);

        return new
        {
            settings = new
            {
                activations = s.ActivationList.Select(Name), s.Outputs, s.Inputs, s.Hidden, stdsU = s.StdUList, stdsV = s.StdVList, s.LearningRate, s.MaxSteps,
                s.ThresholdFraction, loss = s.MeanReduced ? "‖Y − F‖²/(m·k) (PyTorch MSELoss)" : "½‖Y − F‖²", s.Seed,
                seeding = "each init drawn from its own stream, seeded by (seed, σ_U index, σ_V index): independent items",
            },
            threshold = r.Threshold,
            zeroPredictorLoss = r.ZeroPredictorLoss,
            runs = r.Runs.Select(x => new { activation = Name(x.Activation), x.StdU, x.StdV, x.Q, x.FinalQ, x.InitialLoss, x.FinalLoss, x.StepsToThreshold, x.Diverged }),
            correlations = r.Correlations.Select(c => new
            {
                activation = Name(c.Activation), c.Reached, c.Runs, spearmanQ = c.SpearmanCensored, spearmanAbsQ = c.SpearmanMagnitude, spearmanQReachedOnly = c.SpearmanReached,
            }),
        };
    }

    /// <summary><see cref="Format.Name"/>, for callers not yet switched to <see cref="Format"/>.</summary>
    public static string Name(ActivationKind a) => Format.Name(a);

    /// <summary><see cref="ExperimentConsole.ClaimTable"/>, for callers not yet switched to it.</summary>
    public static void ClaimTable(IReadOnlyList<Claim> claims) => ExperimentConsole.ClaimTable(claims);
}
