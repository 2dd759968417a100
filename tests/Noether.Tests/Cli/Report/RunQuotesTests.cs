using System.Text.Json;
using Json.Schema;
using Noether.Cli.Report;

namespace Noether.Tests.Cli.Report;

/// <summary>
/// Docs that cannot rot: every number README.md and docs/reproduce.md quote from a reproduce run sits in a block
/// generated from that run's stored summary.json (docs/runs/), and regenerating the blocks must change nothing.
/// To refresh the docs after storing a new run: NOETHER_UPDATE_DOCS=1 dotnet test --filter RunQuotesTests.
/// </summary>
public class RunQuotesTests
{
    private static readonly string Root = ReportAssertions.RepositoryRoot();

    public static readonly TheoryData<string, int> QuotingDocs = new() { { "README.md", 2 }, { "docs/reproduce.md", 4 } };

    [Theory]
    [MemberData(nameof(QuotingDocs))]
    public void QuotedBlocks_AreWhatTheStoredRunsGenerate(string doc, int blocks)
    {
        string path = Path.Combine(Root, doc);
        string text = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.True(RunQuotes.BlockCount(text) >= blocks, $"{doc}: expected at least {blocks} generated blocks");
        string regenerated = RunQuotes.Regenerate(text, Path.GetDirectoryName(path)!);
        if (Environment.GetEnvironmentVariable("NOETHER_UPDATE_DOCS") == "1") File.WriteAllText(path, regenerated);
        else Assert.Equal(regenerated, text);
    }

    [Fact]
    public void Regenerate_RestoresAHandEditedNumber_SoTheComparisonCanFail()
    {
        string text = File.ReadAllText(Path.Combine(Root, "README.md")).ReplaceLineEndings("\n");
        int start = text.IndexOf("<!-- generated: steps ", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no generated steps table");
        int row = text.IndexOf("| drift | ok | ", start, StringComparison.Ordinal);
        Assert.True(row >= 0, "the steps table has no drift row");
        string edited = text[..row] + "| drift | ok | 999.9" + text[(text.IndexOf(" |", row + "| drift | ok | ".Length, StringComparison.Ordinal))..];
        Assert.NotEqual(text, edited);
        Assert.Equal(text, RunQuotes.Regenerate(edited, Root));
        Assert.Throws<InvalidDataException>(() => RunQuotes.Regenerate("<!-- generated: claim:no-such-claim docs/runs/default-2026-12-06.json -->\n<!-- end generated -->", Root));
    }

    [Fact]
    public void StoredRuns_ValidateAgainstTheSchema_AndCountTheirOwnVerdicts()
    {
        // Its own registry: the smoke tests register the same $id in the global one.
        var schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(Root, "docs", "summary.schema.json")), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        var runs = Directory.GetFiles(Path.Combine(Root, "docs", "runs"), "*.json");
        Assert.NotEmpty(runs);
        foreach (var file in runs)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var result = schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
            Assert.True(result.IsValid, $"{file} breaks docs/summary.schema.json");
            // The stored verdict counts are the claims' own verdicts, counted independently here.
            var summary = RunQuotes.Read(file);
            foreach (var (verdict, count) in summary.Verdicts)
                Assert.Equal(summary.Steps.SelectMany(s => s.Claims).Count(c => c.Verdict.ToString() == verdict), count);
        }
    }

    [Fact]
    public void EveryClaimOfTheStoredRuns_HasARuleInTheCatalog_WithItsOrigin()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "docs", "runs"), "*.json"))
            foreach (var claim in RunQuotes.Read(file).Steps.SelectMany(s => s.Claims))
            {
                var rule = Noether.Experiments.ClaimCatalog.Find(claim.Id);
                Assert.True(rule is not null, $"{Path.GetFileName(file)}: claim {claim.Id} has no rule in ClaimCatalog");
                Assert.Equal(rule.Origin, claim.Origin);
            }
    }

    // The CLI renders claims; it never builds one by hand (every claim comes from a ClaimRule, which decides its verdict).
    [Fact]
    public void Cli_BuildsNoClaimByHand()
    {
        var offenders = Directory.GetFiles(Path.Combine(Root, "src", "Noether.Cli"), "*.cs", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains("new Claim(", StringComparison.Ordinal)).Select(Path.GetFileName).ToArray();
        Assert.Empty(offenders);
    }
}
