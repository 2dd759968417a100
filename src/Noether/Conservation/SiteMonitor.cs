using Noether.Symmetry.Census;

namespace Noether.Conservation;

/// <summary>How an optimiser turns a gradient into a step, as far as the per-step identities need it.</summary>
public enum OptimizerFamily
{
    /// <summary>SGD, with heavy-ball or Nesterov momentum μ ≥ 0 (PyTorch's buffer b' = μb + g + λθ, first b = g + λθ).</summary>
    Sgd,
    /// <summary>Adam, AdamW, RMSprop (with or without momentum), AdaGrad: an elementwise preconditioner rescales the step,
    /// which breaks ⟨Mθ, step⟩ = 0; the monitor reads the step from the parameters, so their moments need no replay.</summary>
    Adaptive,
}

/// <summary>The update rule of a training run: family, weight decay λ (coupled: g + λθ; decoupled: θ(1 − ηλ) first) and momentum.</summary>
public sealed record OptimizerRule(OptimizerFamily Family, double WeightDecay = 0, bool DecoupledWeightDecay = false, double Momentum = 0, bool Nesterov = false)
{
    /// <summary>Checks the numbers (λ ≥ 0, 0 ≤ μ &lt; 1, Nesterov needs μ &gt; 0, SGD's decay is coupled as in PyTorch).
    /// An adaptive rule's momentum only sets the modified equation's time scale.</summary>
    public void Validate()
    {
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) throw Errors.OutOfRange(nameof(WeightDecay), WeightDecay, "a finite λ ≥ 0");
        if (!(Momentum >= 0 && Momentum < 1)) throw Errors.OutOfRange(nameof(Momentum), Momentum, "0 ≤ μ < 1");
        if (Nesterov && Momentum == 0) throw Errors.Argument(nameof(Nesterov), "Nesterov momentum needs μ > 0");
        if (Family == OptimizerFamily.Sgd && DecoupledWeightDecay) throw Errors.Argument(nameof(DecoupledWeightDecay), "SGD's weight decay is coupled (g + λθ), as in PyTorch");
    }
}

/// <summary>
/// One generator's conserved quantity after one optimiser step: measured at the new parameters, predicted from the
/// exact discrete-time identity (the paper's eq. 41 generalised), the first-order symmetry-breaking term the identity
/// omits, and the modified-equation integral from the start of the run.
/// </summary>
/// <param name="Step">Steps taken (1 after the first).</param>
/// <param name="Kind">The site's kind (rescaling, GL pair, normalisation scale, translation).</param>
/// <param name="Site">The site's location in the graph.</param>
/// <param name="Generator">The generator's name, e.g. "unit 3".</param>
/// <param name="Measured">Q at the parameters after the step.</param>
/// <param name="Predicted">Q after the step from Q before it and the step's own terms, with the symmetry's ⟨Mθ, g⟩ = 0
/// applied (SGD family: exact to rounding; adaptive: the symmetry-breaking term is left out, see <paramref name="Breaking"/>).</param>
/// <param name="Breaking">The part of the step that the symmetry does not cancel: −2η(1 − ηλ)⟨Mθ, u⟩ (quadratic Q) or −η⟨c, u⟩
/// (linear Q) for an adaptive step u; for the SGD family the gradient's own −2η⟨Mθ, g⟩, zero up to rounding at a true symmetry.</param>
/// <param name="Integral">The modified-equation prediction from the run's start (Kunin et al. 2021). Plain SGD and the adaptive
/// family: e^{−2λt}Q₀ + η∫e^{−2λ(t−τ)}Q_M(g)dτ with t = ηk/(1 − μ), the integral summed over the measured gradients (quadratic
/// Q); e^{−λt}Q₀ (linear Q). SGD with momentum: the second-order (inertial) form <see cref="InertialFlow"/>, driven by the
/// measured steps, from Q(0) = Q₀ at rest.</param>
public sealed record SiteStep(long Step, SiteKind Kind, string Site, string Generator, double Measured, double Predicted, double Breaking, double Integral)
{
    /// <summary>|Measured − Predicted|.</summary>
    public double Residual => Math.Abs(Measured - Predicted);
}

