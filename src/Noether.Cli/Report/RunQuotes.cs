using System.Text;
using System.Text.RegularExpressions;

namespace Noether.Cli.Report;

/// <summary>
/// Docs that cannot go stale: the numbers README.md and docs/*.md quote from a <c>noether reproduce</c> run are blocks
/// generated from that run's summary.json, stored under docs/runs/. A block is written between
/// <c>&lt;!-- generated: KIND runs/A.json [runs/B.json] --&gt;</c> (paths relative to the markdown file) and <c>&lt;!-- end generated --&gt;</c>;
/// <see cref="Regenerate"/> rewrites every block from its stored runs, and a test checks that it changes nothing.
/// Kinds: <c>run</c> (the run's facts: command, date, machine, wall time, peak memory), <c>steps</c> (per step: status,
/// seconds and its claims' verdicts), <c>counts</c> (paper claims apart from own checks), <c>seconds</c> (seconds per
/// step of two runs side by side), <c>claim:ID</c> (one claim as summary.json holds it).
/// </summary>
internal static partial class RunQuotes
{
    [GeneratedRegex(@"<!-- generated: (?<kind>\S+) (?<runs>[^>]*?) -->\n(?<body>.*?)<!-- end generated -->", RegexOptions.Singleline)]
    private static partial Regex Block();

    /// <summary>The summary.json of a reproduce run.</summary>
    public static ReproduceSummary Read(string path) =>
        ResultJson.Deserialize<ReproduceSummary>(File.ReadAllText(path));

    /// <summary><paramref name="markdown"/> with every generated block rewritten from the runs it names (paths relative to <paramref name="documentDirectory"/>, the markdown file's folder, as its links are).</summary>
    public static string Regenerate(string markdown, string documentDirectory)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var cache = new Dictionary<string, ReproduceSummary>();
        ReproduceSummary Run(string relative) =>
            cache.TryGetValue(relative, out var s) ? s : cache[relative] = Read(Path.Combine(documentDirectory, relative));
        return Block().Replace(markdown.ReplaceLineEndings("\n"), m =>
        {
            string kind = m.Groups["kind"].Value;
            var runs = m.Groups["runs"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Run).ToArray();
            string body = kind switch
            {
                "run" => Facts(runs[0]),
                "steps" => Steps(runs[0]),
                "counts" => Counts(runs[0]),
                "seconds" when runs.Length == 2 => Seconds(runs[0], runs[1]),
                _ when kind.StartsWith("claim:", StringComparison.Ordinal) => ClaimJson(runs[0], kind["claim:".Length..]),
                _ => throw new InvalidDataException($"generated block '{kind}' with {runs.Length} run(s): unknown kind or wrong number of runs"),
            };
            return $"<!-- generated: {kind} {m.Groups["runs"].Value} -->\n{body}<!-- end generated -->";
        });
    }

    /// <summary>How many blocks <paramref name="markdown"/> has.</summary>
    public static int BlockCount(string markdown) => Block().Matches(markdown.ReplaceLineEndings("\n")).Count;

    /// <summary>The verdicts of <paramref name="claims"/>, as the reproduce console prints them per step ("5 reproduced, 1 passed").</summary>
    public static string VerdictCounts(IEnumerable<Claim> claims) =>
        string.Join(", ", claims.GroupBy(c => c.Verdict).Select(g => $"{g.Count()} {ReportWriter.Label(g.Key)}"));

    private static string Facts(ReproduceSummary s) => string.Create(CultureInfo.InvariantCulture,
        $"`noether reproduce --profile {s.Profile}`, {s.Date.UtcDateTime:yyyy-MM-dd HH:mm} UTC, {s.Machine.Cores} cores ({s.Machine.Cpu}; {s.Machine.Os}; {s.Machine.Runtime}): " +
        $"{s.Steps.Count(x => x.Status == StepStatus.Ok)} of {s.Steps.Count} steps succeeded, wall time {ReportWriter.Duration(s.WallSeconds)}, peak memory {ReportWriter.Mib(s.PeakMemoryBytes)}.\n");

    private static string Steps(ReproduceSummary s)
    {
        var md = new StringBuilder("| step | status | seconds | claims |\n|---|---|---:|---|\n");
        foreach (var x in s.Steps)
            md.Append(CultureInfo.InvariantCulture, $"| {x.Name} | {(x.Status == StepStatus.Ok ? "ok" : "failed")} | {x.Seconds:F1} | {VerdictCounts(x.Claims)} |\n");
        return md.ToString();
    }

    private static string Counts(ReproduceSummary s)
    {
        var t = ClaimTally.Of(s.Steps.SelectMany(x => x.Claims).Select(c => c.Verdict));
        return $"{t.PaperText}; {t.OwnText}; {t.Measured} measurements (not judged).\n";
    }

    private static string Seconds(ReproduceSummary a, ReproduceSummary b)
    {
        var md = new StringBuilder($"| step | {a.Profile} | {b.Profile} |\n|---|---:|---:|\n");
        foreach (var name in a.Steps.Select(x => x.Name).Union(b.Steps.Select(x => x.Name)))
        {
            string S(ReproduceSummary r) => r.Steps.FirstOrDefault(x => x.Name == name) is { } x ? x.Seconds.ToString("F1", CultureInfo.InvariantCulture) : "–";
            md.Append(CultureInfo.InvariantCulture, $"| {name} | {S(a)} | {S(b)} |\n");
        }
        md.Append(CultureInfo.InvariantCulture, $"| **whole run** | **{ReportWriter.Duration(a.WallSeconds)}** | **{ReportWriter.Duration(b.WallSeconds)}** |\n");
        md.Append(CultureInfo.InvariantCulture, $"| peak memory | {ReportWriter.Mib(a.PeakMemoryBytes)} | {ReportWriter.Mib(b.PeakMemoryBytes)} |\n");
        return md.ToString();
    }

    private static string ClaimJson(ReproduceSummary s, string id)
    {
        var claim = s.Steps.SelectMany(x => x.Claims).FirstOrDefault(c => c.Id == id)
            ?? throw new InvalidDataException($"generated block claim:{id}: the run has no claim '{id}'");
        return "```json\n" + ResultJson.Serialize(claim) + "\n```\n";
    }
}
