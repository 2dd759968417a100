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
/// <c>noether orbit</c>: orbit dimensions at generic θ (B.6), measured as the numerical rank of M ↦ M̄_θ, next to the
/// corrected closed forms of the SPEC and the paper's eqs. 20–22, over shapes including h &gt; max(m, n), where the
/// paper's eqs. 21–22 are wrong.
/// </summary>
internal static class OrbitCommand
{
    private static readonly Dictionary<string, OrbitGroup> GroupNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gl"] = OrbitGroup.GeneralLinear,
        ["scaling"] = OrbitGroup.PositiveScaling,
        ["orthogonal"] = OrbitGroup.Orthogonal,
    };

    private static string Name(OrbitGroup g) => g switch
    {
        OrbitGroup.GeneralLinear => "GL(h)",
        OrbitGroup.PositiveScaling => "positive scaling",
        _ => "O(h)",
    };

    private static string Equation(OrbitGroup g) => g switch
    {
        OrbitGroup.GeneralLinear => "eq. 20",
        OrbitGroup.PositiveScaling => "eq. 21",
        _ => "eq. 22",
    };

    public static Command Create()
    {
        var defaults = new OrbitTableSettings();
        var shapes = ListOptions.Shapes("--shapes", "Shapes (m, h, n) written m×h×n, comma-separated (h ≤ 100: the rank is an SVD over dim 𝔤 = h² columns).", [.. defaults.Shapes], maxHidden: 100);
        var groups = new Option<string[]>("--groups")
        {
            Description = "Groups: gl (eq. 20), scaling (eq. 21), orthogonal (eq. 22), comma-separated.",
            DefaultValueFactory = _ => ["gl", "scaling", "orthogonal"],
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
        };
        groups.CustomParser = r =>
        {
            var items = r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToArray();
            foreach (var item in items)
                if (!GroupNames.ContainsKey(item)) r.AddError($"--groups: unknown group '{item}'; valid: gl, scaling, orthogonal");
            if (items.Length == 0) r.AddError("--groups: expected at least one of gl, scaling, orthogonal");
            return items;
        };
        var tolerance = ListOptions.UnitInterval("--tolerance", "Rank cut: singular values ≤ tolerance × the largest count as zero.", defaults.RelativeTolerance);
        var seed = CommonOptions.Seed();
        var shard = CommonOptions.Shard();
        var output = CommonOptions.Out("results/orbit");
        var force = CommonOptions.Force();

        var command = new Command("orbit", "Orbit dimensions at generic θ (rank of M ↦ M̄θ) against the corrected closed forms and the paper's eqs. 20–22 (wrong for h > max(m, n)).")
        {
            shapes, groups, tolerance, seed, shard, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            var settings = new OrbitTableSettings
            {
                Shapes = parse.GetValue(shapes)!.Distinct().ToArray(),
                Groups = parse.GetValue(groups)!.Select(g => GroupNames[g]).Distinct().ToArray(),
                RelativeTolerance = parse.GetValue(tolerance),
                Seed = parse.GetValue(seed),
                Shard = parse.GetValue(shard),
            };
            string outDir = ExperimentConsole.PrepareOutput(parse.GetValue(output)!, parse.GetValue(force), out bool created);
            return Task.FromResult(ExperimentConsole.WithOutput(outDir, created, () =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Orbit dimensions at a generic (Gaussian) θ per shape: numerical rank with relative tolerance {ExperimentConsole.Sci(settings.RelativeTolerance)}, seed {settings.Seed}"));
                var clock = Stopwatch.StartNew();
                var result = ExperimentConsole.Run("orbit", (p, t) => OrbitTableExperiment.Run(settings, p, t), token);
                Write(outDir, result, clock.Elapsed);
                if (settings.Shard is { } part)
                    ShardOutput.Complete(outDir, "orbit", null, part, OrbitTableExperiment.GridSize(settings), settings, null, result.Rows, ["orbit.csv"], clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    /// <summary>Writes orbit.csv, summary.json and orbit.png of <paramref name="result"/> (also a result merged from shards) and prints the table.</summary>
    internal static void Write(string outDir, OrbitTableResult result, TimeSpan elapsed)
    {
        var csv = new CsvTable("m", "h", "n", "group", "algebra_dimension", "measured", "corrected", "paper", "paper_equation", "measured_equals_corrected",
            "paper_differs", "h_exceeds_max_m_n", "smallest_kept_singular_value", "largest_dropped_singular_value", "gap");
        foreach (var r in result.Rows)
            csv.AddRow(r.Shape.M, r.Shape.H, r.Shape.N, Name(r.Group), r.AlgebraDimension, r.Measured, r.Corrected, r.Paper, Equation(r.Group), r.MatchesCorrected,
                r.PaperDiffers, r.Shape.H > Math.Max(r.Shape.M, r.Shape.N), r.SmallestKept, r.LargestDropped, r.Gap);
        csv.Save(Path.Combine(outDir, "orbit.csv"));

        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "orbit",
            settings = new
            {
                shapes = result.Settings.Shapes.Select(s => s.ToString()),
                groups = result.Settings.Groups,
                result.Settings.RelativeTolerance,
                result.Settings.Seed,
            },
            closedForms = new
            {
                generalLinear = "h² − max(0, h − n)·max(0, h − m) (eq. 20, as printed)",
                positiveScaling = "h (the paper's eq. 21: min(h, max(n, m)))",
                orthogonal = "C(h,2) − C(max(0, h − m − n), 2) (the paper's eq. 22: max(m, n) in place of m + n)",
            },
            rows = result.Rows.Select(r => new
            {
                m = r.Shape.M,
                h = r.Shape.H,
                n = r.Shape.N,
                group = Name(r.Group),
                algebraDimension = r.AlgebraDimension,
                measured = r.Measured,
                corrected = r.Corrected,
                paper = r.Paper,
                paperEquation = Equation(r.Group),
                measuredEqualsCorrected = r.MatchesCorrected,
                paperDiffers = r.PaperDiffers,
                hExceedsMaxMN = r.Shape.H > Math.Max(r.Shape.M, r.Shape.N),
                smallestKeptSingularValue = r.SmallestKept,
                largestDroppedSingularValue = r.LargestDropped,
                gap = r.Gap,
            }),
            allMeasuredEqualCorrected = result.Rows.All(r => r.MatchesCorrected),
            rowsWherePaperIsWrong = result.Rows.Count(r => r.PaperDiffers),
            wallSeconds = elapsed.TotalSeconds,
            claims = Claims(result),
            figures = new[]
            {
                new FigureRef("orbit.png", null, OrbitCaption(result)),
            },
        });

        Draw(result, Path.Combine(outDir, "orbit.png"));

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape("Orbit dimension at generic θ: measured rank vs closed forms"))
            .AddColumn("(m, h, n)").AddColumn("group").AddColumn(new TableColumn("dim 𝔤").RightAligned()).AddColumn(new TableColumn("measured").RightAligned())
            .AddColumn(new TableColumn("corrected").RightAligned()).AddColumn("measured = corrected").AddColumn(new TableColumn("paper").RightAligned())
            .AddColumn("paper's formula").AddColumn(new TableColumn("gap").RightAligned());
        foreach (var r in result.Rows)
        {
            string paper = r.PaperDiffers ? $"[red]wrong ({Equation(r.Group)})[/]" : $"agrees ({Equation(r.Group)})";
            table.AddRow(Markup.Escape(r.Shape.ToString()), Markup.Escape(Name(r.Group)), r.AlgebraDimension.ToString(CultureInfo.InvariantCulture),
                r.Measured.ToString(CultureInfo.InvariantCulture), r.Corrected.ToString(CultureInfo.InvariantCulture), ExperimentConsole.Verdict(r.MatchesCorrected),
                r.PaperDiffers ? $"[red]{r.Paper}[/]" : r.Paper.ToString(CultureInfo.InvariantCulture), paper,
                double.IsPositiveInfinity(r.Gap) ? "∞" : ExperimentConsole.Sci(r.Gap));
        }
        table.Caption(Markup.Escape("gap = smallest kept / largest dropped singular value (∞: none dropped); eqs. 21–22 can differ only where h > max(m, n)"));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"{result.Rows.Count(r => r.MatchesCorrected)}/{result.Rows.Count} rows: measured = corrected; the paper's formula is wrong in {result.Rows.Count(r => r.PaperDiffers)} rows; wall {elapsed.TotalSeconds:F1} s; wrote orbit.csv, summary.json, orbit.png to {outDir}"));
    }

    // One panel per group: measured (dots), corrected (line) and the paper's value (crosses) per shape, log10 y.
    private static void Draw(OrbitTableResult result, string path)
    {
        var plots = new List<Plot>();
        var shapes = result.Settings.Shapes;
        foreach (var group in result.Rows.GroupBy(r => r.Group))
        {
            var rows = group.ToArray();
            var plot = Figure.Create($"{Name(group.Key)}: measured vs closed forms ({Equation(group.Key)})", "(m, h, n)", "log10 orbit dimension");
            double[] x = rows.Select(r => (double)IndexOf(shapes, r.Shape)).ToArray();
            double Log(int d) => d > 0 ? Math.Log10(d) : double.NaN;
            var corrected = plot.Add.ScatterLine(x, rows.Select(r => Log(r.Corrected)).ToArray(), Panels.Palette[2]);
            corrected.LineWidth = 2;
            corrected.LegendText = "corrected closed form (SPEC)";
            var measured = plot.Add.ScatterPoints(x, rows.Select(r => Log(r.Measured)).ToArray(), Panels.Palette[0]);
            measured.MarkerSize = 11;
            measured.MarkerShape = MarkerShape.FilledCircle;
            measured.LegendText = "measured rank";
            var paper = plot.Add.ScatterPoints(x, rows.Select(r => Log(r.Paper)).ToArray(), Panels.Palette[3]);
            paper.MarkerSize = 13;
            paper.MarkerShape = MarkerShape.Cross;
            paper.MarkerLineWidth = 2.5f;
            paper.LegendText = $"paper ({Equation(group.Key)})";
            plot.Axes.Bottom.SetTicks(x, rows.Select(r => $"{r.Shape.M},{r.Shape.H},{r.Shape.N}").ToArray());
            plot.Axes.Margins(left: 0.05, right: 0.05, bottom: 0.1, top: 0.3);
            plot.ShowLegend(Alignment.UpperLeft);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path, 600, 460);
    }

    private static int IndexOf(IReadOnlyList<Noether.Experiments.LayerShape> shapes, Noether.Experiments.LayerShape shape)
    {
        for (int i = 0; i < shapes.Count; i++) if (shapes[i] == shape) return i;
        return -1;
    }

    // The report contract: one claim per group (eqs. 20–22). Corrected when the measured rank follows SPEC's closed form and the
    // printed formula differs in some rows; NotReproduced when the measurement disagrees with the corrected form itself.
    private static List<Claim> Claims(OrbitTableResult result)
    {
        var claims = new List<Claim>();
        foreach (var group in result.Rows.GroupBy(r => r.Group))
        {
            var rows = group.ToArray();
            int agree = rows.Count(r => r.MatchesCorrected);
            int paperWrong = rows.Count(r => r.PaperDiffers);
            var example = rows.Where(r => r.PaperDiffers).MaxBy(r => r.Shape.H);
            var rule = group.Key switch
            {
                OrbitGroup.GeneralLinear => SymmetryClaims.OrbitGeneralLinear,
                OrbitGroup.PositiveScaling => SymmetryClaims.OrbitScaling,
                _ => SymmetryClaims.OrbitOrthogonal,
            };
            string measured = $"measured rank = corrected form in {agree} of {rows.Length} shapes; the printed formula differs in {paperWrong}" +
                (example is null ? "" : $" (e.g. (m, h, n) = {example.Shape}: measured {example.Measured}, paper {example.Paper})");
            claims.Add(rule.Make(rows.Select(r => new double[] { r.MatchesCorrected ? 1 : 0, r.PaperDiffers ? 1 : 0 }).ToArray(), measured,
                paperWrong > 0 ? "the printed formula is wrong whenever h > max(m, n); see the corrections" : null));
        }
        return claims;
    }

    // The caption from the measured table: how many shapes the measured rank matches the corrected form and the printed one.
    private static string OrbitCaption(OrbitTableResult result)
    {
        var rows = result.Rows;
        int agree = rows.Count(r => r.MatchesCorrected), paperOff = rows.Count(r => r.PaperDiffers);
        return $"Orbit dimension (log10) per shape (m, h, n) and group: the measured rank of M ↦ M̄θ (dots), the corrected closed form (line) and the paper's eqs. 20–22 (crosses). Measured: the rank equals the corrected form in {agree} of {rows.Count} (shape, group) rows; the printed formula differs from it in {paperOff}" +
            (paperOff == 0 ? "." : $" ({rows.Count(r => r.PaperDiffers && r.Shape.H > Math.Max(r.Shape.M, r.Shape.N))} of them with h > max(m, n)).");
    }
}
