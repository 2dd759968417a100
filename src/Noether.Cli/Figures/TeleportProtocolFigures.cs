using ScottPlot;

namespace Noether.Cli.Figures;

/// <summary>The PNG of <c>teleport-protocol</c>: training loss against wall-clock, per optimiser.</summary>
internal static class TeleportProtocolFigures
{
    /// <summary>One panel per optimiser: every seed's curve thin, the mean over seeds (loss and time per epoch) thick; baseline blue, teleport orange, reset-only control green.</summary>
    public static void Curves(TeleportProtocolResult result, string path)
    {
        var plots = new List<Plot>();
        foreach (var arm in result.Arms)
        {
            var plot = Figure.Create(arm.Arm, "wall-clock (s), teleports included", "training loss (epoch mean)");
            foreach (var (variant, color) in new[] { ("baseline", Panels.Palette[0]), ("teleport", Panels.Palette[1]), ("reset-control", Panels.Palette[2]) })
            {
                var runs = result.Runs.Where(r => r.Arm == arm.Arm && r.Variant == variant).ToArray();
                if (runs.Length == 0) continue;
                foreach (var r in runs)
                {
                    int n = Finite(r);
                    if (n > 0) Panels.Line(plot, r.Seconds[..n], r.EpochLoss[..n], color.WithAlpha(0.35), "", 1);
                }
                // The mean over the runs that did not stop early (a diverged run's epochs are NaN).
                var complete = runs.Where(r => Finite(r) == r.EpochLoss.Length).ToArray();
                if (complete.Length == 0) continue;
                int epochs = complete[0].EpochLoss.Length;
                var time = Enumerable.Range(0, epochs).Select(e => complete.Average(r => r.Seconds[e])).ToArray();
                var loss = Enumerable.Range(0, epochs).Select(e => complete.Average(r => r.EpochLoss[e])).ToArray();
                string name = variant switch { "teleport" => $"{arm.Arm} + teleport", "reset-control" => $"{arm.Arm}, resets only", _ => arm.Arm };
                Panels.Line(plot, time, loss, color, $"{name} (mean of {complete.Length})", variant == "reset-control" ? 2 : 3);
            }
            plot.ShowLegend(Alignment.UpperRight);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path);
    }

    // Epochs before the first non-finite loss or time.
    private static int Finite(TeleportProtocolRun r)
    {
        int n = 0;
        while (n < r.EpochLoss.Length && double.IsFinite(r.EpochLoss[n]) && double.IsFinite(r.Seconds[n])) n++;
        return n;
    }
}
