using Noether.Conservation;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>
/// Settings of <see cref="RadialConvergence"/> (paper Fig. 7, Propositions 14–16). Defaults are the authors': Y 5×10
/// (so h = 5 modes; U 5×5, V 5×10 in our shapes), ū, v̄ ~ N(μ, μ²) for μ ∈ {0.01, 0.1, 1, 10}, GD with η = 1e-5 for 10⁶
/// steps (gradient-flow time 10).
/// </summary>
/// <param name="Outputs">m (rows of Y).</param>
/// <param name="Inputs">n (columns of Y); h = min(m, n).</param>
/// <param name="Scales">The μ values (mean = std of the diagonal entries); null: 0.01, 0.1, 1, 10.</param>
/// <param name="LearningRate">GD step size η; the flow is compared at time t = step·η.</param>
/// <param name="Steps">GD steps (the flow runs to Steps·η).</param>
/// <param name="Records">Time points kept (log-spaced steps, plus 0).</param>
/// <param name="Seed">Seeds Y and the diagonals.</param>
/// <param name="RelativeTolerance">Dormand–Prince rtol for the gradient flow and for eq. 59.</param>
/// <param name="RunDescent">Also run GD (the paper's experiment) next to the flow.</param>
/// <param name="TrackUnrestrictedFlow">Also integrate the flow on all parameters without restricting it to the spectral family,
/// to see whether rounding makes it leave the family (doubles the cost).</param>
public sealed record RadialConvergenceSettings(int Outputs = 5, int Inputs = 10, IReadOnlyList<double>? Scales = null, double LearningRate = 1e-5,
    long Steps = 1_000_000, int Records = 101, int Seed = 0, double RelativeTolerance = 1e-12, bool RunDescent = true, bool TrackUnrestrictedFlow = true)
{
    /// <summary>A small, fast profile: μ ∈ {0.3, 1, 3, 10}, 20 000 GD steps at η = 1e-4 (flow time 2).</summary>
    public static RadialConvergenceSettings Quick => new(Scales: [0.3, 1, 3, 10], LearningRate: 1e-4, Steps: 20_000, Records: 41);

    /// <summary>The μ values used.</summary>
    public IReadOnlyList<double> ScaleList => Scales ?? [0.01, 0.1, 1, 10];

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        Errors.ThrowIfNotPositive((Outputs, "outputs (m)"), (Inputs, "inputs (n)"));
        Errors.ThrowIfNotPositive((LearningRate, "learning rate"), (RelativeTolerance, "relative tolerance"));
        if (Steps < 1) throw Errors.OutOfRange("steps", Steps, "at least 1");
        if (Records < 2) throw Errors.OutOfRange("records", Records, "at least 2");
        if (ScaleList.Count == 0) throw Errors.Argument(nameof(Scales), "radial convergence: no scales");
        foreach (var s in ScaleList) if (!(s > 0) || double.IsInfinity(s)) throw Errors.OutOfRange("scale", s, "positive finite values");
    }
}

