using System.Text;

namespace Noether.Serialization;

/// <summary>
/// CSV formatting shared by every table Noether writes: invariant culture, round-trippable numbers (the shortest
/// text that parses back to the same double or float, "R"), RFC 4180 quoting, "\n" line endings.
/// </summary>
public static class Csv
{
    /// <summary>
    /// One cell's text before quoting: numbers in invariant culture and round-trippable ("R": the shortest text that
    /// parses back to the same value; NaN → "NaN", ±∞ → "Infinity"/"-Infinity"), booleans as "true"/"false", null as
    /// the empty string, dates in ISO 8601 ("O"), any other <see cref="IFormattable"/> with the invariant culture.
    /// </summary>
    public static string Text(object? value) => value switch
    {
        null => "",
        string s => s,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToString("O", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>One cell as it appears in the file: <see cref="Text"/>, quoted by <see cref="Escape"/> when needed.</summary>
    public static string Format(object? value) => Escape(Text(value));

    /// <summary>Quotes a field (doubling inner quotes) when it contains a comma, quote, CR or LF, or starts/ends with a space.</summary>
    public static string Escape(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        bool quote = field.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (field.Length > 0 && (field[0] == ' ' || field[^1] == ' '));
        return quote ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
    }

    /// <summary>Parses a number written by <see cref="Format"/> (invariant culture; accepts "NaN", "Infinity", "-Infinity").</summary>
    public static double ParseDouble(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}

/// <summary>
/// A table of strings with named columns: built row by row (cells formatted by <see cref="Csv.Format"/>), saved as
/// CSV atomically, and parsed back (for merging shard outputs and for tests).
/// </summary>
public sealed class CsvTable
{
    private readonly string[] _columns;
    private readonly List<string[]> _rows = [];

    /// <summary>An empty table with the given column names (at least one, all distinct).</summary>
    public CsvTable(params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Length == 0) throw Errors.Argument(nameof(columns), "CsvTable: at least one column is needed");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in columns)
        {
            ArgumentNullException.ThrowIfNull(c, nameof(columns));
            if (!seen.Add(c)) throw Errors.Argument(nameof(columns), $"CsvTable: column '{c}' appears twice");
        }
        _columns = (string[])columns.Clone();
    }

    /// <summary>The column names.</summary>
    public IReadOnlyList<string> Columns => _columns;

    /// <summary>The rows, each one raw (unescaped) string per column.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Rows => _rows;

    /// <summary>Number of rows (the header excluded).</summary>
    public int RowCount => _rows.Count;

    /// <summary>Appends a row; each value is converted by <see cref="Csv.Text"/> (numbers round-trippable, invariant culture).</summary>
    /// <exception cref="ArgumentException">The number of cells differs from the number of columns.</exception>
    public void AddRow(params object?[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != _columns.Length)
            throw Errors.Argument(nameof(cells), $"CsvTable.AddRow: {cells.Length} cells for {_columns.Length} columns ({string.Join(", ", _columns)})");
        var row = new string[cells.Length];
        for (int i = 0; i < cells.Length; i++)
            row[i] = Csv.Text(cells[i]);
        _rows.Add(row);
    }

    /// <summary>The index of column <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No such column.</exception>
    public int ColumnIndex(string name)
    {
        int i = Array.IndexOf(_columns, name);
        return i >= 0 ? i : throw Errors.Argument(nameof(name), $"CsvTable: no column '{name}' (columns: {string.Join(", ", _columns)})");
    }

    /// <summary>The raw text of a cell.</summary>
    public string this[int row, string column] => _rows[row][ColumnIndex(column)];

    /// <summary>A cell parsed as a double (invariant culture).</summary>
    public double GetDouble(int row, string column) => Csv.ParseDouble(this[row, column]);

    /// <summary>The CSV text: a header line, then one line per row, each ending in "\n".</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        AppendLine(sb, _columns);
        foreach (var row in _rows) AppendLine(sb, row);
        return sb.ToString();
    }

    /// <summary>Writes the CSV to <paramref name="path"/> atomically (UTF-8, no byte-order mark).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToString());

    /// <summary>Reads a CSV file whose first line is the header.</summary>
    public static CsvTable Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses RFC 4180 CSV text (quoted fields, doubled quotes, CRLF or LF); the first record is the header.</summary>
    /// <exception cref="DataFormatException">An unterminated quote, a row with the wrong number of fields, or no header.</exception>
    public static CsvTable Parse(string text, string source = "<text>")
    {
        ArgumentNullException.ThrowIfNull(text);
        var records = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        int i = 0, line = 1;
        bool any = false;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '"' && field.Length == 0)
            {
                int start = line;
                i++;
                while (true)
                {
                    if (i >= text.Length) throw new DataFormatException(source, $"line {start}: unterminated quoted field");
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    if (text[i] == '\n') line++;
                    field.Append(text[i++]);
                }
                any = true;
                continue;
            }
            if (c == ',') { fields.Add(field.ToString()); field.Clear(); any = true; i++; continue; }
            if (c == '\r' || c == '\n')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                i++;
                if (any || field.Length > 0) { fields.Add(field.ToString()); records.Add([.. fields]); }
                fields.Clear();
                field.Clear();
                any = false;
                line++;
                continue;
            }
            field.Append(c);
            any = true;
            i++;
        }
        if (any || field.Length > 0) { fields.Add(field.ToString()); records.Add([.. fields]); }
        if (records.Count == 0) throw new DataFormatException(source, "empty CSV: no header line");
        var table = new CsvTable(records[0]);
        for (int r = 1; r < records.Count; r++)
        {
            if (records[r].Length != table._columns.Length)
                throw new DataFormatException(source, $"record {r + 1} has {records[r].Length} fields but the header has {table._columns.Length}");
            table._rows.Add(records[r]);
        }
        return table;
    }

    private static void AppendLine(StringBuilder sb, string[] cells)
    {
        // A lone empty field would be an empty line, which readers skip: quote it.
        if (cells.Length == 1 && cells[0].Length == 0)
        {
            sb.Append("\"\"\n");
            return;
        }
        for (int i = 0; i < cells.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(Csv.Escape(cells[i]));
        }
        sb.Append('\n');
    }
}
