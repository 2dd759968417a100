using ScottPlot;
using Color = ScottPlot.Color; // Spectre.Console (a global using) has one too

namespace Noether.Cli.Figures;

/// <summary>
/// Grids of plots in one PNG (ScottPlot's Multiplot), plus the helpers the symmetry figures share: log10 of data
/// (ScottPlot 5 has no log axis), a fixed palette so that a learning rate keeps its colour across panels, and
/// histograms.
/// </summary>
internal static class Panels
{
    /// <summary>Colours in order: blue, orange, green, red, purple, brown, pink, grey (Tableau 10).</summary>
    public static readonly Color[] Palette =
    [
        Color.FromHex("#1f77b4"), Color.FromHex("#ff7f0e"), Color.FromHex("#2ca02c"), Color.FromHex("#d62728"),
        Color.FromHex("#9467bd"), Color.FromHex("#8c564b"), Color.FromHex("#e377c2"), Color.FromHex("#7f7f7f"),
    ];

    /// <summary>Renders <paramref name="plots"/> in a grid of <paramref name="columns"/> columns and writes the PNG atomically.</summary>
    public static void Save(IReadOnlyList<Plot> plots, int columns, string path, int panelWidth = 600, int panelHeight = 420)
    {
        int rows = (plots.Count + columns - 1) / columns;
        var multiplot = new Multiplot(plots[0]); // the parameterless constructor adds an empty plot of its own
        foreach (var p in plots.Skip(1)) multiplot.AddPlot(p);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        using var image = multiplot.Render(panelWidth * columns, panelHeight * rows);
        AtomicFile.WriteAllBytes(path, image.GetImageBytes(ImageFormat.Png, 100));
    }

    /// <summary>Columns for <paramref name="count"/> panels: one row up to three, then rows of two or three.</summary>
    public static int Columns(int count) => count <= 3 ? count : count == 4 ? 2 : 3;

    /// <summary>Points (log10 x, log10 |y|) of the finite pairs with x &gt; 0 and y ≠ 0.</summary>
    public static (double[] X, double[] Y) LogLog(IReadOnlyList<double> x, IReadOnlyList<double> y, bool absolute = true)
    {
        var xs = new List<double>(x.Count);
        var ys = new List<double>(x.Count);
        for (int i = 0; i < x.Count; i++)
        {
            double yi = absolute ? Math.Abs(y[i]) : y[i];
            if (x[i] > 0 && yi > 0 && double.IsFinite(x[i]) && double.IsFinite(yi))
            {
                xs.Add(Math.Log10(x[i]));
                ys.Add(Math.Log10(yi));
            }
        }
        return (xs.ToArray(), ys.ToArray());
    }

    /// <summary>A line with markers off, in the given colour, with a legend entry.</summary>
    public static ScottPlot.Plottables.Scatter Line(Plot plot, double[] x, double[] y, Color color, string legend, float width = 2, LinePattern? pattern = null)
    {
        var line = plot.Add.ScatterLine(x, y, color);
        line.LineWidth = width;
        line.LegendText = legend;
        if (pattern is { } p) line.LinePattern = p;
        return line;
    }

    /// <summary>A histogram of <paramref name="values"/> with <paramref name="bins"/> bins spanning their range.</summary>
    public static void Histogram(Plot plot, double[] values, int bins, Color color, string legend)
    {
        double min = values.Min(), max = values.Max();
        if (max <= min) max = min + 1;
        var histogram = ScottPlot.Statistics.Histogram.WithBinCount(bins, min, max);
        histogram.AddRange(values);
        plot.Add.Histogram(histogram, color);
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = legend, FillColor = color });
    }

    /// <summary>A vertical line at <paramref name="x"/> with a legend entry.</summary>
    public static void Marker(Plot plot, double x, Color color, string legend, LinePattern pattern)
    {
        var line = plot.Add.VerticalLine(x, 2, color, pattern);
        line.LegendText = legend;
    }
}
