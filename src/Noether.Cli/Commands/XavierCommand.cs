using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Conservation;
using Noether.Experiments;
using Noether.Serialization;
using Noether.Symmetry;
using ScottPlot;
using Spectre.Console;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether xavier</c>: Figs. 4–5 (Appendix E). The distribution of Q under Xavier initialisation U_ij ~ N(0, 1/h),
/// V_ij ~ N(0, 1/n): for linear layers Q = ½Tr[UᵀU − VVᵀ] with E[Q] = ½(m − h) (the paper's eq. 47 prints m − h) and
/// Var[Q] = ½(m/h + h/n); for elementwise σ the eq. 48 form at m = h = n = 100, against the moments derived in
/// <see cref="XavierDistribution"/>. Verdicts: |z| ≤ 3 for the mean and for the variance.
/// </summary>
internal static class XavierCommand
{
    private const double ZLimit = SymmetryClaims.ZLimit;

    /// <summary>One row of the table: the library's sample plus the variance test the CLI adds.</summary>
    private sealed record Row(string Figure, XavierSample Sample, double PaperZ, double VarianceStandardError, double VarianceZ, string KappaSource)
    {
        public bool MeanPass => Math.Abs(Sample.MeanZScore) <= ZLimit;
        public bool VariancePass => Math.Abs(VarianceZ) <= ZLimit;
    }

