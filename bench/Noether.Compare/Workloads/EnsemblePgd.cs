using Noether.Attacks;
using Noether.Data;
using Noether.Ensembles;
using Noether.Experiments;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>
/// (e) Issue 5's speed item: a 10-member group ensemble of the SPEC CNN under PGD-10 on the 10,000 Fashion-MNIST test
/// images, float32, adaptive threat model (gradients through the ensemble: cross-entropy of the members' averaged
/// logits), L∞ ε = 8/255, step 2/255, random start, batches of 500; then the ensemble's mode vote on the adversarial
/// images. Twin: bench/compare/ensemble_pgd.py.
/// </summary>
/// <remarks>
/// Untimed: data loading, training the model (one epoch, Adam 1e-3, batch 128, seeded) and building the ensemble
/// (ε_g = 0.3, k = h = 32 calibration images per member). The C# side writes the model's weights and every member's
/// (A = g, U π) into the input bundle, so PyTorch evaluates exactly the same members; only the PGD random starts are
/// drawn independently on each side (same distribution), so the adversarial accuracies agree statistically (within a
/// point), while the clean ensemble accuracy — the check — must agree exactly up to float32 near-ties.
/// </remarks>
internal sealed class EnsemblePgd : IWorkload
{
    private const int Members = 10, BatchSize = 500;
    private const double EnsembleEpsilon = 0.3;
    private ImageDataset _test = null!;
    private Ensemble<float> _ensemble = null!;
    private AttackTarget<float> _target = null!;
    private int _seed, _run;
    private double _adversarialAccuracy;

    /// <inheritdoc/>
    public string Name => "ensemble-pgd10";

    /// <inheritdoc/>
    public string Item => "(e)";

    /// <inheritdoc/>
    public string Description => "10-member group ensemble, adaptive PGD-10 (ε 8/255, α 2/255, random start) + mode vote, 10,000 test images, float32 (issue 5)";

    /// <inheritdoc/>
    public double? Target => 1.0;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <inheritdoc/>
    public PythonTwin? Python => new("ensemble_pgd.py", Name, [], NeedsInputs: true);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        _seed = context.Seed;
        var settings = new CnnTrainingSettings(Epochs: 1, Seed: _seed);
        var (train, test) = CnnTraining.Load(settings);
        _test = test;
        var model = CnnTraining.Run(settings, train, test).Model;
        _ensemble = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Group, EnsembleEpsilon, Members, _seed));
        if (_ensemble.Count != Members) throw new InvalidOperationException($"ensemble-pgd10: {_ensemble.Rejected} members were rejected as ill-conditioned");
        _target = AttackTarget<float>.Ensemble(_ensemble);

        int h = model.Hidden.OutFeatures, c = model.Output.OutFeatures;
        var a = new double[Members * h * h];
        var u = new double[Members * c * h];
        for (int m = 0; m < Members; m++)
        {
            // The members run in float32 on both sides: round once here so PyTorch gets the very numbers Noether uses.
            var member = _ensemble.Members[m];
            for (int i = 0; i < h * h; i++) a[m * h * h + i] = (float)member.HiddenTransform.Data[i];
            for (int i = 0; i < c * h; i++) u[m * c * h + i] = (float)member.OutputWeight.Data[i];
        }
        var arrays = new Dictionary<string, (double[] Data, int[] Shape)>
        {
            ["members_A"] = (a, [Members, h, h]),
            ["members_U"] = (u, [Members, c, h]),
        };
        foreach (var p in model.Parameters) arrays["model_" + p.Name] = (p.Value.Cast<double>().Data, p.Value.ShapeArray);
        context.WriteInputs(arrays, new Dictionary<string, double>
        {
            ["epsilon"] = LinfAttack.DefaultEpsilon,
            ["step_size"] = LinfAttack.DefaultStepSize,
            ["steps"] = LinfAttack.DefaultSteps,
            ["batch"] = BatchSize,
            ["leaky_slope"] = model.Activation.Slope,
            ["clean_accuracy"] = _ensemble.Accuracy(test, EnsembleVote.Mode),
        });
    }

    /// <inheritdoc/>
    public void Run()
    {
        // A new random-start seed per run, as PyTorch's generator advances between runs.
        var adversarial = LinfAttacks.Perturb(_target, _test, LinfAttack.Pgd(), _seed + _run++, BatchSize);
        _adversarialAccuracy = _ensemble.Accuracy(adversarial, EnsembleVote.Mode, BatchSize);
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Finish(WorkloadContext context)
    {
        double clean = _ensemble.Accuracy(_test, EnsembleVote.Mode);
        context.WriteResults(new Dictionary<string, (double[], int[])>
        {
            ["clean_accuracy"] = ([clean], [1]),
            ["adversarial_accuracy"] = ([_adversarialAccuracy], [1]),
        });
        return new Dictionary<string, object?>
        {
            ["clean_ensemble_accuracy"] = clean,
            ["adversarial_ensemble_accuracy"] = _adversarialAccuracy,
            ["members"] = _ensemble.Count,
            ["threat_model"] = "adaptive (averaged logits)",
        };
    }
}