/// <summary>One initialisation (one Q) of <see cref="RadialConvergence"/>. Arrays indexed [record][mode] hold one row per time.</summary>
/// <param name="Scale">μ.</param>
/// <param name="Q">Tr[ŪᵀŪ + V̄ᵀV̄] = Σλᵢ (eq. 64), the label of the paper's curves.</param>
/// <param name="Ubar">ū at the start.</param>
/// <param name="Vbar">v̄ at the start.</param>
/// <param name="Lambda">λᵢ = ūᵢ² + v̄ᵢ² at the start.</param>
/// <param name="FlowLoss">L along the gradient flow (on the spectral family, where it stays in exact arithmetic).</param>
/// <param name="FlowSigma">σᵢ^X along that flow, read from the full matrices as (Φᵀ U g(V) Ψ)ᵢᵢ.</param>
/// <param name="OdeSigma">σᵢ from eq. 59 solved on its own.</param>
/// <param name="Bound">The eq. 69 bound |σᵢ(0) − σᵢ^Y| e^{−t/λᵢ}.</param>
/// <param name="MaxFlowDeviation">max |σ_flow − σ_ode| / max(|σ_ode|, σ^Y) over times and modes.</param>
/// <param name="MaxFlowLambdaDrift">max |λᵢ(t) − λᵢ(0)| / λᵢ(0) along the flow.</param>
/// <param name="BoundViolations">(time, mode) pairs with |σ_flow − σ^Y| above the bound by more than the integrator's noise floor,
/// 10·rtol·σ^Y (once σ has converged the bound underflows towards 0 while the integrated σ still jitters at rtol).</param>
/// <param name="MaxBoundExcess">max (|σ_flow − σ^Y| − bound)/σ^Y over times and modes (≤ 0: the bound holds everywhere, even below the floor).</param>
/// <param name="UnrestrictedDeparture">The first recorded time at which the flow integrated on all parameters, without the
/// restriction to the spectral family, is more than 1e-6 (relative) away from eq. 59 in some mode; null if never (or not tracked).</param>
/// <param name="UnrestrictedMaxOffDiagonal">max ‖offdiag(Φᵀ U g(V) Ψ)‖_F along that unrestricted flow.</param>
/// <param name="DescentLoss">L along GD at the same times (empty without GD; NaN after divergence).</param>
/// <param name="DescentSigma">σᵢ^X along GD.</param>
/// <param name="MaxDescentDeviation">max relative |σ_GD − σ_ode| (as for the flow).</param>
/// <param name="MaxDescentLambdaDrift">max relative λᵢ drift along GD.</param>
/// <param name="MaxDescentOffDiagonal">max ‖offdiag(Φᵀ U g(V) Ψ)‖_F along GD (GD is not restricted to the family).</param>
/// <param name="DescentDivergedAtStep">The first GD step with a non-finite loss, or null.</param>
/// <param name="FlowSteps">Dormand–Prince steps of the restricted flow.</param>
/// <param name="UnrestrictedSteps">Dormand–Prince steps of the unrestricted flow (0 if not tracked).</param>
public sealed record RadialRun(double Scale, double Q, double[] Ubar, double[] Vbar, double[] Lambda, double[] FlowLoss, double[][] FlowSigma,
    double[][] OdeSigma, double[][] Bound, double MaxFlowDeviation, double MaxFlowLambdaDrift, int BoundViolations, double MaxBoundExcess,
    double? UnrestrictedDeparture, double UnrestrictedMaxOffDiagonal, double[] DescentLoss, double[][] DescentSigma, double MaxDescentDeviation,
    double MaxDescentLambdaDrift, double MaxDescentOffDiagonal, long? DescentDivergedAtStep, int FlowSteps, int UnrestrictedSteps);

/// <summary>The runs of <see cref="RadialConvergence"/>.</summary>
/// <param name="Settings">The settings used.</param>
/// <param name="SingularValues">σᵢ^Y.</param>
/// <param name="RecordedSteps">GD steps of the records (time = step·η).</param>
/// <param name="Times">The times of the records.</param>
/// <param name="Runs">One per scale, in order.</param>
public sealed record RadialConvergenceResult(RadialConvergenceSettings Settings, double[] SingularValues, long[] RecordedSteps, double[] Times,
    IReadOnlyList<RadialRun> Runs)
{
    /// <summary>max over runs of <see cref="RadialRun.MaxFlowDeviation"/>: the flow against eq. 59.</summary>
    public double MaxFlowDeviation => Runs.Max(x => x.MaxFlowDeviation);

    /// <summary>max over runs of <see cref="RadialRun.MaxFlowLambdaDrift"/>.</summary>
    public double MaxFlowLambdaDrift => Runs.Max(x => x.MaxFlowLambdaDrift);

    /// <summary>Eq. 69 violations summed over runs.</summary>
    public int BoundViolations => Runs.Sum(x => x.BoundViolations);

    /// <summary>max over runs of <see cref="RadialRun.MaxBoundExcess"/>.</summary>
    public double MaxBoundExcess => Runs.Max(x => x.MaxBoundExcess);

    /// <summary>Per run, the first recorded time at which the flow's loss is ≤ 1% of its start, or null (Fig. 7: smaller Q is faster).</summary>
    public double?[] FlowTimesToOnePercent => Runs.Select(x => TimeToOnePercent(Times, x.FlowLoss)).ToArray();

    /// <summary>
    /// Spearman ρ between Q and <see cref="FlowTimesToOnePercent"/> (NaN with fewer than 2 runs or none reaching 1%). A run
    /// that never reached 1% ranks after every run that did (censored at twice the span; ties share a rank).
    /// </summary>
    public double SpearmanQVsTimeToOnePercent
    {
        get
        {
            var times = FlowTimesToOnePercent;
            var qs = Runs.Select(x => x.Q).ToArray();
            return Runs.Count >= 2 && times.Any(t => t is not null)
                ? RankCorrelation.Spearman(qs, times.Select(t => t ?? 2 * Times[^1]).ToArray()) : double.NaN;
        }
    }

    private static double? TimeToOnePercent(double[] times, double[] loss)
    {
        for (int i = 0; i < loss.Length; i++) if (loss[i] <= 1e-2 * loss[0]) return times[i];
        return null;
    }
}

