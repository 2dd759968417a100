using System.Text.Json;
using Noether.Serialization;

namespace Noether.Tests.Cli;

/// <summary>Checks of the files a command writes into its --out folder.</summary>
public static class CliOutput
{
    /// <summary>The file exists and starts with the PNG signature (0x89 'P' 'N' 'G'), with some image data after it.</summary>
    public static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), $"{path} is missing");
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 2000, $"{path}: only {bytes.Length} bytes");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
    }

    /// <summary>The CSV parses and its header is exactly <paramref name="columns"/>.</summary>
    public static CsvTable AssertCsv(string path, params string[] columns)
    {
        Assert.True(File.Exists(path), $"{path} is missing");
        var table = CsvTable.Load(path);
        Assert.Equal(columns, table.Columns);
        Assert.True(table.RowCount > 0, $"{path} has no rows");
        return table;
    }

    /// <summary>summary.json parsed, with its "command" field checked.</summary>
    public static JsonElement Summary(string dir, string command)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        var root = doc.RootElement.Clone();
        Assert.Equal(command, root.GetProperty("command").GetString());
        return root;
    }

    /// <summary>A number written by ResultJson (NaN and ±∞ are strings there).</summary>
    public static double Number(JsonElement e) => e.ValueKind == JsonValueKind.String ? Csv.ParseDouble(e.GetString()!) : e.GetDouble();

    /// <summary>The run succeeded (stderr shown otherwise) and left no temporary files behind.</summary>
    public static void AssertSucceeded(CliRunner.Result r, string dir)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.Empty(Directory.EnumerateFiles(dir, ".*"));
    }
}
