using static Noether.Experiments.ClaimOutcomes;

namespace Noether.Experiments;

/// <summary>
/// The claims of the convergence experiments (Appendix F: the ellipse of F.1, the radial network of F.2 / Fig. 7, the
/// rate sweep of F.3 / Fig. 6) and how each is judged from the numbers of <see cref="EllipseConvergenceResult"/>,
/// <see cref="RadialConvergenceResult"/> and <see cref="ConvergenceRateResult"/>.
/// </summary>
public static class ConvergenceClaims
{
    /// <summary>Largest relative gap between the numerical flow and the closed form of F.1.</summary>
    public const double EllipseTolerance = 1e-8;

    /// <summary>F.1: closed form. One part: [max relative error of the numerical flow against the closed form].</summary>
    public static readonly ClaimRule EllipseClosedForm = new("ellipse-closed-form", ClaimOrigin.Paper, "Appendix F.1",
        "The loss of L = w₁² + a·w₂² under gradient flow is L(t) = (L₀ − a w₂₀²)e^{−4t} + a w₂₀² e^{−4at}, with w₂₀ fixed by Q and L₀.",
        $"numerical flow = closed form (≤ {Text(EllipseTolerance)} relative)", "[max relative error]",
        p => If(Single(p, 1)[0] <= EllipseTolerance));

    /// <summary>Smallest ratio between the largest and smallest measured L(T) across Q that counts as "Q decides the rate".</summary>
    public const double EllipseSpread = 1.01;

    /// <summary>F.1: Q decides the rate. One part: [the numerically integrated L(T) of every Q].</summary>
    public static readonly ClaimRule EllipseQSetsRate = new("ellipse-q-sets-rate", ClaimOrigin.Paper, "Appendix F.1",
        "At a fixed initial loss the conserved Q decides the convergence rate.",
        $"the numerically integrated L(T) differs across Q: largest / smallest > {Text(EllipseSpread)}", "[numerical L(T) per Q]",
        p => If(p.Length == 1 && p[0].Length >= 2 && p[0].All(v => double.IsFinite(v) && v > 0) && p[0].Max() / p[0].Min() > EllipseSpread));

    /// <summary>Largest relative deviation of the flow from eq. 59.</summary>
    public const double Eq59Tolerance = 1e-6;

    /// <summary>Prop. 15: eq. 59. One part: [max relative deviation].</summary>
    public static readonly ClaimRule RadialFlowEq59 = new("radial-flow-eq59", ClaimOrigin.Paper, "eq. 59 (Prop. 15)",
        "Under gradient flow from a spectral initialisation each σᵢ^X follows σ̇ = (1/λ)(σ_Y − σ)(σ² + 1)².",
        $"≤ {Text(Eq59Tolerance)} relative", "[max relative deviation]",
        p => If(Single(p, 1)[0] <= Eq59Tolerance));

    /// <summary>Largest relative drift of λᵢ under the flow.</summary>
    public const double LambdaTolerance = 1e-8;

    /// <summary>Prop. 14: λᵢ conserved. One part: [max relative drift].</summary>
    public static readonly ClaimRule RadialLambdaConserved = new("radial-lambda-conserved", ClaimOrigin.Paper, "Prop. 14",
        "λᵢ = ūᵢ² + v̄ᵢ² is conserved by the gradient flow.", $"drift ≤ {Text(LambdaTolerance)} relative", "[max relative drift]",
        p => If(Single(p, 1)[0] <= LambdaTolerance));

    /// <summary>Prop. 16: eq. 69. One part: [violations, points checked].</summary>
    public static readonly ClaimRule RadialEq69Bound = new("radial-eq69-bound", ClaimOrigin.Paper, "eq. 69 (Prop. 16)",
        "|σᵢ^X(t) − σᵢ^Y| ≤ |σᵢ^X(0) − σᵢ^Y| e^{−t/λᵢ}.", "never violated", "[violations, points checked]",
        p =>
        {
            var x = Single(p, 2);
            return If(x[0] == 0 && x[1] > 0);
        });

    /// <summary>Largest relative drift of λᵢ under GD that still counts as conserved.</summary>
    public const double DescentLambdaTolerance = 1e-3;

    /// <summary>Fig. 7: GD follows the flow. Per Q: [diverged (1) or not (0), max relative λ drift under GD].</summary>
    public static readonly ClaimRule RadialGdVsFlow = new("radial-gd-vs-flow", ClaimOrigin.Paper, "Fig. 7",
        "GD at the paper's η follows the gradient flow and conserves λᵢ.",
        $"for every Q: no divergence and λ drift ≤ {Text(DescentLambdaTolerance)} relative", "per Q: [diverged 0/1, λ drift]",
        p => PerPart(p, x => x.Length == 2 && x[0] == 0 && x[1] <= DescentLambdaTolerance));

    /// <summary>Smallest Spearman ρ(Q, time to 1% of L(0)) for "smaller Q converges faster".</summary>
    public const double Fig7Rho = 0.8;

    /// <summary>Fig. 7: smaller Q converges faster. One part: [Spearman ρ(Q, flow time to 1% of L(0))].</summary>
    public static readonly ClaimRule Fig7SmallerQFaster = new("fig7-smaller-q-faster", ClaimOrigin.Paper, "Fig. 7",
        "Smaller Q = Tr[UᵀU + VᵀV] at initialisation leads to faster convergence.",
        $"flow time to 1% of L(0) increases with Q: Spearman ρ ≥ {Text(Fig7Rho)}", "[ρ]",
        p => If(Single(p, 1)[0] >= Fig7Rho));

    /// <summary>Smallest |Spearman ρ(Q, steps)| per σ for "correlated".</summary>
    public const double Fig6Rho = 0.7;

    /// <summary>Fig. 6: steps correlate with Q. Per σ: [Spearman ρ(Q, steps)].</summary>
    public static readonly ClaimRule Fig6StepsCorrelate = new("fig6-steps-correlate-with-q", ClaimOrigin.Paper, "Fig. 6 (Appendix F.3)",
        "The number of steps for the loss to drop to near convergence is correlated with Q, for linear and elementwise nonlinear networks.",
        $"|Spearman ρ(Q, steps)| ≥ {Text(Fig6Rho)} for every σ", "per σ: [ρ]",
        p => PerPart(p, x => x.Length == 1 && Math.Abs(x[0]) >= Fig6Rho));

    /// <summary>Fig. 6: our measurement of ρ against |Q| (no claim in the paper).</summary>
    public static readonly ClaimRule Fig6StepsFollowAbsQ = new("fig6-steps-follow-abs-q", ClaimOrigin.Own, "Fig. 6 setting (Noether's measurement)",
        "GD leaves the saddle at the origin fast when either layer starts large, whatever the sign of Q, so the steps follow |Q|.",
        "— (measured, not predicted)", "none", null);

    /// <summary>Every rule of these experiments.</summary>
    public static IReadOnlyList<ClaimRule> All { get; } =
        [EllipseClosedForm, EllipseQSetsRate, RadialFlowEq59, RadialLambdaConserved, RadialEq69Bound, RadialGdVsFlow, Fig7SmallerQFaster, Fig6StepsCorrelate, Fig6StepsFollowAbsQ];
}
