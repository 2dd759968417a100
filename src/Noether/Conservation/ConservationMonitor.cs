using Noether.Tensors;

namespace Noether.Conservation;

/// <summary>One recorded observation of a conserved quantity.</summary>
/// <param name="Step">Index of the observation (0 for the first).</param>
/// <param name="Time">The time passed by the caller (flow time, or NaN).</param>
/// <param name="Value">Q(θ_t), componentwise.</param>
/// <param name="Change">Q(θ_t) − Q(θ_0).</param>
/// <param name="NormalisedDrift">Q̃(t) − Q̃(0) of eq. 43, componentwise: Q̃ = |First − Second| / (|First₀| + |Second₀|).</param>
/// <param name="RelativeChange">max_i |Q_i(t) − Q_i(0)| / max_i(|First_i(0)| + |Second_i(0)|).</param>
/// <param name="Eq41Measured">Q(θ_t) − Q(θ_{t−1}) when the previous observation carried a gradient and a learning rate, else null.</param>
/// <param name="Eq41Predicted">η²Q(g_{t−1}), the right side of eq. 41 (generalised), or null.</param>
/// <param name="Eq41Bound">η²(|First(g)| + |Second(g)|), the bound of eq. 42 (η²(‖G_U‖² + ‖G_V‖²) for the trace), or null.</param>
public sealed record ConservationRecord(long Step, double Time, double[] Value, double[] Change, double[] NormalisedDrift, double RelativeChange,
    double[]? Eq41Measured, double[]? Eq41Predicted, double[]? Eq41Bound);

/// <summary>Running summary over every observation (recorded or not).</summary>
/// <param name="Observations">Number of calls to <see cref="ConservationMonitor.Observe"/>.</param>
/// <param name="MaxRelativeChange">Largest <see cref="ConservationRecord.RelativeChange"/> seen.</param>
/// <param name="MaxAbsNormalisedDrift">Largest |Q̃(t) − Q̃(0)| over components and time.</param>
/// <param name="Eq41Checks">Number of consecutive pairs for which eq. 41 was checked.</param>
/// <param name="Eq41MaxErrorOverMagnitude">max |measured − predicted| / M over all checks, M = max_i(|First_i| + |Second_i|): the
/// update θ − ηg is itself rounded, which moves Q by about ε·M, so this is the identity's accuracy in absolute terms (≈ 1e-15).</param>
/// <param name="Eq41ResolvableChecks">Checks with |predicted| ≥ <see cref="ConservationMonitor.ResolvableFraction"/>·M, where ΔQ stands
/// clear of that rounding and a relative error is meaningful.</param>
/// <param name="Eq41MaxRelativeError">max |measured − predicted| / |predicted| over the resolvable checks.</param>
/// <param name="Eq41BoundViolations">Checks where |measured| &gt; bound + 64ε·M for some component.</param>
public sealed record ConservationSummary(long Observations, double MaxRelativeChange, double MaxAbsNormalisedDrift,
    long Eq41Checks, double Eq41MaxErrorOverMagnitude, long Eq41ResolvableChecks, double Eq41MaxRelativeError, long Eq41BoundViolations);

/// <summary>
/// Watches a conserved quantity during any training loop: call <see cref="Observe"/> once per step with the current
/// parameters (and, for plain gradient descent, the gradient and learning rate used for the step about to be taken).
/// It records Q, Q − Q₀, the normalised drift Q̃(t) − Q̃(0) of eq. 43 and, for quadratic Q under gradient descent,
/// the exact one-step identity of eq. 41 generalised, Q_{t+1} − Q_t = η²Q(∇L_t) (for Tr[UᵀU − VVᵀ]:
/// η²(‖∂L/∂U‖² − ‖∂L/∂V‖²); as a matrix: η²(G_UᵀG_U − G_VG_Vᵀ)), and its bound |ΔQ| ≤ η²(|First(g)| + |Second(g)|).
/// With other optimisers (SGD on varying batches, Adam) or a flow integrator, pass no learning rate: only Q is tracked.
/// </summary>
public sealed class ConservationMonitor
{
    // 64 units of roundoff (2⁻⁵²): how well a difference of two Q values can be known, relative to the terms.
    private const double FloorFactor = 64 * 2.220446049250313e-16;
    private readonly List<ConservationRecord> _records = [];
    private QuantityTerms? _initial;
    private double _initialMagnitude;
    private double[]? _initialNormalised;
    private double[]? _previous;
    private double[]? _predicted;
    private double[]? _bound;
    private long _observations;
    private double _maxRelativeChange, _maxDrift, _eq41MaxError, _eq41MaxRelative;
    private long _eq41Checks, _eq41Resolvable, _eq41Violations;

    /// <summary>ΔQ counts as resolvable (for the relative error of eq. 41) when |η²Q(g)| ≥ this × M: the rounding of the
    /// update, a few ε·M, is then at most about 1e-11 of ΔQ.</summary>
    public const double ResolvableFraction = 1e-4;

    /// <summary>Monitors <paramref name="quantity"/>, keeping a record every <paramref name="recordEvery"/> observations (the summary sees all).</summary>
    public ConservationMonitor(ConservedQuantity quantity, int recordEvery = 1)
    {
        ArgumentNullException.ThrowIfNull(quantity);
        Errors.ThrowIfNotPositive(recordEvery, nameof(recordEvery));
        Quantity = quantity;
        RecordEvery = recordEvery;
    }

