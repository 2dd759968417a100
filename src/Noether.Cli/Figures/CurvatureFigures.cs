using Noether.Landscape;
using ScottPlot;

namespace Noether.Cli.Figures;

/// <summary>The PNGs of <c>noether curvature</c>.</summary>
internal static class CurvatureFigures
{
    /// <summary>The SLQ density with the top eigenvalues as dashed markers.</summary>
    public static void Density((double[] Grid, double[] Density, double Sigma) g, MinibatchEigen top, string path)
    {
        var plot = Figure.Create("Hessian spectral density (SLQ)", "eigenvalue", "density");
        Panels.Line(plot, g.Grid, g.Density, Panels.Palette[0], "SLQ density");
        for (int i = 0; i < top.Eigen.Values.Length; i++)
            Panels.Marker(plot, top.Eigen.Values[i], Panels.Palette[1], i == 0 ? "top eigenvalues (Lanczos)" : "", LinePattern.Dashed);
        plot.ShowLegend(Alignment.UpperRight);
        Figure.Save(plot, path);
    }

    /// <summary>Per-layer traces with 95% error bars.</summary>
    public static void Layers(CurvatureResult r, string path)
    {
        var plot = Figure.Create("Per-layer Hessian trace", "layer", "Tr H_LL");
        var xs = Enumerable.Range(0, r.LayerTraces.Count).Select(i => (double)i).ToArray();
        var ys = r.LayerTraces.Select(l => l.Trace.Trace).ToArray();
        var errs = r.LayerTraces.Select(l => 1.96 * CurvatureWriter.Err(l.Trace)).ToArray();
        var points = plot.Add.Scatter(xs, ys, Panels.Palette[0]);
        points.LineWidth = 0;
        points.MarkerSize = 7;
        plot.Add.ErrorBar(xs, ys, errs);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs, r.LayerTraces.Select(l => l.Name).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        Figure.Save(plot, path, Math.Max(800, 40 * r.LayerTraces.Count), 500);
    }

    /// <summary>Single-batch λ_max against the whole subset's λ₁ and its per-batch band.</summary>
    public static void Spread(CurvatureResult r, SingleBatchSpread sb, MinibatchEigen top, string path)
    {
        var plot = Figure.Create($"λ_max: single {r.BatchSize}-image batches vs {r.Batches * r.BatchSize} images", "batch", "λ_max");
        var xs = sb.Batches.Select(x => (double)x).ToArray();
        var points = plot.Add.Scatter(xs, sb.TopEigenvalues, Panels.Palette[0]);
        points.LineWidth = 0;
        points.MarkerSize = 8;
        points.LegendText = "λ_max(H_b), one batch";
        double lo = top.QuotientMeans[0] - 1.96 * top.QuotientStandardErrors[0], hi = top.QuotientMeans[0] + 1.96 * top.QuotientStandardErrors[0];
        if (double.IsFinite(lo) && double.IsFinite(hi) && hi > lo)
        {
            var band = plot.Add.VerticalSpan(lo, hi);
            band.FillStyle.Color = Panels.Palette[1].WithAlpha(0.2);
            band.LegendText = "v₁ᵀH_b v₁ mean ± 1.96 SE";
        }
        var line = plot.Add.HorizontalLine(top.Eigen.Values[0], 2, Panels.Palette[1]);
        line.LegendText = "λ₁, whole subset";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        // Headroom above every point and the band for the legend, so that it hides no batch.
        var values = sb.TopEigenvalues.Append(top.Eigen.Values[0]).Concat(double.IsFinite(lo) && double.IsFinite(hi) ? [lo, hi] : []).ToArray();
        double min = values.Min(), max = values.Max(), span = Math.Max(max - min, 1e-12 * Math.Max(1, Math.Abs(max)));
        plot.Axes.SetLimitsY(min - 0.08 * span, max + 0.45 * span);
        plot.ShowLegend(Alignment.UpperRight);
        Figure.Save(plot, path);
    }
}
