using System.CommandLine;
using System.Diagnostics;
using Noether.Cli.Output;
using Noether.Experiments;
using Noether.Nn;
using Noether.Serialization;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether analyze</c>: a user's own MLP or SPEC CNN (safetensors from PyTorch or Noether): per pair of consecutive
/// weight layers the symmetry group of the hidden layer, the conserved quantity of gradient flow (Ex. 7 / Ex. 9), the
/// orbit dimension (measured and closed forms, B.6), and the sharpness of the loss on a batch (top Hessian eigenvalue by
/// Lanczos, trace by Hutchinson); optionally a model moved along its orbit (--rescale) or an ensemble of group-transformed
/// members (--ensemble).
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var weights = new Option<string>("--weights") { Description = "The model's weights: a .safetensors file (F32 or F64), e.g. torch's safetensors.torch.save_file(model.state_dict(), …) or `noether train`'s model.safetensors (or give --model)." }.ExistingFile();
        var arch = new Option<string>("--arch") { Description = "The architecture: mlp:N0-N1-…-NL[:relu|leaky-relu[=S]|identity|sigmoid|tanh] (nn.Sequential names 0.weight, 2.weight, …) or spec-cnn[:in=,size=,channels=,hidden=,classes=,slope=] (the CNN of `noether train`). See docs/analyze.md." };
        var data = new Option<string>("--data") { Description = "Dataset of the analysis batch: fashion-mnist or cifar10 (training split).", DefaultValueFactory = _ => "fashion-mnist" };
        data.AcceptOnlyFromAmong("fashion-mnist", "cifar10");
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder with the dataset's files (default: NOETHER_FASHION_MNIST / NOETHER_CIFAR10 or the Debian package's folder)." }.ExistingDirectory();
        var samples = CommonOptions.PositiveInt("--samples", "Images in the analysis batch (drawn with --seed from the training split; all of them if fewer).", 256);
        var probes = new Option<int>("--trace-probes") { Description = "Hutchinson probes for the Hessian trace.", DefaultValueFactory = _ => 30 };
        probes.Validators.Add(r => { if (r.TryGet(out int v) && v <= 0) r.AddError($"--trace-probes must be a positive integer (got {v})"); });
        // Each probe is a Hessian-vector product; the standard error falls like 1/√probes, so 10⁵ already gives 0.3% of one probe's.
        probes.AtMost(100_000, "each probe costs a Hessian-vector product; 10⁵ probes give a standard error of 0.3% of one probe's");
        var lanczos = new Option<int>("--lanczos-iterations") { Description = "Lanczos step limit for the top eigenvalue (0: automatic, up to 100).", DefaultValueFactory = _ => 0 };
        lanczos.Validators.Add(r => { if (r.TryGet(out int v) && v < 0) r.AddError($"--lanczos-iterations must be 0 (automatic) or a positive integer (got {v})"); });
        var noSharpness = new Option<bool>("--no-sharpness") { Description = "Skip the Hessian (top eigenvalue and trace)." };
        var rescale = new Option<bool>("--rescale") { Description = "Also write rescaled.safetensors: the model moved along its orbit by a random positive scaling g = diag(exp(s·z)) on every hidden layer that admits it (loss unchanged)." };
        var rescaleStd = CommonOptions.PositiveDouble("--rescale-std", "s, the standard deviation of log g for --rescale.", 0.5)
            .Bounded(double.Epsilon, 10, "g = exp(s·z) overflows float32 weights beyond");
        var ensemble = new Option<int?>("--ensemble") { Description = "Also write N group-transformed members (MLP: g = I + εM on GL layers, exp(εD) on positive-scaling layers; spec-cnn: the calibrated nonlinear action of Appendix H)." };
        ensemble.Validators.Add(r => { if (r.TryGet(out int? v) && v is <= 0) r.AddError($"--ensemble must be a positive number of members (got {v})"); });
        var ensembleOut = new Option<string?>("--ensemble-out") { Description = "Folder for the ensemble members (default: OUT/ensemble)." };
        var epsilon = CommonOptions.PositiveDouble("--epsilon", "ε of the ensemble's group elements.", 0.1);
        var onnx = ModelAnalyzeCommand.Model();
        var training = ModelAnalyzeCommand.Training();
        var seed = CommonOptions.Seed();
        var output = CommonOptions.Out("results/analyze");
        var force = CommonOptions.Force();

        var command = new Command("analyze", "Analyse your own MLP or SPEC CNN (symmetry groups, conserved quantities, orbit dimensions and sharpness per layer pair; optionally a rescaled model or an ensemble), or any ONNX model with --model (a report: census, conserved quantities, loss along orbits, curvature).")
        {
            weights, arch, onnx, training, data, dataDir, samples, probes, lanczos, noSharpness, rescale, rescaleStd, ensemble, ensembleOut, epsilon, seed, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            if (parse.GetValue(onnx) is { } modelPath)
            {
                ModelAnalyzeCommand.RefuseWeightsOptions(parse, [weights, arch, lanczos, rescale, rescaleStd, ensemble, ensembleOut, epsilon]);
                return Task.FromResult(ModelAnalyzeCommand.Run(modelPath, parse.GetValue(data)!, parse.GetValue(dataDir), parse.GetValue(samples),
                    parse.GetValue(probes), !parse.GetValue(noSharpness), parse.GetValue(seed), parse.GetValue(training), parse.GetValue(output)!, parse.GetValue(force), token));
            }
            if (parse.GetValue(training) is not null) throw Errors.Argument("--training", "--training goes with --model (the report of an imported model and its training run)");
            if (parse.GetValue(weights) is null || parse.GetValue(arch) is null)
                throw Errors.Argument(parse.GetValue(weights) is null ? "--weights" : "--arch", "analyze needs --weights and --arch (your own MLP or SPEC CNN), or --model (an ONNX model)");
            ArchitectureSpec spec;
            try
            {
                spec = ArchitectureSpec.Parse(parse.GetValue(arch)!);
            }
            catch (ArgumentException e)
            {
                throw Errors.Argument("--arch", $"--arch: {e.Message}", e);
            }
            var file = ModelSource.ReadFile(parse.GetValue(weights)!, "--weights");
            var model = file.Build(spec);
            var settings = new AnalyzeSettings(spec, parse.GetValue(data)!, parse.GetValue(dataDir), parse.GetValue(samples), parse.GetValue(probes),
                parse.GetValue(lanczos), !parse.GetValue(noSharpness), parse.GetValue(rescale), parse.GetValue(rescaleStd), parse.GetValue(ensemble),
                parse.GetValue(epsilon), parse.GetValue(seed));
            // The Hessian graph of --samples images and the Lanczos basis (MemoryEstimate.Analyze): activations per image are
            // the conv's outputs for the SPEC CNN, the hidden and output widths for an MLP.
            long activations = model is SpecCnn<double> cnn ? (long)cnn.Conv.OutChannels * cnn.ImageSize * cnn.ImageSize
                : model.Layers.OfType<Linear<double>>().Sum(l => (long)l.OutFeatures);
            if (settings.Sharpness)
                MemoryBudget.Check(string.Create(CultureInfo.InvariantCulture, $"--samples {settings.Samples} / --trace-probes {settings.TraceProbes} / --lanczos-iterations {settings.LanczosIterations}"),
                    MemoryEstimate.Analyze(model.ParameterCount, activations, settings.Dataset, settings.Samples, settings.TraceProbes, settings.LanczosIterations));
            if (settings.Rescale && !AnalyzeExperiment.HasLinearGroup(spec, model))
                throw Errors.Argument("--rescale", $"--rescale: no hidden layer of {spec.Text} admits a positive scaling (the activation is not homogeneous)");
            if (settings.Ensemble is not null && model is not SpecCnn<double> && !AnalyzeExperiment.HasLinearGroup(spec, model))
                throw Errors.Argument("--ensemble", $"--ensemble: no hidden layer of {spec.Text} admits a linear symmetry group (the activation is not homogeneous): every member would equal the model");

            bool forced = parse.GetValue(force);
            // --out and --ensemble-out are staged apart; both replace their folders only once the run has completed (the
            // default ensemble folder lies inside --out's staging folder and goes with it).
            using var outFolder = OutputFolder.Begin(parse.GetValue(output), forced);
            string outDir = outFolder.Staging;
            OutputFolder? ensembleFolder = null;
            try
            {
                string? ensembleDir = null;
                if (settings.Ensemble is not null)
                {
                    string? requested = parse.GetValue(ensembleOut);
                    try
                    {
                        ensembleFolder = OutputFolder.Begin(requested ?? Path.Combine(outDir, "ensemble"), forced, "--ensemble-out");
                    }
                    catch (ArgumentException e) when (requested is not null)
                    {
                        throw Errors.Argument("--ensemble-out", Errors.Plain(e), e);
                    }
                    ensembleDir = ensembleFolder.Staging;
                }
                Run(settings, file, model, outDir, ensembleDir, token);
                ensembleFolder?.Commit(token);
                outFolder.Commit(token);
                return Task.FromResult(ExitCodes.Ok);
            }
            finally
            {
                ensembleFolder?.Dispose();
            }
        });
        return command;
    }

    private static void Run(AnalyzeSettings settings, ModelFile file, Sequential<double> model, string outDir, string? ensembleDir, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        ExperimentConsole.Line($"Analysing {file.Path} as {settings.Spec.Text}: {model.ParameterCount} parameters ({SafeTensors.DTypeName(file.DType)}), float64 analysis");
        if (settings.Sharpness)
            ExperimentConsole.Line($"Hessian of the mean cross-entropy w.r.t. all {model.ParameterCount} parameters: Lanczos (top eigenvalue), Hutchinson ({settings.TraceProbes} probes)…");
        AnalyzeResult result;
        try
        {
            result = ExperimentConsole.Run("analyze", (p, c) => AnalyzeExperiment.Run(settings, file, model, p, c), token);
        }
        catch (ArgumentException e) when (e.ParamName is nameof(AnalyzeSettings.Spec) or nameof(AnalyzeSettings.Epsilon))
        {
            string option = e.ParamName == nameof(AnalyzeSettings.Spec) ? "--arch" : "--ensemble";
            throw Errors.Argument(option, $"{option}: {e.Message}", e);
        }
        ExperimentConsole.Line(AnalyzeWriter.BatchLine(result));
        token.ThrowIfCancellationRequested();
        AnalyzeWriter.Write(outDir, ensembleDir, file, result, clock.Elapsed);
    }
}
