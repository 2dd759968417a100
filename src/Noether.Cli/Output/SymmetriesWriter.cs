using Noether.Symmetry.Census;
using static Noether.Experiments.Format;

namespace Noether.Cli.Output;

/// <summary>The files and tables of <c>noether symmetries</c>.</summary>
internal static class SymmetriesWriter
{
    private static string Status(SiteCheck s) => s.Site.Exact ? (s.Passed ? "verified" : "FAILED")
        : s.Passed ? "approximate: verified at ε = 0" : "approximate: FAILED at ε = 0";

    private static string Discovery(DiscoveryCheck d) => !d.Checked ? "not checked" : d.Agrees ? (d.ClearGap ? "agrees" : "agrees (no clear gap)") : "FINDING";

    // "64 of 64" when the census's dimension in the site's family differs from the site's own (another site's directions lie in the family).
    private static string Discovered(DiscoveryCheck? d) => d is null ? "" : !d.Checked ? "—"
        : d.CensusDimension == d.Site.Dimension ? d.Discovered.ToString(CultureInfo.InvariantCulture)
        : FormattableString.Invariant($"{d.Discovered} of {d.CensusDimension}");

    /// <summary>Prints the census, its checks and the orbit dimension.</summary>
    public static void Print(string path, SymmetryCensus census, CensusVerificationResult check, CensusDiscoveryResult? discovery, bool synthetic, int n)
    {
        ExperimentConsole.Line($"{path}: symmetry census ({census.Sites.Count} sites, dimension {census.Dimension}); checked in float64 on {(synthetic ? "a seeded synthetic" : "the given")} batch of {n}, loss {Sci(check.Loss)}");
        if (census.IsEmpty) ExperimentConsole.Line("empty census: no continuous parameter symmetry found");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("#").AddColumn("kind").AddColumn("site").AddColumn("group").AddColumn(new TableColumn("dim").RightAligned())
            .AddColumn("conserved").AddColumn(new TableColumn("invariance").RightAligned()).AddColumn(new TableColumn("⟨∇L,Mθ⟩").RightAligned()).AddColumn("status");
        if (discovery is not null) table.AddColumn(new TableColumn("discovered").RightAligned()).AddColumn("discovery");
        for (int i = 0; i < check.Sites.Count; i++)
        {
            var s = check.Sites[i];
            var cells = new List<string>
            {
                (i + 1).ToString(CultureInfo.InvariantCulture), s.Site.Kind.ToString(), Markup.Escape(s.Site.Location), Markup.Escape(s.Site.Group),
                s.Site.Dimension.ToString(CultureInfo.InvariantCulture), Markup.Escape(s.Site.Conserved), Sci(s.Invariance), Sci(s.Orthogonality),
                s.Passed ? $"[green]{Markup.Escape(Status(s))}[/]" : $"[red]{Markup.Escape(Status(s))}[/]",
            };
            if (discovery is not null)
            {
                var d = discovery.Sites[i];
                cells.Add(Discovered(d));
                cells.Add(d.Agrees ? $"[green]{Discovery(d)}[/]" : $"[red]{Discovery(d)}[/]");
            }
            table.AddRow([.. cells]);
        }
        if (check.Sites.Count > 0) ExperimentConsole.Write(table);
        var o = check.Orbit;
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"orbit dimension: rank {o.Rank} of the tangent map vs the census's {o.CensusDimension}; singular-value gap {Sci(o.Gap)}{(o.ClearGap ? "" : " (NO CLEAR GAP: rank decision flagged)")}{(o.Rank == o.CensusDimension ? "" : " — MISMATCH")}"));
        foreach (var d in census.Discrete)
            ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture, $"discrete: permutations of {d.Count} {d.What} at {d.Location} (order {d.Count}! ≈ 10^{d.Log10Order:F1}; no conserved quantity)"));
        foreach (var note in census.Notes) ExperimentConsole.Line($"note: {note}");
        if (discovery is null) return;
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"discovery: {discovery.Sites.Count(d => d.Agrees)} of {discovery.Sites.Count} sites agree with the census ({discovery.Inputs} seeded N(0, 1) inputs at most)"));
        foreach (var f in discovery.Findings) ExperimentConsole.Line($"finding: {f}");
    }

    /// <summary>Writes census.csv, conserved.csv, census.png and summary.json.</summary>
    public static void Write(string outDir, string path, SymmetryCensus census, CensusVerificationResult check, CensusDiscoveryResult? discovery, bool synthetic, int n, int seed)
    {
        var csv = new CsvTable("site", "kind", "location", "group", "dimension", "exact", "conserved", "q_min", "q_mean", "q_max", "invariance", "orthogonality",
            "invariance_eps0", "orthogonality_eps0", "status", "discovered", "discovery_unknowns", "discovery_gap", "discovery", "note");
        var qs = new CsvTable("site", "generator", "q");
        for (int i = 0; i < check.Sites.Count; i++)
        {
            var s = check.Sites[i];
            var d = discovery?.Sites[i];
            csv.AddRow(i + 1, s.Site.Kind.ToString(), s.Site.Location, s.Site.Group, s.Site.Dimension, s.Site.Exact, s.Site.Conserved,
                s.Conserved.Length > 0 ? s.Conserved.Min() : null, s.Conserved.Length > 0 ? s.Conserved.Average() : null, s.Conserved.Length > 0 ? s.Conserved.Max() : null, s.Invariance, s.Orthogonality,
                s.InvarianceWithoutEpsilon, s.OrthogonalityWithoutEpsilon, Status(s),
                Discovered(d), d is { Checked: true } ? d.Unknowns : null, d is { Checked: true } ? d.Gap : null, d is null ? "not run" : Discovery(d), s.Site.Note ?? "");
            for (int g = 0; g < s.Conserved.Length; g++) qs.AddRow(i + 1, s.Site.Generators[g].Name, s.Conserved[g]);
        }
        csv.Save(Path.Combine(outDir, "census.csv"));
        qs.Save(Path.Combine(outDir, "conserved.csv"));

        SymmetriesFigures.Conserved(check, $"Conserved quantities per site: {Path.GetFileName(path)}", Path.Combine(outDir, "census.png"));

        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "symmetries",
            model = path,
            batch = new { size = n, synthetic, seed },
            loss = check.Loss,
            empty = census.IsEmpty,
            dimension = census.Dimension,
            orbit = new { rank = check.Orbit.Rank, census_dimension = check.Orbit.CensusDimension, gap = check.Orbit.Gap, clear_gap = check.Orbit.ClearGap },
            tolerance = CensusVerification.DefaultTolerance,
            all_verified = check.AllPassed,
            sites = check.Sites.Select((s, i) => new
            {
                site = i + 1, kind = s.Site.Kind.ToString(), location = s.Site.Location, group = s.Site.Group, dimension = s.Site.Dimension,
                exact = s.Site.Exact, conserved = s.Site.Conserved, invariance = s.Invariance, orthogonality = s.Orthogonality,
                invariance_eps0 = s.InvarianceWithoutEpsilon, orthogonality_eps0 = s.OrthogonalityWithoutEpsilon, status = Status(s),
                discovery = discovery?.Sites[i] is { } d
                    ? new { status = Discovery(d), discovered = d.Checked ? d.Discovered : (int?)null, census_in_family = d.Checked ? d.CensusDimension : (int?)null, unknowns = d.Unknowns, constraints = d.Constraints,
                        gap = d.Checked ? d.Gap : (double?)null, clear_gap = d.ClearGap, unconstrained = d.Unconstrained, family = d.Family, rounds = d.History.Select(h => new { inputs = h.Inputs, discovered = h.Discovered }).ToArray(),
                        finding = d.Finding }
                    : null,
            }).ToArray(),
            discovery = discovery is null ? null : new { run = true, inputs = discovery.Inputs, all_agree = discovery.AllAgree, findings = discovery.Findings },
            discrete = census.Discrete.Select(d => new { location = d.Location, what = d.What, count = d.Count, log10_order = d.Log10Order }).ToArray(),
            notes = census.Notes,
            law_count = "not computed by this command (see docs/census.md)",
        });
    }
}
