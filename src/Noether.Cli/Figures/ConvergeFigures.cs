using ScottPlot;
using static Noether.Experiments.Format;

namespace Noether.Cli.Figures;

/// <summary>The PNGs of <c>noether converge</c>: the F.1 ellipse, Fig. 7 (radial network) and Fig. 6 (steps against Q).</summary>
internal static class ConvergeFigures
{
    /// <summary>log10 L(t) per Q: the closed form as lines, the numerical flow as dots.</summary>
    public static void Ellipse(EllipseConvergenceResult r, string path)
    {
        var plot = Figure.Create($"F.1 ellipse L = w₁² + {G(r.Settings.A)}·w₂², L(0) = {G(r.Settings.InitialLoss)}", "t (gradient-flow time)", "log10 L(t)");
        for (int k = 0; k < r.Curves.Count; k++)
        {
            var c = r.Curves[k];
            var color = Panels.Palette[k % Panels.Palette.Length];
            Panels.Line(plot, r.Times, c.ClosedFormLoss.Select(Math.Log10).ToArray(), color, $"Q = {G(c.Q)} closed form", 2);
            var dots = plot.Add.ScatterPoints(r.Times.Where((_, i) => i % 5 == 0).ToArray(), c.NumericalLoss.Where((_, i) => i % 5 == 0).Select(Math.Log10).ToArray(), color);
            dots.MarkerSize = 5;
        }
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "dots: Dormand–Prince flow", MarkerShape = MarkerShape.FilledCircle, MarkerColor = Colors.Black });
        plot.ShowLegend(Alignment.LowerLeft);
        Figure.Save(plot, path);
    }

    /// <summary>One panel per Q: σᵢ^X(t) of the flow, eq. 59 dashed, GD as circles.</summary>
    public static void Radial(RadialConvergenceResult r, string path)
    {
        var s = r.Settings;
        bool gd = s.RunDescent;
        var plots = new List<Plot>();
        foreach (var run in r.Runs)
        {
            var plot = Figure.Create($"Fig. 7: μ = {G(run.Scale)}, Q = Tr[ŪᵀŪ + V̄ᵀV̄] = {G(run.Q)}", "log10 t  (t = η · step)", "σᵢ^X(t)");
            var x = r.Times.Skip(1).Select(Math.Log10).ToArray();
            for (int i = 0; i < r.SingularValues.Length; i++)
            {
                var color = Panels.Palette[i % Panels.Palette.Length];
                Panels.Line(plot, x, run.FlowSigma.Skip(1).Select(v => v[i]).ToArray(), color, i == 0 ? "gradient flow (one colour per mode)" : "", 2.5f);
                Panels.Line(plot, x, run.OdeSigma.Skip(1).Select(v => v[i]).ToArray(), Colors.Black, i == 0 ? "eq. 59 solved on its own" : "", 1, LinePattern.Dashed);
                if (gd)
                {
                    var pts = Enumerable.Range(1, r.Times.Length - 1).Where(t => double.IsFinite(run.DescentSigma[t][i])).ToArray();
                    if (pts.Length > 0)
                    {
                        var dots = plot.Add.ScatterPoints(pts.Select(t => Math.Log10(r.Times[t])).ToArray(), pts.Select(t => run.DescentSigma[t][i]).ToArray(), color);
                        dots.MarkerSize = 4;
                        dots.MarkerShape = MarkerShape.OpenCircle;
                        if (i == 0) dots.LegendText = $"GD η = {G(s.LearningRate)}{(run.DescentDivergedAtStep is { } d ? $" (diverged at step {d})" : "")}";
                    }
                }
            }
            plot.ShowLegend(Alignment.UpperLeft);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path);
    }

    /// <summary>One panel per σ: log10 steps to the threshold against Q; runs that never reached it as triangles.</summary>
    public static void Rate(ConvergenceRateResult r, string path)
    {
        var s = r.Settings;
        var plots = new List<Plot>();
        foreach (var group in r.Runs.GroupBy(x => x.Activation))
        {
            var c = r.Correlations.Single(k => k.Activation == group.Key);
            var plot = Figure.Create($"Fig. 6: σ = {Name(group.Key)}  (ρ vs Q {G(c.SpearmanCensored, 2)}, vs |Q| {G(c.SpearmanMagnitude, 2)})", "Q at initialisation (eq. 48)", "log10 steps to L ≤ threshold");
            var reached = group.Where(x => x.StepsToThreshold is not null).ToArray();
            var never = group.Where(x => x.StepsToThreshold is null).ToArray();
            if (reached.Length > 0)
            {
                var pts = plot.Add.ScatterPoints(reached.Select(x => x.Q).ToArray(), reached.Select(x => Math.Log10(Math.Max(1, x.StepsToThreshold!.Value))).ToArray(), Panels.Palette[0]);
                pts.MarkerSize = 8;
                pts.LegendText = "reached the threshold";
            }
            if (never.Length > 0)
            {
                var pts = plot.Add.ScatterPoints(never.Select(x => x.Q).ToArray(), never.Select(_ => Math.Log10(s.MaxSteps)).ToArray(), Panels.Palette[3]);
                pts.MarkerSize = 9;
                pts.MarkerShape = MarkerShape.OpenTriangleUp;
                pts.LegendText = $"not within {s.MaxSteps} steps";
            }
            plot.ShowLegend(Alignment.UpperRight);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path);
    }
}
