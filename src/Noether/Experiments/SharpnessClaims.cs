using static Noether.Experiments.ClaimOutcomes;

namespace Noether.Experiments;

/// <summary>The claims of the sharpness experiments (Appendix G, Fig. 8) and how each is judged.</summary>
public static class SharpnessClaims
{
    /// <summary>Largest error of the scalar network's Hessian eigenvalues against √(Q² + 4).</summary>
    public const double OneDimensionalTolerance = 1e-10;

    /// <summary>eq. 77, corrected. One part: [max error].</summary>
    public static readonly ClaimRule OneDimensionalEigenvalues = new("sharpness-1d-eigenvalues", ClaimOrigin.Correction, "eq. 77 (Appendix G.1)",
        "At the end of the gradient flow of the scalar network the Hessian eigenvalues are 0 and 2√(Q² + 4).",
        $"0 and √(Q² + 4) for ½(1 − UV)² (2√(Q² + 4) is the value without the ½), ≤ {Text(OneDimensionalTolerance)}", "[max error]",
        p => Single(p, 1)[0] <= OneDimensionalTolerance ? ClaimOutcome.HoldsAsCorrected : ClaimOutcome.Fails);

    /// <summary>Fig. 8(a): the flat count equals the dimension of the minimum manifold. Per trained linear network: [flat count, derived dimension].</summary>
    public static readonly ClaimRule LinearFlatCount = new("fig8-linear-flat-count", ClaimOrigin.Paper, "Fig. 8(a) (Appendix G.2)",
        "700 of the 750 Hessian eigenvalues of the trained linear network are ≈ 0 (|λ| ≤ 1e-3).",
        "flat count = the dimension of the minimum manifold, h(m + n) − mn + (m − r_U)(n − r_V), for every run", "per run: [flat count, derived dimension]",
        p => PerPart(p, x => x.Length == 2 && double.IsFinite(x[0]) && x[0] == x[1]));

    /// <summary>Smallest Spearman ρ(Q, median eigenvalue) for the linear network.</summary>
    public const double CentreRho = 0.9;

    /// <summary>Fewest Q values a correlation is judged over.</summary>
    public const int CentreMinimumPoints = 6;

    /// <summary>Fig. 8(a): the centre correlates with Q (linear). One part: [Spearman ρ(Q, median), number of Q].</summary>
    public static readonly ClaimRule LinearCentreVsQ = new("fig8-identity-centre-vs-q", ClaimOrigin.Paper, "Fig. 8 (Appendix G.2)",
        "After removing the small eigenvalues, the centre of the eigenvalue distribution correlates positively with Q (linear network).",
        $"Spearman ρ(Q, median) ≥ {Text(CentreRho)} over ≥ {CentreMinimumPoints} Q", "[ρ, number of Q]",
        p =>
        {
            var x = Single(p, 2);
            return If(x[0] >= CentreRho && x[1] >= CentreMinimumPoints);
        });

    /// <summary>Fig. 8(b–d): nonlinear networks, a relation of no stated form: measured.</summary>
    public static readonly ClaimRule NonlinearCentreVsQ = new("fig8-{σ}-centre-vs-q", ClaimOrigin.Paper, "Fig. 8 (Appendix G.2)",
        "With nonlinear activations Q is still related to the eigenvalue distribution, though the relation is more complicated.",
        "a relation (no sign or size predicted)", "none", null);

    /// <summary>Speed of the Hessian and its eigendecomposition: measured.</summary>
    public static readonly ClaimRule HessianTime = new("fig8-hessian-time", ClaimOrigin.Own, "Noether's measurement", "(speed) full Hessian plus eigendecomposition",
        "—", "none", null);

    /// <summary>Hessian statistics of a model's block (noether sharpness --weights): measured.</summary>
    public static readonly ClaimRule BlockStatistics = new("hessian-{block}", ClaimOrigin.Own, "Noether's measurement", "(measurement) Hessian statistics of a block",
        "—", "none", null);

    /// <summary>Every rule of these experiments.</summary>
    public static IReadOnlyList<ClaimRule> All { get; } = [OneDimensionalEigenvalues, LinearFlatCount, LinearCentreVsQ, NonlinearCentreVsQ, HessianTime, BlockStatistics];
}
