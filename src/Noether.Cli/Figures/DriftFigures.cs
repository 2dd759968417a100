using Noether.Nn;
using ScottPlot;

namespace Noether.Cli.Figures;

/// <summary>The PNGs of <c>noether drift</c>.</summary>
internal static class DriftFigures
{
    /// <summary>|ΔQ~(t)| of eq. 43 per σ and η, the flow dashed.</summary>
    public static void Drift(DriftResult result, string path) =>
        Curves(result, c => c.DeltaNormalisedQ, "log10 |ΔQ~(t)|  (normalised drift, eq. 43)", "Drift of the conserved quantity Q", path, Alignment.MiddleRight, nested: false);

    /// <summary>
    /// The loss of the same runs. In t = η·step every GD run follows the flow, so the loss curves lie on top of each other:
    /// they are drawn nested (widest first) so that each stays visible.
    /// </summary>
    public static void Loss(DriftResult result, string path) =>
        Curves(result, c => c.Loss, $"log10 loss  ({(result.Settings.Loss == SquaredErrorLoss.Mean ? "‖Y − F‖²/(m·k)" : "½‖Y − F‖²")})", "Loss", path, Alignment.LowerLeft, nested: true);

    // One panel per σ, one curve per η (same colour in every panel) and the flow (black, dashed), log10 y against log10 t.
    private static void Curves(DriftResult result, Func<DriftCurve, double[]> quantity, string yLabel, string what, string path, Alignment legend, bool nested)
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
