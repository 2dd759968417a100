using Noether.Landscape;
using static Noether.Experiments.Format;

namespace Noether.Cli.Output;

/// <summary>The files, figures and table of <c>noether curvature</c>.</summary>
internal static class CurvatureWriter
{
    /// <summary>Writes curvature.csv (and layers, density, a shard's trace samples), the figures and summary.json, and prints the table.</summary>
    public static void Write(string outDir, string modelPath, CurvatureResult r, TimeSpan elapsed, int droppedTangents = 0)
    {
        var s = r.Settings;
        var files = new List<string>();
        var csv = new CsvTable("quantity", "index", "value", "residual", "standard_error", "standard_error_population", "ci95_low", "ci95_high");
        if (r.Top is { } top)
            for (int i = 0; i < top.Eigen.Values.Length; i++)
                csv.AddRow("eigenvalue", i + 1, top.Eigen.Values[i], top.Eigen.Residuals[i], top.QuotientStandardErrors[i], null,
                    top.QuotientMeans[i] - 1.96 * top.QuotientStandardErrors[i], top.QuotientMeans[i] + 1.96 * top.QuotientStandardErrors[i]);
        if (r.SingleBatch is { } single)
            for (int i = 0; i < single.Batches.Length; i++) csv.AddRow("single_batch_top", single.Batches[i], single.TopEigenvalues[i], null, null, null, null, null);
        csv.AddRow("trace_hutchinson", 0, r.Trace.Trace, null, r.Trace.StandardErrorProbes, r.Trace.StandardErrorPopulation,
            r.Trace.Trace - 1.96 * Err(r.Trace), r.Trace.Trace + 1.96 * Err(r.Trace));
        if (r.HutchPlusPlus is { } hpp)
            csv.AddRow("trace_hutchpp", 0, hpp.Trace, null, hpp.StandardError, null, hpp.Trace - 1.96 * hpp.StandardError, hpp.Trace + 1.96 * hpp.StandardError);
        if (r.ModuloOrbit is { } mo)
        {
            csv.AddRow("orbit_rank", 0, mo.Orbit.Rank, null, null, null, null, null);
            csv.AddRow("orbit_trace", 0, mo.Orbit.OrbitTrace, null, null, null, null, null);
            for (int i = 0; i < mo.ProjectedTop.Values.Length; i++)
                csv.AddRow("eigenvalue_modulo_orbit", i + 1, mo.ProjectedTop.Values[i], mo.ProjectedTop.Residuals[i], null, null, null, null);
        }
        csv.Save(Path.Combine(outDir, "curvature.csv"));
        files.Add("curvature.csv");

        if (s.Layers)
        {
            var layers = new CsvTable("layer", "parameters", "trace", "standard_error", "standard_error_population", "ci95_low", "ci95_high");
            foreach (var l in r.LayerTraces)
                layers.AddRow(l.Name, l.Parameters, l.Trace.Trace, l.Trace.StandardErrorProbes, l.Trace.StandardErrorPopulation,
                    l.Trace.Trace - 1.96 * Err(l.Trace), l.Trace.Trace + 1.96 * Err(l.Trace));
            layers.Save(Path.Combine(outDir, "layers.csv"));
            files.Add("layers.csv");
        }
        (double[] Grid, double[] Density, double Sigma)? grid = r.Density?.OnGrid();
        if (grid is { } g)
        {
            var density = new CsvTable("eigenvalue", "density");
            for (int i = 0; i < g.Grid.Length; i++) density.AddRow(g.Grid[i], g.Density[i]);
            density.Save(Path.Combine(outDir, "density.csv"));
            files.Add("density.csv");
        }
        if (r.Top is null)
        {
            // A trace-only result (a shard, or shards merged): its Hutchinson table, one row per (batch, probe) with the total and
            // each block, batch by batch so that the shards' tables joined in order are the whole table (noether merge checks it).
            var samples = new CsvTable(["batch", "probe", "total", .. r.Blocks.Select(x => x.Name)]);
            foreach (var column in r.TraceSamples.Columns())
                for (int p = 0; p < column.Total.Length; p++)
                    samples.AddRow([column.Batch, p, column.Total[p], .. column.Blocks.Select(block => (object?)block[p])]);
            samples.Save(Path.Combine(outDir, TraceSamplesFile));
            files.Add(TraceSamplesFile);
        }

        var figures = new List<FigureRef>();
        if (grid is { } dg && r.Top is { } t1)
        {
            CurvatureFigures.Density(dg, t1, Path.Combine(outDir, "density.png"));
            figures.Add(new FigureRef("density.png", null, string.Create(CultureInfo.InvariantCulture,
                $"Spectral density of the mean Hessian over {r.Batches * r.BatchSize} images (SLQ, {r.Density!.Probes} probes × {s.DensitySteps} steps, Gaussian width {G(dg.Sigma, 6)}); dashed: the top-{t1.Eigen.Values.Length} eigenvalues from restarted Lanczos, λ₁ = {G(t1.Eigen.Values[0], 6)}. Quadrature nodes span [{G(r.Density.Range.Min, 6)}, {G(r.Density.Range.Max, 6)}].")));
        }
        if (s.Layers && r.LayerTraces.Count > 0)
        {
            CurvatureFigures.Layers(r, Path.Combine(outDir, "layers.png"));
            var largest = r.LayerTraces.MaxBy(l => l.Trace.Trace)!;
            figures.Add(new FigureRef("layers.png", null, string.Create(CultureInfo.InvariantCulture,
                $"Per-layer Hessian traces Tr H_LL (Hutchinson, {s.Probes} probes × {r.TraceSamples.BatchIndices.Length} batches), error bars 95% (population SE). Largest: {largest.Name} {G(largest.Trace.Trace, 6)} of the total {G(r.Trace.Trace, 6)}.")));
        }
        if (r.SingleBatch is { } sb && r.Top is { } t2)
        {
            CurvatureFigures.Spread(r, sb, t2, Path.Combine(outDir, "single-batch.png"));
            figures.Add(new FigureRef("single-batch.png", null, string.Create(CultureInfo.InvariantCulture,
                $"λ_max of {sb.Batches.Length} single {r.BatchSize}-image batches (min {G(sb.Min, 6)}, median {G(sb.Median, 6)}, max {G(sb.Max, 6)}) against the {r.Batches * r.BatchSize}-image estimate λ₁ = {G(t2.Eigen.Values[0], 6)} (band: per-batch v₁ᵀH_b v₁ mean ± 1.96 SE = {G(t2.QuotientMeans[0], 6)} ± {G(1.96 * t2.QuotientStandardErrors[0], 6)}).")));
        }
        files.AddRange(figures.Select(f => f.File));

        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "curvature",
            model = modelPath,
            settings = new
            {
                images = r.Batches * r.BatchSize,
                batchSize = r.BatchSize,
                s.TopK,
                s.Probes,
                s.DensityProbes,
                s.DensitySteps,
                s.SingleBatches,
                s.Layers,
                s.Parameters,
                shard = s.Shard?.ToString(),
                s.Seed,
                batchNorm = "inference",
                precision = "float64",
            },
            parameters = r.Dimension,
            batches = r.Batches,
            meanLoss = r.MeanLoss,
            gradientNorm = r.GradientNorm,
            top = r.Top is { } t ? new
            {
                eigenvalues = t.Eigen.Values,
                residuals = t.Eigen.Residuals,
                converged = t.Eigen.Converged,
                restarts = t.Eigen.Restarts,
                products = t.Eigen.Products,
                quotientMeans = t.QuotientMeans,
                quotientStandardErrors = t.QuotientStandardErrors,
                ci95Low = t.QuotientMeans.Select((q, i) => q - 1.96 * t.QuotientStandardErrors[i]).ToArray(),
                ci95High = t.QuotientMeans.Select((q, i) => q + 1.96 * t.QuotientStandardErrors[i]).ToArray(),
                intervalMeaning = "mean ± 1.96 SE over batches of vᵢᵀH_b vᵢ: the population curvature along the fixed Ritz vector vᵢ (a lower-side interval for the population λ_max); the eigenvalue of these batches' Hessian is pinned to its residual",
            } : null,
            singleBatch = r.SingleBatch is { } x ? new { batches = x.Batches, topEigenvalues = x.TopEigenvalues, min = x.Min, median = x.Median, max = x.Max } : null,
            trace = new
            {
                hutchinson = r.Trace.Trace,
                standardErrorProbes = r.Trace.StandardErrorProbes,
                standardErrorPopulation = r.Trace.StandardErrorPopulation,
                batchesHeld = r.TraceSamples.BatchIndices,
                hutchPlusPlus = r.HutchPlusPlus?.Trace,
                hutchPlusPlusStandardError = r.HutchPlusPlus?.StandardError,
                hutchPlusPlusRank = r.HutchPlusPlus?.Rank,
            },
            layers = s.Layers ? r.LayerTraces.Select(l => new { name = l.Name, parameters = l.Parameters, trace = l.Trace.Trace, standardErrorProbes = l.Trace.StandardErrorProbes, standardErrorPopulation = l.Trace.StandardErrorPopulation }) : null,
            density = r.Density is { } d ? new { probes = d.Probes, steps = s.DensitySteps, min = d.Range.Min, max = d.Range.Max, mean = d.Mean } : null,
            moduloOrbit = r.ModuloOrbit is { } orbit ? new
            {
                generators = r.Settings.Tangents!.Count,
                droppedGenerators = droppedTangents,
                rank = orbit.Orbit.Rank,
                orbitTrace = orbit.Orbit.OrbitTrace,
                orbitEigenvalues = orbit.Orbit.OrbitEigenvalues,
                maxTangentResidual = orbit.Orbit.TangentResiduals.DefaultIfEmpty().Max(),
                topModuloOrbit = orbit.ProjectedTop.Values,
                residuals = orbit.ProjectedTop.Residuals,
                meaning = "P projects off the census's tangents Mθ (orthonormal basis, rank shown); orbitTrace = Tr(QᵀHQ) over that basis; topModuloOrbit = top eigenvalues of PHP; a tangent's residual ‖Ht‖ is ‖Mᵀ∇L‖, zero at a critical point",
            } : null,
            hessianPasses = r.HessianVectorProducts,
            wallSeconds = elapsed.TotalSeconds,
            figures,
        });
        files.Add("summary.json");

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"Curvature over {r.Batches * r.BatchSize} images ({r.Batches} batches of {r.BatchSize})"))
            .AddColumn("quantity").AddColumn(new TableColumn("value").RightAligned()).AddColumn("error");
        if (r.Top is { } tt)
            for (int i = 0; i < tt.Eigen.Values.Length; i++)
                table.AddRow($"λ{i + 1}", G(tt.Eigen.Values[i], 6), Markup.Escape($"residual {Sci(tt.Eigen.Residuals[i])}; per-batch ±{G(1.96 * tt.QuotientStandardErrors[i], 6)} (95%)"));
        if (r.SingleBatch is { } ss)
            table.AddRow(Markup.Escape($"single-batch λ_max ({ss.Batches.Length})"), G(ss.Median, 6), Markup.Escape($"min {G(ss.Min, 6)}, max {G(ss.Max, 6)}"));
        table.AddRow("Tr H (Hutchinson)", G(r.Trace.Trace, 6), Markup.Escape($"±{G(1.96 * Err(r.Trace), 6)} (95%, {(double.IsNaN(r.Trace.StandardErrorPopulation) ? "probes only: one batch" : "population")})"));
        if (r.HutchPlusPlus is { } h2) table.AddRow("Tr H (Hutch++)", G(h2.Trace, 6), Markup.Escape($"±{G(1.96 * h2.StandardError, 6)} (95%)"));
        if (r.ModuloOrbit is { } mo2)
        {
            table.AddRow(Markup.Escape($"orbit: Tr over {mo2.Orbit.Rank} tangents"), G(mo2.Orbit.OrbitTrace, 6), "");
            table.AddRow("λ₁ modulo the orbit", G(mo2.ProjectedTop.Values[0], 6), Markup.Escape($"residual {Sci(mo2.ProjectedTop.Residuals[0])}"));
        }
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"{r.HessianVectorProducts} per-batch Hessian passes; wall {elapsed.TotalSeconds:F1} s; wrote {string.Join(", ", files)} to {outDir}"));
    }

    /// <summary>The Hutchinson table of a trace-only result (a shard's, or the shards' joined).</summary>
    public const string TraceSamplesFile = "trace-samples.csv";

    /// <summary>What every shard of a curvature run shares and merge needs again: the model, the images and the parameter blocks.</summary>
    internal sealed record CurvatureShared(string Model, int Images, int BatchSize, ParameterBlock[] Blocks);

    /// <summary>
    /// Writes a shard's files and then its shard.json (one grid item per batch: that batch's column of the Hutchinson
    /// table), so that <c>noether merge</c> can join the shards.
    /// </summary>
    public static void WriteShard(string outDir, string modelPath, CurvatureResult r, TimeSpan elapsed)
    {
        var shard = r.Settings.Shard ?? throw new InvalidOperationException("curvature: WriteShard needs a shard's result");
        Write(outDir, modelPath, r, elapsed);
        ShardOutput.Complete(outDir, "curvature", null, shard, r.Batches, r.Settings, new CurvatureShared(modelPath, r.Batches * r.BatchSize, r.BatchSize, [.. r.Blocks]),
            r.TraceSamples.Columns(), [TraceSamplesFile], elapsed);
    }

    /// <summary>The shards' columns joined into the whole Hutchinson table and written as a trace-only run over every batch.</summary>
    public static void WriteMerged(string outDir, CurvatureSettings settings, CurvatureShared shared, TraceColumn[] columns, TimeSpan elapsed)
    {
        int batches = shared.Images / shared.BatchSize;
        var table = TraceShard.FromColumns(settings.Seed, settings.Probes, batches, columns, shared.Blocks);
        // One recorded pass per batch, as in each shard.
        Write(outDir, shared.Model, CurvatureExperiment.TraceOnly(settings, table, shared.BatchSize, columns.Length), elapsed);
    }

    /// <summary>The population SE when it exists (several batches), else the probe SE: the one the 95% intervals use.</summary>
    internal static double Err(MinibatchTrace t) => double.IsNaN(t.StandardErrorPopulation) ? t.StandardErrorProbes : t.StandardErrorPopulation;
}
