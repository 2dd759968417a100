using static Noether.Experiments.ClaimOutcomes;

namespace Noether.Experiments;

/// <summary>
/// The claims of the symmetry experiments — Xavier statistics of Q (Figs. 4–5), orbit dimensions (eqs. 20–22), the
/// symmetry check (eq. 1, Prop. 5, Prop. 8, eq. 16), algebra discovery (Appendix B), <c>analyze</c> and <c>train</c> — and how each is judged.
/// </summary>
public static class SymmetryClaims
{
    // ---- Xavier (Figs. 4–5) ----

    /// <summary>Largest |z| of a sample moment that counts as matching its prediction.</summary>
    public const double ZLimit = 3;

    /// <summary>eq. 47, corrected. Per shape: [z of the mean against ½(m − h), z against the paper's m − h (NaN where m = h or not testable)].</summary>
    public static readonly ClaimRule XavierMean = new("xavier-mean", ClaimOrigin.Correction, "eq. 47, Fig. 4",
        "Under Xavier initialisation the centre of the distribution of Q = ½Tr[UᵀU − VVᵀ] is E[Q] = ½(m − h) (the paper prints m − h).",
        $"½(m − h), |z| ≤ {Text(ZLimit)} for every shape (paper: m − h)", "per shape: [z, paper's z]",
        p =>
        {
            var held = PerPart(p, x => x.Length == 2 && Math.Abs(x[0]) <= ZLimit);
            bool paperRejected = p.Any(x => x.Length == 2 && Math.Abs(x[1]) > ZLimit);
            return held == ClaimOutcome.Holds && paperRejected ? ClaimOutcome.HoldsAsCorrected : held;
        });

    /// <summary>SPEC's derived variance (Noether's own derivation). Per shape: [z of the variance].</summary>
    public static readonly ClaimRule XavierVariance = new("xavier-variance", ClaimOrigin.Own, "SPEC's derivation (Fig. 4 shows histograms only)",
        "The spread of Q under Xavier initialisation is Var[Q] = ½(m/h + h/n) (derived in SPEC; the paper shows the histograms only).",
        $"½(m/h + h/n), |z| ≤ {Text(ZLimit)} for every shape", "per shape: [z]",
        p => PerPart(p, x => x.Length == 1 && Math.Abs(x[0]) <= ZLimit));

    /// <summary>The derived moments of eq. 48's integral form (Noether's own derivation). Per σ: [z of the mean, variance derived (1) or not (0), z of the variance].</summary>
    public static readonly ClaimRule XavierIntegralForm = new("xavier-integral-form", ClaimOrigin.Own, "SPEC's derivation for eq. 48 (Fig. 5 shows histograms only)",
        "For elementwise σ (whitened input) the integral form of Q has the distribution derived from the Xavier moments of U and V.",
        $"mean (and, where derived, variance) within {Text(ZLimit)} standard errors of the derived moments, for every σ", "per σ: [z mean, variance derived 0/1, z variance]",
        p => PerPart(p, x => x.Length == 3 && Math.Abs(x[0]) <= ZLimit && (x[1] == 0 || Math.Abs(x[2]) <= ZLimit)));

    // ---- orbit dimensions (eqs. 20–22) ----

    private static ClaimOutcome Shapes(double[][] p)
    {
        var held = PerPart(p, x => x.Length == 2 && x[0] == 1);
        return held == ClaimOutcome.Holds && p.Any(x => x[1] == 1) ? ClaimOutcome.HoldsAsCorrected : held;
    }

    /// <summary>eq. 20. Per shape: [measured rank = closed form (1/0), the printed formula differs (1/0)].</summary>
    public static readonly ClaimRule OrbitGeneralLinear = new("orbit-eq20-gl", ClaimOrigin.Paper, "eq. 20",
        "The GL(h) orbit of a generic θ has dimension h² − max(0, h − n)·max(0, h − m).", "eq. 20 as printed, in every shape", "per shape: [agrees 0/1, paper differs 0/1]", Shapes);

    /// <summary>eq. 21, corrected. Per shape as <see cref="OrbitGeneralLinear"/>.</summary>
    public static readonly ClaimRule OrbitScaling = new("orbit-eq21-scaling", ClaimOrigin.Correction, "eq. 21",
        "The positive-scaling orbit has dimension min(h, max(n, m)) (eq. 21); SPEC: h.", "h in every shape (paper: min(h, max(n, m)))", "per shape: [agrees 0/1, paper differs 0/1]", Shapes);

    /// <summary>eq. 22, corrected. Per shape as <see cref="OrbitGeneralLinear"/>.</summary>
    public static readonly ClaimRule OrbitOrthogonal = new("orbit-eq22-orthogonal", ClaimOrigin.Correction, "eq. 22",
        "The O(h) orbit has dimension C(h,2) − C(max(0, h − max(m, n)), 2) (eq. 22); SPEC: m + n in place of max(m, n).",
        "C(h,2) − C(max(0, h − m − n), 2) in every shape (paper: max(m, n))", "per shape: [agrees 0/1, paper differs 0/1]", Shapes);

    // ---- symmetry-check ----

