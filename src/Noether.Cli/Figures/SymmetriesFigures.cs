using Noether.Symmetry.Census;

namespace Noether.Cli.Figures;

/// <summary>The PNG of <c>noether symmetries</c>.</summary>
internal static class SymmetriesFigures
{
    /// <summary>The conserved quantities of each site at the weights, one column of points per site.</summary>
    public static void Conserved(CensusVerificationResult check, string title, string path)
    {
        var plot = Figure.Create(title, "site (census.csv row)", "Q at the weights");
        for (int i = 0; i < check.Sites.Count; i++)
        {
            var q = check.Sites[i].Conserved;
            if (q.Length == 0) continue; // a site with no conserved quantity
            var xs = q.Select((_, k) => i + 1 + 0.6 * ((k + 0.5) / q.Length - 0.5)).ToArray();
            var sc = plot.Add.Scatter(xs, q, Panels.Palette[(int)check.Sites[i].Site.Kind % Panels.Palette.Length]);
            sc.LineWidth = 0;
            sc.MarkerSize = 3;
        }
        Figure.Save(plot, path, 1000, 500);
    }
}
