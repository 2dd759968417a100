using Noether.Conservation;
using Noether.Nn;
using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using static Noether.Experiments.Format;

namespace Noether.Experiments;

/// <summary>
/// Settings of the drift experiment (Appendix D.2, Fig. 3): a two-layer network with whitened input X = I_n,
/// Y (m×n) and θ₀ Gaussian, trained by full-batch gradient descent at several learning rates and, for contrast,
/// by the gradient-flow integrator. The defaults are a quick profile; <see cref="Paper"/> is the authors' setting.
/// </summary>
public sealed record DriftSettings
{
    /// <summary>Output width m (paper: 5).</summary>
    public int M { get; init; } = 5;

    /// <summary>Hidden width h (paper: 50).</summary>
    public int H { get; init; } = 50;

    /// <summary>Input width n = batch size k, X = I_n (paper: 10).</summary>
    public int N { get; init; } = 10;

    /// <summary>Activation names (<see cref="Activation.Parse"/>), each elementwise.</summary>
    public IReadOnlyList<string> Activations { get; init; } = ["identity", "relu", "sigmoid", "tanh"];

    /// <summary>Learning rates η.</summary>
    public IReadOnlyList<double> LearningRates { get; init; } = [0.1, 0.01, 0.001];

    /// <summary>Gradient-descent steps per run.</summary>
    public long Steps { get; init; } = 20_000;

    /// <summary>Steps for sigmoid runs, which converge slowest (paper: twice <see cref="Steps"/>); null: same as <see cref="Steps"/>.</summary>
    public long? SigmoidSteps { get; init; }

    /// <summary>Number of (log-spaced) points recorded per curve.</summary>
    public int Records { get; init; } = 200;

    /// <summary>Standard deviation of the entries of U₀ and V₀ (authors: 0.1).</summary>
    public double InitStd { get; init; } = 0.1;

    /// <summary>Standard deviation of the entries of Y.</summary>
    public double TargetStd { get; init; } = 1;

    /// <summary>The loss: the authors used PyTorch's mean-reduced MSE; ½‖Y − F‖² is the SPEC default.</summary>
    public SquaredErrorLoss Loss { get; init; } = SquaredErrorLoss.Mean;

    /// <summary>Also integrate the gradient flow θ̇ = −∇L for each activation.</summary>
    public bool IncludeGradientFlow { get; init; } = true;

    /// <summary>Flow end time; null: Steps × the smallest η, the time span of the slowest GD run.</summary>
    public double? FlowTime { get; init; }

    /// <summary>Relative tolerance of the Dormand–Prince integrator.</summary>
    public double FlowTolerance { get; init; } = 1e-10;

    /// <summary>Runs executed in parallel (progress is then reported from worker threads).</summary>
    public int Parallelism { get; init; } = 1;

    /// <summary>Seed of Y and θ₀ (shared by every run, so curves differ only by σ and η).</summary>
    public int Seed { get; init; }

    /// <summary>Run only this part of the grid (<see cref="DriftExperiment.GridSize"/>); null: all of it.</summary>
    public Shard? Shard { get; init; }

    /// <summary>The authors' toy-script setting (SPEC): m = 5, h = 50, n = 10, U, V ~ N(0, 0.1²), η ∈ {0.1, 0.01, 0.001},
    /// 400 000 steps (800 000 for sigmoid), mean-reduced MSE.</summary>
    public static DriftSettings Paper => new() { Steps = 400_000, SigmoidSteps = 800_000, Records = 400 };

    internal void Validate()
    {
        new LayerShape(M, H, N).Validate("shape");
        if (Activations is null || Activations.Count == 0) throw Errors.Argument(nameof(Activations), "drift: at least one activation is needed");
        if (LearningRates is null || LearningRates.Count == 0) throw Errors.Argument(nameof(LearningRates), "drift: at least one learning rate is needed");
        foreach (var eta in LearningRates) Errors.ThrowIfNotPositive(eta, nameof(LearningRates));
        if (Steps <= 0) throw Errors.OutOfRange(nameof(Steps), Steps, "a positive number of steps");
        if (SigmoidSteps is <= 0) throw Errors.OutOfRange(nameof(SigmoidSteps), SigmoidSteps, "a positive number of steps");
        Errors.ThrowIfNotPositive(Records, nameof(Records));
        Errors.ThrowIfNotPositive(InitStd, nameof(InitStd));
        Errors.ThrowIfNotPositive(TargetStd, nameof(TargetStd));
        if (FlowTime is { } t) Errors.ThrowIfNotPositive(t, nameof(FlowTime));
        Errors.ThrowIfNotPositive(FlowTolerance, nameof(FlowTolerance));
        Errors.ThrowIfNotPositive(Parallelism, nameof(Parallelism));
    }
}

