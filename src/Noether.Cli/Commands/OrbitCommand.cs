namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether orbit</c>: orbit dimensions at generic θ (B.6), measured as the numerical rank of M ↦ M̄_θ, next to the
/// corrected closed forms of the SPEC and the paper's eqs. 20–22, over shapes including h &gt; max(m, n), where the
/// paper's eqs. 21–22 are wrong.
/// </summary>
internal static class OrbitCommand
{
    private static readonly Dictionary<string, OrbitGroup> GroupNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gl"] = OrbitGroup.GeneralLinear,
        ["scaling"] = OrbitGroup.PositiveScaling,
        ["orthogonal"] = OrbitGroup.Orthogonal,
    };

    public static Command Create()
    {
        var defaults = new OrbitTableSettings();
        var shapes = ListOptions.Shapes("--shapes", "Shapes (m, h, n) written m×h×n, comma-separated (h ≤ 100: the rank is an SVD over dim 𝔤 = h² columns).", [.. defaults.Shapes], maxHidden: 100);
        var groups = new Option<string[]>("--groups")
        {
            Description = "Groups: gl (eq. 20), scaling (eq. 21), orthogonal (eq. 22), comma-separated.",
            DefaultValueFactory = _ => ["gl", "scaling", "orthogonal"],
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
        };
        groups.CustomParser = r =>
        {
            var items = r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToArray();
            foreach (var item in items)
                if (!GroupNames.ContainsKey(item)) r.AddError($"--groups: unknown group '{item}'; valid: gl, scaling, orthogonal");
            if (items.Length == 0) r.AddError("--groups: expected at least one of gl, scaling, orthogonal");
            return items;
        };
        var tolerance = ListOptions.UnitInterval("--tolerance", "Rank cut: singular values ≤ tolerance × the largest count as zero.", defaults.RelativeTolerance);
        var run = RunOptions.Sweep("results/orbit");

        var command = run.Command("orbit", "Orbit dimensions at generic θ (rank of M ↦ M̄θ) against the corrected closed forms and the paper's eqs. 20–22 (wrong for h > max(m, n)).",
            shapes, groups, tolerance);
        CliAction.Set(command, (parse, token) =>
        {
            var settings = new OrbitTableSettings
            {
                Shapes = parse.GetValue(shapes)!.Distinct().ToArray(),
                Groups = parse.GetValue(groups)!.Select(g => GroupNames[g]).Distinct().ToArray(),
                RelativeTolerance = parse.GetValue(tolerance),
                Seed = parse.GetValue(run.Seed),
                Shard = run.ShardOf(parse),
            };
            return run.Write(parse, token, outDir =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Orbit dimensions at a generic (Gaussian) θ per shape: numerical rank with relative tolerance {Format.Sci(settings.RelativeTolerance)}, seed {settings.Seed}"));
                var clock = Stopwatch.StartNew();
                var result = ExperimentConsole.Run("orbit", (p, t) => OrbitTableExperiment.Run(settings, p, t), token);
                OrbitWriter.Write(outDir, result, clock.Elapsed);
                if (settings.Shard is { } part)
                    ShardOutput.Complete(outDir, "orbit", null, part, OrbitTableExperiment.GridSize(settings), settings, null, result.Rows, ["orbit.csv"], clock.Elapsed);
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
