using Noether.Autodiff;
using Noether.Graphs;
using Noether.Symmetry.Census;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>Settings of one <see cref="GradientNormTeleport"/>: K steps of gradient ascent on ‖∇L‖² over the group coordinates.</summary>
/// <param name="Steps">K ≥ 1 ascent steps (the authors' code: 10).</param>
/// <param name="LearningRate">η &gt; 0: each step moves the coordinates by t = η ∂‖∇L‖²/∂t (the authors' code: 5e-2 for
/// momentum, RMSprop and Adam, 1e-4 for SGD and AdaGrad — on their GL(h) coordinates, not these).</param>
/// <param name="SquaredNormCap">The ascent stops before a step once ‖∇L‖² exceeds this (the authors' dL_dt_cap, 100); +∞: never.</param>
public sealed record GradientNormTeleportSettings(int Steps = 10, double LearningRate = 5e-2, double SquaredNormCap = 100)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Steps < 1) throw Errors.OutOfRange("teleport steps", Steps, "at least 1 ascent step");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw Errors.OutOfRange("teleport learning rate", LearningRate, "a positive finite step size");
        if (!(SquaredNormCap > 0)) throw Errors.OutOfRange("squared-norm cap", SquaredNormCap, "a positive cap (or +∞)");
    }
}

/// <summary>What one teleport did and cost.</summary>
/// <param name="LossBefore">L on the teleport batch before (float64).</param>
/// <param name="LossAfter">L on the teleport batch after (equal to rounding: the group is a symmetry).</param>
/// <param name="SquaredNormBefore">‖∇L‖² on the teleport batch before.</param>
/// <param name="SquaredNormAfter">‖∇L‖² on the teleport batch after.</param>
/// <param name="Steps">Ascent steps taken (fewer than asked when the cap stopped it).</param>
/// <param name="HessianVectorProducts">Hessian-vector products computed (one per step taken, one more when the cap stopped the ascent).</param>
/// <param name="Gradients">Further gradient passes without a product (the final measurement).</param>
/// <param name="Capped">True when ‖∇L‖² passed the cap before the last step.</param>
/// <param name="Seconds">Wall-clock of the whole teleport.</param>
/// <param name="Coordinates">The group element's coordinates summed over the steps, one per generator, sites in order.</param>
public sealed record GradientNormTeleportResult(double LossBefore, double LossAfter, double SquaredNormBefore, double SquaredNormAfter,
    int Steps, int HessianVectorProducts, int Gradients, bool Capped, double Seconds, double[] Coordinates)
{
    /// <summary>|L_after − L_before| / |L_before|.</summary>
    public double RelativeLossChange => Math.Abs(LossAfter - LossBefore) / Math.Max(Math.Abs(LossBefore), double.Epsilon);

    /// <summary>‖∇L‖²_after / ‖∇L‖²_before.</summary>
    public double Gain => SquaredNormAfter / SquaredNormBefore;
}

/// <summary>
/// Symmetry teleportation to a larger gradient norm (Zhao et al., NeurIPS 2022 and ICLR 2024), along the census's groups
/// of any graph classifier: gradient ascent on f(t) = ‖∇L(exp(Σ tᵢMᵢ)·θ)‖² over the coordinates t of the exact census
/// sites (per-unit positive rescalings across ReLU/LeakyReLU, softmax translations, GL(d) between linear maps…), on one
/// batch. Each step restarts at t = 0 from the current point, so ∂f/∂tᵢ = 2⟨H∇L, Mᵢθ⟩: one exact Hessian-vector product
/// (double backward on the tape) and one dot product per generator with its tangent Mᵢθ; then t = η∂f/∂t and the group
/// element is applied exactly (<see cref="CensusSite.Apply"/>, site by site). The loss is unchanged on every input, not
/// only on the batch (the sites are symmetries of the function); a change beyond <see cref="LossTolerance"/> is an error.
/// Float64; the graph's parameters move in place. The authors' ICLR 2024 code ascends instead over GL(h) with a
/// data-dependent action (U ← Uσ(VX)σ(gVX)⁺), which keeps the loss only on the teleport batch: docs/teleport-training.md.
/// </summary>
public sealed class GradientNormTeleport
{
    /// <summary>Largest |ΔL|/|L| on the teleport batch a teleport may leave (float64 rounding of the moved parameters).</summary>
    public const double LossTolerance = 1e-10;

    private readonly Graph<double> _graph;
    private readonly Parameter<double>[] _parameters;
    private readonly Entries[][] _entries; // per generator (sites in order): its entries by parameter position
    private readonly double[][] _exponents; // per parameter: scratch for one site's summed exponent or shift

    // A generator's entries of one parameter tensor, by the tensor's position in the graph's parameter list.
    private sealed record Entries(int Parameter, int[] Indices, double[] Coefficients);

