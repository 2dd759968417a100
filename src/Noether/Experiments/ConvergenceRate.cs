using Noether.Conservation;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>Progress of a sweep: <paramref name="Done"/> of <paramref name="Total"/> runs finished, the last one described by <paramref name="Label"/>.</summary>
public readonly record struct SweepProgress(string Label, int Done, int Total);

/// <summary>
/// Settings of <see cref="ConvergenceRate"/> (paper Fig. 6, Appendix F.3; the Fig. 3 setting of SPEC "Gradient descent drift").
/// Defaults are the authors' (SPEC "Settings of the authors' toy scripts"): m = 5, n = 10, h = 50, X = I, Y ~ N(0, 1),
/// U and V ~ N(0, σ²) with σ ∈ {0.01, 0.1, 1} for each, learning rate 1e-3 on the mean-reduced loss, 400 000 steps.
/// </summary>
/// <param name="Activations">The σ's; null: identity, ReLU, sigmoid, tanh.</param>
/// <param name="Outputs">m.</param>
/// <param name="Inputs">n (X = I_n, so k = n samples).</param>
/// <param name="Hidden">h.</param>
/// <param name="StdsU">Initial standard deviations of U; null: 0.01, 0.1, 1.</param>
/// <param name="StdsV">Initial standard deviations of V; null: 0.01, 0.1, 1. Every (σ_U, σ_V) pair is run.</param>
/// <param name="LearningRate">GD step size.</param>
/// <param name="MaxSteps">Step limit per run.</param>
/// <param name="ThresholdFraction">"Near convergence" means L ≤ this fraction of the loss of the zero predictor, L(U = 0) (the same level for every init).</param>
/// <param name="MeanReduced">Mean-reduced loss without ½ (the authors' nn.MSELoss) when true; the SPEC loss ½‖·‖² when false.</param>
/// <param name="Records">Loss values kept per run (log-spaced steps).</param>
/// <param name="Seed">Seeds Y and every initialisation.</param>
public sealed record ConvergenceRateSettings(IReadOnlyList<ActivationKind>? Activations = null, int Outputs = 5, int Inputs = 10, int Hidden = 50,
    IReadOnlyList<double>? StdsU = null, IReadOnlyList<double>? StdsV = null, double LearningRate = 1e-3, long MaxSteps = 400_000,
    double ThresholdFraction = 1e-2, bool MeanReduced = true, int Records = 200, int Seed = 0)
{
    /// <summary>Run only this part of the grid (<see cref="ConvergenceRate.GridSize"/>); null: all of it.</summary>
    public Shard? Shard { get; init; }

    /// <summary>A small, fast profile: h = 20, 20 000 steps at learning rate 1e-2.</summary>
    public static ConvergenceRateSettings Quick => new(Hidden: 20, LearningRate: 1e-2, MaxSteps: 20_000, Records: 100);

    /// <summary>The activations used.</summary>
    public IReadOnlyList<ActivationKind> ActivationList => Activations ?? [ActivationKind.Identity, ActivationKind.Relu, ActivationKind.Sigmoid, ActivationKind.Tanh];

    /// <summary>The σ_U values used.</summary>
    public IReadOnlyList<double> StdUList => StdsU ?? [0.01, 0.1, 1];

    /// <summary>The σ_V values used.</summary>
    public IReadOnlyList<double> StdVList => StdsV ?? [0.01, 0.1, 1];

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        Errors.ThrowIfNotPositive((Outputs, "outputs (m)"), (Inputs, "inputs (n)"), (Hidden, "hidden width (h)"));
        Errors.ThrowIfNotPositive((LearningRate, "learning rate"), (ThresholdFraction, "threshold fraction"));
        if (MaxSteps < 1) throw Errors.OutOfRange("max steps", MaxSteps, "at least 1 step");
        if (Records < 2) throw Errors.OutOfRange("records", Records, "at least 2");
        if (ActivationList.Count == 0) throw Errors.Argument(nameof(Activations), "convergence rate: no activations");
        foreach (var a in ActivationList)
            if (!Activation.HasFixedFunction(a)) throw Errors.OutOfRange("activation", a, Activation.FixedFamilies);
        if (StdUList.Count == 0 || StdVList.Count == 0) throw Errors.Argument(nameof(StdsU), "convergence rate: no initial standard deviations");
        foreach (var s in StdUList.Concat(StdVList)) if (!(s >= 0) || double.IsInfinity(s)) throw Errors.OutOfRange("init std", s, "non-negative finite values");
    }
}

