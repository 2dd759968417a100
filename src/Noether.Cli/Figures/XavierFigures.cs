using ScottPlot;
using static Noether.Experiments.Format;

namespace Noether.Cli.Figures;

/// <summary>The PNGs of <c>noether xavier</c>: the histograms of Figs. 4 and 5.</summary>
internal static class XavierFigures
{
    /// <summary>One panel per tuple (or σ): the histogram, the predicted mean, the measured mean, and the paper's m − h where it differs.</summary>
    public static void Histograms(XavierScore[] rows, int bins, string path)
    {
        var plots = new List<Plot>();
        foreach (var r in rows)
        {
            var s = r.Sample;
            bool linear = r.Figure == "Fig. 4";
            string title = linear ? $"Fig. 4: linear, (m, h, n) = {s.Shape}" : $"Fig. 5: σ = {s.Label}, (m, h, n) = {s.Shape}";
            var plot = Figure.Create(title, linear ? "Q = ½Tr[UᵀU − VVᵀ]" : "Q = ½Tr[UᵀU] − Σ∫σ/σ'  (eq. 48)", "draws per bin");
            Panels.Histogram(plot, s.Values, bins, Panels.Palette[0].WithAlpha(0.6), $"{s.Values.Length} Xavier draws");
            Panels.Marker(plot, s.PredictedMean, Panels.Palette[3], $"predicted mean {Num(s.PredictedMean)}{(linear ? " = ½(m − h)" : "")}", LinePattern.Solid);
            Panels.Marker(plot, s.Mean, Colors.Black, $"measured mean {Num(s.Mean)} (z = {Fixed(s.MeanZScore, 2)})", LinePattern.Dashed);
            if (linear && s.PaperMean != s.PredictedMean)
            {
                // The paper's value is ~sd·|m − h|/2 away: drawing it would squash the histogram, so it is named instead.
                double sd = Math.Sqrt(s.PredictedVariance);
                if (Math.Abs(s.PaperMean - s.Mean) <= 6 * sd) Panels.Marker(plot, s.PaperMean, Panels.Palette[4], $"paper eq. 47: m − h = {Num(s.PaperMean)}", LinePattern.Dotted);
                else plot.Legend.ManualItems.Add(new LegendItem
                {
                    LabelText = $"paper eq. 47: m − h = {Num(s.PaperMean)} (off the axis, z = {Fixed(r.PaperZ, 0)})",
                    LineColor = Panels.Palette[4],
                    LineWidth = 2,
                    LinePattern = LinePattern.Dotted,
                });
            }
            plot.Axes.Margins(left: 0.03, right: 0.03, bottom: 0, top: 0.45); // room for the legend above the bars
            plot.ShowLegend(Alignment.UpperRight);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path, 620, 440);
    }

    private static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
