using System.Diagnostics;

namespace Noether.Tests.Scripts;

/// <summary>
/// scripts/compare-results.py decides whether a refactoring changed any result (CI runs it against the stored quick
/// reference). It must say "equal" for a copy, ignore wall-clock time, and say "differs", naming the file, for one
/// changed digit in a CSV or in a summary.json.
/// </summary>
public sealed class CompareResultsScriptTests : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly string _work = Path.Combine(Path.GetTempPath(), "noether-compare-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_work)) Directory.Delete(_work, recursive: true);
    }

    private static string Root() => Support.Repository.Root;

    private static string Reference => Path.Combine(Root(), "tests", "reference", "reproduce-quick");

    private string CopyOfReference()
    {
        string copy = Path.Combine(_work, "run");
        foreach (string file in Directory.EnumerateFiles(Reference, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(copy, Path.GetRelativePath(Reference, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }

    private static (int Exit, string Output) Compare(string run)
    {
        Assert.True(File.Exists(Python), $"{Python} is required by this test (Debian's python3 package; run.sh installs it)");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(Root(), "scripts", "compare-results.py"));
        start.ArgumentList.Add(Reference);
        start.ArgumentList.Add(run);
        using var p = Process.Start(start)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "compare-results.py did not finish within 60 s");
        return (p.ExitCode, output);
    }

    [Fact]
    public void Compare_CopyOfTheReference_IsEqual()
    {
        var (exit, output) = Compare(CopyOfReference());
        Assert.True(exit == 0, output);
        Assert.Contains("results equal", output);
    }

    [Fact]
    public void Compare_OneDigitChangedInACsv_DiffersAndNamesTheFile()
    {
        string run = CopyOfReference();
        string csv = Path.Combine(run, "drift", "drift.csv");
        string[] lines = File.ReadAllLines(csv);
        // The last character of the second row is a digit of a measured number; change it.
        char last = lines[1][^1];
        Assert.True(char.IsAsciiDigit(last), $"expected a digit at the end of {lines[1]}");
        lines[1] = lines[1][..^1] + (last == '9' ? '8' : (char)(last + 1));
        File.WriteAllLines(csv, lines);
        var (exit, output) = Compare(run);
        Assert.Equal(1, exit);
        Assert.Contains("DIFFERS drift/drift.csv", output);
    }

    [Fact]
    public void Compare_ChangedVerdictInASummary_Differs()
    {
        string run = CopyOfReference();
        string summary = Path.Combine(run, "orbit", "summary.json");
        string text = File.ReadAllText(summary);
        Assert.Contains("\"Reproduced\"", text);
        File.WriteAllText(summary, text.Replace("\"Reproduced\"", "\"NotReproduced\""));
        var (exit, output) = Compare(run);
        Assert.Equal(1, exit);
        Assert.Contains("DIFFERS orbit/summary.json", output);
    }

    [Fact]
    public void Compare_OnlyWallClockTimesChanged_IsEqual()
    {
        string run = CopyOfReference();
        string csv = Path.Combine(run, "train", "training.csv");
        string summary = Path.Combine(run, "train", "summary.json");
        // The reference has no seconds column (it is dropped when stored); a run has one, with any value.
        string[] lines = File.ReadAllLines(csv);
        File.WriteAllLines(csv, lines.Select((l, i) => l + (i == 0 ? ",seconds" : ",12.5")));
        string text = File.ReadAllText(summary);
        File.WriteAllText(summary, text.Insert(text.IndexOf('{') + 1, "\n \"wallSeconds\": 99.5,"));
        var (exit, output) = Compare(run);
        Assert.True(exit == 0, output);
    }
}
