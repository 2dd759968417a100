using static Noether.Experiments.ClaimOutcomes;

namespace Noether.Experiments;

/// <summary>The claims of the ensemble and attack experiments (Appendix H, Figs. 9–10) and how each is judged.</summary>
public static class EnsembleClaims
{
    private static string Points(double fraction) => Text(fraction * 100);

    /// <summary>Largest accuracy change (a fraction: 0.01 = 1 point) that counts as "preserved" for small ε.</summary>
    public const double PreservedAccuracy = 0.01;

    /// <summary>The largest ε that counts as "small".</summary>
    public const double SmallEpsilon = 0.1;

    /// <summary>Fig. 9: small ε keeps the accuracy. Per ε ≤ <see cref="SmallEpsilon"/>: [accuracy change of the group ensemble].</summary>
    public static readonly ClaimRule GroupPreservesAccuracy = new("fig9-group-preserves-accuracy-small-eps", ClaimOrigin.Paper, "Fig. 9",
        "The ensemble formed by group actions preserves the model accuracy for small ε.",
        $"|accuracy change| ≤ {Points(PreservedAccuracy)} point at every ε ≤ {Text(SmallEpsilon)}", "per ε: [accuracy change]",
        p => PerPart(p, x => x.Length == 1 && Math.Abs(x[0]) <= PreservedAccuracy));

    /// <summary>Tie tolerance of "group ≥ baseline" (a fraction: 0.001 = 0.1 point; members are random).</summary>
    public const double TieTolerance = 0.001;

    /// <summary>Fig. 9: group ahead of a baseline. Per ε > 0: [group accuracy, baseline accuracy].</summary>
    public static readonly ClaimRule GroupVsBaseline = new("fig9-group-vs-{baseline}", ClaimOrigin.Paper, "Fig. 9 / Appendix H",
        "The group ensemble keeps accuracy better than the baseline ensemble (smaller accuracy drop at larger ε).",
        $"group accuracy ≥ baseline accuracy − {Points(TieTolerance)} point (tie tolerance) at every ε > 0", "per ε: [group, baseline]",
        p => PerPart(p, x => x.Length == 2 && x[0] >= x[1] - TieTolerance));

    /// <summary>Appendix H: Noether's handling of ill-conditioned π. One part: [NaN accuracies].</summary>
    public static readonly ClaimRule IllConditionedPi = new("appendix-h-ill-conditioned-pi", ClaimOrigin.Own, "Appendix H (authors' NaN losses at ε = 20); Noether's rejection rule",
        "π(g, H₀) becomes ill-conditioned at large ε; such members must be detected and rejected or regularised instead of producing NaN.",
        "no NaN accuracy", "[NaN accuracies]",
        p => If(Single(p, 1)[0] == 0));

    /// <summary>Fig. 10: FGSM, group beats single. Per FGSM strength: [group accuracy, single accuracy].</summary>
    public static readonly ClaimRule FgsmGroupImproves = new("fig10-fgsm-group-improves-robustness", ClaimOrigin.Paper, "Fig. 10",
        "In FGSM, the group ensemble model improves robustness over the original model.",
        "group accuracy > single-model accuracy at every FGSM strength > 0", "per strength: [group, single]",
        p => PerPart(p, x => x.Length == 2 && x[0] > x[1]));

    /// <summary>Fig. 10: FGSM, group beats a baseline. Per FGSM strength: [group accuracy, baseline accuracy].</summary>
    public static readonly ClaimRule FgsmGroupVsBaseline = new("fig10-fgsm-group-vs-{baseline}", ClaimOrigin.Paper, "Fig. 10 / Appendix H",
        "Under FGSM attacks of various strength the group ensemble consistently performs better than the baseline.",
        "group accuracy > baseline accuracy at every FGSM strength > 0", "per strength: [group, baseline]",
        p => PerPart(p, x => x.Length == 2 && x[0] > x[1]));

    /// <summary>Largest |group − single| accuracy under PGD that counts as "negligible" (1 point: the binomial standard error near 50% on 2000 images is 1.1 points).</summary>
    public const double NegligibleEffect = 0.01;

    /// <summary>Fig. 10: PGD, no effect either way. Per PGD strength: [group accuracy, single accuracy].</summary>
    public static readonly ClaimRule PgdNoGain = new("fig10-pgd-no-gain", ClaimOrigin.Paper, "Fig. 10",
        "Under PGD attacks the group ensemble's improvement is not observed (negligible effect on robustness).",
        $"|group − single| ≤ {Points(NegligibleEffect)} point at every PGD strength > 0 (a loss counts as much as a gain)", "per strength: [group, single]",
        p => PerPart(p, x => x.Length == 2 && Math.Abs(x[0] - x[1]) <= NegligibleEffect));

    /// <summary>Adaptive attacks: not in the paper, measured.</summary>
    public static readonly ClaimRule AdaptiveGroupVsSingle = new("fig10-adaptive-group-vs-single", ClaimOrigin.Own, "Fig. 10 setting, adaptive threat model (not in the paper)",
        "With gradients through the ensemble itself (an attacker who knows the ensemble), how does the group ensemble compare with the single model?",
        "no prediction (the paper only ran transfer attacks)", "none", null);

    /// <summary>Ill-conditioned members of the attack's ensembles: counted.</summary>
    public static readonly ClaimRule AttackIllConditioned = new("attack-ill-conditioned-members", ClaimOrigin.Own, "Appendix H; Noether's rejection rule",
        "Ill-conditioned members are detected and rejected or regularised (reported, not judged).", "counted", "none", null);

    /// <summary>Every rule of these experiments.</summary>
    public static IReadOnlyList<ClaimRule> All { get; } =
        [GroupPreservesAccuracy, GroupVsBaseline, IllConditionedPi, FgsmGroupImproves, FgsmGroupVsBaseline, PgdNoGain, AdaptiveGroupVsSingle, AttackIllConditioned];
}
