using Noether.Cli.Commands;
using Noether.Cli.Output;
using Noether.Experiments;
using Noether.Nn;
using ScottPlot;

namespace Noether.Cli.Figures;

/// <summary>The figures of <c>noether sharpness</c>: Fig. 8's histograms and centres, and a saved model's spectral density.</summary>
internal static class SharpnessFigures
{
    private static string G(double v, int digits = 3) => SharpnessWriter.G(v, digits);

    /// <summary>Fig. 8: one panel per σ, a histogram (as a line) of log10 λ over the curved eigenvalues, one curve per init std.</summary>
    // One panel per σ: a histogram (as a line) of log10 λ over the curved eigenvalues, one curve per init std.
    public static void Histograms(SharpnessSpectrumResult r, string path)
    {
        var s = r.Settings;
        var plots = new List<Plot>();
        foreach (var group in r.Runs.GroupBy(x => x.Activation))
        {
            var curved = group.SelectMany(x => x.Eigenvalues.Where(l => l > s.FlatThreshold)).ToArray();
            var plot = Figure.Create($"Fig. 8: σ = {ConvergeWriter.Name(group.Key)}", $"log10 λ  (eigenvalues > {G(s.FlatThreshold)})", "eigenvalues per bin");
            if (curved.Length > 0)
            {
                double lo = Math.Log10(curved.Min()), hi = Math.Log10(curved.Max());
                if (hi <= lo) hi = lo + 1;
                const int bins = 30;
                double width = (hi - lo) / bins;
                int k = 0;
                foreach (var x in group)
                {
                    var counts = new double[bins];
                    foreach (var l in x.Eigenvalues.Where(l => l > s.FlatThreshold)) counts[Math.Min(bins - 1, (int)((Math.Log10(l) - lo) / width))]++;
                    // A step outline: two points per bin.
                    var xs = new List<double>();
                    var ys = new List<double>();
                    for (int b = 0; b < bins; b++)
                    {
                        xs.Add(lo + b * width);
                        ys.Add(counts[b]);
                        xs.Add(lo + (b + 1) * width);
                        ys.Add(counts[b]);
                    }
                    Panels.Line(plot, xs.ToArray(), ys.ToArray(), Panels.Palette[k++ % Panels.Palette.Length],
                        $"std {G(x.Std)}, Q = {G(x.Q, 3)}: {x.Summary.Flat} flat", 1.8f);
                }
            }
            plot.ShowLegend(Alignment.UpperLeft);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path);
    }

    public static void Centres(SharpnessSpectrumResult r, IReadOnlyList<ScalarSharpnessPoint> scalar, string path)
    {
        var centre = Figure.Create("Fig. 8: centre of the curved spectrum vs Q", "Q at initialisation (eq. 48)", "log10 median of eigenvalues > threshold");
        int k = 0;
        foreach (var group in r.Runs.GroupBy(x => x.Activation))
        {
            var c = r.Correlations.Single(x => x.Activation == group.Key);
            var pts = group.Where(x => x.Summary.Median > 0).OrderBy(x => x.Q).ToArray();
            var line = centre.Add.Scatter(pts.Select(x => x.Q).ToArray(), pts.Select(x => Math.Log10(x.Summary.Median)).ToArray(), Panels.Palette[k++ % Panels.Palette.Length]);
            line.LegendText = $"σ = {ConvergeWriter.Name(group.Key)} (ρ = {G(c.MedianVsQ)})";
            line.MarkerSize = 7;
        }
        centre.ShowLegend(Alignment.UpperLeft);
        var oneD = Figure.Create("G.1: 1-D network, ½(1 − UV)²", "Q = U² − V²", "nonzero Hessian eigenvalue");
        var grid = Enumerable.Range(0, 201).Select(i => scalar.Min(p => p.Q) + (scalar.Max(p => p.Q) - scalar.Min(p => p.Q)) * i / 200.0).ToArray();
        Panels.Line(oneD, grid, grid.Select(q => Math.Sqrt(q * q + 4)).ToArray(), Colors.Black, "√(Q² + 4)", 1.5f);
        var dots = oneD.Add.ScatterPoints(scalar.Select(p => p.Q).ToArray(), scalar.Select(p => p.Eigenvalues[1]).ToArray(), Panels.Palette[3]);
        dots.MarkerSize = 8;
        dots.LegendText = "exact Hessian (double backward)";
        oneD.ShowLegend(Alignment.UpperCenter);
        Panels.Save([centre, oneD], 2, path);
    }


    /// <summary>One panel per block: log10 of the SLQ density on its grid, the Lanczos top eigenvalues as dotted lines.</summary>
    public static void Density(IReadOnlyList<(SharpnessBlock Block, double[] Grid, double[] Density, double Sigma)> grids, string path)
    {
        var plots = new List<Plot>();
        foreach (var (b, grid, phi, sigma) in grids)
        {
            var plot = Figure.Create($"{(b.Block == "model" ? "whole model" : $"block {b.Block}")} ({b.Result.Parameters} parameters)", "eigenvalue λ",
                "log10 density (SLQ, Gaussian σ = " + G(sigma, 2) + ")");
            Panels.Line(plot, grid, phi.Select(v => Math.Log10(Math.Max(v, 1e-12))).ToArray(), Panels.Palette[0], $"SLQ, {b.Result.Density!.Probes} probes", 2);
            for (int i = 0; i < b.Result.TopEigenvalues.Length; i++)
            {
                var line = plot.Add.VerticalLine(b.Result.TopEigenvalues[i], 1, Panels.Palette[3], LinePattern.Dotted);
                if (i == 0) line.LegendText = $"Lanczos top-{b.Result.TopEigenvalues.Length} (λ_max = {G(b.Result.TopEigenvalues[0], 4)})";
            }
            plot.ShowLegend(Alignment.UpperRight);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path);
    }
}