/// <summary>One curve of Fig. 3: a GD run at one η, or the gradient flow (η = NaN), for one activation.</summary>
/// <param name="Activation">σ's name.</param>
/// <param name="LearningRate">η, or NaN for the gradient flow.</param>
/// <param name="IsGradientFlow">True for the integrator's curve.</param>
/// <param name="Step">GD step of each point (for the flow: the index of the output time).</param>
/// <param name="Time">η·step for GD, t for the flow.</param>
/// <param name="Loss">L at each point.</param>
/// <param name="Q">The eq. 48 form ½Tr[UᵀU] − Σ∫₀^V σ/σ' at each point.</param>
/// <param name="DeltaNormalisedQ">ΔQ̃(t) = Q̃(t) − Q̃(0) (eq. 43).</param>
/// <param name="MaxAbsDeltaNormalisedQ">max_t |ΔQ̃| over every step (not only the recorded ones).</param>
/// <param name="FinalLoss">L at the end.</param>
/// <param name="Diverged">True when the loss became non-finite (the run stops there).</param>
/// <param name="Eq41">The eq. 41 check over every GD step, when Q is quadratic (identity, ReLU, LeakyReLU); else null.</param>
/// <param name="FlowSteps">Accepted integrator steps (flow only).</param>
/// <param name="Seconds">Wall time of the run.</param>
public sealed record DriftCurve(string Activation, double LearningRate, bool IsGradientFlow, long[] Step, double[] Time, double[] Loss, double[] Q,
    double[] DeltaNormalisedQ, double MaxAbsDeltaNormalisedQ, double FinalLoss, bool Diverged, Eq41Statistics? Eq41, long FlowSteps, double Seconds);

/// <summary>The eq. 41 identity Q_{t+1} − Q_t = η²Q(∇L_t) over a GD run (see <see cref="ConservationMonitor"/> for the definitions).</summary>
/// <param name="Checks">Steps checked.</param>
/// <param name="MaxErrorOverMagnitude">max |ΔQ − η²Q(g)| / (|f₁| + |f₂|).</param>
/// <param name="ResolvableChecks">Steps with |η²Q(g)| ≥ 1e-4·(|f₁| + |f₂|).</param>
/// <param name="MaxRelativeError">max |ΔQ − η²Q(g)| / |η²Q(g)| over the resolvable steps.</param>
/// <param name="BoundViolations">Steps with |ΔQ| &gt; η²(|f₁(g)| + |f₂(g)|) + 64ε·(|f₁| + |f₂|).</param>
/// <param name="MaxBoundRatio">max |ΔQ| / bound over the resolvable steps (≤ 1 when the bound of eq. 42 holds).</param>
public sealed record Eq41Statistics(long Checks, double MaxErrorOverMagnitude, long ResolvableChecks, double MaxRelativeError, long BoundViolations, double MaxBoundRatio)
{
    /// <summary>Eq. 41 holds to rounding: no bound violation, the error at most 1e-10 of the terms' size and of ΔQ where resolvable.</summary>
    public bool Holds() => BoundViolations == 0 && MaxErrorOverMagnitude <= 1e-10 && (ResolvableChecks == 0 || MaxRelativeError <= 1e-10);

    /// <summary>The statistics of several runs together: counts summed, maxima over the runs.</summary>
    public static Eq41Statistics Combine(IReadOnlyCollection<Eq41Statistics> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return new(runs.Sum(r => r.Checks), runs.Max(r => r.MaxErrorOverMagnitude), runs.Sum(r => r.ResolvableChecks), runs.Max(r => r.MaxRelativeError),
            runs.Sum(r => r.BoundViolations), runs.Max(r => r.MaxBoundRatio));
    }
}

