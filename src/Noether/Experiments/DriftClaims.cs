using static Noether.Experiments.ClaimOutcomes;

namespace Noether.Experiments;

/// <summary>The claims of the drift experiment (Fig. 3, Appendix D) and how each is judged from a <see cref="DriftResult"/>'s numbers.</summary>
public static class DriftClaims
{
    /// <summary>The largest normalised drift the gradient flow may show (integration error only).</summary>
    public const double FlowTolerance = 1e-10;

    /// <summary>Prop. 3: the flow conserves Q. One part: [max |ΔQ~| over the flow runs].</summary>
    public static readonly ClaimRule FlowConservesQ = new("drift-flow-conserves-q", ClaimOrigin.Paper, "Prop. 3, Fig. 3",
        "Gradient flow conserves Q (eq. 48) exactly, for every activation.",
        $"max |ΔQ~| ≤ {Text(FlowTolerance)} along the flow (integration error only)", "[max |ΔQ~| over the flow runs]",
        p => If(Single(p, 1)[0] <= FlowTolerance));

    /// <summary>How far above the flow's drift every GD drift must lie ("≫").</summary>
    public const double AboveFlowFactor = 100;

    /// <summary>Appendix D: GD drifts, less the smaller η. Per σ: [flow's max |ΔQ~| (0 without a flow run), then GD's max |ΔQ~| for η from largest to smallest, +∞ if diverged].</summary>
    public static readonly ClaimRule GdDrifts = new("drift-gd-drifts", ClaimOrigin.Paper, "Appendix D, Fig. 3",
        "Gradient descent does not conserve Q: it drifts, by less the smaller the learning rate η.",
        $"for every σ: max |ΔQ~| > {Text(AboveFlowFactor)} × the flow's, strictly decreasing as η decreases",
        "per σ: [flow drift, GD drift at η₁ > η₂ > …]",
        p => PerPart(p, x => x.Length >= 3 && x.All(double.IsFinite)
            && x.Skip(1).All(d => d > AboveFlowFactor * x[0])
            && x.Skip(1).Zip(x.Skip(2), (a, b) => b < a).All(b => b)));

    /// <summary>"The same magnitude": the largest ratio between the drifts of two learning rates (one order of magnitude).</summary>
    public const double SameMagnitudeRatio = 10;

    /// <summary>Appendix D.2: the drift has "the same magnitude" across η. Per σ: [GD's max |ΔQ~| for each η].</summary>
    public static readonly ClaimRule SameMagnitudeAcrossEta = new("drift-gd-same-magnitude", ClaimOrigin.Paper, "Appendix D.2, Fig. 3",
        "ΔQ~ is larger with the largest learning rate, although it has the same magnitude as those of smaller learning rates.",
        $"for every σ: largest / smallest max |ΔQ~| over η < {Text(SameMagnitudeRatio)} (one order of magnitude)",
        "per σ: [GD drift at each η]",
        p => PerPart(p, x => x.Length >= 2 && x.All(d => double.IsFinite(d) && d > 0) && x.Max() / x.Min() < SameMagnitudeRatio));

    /// <summary>The largest GD drift that counts as "small relative to f₁ and f₂".</summary>
    public const double SmallDrift = 1e-2;

    /// <summary>Appendix D.2: Q is approximately conserved under GD. One part: [max |ΔQ~| of every GD run, +∞ if diverged].</summary>
    public static readonly ClaimRule GdSmall = new("drift-gd-small", ClaimOrigin.Paper, "Appendix D.2, Fig. 3",
        "Under gradient descent Q is approximately conserved: its change is small relative to f₁(U) and f₂(V) (the normalisation of eq. 43).",
        $"|ΔQ~| ≤ {Text(SmallDrift)} for every σ and η (no run diverged)", "[GD drift of every run]",
        p => If(p.Length == 1 && p[0].Length > 0 && p[0].All(d => d <= SmallDrift)));

    /// <summary>The largest error of the eq. 41 identity (relative to the terms' size, and to ΔQ where resolvable).</summary>
    public const double Eq41Tolerance = 1e-10;

    /// <summary>eq. 41 at every step. One part: [max error relative to the terms' size, resolvable steps, max error relative to ΔQ].</summary>
    public static readonly ClaimRule Eq41Exact = new("drift-eq41-exact", ClaimOrigin.Paper, "eq. 41",
        "Each GD step changes a quadratic Q by exactly η² times Q evaluated at the gradient (η²/2 for the halved Q of eq. 48).",
        $"error ≤ {Text(Eq41Tolerance)} at every step", "[max error / terms' size, resolvable steps, max error / |ΔQ|]",
        p =>
        {
            var x = Single(p, 3);
            return If(x[0] <= Eq41Tolerance && (x[1] == 0 || x[2] <= Eq41Tolerance));
        });

    /// <summary>eq. 42 at every step. One part: [violations, steps checked].</summary>
    public static readonly ClaimRule Eq42Bound = new("drift-eq42-bound", ClaimOrigin.Paper, "eq. 42",
        "The drift per step is bounded by η²(‖∂L/∂U‖² + ‖∂L/∂V‖²) (with the same factor as eq. 41).",
        "0 violations", "[violations, steps checked]",
        p =>
        {
            var x = Single(p, 2);
            return If(x[0] == 0 && x[1] > 0);
        });

    /// <summary>Every rule of this experiment.</summary>
    public static IReadOnlyList<ClaimRule> All { get; } = [FlowConservesQ, GdDrifts, SameMagnitudeAcrossEta, GdSmall, Eq41Exact, Eq42Bound];
}
