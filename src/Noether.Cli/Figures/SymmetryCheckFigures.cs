using ScottPlot;
using Color = ScottPlot.Color;

namespace Noether.Cli.Figures;

/// <summary>The PNG of <c>noether symmetry-check</c>: its ε sweep.</summary>
internal static class SymmetryCheckFigures
{
    /// <summary>Left: errors and output changes of the nonlinear action against ε; right: condition numbers of σ(gZ).</summary>
    public static void Sweep(SymmetryCheckResult[] sweep, string path)
    {
        var eps = sweep.Select(s => s.Settings.NonlinearEpsilon).ToArray();
        var n = sweep[0].Nonlinear;
        var errors = Figure.Create($"Nonlinear action on layer {n.Layer} (h = {n.Width}, k = {n.BatchSize})", "log10 ε  (g = I + εM)", "log10 relative error / change");
        void Series(Plot plot, Func<NonlinearSymmetryCheck, double> value, Color color, string legend, LinePattern pattern)
        {
            var (x, y) = Panels.LogLog(eps, sweep.Select(s => value(s.Nonlinear)).ToArray());
            if (x.Length == 0) return;
            var line = Panels.Line(plot, x, y, color, legend, 2, pattern);
            line.MarkerSize = 7;
            line.MarkerShape = MarkerShape.FilledCircle;
        }
        Series(errors, x => x.MedianOutputChangeOnFreshBatch, Panels.Palette[1], "output change on a fresh batch (median)", LinePattern.Solid);
        Series(errors, x => x.MaxOutputErrorOnBatch, Panels.Palette[0], "output change on its own batch (max)", LinePattern.Solid);
        Series(errors, x => x.MaxCompositionError, Panels.Palette[2], "composition law error, eq. 16 (max)", LinePattern.Dashed);
        var limit = errors.Add.HorizontalLine(Math.Log10(SymmetryClaims.NonlinearLimit), 1.5f, Colors.Gray, LinePattern.Dotted);
        limit.LegendText = "1e-8 acceptance";
        errors.Axes.Margins(left: 0.05, right: 0.05, bottom: 0.05, top: 0.35);
        errors.ShowLegend(Alignment.UpperLeft);

        var conditions = Figure.Create("Conditioning of σ(gZ)", "log10 ε  (g = I + εM)", "log10 condition number");
        Series(conditions, x => x.MedianConditionNumber, Panels.Palette[3], "median", LinePattern.Solid);
        Series(conditions, x => x.MaxConditionNumber, Panels.Palette[4], "max", LinePattern.Dashed);
        conditions.Axes.Margins(left: 0.05, right: 0.05, bottom: 0.05, top: 0.3);
        conditions.ShowLegend(Alignment.UpperLeft);
        Panels.Save([errors, conditions], 2, path, 620, 460);
    }
}
