using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Data;
using Noether.Experiments;
using Noether.Graphs;
using Noether.Interop;
using Noether.Landscape;
using Noether.Serialization;
using Noether.Tensors;
using ScottPlot;
using Spectre.Console;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether curvature --model m.onnx</c>: Hessian curvature of an imported model's mean cross-entropy over a stated
/// subset of the Fashion-MNIST training set (the first --images, in batches; BatchNorm in inference mode): top-k
/// eigenvalues with residuals and a batch-to-batch interval, the single-batch λ_max spread beside it, Hutchinson and
/// Hutch++ traces with intervals, per-layer traces, an SLQ density. <c>--shard i/n</c> computes only the Hutchinson table
/// of shard i's batches (the same probes in every shard; the tables join exactly with <see cref="TraceShard.Merge"/>).
/// </summary>
internal static class CurvatureCommand
{
    private const int MaxImages = 60_000;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The .onnx model (torch.onnx.export; output 0 the logits for 1×28×28 inputs).", Required = true };
        var images = CommonOptions.PositiveInt("--images", "Training images used (the first ones; ≥ 4096 is what PyHessian's maintainers advise).", 4096);
        var batchSize = CommonOptions.PositiveInt("--batch-size", "Images per batch (--images must be a multiple).", 128);
        var topK = CommonOptions.PositiveInt("--top-k", "Top eigenvalues of the mean Hessian (≤ 50).", 5);
        var probes = CommonOptions.PositiveInt("--probes", "Hutchinson probes (each visits every batch); Hutch++ gets as many products (≥ 2).", 100);
        var densityProbes = new Option<int>("--density-probes") { Description = "SLQ probes for the spectral density (0: none).", DefaultValueFactory = _ => 5 };
        var densitySteps = CommonOptions.PositiveInt("--density-steps", "Lanczos steps per SLQ probe.", 30);
        var singleBatches = new Option<int?>("--single-batches") { Description = "Single batches whose λ_max is reported beside the whole-set value (default min(10, batches); 0: none)." };
        var layers = new Option<bool>("--layers") { Description = "Also write per-layer traces (parameters grouped by name prefix, e.g. layer1.0.conv1) from the same probes." };
        var parameters = new Option<string?>("--parameters") { Description = "Comma-separated parameter names to take the Hessian over (default all; the others held fixed)." };
        var dataDir = ModelSource.DataDir();
        var shard = CommonOptions.Shard();
        var seed = CommonOptions.Seed();
        var output = CommonOptions.Out("results/curvature");
        var force = CommonOptions.Force();
        var command = new Command("curvature", "Hessian curvature of an ONNX model over a data subset: top-k eigenvalues with intervals, single-batch spread, Hutchinson/Hutch++ traces, per-layer traces, spectral density.")
        {
            model, images, batchSize, topK, probes, densityProbes, densitySteps, singleBatches, layers, parameters, dataDir, shard, seed, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            string path = parse.GetValue(model)!;
            int n = parse.GetValue(images), b = parse.GetValue(batchSize);
            if (n > MaxImages) throw new ArgumentException($"--images {n}: the Fashion-MNIST training set has {MaxImages} images");
            if (b > n) throw new ArgumentException($"--batch-size {b}: larger than --images {n}");
            if (n % b != 0) throw new ArgumentException($"--images {n} is not a multiple of --batch-size {b} (equal batches keep the mean loss the mean over all images)");
            int batches = n / b;
            var settings = new CurvatureSettings
            {
                TopK = parse.GetValue(topK),
                Probes = parse.GetValue(probes),
                DensityProbes = parse.GetValue(densityProbes),
                DensitySteps = parse.GetValue(densitySteps),
                SingleBatches = parse.GetValue(singleBatches) ?? Math.Min(10, batches),
                Layers = parse.GetValue(layers),
                Parameters = parse.GetValue(parameters) is { } names ? names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : null,
                Shard = parse.GetValue(shard),
                Seed = parse.GetValue(seed),
            };
            if (settings.TopK > 50) throw new ArgumentException($"--top-k {settings.TopK}: at most 50");
            if (settings.Probes < 2) throw new ArgumentException($"--probes {settings.Probes}: at least 2 (for a standard error)");
            if (settings.Probes > 10_000) throw new ArgumentException($"--probes {settings.Probes}: at most 10000");
            if (settings.DensityProbes is < 0 or > 1000) throw new ArgumentException($"--density-probes {settings.DensityProbes}: expected 0 to 1000");
            if (settings.DensitySteps > 500) throw new ArgumentException($"--density-steps {settings.DensitySteps}: at most 500");
            if (settings.SingleBatches < 0 || settings.SingleBatches > batches)
                throw new ArgumentException($"--single-batches {settings.SingleBatches}: expected 0 to the {batches} batches");
            if (settings.Shard is { } s && s.Count > batches) throw new ArgumentException($"--shard {s}: more shards than the {batches} batches");

            var graph = OnnxModel.Load(path).ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
            if (settings.Parameters is { } selected)
                foreach (var name in selected)
                    if (graph.Parameter(name) is null)
                        throw new ArgumentException($"--parameters: {path} has no parameter '{name}' (parameters: {string.Join(", ", graph.Parameters.Select(p => p.Name))})");
            long dimension = settings.Parameters is { } sel ? sel.Sum(x => (long)graph.Parameter(x)!.Length) : graph.Parameters.Sum(p => (long)p.Length);
            // The vectors the estimators hold at once: the Lanczos basis (max(2k + 10, 20) + 1), 16 probes and their products,
            // the gradient and a few work vectors; plus the images as float64. One batch's graph comes on top (not estimated).
            long vectors = Math.Max(2 * settings.TopK + 10, 20) + 1 + 32 + 4 + settings.TopK;
            long bytes = vectors * dimension * 8 + (long)n * 28 * 28 * 8;
            long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            if (bytes > available / 2)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"--model {path}: the estimators need ≈ {bytes / 1e9:F1} GB for {dimension} parameters and {n} images, more than half the {available / 1e9:F1} GB available; lower --images or --top-k, or select --parameters"));

            var train = FashionMnist.Load(parse.GetValue(dataDir), train: true);
            if (train.Count < n) throw new ArgumentException($"--images {n}: the training set at {train.Source} has {train.Count} images");
            var data = new List<(Tensor<double> Inputs, int[] Labels)>(batches);
            for (int i = 0; i < batches; i++) data.Add(train.Gather<double>(Enumerable.Range(i * b, b).ToArray()));
            // The model must accept the data: one forward pass on the first batch, before anything is written.
            try
            {
                graph.Evaluate(data[0].Inputs);
            }
            catch (GraphException e)
            {
                throw new DataFormatException(path, $"does not run on Fashion-MNIST batches {b}×1×28×28: {e.Message}", e);
            }

            return Task.FromResult(OutputFolder.Run(parse.GetValue(output), parse.GetValue(force), token, outDir =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Curvature of {path} ({dimension} parameters{(settings.Parameters is null ? "" : " selected")}) over the first {n} Fashion-MNIST training images in {batches} batches of {b}, BatchNorm in inference mode, float64; seed {settings.Seed}{(settings.Shard is { } sh ? $", shard {sh} (trace table only)" : "")}; ≈ {bytes / 1e6:F0} MB for vectors and data"));
                var clock = Stopwatch.StartNew();
                var result = ExperimentConsole.Run("curvature", (p, t) => CurvatureExperiment.Run(graph, data, settings, p, t), token);
                Write(outDir, path, result, clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    private static void Write(string outDir, string modelPath, CurvatureResult r, TimeSpan elapsed)
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
        if (s.Shard is not null)
        {
            // The shard's Hutchinson table: one row per (probe, batch), the total and each block, to be joined with TraceShard.Merge.
            var samples = new CsvTable(["probe", "batch", "total", .. r.Blocks.Select(x => x.Name)]);
            int m = r.TraceSamples.BatchIndices.Length;
            for (int p = 0; p < r.TraceSamples.Probes; p++)
                for (int j = 0; j < m; j++)
                    samples.AddRow([p, r.TraceSamples.BatchIndices[j], r.TraceSamples.Samples[p * m + j], .. r.TraceSamples.BlockSamples.Select(bs => (object?)bs[p * m + j])]);
            samples.Save(Path.Combine(outDir, "trace-samples.csv"));
            files.Add("trace-samples.csv");
        }

        var figures = new List<FigureRef>();
        if (grid is { } dg && r.Top is { } t1)
        {
            DrawDensity(dg, t1, Path.Combine(outDir, "density.png"));
            figures.Add(new FigureRef("density.png", null, string.Create(CultureInfo.InvariantCulture,
                $"Spectral density of the mean Hessian over {r.Batches * r.BatchSize} images (SLQ, {r.Density!.Probes} probes × {s.DensitySteps} steps, Gaussian width {F(dg.Sigma)}); dashed: the top-{t1.Eigen.Values.Length} eigenvalues from restarted Lanczos, λ₁ = {F(t1.Eigen.Values[0])}. Quadrature nodes span [{F(r.Density.Range.Min)}, {F(r.Density.Range.Max)}].")));
        }
        if (s.Layers && r.LayerTraces.Count > 0)
        {
            DrawLayers(r, Path.Combine(outDir, "layers.png"));
            var largest = r.LayerTraces.MaxBy(l => l.Trace.Trace)!;
            figures.Add(new FigureRef("layers.png", null, string.Create(CultureInfo.InvariantCulture,
                $"Per-layer Hessian traces Tr H_LL (Hutchinson, {s.Probes} probes × {r.TraceSamples.BatchIndices.Length} batches), error bars 95% (population SE). Largest: {largest.Name} {F(largest.Trace.Trace)} of the total {F(r.Trace.Trace)}.")));
        }
        if (r.SingleBatch is { } sb && r.Top is { } t2)
        {
            DrawSpread(r, sb, t2, Path.Combine(outDir, "single-batch.png"));
            figures.Add(new FigureRef("single-batch.png", null, string.Create(CultureInfo.InvariantCulture,
                $"λ_max of {sb.Batches.Length} single {r.BatchSize}-image batches (min {F(sb.Min)}, median {F(sb.Median)}, max {F(sb.Max)}) against the {r.Batches * r.BatchSize}-image estimate λ₁ = {F(t2.Eigen.Values[0])} (band: per-batch v₁ᵀH_b v₁ mean ± 1.96 SE = {F(t2.QuotientMeans[0])} ± {F(1.96 * t2.QuotientStandardErrors[0])}).")));
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
            hessianPasses = r.HessianVectorProducts,
            wallSeconds = elapsed.TotalSeconds,
            figures,
        });
        files.Add("summary.json");

        var table = new Spectre.Console.Table().Border(TableBorder.Rounded).Title(Markup.Escape($"Curvature over {r.Batches * r.BatchSize} images ({r.Batches} batches of {r.BatchSize})"))
            .AddColumn("quantity").AddColumn(new TableColumn("value").RightAligned()).AddColumn("error");
        if (r.Top is { } tt)
            for (int i = 0; i < tt.Eigen.Values.Length; i++)
                table.AddRow($"λ{i + 1}", F(tt.Eigen.Values[i]), Markup.Escape($"residual {ExperimentConsole.Sci(tt.Eigen.Residuals[i])}; per-batch ±{F(1.96 * tt.QuotientStandardErrors[i])} (95%)"));
        if (r.SingleBatch is { } ss)
            table.AddRow(Markup.Escape($"single-batch λ_max ({ss.Batches.Length})"), F(ss.Median), Markup.Escape($"min {F(ss.Min)}, max {F(ss.Max)}"));
        table.AddRow("Tr H (Hutchinson)", F(r.Trace.Trace), Markup.Escape($"±{F(1.96 * Err(r.Trace))} (95%, {(double.IsNaN(r.Trace.StandardErrorPopulation) ? "probes only: one batch" : "population")})"));
        if (r.HutchPlusPlus is { } h2) table.AddRow("Tr H (Hutch++)", F(h2.Trace), Markup.Escape($"±{F(1.96 * h2.StandardError)} (95%)"));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"{r.HessianVectorProducts} per-batch Hessian passes; wall {elapsed.TotalSeconds:F1} s; wrote {string.Join(", ", files)} to {outDir}"));
    }

    // The population SE when it exists (several batches), else the probe SE.
    private static double Err(MinibatchTrace t) => double.IsNaN(t.StandardErrorPopulation) ? t.StandardErrorProbes : t.StandardErrorPopulation;

    private static void DrawDensity((double[] Grid, double[] Density, double Sigma) g, MinibatchEigen top, string path)
    {
        var plot = Figure.Create("Hessian spectral density (SLQ)", "eigenvalue", "density");
        Panels.Line(plot, g.Grid, g.Density, Panels.Palette[0], "SLQ density");
        for (int i = 0; i < top.Eigen.Values.Length; i++)
            Panels.Marker(plot, top.Eigen.Values[i], Panels.Palette[1], i == 0 ? "top eigenvalues (Lanczos)" : "", LinePattern.Dashed);
        plot.ShowLegend(Alignment.UpperRight);
        Figure.Save(plot, path);
    }

    private static void DrawLayers(CurvatureResult r, string path)
    {
        var plot = Figure.Create("Per-layer Hessian trace", "layer", "Tr H_LL");
        var xs = Enumerable.Range(0, r.LayerTraces.Count).Select(i => (double)i).ToArray();
        var ys = r.LayerTraces.Select(l => l.Trace.Trace).ToArray();
        var errs = r.LayerTraces.Select(l => 1.96 * Err(l.Trace)).ToArray();
        var points = plot.Add.Scatter(xs, ys, Panels.Palette[0]);
        points.LineWidth = 0;
        points.MarkerSize = 7;
        plot.Add.ErrorBar(xs, ys, errs);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs, r.LayerTraces.Select(l => l.Name).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        Figure.Save(plot, path, Math.Max(800, 40 * r.LayerTraces.Count), 500);
    }

    private static void DrawSpread(CurvatureResult r, SingleBatchSpread sb, MinibatchEigen top, string path)
    {
        var plot = Figure.Create($"λ_max: single {r.BatchSize}-image batches vs {r.Batches * r.BatchSize} images", "batch", "λ_max");
        var xs = sb.Batches.Select(x => (double)x).ToArray();
        var points = plot.Add.Scatter(xs, sb.TopEigenvalues, Panels.Palette[0]);
        points.LineWidth = 0;
        points.MarkerSize = 8;
        points.LegendText = "λ_max(H_b), one batch";
        double lo = top.QuotientMeans[0] - 1.96 * top.QuotientStandardErrors[0], hi = top.QuotientMeans[0] + 1.96 * top.QuotientStandardErrors[0];
        if (double.IsFinite(lo) && double.IsFinite(hi) && hi > lo)
        {
            var band = plot.Add.VerticalSpan(lo, hi);
            band.FillStyle.Color = Panels.Palette[1].WithAlpha(0.2);
            band.LegendText = "v₁ᵀH_b v₁ mean ± 1.96 SE";
        }
        var line = plot.Add.HorizontalLine(top.Eigen.Values[0], 2, Panels.Palette[1]);
        line.LegendText = "λ₁, whole subset";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Alignment.UpperRight);
        Figure.Save(plot, path);
    }
}
