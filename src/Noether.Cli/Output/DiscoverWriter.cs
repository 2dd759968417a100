using static Noether.Experiments.Format;

namespace Noether.Cli.Output;

/// <summary>The files, claims and table of <c>noether discover</c>.</summary>
internal static class DiscoverWriter
{
    /// <summary>Writes discover.csv, discover-basis.csv, the figure and summary.json with the claims, and prints the table.</summary>
    public static void Write(string outDir, DiscoverResult result, TimeSpan elapsed)
    {
        var csv = new CsvTable("activation", "h", "dimension", "known_dimension", "matches_known", "structure", "constraints", "relative_tolerance", "gap",
            "max_invariance_residual", "invariance_within_1e-9", "max_pair_residual", "max_off_diagonal", "max_symmetric_traceless");
        foreach (var a in result.Algebras)
            csv.AddRow(a.Activation, a.Width, a.Dimension, a.KnownDimension, a.MatchesKnown(), a.Structure(), a.Constraints, a.RelativeTolerance, a.Gap,
                a.MaxInvarianceResidual, a.IsInvariant(), a.MaxPairResidual, a.MaxOffDiagonal, a.MaxSymmetricTraceless);
        csv.Save(Path.Combine(outDir, "discover.csv"));

        var basis = new CsvTable("activation", "h", "generator", "matrix", "row", "column", "value");
        foreach (var a in result.Algebras)
            for (int g = 0; g < a.Basis.Count; g++)
                foreach (var (name, m) in new[] { ("A", a.Basis[g].A), ("B", a.Basis[g].B) })
                    for (int i = 0; i < a.Width; i++)
                        for (int j = 0; j < a.Width; j++)
                            basis.AddRow(a.Activation, a.Width, g, name, i, j, m[i, j]);
        basis.Save(Path.Combine(outDir, "discover-basis.csv"));

        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "discover",
            settings = new
            {
                result.Settings.Activations,
                result.Settings.Widths,
                samples = result.Settings.Options.Samples == 0 ? "3·2h² + 20" : result.Settings.Options.Samples.ToString(CultureInfo.InvariantCulture),
                result.Settings.Options.RelativeTolerance,
                result.Settings.Seed,
            },
            action = "(U, V) ↦ (U + tUA, V + tBV); a generator (A, B) is a symmetry when ⟨∇_U L, UA⟩ + ⟨∇_V L, BV⟩ = 0 for all θ, X, Y",
            algebras = result.Algebras.Select(a => new
            {
                activation = a.Activation,
                h = a.Width,
                dimension = a.Dimension,
                knownDimension = a.KnownDimension,
                matchesKnown = a.MatchesKnown(),
                known = KnownAlgebra.Of(a.Activation).Answer,
                structure = a.Structure(),
                constraints = a.Constraints,
                relativeTolerance = a.RelativeTolerance,
                gap = a.Gap,
                lastKeptRelativeSingularValue = a.LastKeptRelative(),
                firstNullRelativeSingularValue = a.FirstNullRelative(),
                maxInvarianceResidual = a.MaxInvarianceResidual,
                invarianceWithin1e9 = a.IsInvariant(),
                maxPairResidual = a.MaxPairResidual,
                maxOffDiagonal = a.MaxOffDiagonal,
                maxSymmetricTraceless = a.MaxSymmetricTraceless,
                singularValues = a.SingularValues,
                basis = a.Basis.Select(g => new { a = Rows(g.A, a.Width), b = Rows(g.B, a.Width) }),
            }),
            allMatchKnown = result.AllMatchKnown,
            allInvariant = result.Algebras.All(a => a.IsInvariant()),
            wallSeconds = elapsed.TotalSeconds,
            claims = DiscoverExperiment.Claims(result),
            figures = new[]
            {
                new FigureRef("discover.png", null, "Singular values of the symmetry constraint matrix, one panel per width h, one curve per activation: the number of values below the rank cut is the dimension of the Lie algebra of symmetries found."),
            },
        });

        DiscoverFigures.Spectra(result, Path.Combine(outDir, "discover.png"));

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape("Discovered symmetry algebras vs the known answer"))
            .AddColumn("σ").AddColumn(new TableColumn("h").RightAligned()).AddColumn(new TableColumn("dimension").RightAligned())
            .AddColumn(new TableColumn("known").RightAligned()).AddColumn("matches").AddColumn("structure of the basis").AddColumn("known answer")
            .AddColumn(new TableColumn("last kept s/s_max").RightAligned()).AddColumn(new TableColumn("first null s/s_max").RightAligned())
            .AddColumn(new TableColumn("max |⟨∇L, (UA, BV)⟩| rel.").RightAligned());
        foreach (var a in result.Algebras)
        {
            string residual = a.Dimension == 0 ? "–" : (a.IsInvariant() ? "" : "[red]") + Sci(a.MaxInvarianceResidual) + (a.IsInvariant() ? "" : "[/]");
            table.AddRow(Markup.Escape(a.Activation), a.Width.ToString(CultureInfo.InvariantCulture), a.Dimension.ToString(CultureInfo.InvariantCulture),
                a.KnownDimension?.ToString(CultureInfo.InvariantCulture) ?? "–", ExperimentConsole.Verdict(a.MatchesKnown()), Markup.Escape(a.Structure()), Markup.Escape(KnownAlgebra.Of(a.Activation).Answer),
                a.LastKeptRelative() is { } kept ? Sci(kept) : "–", a.FirstNullRelative() is { } dropped ? Sci(dropped) : "–", residual);
        }
        table.Caption(Markup.Escape($"s: singular values of the normalised constraint matrix (rank cut {Sci(result.Settings.Options.RelativeTolerance)}); residual over fresh (θ, X, Y) for every basis element (verdict ≤ 1e-9)."));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"{result.Algebras.Count(a => a.MatchesKnown())}/{result.Algebras.Count} dimensions match the known answer; wall {elapsed.TotalSeconds:F1} s; wrote discover.csv, discover-basis.csv, summary.json, discover.png to {outDir}"));
    }

    private static double[][] Rows(Noether.Tensors.Tensor<double> m, int h) =>
        Enumerable.Range(0, h).Select(i => Enumerable.Range(0, h).Select(j => m[i, j]).ToArray()).ToArray();
}
