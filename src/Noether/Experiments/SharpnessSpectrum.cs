using Noether.Autodiff;
using Noether.Conservation;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>
/// Settings of <see cref="SharpnessSpectrum"/> (paper Fig. 8, Appendix G.2). Defaults: the paper's shapes m = 10, n = 5,
/// h = 50 (750 parameters), X = I₅, Y ~ N(0, 1); U and V share one init std, swept over eight values that include the
/// authors' {0.001, 0.3, 0.6, 0.9}; GD at the authors' learning rate 0.1 on the mean-reduced loss, run until the
/// gradient is negligible (their 4000 steps do not reach a minimum from the smallest std).
/// </summary>
/// <param name="Activations">σ's; null: identity, ReLU, tanh.</param>
/// <param name="Outputs">m.</param>
/// <param name="Inputs">n (X = I_n).</param>
/// <param name="Hidden">h.</param>
/// <param name="Stds">Shared init std of U and V; null: 0.001, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 1.05.</param>
/// <param name="LearningRate">GD step size on the training loss.</param>
/// <param name="MeanReduced">Train on the mean-reduced loss without ½ (authors) or on ½‖·‖² (SPEC).</param>
/// <param name="MaxSteps">Step limit.</param>
/// <param name="GradientTolerance">Stop when the training loss's ‖∇L‖ ≤ this.</param>
/// <param name="FlatThreshold">|λ| at or below this counts as flat (the paper's 1e-3).</param>
/// <param name="Seed">Seeds Y and the inits.</param>
public sealed record SharpnessSpectrumSettings(IReadOnlyList<ActivationKind>? Activations = null, int Outputs = 10, int Inputs = 5, int Hidden = 50,
    IReadOnlyList<double>? Stds = null, double LearningRate = 0.1, bool MeanReduced = true, long MaxSteps = 300_000, double GradientTolerance = 1e-11,
    double FlatThreshold = 1e-3, int Seed = 0)
{
    /// <summary>Run only this part of the grid (<see cref="SharpnessSpectrum.GridSize"/>); null: all of it.</summary>
    public Shard? Shard { get; init; }

    /// <summary>A small, fast profile: h = 10 (150 parameters), six stds, 50 000 steps.</summary>
    public static SharpnessSpectrumSettings Quick => new(Hidden: 10, Stds: [0.001, 0.2, 0.4, 0.6, 0.8, 1.0], MaxSteps: 50_000);

    /// <summary>The activations used.</summary>
    public IReadOnlyList<ActivationKind> ActivationList => Activations ?? [ActivationKind.Identity, ActivationKind.Relu, ActivationKind.Tanh];

    /// <summary>The stds used.</summary>
    public IReadOnlyList<double> StdList => Stds ?? [0.001, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 1.05];

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        Errors.ThrowIfNotPositive(Outputs, "outputs (m)");
        Errors.ThrowIfNotPositive(Inputs, "inputs (n)");
        Errors.ThrowIfNotPositive(Hidden, "hidden width (h)");
        Errors.ThrowIfNotPositive(LearningRate, "learning rate");
        Errors.ThrowIfNotPositive(GradientTolerance, "gradient tolerance");
        if (!(FlatThreshold >= 0)) throw Errors.OutOfRange("flat threshold", FlatThreshold, "a non-negative threshold");
        if (MaxSteps < 1) throw Errors.OutOfRange("max steps", MaxSteps, "at least 1 step");
        if (ActivationList.Count == 0) throw Errors.Argument(nameof(Activations), "sharpness: no activations");
        foreach (var a in ActivationList)
            if (!Activation.HasFixedFunction(a)) throw Errors.OutOfRange("activation", a, Activation.FixedFamilies);
        if (StdList.Count == 0) throw Errors.Argument(nameof(Stds), "sharpness: no init stds");
        foreach (var s in StdList) if (!(s > 0) || double.IsInfinity(s)) throw Errors.OutOfRange("init std", s, "positive finite values");
        if ((long)Hidden * (Outputs + Inputs) > 5000)
            throw Errors.OutOfRange("parameters", Hidden * (Outputs + Inputs), "at most 5000 parameters for a full Hessian (use SharpnessEstimate for larger models)");
    }
}

