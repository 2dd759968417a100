using Noether.Symmetry;
using static Noether.Cli.Output.Format;

namespace Noether.Cli.Output;

/// <summary>The files, claims and table of <c>noether discover</c>.</summary>
internal static class DiscoverWriter
{
    /// <summary>The answer derived by hand (<see cref="SymmetryDiscovery"/>'s remarks).</summary>
    private static string Known(DiscoveredAlgebra a) => a.Activation switch
    {
        "identity" => "gl(h): h², B = −A",
        "relu" => "diagonal: h",
        var s when s.StartsWith("leaky-relu", StringComparison.Ordinal) => "diagonal: h",
        "sigmoid" or "tanh" => "none: 0",
        "radial 1/(1+r)" => "so(h): h(h−1)/2",
        "radial 1/r²" => "so(h) ⊕ ℝ: h(h−1)/2 + 1",
        _ => "–",
    };

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
                known = Known(a),
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
            claims = Claims(result),
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
                a.KnownDimension?.ToString(CultureInfo.InvariantCulture) ?? "–", ExperimentConsole.Verdict(a.MatchesKnown()), Markup.Escape(a.Structure()), Markup.Escape(Known(a)),
                a.LastKeptRelative() is { } kept ? Sci(kept) : "–", a.FirstNullRelative() is { } dropped ? Sci(dropped) : "–", residual);
        }
        table.Caption(Markup.Escape($"s: singular values of the normalised constraint matrix (rank cut {Sci(result.Settings.Options.RelativeTolerance)}); residual over fresh (θ, X, Y) for every basis element (verdict ≤ 1e-9)."));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"{result.Algebras.Count(a => a.MatchesKnown())}/{result.Algebras.Count} dimensions match the known answer; wall {elapsed.TotalSeconds:F1} s; wrote discover.csv, discover-basis.csv, summary.json, discover.png to {outDir}"));
    }

    private static double[][] Rows(Noether.Tensors.Tensor<double> m, int h) =>
        Enumerable.Range(0, h).Select(i => Enumerable.Range(0, h).Select(j => m[i, j]).ToArray()).ToArray();

    private static string Meaning(DiscoveredAlgebra a) => a.Activation switch
    {
        "identity" => "GL(h) acts on a layer pair; its Lie algebra gl(h) has dimension h², generators (A, B) with B = −A.",
        "relu" => "positive diagonal scaling acts; the algebra is the diagonal matrices, dimension h.",
        var s when s.StartsWith("leaky-relu", StringComparison.Ordinal) => "positive diagonal scaling acts (homogeneous of degree 1); the algebra is the diagonal matrices, dimension h.",
        "sigmoid" or "tanh" => "no continuous linear symmetry acts on a layer pair: dimension 0.",
        "radial 1/(1+r)" => "O(h) acts (radial rescaling); the algebra is so(h), dimension h(h−1)/2.",
        "radial 1/r²" => "O(h) and a rescaling act; the algebra is so(h) ⊕ ℝ, dimension h(h−1)/2 + 1.",
        _ => $"the linear symmetries of a layer pair: {Known(a)}.",
    };

    // The report contract: per activation, the numerically found algebra against the groups of B.2–B.5 (Prop. 2).
    private static List<Claim> Claims(DiscoverResult result)
    {
        var claims = new List<Claim>();
        foreach (var group in result.Algebras.GroupBy(a => a.Activation))
        {
            var algebras = group.ToArray();
            var a0 = algebras[0];
            bool known = algebras.All(a => a.KnownDimension is not null);
            string source = a0.Activation switch
            {
                "identity" => "B.2, Prop. 2",
                "relu" => "B.3, Prop. 2",
                var s when s.StartsWith("leaky-relu", StringComparison.Ordinal) => "B.3, Prop. 2",
                var s when s.StartsWith("radial", StringComparison.Ordinal) => "B.4, Prop. 2",
                _ => "B.5",
            };
            string measured = "dimension for h = " + string.Join(", ", algebras.Select(a => a.Width)) + ": " + string.Join(", ", algebras.Select(a => a.Dimension)) +
                (known ? $" (known: {string.Join(", ", algebras.Select(a => a.KnownDimension))})" : "") + $"; basis: {algebras[^1].Structure()}";
            claims.Add(SymmetryClaims.DiscoverAlgebra.Make(algebras.Select(a => new double[] { a.KnownDimension is null ? 0 : 1, a.MatchesKnown() && a.IsInvariant() ? 1 : 0 }).ToArray(), measured,
                "found numerically as the null space of ⟨∇_U L, UA⟩ + ⟨∇_V L, BV⟩ = 0 over random (θ, X, Y); each basis element re-checked on fresh data (≤ 1e-9)",
                idPart: System.Text.RegularExpressions.Regex.Replace(a0.Activation.ToLowerInvariant(), "[^a-z0-9.]+", "-").Trim('-'),
                statement: $"σ = {a0.Activation}: {Meaning(a0)}", predicted: Known(a0)) with { Source = source });
        }
        return claims;
    }
}