/// <summary>
/// Follows the conserved quantities of a symmetry census through a real training run (minibatch SGD with momentum and
/// weight decay, or an adaptive optimiser), one step at a time. Each generator M of a census site conserves, under
/// gradient flow, Q = ⟨θ, Sθ⟩ (S = ½(M + Mᵀ): rescalings, GL(d) pairs, normalisation scales) or Q = ⟨c, θ⟩ (translations).
/// After a discrete step θ' = θ − ηD the identities are exact algebra:
/// <list type="bullet">
/// <item>quadratic: Q(θ') = Q(θ) − 2η⟨θ, SD⟩ + η²Q(D); linear: Q(θ') = Q(θ) − η⟨c, D⟩;</item>
/// <item>SGD, D = g + λθ: ⟨θ, Sg⟩ = 0 for every minibatch (the loss of each batch is invariant), so
/// Q' = (1 − ηλ)²Q + η²Q(g) — the paper's eq. 41 with weight decay; linear: Q' = (1 − ηλ)Q;</item>
/// <item>heavy ball, D = b' = μb + g + λθ: ⟨θ, Sb'⟩ = μ⟨θ, Sb⟩ + λQ, with the cross term ⟨θ, Sb⟩ read from the buffer the
/// monitor keeps (the optimiser's rule replayed on the site's entries); Nesterov, D = g + λθ + μb': likewise;</item>
/// <item>adaptive, D = u (+ decoupled decay θ(1 − ηλ) first): nothing cancels ⟨θ, Su⟩; the prediction keeps
/// (1 − ηλ)²Q + η²Q(u) and <see cref="SiteStep.Breaking"/> reports the rest.</item>
/// </list>
/// docs/monitor.md derives them. The monitor reads parameters and gradients through name → values functions, so any
/// float type and any model (a graph, a Sequential) can feed it.
/// </summary>
public sealed class SiteMonitor
{
    private readonly (CensusSite Site, CensusGenerator Generator)[] _generators;
    private readonly (string Parameter, int Index)[] _entries;
    private readonly OptimizerRule _rule;
    private readonly Dictionary<(string, int), double> _buffer = [];
    private readonly double[] _integral;
    // The momentum form's state per generator: Q(t) and dQ/dt of the second-order modified equation.
    private readonly double[] _inertial, _inertialRate;
    private double[] _initial = [];
    private double _time;
    private long _steps;

    /// <summary>Monitors every generator of <paramref name="sites"/> under <paramref name="rule"/>.</summary>
    public SiteMonitor(IEnumerable<CensusSite> sites, OptimizerRule rule)
    {
        ArgumentNullException.ThrowIfNull(sites);
        ArgumentNullException.ThrowIfNull(rule);
        rule.Validate();
        _rule = rule;
        // A site that conserves nothing (LayerNorm centring, β transfer) has no Q to follow.
        _generators = sites.Where(s => s.Conserves).SelectMany(s => s.Generators.Select(g => (s, g))).ToArray();
        if (_generators.Length == 0) throw Errors.Argument(nameof(sites), "site monitor: the census has no continuous symmetry to follow");
        _integral = new double[_generators.Length];
        _inertial = new double[_generators.Length];
        _inertialRate = new double[_generators.Length];
        _entries = _generators.SelectMany(g => Entries(g.Generator)).Distinct().ToArray();
    }

    /// <summary>Generators followed, in order (site by site).</summary>
    public int Count => _generators.Length;

    /// <summary>Steps observed so far.</summary>
    public long Steps => _steps;