/// <summary>
/// Paper Appendix F.2 / Fig. 7: the radial reparametrisation L = ½‖Y − U g(V)‖² with h(r) = r⁻², from spectral
/// initialisations of different Q. For each, the full gradient flow (Dormand–Prince) is compared mode by mode with
/// eq. 59 solved on its own and with the eq. 69 bound, λᵢ is tracked, and (optionally) the paper's GD at η is run beside
/// it to show how far GD is from the flow. A pure function of its settings.
/// </summary>
public static class RadialConvergence
{
    /// <summary>Runs every scale.</summary>
    public static RadialConvergenceResult Run(RadialConvergenceSettings settings, IProgress<SweepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        int m = settings.Outputs, n = settings.Inputs;
        var rng = new Random(settings.Seed);
        var y = Init.Gaussian(Tensor<double>.Zeros(m, n), 1, rng);
        var basis = SpectralBasis.Of(y);
        int r = basis.Rank;
        var steps = TwoLayerDescent.LogSpacedSteps(settings.Steps, settings.Records);
        var times = steps.Select(s => s * settings.LearningRate).ToArray();
        var runs = new List<RadialRun>();
        for (int c = 0; c < settings.ScaleList.Count; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double mu = settings.ScaleList[c];
            var draw = new Random(Seeds.Derive(settings.Seed, c));
            var ub = new double[r];
            var vb = new double[r];
            for (int i = 0; i < r; i++) ub[i] = mu + mu * Gaussian.Next(draw);
            for (int i = 0; i < r; i++) vb[i] = mu + mu * Gaussian.Next(draw);
            runs.Add(RunOne(settings, y, basis, mu, ub, vb, steps, times, cancellationToken));
            progress?.Report(new SweepProgress($"μ = {mu}", c + 1, settings.ScaleList.Count));
        }
        return new RadialConvergenceResult(settings, basis.SingularValues, steps, times, runs);
    }