/// <summary>All curves of the drift experiment.</summary>
/// <param name="Settings">The settings it ran with.</param>
/// <param name="Curves">Per activation: one GD curve per η, then the flow curve when asked (only the shard's, in grid order, when sharded).</param>
public sealed record DriftResult(DriftSettings Settings, IReadOnlyList<DriftCurve> Curves)
{
    /// <summary>The gradient-flow curves.</summary>
    public DriftCurve[] FlowCurves() => Curves.Where(c => c.IsGradientFlow).ToArray();

    /// <summary>The gradient-descent curves.</summary>
    public DriftCurve[] DescentCurves() => Curves.Where(c => !c.IsGradientFlow).ToArray();

    /// <summary>The drift a claim judges: max |ΔQ̃|, +∞ for a run that diverged.</summary>
    public static double JudgedDrift(DriftCurve curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        return curve.Diverged ? double.PositiveInfinity : curve.MaxAbsDeltaNormalisedQ;
    }

    /// <summary>The flow curve with the largest max |ΔQ̃| and that drift (NaN when any flow's drift is NaN); null without flow curves.</summary>
    public (DriftCurve Curve, double Drift)? WorstFlow()
    {
        var flows = FlowCurves();
        if (flows.Length == 0) return null;
        var worst = flows.MaxBy(c => c.MaxAbsDeltaNormalisedQ)!;
        return (worst, flows.Any(c => double.IsNaN(c.MaxAbsDeltaNormalisedQ)) ? double.NaN : worst.MaxAbsDeltaNormalisedQ);
    }

    /// <summary>The largest max |ΔQ̃| of <paramref name="activation"/>'s flow curves (0 without one).</summary>
    public double FlowDrift(string activation) =>
        FlowCurves().Where(f => f.Activation == activation).Select(f => f.MaxAbsDeltaNormalisedQ).DefaultIfEmpty(0).Max();

    /// <summary>The GD curves per activation (in first-seen order), each from the largest η to the smallest.</summary>
    public (string Activation, DriftCurve[] ByEta)[] DescentsByActivation() =>
        DescentCurves().GroupBy(c => c.Activation).Select(g => (g.Key, g.OrderByDescending(c => c.LearningRate).ToArray())).ToArray();

    /// <summary>The eq. 41 statistics of every GD curve that has them, combined; null when none has.</summary>
    public Eq41Statistics? Eq41Total()
    {
        var runs = DescentCurves().Where(c => c.Eq41 is not null).Select(c => c.Eq41!).ToArray();
        return runs.Length == 0 ? null : Eq41Statistics.Combine(runs);
    }
}

/// <summary>
/// Fig. 3: how far the eq. 48 quantity Q = ½Tr[UᵀU] − Σ∫₀^V σ/σ' (conserved by the flow with X = I) drifts under
/// gradient descent, as ΔQ̃(t) of eq. 43, with the loss; the gradient flow is integrated for contrast. For quadratic Q
/// (identity, ReLU) every GD step is also checked against eq. 41, Q_{t+1} − Q_t = η²Q(∇L_t), and the bound of eq. 42.
/// </summary>
public static class DriftExperiment
{
    /// <summary>
    /// The number of grid items: one per (σ, η) and one flow per σ when asked, ordered σ-major (every η of σ₁, its flow,
    /// then σ₂ …). Y and θ₀ are drawn from the seed before the grid is split, so every shard starts from the same θ₀.
    /// </summary>
    public static int GridSize(DriftSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Activations.Count * (settings.LearningRates.Count + (settings.IncludeGradientFlow ? 1 : 0));
    }

