using Noether.Symmetry;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether discover</c>: the paper's "general framework for finding continuous symmetries", numerically. For a layer
/// pair with activation σ, the Lie algebra of linear actions (U, V) ↦ (U + tUA, V + tBV) that leave the loss invariant
/// for all θ and data is the null space of ⟨Uᵀ∇_U L, A⟩ + ⟨∇_V L Vᵀ, B⟩ = 0 over many random (θ, X, Y); its dimension
/// and basis are reported next to the dimension derived by hand.
/// </summary>
internal static class DiscoverCommand
{
    public static Command Create()
    {
        var defaults = new DiscoverSettings();
        var activation = ListOptions.Activations("--activation", "Activations σ, comma-separated: " + ListOptions.ActivationNames + ".", [.. defaults.Activations], elementwiseOnly: false);
        activation.Aliases.Add("--activations");
        var widths = ListOptions.PositiveInts("--widths", "Hidden widths h, comma-separated (h ≤ 16: the SVD has 2h² unknowns).", [.. defaults.Widths], max: 16);
        var samples = new Option<int?>("--samples") { Description = "Random (θ, X, Y) constraints per algebra (default 3·2h² + 20; at least 2h²)." };
        samples.Validators.Add(r => { if (r.TryGet(out int? v) && v is <= 0) r.AddError($"--samples must be a positive integer (got {v})"); });
        var tolerance = ListOptions.UnitInterval("--tolerance", "Rank cut: singular values ≤ tolerance × the largest span the null space.", SymmetryDiscovery.DefaultTolerance);
        var run = RunOptions.Single("results/discover");

        var command = run.Command("discover", "Discover numerically the Lie algebra of linear symmetries (U, V) ↦ (U + tUA, V + tBV) of a layer pair with activation σ; dimension and basis next to the known answer.",
            activation, widths, samples, tolerance);
        CliAction.Set(command, (parse, token) =>
        {
            var h = parse.GetValue(widths)!.Distinct().ToArray();
            if (parse.GetValue(samples) is { } s && s < 2 * h.Max() * h.Max())
                throw Errors.Argument("--samples", $"--samples: {s} constraints are fewer than the 2h² = {2 * h.Max() * h.Max()} unknowns for h = {h.Max()}");
            if (parse.GetValue(samples) is { } given)
            {
                MemoryBudget.Check($"--samples {given}", MemoryEstimate.Discover(given, h.Max()));
            }
            var settings = new DiscoverSettings
            {
                Activations = parse.GetValue(activation)!.Distinct().ToArray(),
                Widths = h,
                Options = new DiscoveryOptions(Samples: parse.GetValue(samples) ?? 0, RelativeTolerance: parse.GetValue(tolerance)),
                Seed = parse.GetValue(run.Seed),
            };
            return run.Write(parse, token, outDir =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Discovering the symmetry algebra of (U, V) ↦ (U + tUA, V + tBV) for σ ∈ {{{string.Join(", ", settings.Activations)}}}, h ∈ {{{string.Join(", ", settings.Widths)}}}; rank tolerance {Format.Sci(settings.Options.RelativeTolerance)}, seed {settings.Seed}"));
                var clock = Stopwatch.StartNew();
                var result = ExperimentConsole.Run("discover", (p, t) => DiscoverExperiment.Run(settings, p, t), token);
                DiscoverWriter.Write(outDir, result, clock.Elapsed);
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
