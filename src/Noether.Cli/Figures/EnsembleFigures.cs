using Noether.Ensembles;
using ScottPlot;
using static Noether.Experiments.Format;

namespace Noether.Cli.Figures;

/// <summary>The PNG of <c>noether ensemble</c>.</summary>
internal static class EnsembleFigures
{
    /// <summary>Fig. 9: accuracy change and the inverted matrices' condition numbers against ε, one line per builder.</summary>
    public static void Accuracy(EnsembleExperimentResult result, double[] epsilons, string path)
    {
        var positions = epsilons.Select((_, i) => (double)i).ToArray();
        var labels = epsilons.Select(v => G(v, 4)).ToArray();
        var builders = result.Settings.BuilderList.Where(b => result.Rows.Any(r => r.Builder == b)).ToArray(); // a shard's builders

        var accuracy = Figure.Create($"Fig. 9: accuracy change (single model {Pct(result.SingleAccuracy)})", "ε  (g = I + εM)", "ensemble − single model (points)");
        var condition = Figure.Create("Condition number of the inverted matrix", "ε  (g = I + εM)", "log10 median condition number");
        for (int b = 0; b < builders.Length; b++)
        {
            // A shard may lack some of a builder's ε: those positions get NaN and are left out by Finite.
            var mine = epsilons.Select(e => result.Rows.SingleOrDefault(r => r.Builder == builders[b] && r.Epsilon == e)
                ?? new EnsembleAccuracyRow(builders[b], e, double.NaN, double.NaN, 0, 0, 0, double.NaN, double.NaN, double.NaN, double.NaN)).ToArray();
            var color = Panels.Palette[(int)builders[b] % Panels.Palette.Length]; // same colour per builder in every figure
            string name = EnsembleOptions.Name(builders[b]);
            var (xs, ys) = Finite(positions, mine.Select(r => r.AccuracyChange * 100).ToArray());
            var line = accuracy.Add.Scatter(xs, ys, color);
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 6;
            var (cx, cy) = Finite(positions, mine.Select(r => r.MedianCondition > 0 ? Math.Log10(r.MedianCondition) : double.NaN).ToArray());
            var c = condition.Add.Scatter(cx, cy, color);
            c.LegendText = name;
            c.LineWidth = 2;
            c.MarkerSize = 6;
        }
        accuracy.Add.HorizontalLine(0, 1, Colors.Gray, LinePattern.Dashed);
        condition.Add.HorizontalLine(Math.Log10(result.Settings.Ensemble.ConditionLimit), 1, Colors.Red, LinePattern.Dashed).LegendText = "rejection limit";
        foreach (var p in new[] { accuracy, condition })
        {
            p.Axes.Bottom.SetTicks(positions, labels);
            p.ShowLegend(Edge.Right); // outside: the curves span the whole panel
        }
        Panels.Save([accuracy, condition], 2, path, 760, 440);
    }

    private static (double[] X, double[] Y) Finite(double[] x, double[] y)
    {
        var keep = Enumerable.Range(0, x.Length).Where(i => double.IsFinite(y[i])).ToArray();
        return (keep.Select(i => x[i]).ToArray(), keep.Select(i => y[i]).ToArray());
    }
}
