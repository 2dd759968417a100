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
using Color = ScottPlot.Color;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether symmetry-check</c>: on a user-chosen MLP (widths n₀, …, n_L, one hidden activation), checks the linear group
/// action of σ (loss invariance, eq. 1, under the product action of eqs. 17–18; ⟨∇L, M̄_θ⟩ = 0, Prop. 5) and the
/// data-dependent action of Prop. 8 on one hidden layer (output kept on its batch, changed elsewhere, composition law
/// eq. 16, conditioning), then sweeps ε of g = I + εM to show how the conditioning of σ(gZ) grows.
/// </summary>
internal static class SymmetryCheckCommand
{
    private const double LinearLimit = SymmetryClaims.LinearLimit;
    private const double NonlinearLimit = SymmetryClaims.NonlinearLimit;
    private const double ControlLimit = SymmetryClaims.ControlLimit;
    private const double FreshFactor = SymmetryClaims.FreshFactor;
    private const double ConditionWarning = SymmetryClaims.ConditionWarning;
    private static readonly double[] SweepEpsilons = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1];

    /// <summary>One line of the verdict table: judged by <paramref name="Rule"/> from <paramref name="Numbers"/> (null for a measurement).</summary>
    private sealed record Check(string Group, string Name, double Value, string Expectation, ClaimRule Rule, double[] Numbers)
    {
        public Verdict Verdict => Rule.Judge(Numbers);

        public bool? Pass => Rule.IsMeasurement ? null : Verdict is Verdict.Reproduced or Verdict.Corrected or Verdict.Passed;
    }

    public static Command Create()
    {
        var defaults = new SymmetryCheckSettings();
        var arch = new Option<int[]>("--arch")
        {
            Description = "Widths n₀,n₁,…,n_L of the MLP (at least three: input, a hidden layer, output), e.g. 8,6,5,3.",
            DefaultValueFactory = _ => [.. defaults.Widths],
            HelpName = "n0,n1,…,nL",
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
        };
        arch.CustomParser = r =>
        {
            string text = string.Join(",", r.Tokens.Select(t => t.Value));
            var parts = text.Split(',', StringSplitOptions.TrimEntries);
            var widths = new List<int>();
            foreach (var p in parts)
            {
                if (!int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int w) || w <= 0 || w > 4096)
                {
                    r.AddError($"--arch: '{text}' is not a list of widths such as 8,6,5,3 ('{p}' is not a positive integer ≤ 4096)");
                    return [];
                }
                widths.Add(w);
            }
            if (widths.Count < 3) r.AddError($"--arch: '{text}' has {widths.Count} width(s); an MLP needs at least n₀,n₁,n₂ (input, one hidden layer, output)");
            return widths.ToArray();
        };
        var activation = new Option<string>("--activation") { Description = "Hidden activation: " + ListOptions.ActivationNames + ".", DefaultValueFactory = _ => defaults.Activation };
        activation.Validators.Add(r =>
        {
            if (!r.TryGet(out string? text)) return;
            string name = text ?? "";
            try { Activation.Parse(name); }
            catch (ArgumentException) { r.AddError($"--activation: unknown activation '{name}'; valid: {ListOptions.ActivationNames}"); }
        });
        var batch = CommonOptions.PositiveInt("--batch-size", "Samples per batch k (the nonlinear action needs k ≤ the width of its layer).", defaults.BatchSize);
        var draws = CommonOptions.PositiveInt("--draws", "Random (θ, X, Y, g) draws.", defaults.Draws);
        var scale = CommonOptions.PositiveDouble("--group-scale", "Linear group elements are exp(scale·M), M random in each layer's algebra.", defaults.GroupScale);
        var epsilon = CommonOptions.PositiveDouble("--epsilon", "The nonlinear action uses g = I + εM, M with N(0, 1) entries.", defaults.NonlinearEpsilon);
        var layer = new Option<int?>("--layer") { Description = "Hidden layer i (1 … L−1) the nonlinear action acts on (default: the last)." };
        var weightScale = CommonOptions.PositiveDouble("--weight-scale", "Weight entries ~ N(0, (scale/√fan-in)²).", defaults.WeightScale);
        var noSweep = new Option<bool>("--no-sweep") { Description = "Skip the ε sweep of the nonlinear action (and its figure)." };
        var seed = CommonOptions.Seed();
        var output = CommonOptions.Out("results/symmetry-check");
        var force = CommonOptions.Force();

        var command = new Command("symmetry-check", "Check the symmetries of a user-chosen MLP: loss invariance and ⟨∇L, M̄θ⟩ = 0 for σ's linear group, and the nonlinear action of Prop. 8 (kept output, composition law, condition numbers).")
        {
            arch, activation, batch, draws, scale, epsilon, layer, weightScale, noSweep, seed, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            // Cross-option checks before --out is touched.
            var widths = parse.GetValue(arch)!;
            int hidden = widths.Length - 2;
            int chosen = parse.GetValue(layer) ?? hidden;
            if (chosen < 1 || chosen > hidden)
                throw new ArgumentException($"--layer must be a hidden layer between 1 and {hidden} for --arch {string.Join(",", widths)} (got {chosen})");
            int k = parse.GetValue(batch);
            if (k > widths[chosen])
                throw new ArgumentException($"--batch-size: the nonlinear action on hidden layer {chosen} (width {widths[chosen]}) needs k ≤ {widths[chosen]} samples per batch (got {k}); Prop. 8 keeps the output only when σ(gZ) has full column rank k ≤ h");
            var settings = new SymmetryCheckSettings
            {
                Widths = widths,
                Activation = parse.GetValue(activation)!,
                BatchSize = parse.GetValue(batch),
                Draws = parse.GetValue(draws),
                GroupScale = parse.GetValue(scale),
                NonlinearEpsilon = parse.GetValue(epsilon),
                NonlinearLayer = parse.GetValue(layer),
                WeightScale = parse.GetValue(weightScale),
                Seed = parse.GetValue(seed),
            };
            bool sweep = !parse.GetValue(noSweep);
            string outDir = ExperimentConsole.PrepareOutput(parse.GetValue(output)!, parse.GetValue(force), out bool created);
            return Task.FromResult(ExperimentConsole.WithOutput(outDir, created, () =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Symmetry check of the MLP {string.Join("→", settings.Widths)} with σ = {Activation.Parse(settings.Activation).Name}: {settings.Draws} draws, batch k = {settings.BatchSize}, seed {settings.Seed}"));
                var clock = Stopwatch.StartNew();
                var epsilons = sweep ? SweepEpsilons : [];
                var (main, swept) = ExperimentConsole.Run("symmetry-check", (p, t) =>
                {
                    int runs = 1 + epsilons.Length;
                    var main = SymmetryCheckExperiment.Run(settings, Scaled(p, 0, runs), t);
                    var swept = epsilons.Select((e, i) => SymmetryCheckExperiment.Run(settings with { NonlinearEpsilon = e }, Scaled(p, i + 1, runs), t)).ToArray();
                    return (main, swept);
                }, token);
                Write(outDir, main, swept, clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    // Progress of run `index` of `runs` as a fraction of the whole command.
    private static IProgress<ExperimentProgress> Scaled(IProgress<ExperimentProgress> outer, int index, int runs) =>
        new InlineProgress<ExperimentProgress>(p => outer.Report(new ExperimentProgress(index == 0 ? p.Stage : $"ε sweep {index}/{runs - 1}",
            (long)Math.Round((index + p.Fraction) * 1000), runs * 1000L)));

    private static List<Check> Checks(SymmetryCheckResult r)
    {
        var checks = new List<Check>();
        if (r.Linear is { } l)
        {
            const string group = "linear";
            checks.Add(new Check(group, "max |L(g·θ) − L(θ)| / |L(θ)| (eq. 1)", l.MaxLossInvarianceError, $"≤ {LinearLimit:0e0}", SymmetryClaims.CheckLossInvariant, [l.MaxLossInvarianceError]));
            checks.Add(new Check(group, "max |⟨∇L, M̄θ⟩| / (‖∇L‖‖M̄θ‖) (Prop. 5)", l.MaxInfinitesimalResidual, $"≤ {LinearLimit:0e0}", SymmetryClaims.CheckGradientOrthogonal, [l.MaxInfinitesimalResidual]));
            checks.Add(new Check(group, "control: g on W₁ only, min relative loss change", l.MinControlLossChange, $"≥ {ControlLimit:0e0} (not a symmetry)", SymmetryClaims.CheckOneLayerControl, [l.MinControlLossChange]));
        }
        var n = r.Nonlinear;
        const string nl = "nonlinear";
        // With every draw refused, nothing of Prop. 8 was checked: those rows fail (the rules need ≥ 1 checked draw).
        checks.Add(new Check(nl, "draws checked / refused (rank or conditioning)", n.Checked, $"{n.Refused} refused", SymmetryClaims.CheckDraws, [n.Checked, n.Refused]));
        checks.Add(new Check(nl, "max relative output change on its own batch", n.MaxOutputErrorOnBatch, $"≤ {NonlinearLimit:0e0}", SymmetryClaims.CheckOwnBatch, [n.Checked, n.MaxOutputErrorOnBatch]));
        // "Measurably changes": far above the on-batch error (the change itself is O(ε) when k = h, O(1) when k < h).
        checks.Add(new Check(nl, "median relative output change on a fresh batch", n.MedianOutputChangeOnFreshBatch,
            $"≥ {FreshFactor:G0} × on-batch (data-dependent)", SymmetryClaims.CheckFreshBatch, [n.Checked, n.MedianOutputChangeOnFreshBatch, n.MaxOutputErrorOnBatch]));
        checks.Add(new Check(nl, "max ‖π(g₁,Z)π(g₂,g₁Z) − π(g₂g₁,Z)‖ rel. (eq. 16)", n.MaxCompositionError, $"≤ {NonlinearLimit:0e0}", SymmetryClaims.CheckComposition, [n.Checked, n.MaxCompositionError]));
        checks.Add(new Check(nl, "median condition number of σ(gZ)", n.MedianConditionNumber, $"< {ConditionWarning:0e0} (else π is ill-conditioned)", SymmetryClaims.CheckConditioning, [n.Checked, n.MedianConditionNumber]));
        checks.Add(new Check(nl, "max condition number of σ(gZ)", n.MaxConditionNumber, "reported", SymmetryClaims.CheckMaxCondition, []));
        double expected = n.ExpectedProjectionDistance;
        checks.Add(new Check(nl, $"‖π(I,Z) − I‖_F (a rank-k projection: √(h − k) = {expected.ToString("G4", CultureInfo.InvariantCulture)})", n.IdentityProjectionDistance,
            "= √(h − k)", SymmetryClaims.CheckIdentityProjection, [n.IdentityProjectionDistance, expected]));
        return checks;
    }

    private static string Value(Check c) => c.Name.StartsWith("draws", StringComparison.Ordinal)
        ? ((int)c.Value).ToString(CultureInfo.InvariantCulture)
        : ExperimentConsole.Sci(c.Value);

    private static void Write(string outDir, SymmetryCheckResult main, SymmetryCheckResult[] sweep, TimeSpan elapsed)
    {
        var checks = Checks(main);
        var csv = new CsvTable("group", "check", "value", "expected", "verdict");
        foreach (var c in checks) csv.AddRow(c.Group, c.Name, c.Value, c.Expectation, c.Pass switch { true => "pass", false => "fail", null => "info" });
        csv.Save(Path.Combine(outDir, "symmetry-check.csv"));

        var n = main.Nonlinear;
        if (sweep.Length > 0)
        {
            var sweepCsv = new CsvTable("epsilon", "checked", "refused", "max_output_error_on_batch", "median_output_change_fresh_batch", "max_composition_error",
                "median_condition_number", "max_condition_number");
            foreach (var s in sweep)
            {
                var x = s.Nonlinear;
                sweepCsv.AddRow(s.Settings.NonlinearEpsilon, x.Checked, x.Refused, x.MaxOutputErrorOnBatch, x.MedianOutputChangeOnFreshBatch, x.MaxCompositionError,
                    x.MedianConditionNumber, x.MaxConditionNumber);
            }
            sweepCsv.Save(Path.Combine(outDir, "symmetry-sweep.csv"));
            Draw(sweep, Path.Combine(outDir, "symmetry-check.png"));
        }

        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "symmetry-check",
            settings = main.Settings,
            activation = Activation.Parse(main.Settings.Activation).Name,
            linear = main.Linear,
            linearGroups = main.Linear?.Groups,
            nonlinear = n,
            checks = checks.Select(c => new { group = c.Group, check = c.Name, value = c.Value, expected = c.Expectation, pass = c.Pass }),
            allPass = checks.All(c => c.Pass is not false),
            sweep = sweep.Select(s => new { epsilon = s.Settings.NonlinearEpsilon, nonlinear = s.Nonlinear }),
            wallSeconds = elapsed.TotalSeconds,
            claims = Claims(main, checks),
            figures = sweep.Length == 0 ? Array.Empty<FigureRef>() : new[]
            {
                new FigureRef("symmetry-check.png", null, SweepCaption(sweep)),
            },
        });

        ExperimentConsole.Line(main.Linear is { } linear
            ? $"linear: the product action of {string.Join(" × ", linear.Groups)} on the hidden layers (eqs. 17–18), g = exp(M), M = {main.Settings.GroupScale.ToString("G3", CultureInfo.InvariantCulture)} × a random algebra element"
            : $"linear: σ = {Activation.Parse(main.Settings.Activation).Name} has no linear symmetry group; only the data-dependent action of Prop. 8 applies");
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"nonlinear: π(g, Z) = σ(Z)σ(gZ)⁺ on hidden layer {n.Layer} (h = {n.Width}, k = {n.BatchSize}), g = I + εM, ε = {main.Settings.NonlinearEpsilon:G3}, M with N(0, 1) entries"));
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"Symmetry check: MLP {string.Join("→", main.Settings.Widths)}, σ = {Activation.Parse(main.Settings.Activation).Name}"))
            .AddColumn("action").AddColumn("check").AddColumn(new TableColumn("value").RightAligned()).AddColumn("expected").AddColumn("verdict");
        foreach (var c in checks)
            table.AddRow(Markup.Escape(c.Group), Markup.Escape(c.Name), Value(c), Markup.Escape(c.Expectation), c.Pass is { } p ? ExperimentConsole.Verdict(p) : "info");
        ExperimentConsole.Write(table);

        if (sweep.Length > 0)
        {
            var st = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"Nonlinear action on layer {n.Layer} against ε (g = I + εM)"))
                .AddColumn(new TableColumn("ε").RightAligned()).AddColumn(new TableColumn("checked/refused").RightAligned())
                .AddColumn(new TableColumn("on-batch error").RightAligned()).AddColumn(new TableColumn("fresh-batch change").RightAligned())
                .AddColumn(new TableColumn("composition error").RightAligned()).AddColumn(new TableColumn("median cond σ(gZ)").RightAligned())
                .AddColumn(new TableColumn("max cond σ(gZ)").RightAligned());
            foreach (var s in sweep)
            {
                var x = s.Nonlinear;
                st.AddRow(s.Settings.NonlinearEpsilon.ToString("G3", CultureInfo.InvariantCulture), $"{x.Checked}/{x.Refused}", ExperimentConsole.Sci(x.MaxOutputErrorOnBatch),
                    ExperimentConsole.Sci(x.MedianOutputChangeOnFreshBatch), ExperimentConsole.Sci(x.MaxCompositionError), ExperimentConsole.Sci(x.MedianConditionNumber),
                    ExperimentConsole.Sci(x.MaxConditionNumber));
            }
            ExperimentConsole.Write(st);
        }
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"{checks.Count(c => c.Pass == true)} passed, {checks.Count(c => c.Pass == false)} failed, {checks.Count(c => c.Pass is null)} informational; wall {elapsed.TotalSeconds:F1} s; wrote symmetry-check.csv, summary.json{(sweep.Length > 0 ? ", symmetry-sweep.csv, symmetry-check.png" : "")} to {outDir}"));
    }

    // Left: errors and output changes of the nonlinear action against ε; right: condition numbers of σ(gZ).
    private static void Draw(SymmetryCheckResult[] sweep, string path)
    {
        var eps = sweep.Select(s => s.Settings.NonlinearEpsilon).ToArray();
        var n = sweep[0].Nonlinear;
        var errors = Figure.Create($"Nonlinear action on layer {n.Layer} (h = {n.Width}, k = {n.BatchSize})", "log10 ε  (g = I + εM)", "log10 relative error / change");
        void Series(Plot plot, Func<NonlinearSymmetryCheck, double> value, Color color, string legend, LinePattern pattern)
        {
            var (x, y) = Panels.LogLog(eps, sweep.Select(s => value(s.Nonlinear)).ToArray());
            if (x.Length == 0) return;
            var line = Panels.Line(plot, x, y, color, legend, 2, pattern);
            line.MarkerSize = 7;
            line.MarkerShape = MarkerShape.FilledCircle;
        }
        Series(errors, x => x.MedianOutputChangeOnFreshBatch, Panels.Palette[1], "output change on a fresh batch (median)", LinePattern.Solid);
        Series(errors, x => x.MaxOutputErrorOnBatch, Panels.Palette[0], "output change on its own batch (max)", LinePattern.Solid);
        Series(errors, x => x.MaxCompositionError, Panels.Palette[2], "composition law error, eq. 16 (max)", LinePattern.Dashed);
        var limit = errors.Add.HorizontalLine(Math.Log10(NonlinearLimit), 1.5f, Colors.Gray, LinePattern.Dotted);
        limit.LegendText = "1e-8 acceptance";
        errors.Axes.Margins(left: 0.05, right: 0.05, bottom: 0.05, top: 0.35);
        errors.ShowLegend(Alignment.UpperLeft);

        var conditions = Figure.Create("Conditioning of σ(gZ)", "log10 ε  (g = I + εM)", "log10 condition number");
        Series(conditions, x => x.MedianConditionNumber, Panels.Palette[3], "median", LinePattern.Solid);
        Series(conditions, x => x.MaxConditionNumber, Panels.Palette[4], "max", LinePattern.Dashed);
        conditions.Axes.Margins(left: 0.05, right: 0.05, bottom: 0.05, top: 0.3);
        conditions.ShowLegend(Alignment.UpperLeft);
        Panels.Save([errors, conditions], 2, path, 620, 460);
    }

    // The report contract: each check is a claim judged by its rule (SymmetryClaims); the draw count and the largest condition number are facts of this run's sampling.
    private static List<Claim> Claims(SymmetryCheckResult main, List<Check> checks)
    {
        string arch = $"MLP {string.Join("→", main.Settings.Widths)}, σ = {Activation.Parse(main.Settings.Activation).Name}, k = {main.Settings.BatchSize}";
        return checks.Select(c => c.Rule.Make(c.Rule.IsMeasurement ? [] : [c.Numbers], $"{c.Name}: {Value(c)}", arch)).ToList();
    }

    // The caption from the ε sweep: the measured ranges, not the expected picture.
    private static string SweepCaption(SymmetryCheckResult[] sweep)
    {
        static string S(double v) => ExperimentConsole.Sci(v);
        var x = sweep.Select(s => s.Nonlinear).ToArray();
        var usable = x.Where(v => v.Checked > 0).ToArray();
        string ranges = usable.Length == 0 ? "every draw was refused at every ε"
            : $"over ε ∈ [{sweep.Min(s => s.Settings.NonlinearEpsilon).ToString("G3", CultureInfo.InvariantCulture)}, {sweep.Max(s => s.Settings.NonlinearEpsilon).ToString("G3", CultureInfo.InvariantCulture)}] the max output change on its own batch is {S(usable.Min(v => v.MaxOutputErrorOnBatch))}–{S(usable.Max(v => v.MaxOutputErrorOnBatch))}, " +
              $"the median change on a fresh batch {S(usable.Min(v => v.MedianOutputChangeOnFreshBatch))}–{S(usable.Max(v => v.MedianOutputChangeOnFreshBatch))}, the composition error (eq. 16) up to {S(usable.Max(v => v.MaxCompositionError))}, " +
              $"the median condition number of σ(gZ) up to {S(usable.Max(v => v.MedianConditionNumber))}; {x.Sum(v => v.Refused)} draws refused";
        return $"The data-dependent action of Prop. 8 against ε (g = I + εM), left: output changes and the eq. 16 composition error; right: the conditioning of σ(gZ). Measured: {ranges}.";
    }
}
