using Noether.Experiments;
using ScottPlot;

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
}