    public static Command Create()
    {
        var draws = new Option<int>("--draws") { Description = "Independent Xavier draws per tuple (paper: 1000).", DefaultValueFactory = _ => 1000 };
        draws.Validators.Add(r => { if (r.TryGet(out int v) && v < 2) r.AddError($"--draws must be an integer ≥ 2 (got {v})"); });
        var defaults = new XavierSettings();
        var shapes = ListOptions.Shapes("--shapes", "Fig. 4 tuples (m, h, n) of the linear network, written m×h×n, comma-separated.", [.. defaults.Shapes]);
        var activations = ListOptions.Activations("--activations", "Fig. 5 activations (elementwise σ, eq. 48 form), comma-separated.", [.. defaults.Activations], elementwiseOnly: true);
        var integralShape = ListOptions.Shape("--integral-shape", "Fig. 5 shape m×h×n (paper: 100x100x100).", defaults.IntegralFormShape);
        var bins = new Option<int>("--bins") { Description = "Histogram bins.", DefaultValueFactory = _ => 40 };
        bins.Validators.Add(r => { if (r.TryGet(out int b) && (b < 2 || b > 1000)) r.AddError($"--bins must be an integer between 2 and 1000 (got {b})"); });
        var seed = CommonOptions.Seed();
        var shard = CommonOptions.Shard();
        var output = CommonOptions.Out("results/xavier");
        var force = CommonOptions.Force();

        var command = new Command("xavier", "Figs. 4–5: Q under Xavier initialisation: histograms, measured mean against ½(m − h) (and the paper's m − h), variance against ½(m/h + h/n); the eq. 48 form per σ.")
        {
            draws, shapes, activations, integralShape, bins, seed, shard, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            var settings = new XavierSettings
            {
                Draws = parse.GetValue(draws),
                Shapes = parse.GetValue(shapes)!,
                Activations = parse.GetValue(activations)!,
                IntegralFormShape = parse.GetValue(integralShape),
                Seed = parse.GetValue(seed),
                Shard = parse.GetValue(shard),
            };
            int binCount = parse.GetValue(bins);
            string outDir = ExperimentConsole.PrepareOutput(parse.GetValue(output)!, parse.GetValue(force), out bool created);
            return Task.FromResult(ExperimentConsole.WithOutput(outDir, created, () =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Q under Xavier initialisation U ~ N(0, 1/h), V ~ N(0, 1/n): {settings.Draws} draws per tuple, seed {settings.Seed}"));
                var clock = Stopwatch.StartNew();
                var result = ExperimentConsole.Run("xavier", (p, t) => XavierExperiment.Run(settings, p, t), token);
                WriteResult(outDir, result, binCount, clock.Elapsed);
                if (settings.Shard is { } part)
                    ShardOutput.Complete(outDir, "xavier", null, part, XavierExperiment.GridSize(settings), settings, new { bins = binCount },
                        [.. result.Linear, .. result.IntegralForms], ["xavier.csv", "xavier-draws.csv"], clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    /// <summary>Scores every sample (also of a result merged from shards), writes the files and prints the table.</summary>
    internal static void WriteResult(string outDir, XavierResult result, int binCount, TimeSpan elapsed)
    {
        // A shard holds the Fig. 5 activations from its first grid item on (items: the tuples, then the activations).
        var items = Shard.ItemsOf(result.Settings.Shard, XavierExperiment.GridSize(result.Settings));
        var names = result.Settings.Activations.Skip(Math.Max(0, items.Start - result.Settings.Shapes.Count));
        var rows = result.Linear.Select(s => Score("Fig. 4", s, XavierDistribution.LinearTrace(s.Shape.M, s.Shape.H, s.Shape.N)))
            .Concat(result.IntegralForms.Zip(names, (s, name) => Score("Fig. 5", s,
                XavierDistribution.IntegralForm(Activation.Parse(name), s.Shape.M, s.Shape.H, s.Shape.N))))
            .ToArray();
        Write(outDir, result, rows, binCount, elapsed);
    }

    // The variance test: z = (s² − Var) / SE(s²), SE from the derived fourth cumulant when there is one, else the sample's.
    private static Row Score(string figure, XavierSample s, QuantityMoments? moments)
    {
        int n = s.Values.Length;
        double paperZ = double.IsNaN(s.PaperMean) ? double.NaN : (s.Mean - s.PaperMean) / s.StandardError;
        if (moments is null) return new Row(figure, s, paperZ, double.NaN, double.NaN, "none");
        double kappa4 = moments.FourthCumulant;
        string source = "derived";
        if (double.IsNaN(kappa4))
        {
            double m2 = 0, m4 = 0;
            foreach (var v in s.Values)
            {
                double d = (v - s.Mean) * (v - s.Mean);
                m2 += d;
                m4 += d * d;
            }
            m2 /= n;
            m4 /= n;
            kappa4 = m4 - 3 * m2 * m2;
            source = "sample";
        }
        double se = Math.Sqrt(kappa4 / n + 2 * moments.Variance * moments.Variance / (n - 1));
        return new Row(figure, s, paperZ, se, (s.Variance - moments.Variance) / se, source);
    }

    private static string Label(Row r) => r.Figure == "Fig. 4" ? $"linear {r.Sample.Shape}" : $"{r.Sample.Label} {r.Sample.Shape}";

    private static void Write(string outDir, XavierResult result, Row[] rows, int bins, TimeSpan elapsed)
    {
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
            claims = Claims(rows),
            figures = Figures(rows),
        });

        var linear = rows.Where(r => r.Figure == "Fig. 4").ToArray();
        var forms = rows.Where(r => r.Figure == "Fig. 5").ToArray();
        if (linear.Length > 0) DrawHistograms(linear, bins, Path.Combine(outDir, "xavier-hist.png"));
        if (forms.Length > 0) DrawHistograms(forms, bins, Path.Combine(outDir, "xavier-integral.png"));

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape("Q under Xavier initialisation: measured against predicted (verdict |z| ≤ 3)"))
            .AddColumn("figure").AddColumn("Q of (m, h, n)")
            .AddColumn(new TableColumn("mean").RightAligned()).AddColumn(new TableColumn(Markup.Escape("E[Q]")).RightAligned()).AddColumn(new TableColumn("z").RightAligned())
            .AddColumn("mean ok").AddColumn(new TableColumn("paper m − h (z)").RightAligned())
            .AddColumn(new TableColumn("variance").RightAligned()).AddColumn(new TableColumn(Markup.Escape("Var[Q]")).RightAligned()).AddColumn(new TableColumn("z").RightAligned())
            .AddColumn("variance ok");
        foreach (var r in rows)
        {
            var s = r.Sample;
            string paper = double.IsNaN(s.PaperMean) ? "–" : $"{ExperimentConsole.Fixed(s.PaperMean, 1)} ({ExperimentConsole.Fixed(r.PaperZ, 1)})";
            table.AddRow(r.Figure, Markup.Escape(Label(r)), ExperimentConsole.Fixed(s.Mean), ExperimentConsole.Fixed(s.PredictedMean), ExperimentConsole.Fixed(s.MeanZScore, 2),
                ExperimentConsole.Verdict(r.MeanPass), paper, ExperimentConsole.Fixed(s.Variance, 4), ExperimentConsole.Fixed(s.PredictedVariance, 4),
                ExperimentConsole.Fixed(r.VarianceZ, 2), ExperimentConsole.Verdict(r.VariancePass));
        }
        table.Caption(Markup.Escape("Fig. 4: Q = ½Tr[UᵀU − VVᵀ], E[Q] = ½(m − h), Var[Q] = ½(m/h + h/n); Fig. 5: eq. 48 form. z = (measured − predicted)/standard error."));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"wall {elapsed.TotalSeconds:F1} s; wrote xavier.csv, xavier-draws.csv, summary.json{(linear.Length > 0 ? ", xavier-hist.png" : "")}{(forms.Length > 0 ? ", xavier-integral.png" : "")} to {outDir}"));
    }