    /// <summary>Runs every (σ, η) and the flows (those of <see cref="DriftSettings.Shard"/> when set). Pure: the result depends only on the settings.</summary>
    public static DriftResult Run(DriftSettings settings, IProgress<ExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var activations = settings.Activations.Select(Activation.Parse).ToArray();
        foreach (var a in activations)
            if (!a.IsElementwise) throw Errors.Argument(nameof(settings), $"drift: '{a.Name}' is not elementwise; the eq. 48 form needs σ: ℝ → ℝ");
        var integrals = activations.Select(ActivationIntegral.For).ToArray();

        var random = new Random(settings.Seed);
        var y = Gaussian.Matrix(random, settings.M, settings.N, settings.TargetStd);
        var theta0 = TwoLayerParameters.Gaussian(random, settings.M, settings.H, settings.N, settings.InitStd, settings.InitStd);
        double flowTime = settings.FlowTime ?? settings.Steps * settings.LearningRates.Min();

        var jobs = new List<(int Activation, double Eta)>();
        for (int a = 0; a < activations.Length; a++)
        {
            foreach (var eta in settings.LearningRates) jobs.Add((a, eta));
            if (settings.IncludeGradientFlow) jobs.Add((a, double.NaN));
        }
        var items = Shard.ItemsOf(settings.Shard, jobs.Count);
        jobs = jobs.GetRange(items.Start, items.Length);
        long StepsOf(int a) => activations[a].Kind == ActivationKind.Sigmoid && settings.SigmoidSteps is { } s ? s : settings.Steps;
        const long flowUnits = 1000;
        long total = jobs.Sum(j => double.IsNaN(j.Eta) ? flowUnits : StepsOf(j.Activation));
        long done = 0;
        void Report(string stage, long units)
        {
            long now = Interlocked.Add(ref done, units);
            progress?.Report(new ExperimentProgress(stage, now, total));
        }

        var curves = new DriftCurve[jobs.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = settings.Parallelism, CancellationToken = cancellationToken };
        Parallel.For(0, jobs.Count, options, j =>
        {
            var (a, eta) = jobs[j];
            var kernel = new TwoLayerKernel(activations[a], settings.Loss, settings.M, settings.H, settings.N, null, y);
            curves[j] = double.IsNaN(eta)
                ? RunFlow(kernel, integrals[a], settings, theta0, flowTime, u => Report($"flow {activations[a].Name}", u), flowUnits, cancellationToken)
                : RunDescent(kernel, integrals[a], settings, theta0, eta, StepsOf(a), u => Report($"GD {activations[a].Name} η={eta:G3}", u), cancellationToken);
        });
        return new DriftResult(settings, curves);
    }

    /// <summary>Unique integer steps 0, then log-spaced from 1 to <paramref name="steps"/>.</summary>
    internal static long[] LogSpacedSteps(long steps, int count)
    {
        var set = new SortedSet<long> { 0, steps };
        for (int i = 0; i < count; i++) set.Add(Math.Clamp((long)Math.Round(Math.Pow(steps, i / (double)Math.Max(1, count - 1))), 1, steps));
        return set.ToArray();
    }

    private static DriftCurve RunDescent(TwoLayerKernel kernel, ActivationIntegral integral, DriftSettings s, TwoLayerParameters theta0, double eta, long steps,
        Action<long> report, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        int uCount = s.M * s.H;
        var theta = GradientFlow.Flatten(theta0.AsList());
        var grad = new double[theta.Length];
        var recordAt = LogSpacedSteps(steps, s.Records);
        var stepList = new List<long>(); var time = new List<double>(); var losses = new List<double>(); var qs = new List<double>(); var drifts = new List<double>();
        var (f10, f20) = integral.IntegralFormTerms(theta, uCount);
        double denominator = Math.Abs(f10) + Math.Abs(f20);
        double q0Normalised = Math.Abs(f10 - f20) / denominator;
        bool quadratic = integral.IsQuadratic, diverged = false;
        double maxDrift = 0, loss = double.NaN;
        long checks = 0, resolvable = 0, violations = 0;
        double maxErr = 0, maxRel = 0, maxBoundRatio = 0;
        double previousQ = f10 - f20, predicted = double.NaN, bound = double.NaN;
        int next = 0;
        long reportEvery = Math.Max(1, steps / 200), unreported = 0, reportedTotal = 0;
        for (long t = 0; t <= steps; t++)
        {
            loss = kernel.LossAndGradient(theta, grad);
            if (!double.IsFinite(loss)) { diverged = true; break; }
            bool record = next < recordAt.Length && recordAt[next] == t;
            if (quadratic || record)
            {
                var (f1, f2) = integral.IntegralFormTerms(theta, uCount);
                double q = f1 - f2;
                double drift = Math.Abs(q) / denominator - q0Normalised;
                maxDrift = Math.Max(maxDrift, Math.Abs(drift));
                if (quadratic && t > 0)
                {
                    double magnitude = Math.Abs(f1) + Math.Abs(f2);
                    double measured = q - previousQ;
                    double err = Math.Abs(measured - predicted);
                    checks++;
                    maxErr = Math.Max(maxErr, err / magnitude);
                    if (Math.Abs(measured) > bound + 64 * 2.220446049250313e-16 * magnitude) violations++;
                    if (Math.Abs(predicted) >= ConservationMonitor.ResolvableFraction * magnitude)
                    {
                        resolvable++;
                        maxRel = Math.Max(maxRel, err / Math.Abs(predicted));
                        maxBoundRatio = Math.Max(maxBoundRatio, Math.Abs(measured) / bound);
                    }
                }
                previousQ = q;
                if (record)
                {
                    stepList.Add(t); time.Add(eta * t); losses.Add(loss); qs.Add(q); drifts.Add(drift);
                    next++;
                }
            }
            if (t == steps) break;
            if (quadratic)
            {
                // η²Q(g) with Q(g) = ½‖g_U‖² − Σ G(g_V), and the bound η²(½‖g_U‖² + |Σ G(g_V)|).
                var (g1, g2) = integral.IntegralFormTerms(grad, uCount);
                predicted = eta * eta * (g1 - g2);
                bound = eta * eta * (Math.Abs(g1) + Math.Abs(g2));
            }
            TensorPrimitives.MultiplyAdd(grad, -eta, theta, theta);
            if (++unreported == reportEvery)
            {
                ct.ThrowIfCancellationRequested();
                report(unreported);
                reportedTotal += unreported;
                unreported = 0;
            }
        }
        report(steps - reportedTotal); // the rest, also when a divergence ended the run early
        var eq41 = quadratic ? new Eq41Statistics(checks, maxErr, resolvable, maxRel, violations, maxBoundRatio) : null;
        return new DriftCurve(integral.Activation.Name, eta, false, stepList.ToArray(), time.ToArray(), losses.ToArray(), qs.ToArray(), drifts.ToArray(),
            maxDrift, loss, diverged, eq41, 0, watch.Elapsed.TotalSeconds);
    }

