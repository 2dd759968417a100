using Noether.Symmetry.Census;
using static Noether.Experiments.Format;

namespace Noether.Cli.Output;

/// <summary>The files and tables of <c>noether symmetries</c>.</summary>
internal static class SymmetriesWriter
{
    private static string Status(SiteCheck s) => s.Passed ? "verified" : s.Site.Exact ? "FAILED" : "approximate (failed as exact)";

    /// <summary>Prints the census, its checks and the orbit dimension.</summary>
    public static void Print(string path, SymmetryCensus census, CensusVerificationResult check, bool synthetic, int n)
    {
        ExperimentConsole.Line($"{path}: symmetry census ({census.Sites.Count} sites, dimension {census.Dimension}); checked in float64 on {(synthetic ? "a seeded synthetic" : "the given")} batch of {n}, loss {Sci(check.Loss)}");
        if (census.IsEmpty) ExperimentConsole.Line("empty census: no continuous parameter symmetry found");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("#").AddColumn("kind").AddColumn("site").AddColumn("group").AddColumn(new TableColumn("dim").RightAligned())
            .AddColumn("conserved").AddColumn(new TableColumn("invariance").RightAligned()).AddColumn(new TableColumn("⟨∇L,Mθ⟩").RightAligned()).AddColumn("status");
        for (int i = 0; i < check.Sites.Count; i++)
        {
            var s = check.Sites[i];
            table.AddRow((i + 1).ToString(CultureInfo.InvariantCulture), s.Site.Kind.ToString(), Markup.Escape(s.Site.Location), Markup.Escape(s.Site.Group),
                s.Site.Dimension.ToString(CultureInfo.InvariantCulture), Markup.Escape(s.Site.Conserved), Sci(s.Invariance), Sci(s.Orthogonality),
                s.Passed ? "[green]verified[/]" : $"[red]{Markup.Escape(Status(s))}[/]");
        }
        if (check.Sites.Count > 0) ExperimentConsole.Write(table);
        var o = check.Orbit;
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"orbit dimension: rank {o.Rank} of the tangent map vs the census's {o.CensusDimension}; singular-value gap {Sci(o.Gap)}{(o.ClearGap ? "" : " (NO CLEAR GAP: rank decision flagged)")}{(o.Rank == o.CensusDimension ? "" : " — MISMATCH")}"));
        foreach (var d in census.Discrete)
            ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture, $"discrete: permutations of {d.Count} {d.What} at {d.Location} (order {d.Count}! ≈ 10^{d.Log10Order:F1}; no conserved quantity)"));
        foreach (var note in census.Notes) ExperimentConsole.Line($"note: {note}");
    }

    /// <summary>Writes census.csv, conserved.csv, census.png and summary.json.</summary>
    public static void Write(string outDir, string path, SymmetryCensus census, CensusVerificationResult check, bool synthetic, int n, int seed)
    {
        var csv = new CsvTable("site", "kind", "location", "group", "dimension", "exact", "conserved", "q_min", "q_mean", "q_max", "invariance", "orthogonality", "status", "note");
        var qs = new CsvTable("site", "generator", "q");
        for (int i = 0; i < check.Sites.Count; i++)
        {
            var s = check.Sites[i];
            csv.AddRow(i + 1, s.Site.Kind.ToString(), s.Site.Location, s.Site.Group, s.Site.Dimension, s.Site.Exact, s.Site.Conserved,
                s.Conserved.Min(), s.Conserved.Average(), s.Conserved.Max(), s.Invariance, s.Orthogonality, Status(s), s.Site.Note ?? "");
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
                exact = s.Site.Exact, conserved = s.Site.Conserved, invariance = s.Invariance, orthogonality = s.Orthogonality, status = Status(s),
            }).ToArray(),
            discrete = census.Discrete.Select(d => new { location = d.Location, what = d.What, count = d.Count, log10_order = d.Log10Order }).ToArray(),
            notes = census.Notes,
            law_count = "not computed by this command (see docs/census.md)",
        });
    }
}