    // One panel per tuple (or σ): the histogram, the predicted mean, the measured mean, and the paper's m − h where it differs.
    private static void DrawHistograms(Row[] rows, int bins, string path)
    {
        var plots = new List<Plot>();
        foreach (var r in rows)
        {
            var s = r.Sample;
            bool linear = r.Figure == "Fig. 4";
            string title = linear ? $"Fig. 4: linear, (m, h, n) = {s.Shape}" : $"Fig. 5: σ = {s.Label}, (m, h, n) = {s.Shape}";
            var plot = Figure.Create(title, linear ? "Q = ½Tr[UᵀU − VVᵀ]" : "Q = ½Tr[UᵀU] − Σ∫σ/σ'  (eq. 48)", "draws per bin");
            Panels.Histogram(plot, s.Values, bins, Panels.Palette[0].WithAlpha(0.6), $"{s.Values.Length} Xavier draws");
            Panels.Marker(plot, s.PredictedMean, Panels.Palette[3], $"predicted mean {Num(s.PredictedMean)}{(linear ? " = ½(m − h)" : "")}", LinePattern.Solid);
            Panels.Marker(plot, s.Mean, Colors.Black, $"measured mean {Num(s.Mean)} (z = {ExperimentConsole.Fixed(s.MeanZScore, 2)})", LinePattern.Dashed);
            if (linear && s.PaperMean != s.PredictedMean)
            {
                // The paper's value is ~sd·|m − h|/2 away: drawing it would squash the histogram, so it is named instead.
                double sd = Math.Sqrt(s.PredictedVariance);
                if (Math.Abs(s.PaperMean - s.Mean) <= 6 * sd) Panels.Marker(plot, s.PaperMean, Panels.Palette[4], $"paper eq. 47: m − h = {Num(s.PaperMean)}", LinePattern.Dotted);
                else plot.Legend.ManualItems.Add(new LegendItem
                {
                    LabelText = $"paper eq. 47: m − h = {Num(s.PaperMean)} (off the axis, z = {ExperimentConsole.Fixed(r.PaperZ, 0)})",
                    LineColor = Panels.Palette[4],
                    LineWidth = 2,
                    LinePattern = LinePattern.Dotted,
                });
            }
            plot.Axes.Margins(left: 0.03, right: 0.03, bottom: 0, top: 0.45); // room for the legend above the bars
            plot.ShowLegend(Alignment.UpperRight);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path, 620, 440);
    }

