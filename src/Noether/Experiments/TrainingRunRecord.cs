using Noether.Conservation;
using Noether.Serialization;
using Noether.Symmetry.Census;

namespace Noether.Experiments;

/// <summary>One generator's quantity through a monitored run: measured, predicted by the per-step identity, and the integral.</summary>
/// <param name="Kind">The site's kind.</param>
/// <param name="Site">The site's location.</param>
/// <param name="Generator">The generator's name.</param>
/// <param name="Steps">The kept steps.</param>
/// <param name="Measured">Q measured after each kept step.</param>
/// <param name="Predicted">The per-step identity's prediction.</param>
/// <param name="Integral">The modified-equation integral.</param>
public sealed record MonitorTrajectory(SiteKind Kind, string Site, string Generator, long[] Steps, double[] Measured, double[] Predicted, double[] Integral);

/// <summary>
/// A finished <c>noether train --model</c> run read back from its folder for a report: the epochs (training.csv), and when the
/// run had them the monitor's observations summarised (monitor.csv: overall, per site kind, per kept step, and one
/// generator's trajectory per kind) and its teleports (teleports.csv, as written).
/// </summary>
/// <param name="Folder">The run's folder.</param>
/// <param name="Epochs">Loss, test accuracy and seconds per epoch.</param>
/// <param name="Monitor">Every observation summarised, or null without monitor.csv.</param>
/// <param name="MonitorByKind">The same per site kind.</param>
/// <param name="MonitorPerStep">Per kept step, the median relative miss of the identity and of the integral.</param>
/// <param name="Trajectories">The first generator of each site kind, through every kept step.</param>
/// <param name="Teleports">teleports.csv as written, or null.</param>
public sealed record TrainingRunRecord(string Folder, IReadOnlyList<EpochRecord> Epochs, SiteMonitorSummary? Monitor,
    IReadOnlyList<(SiteKind Kind, SiteMonitorSummary Summary)> MonitorByKind, IReadOnlyList<(long Step, double Identity, double Integral)> MonitorPerStep,
    IReadOnlyList<MonitorTrajectory> Trajectories, CsvTable? Teleports)
{
    /// <summary>training.csv's columns.</summary>
    public static readonly IReadOnlyList<string> EpochColumns = ["epoch", "train_loss", "test_accuracy", "seconds"];

    /// <summary>training.csv's table of <paramref name="epochs"/>.</summary>
    public static CsvTable EpochTable(IEnumerable<EpochRecord> epochs)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        var csv = new CsvTable([.. EpochColumns]);
        foreach (var e in epochs) csv.AddRow(e.Epoch, e.TrainLoss, e.TestAccuracy, e.Seconds);
        return csv;
    }

    /// <summary>Reads the run in <paramref name="folder"/>.</summary>
    /// <exception cref="ArgumentException">The folder does not exist or holds no training.csv.</exception>
    /// <exception cref="DataFormatException">A file that is not what noether train writes.</exception>
    public static TrainingRunRecord Load(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw Errors.Argument(nameof(folder), $"{folder} does not exist (expected the output folder of noether train --model)");
        string epochsPath = Path.Combine(folder, "training.csv");
        if (!File.Exists(epochsPath)) throw Errors.Argument(nameof(folder), $"{folder} holds no training.csv (expected the output folder of noether train --model)");
        var table = CsvTable.Load(epochsPath);
        if (!table.Columns.SequenceEqual(EpochColumns))
            throw new DataFormatException(epochsPath, $"columns {string.Join(",", table.Columns)}, expected {string.Join(",", EpochColumns)}");
        var epochs = new EpochRecord[table.RowCount];
        for (int i = 0; i < epochs.Length; i++)
        {
            if (!int.TryParse(table[i, "epoch"], NumberStyles.None, CultureInfo.InvariantCulture, out int epoch)
                || !double.TryParse(table[i, "train_loss"], NumberStyles.Float, CultureInfo.InvariantCulture, out double loss)
                || !double.TryParse(table[i, "test_accuracy"], NumberStyles.Float, CultureInfo.InvariantCulture, out double accuracy)
                || !double.TryParse(table[i, "seconds"], NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds))
                throw new DataFormatException(epochsPath, $"row {i + 2}: expected an epoch number and three numbers");
            epochs[i] = new EpochRecord(epoch, loss, accuracy, seconds);
        }
        string monitorPath = Path.Combine(folder, "monitor.csv");
        string teleportsPath = Path.Combine(folder, "teleports.csv");
        var teleports = File.Exists(teleportsPath) ? CsvTable.Load(teleportsPath) : null;
        return Of(Path.GetFullPath(folder), epochs, File.Exists(monitorPath) ? MonitorLog.Read(monitorPath) : [], teleports);
    }

    /// <summary>A run from its parts (<paramref name="steps"/> empty: not monitored).</summary>
    public static TrainingRunRecord Of(string folder, IReadOnlyList<EpochRecord> epochs, IReadOnlyList<SiteStep> steps, CsvTable? teleports)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count == 0) return new TrainingRunRecord(folder, epochs, null, [], [], [], teleports);
        var trajectories = steps.GroupBy(s => s.Kind).OrderBy(g => g.Key).Select(g =>
        {
            var first = g.First();
            var path = g.Where(s => s.Site == first.Site && s.Generator == first.Generator).OrderBy(s => s.Step).ToArray();
            return new MonitorTrajectory(g.Key, first.Site, first.Generator, path.Select(s => s.Step).ToArray(), path.Select(s => s.Measured).ToArray(),
                path.Select(s => s.Predicted).ToArray(), path.Select(s => s.Integral).ToArray());
        }).ToArray();
        return new TrainingRunRecord(folder, epochs, SiteMonitorSummary.Of(steps), SiteMonitorSummary.ByKind(steps), SiteMonitorSummary.PerStep(steps), trajectories, teleports);
    }
}