    /// <summary>Records Q₀ at the run's start and forgets any momentum buffer.</summary>
    public void Start(Func<string, double[]> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _initial = _generators.Select(g => g.Generator.Conserved(parameters)).ToArray();
        Array.Clear(_integral);
        // A run starts at rest (empty momentum buffer): Q(0) = Q₀, dQ/dt(0) = 0.
        Array.Copy(_initial, _inertial, _initial.Length);
        Array.Clear(_inertialRate);
        _buffer.Clear();
        _time = 0;
        _steps = 0;
    }

    /// <summary>
    /// Observes one step: <paramref name="before"/> and <paramref name="after"/> the parameters around it, <paramref name="gradient"/>
    /// the minibatch gradient the optimiser used (without weight decay), <paramref name="learningRate"/> its η.
    /// </summary>
    public IReadOnlyList<SiteStep> Observe(Func<string, double[]> before, Func<string, double[]> gradient, Func<string, double[]> after, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(gradient);
        ArgumentNullException.ThrowIfNull(after);
        Errors.ThrowIfNotPositive(learningRate, nameof(learningRate));
        if (_initial.Length == 0) throw new InvalidOperationException("site monitor: call Start with the initial parameters first");
        double eta = learningRate, lambda = _rule.WeightDecay, mu = _rule.Momentum;
        _steps++;
        double dt = eta / (1 - mu);
        _time += dt;
        // The SGD step D on every monitored entry, once per step (generators share entries, the buffer must advance once).
        var step = _rule.Family == OptimizerFamily.Sgd ? SgdStep(before, gradient) : default;
        bool inertial = _rule.Family == OptimizerFamily.Sgd && mu > 0;
        var (quadraticFlow, linearFlow) = inertial ? (InertialFlow.Over(eta, mu, _rule.Nesterov, lambda, 2 * lambda), InertialFlow.Over(eta, mu, _rule.Nesterov, lambda, lambda)) : default;
        var result = new SiteStep[_generators.Length];
        for (int i = 0; i < _generators.Length; i++)
        {
            var (site, gen) = _generators[i];
            bool linear = gen.Kind == GeneratorKind.Translation;
            double q = gen.Conserved(before), measured = gen.Conserved(after);
            Entry theta = Dense(before), g = Dense(gradient);
            double qg = linear ? Dot(gen, g) : Quadratic(gen, g, g);
            double predicted, breaking;
            if (_rule.Family == OptimizerFamily.Sgd)
            {
                breaking = linear ? -eta * Dot(gen, g) : -2 * eta * Quadratic(gen, theta, g);
                if (mu == 0)
                    predicted = linear ? (1 - eta * lambda) * q : (1 - eta * lambda) * (1 - eta * lambda) * q + eta * eta * qg;
                else
                {
                    // ⟨θ, S D⟩ with ⟨θ, S g⟩ = 0: D = b' gives μ⟨θ, S b⟩ + λQ; Nesterov's D = g + λθ + μb' gives λQ + μ(μ⟨θ, S b⟩ + λQ).
                    Entry old = Sparse(step.OldBuffer), direction = Sparse(step.Direction);
                    double cross = linear ? Dot(gen, old) : Quadratic(gen, theta, old);
                    double thetaB = mu * cross + lambda * q;
                    double thetaD = _rule.Nesterov ? lambda * q + mu * thetaB : thetaB;
                    double qd = linear ? 0 : Quadratic(gen, direction, direction);
                    predicted = linear ? q - eta * thetaD : q - 2 * eta * thetaD + eta * eta * qd;
                    // The momentum form's driving term: η(1 + μ)Q_S(θ̇) with θ̇ = −D, and Nesterov's −2ημ⟨S D, g⟩ (docs/monitor.md).
                    double drive = linear ? 0 : eta * (1 + mu) * qd - (_rule.Nesterov ? 2 * eta * mu * Quadratic(gen, direction, g) : 0);
                    (_inertial[i], _inertialRate[i]) = (linear ? linearFlow : quadraticFlow).Advance(_inertial[i], _inertialRate[i], drive);
                }
            }
            else
            {
                // Adaptive: u = (θ·(1 − ηλ_decoupled) − θ') / η, read from the measured step.
                double keep = _rule.DecoupledWeightDecay ? 1 - eta * lambda : 1;
                var u = Sparse(AdaptiveStep(gen, before, after, keep, eta));
                double decayedQ = keep * keep * q;
                if (linear)
                {
                    breaking = -eta * Dot(gen, u);
                    predicted = keep * q;
                }
                else
                {
                    breaking = -2 * eta * keep * Quadratic(gen, theta, u);
                    predicted = decayedQ + eta * eta * Quadratic(gen, u, u);
                }
            }
            // Modified equation without momentum (or the adaptive family's first-order form): dQ/dt = −2λQ + η_eff·Q_M(g)
            // (quadratic), −λQ (linear), with η_eff = η/(1 − μ) = dt per step. With momentum: the second-order form above.
            double decay = Math.Exp(-(linear ? 1 : 2) * lambda * dt);
            _integral[i] = linear ? 0 : decay * _integral[i] + dt * dt * qg;
            double integral = inertial ? _inertial[i] : (linear ? Math.Exp(-lambda * _time) : Math.Exp(-2 * lambda * _time)) * _initial[i] + _integral[i];
            result[i] = new SiteStep(_steps, site.Kind, site.Location, gen.Name, measured, predicted, breaking, integral);
        }
        return result;
    }

