using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Experiments;
using Noether.Serialization;
using Noether.Symmetry;
using ScottPlot;
using Spectre.Console;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether discover</c>: the paper's "general framework for finding continuous symmetries", numerically. For a layer
/// pair with activation σ, the Lie algebra of linear actions (U, V) ↦ (U + tUA, V + tBV) that leave the loss invariant
/// for all θ and data is the null space of ⟨Uᵀ∇_U L, A⟩ + ⟨∇_V L Vᵀ, B⟩ = 0 over many random (θ, X, Y); its dimension
/// and basis are reported next to the dimension derived by hand.
/// </summary>
internal static class DiscoverCommand
{
    private const double InvarianceLimit = 1e-9;
    private const double StructureLimit = 1e-6;

    public static Command Create()
    {
        var defaults = new DiscoverSettings();
        var activation = ListOptions.Activations("--activation", "Activations σ, comma-separated: " + ListOptions.ActivationNames + ".", [.. defaults.Activations], elementwiseOnly: false);
        activation.Aliases.Add("--activations");
        var widths = ListOptions.PositiveInts("--widths", "Hidden widths h, comma-separated (h ≤ 16: the SVD has 2h² unknowns).", [.. defaults.Widths], max: 16);
        var samples = new Option<int?>("--samples") { Description = "Random (θ, X, Y) constraints per algebra (default 3·2h² + 20; at least 2h²)." };
        samples.Validators.Add(r => { if (r.TryGet(out int? v) && v is <= 0) r.AddError($"--samples must be a positive integer (got {v})"); });
        var tolerance = ListOptions.UnitInterval("--tolerance", "Rank cut: singular values ≤ tolerance × the largest span the null space.", SymmetryDiscovery.DefaultTolerance);
        var seed = CommonOptions.Seed();
        var output = CommonOptions.Out("results/discover");
        var force = CommonOptions.Force();

        var command = new Command("discover", "Discover numerically the Lie algebra of linear symmetries (U, V) ↦ (U + tUA, V + tBV) of a layer pair with activation σ; dimension and basis next to the known answer.")
        {
            activation, widths, samples, tolerance, seed, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            var h = parse.GetValue(widths)!.Distinct().ToArray();
            if (parse.GetValue(samples) is { } s && s < 2 * h.Max() * h.Max())
                throw new ArgumentException($"--samples: {s} constraints are fewer than the 2h² = {2 * h.Max() * h.Max()} unknowns for h = {h.Max()}");
            var settings = new DiscoverSettings
            {
                Activations = parse.GetValue(activation)!.Distinct().ToArray(),
                Widths = h,
                Options = new DiscoveryOptions(Samples: parse.GetValue(samples) ?? 0, RelativeTolerance: parse.GetValue(tolerance)),
                Seed = parse.GetValue(seed),
            };
            string outDir = ExperimentConsole.PrepareOutput(parse.GetValue(output)!, parse.GetValue(force), out bool created);
            return Task.FromResult(ExperimentConsole.WithOutput(outDir, created, () =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Discovering the symmetry algebra of (U, V) ↦ (U + tUA, V + tBV) for σ ∈ {{{string.Join(", ", settings.Activations)}}}, h ∈ {{{string.Join(", ", settings.Widths)}}}; rank tolerance {ExperimentConsole.Sci(settings.Options.RelativeTolerance)}, seed {settings.Seed}"));
                var clock = Stopwatch.StartNew();
                var result = ExperimentConsole.Run("discover", (p, t) => DiscoverExperiment.Run(settings, p, t), token);
                Write(outDir, result, clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    /// <summary>The structure the basis shows, read from the residuals the library measures.</summary>
    private static string Structure(DiscoveredAlgebra a)
    {
        if (a.Dimension == 0) return "{0}: no continuous symmetry";
        var parts = new List<string> { a.MaxPairResidual <= StructureLimit ? "A = −B" : "A + B ≠ 0" };
        if (a.MaxOffDiagonal <= StructureLimit) parts.Add("B diagonal");
        else if (a.MaxSymmetricTraceless <= StructureLimit) parts.Add(a.MaxPairResidual <= StructureLimit ? "B antisymmetric" : "B antisymmetric + cI");
        else parts.Add("B general");
        return string.Join(", ", parts);
    }

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

    private static bool Matches(DiscoveredAlgebra a) => a.KnownDimension is not { } k || k == a.Dimension;

    private static bool Invariant(DiscoveredAlgebra a) => a.Dimension == 0 || a.MaxInvarianceResidual <= InvarianceLimit;

    private static void Write(string outDir, DiscoverResult result, TimeSpan elapsed)
    {
        var csv = new CsvTable("activation", "h", "dimension", "known_dimension", "matches_known", "structure", "constraints", "relative_tolerance", "gap",
            "max_invariance_residual", "invariance_within_1e-9", "max_pair_residual", "max_off_diagonal", "max_symmetric_traceless");
        foreach (var a in result.Algebras)
            csv.AddRow(a.Activation, a.Width, a.Dimension, a.KnownDimension, Matches(a), Structure(a), a.Constraints, a.RelativeTolerance, a.Gap,
                a.MaxInvarianceResidual, Invariant(a), a.MaxPairResidual, a.MaxOffDiagonal, a.MaxSymmetricTraceless);
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
                matchesKnown = Matches(a),
                known = Known(a),
                structure = Structure(a),
                constraints = a.Constraints,
                relativeTolerance = a.RelativeTolerance,
                gap = a.Gap,
                lastKeptRelativeSingularValue = LastKept(a),
                firstNullRelativeSingularValue = FirstNull(a),
                maxInvarianceResidual = a.MaxInvarianceResidual,
                invarianceWithin1e9 = Invariant(a),
                maxPairResidual = a.MaxPairResidual,
                maxOffDiagonal = a.MaxOffDiagonal,
                maxSymmetricTraceless = a.MaxSymmetricTraceless,
                singularValues = a.SingularValues,
                basis = a.Basis.Select(g => new { a = Rows(g.A, a.Width), b = Rows(g.B, a.Width) }),
            }),
            allMatchKnown = result.AllMatchKnown,
            allInvariant = result.Algebras.All(Invariant),
            wallSeconds = elapsed.TotalSeconds,
            claims = Claims(result),
            figures = new[]
            {
                new FigureRef("discover.png", null, "Singular values of the symmetry constraint matrix, one panel per width h, one curve per activation: the number of values below the rank cut is the dimension of the Lie algebra of symmetries found."),
            },
        });

        Draw(result, Path.Combine(outDir, "discover.png"));

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape("Discovered symmetry algebras vs the known answer"))
            .AddColumn("σ").AddColumn(new TableColumn("h").RightAligned()).AddColumn(new TableColumn("dimension").RightAligned())
            .AddColumn(new TableColumn("known").RightAligned()).AddColumn("matches").AddColumn("structure of the basis").AddColumn("known answer")
            .AddColumn(new TableColumn("last kept s/s_max").RightAligned()).AddColumn(new TableColumn("first null s/s_max").RightAligned())
            .AddColumn(new TableColumn("max |⟨∇L, (UA, BV)⟩| rel.").RightAligned());
        foreach (var a in result.Algebras)
        {
            string residual = a.Dimension == 0 ? "–" : (Invariant(a) ? "" : "[red]") + ExperimentConsole.Sci(a.MaxInvarianceResidual) + (Invariant(a) ? "" : "[/]");
            table.AddRow(Markup.Escape(a.Activation), a.Width.ToString(CultureInfo.InvariantCulture), a.Dimension.ToString(CultureInfo.InvariantCulture),
                a.KnownDimension?.ToString(CultureInfo.InvariantCulture) ?? "–", ExperimentConsole.Verdict(Matches(a)), Markup.Escape(Structure(a)), Markup.Escape(Known(a)),
                LastKept(a) is { } kept ? ExperimentConsole.Sci(kept) : "–", FirstNull(a) is { } dropped ? ExperimentConsole.Sci(dropped) : "–", residual);
        }
        table.Caption(Markup.Escape($"s: singular values of the normalised constraint matrix (rank cut {ExperimentConsole.Sci(result.Settings.Options.RelativeTolerance)}); residual over fresh (θ, X, Y) for every basis element (verdict ≤ 1e-9)."));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"{result.Algebras.Count(Matches)}/{result.Algebras.Count} dimensions match the known answer; wall {elapsed.TotalSeconds:F1} s; wrote discover.csv, discover-basis.csv, summary.json, discover.png to {outDir}"));
    }

    // s_rank / s_max and s_(rank+1) / s_max: how far the spectrum sits from the rank cut on either side.
    private static double? LastKept(DiscoveredAlgebra a)
    {
        int rank = a.SingularValues.Length - a.Dimension;
        return rank > 0 && a.SingularValues[0] > 0 ? a.SingularValues[rank - 1] / a.SingularValues[0] : null;
    }

    private static double? FirstNull(DiscoveredAlgebra a)
    {
        int rank = a.SingularValues.Length - a.Dimension;
        return a.Dimension > 0 && a.SingularValues[0] > 0 ? a.SingularValues[rank] / a.SingularValues[0] : null;
    }

    private static double[][] Rows(Noether.Tensors.Tensor<double> m, int h) =>
        Enumerable.Range(0, h).Select(i => Enumerable.Range(0, h).Select(j => m[i, j]).ToArray()).ToArray();

    // One panel per h: log10(s_i / s_max) of the constraint matrix per σ, smallest first on the right; the null space is
    // everything below the tolerance line.
    private static void Draw(DiscoverResult result, string path)
    {
        var plots = new List<Plot>();
        var names = result.Settings.Activations.Select(n => Activation.Parse(n).Name).ToList();
        foreach (var group in result.Algebras.GroupBy(a => a.Width))
        {
            int h = group.Key;
            var plot = Figure.Create($"Constraint spectrum, h = {h} (2h² = {2 * h * h} unknowns)", "index i of the singular value (largest first)", "log10 (s_i / s_max)");
            var algebras = group.ToArray();
            for (int k = 0; k < algebras.Length; k++)
            {
                var a = algebras[k];
                double max = a.SingularValues.Length > 0 ? a.SingularValues[0] : 1;
                var x = new List<double>();
                var y = new List<double>();
                for (int i = 0; i < a.SingularValues.Length; i++)
                {
                    // Exact zeros have no logarithm: show them at the floor of double precision.
                    x.Add(i + 1);
                    y.Add(Math.Log10(Math.Max(a.SingularValues[i] / max, 1e-18)));
                }
                int color = names.IndexOf(a.Activation);
                // Spectra of equal null-space dimension (ReLU and LeakyReLU) coincide: widen the earlier one so both show.
                float width = algebras.Skip(k + 1).Any(b => b.Dimension == a.Dimension) ? 5f : 2f;
                Panels.Line(plot, x.ToArray(), y.ToArray(), Panels.Palette[Math.Max(0, color) % Panels.Palette.Length], $"{a.Activation}: dim {a.Dimension}", width);
            }
            var cut = plot.Add.HorizontalLine(Math.Log10(result.Settings.Options.RelativeTolerance), 1.5f, Colors.Black, LinePattern.Dashed);
            cut.LegendText = "rank tolerance";
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.ShowLegend(Alignment.LowerLeft);
            plots.Add(plot);
        }
        Panels.Save(plots, Panels.Columns(plots.Count), path, 620, 460);
    }

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
                (known ? $" (known: {string.Join(", ", algebras.Select(a => a.KnownDimension))})" : "") + $"; basis: {Structure(algebras[^1])}";
            claims.Add(SymmetryClaims.DiscoverAlgebra.Make(algebras.Select(a => new double[] { a.KnownDimension is null ? 0 : 1, Matches(a) && Invariant(a) ? 1 : 0 }).ToArray(), measured,
                "found numerically as the null space of ⟨∇_U L, UA⟩ + ⟨∇_V L, BV⟩ = 0 over random (θ, X, Y); each basis element re-checked on fresh data (≤ 1e-9)",
                idPart: System.Text.RegularExpressions.Regex.Replace(a0.Activation.ToLowerInvariant(), "[^a-z0-9.]+", "-").Trim('-'),
                statement: $"σ = {a0.Activation}: {Meaning(a0)}", predicted: Known(a0)) with { Source = source });
        }
        return claims;
    }
}