/// <summary>One GD run of <see cref="ConvergenceRate"/>.</summary>
/// <param name="Activation">σ.</param>
/// <param name="StdU">Initial std of U.</param>
/// <param name="StdV">Initial std of V.</param>
/// <param name="Q">Eq. 48 at initialisation (½Tr UᵀU − Σ G(V)).</param>
/// <param name="FinalQ">Eq. 48 at the end (differs from Q by the GD drift of Appendix D).</param>
/// <param name="InitialLoss">Loss at step 0.</param>
/// <param name="FinalLoss">Loss at the end.</param>
/// <param name="StepsToThreshold">First step with L ≤ the threshold, or null if never within the limit.</param>
/// <param name="Steps">Recorded steps (log-spaced).</param>
/// <param name="Losses">Loss at those steps.</param>
/// <param name="Diverged">The loss became non-finite.</param>
public sealed record ConvergenceRun(ActivationKind Activation, double StdU, double StdV, double Q, double FinalQ, double InitialLoss, double FinalLoss,
    long? StepsToThreshold, long[] Steps, double[] Losses, bool Diverged);

/// <summary>Rank correlation between Q and the steps to near-convergence for one activation.</summary>
/// <param name="Activation">σ.</param>
/// <param name="Reached">Runs that reached the threshold.</param>
/// <param name="Runs">All runs.</param>
/// <param name="SpearmanReached">Spearman ρ(Q, steps) over the runs that reached the threshold (NaN if fewer than 2).</param>
/// <param name="SpearmanCensored">Spearman ρ(Q, steps) over all runs, counting a run that never reached it as MaxSteps + 1.</param>
/// <param name="SpearmanMagnitude">Spearman ρ(|Q|, steps), censored likewise: GD leaves the saddle at the origin fast when
/// either layer starts large, whatever the sign of Q, so the steps follow |Q| more than Q.</param>
public sealed record ConvergenceCorrelation(ActivationKind Activation, int Reached, int Runs, double SpearmanReached, double SpearmanCensored,
    double SpearmanMagnitude);

/// <summary>The runs and correlations of <see cref="ConvergenceRate"/>.</summary>
/// <param name="Settings">The settings used.</param>
/// <param name="Threshold">The loss level counted as near convergence.</param>
/// <param name="ZeroPredictorLoss">L at U = 0, the reference of the threshold.</param>
/// <param name="Runs">Activation-major, then σ_U, then σ_V (only the shard's, in grid order, when sharded).</param>
/// <param name="Correlations">One per activation among <paramref name="Runs"/>, over its runs (<see cref="ConvergenceRate.Correlate"/>).</param>
public sealed record ConvergenceRateResult(ConvergenceRateSettings Settings, double Threshold, double ZeroPredictorLoss,
    IReadOnlyList<ConvergenceRun> Runs, IReadOnlyList<ConvergenceCorrelation> Correlations);

/// <summary>
/// Paper Fig. 6 (Appendix F.3): steps of full-batch GD until the loss is near convergence, against the conserved quantity Q
/// set by the initial variances of U and V, for each activation; Spearman's rank correlation summarises the relation.
/// A pure function of its settings.
/// </summary>
public static class ConvergenceRate
{
    /// <summary>
    /// The number of grid items: one GD run per (σ, σ_U, σ_V), ordered activation-major, then σ_U, then σ_V. Y is drawn
    /// from the seed before the grid is split and each init from (seed, σ_U index, σ_V index), so every item depends only
    /// on the settings and the item.
    /// </summary>
    public static int GridSize(ConvergenceRateSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.ActivationList.Count * settings.StdUList.Count * settings.StdVList.Count;
    }

    /// <summary>Y ~ N(0, 1) drawn from the seed (before any init), as every item sees it.</summary>
    private static Tensor<double> Targets(ConvergenceRateSettings settings) =>
        Init.Gaussian(Tensor<double>.Zeros(settings.Outputs, settings.Inputs), 1, new Random(settings.Seed));

