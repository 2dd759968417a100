using System.Net;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Experiments;
using Noether.Serialization;

namespace Noether.Tests.Cli.Report;

/// <summary>The report writer fed with fixture step folders (fast: no experiment runs).</summary>
public sealed class ReportWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly Claim[] AlphaClaims =
    [
        new("alpha-holds", "eq. 41", "A claim that holds.", "≤ 1e-10", "4.2e-16", Verdict.Reproduced),
        new("alpha-corrected", "eq. 47", "A corrected formula: E[Q] = ½(m − h).", "½(m − h)", "z = 0.29; paper z = 1414", Verdict.Corrected, "the paper prints m − h"),
        new("alpha-escaped", "Fig. 3", "Text with markup <script>alert(1)</script> & \"quotes\".", "a < b", "b > a", Verdict.NotReproduced, "<b>not bold</b>"),
        new("alpha-partial", "Prop. 8", "Holds for some σ.", "all σ", "2 of 4", Verdict.Partial),
        new("alpha-measured", "Appendix H", "A measurement.", "none", "83.66%", Verdict.Measured),
    ];

    // A step folder as an experiment command leaves it: a real ScottPlot PNG and a summary.json with claims and figures.
    private string WriteStep(string name, Claim[] claims, int figures)
    {
        string dir = Path.Combine(_dir, name);
        Directory.CreateDirectory(dir);
        var refs = new List<FigureRef>();
        for (int f = 0; f < figures; f++)
        {
            var plot = Figure.Create($"{name} figure {f}", "x", "y");
            plot.Add.Scatter(Enumerable.Range(0, 20).Select(i => (double)i).ToArray(), Enumerable.Range(0, 20).Select(i => Math.Sin(i + f)).ToArray());
            Figure.Save(plot, Path.Combine(dir, $"fig{f}.png"), 400, 300);
            refs.Add(new FigureRef($"fig{f}.png", f == 0 ? "Fig. 3" : null, $"Caption {f} of {name} <with> & markup."));
        }
        ResultJson.Write(Path.Combine(dir, "summary.json"), new { command = name, profile = "quick", claims, figures = refs });
        return dir;
    }

    private ReproduceSummary Summary()
    {
        string alphaDir = WriteStep("alpha", AlphaClaims, figures: 2);
        var (claims, figures) = StepSummaryReader.Read(alphaDir, "alpha");
        var steps = new[]
        {
            new StepOutcome("alpha", ["alpha", "--profile", "quick"], StepStatus.Ok, 0, 1.5, null, claims, figures),
            new StepOutcome("beta", ["beta", "--steps", "-1"], StepStatus.Failed, 2, 0.1, "noether: error: --steps must be a positive integer (got -1) <oops>", [], []),
        };
        return new ReproduceSummary("reproduce", "quick", new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero),
            new MachineInfo(2, "Test CPU", "Test OS", ".NET test", 1L << 30), 12.5, 700L << 20, false, ReproduceSummary.CountVerdicts(steps), steps, SpecCorrections.All);
    }

    [Fact]
    public void Reader_RoundTripsClaimsAndPrefixesFigurePaths()
    {
        string dir = WriteStep("alpha", AlphaClaims, figures: 2);
        var (claims, figures) = StepSummaryReader.Read(dir, "alpha");
        Assert.Equal(AlphaClaims, claims);
        Assert.Equal(["alpha/fig0.png", "alpha/fig1.png"], figures.Select(f => f.File));
        Assert.Equal("Fig. 3", figures[0].PaperFigure);
    }

    [Fact]
    public void Reader_RejectsSummariesThatBreakTheContract()
    {
        string dir = Path.Combine(_dir, "gamma");
        Directory.CreateDirectory(dir);
        var missing = Assert.Throws<InvalidDataException>(() => StepSummaryReader.Read(dir, "gamma"));
        Assert.Contains("no summary.json", missing.Message);

        File.WriteAllText(Path.Combine(dir, "summary.json"), "{\"command\": \"gamma\", \"figures\": []}");
        Assert.Contains("\"claims\"", Assert.Throws<InvalidDataException>(() => StepSummaryReader.Read(dir, "gamma")).Message);

        File.WriteAllText(Path.Combine(dir, "summary.json"), "{\"command\": \"gamma\", \"claims\": [], \"figures\": [{\"file\": \"absent.png\", \"paperFigure\": null, \"caption\": \"c\"}]}");
        Assert.Contains("absent.png", Assert.Throws<InvalidDataException>(() => StepSummaryReader.Read(dir, "gamma")).Message);

        File.WriteAllText(Path.Combine(dir, "summary.json"), "{\"claims\": [{\"id\": \"x\", \"verdict\": \"Great\"}], \"figures\": []}");
        Assert.Contains("report contract", Assert.Throws<InvalidDataException>(() => StepSummaryReader.Read(dir, "gamma")).Message);

        File.WriteAllText(Path.Combine(dir, "summary.json"), "{ not json");
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => StepSummaryReader.Read(dir, "gamma")).Message);
    }

    [Fact]
    public void Render_EmbedsEveryFigureEscapesTextAndShowsFailures()
    {
        var summary = Summary();
        string html = ReportWriter.Render(summary, _dir);

        // The figures: the very bytes of the PNG files, as data URIs, each with its caption.
        var images = ReportAssertions.AssertImagesArePngDataUris(html, expectedCount: 2);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "alpha", "fig0.png")), images[0]);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "alpha", "fig1.png")), images[1]);
        Assert.Contains(WebUtility.HtmlEncode("Caption 1 of alpha <with> & markup."), html);
        ReportAssertions.AssertSelfContained(html);
        ReportAssertions.AssertListsCorrections(html);

        // Every claim twice (summary table and its step's section), with its verdict's colour class; text is escaped.
        foreach (var c in AlphaClaims)
        {
            string measured = WebUtility.HtmlEncode(c.Measured);
            Assert.Equal(2, CountOf(html, $"<td>{measured}</td>"));
            Assert.Contains($"<tr class=\"v-{c.Verdict.ToString().ToLowerInvariant()}\">", html);
        }
        Assert.DoesNotContain("<script>alert", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.DoesNotContain("<b>not bold</b>", html);

        // The failing step: its error, its status; the run's facts.
        Assert.Contains(WebUtility.HtmlEncode("--steps must be a positive integer (got -1) <oops>"), html);
        Assert.Contains("beta <span class=\"fail\">failed</span>", html);
        Assert.Contains("1 of 2 succeeded", html);
        Assert.Contains("<span class=\"profile\">quick</span>", html);
        Assert.Contains("2026-11-27 12:00 UTC", html);
        Assert.Contains("2 cores, Test CPU", html);
        Assert.Contains("700 MiB", html);
        Assert.Contains("12.5 s", html);

        // The index of the paper's figures: Fig. 3 links to the step figure that depicts it, Fig. 2 to its panels, and a
        // figure no step produced is flagged (Fig. 8 here), not silently missing.
        Assert.Contains("<tr id=\"paper-fig-3\"><td>Fig. 3</td>", html);
        Assert.Contains("<a href=\"#fig-alpha-0\">alpha: fig0.png</a>", html);
        Assert.Contains("<figure id=\"fig-alpha-0\">", html);
        Assert.Contains("<a href=\"#paper-fig-6\">6</a>", html);
        string fig8 = html[html.IndexOf("<tr id=\"paper-fig-8\">", StringComparison.Ordinal)..];
        Assert.Contains("not in this run", fig8[..fig8.IndexOf("</tr>", StringComparison.Ordinal)]);
        Assert.DoesNotContain("<a href=\"#fig-alpha-0\">", html[html.IndexOf("<tr id=\"paper-fig-10\">", StringComparison.Ordinal)..html.IndexOf("</table>", html.IndexOf("<tr id=\"paper-fig-10\">", StringComparison.Ordinal), StringComparison.Ordinal)]);
    }

    [Fact]
    public void Render_OpensInHeadlessChromium()
    {
        string html = Path.Combine(_dir, "report.html");
        File.WriteAllText(html, ReportWriter.Render(Summary(), _dir));
        ReportAssertions.AssertRendersInChromium(html, Path.Combine(AppContext.BaseDirectory, "TestResults", "report-synthetic.png"));
    }

    [Fact]
    public void Verdicts_AreCountedOverEveryStep()
    {
        var summary = Summary();
        Assert.Equal(new Dictionary<string, int> { ["Reproduced"] = 1, ["Partial"] = 1, ["NotReproduced"] = 1, ["Corrected"] = 1, ["Measured"] = 1, ["Passed"] = 0, ["Failed"] = 0 }, summary.Verdicts);
    }

    [Fact]
    public void Corrections_ParseTheMarkdownSectionsAndEntries()
    {
        var parsed = SpecCorrections.Parse("# T\n\n## First\n\n- **eq. 1**: one\n- **eq. 2 (x)**: two: with colon\n\n## Second\n- **A**: three\nnot an entry\n");
        Assert.Equal(
            [new SpecCorrection("First", "eq. 1", "one"), new SpecCorrection("First", "eq. 2 (x)", "two: with colon"), new SpecCorrection("Second", "A", "three")],
            parsed);
        Assert.Throws<FormatException>(() => SpecCorrections.Parse("- **unterminated"));
        // The compiled-in list is the docs file: the eq. 47 and eqs. 21–22 corrections are there.
        Assert.Contains(SpecCorrections.All, c => c.Title.StartsWith("eq. 47", StringComparison.Ordinal));
        Assert.Contains(SpecCorrections.All, c => c.Title.StartsWith("eq. 21", StringComparison.Ordinal));
        Assert.Contains(SpecCorrections.All, c => c.Title.StartsWith("eq. 22", StringComparison.Ordinal));
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}
