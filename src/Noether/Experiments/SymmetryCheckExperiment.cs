using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>Settings of the symmetry check on a user-chosen MLP.</summary>
public sealed record SymmetryCheckSettings
{
    /// <summary>Widths (n₀, …, n_L), L ≥ 2.</summary>
    public IReadOnlyList<int> Widths { get; init; } = [8, 6, 5, 3];

    /// <summary>Hidden activation name (<see cref="Activation.Parse"/>).</summary>
    public string Activation { get; init; } = "relu";

    /// <summary>Samples per batch k (the nonlinear action needs k ≤ the width of its layer).</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>Random (θ, X, Y, g) draws.</summary>
    public int Draws { get; init; } = 20;

    /// <summary>Linear group elements are exp(scale·M) for random M in each layer's algebra.</summary>
    public double GroupScale { get; init; } = 0.5;

    /// <summary>The nonlinear action uses g = I + εM with M ~ N(0, 1) entries (as in the ensembles of Appendix H).</summary>
    public double NonlinearEpsilon { get; init; } = 0.1;

    /// <summary>Hidden layer (1 … L−1) the nonlinear action acts on; null: the last hidden layer.</summary>
    public int? NonlinearLayer { get; init; }

    /// <summary>Standard deviation of the weights' entries, divided by √(fan-in).</summary>
    public double WeightScale { get; init; } = 1;

    /// <summary>Seed of everything random.</summary>
    public int Seed { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Widths);
        if (Widths.Count < 3) throw Errors.Argument(nameof(Widths), $"symmetry check: widths ({string.Join(", ", Widths)}) need at least n₀, n₁, n₂");
        foreach (var w in Widths) Errors.ThrowIfNotPositive(w, nameof(Widths));
        Errors.ThrowIfNotPositive(BatchSize, nameof(BatchSize));
        Errors.ThrowIfNotPositive(Draws, nameof(Draws));
        Errors.ThrowIfNotPositive(GroupScale, nameof(GroupScale));
        Errors.ThrowIfNotPositive(NonlinearEpsilon, nameof(NonlinearEpsilon));
        Errors.ThrowIfNotPositive(WeightScale, nameof(WeightScale));
        int layer = NonlinearLayer ?? Widths.Count - 2;
        if (layer < 1 || layer > Widths.Count - 2)
            throw Errors.OutOfRange(nameof(NonlinearLayer), NonlinearLayer, $"a hidden layer between 1 and {Widths.Count - 2}");
        if (BatchSize > Widths[layer])
            throw Errors.Argument(nameof(BatchSize), $"symmetry check: the nonlinear action on hidden layer {layer} (width {Widths[layer]}) needs k ≤ {Widths[layer]} samples per batch, got k = {BatchSize}");
    }
}

/// <summary>Checks of the linear group action of the activation (absent for σ without one, e.g. tanh).</summary>
/// <param name="Groups">The group on each hidden layer.</param>
/// <param name="MaxLossInvarianceError">max over draws of |L(g·θ) − L(θ)| / |L(θ)| (eq. 1).</param>
/// <param name="MaxInfinitesimalResidual">max over draws of |⟨∇L, M̄_θ⟩| / (‖∇L‖·‖M̄_θ‖) (Prop. 5, eq. 18).</param>
/// <param name="MinControlLossChange">min over draws of the relative loss change when only gW_i is applied without its
/// compensating factor on W_{i+1}: a transformation that is not a symmetry, showing that the check can fail.</param>
public sealed record LinearSymmetryCheck(IReadOnlyList<string> Groups, double MaxLossInvarianceError, double MaxInfinitesimalResidual, double MinControlLossChange);

