using static Noether.Experiments.Format;

namespace Noether.Cli.Output;

/// <summary>The files, claims and table of <c>noether orbit</c>, also of a result merged from shards.</summary>
internal static class OrbitWriter
{
    /// <summary>The stored name of a group (orbit.csv, summary.json).</summary>
    internal static string Name(OrbitGroup g) => g switch
    {
        OrbitGroup.GeneralLinear => "GL(h)",
        OrbitGroup.PositiveScaling => "positive scaling",
        _ => "O(h)",
    };

    /// <summary>The paper's equation for a group's orbit dimension.</summary>
    internal static string Equation(OrbitGroup g) => g switch
    {
        OrbitGroup.GeneralLinear => "eq. 20",
        OrbitGroup.PositiveScaling => "eq. 21",
        _ => "eq. 22",
    };

    /// <summary>Writes orbit.csv, summary.json and orbit.png of <paramref name="result"/> (also a result merged from shards) and prints the table.</summary>
    public static void Write(string outDir, OrbitTableResult result, TimeSpan elapsed)
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
            allMeasuredEqualCorrected = result.MatchingCorrected() == result.Rows.Count,
            rowsWherePaperIsWrong = result.PaperDiffering(),
            wallSeconds = elapsed.TotalSeconds,
            claims = OrbitTableExperiment.Claims(result),
            figures = new[]
            {
                new FigureRef("orbit.png", null, OrbitCaption(result)),
            },
        });

        OrbitFigures.Dimensions(result, Path.Combine(outDir, "orbit.png"));

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
                double.IsPositiveInfinity(r.Gap) ? "∞" : Sci(r.Gap));
        }
        table.Caption(Markup.Escape("gap = smallest kept / largest dropped singular value (∞: none dropped); eqs. 21–22 can differ only where h > max(m, n)"));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"{result.MatchingCorrected()}/{result.Rows.Count} rows: measured = corrected; the paper's formula is wrong in {result.PaperDiffering()} rows; wall {elapsed.TotalSeconds:F1} s; wrote orbit.csv, summary.json, orbit.png to {outDir}"));
    }

    // The caption from the measured table: how many shapes the measured rank matches the corrected form and the printed one.
    private static string OrbitCaption(OrbitTableResult result)
    {
        int agree = result.MatchingCorrected(), paperOff = result.PaperDiffering();
        return $"Orbit dimension (log10) per shape (m, h, n) and group: the measured rank of M ↦ M̄θ (dots), the corrected closed form (line) and the paper's eqs. 20–22 (crosses). Measured: the rank equals the corrected form in {agree} of {result.Rows.Count} (shape, group) rows; the printed formula differs from it in {paperOff}" +
            (paperOff == 0 ? "." : $" ({result.PaperDifferingBeyondMaxMN()} of them with h > max(m, n)).");
    }
}