    private readonly record struct SgdDirection(Dictionary<(string, int), double> Direction, Dictionary<(string, int), double> OldBuffer);

    // Replays PyTorch's SGD on the monitored entries: d = g + λθ; b' = μb + d (b = d on the first step); D = b' or d + μb'.
    private SgdDirection SgdStep(Func<string, double[]> theta, Func<string, double[]> gradient)
    {
        var direction = new Dictionary<(string, int), double>(_entries.Length);
        var old = new Dictionary<(string, int), double>(_rule.Momentum == 0 ? 0 : _entries.Length);
        double lambda = _rule.WeightDecay, mu = _rule.Momentum;
        foreach (var entry in _entries)
        {
            double d = gradient(entry.Parameter)[entry.Index] + lambda * theta(entry.Parameter)[entry.Index];
            if (mu == 0)
            {
                direction[entry] = d;
                continue;
            }
            bool first = !_buffer.TryGetValue(entry, out double previous);
            old[entry] = first ? 0 : previous;
            double next = first ? d : mu * previous + d;
            _buffer[entry] = next;
            direction[entry] = _rule.Nesterov ? d + mu * next : next;
        }
        return new SgdDirection(direction, old);
    }

    // The measured adaptive step u = (keep·θ − θ')/η on the generator's entries.
    private static Dictionary<(string, int), double> AdaptiveStep(CensusGenerator gen, Func<string, double[]> before, Func<string, double[]> after, double keep, double eta)
    {
        var u = new Dictionary<(string, int), double>();
        foreach (var (name, index) in Entries(gen))
            u.TryAdd((name, index), (keep * before(name)[index] - after(name)[index]) / eta);
        return u;
    }

    // Every (parameter, index) a generator's quantity reads.
    private static IEnumerable<(string, int)> Entries(CensusGenerator gen) =>
        gen.Kind == GeneratorKind.Linear
            ? gen.Couplings.SelectMany(c => new[] { (c.Target, c.TargetIndex), (c.Source, c.SourceIndex) })
            : gen.Entries.SelectMany(e => e.Indices.Select(i => (e.Parameter, i)));

    // A vector the forms read entry by entry: the parameters or gradient (name → values) or a step kept on the monitored
    // entries only.
    private delegate double Entry(string parameter, int index);

    private static Entry Dense(Func<string, double[]> values) => (name, i) => values(name)[i];