/// <summary>Checks of the nonlinear action π(g, Z) = σ(Z)σ(gZ)⁺ on one hidden layer.</summary>
/// <param name="Layer">The hidden layer i (V = W_i, U = W_{i+1}, Z = H_i).</param>
/// <param name="Width">n_i.</param>
/// <param name="BatchSize">k.</param>
/// <param name="Checked">Draws checked.</param>
/// <param name="Refused">Draws where σ(gZ) was rank-deficient or too ill-conditioned (the action refuses them).</param>
/// <param name="MaxOutputErrorOnBatch">max relative change of the network output on the batch π was built from.</param>
/// <param name="MedianOutputChangeOnFreshBatch">median relative change of the output on a fresh batch (not kept: Prop. 8's remark).</param>
/// <param name="MaxCompositionError">max relative ‖π(g₁,Z)π(g₂,g₁Z) − π(g₂g₁,Z)‖ (eq. 16).</param>
/// <param name="MedianConditionNumber">median condition number of σ(gZ).</param>
/// <param name="MaxConditionNumber">max condition number of σ(gZ).</param>
/// <param name="IdentityProjectionDistance">‖π(I, Z) − I‖_F at the first draw where π(I, Z) is defined (NaN if none is).</param>
/// <param name="ExpectedProjectionDistance">√(n_i − k): π(I, Z) is a rank-k projection.</param>
public sealed record NonlinearSymmetryCheck(int Layer, int Width, int BatchSize, int Checked, int Refused, double MaxOutputErrorOnBatch,
    double MedianOutputChangeOnFreshBatch, double MaxCompositionError, double MedianConditionNumber, double MaxConditionNumber,
    double IdentityProjectionDistance, double ExpectedProjectionDistance);

