using System.Net;
using System.Text;
using Noether.Cli.Figures;
using Noether.Conservation;
using Noether.Landscape;
using Noether.Symmetry.Census;

namespace Noether.Cli.Output;

/// <summary>
/// The files of <c>analyze --model</c>: census.csv (a row per site with its check), conserved.csv (every generator's Q),
/// loss-lines.csv, curvature.csv, the figures conserved.png and loss-lines.png, summary.json and a self-contained report.html.
/// </summary>
internal static class ModelReportWriter
{
    public static void Write(string outDir, string modelPath, string dataset, ModelReportResult r, TimeSpan elapsed, TrainingRunRecord? training = null)
    {
        var census = new CsvTable("site", "kind", "location", "group", "dimension", "exact", "invariance", "orthogonality", "passed", "conserved");
        var conserved = new CsvTable("site", "location", "generator", "q");
        for (int i = 0; i < r.Check.Sites.Count; i++)
        {
            var c = r.Check.Sites[i];
            census.AddRow(i, c.Site.Kind, c.Site.Location, c.Site.Group, c.Site.Dimension, c.Site.Exact, c.Invariance, c.Orthogonality, c.Passed, c.Site.Conserved);
            for (int g = 0; g < c.Conserved.Length; g++) conserved.AddRow(i, c.Site.Location, c.Site.Generators[g].Name, c.Conserved[g]);
        }
        census.Save(Path.Combine(outDir, "census.csv"));
        conserved.Save(Path.Combine(outDir, "conserved.csv"));
        var lines = new CsvTable("kind", "label", "distance", "loss");
        foreach (var l in r.Lines)
            for (int k = 0; k < l.Loss.Length; k++) lines.AddRow(l.Kind, l.Label, l.Distance[k], l.Loss[k]);
        lines.Save(Path.Combine(outDir, "loss-lines.csv"));
        var cv = r.Curvature;
        if (cv?.Top is { } top)
        {
            var table = new CsvTable("quantity", "index", "value", "interval_low", "interval_high");
            var half = Interval(top);
            for (int i = 0; i < half.Length; i++) table.AddRow("eigenvalue", i + 1, top.Eigen.Values[i], top.Eigen.Values[i] - half[i], top.Eigen.Values[i] + half[i]);
            table.AddRow("trace", 0, cv.Trace.Trace, cv.Trace.Trace - 1.96 * cv.Trace.StandardErrorPopulation, cv.Trace.Trace + 1.96 * cv.Trace.StandardErrorPopulation);
            if (cv.ModuloOrbit is { } mo)
            {
                table.AddRow("orbit_trace", 0, mo.Orbit.OrbitTrace, double.NaN, double.NaN);
                for (int i = 0; i < mo.ProjectedTop.Values.Length; i++) table.AddRow("eigenvalue_modulo_orbit", i + 1, mo.ProjectedTop.Values[i], double.NaN, double.NaN);
            }
            table.Save(Path.Combine(outDir, "curvature.csv"));
        }
        ModelReportFigures.Conserved(r, Path.Combine(outDir, "conserved.png"));
        ModelReportFigures.LossLines(r, Path.Combine(outDir, "loss-lines.png"));
        var figures = new List<FigureRef>
        {
            new("conserved.png", null, "The conserved quantity of every census generator at the weights, per site."),
            new("loss-lines.png", null, "Loss along group orbits, their tangent lines and random filter-normalised directions."),
        };
        if (training is not null)
        {
            TrainingFigures.Curve(training.Epochs, $"training run {Path.GetFileName(training.Folder)}", Path.Combine(outDir, "training.png"));
            figures.Add(new("training.png", null, $"Test accuracy and mean training loss after each epoch of the run in {training.Folder}."));
            if (training.Monitor is not null)
            {
                ModelReportFigures.Monitor(training, Path.Combine(outDir, "monitor.png"));
                figures.Add(new("monitor.png", null, MonitorCaption(training)));
            }
        }

        var claims = ModelReportExperiment.Claims(r);
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "analyze",
            mode = "model",
            model = Path.GetFullPath(modelPath),
            dataset,
            samples = r.Samples,
            parameters = r.Parameters,
            loss = r.Check.Loss,
            batchNorm = "inference",
            precision = "float64",
            seed = r.Settings.Seed,
            census = new
            {
                sites = r.Check.Sites.Count,
                dimension = r.Census.Dimension,
                passed = r.Check.Sites.Count(s => s.Passed),
                orbitRank = r.Check.Orbit.Rank,
                orbitGap = r.Check.Orbit.Gap,
                orbitClearGap = r.Check.Orbit.ClearGap,
            },
            lines = r.Lines.Select(l => new { l.Kind, l.Label, maxRelativeChange = l.MaxRelativeChange }),
            curvature = cv is null ? null : new
            {
                topEigenvalues = cv.Top?.Eigen.Values,
                intervals95 = cv.Top is { } tp ? Interval(tp) : null,
                trace = cv.Trace.Trace,
                traceStandardError = cv.Trace.StandardErrorPopulation,
                orbitTrace = cv.ModuloOrbit?.Orbit.OrbitTrace,
                topModuloOrbit = cv.ModuloOrbit?.ProjectedTop.Values,
                batches = cv.Batches,
                hessianVectorProducts = cv.HessianVectorProducts,
            },
            curvatureNote = r.CurvatureNote,
            laws = r.DataLaws is { } laws ? new { laws.Parameters, laws.LieDimension, conservationLaws = laws.Parameters - laws.LieDimension, laws.ClearGap } : null,
            lawsNote = r.LawsNote,
            claims,
            training = training is null ? null : new
            {
                folder = training.Folder,
                epochs = training.Epochs.Count,
                finalTestAccuracy = training.Epochs.LastOrDefault()?.TestAccuracy,
                finalTrainLoss = training.Epochs.LastOrDefault()?.TrainLoss,
                monitor = training.Monitor,
                monitorByKind = training.MonitorByKind.Select(k => new { kind = k.Kind.ToString(), summary = k.Summary }),
                teleports = training.Teleports?.RowCount,
            },
            figures,
            wallSeconds = elapsed.TotalSeconds,
        });
        AtomicFile.WriteAllText(Path.Combine(outDir, "report.html"), Html(modelPath, dataset, r, claims, outDir, training));

        var console = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"{Path.GetFileName(modelPath)}: {r.Check.Sites.Count} census sites, dimension {r.Census.Dimension}"))
            .AddColumn("check").AddColumn(new TableColumn("measured").RightAligned()).AddColumn("verdict");
        foreach (var c in claims) console.AddRow(Markup.Escape(c.Statement), Markup.Escape(c.Measured), ExperimentConsole.Verdict(c.Verdict == Verdict.Passed));
        ExperimentConsole.Write(console);
        if (cv?.Top is { } t0)
            ExperimentConsole.Line(Format.Inv($"top eigenvalue {t0.Eigen.Values[0]:G6} ± {Interval(t0)[0]:G2}, trace {cv.Trace.Trace:G6} ± {1.96 * cv.Trace.StandardErrorPopulation:G2} (95%, {cv.Batches} batches)"));
        if (training?.Monitor is { } m)
            ExperimentConsole.Line(Format.Inv($"training run {training.Folder}: {training.Epochs.Count} epochs; monitor median relative miss {m.MedianIdentityRelative:E2} (per-step identity), {m.MedianIntegralRelative:E2} (integral) over {m.Observations} observations"));
        ExperimentConsole.Line(Format.Inv($"wall {elapsed.TotalSeconds:F1} s; wrote report.html, census.csv, conserved.csv, loss-lines.csv, summary.json to {outDir}"));
    }

    private static string MonitorCaption(TrainingRunRecord t) => Format.Inv(
        $"The monitored run: left, the median over generators of |predicted − measured|/|measured| at each kept step, for the exact per-step identity and the modified-equation integral (docs/monitor.md); then, per site kind, its first generator's Q measured, from the identity and from the integral. Over all {t.Monitor!.Observations} observations: medians {t.Monitor.MedianIdentityRelative:E2} and {t.Monitor.MedianIntegralRelative:E2}.");

    // The training run's section: epochs, the monitor's table per site kind and its figure, the teleports as written.
    private static void TrainingSection(StringBuilder h, string outDir, TrainingRunRecord t)
    {
        h.Append("<h2>Training run</h2><p>").Append(E(Format.Inv($"From {t.Folder}: {t.Epochs.Count} epochs")));
        if (t.Epochs.LastOrDefault() is { } last) h.Append(E(Format.Inv($", final test accuracy {100 * last.TestAccuracy:F2}%, train loss {last.TrainLoss:G4}")));
        h.Append(".</p>");
        Image(h, outDir, "training.png", "Test accuracy and mean training loss after each epoch.");
        if (t.Monitor is { } m)
        {
            h.Append("<h3>Conserved quantities through training</h3><table><tr><th>site kind</th><th>observations</th><th>generators</th><th>per-step identity: median (max) relative miss</th><th>integral: median relative miss</th><th>breaking term: median relative size</th></tr>");
            var rows = t.MonitorByKind.Select(x => (Name: x.Kind.ToString(), x.Summary)).Append((Name: "all", Summary: m));
            foreach (var (kind, k) in rows)
                h.Append(Format.Inv($"<tr><td>{E(kind)}</td><td class=\"n\">{k.Observations}</td><td class=\"n\">{k.Generators}</td><td class=\"n\">{k.MedianIdentityRelative:0.0e+00} ({k.MaxIdentityRelative:0.0e+00})</td><td class=\"n\">{k.MedianIntegralRelative:0.0e+00}</td><td class=\"n\">{k.MedianBreakingRelative:0.0e+00}</td></tr>"));
            h.Append("</table>");
            Image(h, outDir, "monitor.png", MonitorCaption(t));
        }
        if (t.Teleports is { } tp)
        {
            h.Append("<h3>Teleports</h3><table><tr>");
            foreach (var c in tp.Columns) h.Append("<th>").Append(E(c)).Append("</th>");
            h.Append("</tr>");
            foreach (var row in tp.Rows)
            {
                h.Append("<tr>");
                foreach (var cell in row) h.Append("<td>").Append(E(cell)).Append("</td>");
                h.Append("</tr>");
            }
            h.Append("</table>");
        }
    }

    // 95% half-width of each eigenvalue from the batch-to-batch spread of its Rayleigh quotients.
    private static double[] Interval(MinibatchEigen top) => top.QuotientStandardErrors.Select(e => 1.96 * e).ToArray();

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Html(string modelPath, string dataset, ModelReportResult r, IReadOnlyList<Claim> claims, string outDir, TrainingRunRecord? training)
    {
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Noether report: ").Append(E(Path.GetFileName(modelPath))).Append("</title>")
            .Append("<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}")
            .Append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}td.n{text-align:right}.pass{color:#080}.fail{color:#b00}img{max-width:100%}</style></head><body>");
        h.Append("<h1>").Append(E(Path.GetFileName(modelPath))).Append("</h1><p>")
            .Append(E(Format.Inv($"{r.Parameters:N0} parameters; {r.Samples} {dataset} training images; mean cross-entropy {r.Check.Loss:G6}; BatchNorm in inference mode; float64; seed {r.Settings.Seed}.")))
            .Append("</p><h2>Checks</h2><table><tr><th>check</th><th>measured</th><th>verdict</th></tr>");
        foreach (var c in claims)
            h.Append("<tr><td>").Append(E(c.Statement)).Append("</td><td>").Append(E(c.Measured)).Append("</td><td class=\"")
                .Append(c.Verdict == Verdict.Passed ? "pass\">pass" : "fail\">FAIL").Append("</td></tr>");
        h.Append("</table><h2>Symmetry census</h2><p>")
            .Append(E(Format.Inv($"{r.Check.Sites.Count} sites, dimension {r.Census.Dimension}; rank of the tangent map {r.Check.Orbit.Rank}{(r.Check.Orbit.ClearGap ? "" : " (no clear singular-value gap)")}.")))
            .Append("</p><table><tr><th>#</th><th>location</th><th>group</th><th>dim</th><th>conserved quantity</th><th>invariance</th><th>⟨∇L, Mθ⟩</th><th>Q (min … max)</th><th>check</th></tr>");
        for (int i = 0; i < r.Check.Sites.Count; i++)
        {
            var c = r.Check.Sites[i];
            h.Append(Format.Inv($"<tr><td class=\"n\">{i}</td><td>{E(c.Site.Location)}</td><td>{E(c.Site.Group)}</td><td class=\"n\">{c.Site.Dimension}</td><td>{E(c.Site.Conserved)}</td>"))
                .Append(Format.Inv($"<td class=\"n\">{c.Invariance:0.0e+00}</td><td class=\"n\">{c.Orthogonality:0.0e+00}</td><td class=\"n\">{c.Conserved.DefaultIfEmpty().Min():G4} … {c.Conserved.DefaultIfEmpty().Max():G4}</td>"))
                .Append(c.Passed ? "<td class=\"pass\">pass</td>" : "<td class=\"fail\">FAIL</td>").Append("</tr>");
        }
        h.Append("</table>");
        Image(h, outDir, "conserved.png", "The conserved quantity of every census generator at the weights, per site.");
        h.Append("<h2>Loss along orbits and random directions</h2>");
        Image(h, outDir, "loss-lines.png", "Loss along group orbits (flat), their tangent lines and random filter-normalised directions (Li et al. 2018), against the relative distance ‖θ(t) − θ‖/‖θ‖.");
        h.Append("<h2>Curvature</h2><p>");
        if (r.Curvature is { Top: { } top } cv)
        {
            h.Append(E(Format.Inv($"Hessian of the mean cross-entropy over {cv.Batches} batches: top eigenvalues {string.Join(", ", top.Eigen.Values.Zip(Interval(top), (v, i) => $"{v:G5} ± {i:G2}"))}; trace {cv.Trace.Trace:G5} ± {1.96 * cv.Trace.StandardErrorPopulation:G2} (Hutchinson, {cv.Trace.Probes} probes, 95% over batches and probes).")));
            if (cv.ModuloOrbit is { } mo)
                h.Append(' ').Append(E(Format.Inv($"Modulo the orbit: the tangents carry a trace of {mo.Orbit.OrbitTrace:G4}; top eigenvalues of PHP {string.Join(", ", mo.ProjectedTop.Values.Select(v => v.ToString("G5", CultureInfo.InvariantCulture)))}.")));
        }
        else h.Append("not computed.");
        if (r.CurvatureNote is { } note) h.Append(' ').Append(E(note)).Append('.');
        h.Append("</p><h2>Conservation laws</h2><p>");
        h.Append(E(r.DataLaws is { } laws
            ? Format.Inv($"Data fields (the outputs' gradients on this batch): D − dim Lie(V) = {laws.Parameters} − {laws.LieDimension} = {laws.Parameters - laws.LieDimension} laws{(laws.ClearGap ? "" : " (no clear singular-value gap)")}; the census accounts for {r.Census.Dimension}.")
            : r.LawsNote ?? "not computed"));
        h.Append("</p>");
        if (training is not null) TrainingSection(h, outDir, training);
        h.Append("<p><small>Written by noether analyze --model; every number is in summary.json and the CSV files beside this page.</small></p></body></html>");
        return h.ToString();
    }

    private static void Image(StringBuilder h, string outDir, string file, string caption) =>
        h.Append("<figure><img alt=\"").Append(E(caption)).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(File.ReadAllBytes(Path.Combine(outDir, file))))
            .Append("\"><figcaption>").Append(E(caption)).Append("</figcaption></figure>");
}
