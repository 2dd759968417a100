using static Noether.Experiments.Format;

namespace Noether.Cli.Output;

/// <summary>The files, claims and table of <c>noether xavier</c> (Figs. 4–5), also of a result merged from shards.</summary>
internal static class XavierWriter
{
    internal static string Label(XavierScore r) => r.Figure == "Fig. 4" ? $"linear {r.Sample.Shape}" : $"{r.Sample.Label} {r.Sample.Shape}";

    /// <summary>Scores every sample (also of a result merged from shards), writes the files and prints the table.</summary>
    public static void Write(string outDir, XavierResult result, int bins, TimeSpan elapsed)
    {
        var rows = XavierExperiment.Score(result);
        var csv = new CsvTable("figure", "label", "m", "h", "n", "draws", "mean", "predicted_mean", "paper_mean", "standard_error", "mean_z", "mean_within_3se",
            "paper_mean_z", "variance", "predicted_variance", "variance_standard_error", "variance_z", "variance_within_3se", "kappa4_source");
        foreach (var r in rows)
        {
            var s = r.Sample;
            csv.AddRow(r.Figure, s.Label, s.Shape.M, s.Shape.H, s.Shape.N, s.Values.Length, s.Mean, s.PredictedMean, s.PaperMean, s.StandardError, s.MeanZScore,
                r.MeanPass, r.PaperZ, s.Variance, s.PredictedVariance, r.VarianceStandardError, r.VarianceZ, r.VariancePass, r.KappaSource);
        }
        csv.Save(Path.Combine(outDir, "xavier.csv"));

        var draws = new CsvTable("figure", "label", "m", "h", "n", "draw", "q");
        foreach (var r in rows)
            for (int d = 0; d < r.Sample.Values.Length; d++)
                draws.AddRow(r.Figure, r.Sample.Label, r.Sample.Shape.M, r.Sample.Shape.H, r.Sample.Shape.N, d, r.Sample.Values[d]);
        draws.Save(Path.Combine(outDir, "xavier-draws.csv"));

        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "xavier",
            settings = new
            {
                result.Settings.Draws,
                Shapes = result.Settings.Shapes.Select(s => s.ToString()),
                result.Settings.Activations,
                IntegralFormShape = result.Settings.IntegralFormShape.ToString(),
                result.Settings.Seed,
            },
            definitions = new
            {
                linear = "Q = ½Tr[UᵀU − VVᵀ] (eq. 45); E[Q] = ½(m − h), Var[Q] = ½(m/h + h/n); the paper's eq. 47 prints m − h",
                integralForm = "Q = ½Tr[UᵀU] − Σ∫₀^V σ/σ' (eq. 48), x0 = 0",
                verdict = "|z| ≤ 3, z = (measured − predicted) / standard error",
            },
            rows = rows.Select(r => new
            {
                figure = r.Figure,
                label = r.Sample.Label,
                shape = new { m = r.Sample.Shape.M, h = r.Sample.Shape.H, n = r.Sample.Shape.N },
                draws = r.Sample.Values.Length,
                mean = r.Sample.Mean,
                predictedMean = r.Sample.PredictedMean,
                paperMean = double.IsNaN(r.Sample.PaperMean) ? (double?)null : r.Sample.PaperMean,
                standardError = r.Sample.StandardError,
                meanZ = r.Sample.MeanZScore,
                meanWithinThreeStandardErrors = r.MeanPass,
                paperMeanZ = double.IsNaN(r.PaperZ) ? (double?)null : r.PaperZ,
                variance = r.Sample.Variance,
                predictedVariance = r.Sample.PredictedVariance,
                varianceStandardError = r.VarianceStandardError,
                varianceZ = r.VarianceZ,
                varianceWithinThreeStandardErrors = r.VariancePass,
                kappa4Source = r.KappaSource,
            }),
            allMeansWithinThreeStandardErrors = rows.All(r => r.MeanPass),
            allVariancesWithinThreeStandardErrors = rows.All(r => r.VariancePass),
            wallSeconds = elapsed.TotalSeconds,
            claims = XavierExperiment.Claims(rows),
            figures = Figures(rows),
        });

        var linear = rows.Where(r => r.Figure == "Fig. 4").ToArray();
        var forms = rows.Where(r => r.Figure == "Fig. 5").ToArray();
        if (linear.Length > 0) XavierFigures.Histograms(linear, bins, Path.Combine(outDir, "xavier-hist.png"));
        if (forms.Length > 0) XavierFigures.Histograms(forms, bins, Path.Combine(outDir, "xavier-integral.png"));

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape("Q under Xavier initialisation: measured against predicted (verdict |z| ≤ 3)"))
            .AddColumn("figure").AddColumn("Q of (m, h, n)")
            .AddColumn(new TableColumn("mean").RightAligned()).AddColumn(new TableColumn(Markup.Escape("E[Q]")).RightAligned()).AddColumn(new TableColumn("z").RightAligned())
            .AddColumn("mean ok").AddColumn(new TableColumn("paper m − h (z)").RightAligned())
            .AddColumn(new TableColumn("variance").RightAligned()).AddColumn(new TableColumn(Markup.Escape("Var[Q]")).RightAligned()).AddColumn(new TableColumn("z").RightAligned())
            .AddColumn("variance ok");
        foreach (var r in rows)
        {
            var s = r.Sample;
            string paper = double.IsNaN(s.PaperMean) ? "–" : $"{Fixed(s.PaperMean, 1)} ({Fixed(r.PaperZ, 1)})";
            table.AddRow(r.Figure, Markup.Escape(Label(r)), Fixed(s.Mean), Fixed(s.PredictedMean), Fixed(s.MeanZScore, 2),
                ExperimentConsole.Verdict(r.MeanPass), paper, Fixed(s.Variance, 4), Fixed(s.PredictedVariance, 4),
                Fixed(r.VarianceZ, 2), ExperimentConsole.Verdict(r.VariancePass));
        }
        table.Caption(Markup.Escape("Fig. 4: Q = ½Tr[UᵀU − VVᵀ], E[Q] = ½(m − h), Var[Q] = ½(m/h + h/n); Fig. 5: eq. 48 form. z = (measured − predicted)/standard error."));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"wall {elapsed.TotalSeconds:F1} s; wrote xavier.csv, xavier-draws.csv, summary.json{(linear.Length > 0 ? ", xavier-hist.png" : "")}{(forms.Length > 0 ? ", xavier-integral.png" : "")} to {outDir}"));
    }

    // Captions from the measured samples: where the histograms centre, against the predictions.
    private static List<FigureRef> Figures(XavierScore[] rows)
    {
        var figures = new List<FigureRef>();
        var linear = rows.Where(r => r.Figure == "Fig. 4").ToArray();
        if (linear.Length > 0)
            figures.Add(new("xavier-hist.png", "Fig. 4", "Histograms of Q = ½Tr[UᵀU − VVᵀ] over Xavier draws for each (m, h, n), with the corrected centre ½(m − h) marked and the paper's m − h named (off the axis where it is far away). Measured means: " +
                string.Join("; ", linear.Select(r => $"{r.Sample.Shape} {Fixed(r.Sample.Mean, 2)} (½(m − h) = {Fixed(r.Sample.PredictedMean, 1)}, z = {Fixed(r.Sample.MeanZScore, 2)}{(double.IsNaN(r.PaperZ) || r.Sample.Shape.M == r.Sample.Shape.H ? "" : $"; m − h = {Fixed(r.Sample.PaperMean, 1)}, z = {Fixed(r.PaperZ, 0)}")})")) + "."));
        var forms = rows.Where(r => r.Figure == "Fig. 5").ToArray();
        if (forms.Length > 0)
            figures.Add(new("xavier-integral.png", "Fig. 5", $"Histograms of the integral form of Q (eq. 48) for each elementwise σ at (m, h, n) = {forms[0].Sample.Shape}, against the derived mean. Measured: " +
                string.Join("; ", forms.Select(r => $"{r.Sample.Label} mean {Fixed(r.Sample.Mean, 3)} vs {Fixed(r.Sample.PredictedMean, 3)} (z = {Fixed(r.Sample.MeanZScore, 2)})")) + "."));
        return figures;
    }
}
