using System.Net;
using System.Text;

namespace Noether.Cli.Report;

/// <summary>
/// report.html of <c>noether reproduce</c>: one self-contained page (inline CSS, figures as base64 PNG data URIs, no
/// script and no external URL) with the run's profile, date, machine, wall time and peak memory, a table of every claim
/// (predicted vs measured, verdict coloured), one section per step with its figures next to its claims, and the
/// corrections to the paper Noether follows.
/// </summary>
internal static class ReportWriter
{
    private const string Title = "Noether: reproducing “Charting Flat Minima Using the Conserved Quantities of Gradient Flow”";

    /// <summary>The HTML of the report; figure files are read from <paramref name="runDir"/> (paths as in <see cref="StepOutcome.Figures"/>).</summary>
    public static string Render(ReproduceSummary summary, string runDir)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append("<title>").Append(E(Title)).Append(" (").Append(E(summary.Profile)).Append(")</title>\n<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n<main>\n");

        html.Append("<header>\n<h1>").Append(E(Title)).Append("</h1>\n");
        html.Append("<p class=\"lead\">Every experiment of the paper that <code>noether</code> implements, run by <code>noether reproduce --profile ")
            .Append(E(summary.Profile)).Append("</code>: each figure beside the paper's claim it tests and the number measured here.</p>\n");
        html.Append("<dl class=\"facts\">\n");
        Fact(html, "profile", $"<span class=\"profile\">{E(summary.Profile)}</span>", raw: true);
        Fact(html, "date", summary.Date.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
        Fact(html, "machine", $"{summary.Machine.Cores} cores, {summary.Machine.Cpu}" + (summary.Machine.MemoryBytes is { } mem ? $", {Gib(mem)} RAM" : ""));
        Fact(html, "system", $"{summary.Machine.Os}; {summary.Machine.Runtime}");
        Fact(html, "wall time", Duration(summary.WallSeconds));
        Fact(html, "peak memory", Mib(summary.PeakMemoryBytes));
        int failed = summary.Steps.Count(s => s.Status == StepStatus.Failed);
        Fact(html, "steps", $"{summary.Steps.Count - failed} of {summary.Steps.Count} succeeded" + (failed > 0 ? $" ({failed} failed: {string.Join(", ", summary.Steps.Where(s => s.Status == StepStatus.Failed).Select(s => s.Name))})" : ""));
        html.Append("</dl>\n");
        // The paper's claims apart from Noether's own checks: an own check is never counted as a reproduced claim.
        var tally = ClaimTally.Of(summary.Verdicts);
        html.Append("<p class=\"counts\"><strong>").Append(tally.PaperClaims).Append(" claims of the paper:</strong> ");
        foreach (var v in new[] { Verdict.Reproduced, Verdict.Corrected, Verdict.Partial, Verdict.NotReproduced })
            html.Append(Badge(v)).Append(" × ").Append(Count(summary, v)).Append(" &nbsp; ");
        html.Append("</p>\n<p class=\"counts\"><strong>").Append(tally.OwnChecks).Append(" of Noether's own checks</strong> (derivations, controls, algorithms; not claims of the paper): ");
        foreach (var v in new[] { Verdict.Passed, Verdict.Failed })
            html.Append(Badge(v)).Append(" × ").Append(Count(summary, v)).Append(" &nbsp; ");
        html.Append("</p>\n<p class=\"counts\"><strong>").Append(tally.Measured).Append(" measurements</strong> nothing predicts: ").Append(Badge(Verdict.Measured)).Append("</p>\n</header>\n");

        html.Append("<nav><h2>Contents</h2><ol>\n<li><a href=\"#figures\">The paper's figures</a></li>\n<li><a href=\"#claims\">Predicted vs measured</a></li>\n");
        foreach (var s in summary.Steps) html.Append("<li><a href=\"#step-").Append(E(s.Name)).Append("\">").Append(E(s.Name)).Append("</a>").Append(s.Status == StepStatus.Failed ? " <span class=\"fail\">failed</span>" : "").Append("</li>\n");
        html.Append("<li><a href=\"#corrections\">Corrections to the paper</a></li>\n</ol></nav>\n");
        PaperFigureIndex(html, summary);

        html.Append("<section id=\"claims\">\n<h2>Predicted vs measured</h2>\n");
        html.Append("<p class=\"legend\">");
        foreach (var v in Enum.GetValues<Verdict>()) html.Append(Badge(v)).Append(' ').Append(E(Meaning(v))).Append("<br>\n");
        html.Append("</p>\n");
        ClaimTable(html, summary.Steps.SelectMany(s => s.Claims.Select(c => (s.Name, c))).ToList(), withStep: true);
        html.Append("</section>\n");

        foreach (var step in summary.Steps) StepSection(html, step, runDir);

        html.Append("<section id=\"corrections\">\n<h2>Corrections to the paper</h2>\n<p>Where a printed formula was checked and found off, Noether follows the corrected one (the verdict “Corrected” above). The list is docs/spec-corrections.md of the repository.</p>\n");
        foreach (var group in summary.Corrections.GroupBy(c => c.Section))
        {
            html.Append("<h3>").Append(E(group.Key)).Append("</h3>\n<ul class=\"corrections\">\n");
            foreach (var c in group) html.Append("<li><strong>").Append(E(c.Title)).Append("</strong>: ").Append(InlineCode(E(c.Text))).Append("</li>\n");
            html.Append("</ul>\n");
        }
        html.Append("</section>\n<footer>Written by <code>noether reproduce</code>; the numbers are also in summary.json beside this file, each step's CSVs in its folder.</footer>\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>The paper's figures, what each shows, and where this report has it (Fig. 2 is an overview of four others).</summary>
    internal static readonly (int Number, string Shows, int[] Panels)[] PaperFigures =
    [
        (1, "the extended minimum of a 2-layer network, parametrised by Q (illustration)", []),
        (2, "overview: (a) convergence rate vs Q, (b) Hessian eigenvalues vs Q, (c) ensemble accuracy, (d) FGSM robustness", [6, 8, 9, 10]),
        (3, "drift of Q under gradient descent", []),
        (4, "distribution of Q under Xavier initialisation, linear nets", []),
        (5, "distribution of Q for other activations", []),
        (6, "training curves for different Q", []),
        (7, "radial example: smaller Q converges faster", []),
        (8, "Hessian eigenvalues at minima reached from different Q", []),
        (9, "accuracy change of the ensembles against ε", []),
        (10, "FGSM and PGD attacks on the single model and the ensembles", []),
    ];

    private static string FigureAnchor(string step, int index) => $"fig-{E(step)}-{index}";

    private static bool Depicts(FigureRef f, int number) =>
        f.PaperFigure is { } p && System.Text.RegularExpressions.Regex.IsMatch(p, $@"\bFig\. {number}(?![0-9])");

    private static void PaperFigureIndex(StringBuilder html, ReproduceSummary summary)
    {
        html.Append("<section id=\"figures\">\n<h2>The paper's figures</h2>\n<table class=\"figures\">\n<thead><tr><th>paper</th><th>shows</th><th>in this report</th></tr></thead>\n<tbody>\n");
        foreach (var (number, shows, panels) in PaperFigures)
        {
            var here = summary.Steps.SelectMany(s => s.Figures.Select((f, i) => (Step: s.Name, Figure: f, Index: i))).Where(x => Depicts(x.Figure, number))
                .Select(x => $"<a href=\"#{FigureAnchor(x.Step, x.Index)}\">{E(x.Step)}: {E(Path.GetFileName(x.Figure.File))}</a>").ToList();
            string where = panels.Length > 0
                ? "its panels are Figs. " + string.Join(", ", panels.Select(n => $"<a href=\"#paper-fig-{n}\">{n}</a>"))
                : here.Count > 0 ? string.Join("<br>", here) : number == 1 ? "illustrated by the valley and the 1-D sharpness figures (no data in the paper)" : "<span class=\"fail\">not in this run</span>";
            html.Append("<tr id=\"paper-fig-").Append(number).Append("\"><td>Fig. ").Append(number).Append("</td><td>").Append(E(shows)).Append("</td><td>").Append(where).Append("</td></tr>\n");
        }
        html.Append("</tbody>\n</table>\n</section>\n");
    }

    private static void StepSection(StringBuilder html, StepOutcome step, string runDir)
    {
        html.Append("<section class=\"step\" id=\"step-").Append(E(step.Name)).Append("\">\n<h2>").Append(E(step.Name));
        html.Append(step.Status == StepStatus.Ok ? " <span class=\"ok\">ok</span>" : " <span class=\"fail\">failed</span>").Append("</h2>\n");
        html.Append("<p class=\"meta\"><code>noether ").Append(E(string.Join(' ', step.Command))).Append("</code> · ").Append(E(Duration(step.Seconds)))
            .Append(" · exit code ").Append(step.ExitCode).Append("</p>\n");
        if (step.Error is { } error) html.Append("<pre class=\"error\">").Append(E(error)).Append("</pre>\n");
        if (step.Claims.Count > 0) ClaimTable(html, step.Claims.Select(c => (step.Name, c)).ToList(), withStep: false);
        for (int i = 0; i < step.Figures.Count; i++)
        {
            var f = step.Figures[i];
            string path = Path.Combine(runDir, f.File);
            html.Append("<figure id=\"").Append(FigureAnchor(step.Name, i)).Append("\">\n");
            if (File.Exists(path))
                html.Append("<img alt=\"").Append(E(f.Caption)).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(File.ReadAllBytes(path))).Append("\">\n");
            else
                html.Append("<p class=\"fail\">").Append(E($"missing figure {f.File}")).Append("</p>\n");
            html.Append("<figcaption>").Append(f.PaperFigure is { } p ? $"<strong>{E(p)}</strong> " : "<strong>Our figure</strong> ")
                .Append(E(f.Caption)).Append(" <span class=\"file\">").Append(E(f.File)).Append("</span></figcaption>\n</figure>\n");
        }
    }

    private static void ClaimTable(StringBuilder html, List<(string Step, Claim Claim)> rows, bool withStep)
    {
        if (rows.Count == 0)
        {
            html.Append("<p>No claims.</p>\n");
            return;
        }
        html.Append("<table class=\"claims\">\n<colgroup>");
        if (withStep) html.Append("<col class=\"c-step\">");
        html.Append("<col class=\"c-source\"><col class=\"c-claim\"><col class=\"c-predicted\"><col class=\"c-measured\"><col class=\"c-verdict\"></colgroup>\n<thead><tr>");
        if (withStep) html.Append("<th>step</th>");
        html.Append("<th>source</th><th>claim</th><th>predicted</th><th>measured</th><th>verdict</th></tr></thead>\n<tbody>\n");
        foreach (var (step, c) in rows)
        {
            html.Append("<tr class=\"").Append(Class(c.Verdict)).Append("\">");
            if (withStep) html.Append("<td><a href=\"#step-").Append(E(step)).Append("\">").Append(E(step)).Append("</a></td>");
            html.Append("<td class=\"source\">").Append(E(c.Source)).Append("<div class=\"note\">").Append(E(OriginLabel(c.Origin))).Append("</div></td><td>").Append(E(c.Statement));
            if (c.Note is { } note) html.Append("<div class=\"note\">").Append(E(note)).Append("</div>");
            html.Append("</td><td>").Append(E(c.Predicted)).Append("</td><td>").Append(E(c.Measured)).Append("</td><td>").Append(Badge(c.Verdict)).Append("</td></tr>\n");
        }
        html.Append("</tbody>\n</table>\n");
    }

    private static void Fact(StringBuilder html, string key, string value, bool raw = false) =>
        html.Append("<dt>").Append(E(key)).Append("</dt><dd>").Append(raw ? value : E(value)).Append("</dd>\n");

    /// <summary>Where a claim comes from, as the report shows it under its source.</summary>
    public static string OriginLabel(ClaimOrigin o) => o switch
    {
        ClaimOrigin.Paper => "the paper",
        ClaimOrigin.Correction => "the paper, corrected",
        _ => "Noether's own check",
    };

    private static int Count(ReproduceSummary summary, Verdict v) => summary.Verdicts.TryGetValue(v.ToString(), out int n) ? n : 0;

    private static string Badge(Verdict v) => $"<span class=\"badge {Class(v)}\">{E(Label(v))}</span>";

    /// <summary>The verdict as shown in the report ("not reproduced").</summary>
    public static string Label(Verdict v) => v switch
    {
        Verdict.Reproduced => "reproduced",
        Verdict.Partial => "partial",
        Verdict.NotReproduced => "not reproduced",
        Verdict.Corrected => "corrected",
        Verdict.Passed => "passed",
        Verdict.Failed => "failed",
        _ => "measured",
    };

    private static string Class(Verdict v) => "v-" + v.ToString().ToLowerInvariant();

    private static string Meaning(Verdict v) => v switch
    {
        Verdict.Reproduced => "a claim of the paper holds here within the threshold its “predicted” column states",
        Verdict.Partial => "a claim of the paper holds for some of its parts (settings, activations, strengths, shapes) and not for others; “measured” lists every part",
        Verdict.NotReproduced => "a claim of the paper does not hold here, or there was no data (NaN, nothing measured) to judge it",
        Verdict.Corrected => "the paper's printed formula is off; the corrected one (listed at the end) holds here",
        Verdict.Passed => "one of Noether's own checks (a derivation, a control, an algorithm) holds; not a claim of the paper",
        Verdict.Failed => "one of Noether's own checks does not hold, or had no data",
        _ => "a measurement nothing predicts; reported, not judged",
    };

    /// <summary>"12.3 s" or "4 min 05 s".</summary>
    public static string Duration(double seconds) => seconds < 60
        ? seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s"
        : string.Create(CultureInfo.InvariantCulture, $"{(int)(seconds / 60)} min {(int)seconds % 60:00} s");

    /// <summary>Bytes as MiB ("698 MiB").</summary>
    public static string Mib(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0", CultureInfo.InvariantCulture) + " MiB";

    private static string Gib(long bytes) => (bytes / (1024.0 * 1024.0 * 1024.0)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB";

    private static string E(string text) => WebUtility.HtmlEncode(text);

    // Markdown's `code` in the (already escaped) corrections text.
    private static string InlineCode(string encoded) => System.Text.RegularExpressions.Regex.Replace(encoded, "`([^`]+)`", "<code>$1</code>");

    private const string Css = """
        :root { --fg: #1d2330; --muted: #5b6474; --line: #dfe3ea; --bg: #fbfcfd; --accent: #2a5caa; }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.55 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; }
        main { max-width: 1180px; margin: 0 auto; padding: 2rem 1.5rem 4rem; overflow-wrap: anywhere; }
        h1 { font-size: 1.7rem; line-height: 1.25; margin: 0 0 .6rem; }
        h2 { font-size: 1.35rem; margin: 2.4rem 0 .8rem; padding-bottom: .3rem; border-bottom: 2px solid var(--line); }
        h3 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
        a { color: var(--accent); }
        code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .88em; }
        .lead { color: var(--muted); font-size: 1.05rem; margin-top: 0; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1.2rem; margin: 1rem 0; padding: 1rem 1.2rem; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; }
        .profile { font-weight: bold; padding: .05rem .5rem; border-radius: 4px; background: #e8eefb; color: var(--accent); }
        nav ol { columns: 3; margin: .2rem 0; }
        table.claims { width: 100%; table-layout: fixed; border-collapse: collapse; background: #fff; font-size: .92rem; margin: .6rem 0 1.2rem; }
        table.claims th, table.claims td { border: 1px solid var(--line); padding: .35rem .55rem; vertical-align: top; text-align: left; }
        table.claims th { background: #f1f3f7; }
        table.claims col.c-step { width: 9%; } table.claims col.c-source { width: 10%; } table.claims col.c-claim { width: 28%; }
        table.claims col.c-predicted { width: 17%; } table.claims col.c-measured { width: 26%; } table.claims col.c-verdict { width: 10%; }
        td.source { overflow-wrap: normal; }
        table.figures { width: 100%; border-collapse: collapse; background: #fff; font-size: .92rem; margin: .6rem 0 1.2rem; }
        table.figures th, table.figures td { border: 1px solid var(--line); padding: .35rem .55rem; vertical-align: top; text-align: left; }
        table.figures th { background: #f1f3f7; } table.figures td:first-child, table.figures th:first-child { white-space: nowrap; }
        .note { color: var(--muted); font-size: .85rem; margin-top: .2rem; }
        .badge { display: inline-block; white-space: nowrap; padding: .05rem .45rem; border-radius: 4px; font-size: .85rem; font-weight: bold; color: #fff; }
        .badge.v-reproduced { background: #2e7d32; } tr.v-reproduced td:last-child { background: #e8f5e9; }
        .badge.v-corrected { background: #1565c0; } tr.v-corrected td:last-child { background: #e3f0fd; }
        .badge.v-partial { background: #b26a00; } tr.v-partial td:last-child { background: #fff4e0; }
        .badge.v-notreproduced { background: #c62828; } tr.v-notreproduced td:last-child { background: #fdecea; }
        .badge.v-measured { background: #616161; } tr.v-measured td:last-child { background: #f2f2f2; }
        .badge.v-passed { background: #00695c; } tr.v-passed td:last-child { background: #e0f2f1; }
        .badge.v-failed { background: #8e0000; } tr.v-failed td:last-child { background: #fdecea; }
        .ok { color: #2e7d32; font-size: .9rem; } .fail { color: #c62828; font-weight: bold; font-size: .9rem; }
        .meta { color: var(--muted); margin-top: -.3rem; }
        pre.error { background: #fdecea; border-left: 4px solid #c62828; padding: .6rem .8rem; white-space: pre-wrap; }
        figure { margin: 1rem 0 1.6rem; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .8rem; }
        figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
        figcaption { margin-top: .5rem; font-size: .92rem; }
        .file { color: var(--muted); font-size: .8rem; }
        ul.corrections li { margin-bottom: .45rem; }
        footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
        """;
}
