using ScottPlot;

namespace Noether.Cli.Figures;

/// <summary>The PNG of <c>noether laws</c>.</summary>
internal static class LawsFigures
{
    /// <summary>Left: laws from φ against the known laws; right: laws from the data fields against φ; one point per net.</summary>
    public static void Counts(LawCountTable table, string path)
    {
        var left = Figure.Create("φ fields vs known laws", "known laws", "D − dim Lie(V)(θ), V = span ∇φ");
        var right = Figure.Create("data fields vs φ fields", "laws from φ", "laws from the data batch");
        foreach (var (family, color) in new[] { ("linear", Panels.Palette[0]), ("relu", Panels.Palette[1]) })
        {
            var rows = table.Rows.Where(r => r.Family == family).ToArray();
            if (rows.Length == 0) continue;
            var a = left.Add.ScatterPoints(rows.Select(r => (double)r.KnownLaws).ToArray(), rows.Select(r => (double)r.Phi.Laws).ToArray(), color);
            a.LegendText = family;
            var withData = rows.Where(r => r.Data is not null).ToArray();
            if (withData.Length == 0) continue;
            var b = right.Add.ScatterPoints(withData.Select(r => (double)r.Phi.Laws).ToArray(), withData.Select(r => (double)r.Data!.Laws).ToArray(), color);
            b.LegendText = family;
        }
        double max = Math.Max(1, table.Rows.Max(r => Math.Max(r.Phi.Laws, r.Data?.Laws ?? 0)));
        foreach (var plot in new[] { left, right })
        {
            var diagonal = plot.Add.Line(0, 0, max, max);
            diagonal.LinePattern = LinePattern.Dashed;
            diagonal.Color = Colors.Gray;
            plot.ShowLegend(Alignment.UpperLeft);
        }
        Panels.Save([left, right], 2, path);
    }
}