    /// <summary>Largest relative error of an exact linear symmetry (rounding).</summary>
    public const double LinearLimit = 1e-10;

    /// <summary>eq. 1 for the linear action. One part: [max relative loss change].</summary>
    public static readonly ClaimRule CheckLossInvariant = new("symmetry-check-eq1-loss", ClaimOrigin.Paper, "eq. 1",
        "The loss is invariant under the linear group action: L(g·θ) = L(θ).", $"max |L(g·θ) − L(θ)| / |L(θ)| ≤ {Text(LinearLimit)}", "[max relative loss change]",
        p => If(Single(p, 1)[0] <= LinearLimit));

    /// <summary>Prop. 5. One part: [max normalised ⟨∇L, M̄θ⟩].</summary>
    public static readonly ClaimRule CheckGradientOrthogonal = new("symmetry-check-prop5", ClaimOrigin.Paper, "Prop. 5",
        "The gradient is orthogonal to every infinitesimal symmetry: ⟨∇L, M̄θ⟩ = 0.", $"max |⟨∇L, M̄θ⟩| / (‖∇L‖‖M̄θ‖) ≤ {Text(LinearLimit)}", "[max normalised inner product]",
        p => If(Single(p, 1)[0] <= LinearLimit));

    /// <summary>Smallest relative loss change of the one-layer control.</summary>
    public const double ControlLimit = 1e-6;

    /// <summary>Noether's control: one layer alone is not a symmetry. One part: [min relative loss change].</summary>
    public static readonly ClaimRule CheckOneLayerControl = new("symmetry-check-control", ClaimOrigin.Own, "Noether's control (eqs. 17–18)",
        "Acting on one layer only is not a symmetry (control).", $"min relative loss change ≥ {Text(ControlLimit)}", "[min relative loss change]",
        p => If(Single(p, 1)[0] >= ControlLimit));

    /// <summary>Noether's sampling: some draws must be usable. One part: [draws checked, draws refused].</summary>
    public static readonly ClaimRule CheckDraws = new("symmetry-check-draws", ClaimOrigin.Own, "Noether's sampling of (g, Z)",
        "Draws of (g, Z) with σ(gZ) of full rank and usable conditioning exist, so Prop. 8 can be checked.", "≥ 1 draw checked", "[checked, refused]",
        p => If(Single(p, 2)[0] >= 1));

    /// <summary>Largest relative error of the data-dependent action on its own batch.</summary>
    public const double NonlinearLimit = 1e-8;

    /// <summary>Prop. 8 on its own batch. One part: [draws checked, max relative output change].</summary>
    public static readonly ClaimRule CheckOwnBatch = new("symmetry-check-own-batch", ClaimOrigin.Paper, "Prop. 8",
        "The data-dependent action π(g, Z) = σ(Z)σ(gZ)⁺ keeps the output unchanged on the batch it was built from.",
        $"max relative output change ≤ {Text(NonlinearLimit)} (over ≥ 1 checked draw)", "[checked, max change]",
        p =>
        {
            var x = Single(p, 2);
            return If(x[0] >= 1 && x[1] <= NonlinearLimit);
        });

    /// <summary>How many times the on-batch error the change on a fresh batch must exceed.</summary>
    public const double FreshFactor = 1000;

    /// <summary>Prop. 8 on a fresh batch. One part: [draws checked, median change on a fresh batch, max change on its own batch].</summary>
    public static readonly ClaimRule CheckFreshBatch = new("symmetry-check-fresh-batch", ClaimOrigin.Paper, "Prop. 8",
        "The data-dependent action changes the output on other data (it is not a symmetry of the network function).",
        $"median change on a fresh batch ≥ {Text(FreshFactor)} × the on-batch error (and ≥ 1e-12)", "[checked, fresh median, own max]",
        p =>
        {
            var x = Single(p, 3);
            return If(x[0] >= 1 && double.IsFinite(x[2]) && x[1] >= Math.Max(FreshFactor * x[2], 1e-12));
        });

    /// <summary>eq. 16. One part: [draws checked, max relative composition error].</summary>
    public static readonly ClaimRule CheckComposition = new("symmetry-check-eq16", ClaimOrigin.Paper, "eq. 16",
        "The data-dependent action composes: π(g₁, Z)π(g₂, g₁Z) = π(g₂g₁, Z).", $"max relative error ≤ {Text(NonlinearLimit)} (over ≥ 1 checked draw)", "[checked, max error]",
        p =>
        {
            var x = Single(p, 2);
            return If(x[0] >= 1 && x[1] <= NonlinearLimit);
        });

    /// <summary>Median condition number of σ(gZ) above which π is ill-conditioned.</summary>
    public const double ConditionWarning = 1e6;

    /// <summary>Noether's conditioning check. One part: [draws checked, median condition number of σ(gZ)].</summary>
    public static readonly ClaimRule CheckConditioning = new("symmetry-check-conditioning", ClaimOrigin.Own, "Noether's conditioning check of π",
        "σ(gZ) is well enough conditioned for π(g, Z) to be computed.", $"median condition number < {Text(ConditionWarning)}", "[checked, median condition number]",
        p =>
        {
            var x = Single(p, 2);
            return If(x[0] >= 1 && x[1] < ConditionWarning);
        });

