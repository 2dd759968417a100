namespace Noether.Cli.Output;

/// <summary>
/// The files a command writes into its output folder, each saved or drawn through here and listed in the order written,
/// for the closing "wrote …" line.
/// </summary>
/// <param name="outDir">The output folder.</param>
internal sealed class WrittenFiles(string outDir)
{
    private readonly List<string> _names = [];

    /// <summary>The output folder.</summary>
    public string Folder => outDir;

    /// <summary>Saves <paramref name="table"/> as <paramref name="name"/> in the folder.</summary>
    public void Save(CsvTable table, string name)
    {
        table.Save(Path.Combine(outDir, name));
        _names.Add(name);
    }

    /// <summary>Draws a figure into <paramref name="name"/> in the folder (<paramref name="draw"/> gets its path).</summary>
    public void Draw(string name, Action<string> draw)
    {
        draw(Path.Combine(outDir, name));
        _names.Add(name);
    }

    /// <summary>Lists a file written otherwise (summary.json).</summary>
    public void Add(string name) => _names.Add(name);

    /// <summary>The names, comma-separated.</summary>
    public override string ToString() => string.Join(", ", _names);
}
