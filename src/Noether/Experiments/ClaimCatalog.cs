namespace Noether.Experiments;

/// <summary>Every claim rule Noether judges, so that a report, a test or a reader can enumerate them.</summary>
public static class ClaimCatalog
{
    /// <summary>Every rule, grouped by experiment.</summary>
    public static IReadOnlyList<ClaimRule> All { get; } =
        [.. DriftClaims.All, .. ConvergenceClaims.All, .. SharpnessClaims.All, .. LandscapeClaims.All, .. EnsembleClaims.All, .. SymmetryClaims.All,
         .. ModelTeleportClaims.All, .. ModelReportExperiment.All, .. TeleportProtocolClaims.All];

    /// <summary>The rule whose id (or family) <paramref name="claimId"/> is: an exact id first, then a family; null if none.</summary>
    public static ClaimRule? Find(string claimId)
    {
        ArgumentNullException.ThrowIfNull(claimId);
        return All.FirstOrDefault(r => r.Id == claimId) ?? All.FirstOrDefault(r => r.Matches(claimId));
    }
}