/// <summary>One trained network and its Hessian spectrum.</summary>
/// <param name="Activation">σ.</param>
/// <param name="Std">Shared init std.</param>
/// <param name="Q">Eq. 48 at initialisation (linear: ½Tr[UᵀU − VVᵀ]).</param>
/// <param name="FinalQ">Eq. 48 at the trained point.</param>
/// <param name="Steps">GD steps taken.</param>
/// <param name="FinalLoss">The SPEC loss ½‖Y − Uσ(V)‖² at the trained point.</param>
/// <param name="GradientNorm">‖∇‖ of the SPEC loss at the trained point.</param>
/// <param name="Eigenvalues">All Hessian eigenvalues of the SPEC loss, ascending.</param>
/// <param name="Summary">Flat count, centre (median, mean) of the rest, extremes.</param>
/// <param name="FibreDimension">Linear only: h(m+n) − mn + (m − r_U)(n − r_V) with the numerical ranks at the trained point (see <see cref="LinearMinimum"/>).</param>
/// <param name="GaussNewtonError">Linear only: max |λ − 2c(αᵢ + βⱼ)| over the curved eigenvalues (sorted), i.e. how exactly the spectrum is the Kronecker sum predicted at a minimum.</param>
/// <param name="HessianSeconds">Wall time of this run's full Hessian plus its eigendecomposition (a timing, not a result).</param>
public sealed record SharpnessRun(ActivationKind Activation, double Std, double Q, double FinalQ, long Steps, double FinalLoss, double GradientNorm,
    double[] Eigenvalues, SpectrumSummary Summary, int? FibreDimension, double? GaussNewtonError, double HessianSeconds);

/// <summary>Spearman correlations of the spectrum's centre with Q for one activation.</summary>
/// <param name="Activation">σ.</param>
/// <param name="MedianVsQ">ρ(Q, median of the curved eigenvalues).</param>
/// <param name="MeanVsQ">ρ(Q, mean of the curved eigenvalues).</param>
/// <param name="MaxVsQ">ρ(Q, λ_max).</param>
public sealed record SharpnessCorrelation(ActivationKind Activation, double MedianVsQ, double MeanVsQ, double MaxVsQ);

/// <summary>The runs of <see cref="SharpnessSpectrum"/>.</summary>
/// <param name="Settings">The settings used.</param>
/// <param name="Runs">Activation-major, then std (only the shard's, in grid order, when sharded).</param>
/// <param name="Correlations">One per activation among <paramref name="Runs"/>, over its runs (<see cref="SharpnessSpectrum.Correlate"/>).</param>
/// <param name="HessianSeconds">Mean wall time of one full Hessian plus its eigendecomposition over <paramref name="Runs"/>.</param>
public sealed record SharpnessSpectrumResult(SharpnessSpectrumSettings Settings, IReadOnlyList<SharpnessRun> Runs, IReadOnlyList<SharpnessCorrelation> Correlations,
    double HessianSeconds);

/// <summary>
/// Paper Fig. 8 (Appendix G.2): two-layer networks trained by GD from inits of different Q, then the full Hessian of the
/// SPEC loss ½‖Y − U σ(VX)‖²_F at the trained point (exact, by double backward) and its eigenvalues (<see cref="Tensors.LinearAlgebra.SymmetricEigen"/>: own tridiagonalisation + LAPACK dsterf_).
/// Reports the number of flat eigenvalues against the derived dimension of the minimum manifold and the centre of the
/// rest against Q. A pure function of its settings.
/// </summary>
public static class SharpnessSpectrum
{
    /// <summary>
    /// The number of grid items: one trained network per (σ, init std), ordered activation-major (every std of σ₁, then σ₂ …).
    /// Y is drawn from the seed before the grid is split and each init from (seed, std index), so every item depends only on
    /// the settings and the item.
    /// </summary>
    public static int GridSize(SharpnessSpectrumSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.ActivationList.Count * settings.StdList.Count;
    }

