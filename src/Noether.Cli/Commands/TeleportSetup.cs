// ValleyCommand still names the settings NetworkSettings; the library type is TwoLayerRegressionSettings.
global using NetworkSettings = Noether.Experiments.TwoLayerRegressionSettings;
using System.CommandLine;
using Noether.Experiments;
using Noether.Nn;

namespace Noether.Cli.Commands;

/// <summary>The options <see cref="TeleportCommand"/> and <see cref="ValleyCommand"/> share, and their training step (now in the library: <see cref="TwoLayerRegression"/>).</summary>
internal static class TeleportSetup
{
    public static Option<string> Profile(string full) => CommonOptions.Profile($"quick (seconds), default (under a minute on 2 cores) or full ({full}).");

    public static Option<string?> Shape()
    {
        var shape = new Option<string?>("--shape") { Description = "m×h×n of the network (default: the profile's).", HelpName = "MxHxN" };
        shape.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            try { ListOptions.ParseShape(r.Tokens[0].Value); }
            catch (FormatException e) { r.AddError($"--shape: {e.Message}"); }
        });
        return shape;
    }

    public static Option<string> Activation() => WithChoices(new Option<string>("--activation")
    {
        Description = "σ: identity (group GL_h, conserved UᵀU − VVᵀ), relu or leaky-relu (positive scaling, conserved diag(UᵀU − VVᵀ)).",
        DefaultValueFactory = _ => "identity",
    }, ["identity", "relu", "leaky-relu"]);

    public static Option<string?> Weights() => new Option<string?>("--weights")
    {
        Description = "A safetensors file with tensors U (m×h) and V (h×n) (e.g. trained.safetensors of an earlier run with the same --seed) to use instead of training.",
    }.ExistingFile();

    private static Option<string> WithChoices(Option<string> option, string[] choices)
    {
        option.AcceptOnlyFromAmong(choices);
        return option;
    }

    // --activation accepts only the choices above, every one a name Activation.Parse knows.
    public static ActivationKind ParseActivation(string name) => Noether.Nn.Activation.Parse(name).Kind;

    /// <summary>Builds the data, then loads or trains (U, V): <see cref="TwoLayerRegression.Build"/>.</summary>
    public static TrainedTwoLayer Build(NetworkSettings s, IProgress<ExperimentProgress>? progress, CancellationToken token) => TwoLayerRegression.Build(s, progress, token);

    /// <summary>One line describing the network and how it was obtained: <see cref="TwoLayerRegression.Describe"/>.</summary>
    public static string Describe(NetworkSettings s, TrainedTwoLayer net) => TwoLayerRegression.Describe(s, net);
}
