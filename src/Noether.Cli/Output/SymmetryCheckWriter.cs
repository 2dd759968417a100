using Noether.Nn;
using static Noether.Experiments.Format;

namespace Noether.Cli.Output;

/// <summary>The files, claims and tables of <c>noether symmetry-check</c>: each check is a claim judged by its rule in SymmetryClaims.</summary>
internal static class SymmetryCheckWriter
{
    private static string Value(SymmetryCheckLine c) => c.Name.StartsWith("draws", StringComparison.Ordinal)
        ? ((int)c.Value).ToString(CultureInfo.InvariantCulture)
        : Sci(c.Value);

    /// <summary>Writes symmetry-check.csv (and the ε sweep's CSV and figure), summary.json with the claims, and prints the tables.</summary>
    public static void Write(string outDir, SymmetryCheckResult main, SymmetryCheckResult[] sweep, TimeSpan elapsed)
    {
        var checks = main.Checks();
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
            SymmetryCheckFigures.Sweep(sweep, Path.Combine(outDir, "symmetry-check.png"));
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
                st.AddRow(s.Settings.NonlinearEpsilon.ToString("G3", CultureInfo.InvariantCulture), $"{x.Checked}/{x.Refused}", Sci(x.MaxOutputErrorOnBatch),
                    Sci(x.MedianOutputChangeOnFreshBatch), Sci(x.MaxCompositionError), Sci(x.MedianConditionNumber),
                    Sci(x.MaxConditionNumber));
            }
            ExperimentConsole.Write(st);
        }
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"{checks.Count(c => c.Pass == true)} passed, {checks.Count(c => c.Pass == false)} failed, {checks.Count(c => c.Pass is null)} informational; wall {elapsed.TotalSeconds:F1} s; wrote symmetry-check.csv, summary.json{(sweep.Length > 0 ? ", symmetry-sweep.csv, symmetry-check.png" : "")} to {outDir}"));
    }

    // The report contract: each check is a claim judged by its rule (SymmetryClaims); the draw count and the largest condition number are facts of this run's sampling.
    private static List<Claim> Claims(SymmetryCheckResult main, IReadOnlyList<SymmetryCheckLine> checks)
    {
        string arch = $"MLP {string.Join("→", main.Settings.Widths)}, σ = {Activation.Parse(main.Settings.Activation).Name}, k = {main.Settings.BatchSize}";
        return checks.Select(c => c.Rule.Make(c.Rule.IsMeasurement ? [] : [c.Numbers], $"{c.Name}: {Value(c)}", arch)).ToList();
    }

    // The caption from the ε sweep: the measured ranges, not the expected picture.
    private static string SweepCaption(SymmetryCheckResult[] sweep)
    {
        var x = sweep.Select(s => s.Nonlinear).ToArray();
        var usable = x.Where(v => v.Checked > 0).ToArray();
        string ranges = usable.Length == 0 ? "every draw was refused at every ε"
            : $"over ε ∈ [{sweep.Min(s => s.Settings.NonlinearEpsilon).ToString("G3", CultureInfo.InvariantCulture)}, {sweep.Max(s => s.Settings.NonlinearEpsilon).ToString("G3", CultureInfo.InvariantCulture)}] the max output change on its own batch is {Sci(usable.Min(v => v.MaxOutputErrorOnBatch))}–{Sci(usable.Max(v => v.MaxOutputErrorOnBatch))}, " +
              $"the median change on a fresh batch {Sci(usable.Min(v => v.MedianOutputChangeOnFreshBatch))}–{Sci(usable.Max(v => v.MedianOutputChangeOnFreshBatch))}, the composition error (eq. 16) up to {Sci(usable.Max(v => v.MaxCompositionError))}, " +
              $"the median condition number of σ(gZ) up to {Sci(usable.Max(v => v.MedianConditionNumber))}; {x.Sum(v => v.Refused)} draws refused";
        return $"The data-dependent action of Prop. 8 against ε (g = I + εM), left: output changes and the eq. 16 composition error; right: the conditioning of σ(gZ). Measured: {ranges}.";
    }
}
