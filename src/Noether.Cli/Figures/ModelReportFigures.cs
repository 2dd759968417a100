using Noether.Experiments;
using ScottPlot;
using Color = ScottPlot.Color; // Spectre.Console (a global using) has one too

namespace Noether.Cli.Figures;

/// <summary>The PNGs of <c>noether analyze --model</c>.</summary>
internal static class ModelReportFigures
{
    /// <summary>Every generator's conserved quantity, one column of points per census site.</summary>
    public static void Conserved(ModelReportResult r, string path)
    {
        var plot = Figure.Create("Conserved quantities at the weights, per census site", "site", "Q of each generator");
        var sites = r.Check.Sites;
        for (int i = 0; i < sites.Count; i++)
        {
            var q = sites[i].Conserved;
            if (q.Length == 0) continue;
            var xs = q.Select((_, j) => i + 0.6 * ((j + 0.5) / q.Length - 0.5)).ToArray();
            var points = plot.Add.Scatter(xs, q, Panels.Palette[(int)sites[i].Site.Kind % Panels.Palette.Length]);
            points.LineWidth = 0;
            points.MarkerSize = 3;
        }
        var ticks = Enumerable.Range(0, sites.Count).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks, sites.Select((s, i) => $"{i}").ToArray());
        Figure.Save(plot, path, Math.Max(800, 14 * sites.Count), 500);
    }

    /// <summary>The loss along each line against the relative distance from the weights.</summary>
    public static void LossLines(ModelReportResult r, string path)
    {
        var plot = Figure.Create("Loss along group orbits and random directions", "relative distance ‖θ(t) − θ‖ / ‖θ‖ (signed)", "mean cross-entropy");
        int colour = 0;
        foreach (var line in r.Lines)
        {
            var s = plot.Add.Scatter(line.Distance, line.Loss, Panels.Palette[colour++ % Panels.Palette.Length]);
            s.LegendText = $"{line.Kind}: {line.Label}";
            s.MarkerSize = 4;
            if (line.Kind == "tangent") s.LinePattern = LinePattern.Dashed;
        }
        plot.ShowLegend(Alignment.UpperCenter);
        Figure.Save(plot, path);
    }

    /// <summary>
    /// A monitored run: the median relative miss per kept step of the per-step identity and of the modified-equation integral
    /// (log10), then one panel per site kind with its first generator's Q measured, from the identity and from the integral.
    /// </summary>
    public static void Monitor(TrainingRunRecord run, string path)
    {
        var plots = new List<Plot>();
        var misses = Figure.Create("Median relative miss over generators, per kept step", "step", "log10 |predicted − measured| / |measured|");
        void Curve(Func<(long Step, double Identity, double Integral), double> miss, Color color, string legend)
        {
            var kept = run.MonitorPerStep.Where(p => miss(p) > 0 && double.IsFinite(miss(p))).ToArray();
            if (kept.Length > 0) Panels.Line(misses, kept.Select(p => (double)p.Step).ToArray(), kept.Select(p => Math.Log10(miss(p))).ToArray(), color, legend);
        }
        Curve(p => p.Identity, Panels.Palette[0], "exact per-step identity");
        Curve(p => p.Integral, Panels.Palette[1], "modified-equation integral");
        misses.ShowLegend(Alignment.UpperRight);
        plots.Add(misses);
        foreach (var t in run.Trajectories)
        {
            var plot = Figure.Create($"{t.Kind}: {Shorten(t.Site)}, {t.Generator}", "step", "Q");
            var x = t.Steps.Select(v => (double)v).ToArray();
            Panels.Line(plot, x, t.Measured, Panels.Palette[0], "measured", 3);
            Panels.Line(plot, x, t.Predicted, Panels.Palette[2], "per-step identity", 1.5f, LinePattern.Dashed);
            Panels.Line(plot, x, t.Integral, Panels.Palette[1], "integral", 1.5f, LinePattern.Dotted);
            plot.ShowLegend(Alignment.LowerRight);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path);
    }

    private static string Shorten(string text) => text.Length <= 36 ? text : text[..33] + "...";
}
