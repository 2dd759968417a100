using ScottPlot;

namespace Noether.Cli.Figures;

/// <summary>The PNGs of <c>noether drift</c>.</summary>
internal static class DriftFigures
{
    /// <summary>One panel per σ, one curve per η (same colour in every panel) and the flow (black, dashed), log10 y against log10 t.</summary>
    public static void Curves(DriftResult result, Func<DriftCurve, double[]> quantity, string yLabel, string what, string path, Alignment legend, bool nested)
    {
        var etas = result.Settings.LearningRates;
        var plots = new List<Plot>();
        foreach (var group in result.Curves.GroupBy(c => c.Activation))
        {
            var plot = Figure.Create($"{what}, σ = {group.Key}", "log10 t  (t = η · step; flow time)", yLabel);
            foreach (var c in group)
            {
                var (x, y) = Panels.LogLog(c.Time, quantity(c));
                if (x.Length == 0) continue;
                if (c.IsGradientFlow) Panels.Line(plot, x, y, Colors.Black, "gradient flow", 2f, LinePattern.Dashed);
                else
                {
                    int index = etas.ToList().IndexOf(c.LearningRate);
                    float width = nested ? 1.5f + 2.5f * (etas.Count - 1 - index) : 2f;
                    Panels.Line(plot, x, y, Panels.Palette[index % Panels.Palette.Length], $"GD η = {c.LearningRate.ToString("G3", CultureInfo.InvariantCulture)}", width);
                }
            }
            plot.ShowLegend(legend);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path);
    }
}
