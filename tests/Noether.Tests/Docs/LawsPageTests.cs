using System.Globalization;
using System.Text.Json;
using Noether.Conservation;

namespace Noether.Tests.Docs;

/// <summary>docs/laws.md quotes a stored run and shows a library snippet: both are checked here so the page cannot rot.</summary>
public class LawsPageTests
{
    private static string Root() => Support.Repository.Root;

    [Fact]
    public void LawsPage_TableIsTheStoredRunsSummary()
    {
        string root = Root();
        string page = File.ReadAllText(Path.Combine(root, "docs", "laws.md")).Replace("\r\n", "\n");
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "docs", "runs", "laws", "2026-12-06.json")));
        var rows = summary.RootElement.GetProperty("families").EnumerateArray().Select(f => string.Create(CultureInfo.InvariantCulture,
            $"| {f.GetProperty("family").GetString()} | {f.GetProperty("nets").GetInt32()} | {f.GetProperty("phiMatchesKnown").GetInt32()} | {f.GetProperty("phiUnclear").GetInt32()} | {f.GetProperty("dataAbovePhi").GetInt32()} | {f.GetProperty("dataUnclear").GetInt32()} | {f.GetProperty("smallestPhiGap").GetDouble():0.0e+00} |"));
        string expected = "| family | nets | φ count = known laws | φ decided with an unclear gap | data count > φ count | data count with an unclear gap | smallest φ gap |\n"
            + "|---|---|---|---|---|---|---|\n" + string.Join("\n", rows) + "\n";
        int begin = page.IndexOf("<!-- laws-table", StringComparison.Ordinal);
        int start = page.IndexOf('\n', begin) + 1, end = page.IndexOf("<!-- /laws-table -->", StringComparison.Ordinal);
        Assert.Equal(expected, page[start..end]);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"wall {summary.RootElement.GetProperty("wallSeconds").GetDouble():F1} s"), page);
    }

    [Fact]
    public void LawsPage_LibrarySnippetRunsAndGivesTheStatedCount()
    {
        // The snippet of docs/laws.md, verbatim apart from the console line.
        var net = new NetworkReparametrization([2, 3, 3, 2], biases: false);
        var theta = net.RandomPoint(new Random(7));
        var count = LawCount.Count(net.LinearProduct(), theta, new Random(7));
        Assert.Equal(12, count.Laws);
        string page = File.ReadAllText(Path.Combine(Root(), "docs", "laws.md"));
        Assert.Contains("var count = LawCount.Count(net.LinearProduct(), theta, new Random(7));", page);
        Assert.Contains("widths [2, 3, 3, 2] have 12 laws", page);
    }
}
