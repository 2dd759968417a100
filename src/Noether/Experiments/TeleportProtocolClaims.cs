using static Noether.Experiments.ClaimOutcomes;

namespace Noether.Experiments;

/// <summary>
/// The claim of the ICLR 2024 teleportation protocol (<see cref="TeleportProtocol"/>): teleporting early makes an optimiser
/// reach the same training loss sooner — judged here in wall-clock with the teleports' cost included, per optimiser, over seeds.
/// </summary>
public static class TeleportProtocolClaims
{
    /// <summary>
    /// An optimiser's verdict "faster": every seed's teleport run reached the baseline's final training loss, there were at
    /// least two seeds, and the whole 95% t-interval of T_teleport − T_baseline lies below 0. Anything else — a seed that
    /// never got there, an interval touching 0, NaN — is "not faster". <paramref name="part"/> = [seeds reached, seeds,
    /// upper 95% bound of T_teleport − T_baseline (s)].
    /// </summary>
    public static bool IsFaster(double[] part)
    {
        ArgumentNullException.ThrowIfNull(part);
        return part.Length == 3 && part.All(double.IsFinite) && part[1] >= 2 && part[0] == part[1] && part[2] < 0;
    }

    /// <summary>The paper's claim, one part per optimiser: reproduced when every optimiser is faster, partial when some are.</summary>
    public static readonly ClaimRule Faster = new("teleport-protocol-faster", ClaimOrigin.Paper, "ICLR 2024 (Zhao et al.), Fig. 5: teleportation in various optimisers",
        "Teleporting to a larger gradient norm early in training makes each optimiser reach the baseline's final training loss sooner in wall-clock, teleports included.",
        "per optimiser: every seed reaches the baseline's final training loss, and the 95% t-interval of T_teleport − T_baseline lies below 0",
        "per optimiser: [seeds reached, seeds, upper 95% bound of T_teleport − T_baseline (s)]",
        p => PerPart(p, IsFaster));

    /// <summary>The rules.</summary>
    public static IReadOnlyList<ClaimRule> All { get; } = [Faster];

    // The reset-only control beside the teleport: a speed-up it shares is the optimiser resets', not the moves'.
    private static string Control(TeleportProtocolArmResult a) => a.ControlDifference is not { } c ? "" : Format.Inv(
        $"; resets only: {a.ControlTimes!.Count(double.IsFinite)}/{a.Targets.Length} reached, ΔT = {Format.G(c.Mean)} s [{Format.G(c.Lower)}, {Format.G(c.Upper)}]");

    /// <summary>The claim row of a protocol run.</summary>
    public static Claim Make(TeleportProtocolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var measured = string.Join("; ", result.Arms.Select(a => Format.Inv(
            $"{a.Arm}: {(a.Faster ? "faster" : "not faster")} ({a.Reached}/{a.Targets.Length} reached, ΔT = {Format.G(a.Difference.Mean)} s [{Format.G(a.Difference.Lower)}, {Format.G(a.Difference.Upper)}], ratio {Format.G(a.Ratio.Mean)}{Control(a)})")));
        var s = result.Settings;
        return Faster.Make(result.Arms.Select(a => a.Part).ToArray(), measured, Format.Inv(
            $"{s.Seeds} seeds × {s.Epochs} epochs, batch {s.BatchSize}, {s.Teleports} teleports of {s.TeleportSteps} steps on {s.TeleportBatch}-sample batches, along the census's {result.Sites} exact sites ({result.GroupDimension} generators), not the authors' data-dependent GL(h) action"));
    }
}
