using ScottPlot;

namespace Noether.Cli.Figures;

/// <summary>The PNG of <c>noether orbit</c>.</summary>
internal static class OrbitFigures
{
    /// <summary>One panel per group: measured (dots), corrected (line) and the paper's value (crosses) per shape, log10 y.</summary>
    public static void Dimensions(OrbitTableResult result, string path)
    {
        var plots = new List<Plot>();
        var shapes = result.Settings.Shapes;
        foreach (var group in result.Rows.GroupBy(r => r.Group))
        {
            var rows = group.ToArray();
            var plot = Figure.Create($"{OrbitWriter.Name(group.Key)}: measured vs closed forms ({OrbitWriter.Equation(group.Key)})", "(m, h, n)", "log10 orbit dimension");
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
            paper.LegendText = $"paper ({OrbitWriter.Equation(group.Key)})";
            plot.Axes.Bottom.SetTicks(x, rows.Select(r => $"{r.Shape.M},{r.Shape.H},{r.Shape.N}").ToArray());
            plot.Axes.Margins(left: 0.05, right: 0.05, bottom: 0.1, top: 0.3);
            plot.ShowLegend(Alignment.UpperLeft);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path, 600, 460);
    }

    private static int IndexOf(IReadOnlyList<LayerShape> shapes, LayerShape shape)
    {
        for (int i = 0; i < shapes.Count; i++) if (shapes[i] == shape) return i;
        return -1;
    }
}
