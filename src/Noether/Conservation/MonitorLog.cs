using Noether.Serialization;
using Noether.Symmetry.Census;

namespace Noether.Conservation;

/// <summary>
/// The observations of a monitored training run as <c>noether train --monitor</c> writes them (monitor.csv: one row per kept
/// step and generator), written and read back by the same column list so that a report can summarise a finished run.
/// </summary>
public static class MonitorLog
{
    /// <summary>monitor.csv's columns, in order.</summary>
    public static readonly IReadOnlyList<string> Columns = ["step", "kind", "site", "generator", "measured", "predicted", "residual", "breaking", "integral"];

    /// <summary>The table of <paramref name="steps"/>, one row each.</summary>
    public static CsvTable Table(IEnumerable<SiteStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var csv = new CsvTable([.. Columns]);
        foreach (var s in steps) csv.AddRow(s.Step, s.Kind.ToString(), s.Site, s.Generator, s.Measured, s.Predicted, s.Residual, s.Breaking, s.Integral);
        return csv;
    }

    /// <summary>Reads monitor.csv back.</summary>
    /// <exception cref="DataFormatException">Other columns, an unknown site kind, or a cell that is not a number.</exception>
    public static IReadOnlyList<SiteStep> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var table = CsvTable.Load(path);
        if (!table.Columns.SequenceEqual(Columns))
            throw new DataFormatException(path, $"columns {string.Join(",", table.Columns)}, expected {string.Join(",", Columns)} (the monitor.csv of noether train --monitor)");
        var steps = new SiteStep[table.RowCount];
        for (int i = 0; i < steps.Length; i++)
        {
            var row = table.Rows[i];
            if (!long.TryParse(row[0], NumberStyles.None, CultureInfo.InvariantCulture, out long step) || !Enum.TryParse<SiteKind>(row[1], out var kind) || !Enum.IsDefined(kind))
                throw new DataFormatException(path, $"row {i + 2}: step '{row[0]}' and kind '{row[1]}', expected a step count and a site kind ({string.Join(", ", Enum.GetNames<SiteKind>())})");
            double Number(int column) => double.TryParse(row[column], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
                : throw new DataFormatException(path, $"row {i + 2}: {Columns[column]} '{row[column]}' is not a number");
            steps[i] = new SiteStep(step, kind, row[2], row[3], Number(4), Number(5), Number(7), Number(8));
        }
        return steps;
    }
}
