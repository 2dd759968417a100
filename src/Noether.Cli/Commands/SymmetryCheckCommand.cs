using Noether.Nn;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether symmetry-check</c>: on a user-chosen MLP (widths n₀, …, n_L, one hidden activation), checks the linear group
/// action of σ (loss invariance, eq. 1, under the product action of eqs. 17–18; ⟨∇L, M̄_θ⟩ = 0, Prop. 5) and the
/// data-dependent action of Prop. 8 on one hidden layer (output kept on its batch, changed elsewhere, composition law
/// eq. 16, conditioning), then sweeps ε of g = I + εM to show how the conditioning of σ(gZ) grows.
/// </summary>
internal static class SymmetryCheckCommand
{
    private static readonly double[] SweepEpsilons = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1];

    public static Command Create()
    {
        var defaults = new SymmetryCheckSettings();
        var arch = new Option<int[]>("--arch")
        {
            Description = "Widths n₀,n₁,…,n_L of the MLP (at least three: input, a hidden layer, output), e.g. 8,6,5,3.",
            DefaultValueFactory = _ => [.. defaults.Widths],
            HelpName = "n0,n1,…,nL",
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
        };
        arch.CustomParser = r =>
        {
            string text = string.Join(",", r.Tokens.Select(t => t.Value));
            var parts = text.Split(',', StringSplitOptions.TrimEntries);
            var widths = new List<int>();
            foreach (var p in parts)
            {
                if (!int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int w) || w <= 0 || w > 4096)
                {
                    r.AddError($"--arch: '{text}' is not a list of widths such as 8,6,5,3 ('{p}' is not a positive integer ≤ 4096)");
                    return [];
                }
                widths.Add(w);
            }
            if (widths.Count < 3) r.AddError($"--arch: '{text}' has {widths.Count} width(s); an MLP needs at least n₀,n₁,n₂ (input, one hidden layer, output)");
            return widths.ToArray();
        };
        var activation = new Option<string>("--activation") { Description = "Hidden activation: " + ListOptions.ActivationNames + ".", DefaultValueFactory = _ => defaults.Activation };
        activation.Validators.Add(r =>
        {
            if (!r.TryGet(out string? text)) return;
            string name = text ?? "";
            try { Activation.Parse(name); }
            catch (ArgumentException) { r.AddError($"--activation: unknown activation '{name}'; valid: {ListOptions.ActivationNames}"); }
        });
        var batch = CommonOptions.PositiveInt("--batch-size", "Samples per batch k (the nonlinear action needs k ≤ the width of its layer).", defaults.BatchSize);
        var draws = CommonOptions.PositiveInt("--draws", "Random (θ, X, Y, g) draws.", defaults.Draws);
        var scale = CommonOptions.PositiveDouble("--group-scale", "Linear group elements are exp(scale·M), M random in each layer's algebra.", defaults.GroupScale)
            .Bounded(double.Epsilon, 100, "exp(scale·M) overflows float64 beyond");
        var epsilon = CommonOptions.PositiveDouble("--epsilon", "The nonlinear action uses g = I + εM, M with N(0, 1) entries.", defaults.NonlinearEpsilon)
            .Bounded(double.Epsilon, 1e4, "larger ε makes g = I + εM so far from I that the checks lose every digit");
        var layer = new Option<int?>("--layer") { Description = "Hidden layer i (1 … L−1) the nonlinear action acts on (default: the last)." };
        var weightScale = CommonOptions.PositiveDouble("--weight-scale", "Weight entries ~ N(0, (scale/√fan-in)²).", defaults.WeightScale)
            .Bounded(double.Epsilon, 1e6, "the outputs grow like scale^depth and overflow float64 beyond");
        var noSweep = new Option<bool>("--no-sweep") { Description = "Skip the ε sweep of the nonlinear action (and its figure)." };
        var run = RunOptions.Single("results/symmetry-check");

        var command = run.Command("symmetry-check", "Check the symmetries of a user-chosen MLP: loss invariance and ⟨∇L, M̄θ⟩ = 0 for σ's linear group, and the nonlinear action of Prop. 8 (kept output, composition law, condition numbers).",
            arch, activation, batch, draws, scale, epsilon, layer, weightScale, noSweep);
        CliAction.Set(command, (parse, token) =>
        {
            // Cross-option checks before --out is touched.
            var widths = parse.GetValue(arch)!;
            int hidden = widths.Length - 2;
            int chosen = parse.GetValue(layer) ?? hidden;
            if (chosen < 1 || chosen > hidden)
                throw Errors.Argument("--layer", $"--layer must be a hidden layer between 1 and {hidden} for --arch {string.Join(",", widths)} (got {chosen})");
            int k = parse.GetValue(batch);
            if (k > widths[chosen])
                throw Errors.Argument("--batch-size", $"--batch-size: the nonlinear action on hidden layer {chosen} (width {widths[chosen]}) needs k ≤ {widths[chosen]} samples per batch (got {k}); Prop. 8 keeps the output only when σ(gZ) has full column rank k ≤ h");
            var settings = new SymmetryCheckSettings
            {
                Widths = widths,
                Activation = parse.GetValue(activation)!,
                BatchSize = parse.GetValue(batch),
                Draws = parse.GetValue(draws),
                GroupScale = parse.GetValue(scale),
                NonlinearEpsilon = parse.GetValue(epsilon),
                NonlinearLayer = parse.GetValue(layer),
                WeightScale = parse.GetValue(weightScale),
                Seed = parse.GetValue(run.Seed),
            };
            bool sweep = !parse.GetValue(noSweep);
            return run.Write(parse, token, outDir =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Symmetry check of the MLP {string.Join("→", settings.Widths)} with σ = {Activation.Parse(settings.Activation).Name}: {settings.Draws} draws, batch k = {settings.BatchSize}, seed {settings.Seed}"));
                var clock = Stopwatch.StartNew();
                var epsilons = sweep ? SweepEpsilons : [];
                var (main, swept) = ExperimentConsole.Run("symmetry-check", (p, t) =>
                {
                    int runs = 1 + epsilons.Length;
                    var main = SymmetryCheckExperiment.Run(settings, Scaled(p, 0, runs), t);
                    var swept = epsilons.Select((e, i) => SymmetryCheckExperiment.Run(settings with { NonlinearEpsilon = e }, Scaled(p, i + 1, runs), t)).ToArray();
                    return (main, swept);
                }, token);
                SymmetryCheckWriter.Write(outDir, main, swept, clock.Elapsed);
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    // Progress of run `index` of `runs` as a fraction of the whole command.
    private static IProgress<ExperimentProgress> Scaled(IProgress<ExperimentProgress> outer, int index, int runs) =>
        new InlineProgress<ExperimentProgress>(p => outer.Report(new ExperimentProgress(index == 0 ? p.Stage : $"ε sweep {index}/{runs - 1}",
            (long)Math.Round((index + p.Fraction) * 1000), runs * 1000L)));
}
