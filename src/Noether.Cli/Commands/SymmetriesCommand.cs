using Noether.Graphs;
using Noether.Interop;
using Noether.Symmetry.Census;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether symmetries --model m.onnx [--input x.npy --labels y.npy] --out DIR</c>: the symmetry census of an imported
/// model (every site where a continuous group acts on the parameters, its dimension and conserved quantities), each site
/// verified in float64 at the model's weights on a batch (loss invariance under a random finite element, ⟨∇L, Mθ⟩ = 0),
/// and the orbit dimension as the rank of the tangent map; with <c>--discover</c>, the completeness check by numerical discovery
/// site by site (differences listed as findings). Writes census.csv, conserved.csv, summary.json and census.png.
/// </summary>
internal static class SymmetriesCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "The .onnx model (float parameters; BatchNorm kept as nodes: see docs/onnx.md); or give --weights and --arch." };
        var weights = new Option<string?>("--weights") { Description = "With --arch: a safetensors model file of Noether's MLP or SPEC CNN (PyTorch state_dict names 0.weight, …)." }.ExistingFile();
        var arch = new Option<string?>("--arch") { Description = "With --weights: Noether's architecture string (mlp:… or spec-cnn:…, as in `noether analyze`)." };
        var input = new Option<string?>("--input") { Description = "A batch of inputs (.npy, the model's input shape); default: a seeded N(0, 1) batch." };
        var labels = new Option<string?>("--labels") { Description = "Class labels for --input (.npy of integers); default: seeded random labels." };
        var batch = CommonOptions.PositiveInt("--batch", "Batch size used for the checks (the first rows of --input, or the synthetic batch).", 8);
        var batchNorm = new Option<string>("--batch-norm") { Description = "BatchNormalization semantics: model (as the node says), inference (running statistics) or training (batch statistics).", DefaultValueFactory = _ => "model" };
        batchNorm.AcceptOnlyFromAmong("model", "inference", "training");
        var discover = new Option<bool>("--discover") { Description = "Also check every site's completeness by numerical discovery (seeded N(0, 1) inputs, float64; costs one reverse pass per input and class)." };
        var maxUnknowns = CommonOptions.PositiveInt("--discover-max-unknowns", "Sites whose discovery family has more unknowns are reported as not checked (the rank costs O(unknowns³)).", new DiscoveryOptions().MaxUnknowns);
        var maxInputs = CommonOptions.PositiveInt("--discover-max-inputs", "The most random inputs discovery draws for a site while it exceeds the census (each gives classes − 1 constraints; the escalation goes ×4 up to this).", new DiscoveryOptions().MaxSamples);
        var run = RunOptions.Single("results/symmetries");
        var command = run.Command("symmetries", "The symmetry census of an ONNX model: sites, groups, dimensions and conserved quantities, verified numerically at its weights.",
            model, weights, arch, input, labels, batch, batchNorm, discover, maxUnknowns, maxInputs);
        CliAction.Set(command, (parse, token) =>
        {
            string? onnx = parse.GetValue(model), weightsPath = parse.GetValue(weights), archText = parse.GetValue(arch);
            if ((onnx is null) == (weightsPath is null) || (weightsPath is null) != (archText is null))
                throw Errors.Argument(onnx is null ? "--weights" : "--model", "symmetries needs --model (an ONNX file) or --weights with --arch (Noether's MLP or SPEC CNN), not both");
            string path = onnx ?? weightsPath!;
            var options = new GraphOptions
            {
                BatchNorm = parse.GetValue(batchNorm) switch { "inference" => BatchNormMode.Inference, "training" => BatchNormMode.Training, _ => BatchNormMode.FromModel },
            };
            var graph = onnx is not null ? OnnxModel.Load(onnx).ToGraph<double>(options) : ModelSource.ArchGraph(weightsPath!, archText!);
            if (graph.Inputs.Count != 1) throw Errors.Argument("--model", $"--model {path}: the census needs a model with one input (it has {graph.Inputs.Count})");
            var census = SymmetryCensus.Take(graph);
            if (!parse.GetValue(discover) && parse.GetResult(maxInputs) is { Implicit: false })
                throw Errors.Argument("--discover-max-inputs", "--discover-max-inputs goes with --discover");
            var discoveryOptions = parse.GetValue(discover) ? new DiscoveryOptions { MaxUnknowns = parse.GetValue(maxUnknowns), MaxSamples = parse.GetValue(maxInputs) } : null;
            CheckMemory(graph, census, parse.GetValue(batch), discoveryOptions);
            var rng = new Random(parse.GetValue(run.Seed));
            var (x, y, synthetic) = ImportedModelData.CensusBatch(graph, parse.GetValue(input), parse.GetValue(labels), parse.GetValue(batch), rng, "--input", "--labels", "--model");
            return run.Write(parse, token, outDir =>
            {
                var check = CensusVerification.Verify(graph, census, x, y, rng);
                var discovery = discoveryOptions is null ? null : CensusDiscovery.Run(graph, census, new Random(parse.GetValue(run.Seed)), discoveryOptions);
                SymmetriesWriter.Print(path, census, check, discovery, synthetic, x.Dim(0));
                SymmetriesWriter.Write(outDir, path, census, check, discovery, synthetic, x.Dim(0), parse.GetValue(run.Seed));
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    // Before the batch is drawn: --batch and --discover-max-unknowns are counts a user chooses. A model whose sample shape is
    // not fixed needs --input, whose file bounds the batch.
    private static void CheckMemory(Graph<double> graph, SymmetryCensus census, int batch, DiscoveryOptions? discovery)
    {
        if (MemoryEstimate.Census(graph, census, batch, discovery) is not { } need) return;
        MemoryBudget.Check(discovery is null ? FormattableString.Invariant($"--batch {batch}")
            : FormattableString.Invariant($"--batch {batch} / --discover-max-unknowns {discovery.MaxUnknowns} / --discover-max-inputs {discovery.MaxSamples}"), need);
    }
}