    /// <summary>Largest condition number: measured.</summary>
    public static readonly ClaimRule CheckMaxCondition = new("symmetry-check-max-condition", ClaimOrigin.Own, "Noether's conditioning check of π",
        "The largest condition number of σ(gZ) over the draws.", "reported", "none", null);

    /// <summary>Prop. 8 corrected for h > k. One part: [‖π(I, Z) − I‖_F, √(h − k)].</summary>
    public static readonly ClaimRule CheckIdentityProjection = new("symmetry-check-identity-projection", ClaimOrigin.Correction, "Prop. 8 (SPEC)",
        "For h > k, π(I, Z) is a rank-k projection, not I: ‖π(I, Z) − I‖_F = √(h − k).", "= √(h − k) within 1e-8 · max(1, √(h − k))", "[distance, √(h − k)]",
        p =>
        {
            var x = Single(p, 2);
            bool holds = Math.Abs(x[0] - x[1]) <= 1e-8 * Math.Max(1, x[1]);
            return !holds ? ClaimOutcome.Fails : x[1] > 0 ? ClaimOutcome.HoldsAsCorrected : ClaimOutcome.Holds;
        });

    // ---- discover, analyze, train ----

    /// <summary>Appendix B: the discovered algebra. Per width h: [dimension known (1/0), matches and leaves the loss invariant (1/0)].</summary>
    public static readonly ClaimRule DiscoverAlgebra = new("discover-{σ}", ClaimOrigin.Paper, "Appendix B, Prop. 2",
        "The symmetry algebra of the activation has the known dimension.", "the known algebra at every width", "per width: [known 0/1, matches 0/1]",
        p => p.Length > 0 && p.All(x => x.Length == 2 && x[0] == 1) ? PerPart(p, x => x[1] == 1) : p.Length > 0 && p.All(x => x.Length == 2) ? ClaimOutcome.Unjudged : ClaimOutcome.Fails);

    /// <summary>eqs. 20–22 on a model's layer pair. One part: [measured rank (NaN: not measured), closed form (SPEC), printed formula].</summary>
    public static readonly ClaimRule AnalyzeOrbitDimension = new("orbit-dimension-pair-{n}", ClaimOrigin.Correction, "eqs. 20–22",
        "The orbit dimension of the layer pair's group at generic parameters.", "the closed form (SPEC)", "[measured, closed form, paper]",
        p =>
        {
            var x = Single(p, 3);
            if (double.IsNaN(x[0]) || x[0] < x[1]) return ClaimOutcome.Unjudged; // not measured, or special (non-generic) weights
            return x[0] != x[1] ? ClaimOutcome.Fails : x[2] != x[1] ? ClaimOutcome.HoldsAsCorrected : ClaimOutcome.Holds;
        });

    /// <summary>Largest relative error of a rank or loss identity in <c>analyze</c>.</summary>
    public const double AnalyzeLossTolerance = 1e-10;

    /// <summary>eq. 1 on a model. One part: [|ΔL|, L].</summary>
    public static readonly ClaimRule AnalyzeLossInvariant = new("rescale-loss-invariant", ClaimOrigin.Paper, "eq. 1",
        "The loss is invariant under the group action L(g·θ) = L(θ).", $"|ΔL| ≤ {Text(AnalyzeLossTolerance)} · max(1, |L|) (rounding)", "[|ΔL|, L]",
        p =>
        {
            var x = Single(p, 2);
            return If(x[0] <= AnalyzeLossTolerance * Math.Max(1, Math.Abs(x[1])));
        });

    /// <summary>Ensemble members' loss change: measured.</summary>
    public static readonly ClaimRule AnalyzeEnsembleLoss = new("ensemble-member-loss", ClaimOrigin.Paper, "Appendix H",
        "Group-transformed members stay near the model's loss.", "small |ΔL| (no size predicted)", "none", null);

    /// <summary>Training the Appendix H CNN: measured.</summary>
    public static readonly ClaimRule TrainCnn = new("train-cnn", ClaimOrigin.Paper, "Appendix H",
        "The CNN of Appendix H (conv 3×3 → max-pool 2 → linear h → LeakyReLU → linear) trains with Adam (lr 1e-3); the group acts on its last two linear layers.",
        "no prediction for this dataset (the paper: CIFAR-10, test accuracy 0.598)", "none", null);

    /// <summary>Every rule of these experiments.</summary>
    public static IReadOnlyList<ClaimRule> All { get; } =
    [
        XavierMean, XavierVariance, XavierIntegralForm, OrbitGeneralLinear, OrbitScaling, OrbitOrthogonal,
        CheckLossInvariant, CheckGradientOrthogonal, CheckOneLayerControl, CheckDraws, CheckOwnBatch, CheckFreshBatch, CheckComposition, CheckConditioning,
        CheckMaxCondition, CheckIdentityProjection, DiscoverAlgebra, AnalyzeOrbitDimension, AnalyzeLossInvariant, AnalyzeEnsembleLoss, TrainCnn,
    ];
}
