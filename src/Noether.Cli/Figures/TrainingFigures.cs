namespace Noether.Cli.Figures;

/// <summary>The PNG of <c>noether train</c>.</summary>
internal static class TrainingFigures
{
    /// <summary>Test accuracy (left axis) and mean training loss (right axis) after each epoch.</summary>
    public static void Curve(IReadOnlyList<EpochRecord> epochs, string title, string path)
    {
        var plot = Figure.Create(title, "epoch", "test accuracy (%)");
        var xs = epochs.Select(e => (double)e.Epoch).ToArray();
        var accuracy = plot.Add.Scatter(xs, epochs.Select(e => e.TestAccuracy * 100).ToArray());
        accuracy.LegendText = "test accuracy";
        var loss = plot.Add.Scatter(xs, epochs.Select(e => e.TrainLoss).ToArray());
        loss.Axes.YAxis = plot.Axes.Right;
        loss.LegendText = "train loss";
        plot.Axes.Right.Label.Text = "train loss (cross-entropy)";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.ShowLegend(ScottPlot.Alignment.MiddleRight);
        Figure.Save(plot, path);
    }
}
