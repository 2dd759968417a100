using Noether.Cli.Output;
using Noether.Experiments;
using Noether.Landscape;
using ScottPlot;

namespace Noether.Cli.Figures;

/// <summary>The figures of <c>noether valley</c>.</summary>
internal static class ValleyFigures
{
    /// <summary>valley-1d.png: loss and log10 |L − L*|/L* against signed distance, group paths in black.</summary>
    public static void Lines(ValleyResult c, double lStar, string path)
    {
        var loss = Figure.Create("Loss along the valley: group paths vs random directions", "signed distance from θ* in parameter space", $"loss {c.Subject.LossName}");
        var deviation = Figure.Create("The same, as log10 |L − L*| / L*", "signed distance from θ* in parameter space", "log10 |L − L*| / L*");
        int colour = 0;
        foreach (var l in c.GroupLines)
        {
            var pattern = colour == 0 ? LinePattern.Solid : LinePattern.Dashed;
            Panels.Line(loss, l.Distance, l.Loss, Colors.Black, l.Label, 3, pattern);
            Panels.Line(deviation, l.Distance, Deviation(l, lStar), Colors.Black, l.Label, 2, pattern);
            colour++;
        }
        for (int i = 0; i < c.RandomLines.Length; i++)
        {
            var l = c.RandomLines[i];
            Panels.Line(loss, l.Distance, l.Loss, Panels.Palette[i % Panels.Palette.Length], l.Label);
            Panels.Line(deviation, l.Distance, Deviation(l, lStar), Panels.Palette[i % Panels.Palette.Length], l.Label);
        }
        loss.ShowLegend(Alignment.UpperCenter);
        deviation.ShowLegend(Alignment.LowerCenter);
        Panels.Save([loss, deviation], 2, path, 650, 480);
    }

    // log10 |L − L*|/L*, with exact zeros (rounding gave the same double) drawn at −17.
    private static double[] Deviation(ValleyLine l, double lStar) => l.Loss.Select(x => Math.Log10(Math.Max(Math.Abs(x - lStar) / lStar, 1e-17))).ToArray();

    /// <summary>valley-2d.png: log10 L on the three 2-D slices, one colour scale.</summary>
    public static void Planes(ValleyResult c, string path)
    {
        var slices = new[] { (c.Random2D, "α (along d₁)", "β (along d₂)", "random d₁, d₂"), (c.Mixed2D, "s (group path exp(sM₁))", "α (along d₁)", "group path × random d₁"), (c.Group2D, "s (exp(sM₁))", "t (exp(tM₂))", "two group paths") };
        double lo = slices.Min(s => Math.Log10(ValleyWriter.Min(s.Item1.Loss))), hi = slices.Max(s => Math.Log10(ValleyWriter.Max(s.Item1.Loss)));
        if (!(hi > lo)) hi = lo + 1e-9;
        var plots = new List<Plot>();
        foreach (var (plane, xLabel, yLabel, title) in slices)
        {
            var plot = Figure.Create($"log10 L: {title}", xLabel, yLabel);
            int nx = plane.A.Length, ny = plane.B.Length;
            // Heatmap rows are drawn top to bottom: row 0 is the largest second coordinate.
            var data = new double[ny, nx];
            for (int i = 0; i < nx; i++)
                for (int j = 0; j < ny; j++) data[ny - 1 - j, i] = Math.Log10(plane.Loss[i, j]);
            var heatmap = plot.Add.Heatmap(data);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            heatmap.ManualRange = new ScottPlot.Range(lo, hi);
            heatmap.Rectangle = new CoordinateRect(plane.A[0], plane.A[^1], plane.B[0], plane.B[^1]);
            plot.Add.ColorBar(heatmap);
            plots.Add(plot);
        }
        Panels.Save(plots, 3, path, 560, 460);
    }
}
