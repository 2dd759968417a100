using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Cli.Output;
using Noether.Experiments;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether sharpness</c>: Appendix G. By default Fig. 8 — two-layer networks (U 10×50, V 50×5, 750 parameters) trained by
/// GD from inits of different Q, the full Hessian spectrum at the trained point, the count of |λ| ≤ 1e-3 against the derived
/// dimension of the minimum manifold, the centre of the rest against Q — plus the 1-D closed form √(Q² + 4) of G.1. With
/// <c>--weights</c>: matrix-free top-k eigenvalues (Lanczos), trace (Hutchinson) and spectral density (stochastic Lanczos
/// quadrature) of a saved SPEC CNN's cross-entropy Hessian on a batch of training data, for the whole model or per tensor;
/// with <c>--model m.onnx</c> the same estimate for an imported graph (float64, BatchNorm in inference mode).
/// </summary>
internal static class SharpnessCommand
{
    /// <summary>The Fig. 8 settings of a profile, all in the paper's shapes (750 parameters): quick (six init stds, ‖∇L‖ ≤ 1e-9), default (eight stds, ≤ 1e-10), full (eight stds, ≤ 1e-11).</summary>
    public static SharpnessSpectrumSettings ForProfile(string profile, int seed) => profile switch
    {
        "quick" => new SharpnessSpectrumSettings(Stds: [0.001, 0.2, 0.4, 0.6, 0.8, 1.0], MaxSteps: 20_000, GradientTolerance: 1e-9, Seed: seed),
        "full" => new SharpnessSpectrumSettings(Seed: seed),
        _ => new SharpnessSpectrumSettings(MaxSteps: 100_000, GradientTolerance: 1e-10, Seed: seed),
    };

    /// <summary>
    /// --top-k against the model's n parameters, and the run's memory (the recorded Hessian graph of --samples images and
    /// the Lanczos bases of --top-k and --density-steps: <see cref="SharpnessModel.Memory"/>) within <see cref="MemoryBudget.Limit"/>.
    /// </summary>
    private static void CheckEstimate(SharpnessEstimateSettings s, SharpnessInput input)
    {
        int n = input.Parameters;
        if (s.TopK > n) throw Errors.Argument("--top-k", $"--top-k {s.TopK}: more eigenvalues than the model's {n} parameters");
        MemoryBudget.Check(string.Create(CultureInfo.InvariantCulture, $"--samples {input.Samples} / --top-k {s.TopK} / --density-steps {s.DensitySteps}"),
            input.Model.Memory(input.Dataset, input.Samples, s));
    }

