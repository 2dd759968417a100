using static Noether.Experiments.Format;

namespace Noether.Cli.Output;

/// <summary>The files and table of <c>noether laws</c>.</summary>
internal static class LawsWriter
{
    private static string Widths(LawCountRow r) => string.Join("-", r.Widths);

    private static string Levels(Conservation.LawCountResult r) => string.Join("/", r.Levels.Select(l => l.Dimension.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Writes laws.csv, the figure and summary.json, and prints the table.</summary>
    public static void Write(string outDir, LawCountTable table, TimeSpan elapsed)
    {
        var csv = new CsvTable("family", "index", "widths_input_first", "biases", "parameters", "known_laws", "phi_laws", "phi_matches_known",
            "phi_level_dimensions", "phi_gap", "phi_clear_gap", "data_samples", "data_laws", "data_level_dimensions", "data_gap", "data_clear_gap",
            "dead_units", "always_on_units", "data_finding");
        foreach (var r in table.Rows)
            csv.AddRow(r.Family, r.Index, Widths(r), r.Biases, r.Parameters, r.KnownLaws, r.Phi.Laws, r.MatchesKnown, Levels(r.Phi), r.Phi.Gap, r.Phi.ClearGap,
                r.DataSamples, r.Data?.Laws, r.Data is null ? "" : Levels(r.Data), r.Data?.Gap, r.Data?.ClearGap, r.DeadUnits, r.AlwaysOnUnits, r.DataFinding);
        csv.Save(Path.Combine(outDir, "laws.csv"));

        var families = table.Rows.GroupBy(r => r.Family).Select(g => new
        {
            family = g.Key,
            nets = g.Count(),
            phiMatchesKnown = g.Count(r => r.MatchesKnown),
            phiUnclear = g.Count(r => !r.Phi.ClearGap),
            dataAbovePhi = g.Count(r => r.Data is { } d && d.Laws > r.Phi.Laws),
            dataUnclear = g.Count(r => r.Data is { ClearGap: false }),
            smallestPhiGap = g.Min(r => r.Phi.Gap),
        }).ToArray();
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "laws",
            settings = table.Settings,
            fields = new
            {
                phi = "V = span{∇φ_i}: linear nets φ = W_q⋯W₁ and the bias paths; ReLU nets φ = every input→output and bias→output path product (valid for all data)",
                data = "V = span{∇θ f_o(x_k)}: the outputs on a Gaussian batch of 2·⌈D/n_q⌉ + n₀ samples (valid for these data only; never fewer laws than φ)",
                known = "linear: rank at θ of the gradients of the entries of W_l W_lᵀ + b_l b_lᵀ − W_{l+1}ᵀW_{l+1}; ReLU: Σ hidden widths",
            },
            families,
            mismatches = table.Mismatches,
            unclear = table.Unclear,
            wallSeconds = elapsed.TotalSeconds,
            figures = new[] { new FigureRef("laws.png", null, Caption(table)) },
        });
        LawsFigures.Counts(table, Path.Combine(outDir, "laws.png"));

        var view = new Table().Border(TableBorder.Rounded).Title(Markup.Escape("Conservation laws: D − dim Lie(V)(θ) vs the known laws"))
            .AddColumn("family").AddColumn(new TableColumn("nets").RightAligned()).AddColumn(new TableColumn("φ = known").RightAligned())
            .AddColumn(new TableColumn("φ unclear gap").RightAligned()).AddColumn(new TableColumn("data > φ").RightAligned())
            .AddColumn(new TableColumn("smallest φ gap").RightAligned());
        foreach (var f in families)
            view.AddRow(f.family, f.nets.ToString(CultureInfo.InvariantCulture),
                (f.phiMatchesKnown == f.nets ? "[green]" : "[red]") + $"{f.phiMatchesKnown}/{f.nets}[/]",
                f.phiUnclear.ToString(CultureInfo.InvariantCulture), f.dataAbovePhi.ToString(CultureInfo.InvariantCulture), Sci(f.smallestPhiGap));
        view.Caption(Markup.Escape("gap: smallest kept / largest dropped normalised singular value over the levels; data > φ: nets whose data batch leaves extra laws (see laws.csv's data_finding)."));
        ExperimentConsole.Write(view);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"{table.Rows.Count - table.Mismatches}/{table.Rows.Count} φ counts equal the known laws; wall {elapsed.TotalSeconds:F1} s; wrote laws.csv, summary.json, laws.png to {outDir}"));
    }

    private static string Caption(LawCountTable table)
    {
        int n = table.Rows.Count, match = n - table.Mismatches;
        int above = table.Rows.Count(r => r.Data is { } d && d.Laws > r.Phi.Laws);
        return $"Left: laws found from the φ fields against the known laws, one point per net; {match} of {n} lie on the diagonal. "
             + (table.Settings.DataFields ? $"Right: laws from the data fields against the φ fields; {above} of {n} nets lie above the diagonal (laws that hold for that data batch only)." : "Right: data fields not computed.");
    }
}