    private static RadialRun RunOne(RadialConvergenceSettings settings, Tensor<double> y, SpectralBasis basis, double mu, double[] ub, double[] vb,
        long[] steps, double[] times, CancellationToken cancellationToken)
    {
        int r = basis.Rank, m = y.Dim(0), n = y.Dim(1), nu = m * r;
        var (u0, v0) = RadialFlow.SpectralInitialisation(basis, ub, vb);
        var start = RadialFlow.Coordinates(basis, u0, v0);
        var lambda = start.Lambda;
        var sy = basis.SingularValues;
        // Eq. 59, mode by mode.
        var ode = new double[times.Length][];
        for (int t = 0; t < times.Length; t++) ode[t] = new double[r];
        for (int i = 0; i < r; i++)
        {
            var s = RadialFlow.SolveSigma(start.Sigma[i], sy[i], lambda[i], times, settings.RelativeTolerance, 1e-14);
            for (int t = 0; t < times.Length; t++) ode[t][i] = s[t];
        }
        var bound = times.Select(t => Enumerable.Range(0, r).Select(i => RadialFlow.Bound(start.Sigma[i], sy[i], lambda[i], t)).ToArray()).ToArray();
        // The gradient flow of the full model restricted to the spectral family U = Φ diag(ū), V = diag(v̄) Ψᵀ: the state is
        // (ū, v̄) and the velocity is read off the full-matrix gradient, ū̇ᵢ = −(Φᵀ∇_U L)ᵢᵢ, v̄̇ᵢ = −(∇_V L Ψ)ᵢᵢ. The family is
        // invariant (its gradient has no off-diagonal part), so in exact arithmetic this is the whole flow; see below for
        // what rounding does without the restriction.
        var gu = Tensor<double>.Zeros(m, r);
        var gv = Tensor<double>.Zeros(r, n);
        var flow = DormandPrince.Solve((_, th, dth) =>
        {
            var (u, v) = RadialFlow.SpectralInitialisation(basis, th[..r].ToArray(), th[r..].ToArray());
            RadialFlow.LossAndGradient(y, u, v, gu, gv);
            for (int i = 0; i < r; i++)
            {
                double du = 0, dv = 0;
                for (int a = 0; a < m; a++) du += basis.Phi[a, i] * gu[a, i];
                for (int j = 0; j < n; j++) dv += gv[i, j] * basis.Psi[j, i];
                dth[i] = -du;
                dth[r + i] = -dv;
            }
        }, 0, ub.Concat(vb).ToArray(), times, settings.RelativeTolerance, 1e-14, cancellationToken: cancellationToken);
        var flowLoss = new double[times.Length];
        var flowSigma = new double[times.Length][];
        double flowDev = 0, flowDrift = 0, excess = double.NegativeInfinity;
        int violations = 0;
        for (int t = 0; t < times.Length; t++)
        {
            var (u, v) = RadialFlow.SpectralInitialisation(basis, flow.States[t][..r], flow.States[t][r..]);
            var c = RadialFlow.Coordinates(basis, u, v);
            flowLoss[t] = RadialFlow.Loss(y, u, v);
            flowSigma[t] = c.Sigma;
            for (int i = 0; i < r; i++)
            {
                flowDev = Math.Max(flowDev, Deviation(c.Sigma[i], ode[t][i], sy[i]));
                flowDrift = Math.Max(flowDrift, Math.Abs(c.Lambda[i] - lambda[i]) / lambda[i]);
                double gap = Math.Abs(c.Sigma[i] - sy[i]);
                excess = Math.Max(excess, (gap - bound[t][i]) / sy[i]);
                if (gap > bound[t][i] * (1 + 1e-9) + 10 * settings.RelativeTolerance * sy[i]) violations++;
            }
        }
        // The same flow on all m·r + r·n parameters without the restriction: rounding puts ~1e-16 off the family, and where
        // the family is unstable (a slow mode next to a fast one) that grows until the flow leaves it.
        double? departure = null;
        double offDiagonal = 0;
        int unrestrictedSteps = 0;
        if (settings.TrackUnrestrictedFlow)
        {
            var uw = Tensor<double>.Zeros(m, r);
            var vw = Tensor<double>.Zeros(r, n);
            var full = DormandPrince.Solve((_, th, dth) =>
            {
                th[..nu].CopyTo(uw.Data);
                th[nu..].CopyTo(vw.Data);
                RadialFlow.LossAndGradient(y, uw, vw, gu, gv);
                for (int i = 0; i < nu; i++) dth[i] = -gu.Data[i];
                for (int i = 0; i < vw.Length; i++) dth[nu + i] = -gv.Data[i];
            }, 0, u0.Data.Concat(v0.Data).ToArray(), times, settings.RelativeTolerance, 1e-14, cancellationToken: cancellationToken);
            unrestrictedSteps = full.Steps;
            for (int t = 0; t < times.Length; t++)
            {
                var (u, v) = Split(full.States[t], m, r, n);
                var c = RadialFlow.Coordinates(basis, u, v);
                offDiagonal = Math.Max(offDiagonal, c.OffDiagonal);
                if (departure is null && Enumerable.Range(0, r).Any(i => Deviation(c.Sigma[i], ode[t][i], sy[i]) > 1e-6)) departure = times[t];
            }
        }
        double[] gdLoss = [];
        double[][] gdSigma = [];
        double gdDev = double.NaN, gdDrift = double.NaN, gdOff = 0;
        long? diverged = null;
        if (settings.RunDescent)
        {
            gdLoss = new double[times.Length];
            gdSigma = new double[times.Length][];
            gdDev = 0;
            gdDrift = 0;
            var (u, v) = (u0.Clone(), v0.Clone());
            int next = 0;
            for (long step = 0; next < steps.Length; step++)
            {
                if ((step & 4095) == 0) cancellationToken.ThrowIfCancellationRequested();
                double loss = RadialFlow.LossAndGradient(y, u, v, gu, gv);
                if (!double.IsFinite(loss) || !u.AllFinite() || !v.AllFinite())
                {
                    diverged = step;
                    for (; next < steps.Length; next++)
                    {
                        gdLoss[next] = double.NaN;
                        gdSigma[next] = Enumerable.Repeat(double.NaN, r).ToArray();
                    }
                    break;
                }
                if (steps[next] == step)
                {
                    var c = RadialFlow.Coordinates(basis, u, v);
                    gdLoss[next] = loss;
                    gdSigma[next] = c.Sigma;
                    gdOff = Math.Max(gdOff, c.OffDiagonal);
                    for (int i = 0; i < r; i++)
                    {
                        gdDev = Math.Max(gdDev, Deviation(c.Sigma[i], ode[next][i], sy[i]));
                        gdDrift = Math.Max(gdDrift, Math.Abs(c.Lambda[i] - lambda[i]) / lambda[i]);
                    }
                    next++;
                    if (next == steps.Length) break;
                }
                for (int i = 0; i < u.Length; i++) u.Data[i] -= settings.LearningRate * gu.Data[i];
                for (int i = 0; i < v.Length; i++) v.Data[i] -= settings.LearningRate * gv.Data[i];
            }
            if (diverged is not null) (gdDev, gdDrift) = (double.PositiveInfinity, double.PositiveInfinity);
        }
        return new RadialRun(mu, lambda.Sum(), ub, vb, lambda, flowLoss, flowSigma, ode, bound, flowDev, flowDrift, violations, excess,
            departure, offDiagonal, gdLoss, gdSigma, gdDev, gdDrift, gdOff, diverged, flow.Steps, unrestrictedSteps);
    }

    // |a − b| relative to max(|b|, σ^Y): σ may pass through 0 on its way to σ^Y > 0.
    private static double Deviation(double a, double b, double target) => Math.Abs(a - b) / Math.Max(Math.Abs(b), target);

    private static (Tensor<double> U, Tensor<double> V) Split(double[] theta, int m, int r, int n) =>
        (new Tensor<double>(theta[..(m * r)], m, r), new Tensor<double>(theta[(m * r)..], r, n));
}