/// <summary>The symmetry check.</summary>
/// <param name="Settings">The settings it ran with.</param>
/// <param name="Linear">Linear-action checks, or null when σ has no linear symmetry group.</param>
/// <param name="Nonlinear">Nonlinear-action checks.</param>
public sealed record SymmetryCheckResult(SymmetryCheckSettings Settings, LinearSymmetryCheck? Linear, NonlinearSymmetryCheck Nonlinear)
{
    /// <summary>
    /// The checks this run's numbers are judged by, in table order: the linear action's (when σ has a linear group), then the
    /// data-dependent action's (with every draw refused nothing of Prop. 8 was checked, and those checks fail).
    /// </summary>
    public IReadOnlyList<SymmetryCheckLine> Checks()
    {
        var checks = new List<SymmetryCheckLine>();
        if (Linear is { } l)
        {
            const string group = "linear";
            string linear = Inv($"≤ {SymmetryClaims.LinearLimit:0e0}");
            checks.Add(new(group, "max |L(g·θ) − L(θ)| / |L(θ)| (eq. 1)", l.MaxLossInvarianceError, linear, SymmetryClaims.CheckLossInvariant, [l.MaxLossInvarianceError]));
            checks.Add(new(group, "max |⟨∇L, M̄θ⟩| / (‖∇L‖‖M̄θ‖) (Prop. 5)", l.MaxInfinitesimalResidual, linear, SymmetryClaims.CheckGradientOrthogonal, [l.MaxInfinitesimalResidual]));
            checks.Add(new(group, "control: g on W₁ only, min relative loss change", l.MinControlLossChange, Inv($"≥ {SymmetryClaims.ControlLimit:0e0} (not a symmetry)"),
                SymmetryClaims.CheckOneLayerControl, [l.MinControlLossChange]));
        }
        var n = Nonlinear;
        const string nl = "nonlinear";
        string nonlinear = Inv($"≤ {SymmetryClaims.NonlinearLimit:0e0}");
        checks.Add(new(nl, "draws checked / refused (rank or conditioning)", n.Checked, Inv($"{n.Refused} refused"), SymmetryClaims.CheckDraws, [n.Checked, n.Refused]));
        checks.Add(new(nl, "max relative output change on its own batch", n.MaxOutputErrorOnBatch, nonlinear, SymmetryClaims.CheckOwnBatch, [n.Checked, n.MaxOutputErrorOnBatch]));
        // "Measurably changes": far above the on-batch error (the change itself is O(ε) when k = h, O(1) when k < h).
        checks.Add(new(nl, "median relative output change on a fresh batch", n.MedianOutputChangeOnFreshBatch, Inv($"≥ {SymmetryClaims.FreshFactor:G0} × on-batch (data-dependent)"),
            SymmetryClaims.CheckFreshBatch, [n.Checked, n.MedianOutputChangeOnFreshBatch, n.MaxOutputErrorOnBatch]));
        checks.Add(new(nl, "max ‖π(g₁,Z)π(g₂,g₁Z) − π(g₂g₁,Z)‖ rel. (eq. 16)", n.MaxCompositionError, nonlinear, SymmetryClaims.CheckComposition, [n.Checked, n.MaxCompositionError]));
        checks.Add(new(nl, "median condition number of σ(gZ)", n.MedianConditionNumber, Inv($"< {SymmetryClaims.ConditionWarning:0e0} (else π is ill-conditioned)"),
            SymmetryClaims.CheckConditioning, [n.Checked, n.MedianConditionNumber]));
        checks.Add(new(nl, "max condition number of σ(gZ)", n.MaxConditionNumber, "reported", SymmetryClaims.CheckMaxCondition, []));
        double expected = n.ExpectedProjectionDistance;
        checks.Add(new(nl, Inv($"‖π(I,Z) − I‖_F (a rank-k projection: √(h − k) = {expected:G4})"), n.IdentityProjectionDistance,
            "= √(h − k)", SymmetryClaims.CheckIdentityProjection, [n.IdentityProjectionDistance, expected]));
        return checks;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One check of the symmetry check: judged by <paramref name="Rule"/> from <paramref name="Numbers"/> (none for a measurement).</summary>
/// <param name="Group">"linear" or "nonlinear": the action checked.</param>
/// <param name="Name">What is measured.</param>
/// <param name="Value">The measured value.</param>
/// <param name="Expectation">What a pass needs, in words.</param>
/// <param name="Rule">The claim rule that judges it.</param>
/// <param name="Numbers">The rule's inputs.</param>
public sealed record SymmetryCheckLine(string Group, string Name, double Value, string Expectation, ClaimRule Rule, double[] Numbers)
{
    /// <summary>The rule's verdict on <see cref="Numbers"/>.</summary>
    public Verdict Verdict => Rule.Judge(Numbers);

    /// <summary>True when the check passes, false when it fails, null for a measurement.</summary>
    public bool? Pass => Rule.IsMeasurement ? null : Verdict is Verdict.Reproduced or Verdict.Corrected or Verdict.Passed;
}

/// <summary>
/// Invariance checks on a user-chosen MLP: the loss under the product action of σ's linear group (eqs. 17–18),
/// the orthogonality ⟨∇L, M̄_θ⟩ = 0, and the data-dependent action of Prop. 8 on one hidden layer (kept output on
/// its batch, changed output elsewhere, the composition law of eq. 16, conditioning).
/// </summary>
public static class SymmetryCheckExperiment
{
    /// <summary>Runs the checks. Pure: the result depends only on the settings.</summary>
    public static SymmetryCheckResult Run(SymmetryCheckSettings settings, IProgress<ExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var sigma = Activation.Parse(settings.Activation);
        var net = new MultilayerNetwork(settings.Widths, sigma, SquaredErrorLoss.HalfSum);
        var widths = settings.Widths;
        int layers = net.Layers;
        int k = settings.BatchSize;
        var random = new Random(settings.Seed);
        MultilayerAction? action = null;
        try { action = MultilayerAction.ForNetwork(net); }
        catch (ArgumentException) { /* σ has no linear group: only the nonlinear action applies */ }

        double maxInvariance = 0, maxResidual = 0, minControl = double.PositiveInfinity;
        int layer = settings.NonlinearLayer ?? layers - 1;
        var nonlinear = new NonlinearAction(sigma);
        var gl = new GeneralLinearGroup(widths[layer]);
        double maxOnBatch = 0, maxComposition = 0, projection = double.NaN;
        var freshChanges = new List<double>();
        var conditions = new List<double>();
        int refused = 0;

        for (int d = 0; d < settings.Draws; d++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new ExperimentProgress("draws", d, settings.Draws));
            var w = RandomWeights(random, widths, settings.WeightScale);
            var x = Gaussian.Matrix(random, widths[0], k);
            var y = Gaussian.Matrix(random, widths[^1], k);
            double loss = net.Loss(w, x, y);

            if (action is not null)
            {
                var g = action.RandomElement(random, settings.GroupScale);
                maxInvariance = Math.Max(maxInvariance, Math.Abs(net.Loss(action.Apply(g, w), x, y) - loss) / Math.Abs(loss));
                var tangent = action.InfinitesimalAction(action.RandomAlgebraElement(random), w);
                var grad = net.LossAndGradient(w, x, y).Gradient;
                double inner = 0, ng = 0, nt = 0;
                for (int i = 0; i < w.Length; i++)
                {
                    inner += TensorOps.Dot(grad[i], tangent[i]);
                    ng += TensorOps.Dot(grad[i], grad[i]);
                    nt += TensorOps.Dot(tangent[i], tangent[i]);
                }
                if (ng > 0 && nt > 0) maxResidual = Math.Max(maxResidual, Math.Abs(inner) / Math.Sqrt(ng * nt));
                // Control: g on W_1's rows only, without the compensating g⁻¹ on W_2: not a symmetry.
                var broken = (Tensor<double>[])w.Clone();
                broken[0] = TensorOps.MatMul(g[0], w[0]);
                minControl = Math.Min(minControl, Math.Abs(net.Loss(broken, x, y) - loss) / Math.Abs(loss));
            }

            // Nonlinear action on hidden layer `layer`: V = W_layer, U = W_{layer+1}, Z = H_layer.
            var z = net.PreActivations(w, x)[layer - 1];
            if (double.IsNaN(projection)) // at the first draw π(I, Z) is defined for (ReLU can leave σ(Z) rank-deficient)
            {
                try
                {
                    var pi0 = nonlinear.Pi(Tensor<double>.Identity(widths[layer]), z).Pi;
                    projection = TensorOps.Norm(TensorOps.Binary(BinaryOp.Subtract, pi0, Tensor<double>.Identity(widths[layer])));
                }
                catch (ArgumentException) { /* refused at the identity: try the next draw; NaN if every draw is refused */ }
            }
            var g1 = gl.IdentityPlus(Gaussian.Matrix(random, widths[layer], widths[layer]), settings.NonlinearEpsilon);
            var g2 = gl.IdentityPlus(Gaussian.Matrix(random, widths[layer], widths[layer]), settings.NonlinearEpsilon);
            try
            {
                var p1 = nonlinear.Pi(g1, z);
                var p2 = nonlinear.Pi(g2, TensorOps.MatMul(g1, z));
                var p21 = nonlinear.Pi(TensorOps.MatMul(g2, g1), z);
                var moved = (Tensor<double>[])w.Clone();
                moved[layer] = TensorOps.MatMul(w[layer], p1.Pi);
                moved[layer - 1] = TensorOps.MatMul(g1, w[layer - 1]);
                maxOnBatch = Math.Max(maxOnBatch, RelativeDifference(net.Output(moved, x), net.Output(w, x)));
                var fresh = Gaussian.Matrix(random, widths[0], k);
                freshChanges.Add(RelativeDifference(net.Output(moved, fresh), net.Output(w, fresh)));
                maxComposition = Math.Max(maxComposition, RelativeDifference(TensorOps.MatMul(p1.Pi, p2.Pi), p21.Pi));
                conditions.Add(p1.ConditionNumber);
            }
            catch (ArgumentException e) when (e.Message.Contains("rank", StringComparison.Ordinal) || e.Message.Contains("condition", StringComparison.Ordinal))
            {
                refused++;
            }
        }
        progress?.Report(new ExperimentProgress("draws", settings.Draws, settings.Draws));

        var linear = action is null ? null
            : new LinearSymmetryCheck(action.Groups.Select(g => g.Name).ToArray(), maxInvariance, maxResidual, minControl);
        var check = new NonlinearSymmetryCheck(layer, widths[layer], k, conditions.Count, refused, maxOnBatch, Median(freshChanges), maxComposition,
            Median(conditions), conditions.Count == 0 ? double.NaN : conditions.Max(), projection, Math.Sqrt(widths[layer] - k));
        return new SymmetryCheckResult(settings, linear, check);
    }

    private static Tensor<double>[] RandomWeights(Random random, IReadOnlyList<int> widths, double scale)
    {
        var w = new Tensor<double>[widths.Count - 1];
        for (int i = 0; i < w.Length; i++) w[i] = Gaussian.Matrix(random, widths[i + 1], widths[i], scale / Math.Sqrt(widths[i]));
        return w;
    }

    // ‖a − b‖_F / ‖b‖_F.
    private static double RelativeDifference(Tensor<double> a, Tensor<double> b)
    {
        double nb = TensorOps.Norm(b);
        double diff = TensorOps.Norm(TensorOps.Binary(BinaryOp.Subtract, a, b));
        return nb == 0 ? diff : diff / nb;
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }
}