    private static Entry Sparse(Dictionary<(string, int), double> values) => (name, i) => values[(name, i)];

    // B(x, y) = ⟨x, S y⟩ with S = ½(M + Mᵀ): Σ a_k x_k y_k (scaling) or ½Σ c (x_t y_s + x_s y_t) (linear).
    private static double Quadratic(CensusGenerator gen, Entry x, Entry y)
    {
        if (gen.Kind == GeneratorKind.Linear)
            return gen.Couplings.Sum(c => 0.5 * c.Coefficient * (x(c.Target, c.TargetIndex) * y(c.Source, c.SourceIndex) + x(c.Source, c.SourceIndex) * y(c.Target, c.TargetIndex)));
        double s = 0;
        foreach (var e in gen.Entries)
            for (int i = 0; i < e.Indices.Length; i++) s += e.Coefficients[i] * x(e.Parameter, e.Indices[i]) * y(e.Parameter, e.Indices[i]);
        return s;
    }

    // ⟨c, x⟩ of a translation.
    private static double Dot(CensusGenerator gen, Entry x)
    {
        double s = 0;
        foreach (var e in gen.Entries)
            for (int i = 0; i < e.Indices.Length; i++) s += e.Coefficients[i] * x(e.Parameter, e.Indices[i]);
        return s;
    }
}

/// <summary>
/// What a monitored run's observations say, over every kept step and generator: the median and largest relative miss
/// |predicted − measured| / |measured| of the per-step identity, the median relative miss of the modified-equation
/// integral, and the median relative size of the breaking term (entries with measured Q = 0 are left out of the ratios).
/// </summary>
public sealed record SiteMonitorSummary(int Observations, int Steps, int Generators, double MedianIdentityRelative, double MaxIdentityRelative,
    double MedianIntegralRelative, double MedianBreakingRelative)
{
    /// <summary>Summarises <paramref name="steps"/> (NaN medians when nothing was kept).</summary>
    public static SiteMonitorSummary Of(IReadOnlyList<SiteStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var usable = steps.Where(s => s.Measured != 0).ToArray();
        double Median(Func<SiteStep, double> f)
        {
            if (usable.Length == 0) return double.NaN;
            var v = usable.Select(f).Order().ToArray();
            return v.Length % 2 == 1 ? v[v.Length / 2] : 0.5 * (v[v.Length / 2 - 1] + v[v.Length / 2]);
        }
        return new SiteMonitorSummary(steps.Count, steps.Select(s => s.Step).Distinct().Count(), steps.Select(s => (s.Site, s.Generator)).Distinct().Count(),
            Median(s => s.Residual / Math.Abs(s.Measured)), usable.Length == 0 ? double.NaN : usable.Max(s => s.Residual / Math.Abs(s.Measured)),
            Median(s => Math.Abs(s.Integral - s.Measured) / Math.Abs(s.Measured)), Median(s => Math.Abs(s.Breaking) / Math.Abs(s.Measured)));
    }

    /// <summary>One summary per site kind present, in the kinds' order.</summary>
    public static IReadOnlyList<(SiteKind Kind, SiteMonitorSummary Summary)> ByKind(IReadOnlyList<SiteStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        return steps.GroupBy(s => s.Kind).OrderBy(g => g.Key).Select(g => (g.Key, Of(g.ToArray()))).ToArray();
    }

    /// <summary>Per kept step (ascending): the median relative miss over generators of the per-step identity and of the integral.</summary>
    public static IReadOnlyList<(long Step, double Identity, double Integral)> PerStep(IReadOnlyList<SiteStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        return steps.GroupBy(s => s.Step).OrderBy(g => g.Key).Select(g =>
        {
            var summary = Of(g.ToArray());
            return (g.Key, summary.MedianIdentityRelative, summary.MedianIntegralRelative);
        }).ToArray();
    }
}
