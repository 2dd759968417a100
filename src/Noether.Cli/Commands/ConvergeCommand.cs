using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Experiments;
using Noether.Nn;
using Noether.Serialization;
using ScottPlot;
using Spectre.Console;

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
        var seed = CommonOptions.Seed();
        var shard = CommonOptions.Shard();
        shard.Description = "With --part rate only: run part i of n of the Fig. 6 grid (σ × σ_U × σ_V; i/n, 1 ≤ i ≤ n, e.g. 2/4); join the parts with `noether merge`. The ellipse and radial parts are small and not sharded.";
        var output = CommonOptions.Out("results/converge");
        var force = CommonOptions.Force();

        var command = new Command("converge", "Appendix F: convergence rate against Q — the ellipse (F.1), the radial network against eq. 59 and the eq. 69 bound (Fig. 7), and GD steps to near-convergence against Q per σ (Fig. 6).")
        {
            profile, part, seed, shard, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            string profileName = parse.GetValue(profile)!;
            var parts = parse.GetValue(part)!;
            var (ellipseSettings, radialSettings, rateSettings) = ForProfile(profileName, parse.GetValue(seed));
            if (parse.GetValue(shard) is { } sharded)
            {
                // Only Fig. 6 is a grid worth splitting; a shard runs nothing else, so the merged output is that of `--part rate`.
                if (!parts.SequenceEqual(["rate"]))
                    throw new ArgumentException($"--shard {sharded} splits the Fig. 6 grid only: add --part rate (got --part {string.Join(",", parts)}; run ellipse and radial unsharded with --part ellipse,radial)");
                rateSettings = rateSettings with { Shard = sharded };
            }
            string outDir = ExperimentConsole.PrepareOutput(parse.GetValue(output)!, parse.GetValue(force), out bool created);
            return Task.FromResult(ExperimentConsole.WithOutput(outDir, created, () =>
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
                Write(outDir, profileName, parts, ellipse, radial, rate, seconds, clock.Elapsed);
                if (rateSettings.Shard is { } done)
                    ShardOutput.Complete(outDir, "converge", profileName, done, ConvergenceRate.GridSize(rateSettings), rateSettings, null, rate!.Runs,
                        ["rate.csv", "rate-curves.csv"], clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    /// <summary>
    /// Writes the CSVs, figures and summary.json of the parts that ran (also of a Fig. 6 result merged from shards) and
    /// prints their tables and claims.
    /// </summary>
    internal static void Write(string outDir, string profile, string[] parts, EllipseConvergenceResult? ellipse, RadialConvergenceResult? radial,
        ConvergenceRateResult? rate, IReadOnlyDictionary<string, double> partSeconds, TimeSpan elapsed)
    {
        var claims = new List<Claim>();
        var figures = new List<FigureRef>();
        var files = new List<string>();
        object? ellipseJson = ellipse is null ? null : ConvergeWriter.Ellipse(outDir, ellipse, claims, figures, files);
        object? radialJson = radial is null ? null : ConvergeWriter.Radial(outDir, radial, claims, figures, files);
        object? rateJson = rate is null ? null : ConvergeWriter.Rate(outDir, rate, claims, figures, files);
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
        ConvergeWriter.ClaimTable(claims);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"wall {elapsed.TotalSeconds:F1} s; wrote {string.Join(", ", files)} to {outDir}"));
    }

    /// <summary>Sweep progress as the console's progress.</summary>
    internal static IProgress<SweepProgress> Adapt(IProgress<ExperimentProgress> p) =>
        new InlineProgress<SweepProgress>(s => p.Report(new ExperimentProgress(s.Label, s.Done, s.Total)));
}

/// <summary>The files, claims and tables of <see cref="ConvergeCommand"/>.</summary>
internal static class ConvergeWriter
{
    private static string G(double v, int digits = 3) => double.IsNaN(v) ? "NaN" : v.ToString("G" + digits, CultureInfo.InvariantCulture);

    private static string Sci(double v) => ExperimentConsole.Sci(v);

    // ---- F.1 ellipse ------------------------------------------------------------------------------

    public static object Ellipse(string outDir, EllipseConvergenceResult r, List<Claim> claims, List<FigureRef> figures, List<string> files)
    {
        var csv = new CsvTable("q", "w1_0", "w2_0", "t", "loss_closed_form", "loss_numerical");
        foreach (var c in r.Curves)
            for (int i = 0; i < r.Times.Length; i++) csv.AddRow(c.Q, c.W10, c.W20, r.Times[i], c.ClosedFormLoss[i], c.NumericalLoss[i]);
        csv.Save(Path.Combine(outDir, "ellipse.csv"));
        files.Add("ellipse.csv");

        var plot = Figure.Create($"F.1 ellipse L = w₁² + {G(r.Settings.A)}·w₂², L(0) = {G(r.Settings.InitialLoss)}", "t (gradient-flow time)", "log10 L(t)");
        for (int k = 0; k < r.Curves.Count; k++)
        {
            var c = r.Curves[k];
            var color = Panels.Palette[k % Panels.Palette.Length];
            Panels.Line(plot, r.Times, c.ClosedFormLoss.Select(Math.Log10).ToArray(), color, $"Q = {G(c.Q)} closed form", 2);
            var dots = plot.Add.ScatterPoints(r.Times.Where((_, i) => i % 5 == 0).ToArray(), c.NumericalLoss.Where((_, i) => i % 5 == 0).Select(Math.Log10).ToArray(), color);
            dots.MarkerSize = 5;
        }
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "dots: Dormand–Prince flow", MarkerShape = MarkerShape.FilledCircle, MarkerColor = Colors.Black });
        plot.ShowLegend(Alignment.LowerLeft);
        Figure.Save(plot, Path.Combine(outDir, "converge-ellipse.png"));
        files.Add("converge-ellipse.png");
        double maxErr = r.Curves.Max(c => c.MaxRelativeError), maxDrift = r.Curves.Max(c => c.MaxQDrift);
        var measuredEnds = r.Curves.Select(c => c.NumericalLoss[^1]).ToArray();
        double spread = measuredEnds.Max() / measuredEnds.Min();
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

    /// <summary>First recorded time at which the loss is ≤ 1% of its start, or null.</summary>
    private static double? TimeToOnePercent(double[] times, double[] loss)
    {
        for (int i = 0; i < loss.Length; i++) if (loss[i] <= 1e-2 * loss[0]) return times[i];
        return null;
    }

    public static object Radial(string outDir, RadialConvergenceResult r, List<Claim> claims, List<FigureRef> figures, List<string> files)
    {
        var s = r.Settings;
        bool gd = s.RunDescent;
        var csv = new CsvTable("scale", "q", "step", "time", "mode", "sigma_y", "lambda", "sigma_flow", "sigma_eq59", "bound_eq69", "sigma_gd", "loss_flow", "loss_gd");
        foreach (var run in r.Runs)
            for (int t = 0; t < r.Times.Length; t++)
                for (int i = 0; i < r.SingularValues.Length; i++)
                    csv.AddRow(run.Scale, run.Q, r.RecordedSteps[t], r.Times[t], i + 1, r.SingularValues[i], run.Lambda[i], run.FlowSigma[t][i], run.OdeSigma[t][i], run.Bound[t][i],
                        gd ? run.DescentSigma[t][i] : null, run.FlowLoss[t], gd ? run.DescentLoss[t] : null);
        csv.Save(Path.Combine(outDir, "radial.csv"));
        files.Add("radial.csv");

        var plots = new List<Plot>();
        foreach (var run in r.Runs)
        {
            var plot = Figure.Create($"Fig. 7: μ = {G(run.Scale)}, Q = Tr[ŪᵀŪ + V̄ᵀV̄] = {G(run.Q)}", "log10 t  (t = η · step)", "σᵢ^X(t)");
            var x = r.Times.Skip(1).Select(Math.Log10).ToArray();
            for (int i = 0; i < r.SingularValues.Length; i++)
            {
                var color = Panels.Palette[i % Panels.Palette.Length];
                Panels.Line(plot, x, run.FlowSigma.Skip(1).Select(v => v[i]).ToArray(), color, i == 0 ? "gradient flow (one colour per mode)" : "", 2.5f);
                Panels.Line(plot, x, run.OdeSigma.Skip(1).Select(v => v[i]).ToArray(), Colors.Black, i == 0 ? "eq. 59 solved on its own" : "", 1, LinePattern.Dashed);
                if (gd)
                {
                    var pts = Enumerable.Range(1, r.Times.Length - 1).Where(t => double.IsFinite(run.DescentSigma[t][i])).ToArray();
                    if (pts.Length > 0)
                    {
                        var dots = plot.Add.ScatterPoints(pts.Select(t => Math.Log10(r.Times[t])).ToArray(), pts.Select(t => run.DescentSigma[t][i]).ToArray(), color);
                        dots.MarkerSize = 4;
                        dots.MarkerShape = MarkerShape.OpenCircle;
                        if (i == 0) dots.LegendText = $"GD η = {G(s.LearningRate)}{(run.DescentDivergedAtStep is { } d ? $" (diverged at step {d})" : "")}";
                    }
                }
            }
            plot.ShowLegend(Alignment.UpperLeft);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), Path.Combine(outDir, "converge-radial.png"));
        files.Add("converge-radial.png");
        double flowDev = r.Runs.Max(x => x.MaxFlowDeviation), flowDrift = r.Runs.Max(x => x.MaxFlowLambdaDrift);
        int violations = r.Runs.Sum(x => x.BoundViolations);
        double excess = r.Runs.Max(x => x.MaxBoundExcess);
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
        var times = r.Runs.Select(x => TimeToOnePercent(r.Times, x.FlowLoss)).ToArray();
        var qs = r.Runs.Select(x => x.Q).ToArray();
        // A run that never reached 1% ranks after every run that did (censored at twice the span; ties share a rank).
        double rho = r.Runs.Count >= 2 && times.Any(t => t is not null)
            ? Landscape.RankCorrelation.Spearman(qs, times.Select(t => t ?? 2 * r.Times[^1]).ToArray()) : double.NaN;
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

    public static object Rate(string outDir, ConvergenceRateResult r, List<Claim> claims, List<FigureRef> figures, List<string> files)
    {
        var s = r.Settings;
        var csv = new CsvTable("activation", "std_u", "std_v", "q", "final_q", "initial_loss", "final_loss", "steps_to_threshold", "diverged");
        foreach (var x in r.Runs) csv.AddRow(Name(x.Activation), x.StdU, x.StdV, x.Q, x.FinalQ, x.InitialLoss, x.FinalLoss, x.StepsToThreshold, x.Diverged);
        csv.Save(Path.Combine(outDir, "rate.csv"));
        var curves = new CsvTable("activation", "std_u", "std_v", "q", "step", "loss");
        foreach (var x in r.Runs)
            for (int i = 0; i < x.Steps.Length; i++) curves.AddRow(Name(x.Activation), x.StdU, x.StdV, x.Q, x.Steps[i], x.Losses[i]);
        curves.Save(Path.Combine(outDir, "rate-curves.csv"));
        files.Add("rate.csv");
        files.Add("rate-curves.csv");

        var plots = new List<Plot>();
        foreach (var group in r.Runs.GroupBy(x => x.Activation))
        {
            var c = r.Correlations.Single(k => k.Activation == group.Key);
            var plot = Figure.Create($"Fig. 6: σ = {Name(group.Key)}  (ρ vs Q {G(c.SpearmanCensored, 2)}, vs |Q| {G(c.SpearmanMagnitude, 2)})", "Q at initialisation (eq. 48)", "log10 steps to L ≤ threshold");
            var reached = group.Where(x => x.StepsToThreshold is not null).ToArray();
            var never = group.Where(x => x.StepsToThreshold is null).ToArray();
            if (reached.Length > 0)
            {
                var pts = plot.Add.ScatterPoints(reached.Select(x => x.Q).ToArray(), reached.Select(x => Math.Log10(Math.Max(1, x.StepsToThreshold!.Value))).ToArray(), Panels.Palette[0]);
                pts.MarkerSize = 8;
                pts.LegendText = "reached the threshold";
            }
            if (never.Length > 0)
            {
                var pts = plot.Add.ScatterPoints(never.Select(x => x.Q).ToArray(), never.Select(_ => Math.Log10(s.MaxSteps)).ToArray(), Panels.Palette[3]);
                pts.MarkerSize = 9;
                pts.MarkerShape = MarkerShape.OpenTriangleUp;
                pts.LegendText = $"not within {s.MaxSteps} steps";
            }
            plot.ShowLegend(Alignment.UpperRight);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), Path.Combine(outDir, "converge-rate.png"));
        files.Add("converge-rate.png");
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

    /// <summary>The CLI name of an activation.</summary>
    public static string Name(ActivationKind a) => a switch
    {
        ActivationKind.Identity => "identity",
        ActivationKind.Relu => "relu",
        ActivationKind.LeakyRelu => "leaky-relu",
        ActivationKind.Sigmoid => "sigmoid",
        ActivationKind.Tanh => "tanh",
        ActivationKind.Radial => "radial",
        ActivationKind.Custom => "custom",
        _ => throw new ArgumentOutOfRangeException(nameof(a), a, $"activation = {a}: expected a defined ActivationKind"),
    };

    // ---- claims table -----------------------------------------------------------------------------------

    public static void ClaimTable(IReadOnlyList<Claim> claims)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Claims: predicted vs measured")
            .AddColumn("claim").AddColumn("source").AddColumn("predicted").AddColumn("measured").AddColumn("verdict");
        foreach (var c in claims)
        {
            string verdict = c.Verdict switch
            {
                Verdict.Reproduced => "[green]reproduced[/]",
                Verdict.Corrected => "[green]corrected[/]",
                Verdict.Partial => "[yellow]partial[/]",
                Verdict.Measured => "measured",
                Verdict.Passed => "[green]passed (own check)[/]",
                Verdict.Failed => "[red]failed (own check)[/]",
                _ => "[red]not reproduced[/]",
            };
            table.AddRow(Markup.Escape(c.Id), Markup.Escape(c.Source), Markup.Escape(c.Predicted), Markup.Escape(c.Measured), verdict);
        }
        ExperimentConsole.Write(table);
    }
}
