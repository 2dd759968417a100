using Noether.Experiments;

namespace Noether.Tests.Experiments;

/// <summary>
/// Every claim can say "no": for each rule of <see cref="ClaimCatalog"/>, a measurement that passes, one that fails and
/// one with NaN or missing data, each with the verdict it must get. The rows are written from the paper's claims and the
/// thresholds of each rule's predicted text, independently of the decision code.
/// </summary>
public class ClaimRuleTests
{
    private const double NaN = double.NaN;
    private const double Inf = double.PositiveInfinity;

    private static double[][] P(params double[][] parts) => parts;

    private static double[] X(params double[] x) => x;

    private static double Above(double x) => Math.BitIncrement(x);

    // (claim id, measured parts, the verdict it must get, why)
    public static readonly TheoryData<string, double[][], Verdict, string> Rows = new()
    {
        // ---- drift (Fig. 3, Appendix D) ----
        { "drift-flow-conserves-q", P(X(1e-10)), Verdict.Reproduced, "at the stated threshold" },
        { "drift-flow-conserves-q", P(X(Above(1e-10))), Verdict.NotReproduced, "just above it" },
        { "drift-flow-conserves-q", P(X(NaN)), Verdict.NotReproduced, "NaN" },
        { "drift-flow-conserves-q", P(), Verdict.NotReproduced, "no data" },
        { "drift-gd-drifts", P(X(1e-14, 1e-2, 1e-3, 1e-4), X(0, 5e-3, 5e-4, 5e-5)), Verdict.Reproduced, "decreasing with η, far above the flow, every σ" },
        { "drift-gd-drifts", P(X(1e-14, 1e-2, 1e-3, 1e-4), X(1e-14, 1e-3, 1e-2, 1e-4)), Verdict.Partial, "one σ not monotone" },
        { "drift-gd-drifts", P(X(1e-5, 1e-2, 1e-3, 1e-4)), Verdict.NotReproduced, "smallest η within 100× the flow" },
        { "drift-gd-drifts", P(X(1e-14, Inf, 1e-3, 1e-4)), Verdict.NotReproduced, "a diverged run" },
        { "drift-gd-drifts", P(X(1e-14, NaN, 1e-3, 1e-4)), Verdict.NotReproduced, "NaN" },
        { "drift-gd-same-magnitude", P(X(9e-3, 1e-3, 2e-3), X(5e-3, 4e-3, 3e-3)), Verdict.Reproduced, "largest / smallest < 10 for every σ" },
        { "drift-gd-same-magnitude", P(X(1e-2, 1e-3, 1e-4), X(5e-3, 4e-3, 3e-3)), Verdict.Partial, "10× per decade for one σ" },
        { "drift-gd-same-magnitude", P(X(1e-2, 1e-3)), Verdict.NotReproduced, "exactly 10×: not below the threshold" },
        { "drift-gd-same-magnitude", P(X(NaN, 1e-3)), Verdict.NotReproduced, "NaN" },
        { "drift-gd-small", P(X(1e-2, 1e-5)), Verdict.Reproduced, "at the threshold" },
        { "drift-gd-small", P(X(Above(1e-2), 1e-5)), Verdict.NotReproduced, "just above" },
        { "drift-gd-small", P(X(Inf)), Verdict.NotReproduced, "diverged" },
        { "drift-gd-small", P(X(NaN)), Verdict.NotReproduced, "NaN" },
        { "drift-eq41-exact", P(X(1e-10, 0, 1)), Verdict.Reproduced, "no resolvable step (the error relative to ΔQ is then not used), error at the threshold" },
        { "drift-eq41-exact", P(X(1e-12, 5, 2e-10)), Verdict.NotReproduced, "resolvable steps off by 2e-10" },
        { "drift-eq41-exact", P(X(NaN, 0, 0)), Verdict.NotReproduced, "NaN" },
        { "drift-eq42-bound", P(X(0, 1000)), Verdict.Reproduced, "no violation" },
        { "drift-eq42-bound", P(X(1, 1000)), Verdict.NotReproduced, "one violation" },
        { "drift-eq42-bound", P(X(0, 0)), Verdict.NotReproduced, "nothing checked" },
        { "drift-eq42-bound", P(X(NaN, NaN)), Verdict.NotReproduced, "NaN" },

        // ---- convergence (Appendix F, Figs. 6–7) ----
        { "ellipse-closed-form", P(X(1e-8)), Verdict.Reproduced, "at the threshold" },
        { "ellipse-closed-form", P(X(1e-6)), Verdict.NotReproduced, "off" },
        { "ellipse-closed-form", P(X(NaN)), Verdict.NotReproduced, "NaN" },
        { "ellipse-q-sets-rate", P(X(0.1, 0.2, 0.4)), Verdict.Reproduced, "measured L(T) spread 4×" },
        { "ellipse-q-sets-rate", P(X(0.1, 0.1, 0.1)), Verdict.NotReproduced, "a circle (a = 1): the same L(T) for every Q" },
        { "ellipse-q-sets-rate", P(X(0.1, 0.101)), Verdict.NotReproduced, "1% apart: not above 1.01" },
        { "ellipse-q-sets-rate", P(X(0.1)), Verdict.NotReproduced, "one Q: nothing to compare" },
        { "ellipse-q-sets-rate", P(X(0.1, NaN)), Verdict.NotReproduced, "NaN" },
        { "radial-flow-eq59", P(X(1e-6)), Verdict.Reproduced, "at the threshold" },
        { "radial-flow-eq59", P(X(1e-3)), Verdict.NotReproduced, "off" },
        { "radial-flow-eq59", P(X(NaN)), Verdict.NotReproduced, "NaN" },
        { "radial-lambda-conserved", P(X(1e-8)), Verdict.Reproduced, "at the threshold" },
        { "radial-lambda-conserved", P(X(1e-7)), Verdict.NotReproduced, "off" },
        { "radial-lambda-conserved", P(X(NaN)), Verdict.NotReproduced, "NaN" },
        { "radial-eq69-bound", P(X(0, 400)), Verdict.Reproduced, "never violated" },
        { "radial-eq69-bound", P(X(3, 400)), Verdict.NotReproduced, "violated" },
        { "radial-eq69-bound", P(X(NaN, 400)), Verdict.NotReproduced, "NaN" },
        { "radial-gd-vs-flow", P(X(0, 1e-3), X(0, 1e-6)), Verdict.Reproduced, "every Q close" },
        { "radial-gd-vs-flow", P(X(0, 1e-6), X(1, 1e-6)), Verdict.Partial, "one Q diverged" },
        { "radial-gd-vs-flow", P(X(0, 2e-3)), Verdict.NotReproduced, "λ drifts" },
        { "radial-gd-vs-flow", P(X(0, NaN)), Verdict.NotReproduced, "NaN" },
        { "fig7-smaller-q-faster", P(X(0.8)), Verdict.Reproduced, "ρ at the stated 0.8" },
        { "fig7-smaller-q-faster", P(X(0.79)), Verdict.NotReproduced, "ρ below 0.8 (no longer 'partial')" },
        { "fig7-smaller-q-faster", P(X(-1)), Verdict.NotReproduced, "the opposite order" },
        { "fig7-smaller-q-faster", P(X(NaN)), Verdict.NotReproduced, "NaN (no run reached 1%)" },
        { "fig6-steps-correlate-with-q", P(X(0.7), X(-0.9)), Verdict.Reproduced, "|ρ| ≥ 0.7 for every σ" },
        { "fig6-steps-correlate-with-q", P(X(0.9), X(0.2)), Verdict.Partial, "one σ of two" },
        { "fig6-steps-correlate-with-q", P(X(0.69)), Verdict.NotReproduced, "below" },
        { "fig6-steps-correlate-with-q", P(X(NaN)), Verdict.NotReproduced, "NaN" },
        { "fig6-steps-follow-abs-q", P(), Verdict.Measured, "measured only" },

        // ---- sharpness (Appendix G, Fig. 8) ----
        { "sharpness-1d-eigenvalues", P(X(1e-10)), Verdict.Corrected, "√(Q² + 4) holds" },
        { "sharpness-1d-eigenvalues", P(X(1e-3)), Verdict.NotReproduced, "off" },
        { "sharpness-1d-eigenvalues", P(X(NaN)), Verdict.NotReproduced, "NaN" },
        { "fig8-linear-flat-count", P(X(700, 700), X(700, 700)), Verdict.Reproduced, "every count equals the derived dimension" },
        { "fig8-linear-flat-count", P(X(700, 700), X(690, 700)), Verdict.Partial, "one run short of the minimum" },
        { "fig8-linear-flat-count", P(X(690, 700)), Verdict.NotReproduced, "no run matches (can now fail)" },
        { "fig8-linear-flat-count", P(X(700, NaN)), Verdict.NotReproduced, "NaN: no derived dimension" },
        { "fig8-identity-centre-vs-q", P(X(0.9, 6)), Verdict.Reproduced, "at the thresholds" },
        { "fig8-identity-centre-vs-q", P(X(0.95, 5)), Verdict.NotReproduced, "too few Q" },
        { "fig8-identity-centre-vs-q", P(X(0.5, 10)), Verdict.NotReproduced, "weak" },
        { "fig8-identity-centre-vs-q", P(X(NaN, 10)), Verdict.NotReproduced, "NaN" },
        { "fig8-{σ}-centre-vs-q", P(), Verdict.Measured, "no prediction" },
        { "fig8-hessian-time", P(), Verdict.Measured, "speed" },
        { "hessian-{block}", P(), Verdict.Measured, "statistics" },

        // ---- teleport, valley ----
        { "teleport-loss-unchanged", P(X(1e-9)), Verdict.Reproduced, "at the threshold" },
        { "teleport-loss-unchanged", P(X(1e-6)), Verdict.NotReproduced, "the loss moved" },
        { "teleport-loss-unchanged", P(X(NaN)), Verdict.NotReproduced, "NaN" },
        { "teleport-target-reached", P(X(1e-8, 1)), Verdict.Passed, "a Q target at the threshold" },
        { "teleport-target-reached", P(X(5e-8, 10)), Verdict.Passed, "a sharpness target scaled by λ_max" },
        { "teleport-target-reached", P(X(2e-8, 1)), Verdict.Failed, "missed" },
        { "site-teleport-target-reached", P(X(1e-8)), Verdict.Passed, "at the threshold" },
        { "site-teleport-target-reached", P(X(Above(1e-8))), Verdict.Failed, "just above it" },
        { "site-teleport-target-reached", P(X(NaN)), Verdict.Failed, "NaN" },
        { "site-teleport-target-reached", P(), Verdict.Failed, "no data" },
        { "site-teleport-function-unchanged", P(X(1e-10)), Verdict.Passed, "at the threshold" },
        { "site-teleport-function-unchanged", P(X(Above(1e-10))), Verdict.Failed, "just above it" },
        { "site-teleport-function-unchanged", P(X(NaN)), Verdict.Failed, "NaN" },
        { "site-sharpness-target-reached", P(X(1e-8)), Verdict.Passed, "at the threshold" },
        { "site-sharpness-target-reached", P(X(Above(1e-8))), Verdict.Failed, "just above it" },
        { "site-sharpness-target-reached", P(X(NaN)), Verdict.Failed, "NaN" },
        { "model-census-verified", P(X(12, 12)), Verdict.Passed, "every site passes" },
        { "model-census-verified", P(X(12, 11)), Verdict.Failed, "one site fails" },
        { "model-census-verified", P(X(0, 0)), Verdict.Failed, "an empty census verifies nothing" },
        { "model-census-verified", P(X(NaN, NaN)), Verdict.Failed, "NaN" },
        { "model-orbit-rank", P(X(65, 65, 1)), Verdict.Passed, "rank = dimension, clear gap" },
        { "model-orbit-rank", P(X(65, 64, 1)), Verdict.Failed, "one generator dependent on the others" },
        { "model-orbit-rank", P(X(65, 65, 0)), Verdict.Failed, "no clear singular-value gap" },
        { "model-orbit-rank", P(X(NaN, 65, 1)), Verdict.Failed, "NaN" },
        { "model-orbit-flat", P(X(1e-10, 3e-3), X(0, 1e-2)), Verdict.Passed, "flat orbits (one at the threshold), curved tangent lines" },
        { "model-orbit-flat", P(X(Above(1e-10), 3e-3)), Verdict.Failed, "the loss moves along the orbit" },
        { "model-orbit-flat", P(X(0, 1e-10)), Verdict.Failed, "the tangent line as flat as the orbit" },
        { "model-orbit-flat", P(X(0, NaN)), Verdict.Failed, "NaN" },
        { "model-orbit-flat", P(), Verdict.Failed, "no line drawn" },
        // ---- teleportation inside training (ICLR 2024 protocol): [seeds reached, seeds, upper 95% bound of T_tele − T_base] ----
        { "teleport-protocol-faster", P(X(5, 5, -0.1), X(5, 5, -3)), Verdict.Reproduced, "every optimiser: all seeds reached, interval below 0" },
        { "teleport-protocol-faster", P(X(5, 5, -0.1), X(5, 5, 0)), Verdict.Partial, "one optimiser's interval touches 0" },
        { "teleport-protocol-faster", P(X(5, 5, -0.1), X(4, 5, -3)), Verdict.Partial, "one optimiser: a seed never reached the target" },
        { "teleport-protocol-faster", P(X(5, 5, 2), X(5, 5, 0.5)), Verdict.NotReproduced, "teleports slower for both optimisers" },
        { "teleport-protocol-faster", P(X(1, 1, -5)), Verdict.NotReproduced, "one seed: no interval" },
        { "teleport-protocol-faster", P(X(5, 5, NaN)), Verdict.NotReproduced, "NaN" },
        { "teleport-protocol-faster", P(), Verdict.NotReproduced, "no data" },
        { "teleport-target-reached", P(X(NaN, 1)), Verdict.Failed, "NaN" },
        { "teleport-sharpness-moves", P(), Verdict.Measured, "no size predicted" },
        { "valley-orbit-flat", P(X(1e-12)), Verdict.Reproduced, "at the threshold" },
        { "valley-orbit-flat", P(X(1e-9)), Verdict.NotReproduced, "the orbit is not flat" },
        { "valley-orbit-flat", P(X(NaN)), Verdict.NotReproduced, "NaN" },
        { "valley-random-rises", P(X(1e-3, 1e-16)), Verdict.Passed, "rises 1e13 × the orbit's rounding" },
        { "valley-random-rises", P(X(1e-11, 1e-16)), Verdict.Failed, "rises only 1e5 × (can now fail)" },
        { "valley-random-rises", P(X(NaN, 1e-16)), Verdict.Failed, "NaN" },

        // ---- ensembles and attacks (Figs. 9–10) ----
        { "fig9-group-preserves-accuracy-small-eps", P(X(-0.01), X(0.002)), Verdict.Reproduced, "within 1 point at every small ε" },
        { "fig9-group-preserves-accuracy-small-eps", P(X(-0.02), X(0.0)), Verdict.Partial, "one ε lost 2 points" },
        { "fig9-group-preserves-accuracy-small-eps", P(X(-0.05)), Verdict.NotReproduced, "lost 5 points" },
        { "fig9-group-preserves-accuracy-small-eps", P(X(NaN)), Verdict.NotReproduced, "NaN" },
        { "fig9-group-vs-{baseline}", P(X(0.8953, 0.8956), X(0.8, 0.7)), Verdict.Reproduced, "0.03 point behind: within the stated 0.1-point tie tolerance" },
        { "fig9-group-vs-{baseline}", P(X(0.88, 0.8956), X(0.8, 0.7)), Verdict.Partial, "1.6 points behind at one ε" },
        { "fig9-group-vs-{baseline}", P(X(0.6, 0.7)), Verdict.NotReproduced, "behind" },
        { "fig9-group-vs-{baseline}", P(X(NaN, 0.7)), Verdict.NotReproduced, "NaN" },
        { "appendix-h-ill-conditioned-pi", P(X(0)), Verdict.Passed, "no NaN accuracy" },
        { "appendix-h-ill-conditioned-pi", P(X(2)), Verdict.Failed, "two NaN accuracies" },
        { "appendix-h-ill-conditioned-pi", P(X(NaN)), Verdict.Failed, "NaN" },
        { "fig10-fgsm-group-improves-robustness", P(X(0.5, 0.4), X(0.3, 0.2)), Verdict.Reproduced, "ahead at every strength" },
        { "fig10-fgsm-group-improves-robustness", P(X(0.5, 0.4), X(0.2, 0.3)), Verdict.Partial, "ahead at one of two" },
        { "fig10-fgsm-group-improves-robustness", P(X(0.4, 0.4)), Verdict.NotReproduced, "a tie is no improvement" },
        { "fig10-fgsm-group-improves-robustness", P(X(NaN, 0.4)), Verdict.NotReproduced, "NaN" },
        { "fig10-fgsm-group-vs-{baseline}", P(X(0.5, 0.4)), Verdict.Reproduced, "ahead" },
        { "fig10-fgsm-group-vs-{baseline}", P(X(0.3, 0.4)), Verdict.NotReproduced, "behind" },
        { "fig10-fgsm-group-vs-{baseline}", P(X(0.3, NaN)), Verdict.NotReproduced, "NaN" },
        { "fig10-pgd-no-gain", P(X(0.405, 0.40), X(0.30, 0.305)), Verdict.Reproduced, "within ±1 point either way" },
        { "fig10-pgd-no-gain", P(X(0.40, 0.45)), Verdict.NotReproduced, "a 5-point LOSS is not 'negligible' (two-sided)" },
        { "fig10-pgd-no-gain", P(X(0.45, 0.40), X(0.30, 0.30)), Verdict.Partial, "a 5-point gain at one strength" },
        { "fig10-pgd-no-gain", P(X(NaN, 0.40)), Verdict.NotReproduced, "NaN" },
        { "fig10-adaptive-group-vs-single", P(), Verdict.Measured, "no prediction" },
        { "attack-ill-conditioned-members", P(), Verdict.Measured, "counted" },

        // ---- Xavier, orbits, symmetry-check, discover, analyze, train ----
        { "xavier-mean", P(X(0.3, 1400), X(-1, NaN)), Verdict.Corrected, "½(m − h) holds, the printed m − h rejected" },
        { "xavier-mean", P(X(0.3, NaN), X(-1, 0.5)), Verdict.Reproduced, "the printed form never rejected (m = h)" },
        { "xavier-mean", P(X(0.3, 1400), X(5, NaN)), Verdict.Partial, "one shape off" },
        { "xavier-mean", P(X(NaN, NaN)), Verdict.NotReproduced, "NaN" },
        { "xavier-variance", P(X(3), X(-2)), Verdict.Passed, "|z| ≤ 3" },
        { "xavier-variance", P(X(3), X(-4)), Verdict.Failed, "an own check has no 'partial'" },
        { "xavier-variance", P(X(NaN)), Verdict.Failed, "NaN" },
        { "xavier-integral-form", P(X(0.5, 1, 1), X(-1, 0, NaN)), Verdict.Passed, "mean and (where derived) variance" },
        { "xavier-integral-form", P(X(0.5, 1, 4)), Verdict.Failed, "variance off" },
        { "xavier-integral-form", P(X(NaN, 0, NaN)), Verdict.Failed, "NaN" },
        { "orbit-eq20-gl", P(X(1, 0), X(1, 0)), Verdict.Reproduced, "printed formula right everywhere" },
        { "orbit-eq20-gl", P(X(1, 0), X(0, 0)), Verdict.Partial, "one shape disagrees" },
        { "orbit-eq20-gl", P(X(0, 0)), Verdict.NotReproduced, "none agrees" },
        { "orbit-eq20-gl", P(X(NaN, 0)), Verdict.NotReproduced, "NaN" },
        { "orbit-eq21-scaling", P(X(1, 1), X(1, 0)), Verdict.Corrected, "corrected form everywhere, the printed off somewhere" },
        { "orbit-eq21-scaling", P(X(0, 1)), Verdict.NotReproduced, "the corrected form off" },
        { "orbit-eq21-scaling", P(), Verdict.NotReproduced, "no shape" },
        { "orbit-eq22-orthogonal", P(X(1, 1)), Verdict.Corrected, "corrected" },
        { "orbit-eq22-orthogonal", P(X(0, 0)), Verdict.NotReproduced, "off" },
        { "orbit-eq22-orthogonal", P(X(NaN, NaN)), Verdict.NotReproduced, "NaN" },
        { "symmetry-check-eq1-loss", P(X(1e-10)), Verdict.Reproduced, "at the threshold" },
        { "symmetry-check-eq1-loss", P(X(1e-6)), Verdict.NotReproduced, "not invariant" },
        { "symmetry-check-eq1-loss", P(X(NaN)), Verdict.NotReproduced, "NaN" },
        { "symmetry-check-prop5", P(X(1e-12)), Verdict.Reproduced, "orthogonal" },
        { "symmetry-check-prop5", P(X(1e-3)), Verdict.NotReproduced, "not orthogonal" },
        { "symmetry-check-prop5", P(X(NaN)), Verdict.NotReproduced, "NaN" },
        { "symmetry-check-control", P(X(1e-6)), Verdict.Passed, "one layer alone changes the loss" },
        { "symmetry-check-control", P(X(1e-12)), Verdict.Failed, "the control did not move the loss" },
        { "symmetry-check-control", P(X(NaN)), Verdict.Failed, "NaN" },
        { "symmetry-check-draws", P(X(20, 0)), Verdict.Passed, "draws checked" },
        { "symmetry-check-draws", P(X(0, 20)), Verdict.Failed, "every draw refused" },
        { "symmetry-check-draws", P(X(NaN, 0)), Verdict.Failed, "NaN" },
        { "symmetry-check-own-batch", P(X(20, 1e-8)), Verdict.Reproduced, "at the threshold" },
        { "symmetry-check-own-batch", P(X(20, 1e-4)), Verdict.NotReproduced, "the output moved" },
        { "symmetry-check-own-batch", P(X(0, NaN)), Verdict.NotReproduced, "every draw refused: failed, not 'measured'" },
        { "symmetry-check-fresh-batch", P(X(20, 1e-3, 1e-12)), Verdict.Reproduced, "changes far above the on-batch error" },
        { "symmetry-check-fresh-batch", P(X(20, 1e-10, 1e-12)), Verdict.NotReproduced, "only 100× the on-batch error" },
        { "symmetry-check-fresh-batch", P(X(0, NaN, NaN)), Verdict.NotReproduced, "every draw refused" },
        { "symmetry-check-eq16", P(X(20, 1e-9)), Verdict.Reproduced, "composes" },
        { "symmetry-check-eq16", P(X(20, 1e-2)), Verdict.NotReproduced, "does not compose" },
        { "symmetry-check-eq16", P(X(0, NaN)), Verdict.NotReproduced, "every draw refused" },
        { "symmetry-check-conditioning", P(X(20, 1e3)), Verdict.Passed, "well conditioned" },
        { "symmetry-check-conditioning", P(X(20, 1e6)), Verdict.Failed, "at the warning: not below it" },
        { "symmetry-check-conditioning", P(X(0, NaN)), Verdict.Failed, "every draw refused" },
        { "symmetry-check-max-condition", P(), Verdict.Measured, "reported" },
        { "symmetry-check-identity-projection", P(X(Math.Sqrt(3), Math.Sqrt(3))), Verdict.Corrected, "h > k: a projection at distance √(h − k)" },
        { "symmetry-check-identity-projection", P(X(0, 0)), Verdict.Reproduced, "h ≤ k: π(I, Z) = I as the paper states" },
        { "symmetry-check-identity-projection", P(X(0, Math.Sqrt(3))), Verdict.NotReproduced, "I where a projection was derived" },
        { "symmetry-check-identity-projection", P(X(NaN, Math.Sqrt(3))), Verdict.NotReproduced, "NaN" },
        { "discover-{σ}", P(X(1, 1), X(1, 1)), Verdict.Reproduced, "the known algebra at every width" },
        { "discover-{σ}", P(X(1, 1), X(1, 0)), Verdict.Partial, "one width off" },
        { "discover-{σ}", P(X(1, 0)), Verdict.NotReproduced, "off" },
        { "discover-{σ}", P(X(0, 1)), Verdict.Measured, "no known dimension: measured" },
        { "discover-{σ}", P(), Verdict.NotReproduced, "no width" },
        { "orbit-dimension-pair-{n}", P(X(24, 24, 24)), Verdict.Reproduced, "rank = closed form = printed" },
        { "orbit-dimension-pair-{n}", P(X(24, 24, 20)), Verdict.Corrected, "rank = closed form ≠ printed" },
        { "orbit-dimension-pair-{n}", P(X(25, 24, 24)), Verdict.NotReproduced, "rank above the generic value" },
        { "orbit-dimension-pair-{n}", P(X(NaN, 24, 24)), Verdict.Measured, "not measured: never reproduced" },
        { "rescale-loss-invariant", P(X(1e-10, 0.5)), Verdict.Reproduced, "at the threshold" },
        { "rescale-loss-invariant", P(X(1e-6, 0.5)), Verdict.NotReproduced, "the loss moved" },
        { "rescale-loss-invariant", P(X(NaN, 0.5)), Verdict.NotReproduced, "NaN" },
        { "ensemble-member-loss", P(), Verdict.Measured, "no size predicted" },
        { "train-cnn", P(), Verdict.Measured, "no prediction for this dataset" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Rule_JudgesTheMeasurement_AsTheRowSays(string id, double[][] parts, Verdict expected, string why)
    {
        var rule = ClaimCatalog.All.SingleOrDefault(r => r.Id == id);
        Assert.True(rule is not null, $"no rule with id {id}");
        Assert.True(rule.Judge(parts) == expected, $"{id} ({why}): expected {expected}, got {rule.Judge(parts)}");
    }

    private static readonly Verdict[] Holding = [Verdict.Reproduced, Verdict.Corrected, Verdict.Passed];

    // How a row's "why" marks missing data.
    private static readonly string[] MissingData = ["NaN", "no data", "nothing checked", "every draw refused", "no shape", "no width", "not measured"];

    [Fact]
    public void EveryRule_HasRows_AndEveryJudgedRule_CanPassFailAndRefusesNaN()
    {
        var rows = Rows.Select(r => (Id: (string)r[0], Parts: (double[][])r[1], Verdict: (Verdict)r[2], Why: (string)r[3])).ToArray();
        foreach (var rule in ClaimCatalog.All)
        {
            var mine = rows.Where(r => r.Id == rule.Id).ToArray();
            Assert.True(mine.Length > 0, $"{rule.Id} has no rows in ClaimRuleTests.Rows: add a passing, a failing and a NaN measurement");
            if (rule.IsMeasurement)
            {
                Assert.All(mine, r => Assert.Equal(Verdict.Measured, r.Verdict));
                continue;
            }
            Assert.True(mine.Any(r => Holding.Contains(r.Verdict)), $"{rule.Id}: no row where the claim holds");
            Assert.True(mine.Any(r => r.Verdict is Verdict.NotReproduced or Verdict.Failed), $"{rule.Id}: no row where it fails");
            // A NaN row (NaN where a number was measured, or no data at all) of every judged rule …
            var nanRows = mine.Where(r => MissingData.Any(m => r.Why.StartsWith(m, StringComparison.Ordinal))).ToArray();
            Assert.True(nanRows.Length > 0, $"{rule.Id}: no NaN or missing-data row");
            Assert.All(nanRows, r => Assert.DoesNotContain(r.Verdict, Holding));
            // … and every holding measurement with all its numbers NaN no longer holds.
            foreach (var r in mine.Where(r => Holding.Contains(r.Verdict)))
                Assert.DoesNotContain(rule.Judge(r.Parts.Select(p => p.Select(_ => double.NaN).ToArray()).ToArray()), Holding);
        }
        // No row names a rule that does not exist.
        Assert.All(rows, r => Assert.Contains(ClaimCatalog.All, rule => rule.Id == r.Id));
    }

    [Fact]
    public void OwnChecks_AreNeverReproducedOrCorrected_AndPaperClaimsNeverPassOrFail()
    {
        foreach (var (id, parts, _, _) in Rows.Select(r => ((string)r[0], (double[][])r[1], (Verdict)r[2], (string)r[3])))
        {
            var rule = ClaimCatalog.All.Single(r => r.Id == id);
            var v = rule.Judge(parts);
            if (rule.Origin == ClaimOrigin.Own) Assert.Contains(v, new[] { Verdict.Passed, Verdict.Failed, Verdict.Measured });
            else Assert.DoesNotContain(v, new[] { Verdict.Passed, Verdict.Failed });
        }
    }

    [Fact]
    public void Catalog_IdsAreUnique_AndTheIssuesOwnChecksAreOwn()
    {
        Assert.Equal(ClaimCatalog.All.Count, ClaimCatalog.All.Select(r => r.Id).Distinct().Count());
        foreach (var id in new[] { "xavier-variance", "xavier-integral-form", "symmetry-check-control", "valley-random-rises", "teleport-target-reached" })
            Assert.Equal(ClaimOrigin.Own, ClaimCatalog.Find(id)!.Origin);
    }

    // The predicted text states the threshold the decision uses: the constant's text appears in it.
    public static readonly TheoryData<string, double> StatedThresholds = new()
    {
        { "drift-flow-conserves-q", DriftClaims.FlowTolerance }, { "drift-gd-drifts", DriftClaims.AboveFlowFactor }, { "drift-gd-small", DriftClaims.SmallDrift },
        { "drift-eq41-exact", DriftClaims.Eq41Tolerance }, { "drift-gd-same-magnitude", DriftClaims.SameMagnitudeRatio },
        { "ellipse-closed-form", ConvergenceClaims.EllipseTolerance }, { "ellipse-q-sets-rate", ConvergenceClaims.EllipseSpread },
        { "radial-flow-eq59", ConvergenceClaims.Eq59Tolerance }, { "radial-lambda-conserved", ConvergenceClaims.LambdaTolerance },
        { "radial-gd-vs-flow", ConvergenceClaims.DescentLambdaTolerance }, { "fig7-smaller-q-faster", ConvergenceClaims.Fig7Rho },
        { "fig6-steps-correlate-with-q", ConvergenceClaims.Fig6Rho }, { "sharpness-1d-eigenvalues", SharpnessClaims.OneDimensionalTolerance },
        { "fig8-identity-centre-vs-q", SharpnessClaims.CentreRho }, { "teleport-loss-unchanged", LandscapeClaims.TeleportLossTolerance },
        { "teleport-target-reached", LandscapeClaims.TeleportTargetTolerance }, { "valley-orbit-flat", LandscapeClaims.FlatTolerance },
        { "valley-random-rises", LandscapeClaims.RiseFactor }, { "fig9-group-preserves-accuracy-small-eps", EnsembleClaims.PreservedAccuracy * 100 },
        { "fig9-group-vs-{baseline}", EnsembleClaims.TieTolerance * 100 }, { "fig10-pgd-no-gain", EnsembleClaims.NegligibleEffect * 100 },
        { "xavier-mean", SymmetryClaims.ZLimit }, { "xavier-variance", SymmetryClaims.ZLimit }, { "symmetry-check-eq1-loss", SymmetryClaims.LinearLimit },
        { "symmetry-check-own-batch", SymmetryClaims.NonlinearLimit }, { "symmetry-check-control", SymmetryClaims.ControlLimit },
        { "symmetry-check-fresh-batch", SymmetryClaims.FreshFactor }, { "symmetry-check-conditioning", SymmetryClaims.ConditionWarning },
        { "rescale-loss-invariant", SymmetryClaims.AnalyzeLossTolerance },
    };

    [Theory]
    [MemberData(nameof(StatedThresholds))]
    public void Predicted_StatesTheThresholdTheDecisionUses(string id, double threshold)
    {
        var rule = ClaimCatalog.All.Single(r => r.Id == id);
        Assert.Contains(ClaimOutcomes.Text(threshold), rule.Predicted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3, 3, ClaimOutcome.Holds)]
    [InlineData(1, 3, ClaimOutcome.Partly)]
    [InlineData(0, 3, ClaimOutcome.Fails)]
    [InlineData(0, 0, ClaimOutcome.Fails)]
    public void OfParts_IsTheOneDefinitionOfPartial(int held, int total, ClaimOutcome expected) =>
        Assert.Equal(expected, ClaimOutcomes.OfParts(held, total));

    [Fact]
    public void Make_FillsAFamilysId_AndRefusesAnIdPartOutsideAFamily()
    {
        var c = EnsembleClaims.GroupVsBaseline.Make(P(X(0.9, 0.8)), "m", idPart: "random");
        Assert.Equal(("fig9-group-vs-random", Verdict.Reproduced, ClaimOrigin.Paper), (c.Id, c.Verdict, c.Origin));
        Assert.Same(EnsembleClaims.GroupVsBaseline, ClaimCatalog.Find("fig9-group-vs-shuffle"));
        Assert.Same(SharpnessClaims.LinearCentreVsQ, ClaimCatalog.Find("fig8-identity-centre-vs-q"));
        Assert.Throws<ArgumentException>(() => DriftClaims.GdSmall.Make(X(1e-3), "m", idPart: "x"));
        Assert.Throws<InvalidOperationException>(() => DriftClaims.GdSmall.Measure("m"));
    }

    [Fact]
    public void Tally_CountsPaperClaimsApartFromOwnChecks()
    {
        var t = ClaimTally.Of([Verdict.Reproduced, Verdict.Reproduced, Verdict.Corrected, Verdict.Partial, Verdict.NotReproduced, Verdict.Passed, Verdict.Failed, Verdict.Measured]);
        Assert.Equal((5, 2, 1), (t.PaperClaims, t.OwnChecks, t.Measured));
        Assert.Equal("5 paper claims: 2 reproduced, 1 corrected, 1 partial, 1 not reproduced", t.PaperText);
    }
}