    /// <summary>
    /// The result of <paramref name="runs"/> (all of the grid, or a shard's): the zero-predictor loss and the threshold
    /// (F = U σ(VX) = 0 at U = 0 whatever σ, so one value for every run) and the per-σ correlations over the runs.
    /// </summary>
    public static ConvergenceRateResult Assemble(ConvergenceRateSettings settings, IReadOnlyList<ConvergenceRun> runs)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(runs);
        settings.Validate();
        double zeroLoss = Problem(settings, settings.ActivationList[0], Targets(settings))
            .Loss(Tensor<double>.Zeros(settings.Outputs, settings.Hidden), Tensor<double>.Zeros(settings.Hidden, settings.Inputs));
        return new ConvergenceRateResult(settings, settings.ThresholdFraction * zeroLoss, zeroLoss, runs, Correlate(settings, runs));
    }

    /// <summary>
    /// Spearman ρ(Q, steps) per activation, in the order the activations first appear in <paramref name="runs"/>: over the
    /// runs that reached the threshold, over all (a run that never did counts as MaxSteps + 1), and against |Q|.
    /// </summary>
    public static IReadOnlyList<ConvergenceCorrelation> Correlate(ConvergenceRateSettings settings, IReadOnlyList<ConvergenceRun> runs)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(runs);
        var correlations = new List<ConvergenceCorrelation>();
        foreach (var group in runs.GroupBy(r => r.Activation))
        {
            var mine = group.ToArray();
            var reached = mine.Where(r => r.StepsToThreshold is not null).ToArray();
            correlations.Add(new ConvergenceCorrelation(group.Key, reached.Length, mine.Length,
                reached.Length >= 2 ? RankCorrelation.Spearman(reached.Select(r => r.Q).ToArray(), reached.Select(r => (double)r.StepsToThreshold!.Value).ToArray()) : double.NaN,
                RankCorrelation.Spearman(mine.Select(r => r.Q).ToArray(), mine.Select(r => (double)(r.StepsToThreshold ?? settings.MaxSteps + 1)).ToArray()),
                RankCorrelation.Spearman(mine.Select(r => Math.Abs(r.Q)).ToArray(), mine.Select(r => (double)(r.StepsToThreshold ?? settings.MaxSteps + 1)).ToArray())));
        }
        return correlations;
    }

    private static TwoLayerProblem Problem(ConvergenceRateSettings settings, ActivationKind activation, Tensor<double> y) =>
        new(new TwoLayerNetwork(Activation.Of(activation, Activation.PyTorchLeakySlope), settings.MeanReduced ? SquaredErrorLoss.Mean : SquaredErrorLoss.HalfSum),
            settings.Hidden, Tensor<double>.Identity(settings.Inputs), y);

    /// <summary>Runs the sweep (the items of <see cref="ConvergenceRateSettings.Shard"/> when set).</summary>
    public static ConvergenceRateResult Run(ConvergenceRateSettings settings, IProgress<SweepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var items = Shard.ItemsOf(settings.Shard, GridSize(settings));
        var y = Targets(settings);
        var threshold = Assemble(settings, []).Threshold;
        var runs = new List<ConvergenceRun>();
        int nu = settings.StdUList.Count, nv = settings.StdVList.Count, done = 0;
        ActivationKind? current = null;
        TwoLayerProblem? problem = null;
        for (int k = items.Start; k < items.End; k++)
        {
            var activation = settings.ActivationList[k / (nu * nv)];
            int iu = k / nv % nu, iv = k % nv;
            if (current != activation)
            {
                problem = Problem(settings, activation, y);
                current = activation;
            }
            double su = settings.StdUList[iu], sv = settings.StdVList[iv];
            // Each run's own stream: the same (seed, σ_U, σ_V) gives the same init whatever else is in the sweep.
            var (u, v) = problem!.Initialise(su, sv, new Random(Seeds.Derive(settings.Seed, iu, iv)));
            double q = ConservedQuantity.IntegralFormAt(problem.Activation, u, v);
            var trace = TwoLayerDescent.Run(problem, u, v, new DescentOptions(settings.LearningRate, settings.MaxSteps, threshold, Records: settings.Records),
                null, cancellationToken);
            runs.Add(new ConvergenceRun(activation, su, sv, q, ConservedQuantity.IntegralFormAt(problem.Activation, u, v), trace.InitialLoss, trace.FinalLoss,
                trace.StepsToThreshold, trace.RecordedSteps, trace.RecordedLosses, trace.Diverged));
            progress?.Report(new SweepProgress($"{activation} σU={su} σV={sv}", ++done, items.Length));
        }
        return Assemble(settings, runs);
    }
}

/// <summary>Deterministic per-run seeds (HashCode.Combine is randomised per process, so it cannot be used).</summary>
internal static class Seeds
{
    /// <summary>A SplitMix64 hash of the seed and the run's indices, folded to a non-negative int.</summary>
    public static int Derive(int seed, params int[] parts)
    {
        ulong h = (ulong)(uint)seed + 0x9E3779B97F4A7C15UL;
        foreach (int p in parts) h = Mix(h ^ ((ulong)(uint)p + 0x632BE59BD9B4E019UL));
        return (int)(Mix(h) & 0x7FFFFFFF);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
