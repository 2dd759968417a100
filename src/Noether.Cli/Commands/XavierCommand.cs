namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether xavier</c>: Figs. 4–5 (Appendix E). The distribution of Q under Xavier initialisation U_ij ~ N(0, 1/h),
/// V_ij ~ N(0, 1/n): for linear layers Q = ½Tr[UᵀU − VVᵀ] with E[Q] = ½(m − h) (the paper's eq. 47 prints m − h) and
/// Var[Q] = ½(m/h + h/n); for elementwise σ the eq. 48 form at m = h = n = 100, against the moments derived in
/// <see cref="XavierDistribution"/>. Verdicts: |z| ≤ 3 for the mean and for the variance.
/// </summary>
internal static class XavierCommand
{
    /// <summary>One row of xavier-draws.csv in memory (a string[7] and its seven strings), measured: see docs/reliability.md.</summary>
    private const int XavierDrawRowBytes = 300;

    public static Command Create()
    {
        var draws = new Option<int>("--draws") { Description = "Independent Xavier draws per tuple (paper: 1000).", DefaultValueFactory = _ => 1000 };
        draws.Validators.Add(r => { if (r.TryGet(out int v) && v < 2) r.AddError($"--draws must be an integer ≥ 2 (got {v})"); });
        var defaults = new XavierSettings();
        var shapes = ListOptions.Shapes("--shapes", "Fig. 4 tuples (m, h, n) of the linear network, written m×h×n, comma-separated.", [.. defaults.Shapes]);
        var activations = ListOptions.Activations("--activations", "Fig. 5 activations (elementwise σ, eq. 48 form), comma-separated.", [.. defaults.Activations], elementwiseOnly: true);
        var integralShape = ListOptions.Shape("--integral-shape", "Fig. 5 shape m×h×n (paper: 100x100x100).", defaults.IntegralFormShape);
        var bins = new Option<int>("--bins") { Description = "Histogram bins.", DefaultValueFactory = _ => 40 };
        bins.Validators.Add(r => { if (r.TryGet(out int b) && (b < 2 || b > 1000)) r.AddError($"--bins must be an integer between 2 and 1000 (got {b})"); });
        var run = RunOptions.Sweep("results/xavier");

        var command = run.Command("xavier", "Figs. 4–5: Q under Xavier initialisation: histograms, measured mean against ½(m − h) (and the paper's m − h), variance against ½(m/h + h/n); the eq. 48 form per σ.",
            draws, shapes, activations, integralShape, bins);
        CliAction.Set(command, (parse, token) =>
        {
            var settings = new XavierSettings
            {
                Draws = parse.GetValue(draws),
                Shapes = parse.GetValue(shapes)!,
                Activations = parse.GetValue(activations)!,
                IntegralFormShape = parse.GetValue(integralShape),
                Seed = parse.GetValue(run.Seed),
                Shard = run.ShardOf(parse),
            };
            int binCount = parse.GetValue(bins);
            int samples = settings.Shapes.Count + settings.Activations.Count;
            MemoryBudget.Check($"--draws {settings.Draws}", MemoryEstimate.Xavier(settings.Draws, samples, XavierDrawRowBytes));
            return run.Write(parse, token, outDir =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Q under Xavier initialisation U ~ N(0, 1/h), V ~ N(0, 1/n): {settings.Draws} draws per tuple, seed {settings.Seed}"));
                var clock = Stopwatch.StartNew();
                var result = ExperimentConsole.Run("xavier", (p, t) => XavierExperiment.Run(settings, p, t), token);
                XavierWriter.Write(outDir, result, binCount, clock.Elapsed);
                if (settings.Shard is { } part)
                    ShardOutput.Complete(outDir, "xavier", null, part, XavierExperiment.GridSize(settings), settings, new { bins = binCount },
                        [.. result.Linear, .. result.IntegralForms], ["xavier.csv", "xavier-draws.csv"], clock.Elapsed);
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
