using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Experiments;
using Noether.Serialization;
using ScottPlot;
using Spectre.Console;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether laws</c>: the number of conservation laws of gradient flow, D − dim Lie(V)(θ) (Marcotte, Gribonval, Peyré,
/// NeurIPS 2023), on random linear and ReLU nets of the sizes their paper checked — with V the gradients of the
/// reparametrisation φ (valid for all data) and, beside it, V the gradients of the outputs on a data batch.
/// </summary>
internal static class LawsCommand
{
    public static Command Create()
    {
        var defaults = new LawCountSettings();
        var linear = new Option<int>("--linear-nets") { Description = "Random linear nets (depth 2–4, widths 2–5).", DefaultValueFactory = _ => defaults.LinearNets };
        var relu = new Option<int>("--relu-nets") { Description = "Random ReLU nets (depth 2–4, widths 2–9).", DefaultValueFactory = _ => defaults.ReluNets };
        foreach (var o in new[] { linear, relu })
            o.Validators.Add(r => { if (r.TryGet(out int v) && v is < 0 or > 1000) r.AddError($"{r.Option.Name} must be an integer from 0 to 1000 (got {v})"); });
        var maxDepth = new Option<int>("--max-depth") { Description = "Most layers of a net (2–6; the paper's check: 4).", DefaultValueFactory = _ => defaults.MaxDepth };
        maxDepth.Validators.Add(r => { if (r.TryGet(out int v) && v is < 2 or > 6) r.AddError($"--max-depth must be an integer from 2 to 6 (got {v})"); });
        var noData = new Option<bool>("--no-data") { Description = "Skip the data fields' count (the φ count alone is faster)." };
        var seed = CommonOptions.Seed();
        var output = CommonOptions.Out("results/laws");
        var force = CommonOptions.Force();

        var command = new Command("laws", "Count the conservation laws of gradient flow, D − dim Lie(V)(θ) (Marcotte et al. 2023), on random linear and ReLU nets: the reparametrisation's fields beside the known laws, and the data fields beside them.")
        {
            linear, relu, maxDepth, noData, seed, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            var settings = new LawCountSettings
            {
                LinearNets = parse.GetValue(linear),
                ReluNets = parse.GetValue(relu),
                MaxDepth = parse.GetValue(maxDepth),
                DataFields = !parse.GetValue(noData),
                Seed = parse.GetValue(seed),
            };
            string outDir = ExperimentConsole.PrepareOutput(parse.GetValue(output)!, parse.GetValue(force), out bool created);
            return Task.FromResult(ExperimentConsole.WithOutput(outDir, created, () =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Counting conservation laws on {settings.LinearNets} linear and {settings.ReluNets} ReLU nets (depth {settings.MinDepth}–{settings.MaxDepth}){(settings.DataFields ? ", with the data fields" : "")}; seed {settings.Seed}"));
                var clock = Stopwatch.StartNew();
                var table = ExperimentConsole.Run("laws", (p, t) => LawCountExperiment.Run(settings, p, t), token);
                Write(outDir, table, clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    private static string Widths(LawCountRow r) => string.Join("-", r.Widths);

    private static string Levels(Conservation.LawCountResult r) => string.Join("/", r.Levels.Select(l => l.Dimension.ToString(CultureInfo.InvariantCulture)));

    private static void Write(string outDir, LawCountTable table, TimeSpan elapsed)
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
        Draw(table, Path.Combine(outDir, "laws.png"));

        var view = new Table().Border(TableBorder.Rounded).Title(Markup.Escape("Conservation laws: D − dim Lie(V)(θ) vs the known laws"))
            .AddColumn("family").AddColumn(new TableColumn("nets").RightAligned()).AddColumn(new TableColumn("φ = known").RightAligned())
            .AddColumn(new TableColumn("φ unclear gap").RightAligned()).AddColumn(new TableColumn("data > φ").RightAligned())
            .AddColumn(new TableColumn("smallest φ gap").RightAligned());
        foreach (var f in families)
            view.AddRow(f.family, f.nets.ToString(CultureInfo.InvariantCulture),
                (f.phiMatchesKnown == f.nets ? "[green]" : "[red]") + $"{f.phiMatchesKnown}/{f.nets}[/]",
                f.phiUnclear.ToString(CultureInfo.InvariantCulture), f.dataAbovePhi.ToString(CultureInfo.InvariantCulture), ExperimentConsole.Sci(f.smallestPhiGap));
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

    private static void Draw(LawCountTable table, string path)
    {
        var left = Figure.Create("φ fields vs known laws", "known laws", "D − dim Lie(V)(θ), V = span ∇φ");
        var right = Figure.Create("data fields vs φ fields", "laws from φ", "laws from the data batch");
        foreach (var (family, color) in new[] { ("linear", Panels.Palette[0]), ("relu", Panels.Palette[1]) })
        {
            var rows = table.Rows.Where(r => r.Family == family).ToArray();
            if (rows.Length == 0) continue;
            var a = left.Add.ScatterPoints(rows.Select(r => (double)r.KnownLaws).ToArray(), rows.Select(r => (double)r.Phi.Laws).ToArray(), color);
            a.LegendText = family;
            var withData = rows.Where(r => r.Data is not null).ToArray();
            if (withData.Length == 0) continue;
            var b = right.Add.ScatterPoints(withData.Select(r => (double)r.Phi.Laws).ToArray(), withData.Select(r => (double)r.Data!.Laws).ToArray(), color);
            b.LegendText = family;
        }
        double max = Math.Max(1, table.Rows.Max(r => Math.Max(r.Phi.Laws, r.Data?.Laws ?? 0)));
        foreach (var plot in new[] { left, right })
        {
            var diagonal = plot.Add.Line(0, 0, max, max);
            diagonal.LinePattern = LinePattern.Dashed;
            diagonal.Color = Colors.Gray;
            plot.ShowLegend(Alignment.UpperLeft);
        }
        Panels.Save([left, right], 2, path);
    }
}
