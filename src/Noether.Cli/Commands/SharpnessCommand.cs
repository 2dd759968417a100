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
/// quadrature) of a saved SPEC CNN's cross-entropy Hessian on a batch of training data, for the whole model or per tensor.
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
    /// the Lanczos bases of --top-k and --density-steps: <see cref="MemoryEstimate.Sharpness"/>) within <see cref="MemoryBudget.Limit"/>.
    /// </summary>
    private static void CheckEstimate(SharpnessEstimateSettings s, SharpnessInput input)
    {
        int n = input.Parameters;
        if (s.TopK > n) throw Errors.Argument("--top-k", $"--top-k {s.TopK}: more eigenvalues than the model's {n} parameters");
        long activations = (long)input.Model.Conv.OutChannels * input.Model.ImageSize * input.Model.ImageSize;
        MemoryBudget.Check(string.Create(CultureInfo.InvariantCulture, $"--samples {input.Samples} / --top-k {s.TopK} / --density-steps {s.DensitySteps}"),
            MemoryEstimate.Sharpness(n, activations, input.Dataset, input.Samples, s));
    }

    public static Command Create()
    {
        var profile = CommonOptions.Profile("Fig. 8 mode, always the paper's 750 parameters: quick (six init stds), default (eight stds) or full (eight stds, GD until ‖∇L‖ ≤ 1e-11).");
        var weights = new Option<string?>("--weights") { Description = "A SPEC CNN saved by `noether train` (safetensors): estimate its Hessian's top eigenvalues, trace and spectral density instead of Fig. 8." }.ExistingFile();
        var data = new Option<string>("--data") { Description = "With --weights: the dataset whose training images form the batch (fashion-mnist or cifar10).", DefaultValueFactory = _ => "fashion-mnist" };
        data.AcceptOnlyFromAmong("fashion-mnist", "cifar10");
        var dataDir = new Option<string?>("--data-dir") { Description = "With --weights: folder with the dataset's files (default: the Debian package's folder for Fashion-MNIST)." }.ExistingDirectory();
        var samples = CommonOptions.PositiveInt("--samples", "With --weights: training images in the batch (the first N).", 128);
        var scope = new Option<string>("--scope") { Description = "With --weights: model (the whole Hessian) or layer (the diagonal block of each parameter tensor).", DefaultValueFactory = _ => "model" };
        scope.AcceptOnlyFromAmong("model", "layer");
        var topK = CommonOptions.PositiveInt("--top-k", "With --weights: largest eigenvalues wanted (Lanczos on Hessian-vector products).", 5);
        var probes = CommonOptions.PositiveInt("--probes", "With --weights: Rademacher probes of Hutchinson's trace estimator.", 100)
            .AtMost(100_000, "each probe costs a Hessian-vector product; 10⁵ probes give a standard error of 0.3% of one probe's");
        var densityProbes = CommonOptions.PositiveInt("--density-probes", "With --weights: probes of the stochastic Lanczos quadrature density.", 5);
        var densitySteps = CommonOptions.PositiveInt("--density-steps", "With --weights: Lanczos steps per density probe.", 60);
        var run = RunOptions.Sweep("results/sharpness");

        var command = run.Command("sharpness", "Appendix G: Hessian spectra against Q — Fig. 8 (750-parameter nets, flat count vs the derived minimum-manifold dimension, centre vs Q) and the 1-D √(Q²+4); with --weights, top-k / trace / spectral density of a saved CNN.",
            profile, weights, data, dataDir, samples, scope, topK, probes, densityProbes, densitySteps);
        CliAction.Set(command, (parse, token) =>
        {
            string profileName = parse.GetValue(profile)!;
            int seedValue = parse.GetValue(run.Seed);
            string? weightsPath = parse.GetValue(weights);
            var part = run.ShardOf(parse);
            if (weightsPath is null)
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
                throw Errors.Argument("--shard", $"--shard {part} applies to the Fig. 8 sweep only; --weights estimates one model and cannot be sharded (drop --shard)");
            var estimate = new SharpnessEstimateSettings(TopK: parse.GetValue(topK), TraceProbes: parse.GetValue(probes), DensityProbes: parse.GetValue(densityProbes),
                DensitySteps: parse.GetValue(densitySteps), Seed: seedValue);
            var file = ModelSource.ReadFile(weightsPath, "--weights");
            SharpnessInput input;
            try
            {
                input = SharpnessWeights.Load(file, parse.GetValue(data)!, parse.GetValue(dataDir), parse.GetValue(samples));
            }
            catch (ArgumentOutOfRangeException e) when (e.ParamName == "samples")
            {
                throw Errors.ArgumentOutOfRange("--samples", e.ActualValue, "--" + Errors.Plain(e));
            }
            catch (ArgumentException e) when (e.ParamName == "weights")
            {
                throw Errors.Argument("--weights", $"--weights: {e.Message}", e);
            }
            bool perLayer = parse.GetValue(scope) == "layer";
            CheckEstimate(estimate, input);
            return run.Write(parse, token, dir =>
            {
                var clock = Stopwatch.StartNew();
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Hessian of the mean cross-entropy of {weightsPath} ({input.Parameters} parameters, float64) on the first {input.Samples} {input.Dataset} training images; scope {(perLayer ? "per tensor" : "whole model")}"));
                IReadOnlyList<SharpnessBlock> blocks;
                try
                {
                    blocks = ExperimentConsole.Run("sharpness", (p, c) => SharpnessWeights.Estimate(input, perLayer, estimate, ConvergeCommand.Adapt(p), c), token);
                }
                catch (ArgumentOutOfRangeException e) when (e.ParamName == "top k")
                {
                    throw Errors.Argument("--top-k", $"--top-k: {Errors.Plain(e)}", e);
                }
                SharpnessWriter.Weights(dir, profileName, weightsPath, input, perLayer, estimate, blocks, clock.Elapsed);
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
