using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Noether.Tests.Cli.Report;

/// <summary>
/// One real <c>noether reproduce --profile quick</c> run (a subprocess), shared by the tests below. .ci/run also makes a full
/// quick run after the unit tests and points these tests at it with NOETHER_REPRODUCE_OUT (then every plan step must be there).
/// </summary>
public sealed class ReproduceRunFixture : IDisposable
{
    private readonly string? _owned;

    public string Directory { get; }
    public bool External { get; }

    public ReproduceRunFixture()
    {
        if (Environment.GetEnvironmentVariable("NOETHER_REPRODUCE_OUT") is { Length: > 0 } given)
        {
            Directory = Path.GetFullPath(given);
            External = true;
            return;
        }
        // The experiment steps without train (a CNN epoch adds ~10 s; run by .ci/run's full quick run): ~15 s on 2 cores.
        _owned = System.IO.Directory.CreateTempSubdirectory("noether-reproduce-").FullName;
        Directory = Path.Combine(_owned, "run");
        var r = CliRunner.Run(["reproduce", "--profile", "quick", "--only", "drift,xavier,orbit,discover,symmetry-check", "--out", Directory], timeout: TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, $"reproduce exited with {r.ExitCode}: {r.Stderr}");
        Assert.Contains("peak memory", r.Stdout);
        Assert.Contains("report: ", r.Stdout);
    }

    public void Dispose()
    {
        if (_owned is not null) System.IO.Directory.Delete(_owned, recursive: true);
    }
}

public sealed class ReproduceSmokeTests(ReproduceRunFixture run) : IClassFixture<ReproduceRunFixture>
{
    private string SummaryPath => Path.Combine(run.Directory, "summary.json");

    private static JsonSchema Schema() =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(ReportAssertions.RepositoryRoot(), "docs", "summary.schema.json")));

    private static EvaluationResults Validate(JsonSchema schema, string json)
    {
        using var doc = JsonDocument.Parse(json);
        return schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
    }

    private static string Errors(EvaluationResults r) =>
        string.Join("; ", (r.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    [Fact]
    public void Summary_ValidatesAgainstTheSchema_AndTheSchemaRejectsBrokenSummaries()
    {
        var schema = Schema();
        string json = File.ReadAllText(SummaryPath);
        var result = Validate(schema, json);
        Assert.True(result.IsValid, Errors(result));

        // The validator is live: each of these edits breaks the schema.
        var edits = new Action<JsonObject>[]
        {
            s => s["steps"]![0]!["claims"]![0]!["verdict"] = "Great",
            s => s["profile"] = "huge",
            s => s.Remove("peakMemoryBytes"),
            s => s["steps"]![0]!["figures"]![0]!["file"] = "/etc/passwd",
            s => s["steps"]![0]!["error"] = "failed but marked ok",
        };
        foreach (var edit in edits)
        {
            var node = JsonNode.Parse(json)!.AsObject();
            edit(node);
            Assert.False(Validate(schema, node.ToJsonString()).IsValid, node.ToJsonString()[..200]);
        }
    }

    [Fact]
    public void Summary_HasEveryStepWithClaimsFiguresAndMachineFacts()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(SummaryPath));
        var root = doc.RootElement;
        Assert.Equal("quick", root.GetProperty("profile").GetString());
        Assert.True(root.GetProperty("succeeded").GetBoolean());
        Assert.True(root.GetProperty("peakMemoryBytes").GetInt64() > 50L << 20);
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("machine").GetProperty("cores").GetInt32());
        var steps = root.GetProperty("steps").EnumerateArray().ToArray();
        var expected = run.External
            ? Noether.Cli.Report.ReproducePlan.Steps.Select(s => s.Name).ToArray()
            : ["drift", "xavier", "orbit", "discover", "symmetry-check"];
        Assert.Equal(expected, steps.Select(s => s.GetProperty("name").GetString()));
        double stepSeconds = 0;
        foreach (var step in steps)
        {
            string name = step.GetProperty("name").GetString()!;
            var claims = step.GetProperty("claims").EnumerateArray().ToArray();
            Assert.True(claims.Length > 0, $"{name} has no claims");
            var ids = claims.Select(c => c.GetProperty("id").GetString()).ToArray();
            Assert.True(ids.Distinct().Count() == ids.Length, $"{name}: duplicate claim ids {string.Join(", ", ids)}");
            foreach (var f in step.GetProperty("figures").EnumerateArray())
                Assert.True(File.Exists(Path.Combine(run.Directory, f.GetProperty("file").GetString()!)), $"{name}: {f}");
            // The step's own summary.json carries the same claims (the report copies, never invents).
            using var own = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Directory, name, "summary.json")));
            Assert.Equal(ids, own.RootElement.GetProperty("claims").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
            stepSeconds += step.GetProperty("seconds").GetDouble();
        }
        Assert.True(root.GetProperty("wallSeconds").GetDouble() >= stepSeconds, "the run's wall time is shorter than its steps'");
        // The paper's corrected formulas are exercised: eq. 47 by xavier, eqs. 21–22 by orbit.
        var verdicts = steps.SelectMany(s => s.GetProperty("claims").EnumerateArray().Select(c => (Step: s.GetProperty("name").GetString(), Claim: c)))
            .ToDictionary(x => $"{x.Step}/{x.Claim.GetProperty("id").GetString()}", x => x.Claim.GetProperty("verdict").GetString());
        Assert.Equal("Corrected", verdicts["xavier/xavier-mean"]);
        Assert.Equal("Corrected", verdicts["orbit/orbit-eq21-scaling"]);
        Assert.Equal("Corrected", verdicts["orbit/orbit-eq22-orthogonal"]);
        Assert.Equal("Reproduced", verdicts["drift/drift-flow-conserves-q"]);
        if (run.External) Assert.Contains("Corrected", steps.Single(s => s.GetProperty("name").GetString() == "symmetry-check-tanh")
            .GetProperty("claims").EnumerateArray().Select(c => c.GetProperty("verdict").GetString()));
    }

    [Fact]
    public void Report_EmbedsEveryFigureListsCorrectionsAndOpensInChromium()
    {
        string path = Path.Combine(run.Directory, "report.html");
        string html = File.ReadAllText(path);
        using var doc = JsonDocument.Parse(File.ReadAllText(SummaryPath));
        int figures = doc.RootElement.GetProperty("steps").EnumerateArray().Sum(s => s.GetProperty("figures").GetArrayLength());
        Assert.True(figures >= 6, $"only {figures} figures");
        ReportAssertions.AssertImagesArePngDataUris(html, figures);
        ReportAssertions.AssertSelfContained(html);
        ReportAssertions.AssertListsCorrections(html);
        Assert.Contains("<span class=\"profile\">quick</span>", html);
        ReportAssertions.AssertRendersInChromium(path, Path.Combine(AppContext.BaseDirectory, "TestResults", "report-quick.png"));
    }
}
