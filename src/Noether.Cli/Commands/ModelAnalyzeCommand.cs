using Noether.Cli.Output;
using Noether.Experiments;
using Noether.Graphs;
using Noether.Interop;
using Noether.Symmetry.Census;
using Noether.Tensors;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether analyze --model m.onnx --out DIR</c>: the report of an imported model (<see cref="ModelReportExperiment"/>) on
/// a seeded batch of its training data: census table, conserved quantities per site, orbit dimension, loss along orbits
/// against random filter-normalised directions, curvature with intervals, law count; report.html and summary.json.
/// </summary>
internal static class ModelAnalyzeCommand
{
    /// <summary>The option that selects this path.</summary>
    public static Option<string?> Model() => new Option<string?>("--model")
    {
        Description = "An ONNX model (torch.onnx.export; output 0 the logits): write its report (census, conserved quantities, loss along orbits, curvature) instead of analysing --weights/--arch.",
    }.ExistingFile();

    /// <summary>The output folder of a <c>noether train --model</c> run whose epochs, monitor and teleports the report adds.</summary>
    public static Option<string?> Training() => new Option<string?>("--training")
    {
        Description = "With --model: the output folder of `noether train --model … [--monitor N]`; the report adds its epochs, the conserved quantities measured against their predictions, and its teleports.",
    }.ExistingDirectory();

    /// <summary>The options of the --weights path that a --model run refuses.</summary>
    public static void RefuseWeightsOptions(ParseResult parse, IEnumerable<Option> weightsOnly)
    {
        foreach (var option in weightsOnly)
            if (parse.GetResult(option) is { Implicit: false })
                throw Errors.Argument(option.Name, $"{option.Name} goes with --weights/--arch, not with --model");
    }

    /// <summary>Loads the model and the batch, checks memory, then runs the report into the staged --out.</summary>
    public static int Run(string path, string dataset, string? dataDir, int samples, int traceProbes, bool sharpness, int seed, string? trainingDir, string outPath, bool force,
        CancellationToken token)
    {
        TrainingRunRecord? training = null;
        if (trainingDir is not null)
        {
            if (!File.Exists(Path.Combine(trainingDir, "training.csv")))
                throw Errors.Argument("--training", $"--training {trainingDir}: no training.csv there (expected the output folder of noether train --model)");
            training = TrainingRunRecord.Load(trainingDir);
        }
        var graph = OnnxModel.Load(path).ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
        if (graph.Inputs.Count != 1) throw Errors.Argument("--model", $"--model {path}: the report needs a model with one input (it has {graph.Inputs.Count})");
        if (samples < 2) throw Errors.Argument("--samples", $"--samples {samples}: the report needs at least 2 images (the curvature's interval is over 2 batches)");
        var settings = new ModelReportSettings { TraceProbes = traceProbes, TopK = sharpness ? 3 : 0, Seed = seed };
        var census = SymmetryCensus.Take(graph);
        var (train, _) = CnnTraining.Load(new CnnTrainingSettings(dataset, dataDir));
        samples = Math.Min(samples, train.Count);
        var values = MemoryEstimate.RecordedValues(graph, train.SampleShape);
        CheckMemory(graph, census, values, samples, settings);
        var rng = new Random(seed);
        var indices = Enumerable.Range(0, train.Count).OrderBy(_ => rng.Next()).Take(samples).Order().ToArray();
        var (x, y) = train.Gather<double>(indices);
        try
        {
            graph.Evaluate(x);
        }
        catch (GraphException e)
        {
            throw new DataFormatException(path, $"does not run on {dataset} batches {string.Join("×", x.ShapeArray)}: {e.Message}", e);
        }
        return OutputFolder.Run(outPath, force, token, outDir =>
        {
            ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                $"Report of {path}: {graph.Parameters.Sum(p => p.Length):N0} parameters, {census.Sites.Count} census sites (dimension {census.Dimension}); {samples} {dataset} training images (seed {seed}), BatchNorm in inference mode, float64"));
            var clock = Stopwatch.StartNew();
            // As in curvature: every per-batch Hessian pass records a fresh graph, and the workstation GC lets the dead ones pile
            // up while memory is free (ResNet-20 at 32 images per batch reached 9 GB without this); collect once the heap has
            // grown by MemoryEstimate.CurvatureCollectAbove.
            int batch = (samples + settings.CurvatureBatches - 1) / settings.CurvatureBatches;
            long collectAbove = GC.GetTotalMemory(false) + (long)MemoryEstimate.CurvatureCollectAbove(values, batch);
            var result = ExperimentConsole.Run("report", (p, t) => ModelReportExperiment.Run(graph, x, y, settings, new InlineProgress<ExperimentProgress>(e =>
            {
                if (GC.GetTotalMemory(false) > collectAbove) GC.Collect();
                p.Report(e);
            }), t), token);
            ModelReportWriter.Write(outDir, path, dataset, result, clock.Elapsed, training);
            return ExitCodes.Ok;
        });
    }

    // The census's verification holds one batch's gradient graph; the curvature records a batch's Hessian graph per product.
    private static void CheckMemory(Graph<double> graph, SymmetryCensus census, (long PerSample, long Fixed) values, int samples, ModelReportSettings settings)
    {
        if (MemoryEstimate.Census(graph, census, samples, null) is { } censusNeed)
            MemoryBudget.Check(string.Create(CultureInfo.InvariantCulture, $"--samples {samples} (the census check)"), censusNeed);
        if (settings.TopK == 0) return;
        long d = graph.Parameters.Sum(p => (long)p.Length);
        int batch = (samples + settings.CurvatureBatches - 1) / settings.CurvatureBatches;
        var need = MemoryEstimate.Curvature(d, values, d, samples, batch, settings.TopK);
        // The curvature modulo the orbit holds the census's tangents and their orthonormal basis, D floats each, when it is computed.
        long tangentEntries = census.Dimension * d;
        if (census.Dimension <= settings.MaxOrbitTangents && tangentEntries <= settings.MaxTangentEntries)
            need = new MemoryNeed([.. need.Terms, new MemoryTerm("orbit tangents and their basis", 2.0 * sizeof(double) * tangentEntries)]);
        MemoryBudget.Check(string.Create(CultureInfo.InvariantCulture, $"--samples {samples} / --trace-probes {settings.TraceProbes} (the curvature)"), need);
    }
}