    /// <summary>The result of <paramref name="runs"/> (all of the grid, or a shard's): the per-σ correlations and the mean Hessian time computed over them.</summary>
    public static SharpnessSpectrumResult Assemble(SharpnessSpectrumSettings settings, IReadOnlyList<SharpnessRun> runs)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(runs);
        return new SharpnessSpectrumResult(settings, runs, Correlate(runs), runs.Sum(r => r.HessianSeconds) / Math.Max(1, runs.Count));
    }

    /// <summary>
    /// Spearman ρ of the spectrum's centre (median, mean, max of the curved eigenvalues) against Q, per activation, in the
    /// order the activations first appear in <paramref name="runs"/>; NaN for fewer than two runs or a NaN centre.
    /// </summary>
    public static IReadOnlyList<SharpnessCorrelation> Correlate(IReadOnlyList<SharpnessRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var correlations = new List<SharpnessCorrelation>();
        foreach (var group in runs.GroupBy(r => r.Activation))
        {
            var mine = group.ToArray();
            var qs = mine.Select(r => r.Q).ToArray();
            double Rho(Func<SharpnessRun, double> f)
            {
                var ys = mine.Select(f).ToArray();
                return ys.Any(double.IsNaN) ? double.NaN : RankCorrelation.Spearman(qs, ys);
            }
            correlations.Add(new SharpnessCorrelation(group.Key, Rho(r => r.Summary.Median), Rho(r => r.Summary.Mean), Rho(r => r.Summary.Max)));
        }
        return correlations;
    }

    /// <summary>Runs the sweep (the items of <see cref="SharpnessSpectrumSettings.Shard"/> when set). Pure apart from the Hessian timings.</summary>
    public static SharpnessSpectrumResult Run(SharpnessSpectrumSettings settings, IProgress<SweepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var items = Shard.ItemsOf(settings.Shard, GridSize(settings));
        int m = settings.Outputs, n = settings.Inputs, h = settings.Hidden;
        var rng = new Random(settings.Seed);
        var y = Init.Gaussian(Tensor<double>.Zeros(m, n), 1, rng);
        var x = Tensor<double>.Identity(n);
        int dim = h * (m + n);
        var buffer = Tensor<double>.Zeros(dim, dim);
        var runs = new List<SharpnessRun>();
        int stds = settings.StdList.Count, done = 0;
        ActivationKind? current = null;
        TwoLayerProblem? train = null, spec = null;
        for (int k = items.Start; k < items.End; k++)
        {
            var activation = settings.ActivationList[k / stds];
            int i = k % stds;
            if (current != activation)
            {
                var sigma = Activation.Of(activation, Activation.PyTorchLeakySlope);
                train = new TwoLayerProblem(new TwoLayerNetwork(sigma, settings.MeanReduced ? SquaredErrorLoss.Mean : SquaredErrorLoss.HalfSum), h, x, y);
                spec = new TwoLayerProblem(new TwoLayerNetwork(sigma, SquaredErrorLoss.HalfSum), h, x, y);
                current = activation;
            }
            double std = settings.StdList[i];
            var (u, v) = train!.Initialise(std, std, new Random(Seeds.Derive(settings.Seed, i)));
            double q = ConservedQuantity.IntegralFormAt(train!.Activation, u, v);
            var trace = TwoLayerDescent.Run(train, u, v, new DescentOptions(settings.LearningRate, settings.MaxSteps, GradientTolerance: settings.GradientTolerance, Records: 2),
                null, cancellationToken);
            var gu = Tensor<double>.Zeros(u.ShapeArray);
            var gv = Tensor<double>.Zeros(v.ShapeArray);
            double loss = spec!.LossAndGradient(u, v, gu, gv);
            var clock = Stopwatch.StartNew();
            new HessianOperator<double>(spec.Function(), [u, v]).FullInto(buffer);
            var (eigenvalues, _) = LinearAlgebra.SymmetricEigen(buffer, vectors: false);
            double seconds = clock.Elapsed.TotalSeconds;
            var summary = SpectrumSummary.Of(eigenvalues, settings.FlatThreshold);
            int? fibre = null;
            double? gnError = null;
            if (activation == ActivationKind.Identity)
            {
                fibre = LinearMinimum.FibreDimension(m, h, n, LinearAlgebra.NumericalRank(u), LinearAlgebra.NumericalRank(v));
                var predicted = LinearMinimum.GaussNewtonEigenvalues(u, v, spec.Scale);
                var curved = eigenvalues.Skip(eigenvalues.Length - predicted.Length).ToArray();
                gnError = predicted.Zip(curved, (a, b) => Math.Abs(a - b)).Max();
            }
            runs.Add(new SharpnessRun(activation, std, q, ConservedQuantity.IntegralFormAt(train!.Activation, u, v), trace.Steps, loss,
                Math.Sqrt(TensorOps.Dot(gu, gu) + TensorOps.Dot(gv, gv)), eigenvalues, summary, fibre, gnError, seconds));
            progress?.Report(new SweepProgress($"{activation} std={std}", ++done, items.Length));
        }
        return Assemble(settings, runs);
    }
}