    /// <summary>A teleport of <paramref name="graph"/> (float64, output 0 the logits, loss the mean cross-entropy) along <paramref name="sites"/>.</summary>
    /// <exception cref="ArgumentException">No site, an approximate site (its group changes the loss), or a site moving a tensor the graph does not train.</exception>
    public GradientNormTeleport(Graph<double> graph, IEnumerable<CensusSite> sites)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(sites);
        Sites = sites.ToArray();
        if (Sites.Count == 0) throw Errors.Argument(nameof(sites), "teleport: no census site to move along (the model has no continuous symmetry the census found)");
        foreach (var s in Sites)
        {
            if (!s.Exact) throw Errors.Argument(nameof(sites), $"teleport: site '{s.Location}' is approximate ({s.Note}); its group changes the loss");
            foreach (var name in s.Generators.SelectMany(g => g.Parameters))
                if (graph.Parameter(name) is null) throw Errors.Argument(nameof(sites), $"teleport: site '{s.Location}' moves '{name}', which is not a parameter of the graph");
        }
        _graph = graph;
        _parameters = [.. graph.Parameters];
        Dimension = Sites.Sum(s => s.Dimension);
        var position = _parameters.Select((p, i) => (p.Name, i)).ToDictionary(p => p.Name, p => p.i);
        _entries = Sites.SelectMany(s => s.Generators)
            .Select(g => g.Entries.Select(e => new Entries(position[e.Parameter], e.Indices, e.Coefficients)).ToArray()).ToArray();
        _exponents = _parameters.Select(p => new double[p.Length]).ToArray();
    }

    /// <summary>The exact sites of <paramref name="census"/>: the ones a teleport may move along.</summary>
    public static IReadOnlyList<CensusSite> ExactSites(SymmetryCensus census)
    {
        ArgumentNullException.ThrowIfNull(census);
        return census.Sites.Where(s => s.Exact).ToArray();
    }

    /// <summary>The sites moved.</summary>
    public IReadOnlyList<CensusSite> Sites { get; }

    /// <summary>The group's dimension: generators over all sites.</summary>
    public int Dimension { get; }

    private double[] Data(string name) => _graph.Parameter(name)!.Value.Data;

    private Variable<double> Loss(Tape<double> tape, Tensor<double> inputs, int[] labels) =>
        Ops.CrossEntropy(_graph.Run(tape, [tape.Constant(inputs)]).Output(tape, 0), labels);

    /// <summary>L and ‖∇L‖² on the batch (one backward pass).</summary>
    public (double Loss, double SquaredNorm) Measure(Tensor<double> inputs, int[] labels)
    {
        Check(inputs, labels);
        var tape = new Tape<double>();
        var loss = Loss(tape, inputs, labels);
        var gradient = tape.Gradient(loss, _parameters);
        return (loss.Value.ScalarValue, gradient.Sum(g => Dot(g.Data, g.Data)));
    }

    /// <summary>
    /// ∂f/∂tᵢ at t = 0 for every generator (sites in order), f = ‖∇L‖² on the batch: 2⟨H∇L, Mᵢθ⟩ by one Hessian-vector
    /// product; also L and f at the current point.
    /// </summary>
    public (double[] Gradient, double Loss, double SquaredNorm) ObjectiveGradient(Tensor<double> inputs, int[] labels)
    {
        Check(inputs, labels);
        var hessian = new HessianOperator<double>((tape, leaves) =>
        {
            for (int i = 0; i < _parameters.Length; i++) tape.BindTo(_parameters[i], leaves[i]);
            return Loss(tape, inputs, labels);
        }, _parameters.Select(p => p.Value).ToArray());
        var g = hessian.Gradient;
        double f = g.Sum(t => Dot(t.Data, t.Data));
        var hg = hessian.Multiply(g);
        var d = new double[Dimension];
        int k = 0;
        foreach (var site in Sites)
            foreach (var generator in site.Generators)
            {
                // ⟨Hg, Mθ⟩ with the tangent Mθ: a_k θ_k (scaling), c_k (translation), Σ c θ_source (linear).
                double s = 0;
                if (generator.Kind == GeneratorKind.Linear)
                    foreach (var (parameter, i, value) in generator.Tangent(Data)) s += hg[Array.FindIndex(_parameters, p => p.Name == parameter)].Data[i] * value;
                else
                    foreach (var e in _entries[k])
                    {
                        var h = hg[e.Parameter].Data;
                        var theta = _parameters[e.Parameter].Value.Data;
                        for (int j = 0; j < e.Indices.Length; j++)
                            s += h[e.Indices[j]] * e.Coefficients[j] * (generator.Kind == GeneratorKind.Scaling ? theta[e.Indices[j]] : 1);
                    }
                d[k++] = 2 * s;
            }
        return (d, hessian.Value, f);
    }

    /// <summary>Moves the parameters by the group element with coordinates <paramref name="t"/> (sites in order), in place.</summary>
    public void Move(IReadOnlyList<double> t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.Count != Dimension) throw Errors.Argument(nameof(t), $"teleport: {t.Count} coordinates for a group of dimension {Dimension}");
        int k = 0;
        foreach (var site in Sites)
        {
            var ts = new double[site.Dimension];
            for (int i = 0; i < ts.Length; i++) ts[i] = t[k + i];
            if (site.Generators[0].Kind == GeneratorKind.Linear) site.Apply(Data, ts);
            else Apply(site.Generators[0].Kind == GeneratorKind.Scaling, k, ts);
            k += ts.Length;
        }
    }

    // exp(Σ tᵢMᵢ) of one scaling or translation site (its generators commute): each entry's exponent (or shift) summed over
    // the site's generators, then θ·e^s (or θ + s) — what CensusSite.Apply computes, with arrays in place of a dictionary.
    private void Apply(bool scaling, int first, double[] t)
    {
        for (int g = 0; g < t.Length; g++)
            foreach (var e in _entries[first + g])
                for (int j = 0; j < e.Indices.Length; j++) _exponents[e.Parameter][e.Indices[j]] += t[g] * e.Coefficients[j];
        for (int g = 0; g < t.Length; g++)
            foreach (var e in _entries[first + g])
            {
                var theta = _parameters[e.Parameter].Value.Data;
                var s = _exponents[e.Parameter];
                foreach (int i in e.Indices)
                {
                    if (s[i] == 0) continue; // applied already (an entry two generators share) or not moved
                    theta[i] = scaling ? theta[i] * Math.Exp(s[i]) : theta[i] + s[i];
                    s[i] = 0;
                }
            }
    }

    /// <summary>
    /// K steps of gradient ascent on ‖∇L‖² over the group on the batch (<paramref name="inputs"/> shaped as the graph's
    /// input, <paramref name="labels"/>); the parameters move in place.
    /// </summary>
    /// <exception cref="ArithmeticException">The loss on the batch changed by more than <see cref="LossTolerance"/> (relative), or a non-finite value; the parameters are restored.</exception>
    public GradientNormTeleportResult Run(Tensor<double> inputs, int[] labels, GradientNormTeleportSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var clock = Stopwatch.StartNew();
        var saved = _parameters.Select(p => p.Value.Data.ToArray()).ToArray();
        var total = new double[Dimension];
        double lossBefore = double.NaN, normBefore = double.NaN;
        int steps = 0, products = 0;
        bool capped = false;
        for (int k = 0; k < settings.Steps; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (d, loss, norm) = ObjectiveGradient(inputs, labels);
            products++;
            if (k == 0) (lossBefore, normBefore) = (loss, norm);
            if (norm > settings.SquaredNormCap)
            {
                // The authors' break: past the cap, no further step (this product was paid for).
                capped = true;
                break;
            }
            var t = d.Select(x => settings.LearningRate * x).ToArray();
            if (t.Any(x => !double.IsFinite(x))) Fail($"the ascent direction is not finite at step {k + 1}");
            Move(t);
            for (int i = 0; i < t.Length; i++) total[i] += t[i];
            steps++;
        }
        var (lossAfter, normAfter) = Measure(inputs, labels);
        var result = new GradientNormTeleportResult(lossBefore, lossAfter, normBefore, normAfter, steps, products, 1, capped, clock.Elapsed.TotalSeconds, total);
        if (!double.IsFinite(lossAfter) || !double.IsFinite(normAfter)) Fail($"the loss or gradient after the teleport is not finite (L = {lossAfter}, ‖∇L‖² = {normAfter})");
        if (result.RelativeLossChange > LossTolerance)
            Fail(string.Create(CultureInfo.InvariantCulture, $"the loss on the teleport batch changed from {lossBefore:R} to {lossAfter:R} (relative {result.RelativeLossChange:E2} > {LossTolerance:E0}): the group moved is not a symmetry of this loss"));
        return result;

        void Fail(string why)
        {
            for (int i = 0; i < _parameters.Length; i++) saved[i].CopyTo(_parameters[i].Value.Data, 0);
            throw new ArithmeticException($"teleport: {why}; the parameters were restored");
        }
    }

    private void Check(Tensor<double> inputs, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        if (inputs.Rank == 0 || inputs.Dim(0) != labels.Length)
            throw Errors.Argument(nameof(labels), $"teleport: {labels.Length} labels for a batch of shape {Errors.Shape(inputs.ShapeArray)}");
    }

    private static double Dot(double[] a, double[] b) => System.Numerics.Tensors.TensorPrimitives.Dot<double>(a, b);
}