    /// <summary>The monitored quantity.</summary>
    public ConservedQuantity Quantity { get; }

    /// <summary>Record stride.</summary>
    public int RecordEvery { get; }

    /// <summary>The kept records (observation 0 and every <see cref="RecordEvery"/>-th after it).</summary>
    public IReadOnlyList<ConservationRecord> Records => _records;

    /// <summary>Q(θ₀), or null before the first observation.</summary>
    public double[]? InitialValue => _initial?.Value();

    /// <summary>The summary over every observation so far.</summary>
    public ConservationSummary Summary => new(_observations, _maxRelativeChange, _maxDrift, _eq41Checks, _eq41MaxError, _eq41Resolvable, _eq41MaxRelative, _eq41Violations);

    /// <summary>
    /// Observes θ_t. Give <paramref name="gradient"/> and <paramref name="learningRate"/> when the next step will be
    /// θ_{t+1} = θ_t − η·gradient, so that the next observation can check eq. 41 (quadratic Q only).
    /// </summary>
    public ConservationRecord? Observe(IReadOnlyList<Tensor<double>> theta, IReadOnlyList<Tensor<double>>? gradient = null,
        double learningRate = double.NaN, double time = double.NaN)
    {
        ArgumentNullException.ThrowIfNull(theta);
        var terms = Quantity.Terms(theta);
        var value = terms.Value();
        if (_initial is null)
        {
            _initial = terms;
            _initialMagnitude = terms.Magnitude();
            _initialNormalised = Normalised(terms, terms);
        }
        else if (value.Length != _initial.First.Length)
        {
            throw Errors.Argument(nameof(theta), $"{Quantity.Name}: the quantity has {value.Length} components now but {_initial.First.Length} at the first observation");
        }

        var change = new double[value.Length];
        var initialValue = _initial.Value();
        double maxChange = 0;
        for (int i = 0; i < value.Length; i++)
        {
            change[i] = value[i] - initialValue[i];
            maxChange = Math.Max(maxChange, Math.Abs(change[i]));
        }
        double relative = _initialMagnitude == 0 ? maxChange : maxChange / _initialMagnitude;
        _maxRelativeChange = Math.Max(_maxRelativeChange, relative);
        var normalised = Normalised(terms, _initial);
        var drift = new double[value.Length];
        for (int i = 0; i < drift.Length; i++)
        {
            drift[i] = normalised[i] - _initialNormalised![i];
            _maxDrift = Math.Max(_maxDrift, Math.Abs(drift[i]));
        }

        double[]? measured = null, predicted = null, bound = null;
        if (_predicted is not null && _previous is not null)
        {
            measured = new double[value.Length];
            predicted = _predicted;
            bound = _bound;
            double magnitude = terms.Magnitude();
            double floor = FloorFactor * magnitude;
            bool violated = false, resolvable = false;
            double stepRelative = 0;
            for (int i = 0; i < value.Length; i++)
            {
                measured[i] = value[i] - _previous[i];
                double err = Math.Abs(measured[i] - predicted[i]);
                _eq41MaxError = Math.Max(_eq41MaxError, magnitude == 0 ? err : err / magnitude);
                if (Math.Abs(predicted[i]) >= ResolvableFraction * magnitude)
                {
                    resolvable = true;
                    stepRelative = Math.Max(stepRelative, err / Math.Abs(predicted[i]));
                }
                if (Math.Abs(measured[i]) > bound![i] + floor) violated = true;
            }
            _eq41Checks++;
            if (resolvable)
            {
                _eq41Resolvable++;
                _eq41MaxRelative = Math.Max(_eq41MaxRelative, stepRelative);
            }
            if (violated) _eq41Violations++;
        }

        _previous = value;
        _predicted = null;
        _bound = null;
        if (gradient is not null && !double.IsNaN(learningRate))
        {
            if (!double.IsFinite(learningRate) || learningRate <= 0) throw Errors.OutOfRange(nameof(learningRate), learningRate, "a positive finite learning rate");
            if (!Quantity.IsQuadratic)
                throw Errors.Argument(nameof(learningRate), $"{Quantity.Name} is not quadratic in θ, so eq. 41 does not apply; observe without a learning rate");
            var g = Quantity.Terms(gradient);
            double eta2 = learningRate * learningRate;
            _predicted = g.Value();
            _bound = new double[_predicted.Length];
            for (int i = 0; i < _predicted.Length; i++)
            {
                _predicted[i] *= eta2;
                _bound[i] = eta2 * (Math.Abs(g.First[i]) + Math.Abs(g.Second[i]));
            }
        }

        ConservationRecord? record = null;
        if (_observations % RecordEvery == 0)
        {
            record = new ConservationRecord(_observations, time, value, change, drift, relative, measured, predicted, bound);
            _records.Add(record);
        }
        _observations++;
        return record;
    }

    private static double[] Normalised(QuantityTerms terms, QuantityTerms initial)
    {
        var q = new double[terms.First.Length];
        for (int i = 0; i < q.Length; i++)
        {
            double denominator = Math.Abs(initial.First[i]) + Math.Abs(initial.Second[i]);
            q[i] = denominator == 0 ? 0 : Math.Abs(terms.First[i] - terms.Second[i]) / denominator;
        }
        return q;
    }
}
