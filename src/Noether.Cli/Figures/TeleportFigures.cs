using System.Globalization;
using Noether.Experiments;
using ScottPlot;

namespace Noether.Cli.Figures;

/// <summary>The two figures of <c>noether teleport</c>: the Hessian spectra before and after, and λ_max and Tr Q along the scalar path.</summary>
internal static class TeleportFigures
{
    /// <summary>teleport-spectrum.png: log10|λ| by rank (descending) at the trained and the teleported point (Fig. 8).</summary>
    public static void DrawSpectrum(TeleportExperimentResult result, string path)
    {
        var r = result.Teleport;
        double[] before = result.SpectrumBefore, after = result.SpectrumAfter;
        var plot = Figure.Create(Inv($"Hessian spectrum: trained vs teleported ({r.TargetDescription})"), "eigenvalue rank (descending)", "log10 |λ|");
        double[] Log(double[] l) => l.Reverse().Select(x => Math.Log10(Math.Max(Math.Abs(x), 1e-18))).ToArray();
        var x = Enumerable.Range(1, before.Length).Select(i => (double)i).ToArray();
        var b = plot.Add.Scatter(x, Log(before), Panels.Palette[0]);
        b.LegendText = Inv($"trained: λ_max = {r.SharpnessBefore:G4}");
        b.LineWidth = 2;
        b.MarkerSize = 4;
        var a = plot.Add.Scatter(x, Log(after), Panels.Palette[1]);
        a.LegendText = Inv($"teleported: λ_max = {r.SharpnessAfter:G4}");
        a.LineWidth = 2;
        a.MarkerSize = 4;
        a.LinePattern = LinePattern.Dashed;
        plot.Add.HorizontalLine(-3, 1, Colors.Gray, LinePattern.Dotted).LegendText = "|λ| = 1e-3 (flat below)";
        plot.ShowLegend(Alignment.UpperRight);
        Figure.Save(plot, path, 900, 520);
    }

    /// <summary>teleport-path.png: λ_max and Tr Q along e^t·I·θ, the trained and teleported points marked.</summary>
    public static void DrawPath(TeleportExperimentResult result, string path)
    {
        var r = result.Teleport;
        var rows = result.Path;
        var t = rows.Select(x => x.T).ToArray();
        var sharp = Figure.Create("λ_max along the scalar path e^t·I·θ (loss constant)", "t  (U ↦ e^(−t)·U, V ↦ e^t·V)", "λ_max of the Hessian");
        Panels.Line(sharp, t, rows.Select(x => x.Sharpness).ToArray(), Panels.Palette[0], "λ_max(t)");
        Mark(sharp, 0, r.SharpnessBefore, Panels.Palette[3], "trained");
        if (r.PathParameter is { } tp) Mark(sharp, tp, r.SharpnessAfter, Panels.Palette[2], "teleported");
        sharp.ShowLegend(Alignment.UpperCenter);
        var trace = Figure.Create("Tr Q along the same path", "t", "Tr Q = ‖U‖² − ‖V‖²");
        Panels.Line(trace, t, rows.Select(x => x.TraceQ).ToArray(), Panels.Palette[1], "Tr Q(t)");
        Mark(trace, 0, result.TraceQBefore, Panels.Palette[3], "trained");
        if (r.PathParameter is { } tq) Mark(trace, tq, result.TraceQAfter, Panels.Palette[2], "teleported");
        trace.ShowLegend(Alignment.UpperRight);
        Panels.Save([sharp, trace], 2, path);
    }

    private static void Mark(Plot plot, double x, double y, ScottPlot.Color color, string label)
    {
        var m = plot.Add.Marker(x, y, MarkerShape.FilledCircle, 10, color);
        m.LegendText = label;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
