using System.Globalization;
using Noether.Cli.Commands;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Experiments;
using Noether.Landscape;
using Noether.Nn;
using Noether.Serialization;
using Spectre.Console;

namespace Noether.Cli.Output;

/// <summary>The files, claims and tables of <see cref="SharpnessCommand"/>.</summary>
internal static class SharpnessWriter
{
    internal static string G(double v, int digits = 3) => double.IsNaN(v) ? "NaN" : v.ToString("G" + digits, CultureInfo.InvariantCulture);

    private static string Sci(double v) => ExperimentConsole.Sci(v);

    // ---- Fig. 8 and the 1-D network ----------------------------------------------------------------------

    public static void Figure8(string outDir, string profile, SharpnessSpectrumResult r, IReadOnlyList<ScalarSharpnessPoint> scalar, TimeSpan elapsed)
    {
        var s = r.Settings;
        int dim = s.Hidden * (s.Outputs + s.Inputs);
        var spectra = new CsvTable("activation", "std", "q", "index", "eigenvalue");
        foreach (var x in r.Runs)
            for (int i = 0; i < x.Eigenvalues.Length; i++) spectra.AddRow(ConvergeWriter.Name(x.Activation), x.Std, x.Q, i, x.Eigenvalues[i]);
        spectra.Save(Path.Combine(outDir, "sharpness-spectra.csv"));
        var runs = new CsvTable("activation", "std", "q", "final_q", "steps", "final_loss", "gradient_norm", "flat", "fibre_dimension", "median", "mean", "max", "min", "trace", "gauss_newton_error");
        foreach (var x in r.Runs)
            runs.AddRow(ConvergeWriter.Name(x.Activation), x.Std, x.Q, x.FinalQ, x.Steps, x.FinalLoss, x.GradientNorm, x.Summary.Flat, x.FibreDimension, x.Summary.Median, x.Summary.Mean,
                x.Summary.Max, x.Summary.Min, x.Summary.Trace, x.GaussNewtonError);
        runs.Save(Path.Combine(outDir, "sharpness-runs.csv"));
        var oneD = new CsvTable("q", "u", "v", "eigenvalue_0", "eigenvalue_1", "closed_form", "eigenvalue_1_without_half", "max_error");
        foreach (var p in scalar) oneD.AddRow(p.Q, p.U, p.V, p.Eigenvalues[0], p.Eigenvalues[1], p.ClosedForm, p.EigenvaluesWithoutHalf[1], p.MaxError);
        oneD.Save(Path.Combine(outDir, "sharpness-1d.csv"));

        SharpnessFigures.Histograms(r, Path.Combine(outDir, "sharpness-fig8.png"));
        SharpnessFigures.Centres(r, scalar, Path.Combine(outDir, "sharpness-centre.png"));

        var claims = new List<Claim>();
        double oneDError = scalar.Max(p => p.MaxError);
        claims.Add(SharpnessClaims.OneDimensionalEigenvalues.Make([oneDError],
            $"max error {Sci(oneDError)} over {scalar.Count} Q ∈ [{G(scalar.Min(p => p.Q))}, {G(scalar.Max(p => p.Q))}] (both loss forms)",
            "the paper's 2√(Q² + 4) holds for (1 − UV)²; with the ½ of its own eq. 75 the value is √(Q² + 4)"));
        var linear = r.Runs.Where(x => x.Activation == ActivationKind.Identity).ToArray();
        if (linear.Length > 0)
        {
            bool allMatch = linear.All(x => x.Summary.Flat == x.FibreDimension);
            claims.Add(SharpnessClaims.LinearFlatCount.Make(linear.Select(x => new double[] { x.Summary.Flat, x.FibreDimension ?? double.NaN }).ToArray(),
                $"flat counts {string.Join(", ", linear.Select(x => x.Summary.Flat))} against derived {string.Join(", ", linear.Select(x => x.FibreDimension))} (of {dim}); derived at full rank: {LinearMinimum.FibreDimension(s.Outputs, s.Hidden, s.Inputs, Math.Min(s.Outputs, s.Hidden), Math.Min(s.Hidden, s.Inputs))} (paper: 700 of 750)",
                allMatch ? "at a zero-residual minimum H = JᵀJ; its null space is the tangent space of the fibre {UV = Y}" : "a count differs from the derived dimension: that run did not reach the minimum (see gradient_norm)"));
        }
        foreach (var c in r.Correlations)
        {
            bool isLinear = c.Activation == ActivationKind.Identity;
            var mine = r.Runs.Where(x => x.Activation == c.Activation).ToArray();
            string measured = $"ρ(Q, median) = {G(c.MedianVsQ)}, ρ(Q, mean) = {G(c.MeanVsQ)}, ρ(Q, λ_max) = {G(c.MaxVsQ)} over {mine.Length} Q ∈ [{G(mine.Min(x => x.Q))}, {G(mine.Max(x => x.Q))}]";
            claims.Add(isLinear
                ? SharpnessClaims.LinearCentreVsQ.Make([c.MedianVsQ, mine.Length], measured, "U and V share one init std, swept (the paper's setting)")
                : SharpnessClaims.NonlinearCentreVsQ.Measure(measured, idPart: ConvergeWriter.Name(c.Activation)));
        }
        claims.Add(SharpnessClaims.HessianTime.Measure($"{G(r.HessianSeconds * 1000)} ms per {dim}×{dim} Hessian + all eigenvalues (own tridiagonalisation + LAPACK dsterf)"));
        string flatText = string.Join("; ", r.Runs.GroupBy(x => x.Activation).Select(g => $"{ConvergeWriter.Name(g.Key)} {string.Join("/", g.Select(x => x.Summary.Flat).Distinct())}"));
        string centreText = string.Join(", ", r.Correlations.Select(c => $"{ConvergeWriter.Name(c.Activation)} {G(c.MedianVsQ, 2)}"));

        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "sharpness",
            profile,
            mode = "fig8",
            claims,
            figures = new[]
            {
                new FigureRef("sharpness-fig8.png", "Fig. 8",
                    $"Histograms of log10 of the Hessian eigenvalues with |λ| > {G(s.FlatThreshold)} at the GD-trained point, one curve per init std (Q in the legend), one panel per σ; the flat eigenvalues are counted in the legend, not drawn. Measured flat counts (of {dim}): {flatText}."),
                new FigureRef("sharpness-centre.png", "Fig. 8 / eq. 77",
                    $"Left: median of the curved Hessian eigenvalues against Q per σ (measured Spearman ρ: {centreText}). Right: the 1-D network's nonzero eigenvalue at the minimum against Q, measured (dots) against √(Q² + 4) (line); largest gap {Sci(oneDError)}."),
            },
            loss = "Hessian of ½‖Y − U σ(VX)‖²_F; GD on " + (s.MeanReduced ? "‖Y − F‖²/(m·k) (the authors' MSELoss)" : "½‖Y − F‖²"),
            fibreDimension = "h(m + n) − mn + (m − r_U)(n − r_V): null space of JᵀJ at a zero-residual minimum (Landscape.LinearMinimum)",
            settings = new
            {
                activations = s.ActivationList.Select(ConvergeWriter.Name), s.Outputs, s.Inputs, s.Hidden, parameters = dim, stds = s.StdList, s.LearningRate, s.MaxSteps,
                s.GradientTolerance, s.FlatThreshold, s.Seed, seeding = "each init drawn from its own stream, seeded by (seed, std index): independent items",
            },
            runs = r.Runs.Select(x => new
            {
                activation = ConvergeWriter.Name(x.Activation), x.Std, x.Q, x.FinalQ, x.Steps, x.FinalLoss, x.GradientNorm, flat = x.Summary.Flat, x.FibreDimension,
                median = x.Summary.Median, mean = x.Summary.Mean, max = x.Summary.Max, min = x.Summary.Min, trace = x.Summary.Trace, x.GaussNewtonError,
            }),
            correlations = r.Correlations.Select(c => new { activation = ConvergeWriter.Name(c.Activation), c.MedianVsQ, c.MeanVsQ, c.MaxVsQ }),
            scalar = new { points = scalar.Select(p => new { p.Q, p.U, p.V, eigenvalues = p.Eigenvalues, closedForm = p.ClosedForm, p.MaxError }), maxError = oneDError },
            hessianSeconds = r.HessianSeconds,
            wallSeconds = elapsed.TotalSeconds,
        });

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"Fig. 8: Hessian spectra at the trained point ({dim} parameters, |λ| ≤ {G(s.FlatThreshold)} counted flat)"))
            .AddColumn("σ").AddColumn(new TableColumn("init std").RightAligned()).AddColumn(new TableColumn("Q").RightAligned()).AddColumn(new TableColumn("GD steps").RightAligned())
            .AddColumn(new TableColumn("‖∇L‖").RightAligned()).AddColumn(new TableColumn("flat").RightAligned()).AddColumn(new TableColumn("derived").RightAligned())
            .AddColumn(new TableColumn("median").RightAligned()).AddColumn(new TableColumn("λ_max").RightAligned()).AddColumn(new TableColumn("λ_min").RightAligned());
        foreach (var x in r.Runs)
            table.AddRow(ConvergeWriter.Name(x.Activation), G(x.Std), G(x.Q, 4), x.Steps.ToString(CultureInfo.InvariantCulture), Sci(x.GradientNorm),
                x.FibreDimension is { } f ? (x.Summary.Flat == f ? $"[green]{x.Summary.Flat}[/]" : $"[red]{x.Summary.Flat}[/]") : x.Summary.Flat.ToString(CultureInfo.InvariantCulture),
                x.FibreDimension?.ToString(CultureInfo.InvariantCulture) ?? "–", G(x.Summary.Median, 4), G(x.Summary.Max, 4), Sci(x.Summary.Min));
        table.Caption(Markup.Escape($"Spearman ρ(Q, median): {string.Join(", ", r.Correlations.Select(c => $"{ConvergeWriter.Name(c.Activation)} {G(c.MedianVsQ)}"))}; 1-D √(Q²+4) max error {Sci(oneDError)}"));
        ExperimentConsole.Write(table);
        ConvergeWriter.ClaimTable(claims);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"wall {elapsed.TotalSeconds:F1} s ({r.HessianSeconds * 1000:F1} ms per Hessian + eigendecomposition); wrote sharpness-spectra.csv, sharpness-runs.csv, sharpness-1d.csv, sharpness-fig8.png, sharpness-centre.png, summary.json to {outDir}"));
    }

    // ---- --weights ------------------------------------------------------------------------------------------

    public static void Weights(string outDir, string profile, string mode, string weightsPath, SharpnessInput input, bool perLayer, SharpnessEstimateSettings settings,
        IReadOnlyList<SharpnessBlock> blocks, TimeSpan elapsed)
    {
        var top = new CsvTable("block", "parameters", "k", "eigenvalue", "residual");
        foreach (var b in blocks)
            for (int i = 0; i < b.Result.TopEigenvalues.Length; i++)
                top.AddRow(b.Block, b.Result.Parameters, i + 1, b.Result.TopEigenvalues[i], b.Result.Residuals[i]);
        top.Save(Path.Combine(outDir, "sharpness-top.csv"));
        var summaryCsv = new CsvTable("block", "parameters", "loss", "gradient_norm", "lambda_max", "lanczos_iterations", "lanczos_converged", "trace", "trace_standard_error",
            "trace_probes", "density_mean", "hessian_vector_products", "seconds");
        foreach (var b in blocks)
            summaryCsv.AddRow(b.Block, b.Result.Parameters, b.Loss, b.GradientNorm, b.Result.TopEigenvalues.FirstOrDefault(double.NaN), b.Result.LanczosIterations, b.Result.LanczosConverged,
                b.Result.Trace?.Trace, b.Result.Trace?.StandardError, b.Result.Trace?.Probes, b.Result.Density?.Mean * b.Result.Parameters, b.Result.HessianVectorProducts, b.Result.Seconds);
        summaryCsv.Save(Path.Combine(outDir, "sharpness-blocks.csv"));
        var density = new CsvTable("block", "eigenvalue", "density");
        var grids = new List<(SharpnessBlock Block, double[] Grid, double[] Density, double Sigma)>();
        foreach (var b in blocks)
            if (b.Result.Density is { } d)
            {
                var (grid, phi, sigma) = d.OnGrid(400);
                grids.Add((b, grid, phi, sigma));
                for (int i = 0; i < grid.Length; i++) density.AddRow(b.Block, grid[i], phi[i]);
            }
        var files = new List<string> { "sharpness-top.csv", "sharpness-blocks.csv" };
        var figures = new List<FigureRef>();
        if (grids.Count > 0)
        {
            density.Save(Path.Combine(outDir, "sharpness-density.csv"));
            files.Add("sharpness-density.csv");
            SharpnessFigures.Density(grids, Path.Combine(outDir, "sharpness-density.png"));
            files.Add("sharpness-density.png");
            figures.Add(new FigureRef("sharpness-density.png", null,
                "Spectral density of the cross-entropy Hessian by stochastic Lanczos quadrature (log10, Gaussian-broadened), with the Lanczos top eigenvalues as dotted lines" + (perLayer ? ", one panel per parameter tensor's diagonal block." : ".")));
        }

        var model = blocks[0];
        var claims = blocks.Select(b => SharpnessClaims.BlockStatistics.Measure(
            $"λ_max = {G(b.Result.TopEigenvalues.FirstOrDefault(double.NaN), 5)} (Lanczos, {b.Result.LanczosIterations} steps, {(b.Result.LanczosConverged ? "converged" : "not converged")}); trace = {(b.Result.Trace is { } t ? $"{G(t.Trace, 5)} ± {G(t.StandardError, 2)}" : "–")}",
            idPart: b.Block == "model" ? "model" : b.Block.Replace('.', '-'),
            statement: $"(measurement) Hessian statistics of {(b.Block == "model" ? "the whole model" : $"the block of {b.Block}")} on {input.Samples} training images")).ToList();
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "sharpness",
            profile,
            mode,
            claims,
            figures,
            weights = Path.GetFullPath(weightsPath),
            storedPrecision = input.FileDType,
            computePrecision = "float64",
            loss = "mean cross-entropy of the logits",
            dataset = input.Dataset,
            dataSource = input.DataSource,
            samples = input.Samples,
            leakySlope = input.LeakySlope,
            parameters = input.Parameters,
            scope = perLayer ? "layer" : "model",
            settings,
            blocks = blocks.Select(b => new
            {
                block = b.Block, shape = b.Shape, parameters = b.Result.Parameters, loss = b.Loss, gradientNorm = b.GradientNorm, topK = b.TopKUsed,
                topEigenvalues = b.Result.TopEigenvalues, residuals = b.Result.Residuals, b.Result.LanczosIterations, b.Result.LanczosConverged,
                trace = b.Result.Trace?.Trace, traceStandardError = b.Result.Trace?.StandardError, traceProbes = b.Result.Trace?.Probes,
                densityProbes = b.Result.Density?.Probes, densityRange = b.Result.Density is { } d ? new[] { d.Range.Min, d.Range.Max } : null,
                b.Result.HessianVectorProducts, b.Result.Seconds,
            }),
            wallSeconds = elapsed.TotalSeconds,
        });
        files.Add("summary.json");

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"Hessian of the cross-entropy on {input.Samples} {input.Dataset} images (float64, matrix-free)"))
            .AddColumn("block").AddColumn(new TableColumn("parameters").RightAligned()).AddColumn(new TableColumn("top eigenvalues (Lanczos)").RightAligned())
            .AddColumn(new TableColumn("steps").RightAligned()).AddColumn(new TableColumn("trace (Hutchinson)").RightAligned())
            .AddColumn(new TableColumn("HVPs").RightAligned()).AddColumn(new TableColumn("seconds").RightAligned());
        foreach (var b in blocks)
            table.AddRow(Markup.Escape(b.Block), b.Result.Parameters.ToString(CultureInfo.InvariantCulture),
                string.Join(", ", b.Result.TopEigenvalues.Select(v => G(v, 4))) + (b.Result.LanczosConverged || b.Result.TopEigenvalues.Length == 0 ? "" : " [yellow](not converged)[/]"),
                b.Result.LanczosIterations.ToString(CultureInfo.InvariantCulture),
                b.Result.Trace is { } t ? $"{G(t.Trace, 5)} ± {G(t.StandardError, 2)}" : "–",
                b.Result.HessianVectorProducts.ToString(CultureInfo.InvariantCulture), ExperimentConsole.Fixed(b.Result.Seconds, 1));
        table.Caption(Markup.Escape($"loss {G(model.Loss, 5)}; ± is one standard error of Hutchinson's estimate ({settings.TraceProbes} Rademacher probes)"));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture, $"wall {elapsed.TotalSeconds:F1} s; wrote {string.Join(", ", files)} to {outDir}"));
    }
}
