using Noether.Experiments;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>
/// Issue 3's speed item: <c>noether drift</c>'s full setting (Fig. 3; 400,000 GD steps per σ and η, 800,000 for
/// sigmoid; m = 5, h = 50, n = 10, X = I, mean-reduced loss; Q and the eq. 41 check as the command computes them)
/// without the gradient-flow curves, on one core (Parallelism = 1), against the same loop in PyTorch
/// (bench/compare/drift_fig3.py). One run takes minutes in PyTorch: measure it with
/// <c>--only drift --runs 1</c>.
/// </summary>
internal sealed class DriftFig3 : IWorkload
{
    private DriftSettings _settings = null!;
    private DriftResult? _result;

    /// <inheritdoc/>
    public string Name => "drift-fig3-full";

    /// <inheritdoc/>
    public string Item => "issue 3";

    /// <inheritdoc/>
    public string Description => "noether drift full setting: 4 σ × 3 η, 400k GD steps each (800k sigmoid), Q and eq. 41 per step, 1 core";

    /// <inheritdoc/>
    public double? Target => 0.2;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <inheritdoc/>
    public PythonTwin? Python => new("drift_fig3.py", Name, [], NeedsInputs: true);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        _settings = DriftSettings.Paper with { IncludeGradientFlow = false, Parallelism = 1, Seed = context.Seed };
        // The same draws, in the same order, as DriftExperiment.Run makes from the seed.
        var random = new Random(_settings.Seed);
        var y = Gaussian.Matrix(random, _settings.M, _settings.N, _settings.TargetStd);
        var theta0 = TwoLayerParameters.Gaussian(random, _settings.M, _settings.H, _settings.N, _settings.InitStd, _settings.InitStd);
        context.WriteInputs(new Dictionary<string, (double[], int[])>
        {
            ["U"] = Inputs.Entry(theta0.U), ["V"] = Inputs.Entry(theta0.V), ["Y"] = Inputs.Entry(y),
        }, new Dictionary<string, double> { ["steps"] = _settings.Steps, ["records"] = _settings.Records });
    }

    /// <inheritdoc/>
    public void Run() => _result = DriftExperiment.Run(_settings);

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Finish(WorkloadContext context)
    {
        var result = _result ?? throw new InvalidOperationException("Finish before Run");
        var order = new[] { "identity", "relu", "sigmoid", "tanh" };
        var losses = order.SelectMany(a => _settings.LearningRates.Select(eta =>
            result.Curves.Single(c => c.Activation == a && c.LearningRate == eta && !c.IsGradientFlow).Loss[^1])).ToArray();
        context.WriteResults(new Dictionary<string, (double[], int[])> { ["final_loss"] = (losses, [losses.Length]) });
        return new Dictionary<string, object?> { ["curves"] = result.Curves.Count };
    }
}
