using static Noether.Experiments.ClaimOutcomes;

namespace Noether.Experiments;

/// <summary>The claims of <c>noether teleport</c> and <c>noether valley</c> (moving along a minimum by the group action) and how each is judged.</summary>
public static class LandscapeClaims
{
    /// <summary>Largest relative loss change of a teleport (rounding).</summary>
    public const double TeleportLossTolerance = 1e-9;

    /// <summary>eq. 1: teleporting keeps the loss. One part: [|ΔL|/L].</summary>
    public static readonly ClaimRule TeleportLossUnchanged = new("teleport-loss-unchanged", ClaimOrigin.Paper, "eq. 1 (Prop. 2)",
        "The group action leaves the loss unchanged: L(g·θ) = L(θ), so teleporting moves the model along its minimum.",
        $"|ΔL|/L ≤ {Text(TeleportLossTolerance)}", "[|ΔL|/L]",
        p => If(Single(p, 1)[0] <= TeleportLossTolerance));

    /// <summary>Largest error of the reached target (times max(1, λ_max) for a sharpness target).</summary>
    public const double TeleportTargetTolerance = 1e-8;

    /// <summary>Noether's teleport solver reaches its target. One part: [target error, scale: 1, or max(1, λ_max) for a sharpness target].</summary>
    public static readonly ClaimRule TeleportTargetReached = new("teleport-target-reached", ClaimOrigin.Own, "Noether's teleport solver (Ex. 7 / Ex. 9 targets)",
        "A group element sets the conserved quantity (or the sharpness) to a chosen reachable value.",
        $"error ≤ {Text(TeleportTargetTolerance)} (× max(1, λ_max) for a sharpness target)", "[error, scale]",
        p =>
        {
            var x = Single(p, 2);
            return If(x[1] >= 1 && x[0] <= TeleportTargetTolerance * x[1]);
        });

    /// <summary>Appendix G: sharpness moves with Q at equal loss: measured (the paper predicts no size).</summary>
    public static readonly ClaimRule TeleportSharpnessMoves = new("teleport-sharpness-moves", ClaimOrigin.Paper, "Appendix G",
        "Points of one minimum with different Q have different sharpness.", "λ_max changes with Q at equal loss (no size predicted)", "none", null);

    /// <summary>Largest relative loss deviation along the group orbit (rounding).</summary>
    public const double FlatTolerance = 1e-12;

    /// <summary>eq. 1: the orbit is flat. One part: [max |L − L*|/L* over the group paths and planes].</summary>
    public static readonly ClaimRule ValleyOrbitFlat = new("valley-orbit-flat", ClaimOrigin.Paper, "eq. 1 (Prop. 2)",
        "The loss is constant along the orbit of the symmetry group through a minimum: exp(tM)·θ* runs along the valley floor.",
        $"max |L − L*|/L* ≤ {Text(FlatTolerance)} (rounding)", "[max |L − L*|/L*]",
        p => If(Single(p, 1)[0] <= FlatTolerance));

    /// <summary>How many times the orbit's deviation every random direction's rise must exceed.</summary>
    public const double RiseFactor = 1e6;

    /// <summary>Li et al. 2018's convention: random directions rise. One part: [smallest max rise / L* over the random directions, the orbit's max |L − L*|/L*].</summary>
    public static readonly ClaimRule ValleyRandomRises = new("valley-random-rises", ClaimOrigin.Own, "Li et al. 2018 (loss-landscape convention), Noether's control",
        "Random filter-normalised directions through the same minimum are curved: the loss rises.",
        $"every random direction's max rise > {Text(RiseFactor)} × max(the orbit's deviation, 1e-16), in units of L*", "[smallest rise / L*, orbit deviation]",
        p =>
        {
            var x = Single(p, 2);
            return If(double.IsFinite(x[1]) && x[0] > RiseFactor * Math.Max(x[1], 1e-16));
        });

    /// <summary>Every rule of these commands.</summary>
    public static IReadOnlyList<ClaimRule> All { get; } = [TeleportLossUnchanged, TeleportTargetReached, TeleportSharpnessMoves, ValleyOrbitFlat, ValleyRandomRises];
}
