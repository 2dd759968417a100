using Noether.Data;
using Noether.Graphs;
using Noether.Interop;
using Noether.Symmetry.Census;
using Noether.Landscape;
using Noether.Tensors;

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
        var moduloOrbit = new Option<bool>("--modulo-orbit") { Description = "Also the curvature modulo the symmetry orbit: the trace the census's tangents carry and the top-k of PHP (P projects off them); needs the census dimension × parameters in memory." };
        var parameters = new Option<string?>("--parameters") { Description = "Comma-separated parameter names to take the Hessian over (default all; the others held fixed)." };
        var dataDir = ModelSource.DataDir();
        var shard = CommonOptions.Shard();
        var seed = CommonOptions.Seed();
        var output = CommonOptions.Out("results/curvature");
        var force = CommonOptions.Force();
        var command = new Command("curvature", "Hessian curvature of an ONNX model over a data subset: top-k eigenvalues with intervals, single-batch spread, Hutchinson/Hutch++ traces, per-layer traces, spectral density.")
        {
            model, images, batchSize, topK, probes, densityProbes, densitySteps, singleBatches, layers, moduloOrbit, parameters, dataDir, shard, seed, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            string path = parse.GetValue(model)!;
            int n = parse.GetValue(images), b = parse.GetValue(batchSize);
            if (n > MaxImages) throw Errors.Argument("--images", $"--images {n}: the Fashion-MNIST training set has {MaxImages} images");
            if (b > n) throw Errors.Argument("--batch-size", $"--batch-size {b}: larger than --images {n}");
            if (n % b != 0) throw Errors.Argument("--images", $"--images {n} is not a multiple of --batch-size {b} (equal batches keep the mean loss the mean over all images)");
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
            if (settings.TopK > 50) throw Errors.Argument("--top-k", $"--top-k {settings.TopK}: at most 50");
            if (settings.Probes < 2) throw Errors.Argument("--probes", $"--probes {settings.Probes}: at least 2 (for a standard error)");
            if (settings.Probes > 10_000) throw Errors.Argument("--probes", $"--probes {settings.Probes}: at most 10000");
            if (settings.DensityProbes is < 0 or > 1000) throw Errors.Argument("--density-probes", $"--density-probes {settings.DensityProbes}: expected 0 to 1000");
            if (settings.DensitySteps > 500) throw Errors.Argument("--density-steps", $"--density-steps {settings.DensitySteps}: at most 500");
            if (settings.SingleBatches < 0 || settings.SingleBatches > batches)
                throw Errors.Argument("--single-batches", $"--single-batches {settings.SingleBatches}: expected 0 to the {batches} batches");
            if (settings.Shard is { } s && s.Count > batches) throw Errors.Argument("--shard", $"--shard {s}: more shards than the {batches} batches");
            if (settings.Shard is { } sh0 && parse.GetValue(moduloOrbit))
                throw Errors.Argument("--modulo-orbit", $"--modulo-orbit with --shard {sh0}: a shard computes only its batches' trace table; run the orbit part unsharded");

            var graph = OnnxModel.Load(path).ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
            if (settings.Parameters is { } selected)
                foreach (var name in selected)
                    if (graph.Parameter(name) is null)
                        throw Errors.Argument("--parameters", $"--parameters: {path} has no parameter '{name}' (parameters: {string.Join(", ", graph.Parameters.Select(p => p.Name))})");
            long dimension = settings.Parameters is { } sel ? sel.Sum(x => (long)graph.Parameter(x)!.Length) : graph.Parameters.Sum(p => (long)p.Length);
            // Before the data are loaded: the estimators' vectors and the graphs a Hessian-vector product records for one batch,
            // from the values the model's recorded forward pass holds per image.
            if (graph.Inputs.Count != 1) throw Errors.Argument("--model", $"--model {path}: the model has {graph.Inputs.Count} inputs; curvature feeds one (the images)");
            (long PerSample, long Fixed) values;
            try
            {
                values = MemoryEstimate.RecordedValues(graph, [1, 28, 28]);
            }
            catch (GraphException e)
            {
                throw new DataFormatException(path, $"does not run on Fashion-MNIST images 1×28×28: {e.Message}", e);
            }
            var need = MemoryEstimate.Curvature(dimension, values, graph.Parameters.Sum(p => (long)p.Length), n, b, settings.TopK);
            int droppedTangents = 0;
            if (parse.GetValue(moduloOrbit))
            {
                // The census's tangents and their orthonormal basis: dimension floats each, before they are built.
                var census = SymmetryCensus.Take(graph);
                need = new MemoryNeed([.. need.Terms, new MemoryTerm("orbit tangents and their basis", 2.0 * sizeof(double) * census.Dimension * dimension)]);
                MemoryBudget.Check(string.Create(CultureInfo.InvariantCulture, $"--modulo-orbit ({census.Dimension} census generators × {dimension} parameters)"), need);
                (var tangents, droppedTangents) = census.Tangents(graph, settings.Parameters);
                if (tangents.Count == 0) throw Errors.Argument("--modulo-orbit", $"--modulo-orbit: no census generator of {path} acts within the selected parameters");
                settings = settings with { Tangents = tangents };
            }
            MemoryBudget.Check(string.Create(CultureInfo.InvariantCulture, $"--batch-size {b} (--images {n}, --top-k {settings.TopK}, {dimension} parameters)"), need);

            var train = FashionMnist.Load(parse.GetValue(dataDir), train: true);
            if (train.Count < n) throw Errors.Argument("--images", $"--images {n}: the training set at {train.Source} has {train.Count} images");
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
                    $"Curvature of {path} ({dimension} parameters{(settings.Parameters is null ? "" : " selected")}) over the first {n} Fashion-MNIST training images in {batches} batches of {b}, BatchNorm in inference mode, float64; seed {settings.Seed}{(settings.Shard is { } sh ? $", shard {sh} (trace table only)" : "")}; estimated peak memory {MemoryNeed.Show(need.Bytes)}"));
                var clock = Stopwatch.StartNew();
                // Every per-batch pass records a fresh graph; the workstation GC lets the dead ones pile up while memory is free
                // (ResNet-20 at batch 128: over 19 GB on a 23 GB machine, against a live set of about 2.5 GB). After each pass, a
                // heap grown past what it held at the start plus MemoryEstimate.CurvatureCollectAbove(…) is collected, which keeps
                // the peak within the estimate.
                long collectAbove = GC.GetTotalMemory(false) + (long)MemoryEstimate.CurvatureCollectAbove(values, b);
                var result = ExperimentConsole.Run("curvature", (p, t) => CurvatureExperiment.Run(graph, data, settings, new InlineProgress<ExperimentProgress>(e =>
                {
                    if (GC.GetTotalMemory(false) > collectAbove) GC.Collect();
                    p.Report(e);
                }), t), token);
                if (settings.Shard is not null) CurvatureWriter.WriteShard(outDir, path, result, clock.Elapsed);
                else CurvatureWriter.Write(outDir, path, result, clock.Elapsed, droppedTangents);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }
}