    private static DriftCurve RunFlow(TwoLayerKernel kernel, ActivationIntegral integral, DriftSettings s, TwoLayerParameters theta0, double endTime,
        Action<long> report, long units, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        int uCount = s.M * s.H;
        var theta = GradientFlow.Flatten(theta0.AsList());
        var (f10, f20) = integral.IntegralFormTerms(theta, uCount);
        double denominator = Math.Abs(f10) + Math.Abs(f20);
        double q0Normalised = Math.Abs(f10 - f20) / denominator;
        // Output times: log-spaced over [endTime·1e-4, endTime].
        var outputs = Enumerable.Range(0, s.Records).Select(i => endTime * Math.Pow(10, -4 + 4.0 * i / Math.Max(1, s.Records - 1))).Distinct().ToArray();
        var stepList = new List<long>(); var time = new List<double>(); var losses = new List<double>(); var qs = new List<double>(); var drifts = new List<double>();
        double maxDrift = 0;
        long reported = 0;
        void Observe(double t, double[] y, double loss, double[] gradient)
        {
            var (f1, f2) = integral.IntegralFormTerms(y, uCount);
            double q = f1 - f2;
            double drift = Math.Abs(q) / denominator - q0Normalised;
            maxDrift = Math.Max(maxDrift, Math.Abs(drift));
            stepList.Add(stepList.Count); time.Add(t); losses.Add(loss); qs.Add(q); drifts.Add(drift);
            long target = (long)(units * (t / endTime));
            if (target > reported) { report(target - reported); reported = target; }
        }
        var options = new GradientFlowOptions(RelativeTolerance: s.FlowTolerance, AbsoluteTolerance: s.FlowTolerance * 1e-3 * s.InitStd);
        var result = GradientFlow.IntegrateFlat(kernel.LossAndGradient, theta, endTime, options, Observe, outputs, ct);
        if (reported < units) report(units - reported);
        return new DriftCurve(integral.Activation.Name, double.NaN, true, stepList.ToArray(), time.ToArray(), losses.ToArray(), qs.ToArray(), drifts.ToArray(),
            maxDrift, result.Loss, !double.IsFinite(result.Loss), null, result.Accepted, watch.Elapsed.TotalSeconds);
    }