    private static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    // The report contract: eq. 47 (corrected to ½(m − h)), the variance, and the eq. 48 form of Fig. 5, judged by SymmetryClaims from the z-scores.
    private static List<Claim> Claims(Row[] rows)
    {
        static string F(double v, int d = 2) => ExperimentConsole.Fixed(v, d);
        var claims = new List<Claim>();
        var linear = rows.Where(r => r.Figure == "Fig. 4").ToArray();
        if (linear.Length > 0)
        {
            // The paper's m − h is testable only where it differs from ½(m − h) (m ≠ h).
            var parts = linear.Select(r => new[] { r.Sample.MeanZScore, r.Sample.Shape.M != r.Sample.Shape.H ? r.PaperZ : double.NaN }).ToArray();
            var claim = SymmetryClaims.XavierMean.Make(parts, $"{linear[0].Sample.Values.Length} draws per shape; " + string.Join("; ", linear.Select(r =>
                $"{r.Sample.Shape}: mean {F(r.Sample.Mean, 3)} vs ½(m − h) = {F(r.Sample.PredictedMean, 1)} (z = {F(r.Sample.MeanZScore)})" +
                (double.IsNaN(r.PaperZ) ? "" : $", paper {F(r.Sample.PaperMean, 1)} (z = {F(r.PaperZ, 1)})"))));
            claims.Add(claim.Verdict == Verdict.Corrected ? claim with { Note = "the printed m − h is the mean of the un-halved trace; it is rejected wherever m ≠ h" } : claim);
            claims.Add(SymmetryClaims.XavierVariance.Make(linear.Select(r => new[] { r.VarianceZ }).ToArray(),
                string.Join("; ", linear.Select(r => $"{r.Sample.Shape}: {F(r.Sample.Variance, 3)} vs {F(r.Sample.PredictedVariance, 3)} (z = {F(r.VarianceZ)})"))));
        }
        var forms = rows.Where(r => r.Figure == "Fig. 5").ToArray();
        if (forms.Length > 0)
            claims.Add(SymmetryClaims.XavierIntegralForm.Make(forms.Select(r => new[] { r.Sample.MeanZScore, double.IsNaN(r.VarianceZ) ? 0 : 1, r.VarianceZ }).ToArray(),
                string.Join("; ", forms.Select(r => $"{r.Sample.Label}: mean {F(r.Sample.Mean, 3)} vs {F(r.Sample.PredictedMean, 3)} (z = {F(r.Sample.MeanZScore)})" +
                    (double.IsNaN(r.VarianceZ) ? "" : $", variance z = {F(r.VarianceZ)}"))),
                $"{forms[0].Sample.Shape}, x0 = 0 in eq. 48; the paper plots the histograms without predicted moments"));
        return claims;
    }

    // Captions from the measured samples: where the histograms centre, against the predictions.
    private static List<FigureRef> Figures(Row[] rows)
    {
        static string F(double v, int d) => ExperimentConsole.Fixed(v, d);
        var figures = new List<FigureRef>();
        var linear = rows.Where(r => r.Figure == "Fig. 4").ToArray();
        if (linear.Length > 0)
            figures.Add(new("xavier-hist.png", "Fig. 4", "Histograms of Q = ½Tr[UᵀU − VVᵀ] over Xavier draws for each (m, h, n), with the corrected centre ½(m − h) marked and the paper's m − h named (off the axis where it is far away). Measured means: " +
                string.Join("; ", linear.Select(r => $"{r.Sample.Shape} {F(r.Sample.Mean, 2)} (½(m − h) = {F(r.Sample.PredictedMean, 1)}, z = {F(r.Sample.MeanZScore, 2)}{(double.IsNaN(r.PaperZ) || r.Sample.Shape.M == r.Sample.Shape.H ? "" : $"; m − h = {F(r.Sample.PaperMean, 1)}, z = {F(r.PaperZ, 0)}")})")) + "."));
        var forms = rows.Where(r => r.Figure == "Fig. 5").ToArray();
        if (forms.Length > 0)
            figures.Add(new("xavier-integral.png", "Fig. 5", $"Histograms of the integral form of Q (eq. 48) for each elementwise σ at (m, h, n) = {forms[0].Sample.Shape}, against the derived mean. Measured: " +
                string.Join("; ", forms.Select(r => $"{r.Sample.Label} mean {F(r.Sample.Mean, 3)} vs {F(r.Sample.PredictedMean, 3)} (z = {F(r.Sample.MeanZScore, 2)})")) + "."));
        return figures;
    }
}
