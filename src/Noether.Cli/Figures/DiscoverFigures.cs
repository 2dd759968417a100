using Noether.Nn;
using ScottPlot;

namespace Noether.Cli.Figures;

/// <summary>The PNG of <c>noether discover</c>: the constraint spectra.</summary>
internal static class DiscoverFigures
{
    /// <summary>
    /// One panel per h: log10(s_i / s_max) of the constraint matrix per σ, smallest first on the right; the null space is
    /// everything below the tolerance line.
    /// </summary>
    public static void Spectra(DiscoverResult result, string path)
    {
        var plots = new List<Plot>();
        var names = result.Settings.Activations.Select(n => Activation.Parse(n).Name).ToList();
        foreach (var group in result.Algebras.GroupBy(a => a.Width))
        {
            int h = group.Key;
            var plot = Figure.Create($"Constraint spectrum, h = {h} (2h² = {2 * h * h} unknowns)", "index i of the singular value (largest first)", "log10 (s_i / s_max)");
            var algebras = group.ToArray();
            for (int k = 0; k < algebras.Length; k++)
            {
                var a = algebras[k];
                double max = a.SingularValues.Length > 0 ? a.SingularValues[0] : 1;
                var x = new List<double>();
                var y = new List<double>();
                for (int i = 0; i < a.SingularValues.Length; i++)
                {
                    // Exact zeros have no logarithm: show them at the floor of double precision.
                    x.Add(i + 1);
                    y.Add(Math.Log10(Math.Max(a.SingularValues[i] / max, 1e-18)));
                }
                int color = names.IndexOf(a.Activation);
                // Spectra of equal null-space dimension (ReLU and LeakyReLU) coincide: widen the earlier one so both show.
                float width = algebras.Skip(k + 1).Any(b => b.Dimension == a.Dimension) ? 5f : 2f;
                Panels.Line(plot, x.ToArray(), y.ToArray(), Panels.Palette[Math.Max(0, color) % Panels.Palette.Length], $"{a.Activation}: dim {a.Dimension}", width);
            }
            var cut = plot.Add.HorizontalLine(Math.Log10(result.Settings.Options.RelativeTolerance), 1.5f, Colors.Black, LinePattern.Dashed);
            cut.LegendText = "rank tolerance";
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.ShowLegend(Alignment.LowerLeft);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path, 620, 460);
    }
}