    /// <summary>The report contract: the claims this run tests, judged by the rules of DriftClaims from the curves' numbers.</summary>
    public static List<Claim> Claims(DriftResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        static string Eta(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
        var claims = new List<Claim>();
        var flows = result.FlowCurves();
        var descents = result.DescentCurves();
        string setting = string.Create(CultureInfo.InvariantCulture,
            $"m={result.Settings.M}, h={result.Settings.H}, n={result.Settings.N}, X = I, {result.Settings.Steps} GD steps ({result.Settings.SigmoidSteps ?? result.Settings.Steps} for sigmoid)");
        if (result.WorstFlow() is var (worstCurve, worst))
        {
            claims.Add(DriftClaims.FlowConservesQ.Make([worst],
                $"max |ΔQ~| = {Sci(worst)} ({worstCurve.Activation}); σ ∈ {{{string.Join(", ", flows.Select(c => c.Activation))}}}",
                $"Dormand–Prince with tolerance {Sci(result.Settings.FlowTolerance)}; {setting}"));
        }
        if (descents.Length > 0)
        {
            var groups = result.DescentsByActivation();
            string Text((string Activation, DriftCurve[] ByEta) g) => $"{g.Activation}: " + string.Join(" / ", g.ByEta.Select(c => (c.Diverged ? "diverged " : "") + Sci(c.MaxAbsDeltaNormalisedQ)));
            string etas = string.Join(" / ", descents.Select(c => c.LearningRate).Distinct().OrderByDescending(e => e).Select(Eta));
            if (result.Settings.LearningRates.Count >= 2)
            {
                var parts = groups.Select(g => new[] { result.FlowDrift(g.Activation) }.Concat(g.ByEta.Select(DriftResult.JudgedDrift)).ToArray()).ToArray();
                var held = groups.Where((g, i) => DriftClaims.GdDrifts.Judge(parts[i]) == Verdict.Reproduced).Select(g => g.Activation).ToArray();
                claims.Add(DriftClaims.GdDrifts.Make(parts, $"max |ΔQ~| for η = {etas}: {string.Join("; ", groups.Select(Text))}",
                    held.Length == groups.Length ? setting : $"holds for {(held.Length == 0 ? "no σ" : string.Join(", ", held))}; {setting}"));
                var magnitudes = groups.Select(g => g.ByEta.Select(DriftResult.JudgedDrift).ToArray()).ToArray();
                claims.Add(DriftClaims.SameMagnitudeAcrossEta.Make(magnitudes,
                    "largest / smallest max |ΔQ~| over η: " + string.Join(", ", groups.Select((g, i) => $"{g.Activation} {Sci(magnitudes[i].Max() / magnitudes[i].Min())}")),
                    $"η = {etas}; {setting}"));
            }
            var largest = descents.MaxBy(c => c.MaxAbsDeltaNormalisedQ)!;
            claims.Add(DriftClaims.GdSmall.Make([descents.Select(DriftResult.JudgedDrift).ToArray()],
                $"largest max |ΔQ~| = {Sci(largest.MaxAbsDeltaNormalisedQ)} ({largest.Activation}, η = {Eta(largest.LearningRate)}){(descents.Any(c => c.Diverged) ? "; some runs diverged" : "")}",
                setting));
            if (result.Eq41Total() is { } total)
            {
                var checkedCurves = descents.Where(c => c.Eq41 is not null);
                long checks = total.Checks, resolvable = total.ResolvableChecks;
                double errMagnitude = total.MaxErrorOverMagnitude, errRelative = total.MaxRelativeError;
                claims.Add(DriftClaims.Eq41Exact.Make([errMagnitude, resolvable, errRelative],
                    $"{checks} steps checked ({string.Join(", ", checkedCurves.Select(c => c.Activation).Distinct())}): max error {Sci(errMagnitude)} relative to the terms' size" +
                        (resolvable > 0 ? $", {Sci(errRelative)} relative to ΔQ over {resolvable} resolvable steps" : "; no step moved Q by more than its rounding"),
                    "the printed factor η² is for Q = Tr[UᵀU − VVᵀ]; eq. 48's ½Tr form, used here, takes η²/2"));
                long violations = total.BoundViolations;
                double ratio = total.MaxBoundRatio;
                claims.Add(DriftClaims.Eq42Bound.Make([violations, checks],
                    $"{violations} violations in {checks} steps" + (resolvable > 0 ? $"; max |ΔQ| / bound = {Sci(ratio)} over the resolvable steps" : "")));
            }
        }
        return claims;
    }
}