    public static Command Create()
    {
        var profile = CommonOptions.Profile("Fig. 8 mode, always the paper's 750 parameters: quick (six init stds), default (eight stds) or full (eight stds, GD until ‖∇L‖ ≤ 1e-11).");
        var weights = new Option<string?>("--weights") { Description = "A SPEC CNN saved by `noether train` (safetensors): estimate its Hessian's top eigenvalues, trace and spectral density instead of Fig. 8." }.ExistingFile();
        var model = new Option<string?>("--model") { Description = "An ONNX model (torch.onnx.export; output 0 the logits): the same estimate for it, in float64 with BatchNorm in inference mode." }.ExistingFile();
        var data = new Option<string>("--data") { Description = "With --weights or --model: the dataset whose training images form the batch (fashion-mnist or cifar10).", DefaultValueFactory = _ => "fashion-mnist" };
        data.AcceptOnlyFromAmong("fashion-mnist", "cifar10");
        var dataDir = new Option<string?>("--data-dir") { Description = "With --weights or --model: folder with the dataset's files (default: the Debian package's folder for Fashion-MNIST)." }.ExistingDirectory();
        var samples = CommonOptions.PositiveInt("--samples", "With --weights or --model: training images in the batch (the first N).", 128);
        var scope = new Option<string>("--scope") { Description = "With --weights or --model: model (the whole Hessian) or layer (the diagonal block of each parameter tensor).", DefaultValueFactory = _ => "model" };
        scope.AcceptOnlyFromAmong("model", "layer");
        var topK = CommonOptions.PositiveInt("--top-k", "With --weights or --model: largest eigenvalues wanted (Lanczos on Hessian-vector products).", 5);
        var probes = CommonOptions.PositiveInt("--probes", "With --weights or --model: Rademacher probes of Hutchinson's trace estimator.", 100)
            .AtMost(100_000, "each probe costs a Hessian-vector product; 10⁵ probes give a standard error of 0.3% of one probe's");
        var densityProbes = CommonOptions.PositiveInt("--density-probes", "With --weights or --model: probes of the stochastic Lanczos quadrature density.", 5);
        var densitySteps = CommonOptions.PositiveInt("--density-steps", "With --weights or --model: Lanczos steps per density probe.", 60);
        var run = RunOptions.Sweep("results/sharpness");

        var command = run.Command("sharpness", "Appendix G: Hessian spectra against Q — Fig. 8 (750-parameter nets, flat count vs the derived minimum-manifold dimension, centre vs Q) and the 1-D √(Q²+4); with --weights or --model, top-k / trace / spectral density of a saved CNN or an ONNX model.",
            profile, weights, model, data, dataDir, samples, scope, topK, probes, densityProbes, densitySteps);
        CliAction.Set(command, (parse, token) =>
        {
            string profileName = parse.GetValue(profile)!;
            int seedValue = parse.GetValue(run.Seed);
            string? weightsPath = parse.GetValue(weights), modelPath = parse.GetValue(model);
            if (weightsPath is not null && modelPath is not null)
                throw Errors.Argument("--model", "--model and --weights: give one model (--model an ONNX file, --weights a SPEC CNN's safetensors), not both");
            var part = run.ShardOf(parse);
            if (weightsPath is null && modelPath is null)
            {
                var settings = ForProfile(profileName, seedValue) with { Shard = part };
                return run.Write(parse, token, outDir =>
                {
                    var clock = Stopwatch.StartNew();
                    ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                        $"Fig. 8, profile {profileName}: m = {settings.Outputs}, h = {settings.Hidden}, n = {settings.Inputs} ({settings.Hidden * (settings.Outputs + settings.Inputs)} parameters), X = I, init std ∈ {{{string.Join(", ", settings.StdList)}}}, GD lr {settings.LearningRate} on {(settings.MeanReduced ? "‖Y − F‖²/(m·k)" : "½‖Y − F‖²")}, Hessian of ½‖Y − F‖²"));
                    var scalar = SharpnessScalarNetwork.Run();
                    var result = ExperimentConsole.Run("Fig. 8", (p, c) => SharpnessSpectrum.Run(settings, ConvergeCommand.Adapt(p), c), token);
                    SharpnessWriter.Figure8(outDir, profileName, result, scalar, clock.Elapsed);
                    if (part is not null)
                        ShardOutput.Complete(outDir, "sharpness", profileName, part, SharpnessSpectrum.GridSize(settings), settings, null, result.Runs,
                            ["sharpness-spectra.csv", "sharpness-runs.csv"], clock.Elapsed);
                    return ExitCodes.Ok;
                });
            }
            if (part is not null)
                throw Errors.Argument("--shard", $"--shard {part} applies to the Fig. 8 sweep only; {(modelPath is null ? "--weights" : "--model")} estimates one model and cannot be sharded (drop --shard)");
            var estimate = new SharpnessEstimateSettings(TopK: parse.GetValue(topK), TraceProbes: parse.GetValue(probes), DensityProbes: parse.GetValue(densityProbes),
                DensitySteps: parse.GetValue(densitySteps), Seed: seedValue);
            SharpnessInput input;
            string path = weightsPath ?? modelPath!, option = weightsPath is null ? "--model" : "--weights";
            try
            {
                input = weightsPath is not null
                    ? SharpnessWeights.Load(ModelSource.ReadFile(weightsPath, "--weights"), parse.GetValue(data)!, parse.GetValue(dataDir), parse.GetValue(samples))
                    : SharpnessWeights.LoadModel(modelPath!, parse.GetValue(data)!, parse.GetValue(dataDir), parse.GetValue(samples));
            }
            catch (ArgumentOutOfRangeException e) when (e.ParamName == "samples")
            {
                throw Errors.ArgumentOutOfRange("--samples", e.ActualValue, "--" + Errors.Plain(e));
            }
            catch (ArgumentException e) when (e.ParamName is "weights" or "model")
            {
                throw Errors.Argument(option, $"{option}: {e.Message}", e);
            }
            catch (DataFormatException e) when (modelPath is not null && e.FilePath == modelPath)
            {
                throw Errors.Argument("--model", $"--model: {e.Message}", e);
            }
            bool perLayer = parse.GetValue(scope) == "layer";
            CheckEstimate(estimate, input);
            return run.Write(parse, token, dir =>
            {
                var clock = Stopwatch.StartNew();
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Hessian of the mean cross-entropy of {path} ({input.Model.Kind}, {input.Parameters} parameters, float64{(modelPath is null ? "" : ", BatchNorm in inference mode")}) on the first {input.Samples} {input.Dataset} training images; scope {(perLayer ? "per tensor" : "whole model")}"));
                IReadOnlyList<SharpnessBlock> blocks;
                try
                {
                    blocks = ExperimentConsole.Run("sharpness", (p, c) => SharpnessWeights.Estimate(input, perLayer, estimate, ConvergeCommand.Adapt(p), c), token);
                }
                catch (ArgumentOutOfRangeException e) when (e.ParamName == "top k")
                {
                    throw Errors.Argument("--top-k", $"--top-k: {Errors.Plain(e)}", e);
                }
                SharpnessWriter.Weights(dir, profileName, modelPath is null ? "weights" : "model", path, input, perLayer, estimate, blocks, clock.Elapsed);
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
