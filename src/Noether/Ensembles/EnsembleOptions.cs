namespace Noether.Ensembles;

/// <summary>
/// How an ensemble member is made from the trained model (paper Appendix H; SPEC "Ensembles and attacks"). All act on
/// the last two linear layers: U = the output layer's weight (classes × h), V = the hidden layer's weight (h × features).
/// </summary>
public enum EnsembleBuilderKind
{
    /// <summary>
    /// 'group': (U π(g, H₀), g V) with π(g, H₀) = σ(H₀) σ(gH₀)⁺ computed once on a calibration batch H₀ of k = h
    /// training samples (eq. 78): the member equals the model exactly on H₀ and approximately elsewhere.
    /// </summary>
    Group,

    /// <summary>'g⁻¹': (U g⁻¹, g V) — the linear action that is a symmetry only for linear σ.</summary>
    GroupInverse,

    /// <summary>'random': (U g', g V) with g' = I + εD, D a random diagonal matrix.</summary>
    Random,

    /// <summary>'shuffle': (U π', g V) where π' is π(g, H₀) with all of its h² entries randomly permuted.</summary>
    Shuffle,

    /// <summary>
    /// 'perm.interp': (U P⁻¹, P V) with P = (I + (ε/2)(I + S)) / (1 + ε), S a random permutation matrix. P is a convex
    /// combination of I and (I + S)/2, so its eigenvalues have real part ≥ 1/(1 + ε): it is always invertible.
    /// </summary>
    PermutationInterpolation,
}

/// <summary>The form of the random group element g built from a random matrix M.</summary>
public enum GroupElementForm
{
    /// <summary>g = I + εM (the paper's choice).</summary>
    IdentityPlus,

    /// <summary>g = exp(εM): always invertible, g⁻¹ = exp(−εM).</summary>
    Exponential,
}

/// <summary>How the members' outputs are combined into one prediction.</summary>
public enum EnsembleVote
{
    /// <summary>
    /// The mode of the members' predicted classes (the paper's rule). Ties go to the smallest class index among the
    /// most-voted classes (as <c>numpy.bincount(...).argmax()</c> and <c>scipy.stats.mode</c> decide).
    /// </summary>
    Mode,

    /// <summary>Arg-max of the mean of the members' softmax probabilities (first class on ties); the authors' printed numbers use it.</summary>
    MeanSoftmax,
}

/// <summary>Which reading of the nonlinear action a <see cref="EnsembleBuilderKind.Group"/> member uses.</summary>
public enum GroupActionReading
{
    /// <summary>
    /// π(g, H₀) is computed once on a calibration batch of the training set, giving fixed member weights
    /// (U π(g, H₀), g V) — SPEC's reading and what the authors' code does.
    /// </summary>
    Calibrated,

    /// <summary>
    /// The literal reading of Appendix H: σ'(H) = π(g, H) σ(gH) on each batch H being predicted, so the output depends
    /// on the prediction batch size k (<see cref="EnsembleOptions.PredictionBatchSize"/>). For k ≤ h and σ(gH) of full
    /// column rank it equals the single model on every batch (σ(gH)⁺σ(gH) = I_k); for k &gt; h it projects each output
    /// row onto the row space of σ(gH). Not differentiable here: adaptive attacks refuse it.
    /// </summary>
    BatchDependent,
}

/// <summary>What to do with a member whose inverted matrix (σ(gH₀) for group/shuffle, g for g⁻¹, P for perm.interp) is ill-conditioned.</summary>
public enum IllConditionedPolicy
{
    /// <summary>Leave the member out and count it (<see cref="Ensemble{T}.Rejected"/>); the ensemble has fewer members.</summary>
    Reject,

    /// <summary>
    /// Keep the member with a damped (Tikhonov) inverse: singular values s are inverted as s / (s² + λ²) with
    /// λ = s_max / <see cref="EnsembleOptions.ConditionLimit"/>, and count it (<see cref="Ensemble{T}.Regularised"/>).
    /// A regularised group member no longer reproduces the model exactly on its calibration batch.
    /// </summary>
    Regularise,
}

/// <summary>Settings of an ensemble built from one trained SPEC CNN.</summary>
/// <param name="Builder">Which construction (group, g⁻¹, random, shuffle, perm.interp).</param>
/// <param name="Epsilon">ε ≥ 0 in g = I + εM (or exp(εM)), g' = I + εD and P; ε = 0 gives g = I.</param>
/// <param name="Members">N ≥ 1 members (the paper's default here is 10).</param>
/// <param name="Seed">Seeds every random draw (M, D, S, calibration batches, shuffles). Member i draws from its own
/// generator seeded from (Seed, i), first M, then its calibration batch, then what its builder needs, so builders with
/// the same seed share g and H₀ member by member.</param>
/// <param name="Form">g = I + εM or exp(εM).</param>
/// <param name="GeneratorStd">Standard deviation of the entries of M and of D's diagonal; null means 1/√h, so that
/// ‖M‖₂ ≈ 2 whatever h (a Gaussian h×h matrix with entry variance 1/h has spectral norm → 2).</param>
/// <param name="CalibrationSize">k, the calibration batch size for group and shuffle; null means h. Must be ≤ h: the
/// calibrated member reproduces the model on its batch only when σ(gH₀) has full column rank k ≤ h (Prop. 8); for
/// k &lt; h, π(I, H₀) is a projection and even ε = 0 changes the model off the batch.</param>
/// <param name="ConditionLimit">Largest accepted condition number of the inverted matrix (see <see cref="IllConditionedPolicy"/>).
/// The default 1e8 keeps π's rounding error (about cond·1e-16 relative in float64) below 1e-8. On the SPEC CNN trained
/// on Fashion-MNIST, σ(gH₀) for k = h = 32 calibration images has condition numbers of 1e4–1e6 at every ε, ε = 0
/// included: a trained network's hidden pre-activations on 32 images are nearly collinear.</param>
/// <param name="Policy">Reject or regularise ill-conditioned members.</param>
/// <param name="Reading">Calibrated (fixed weights) or the literal batch-dependent reading (group only).</param>
/// <param name="PredictionBatchSize">For <see cref="GroupActionReading.BatchDependent"/>: the batch size k the
/// outputs are computed with (they depend on it); ignored otherwise.</param>
public sealed record EnsembleOptions(
    EnsembleBuilderKind Builder,
    double Epsilon,
    int Members = 10,
    int Seed = 0,
    GroupElementForm Form = GroupElementForm.IdentityPlus,
    double? GeneratorStd = null,
    int? CalibrationSize = null,
    double ConditionLimit = 1e8,
    IllConditionedPolicy Policy = IllConditionedPolicy.Reject,
    GroupActionReading Reading = GroupActionReading.Calibrated,
    int PredictionBatchSize = 128)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting (h is the model's hidden width).</summary>
    public void Validate(int hidden)
    {
        if (!Enum.IsDefined(Builder)) throw Errors.OutOfRange(nameof(Builder), Builder, "a defined EnsembleBuilderKind");
        if (!Enum.IsDefined(Form)) throw Errors.OutOfRange(nameof(Form), Form, "a defined GroupElementForm");
        if (!Enum.IsDefined(Policy)) throw Errors.OutOfRange(nameof(Policy), Policy, "a defined IllConditionedPolicy");
        if (!Enum.IsDefined(Reading)) throw Errors.OutOfRange(nameof(Reading), Reading, "a defined GroupActionReading");
        if (!(Epsilon >= 0) || double.IsInfinity(Epsilon))
            throw Errors.OutOfRange("epsilon", Epsilon, "a finite ε ≥ 0 (the size of the group element's step from the identity)");
        if (Members < 1) throw Errors.OutOfRange("members", Members, "at least 1 ensemble member");
        if (GeneratorStd is { } std && (!(std > 0) || double.IsInfinity(std)))
            throw Errors.OutOfRange("generator std", std, "a positive finite standard deviation");
        if (!(ConditionLimit >= 1) || double.IsInfinity(ConditionLimit))
            throw Errors.OutOfRange("condition limit", ConditionLimit, "a finite condition number ≥ 1");
        if (CalibrationSize is { } k)
        {
            if (k < 1) throw Errors.OutOfRange("calibration size", k, "at least 1 calibration sample");
            if (k > hidden)
                throw Errors.ArgumentOutOfRange("calibration size", k, string.Create(CultureInfo.InvariantCulture,
                    $"the calibration batch has k = {k} samples but the hidden width is h = {hidden}: σ(gH₀) is h×k and π(g, H₀) keeps the model's outputs on H₀ only when k ≤ h (Prop. 8); use k ≤ {hidden} or a wider hidden layer"));
        }
        if (PredictionBatchSize < 1) throw Errors.OutOfRange("prediction batch size", PredictionBatchSize, "at least 1 sample per prediction batch");
        if (Reading == GroupActionReading.BatchDependent && Builder != EnsembleBuilderKind.Group)
            throw Errors.Argument(nameof(Reading), $"the batch-dependent reading applies to the group builder only, not to {Builder}");
    }

    /// <summary>
    /// These settings for one point of a sweep: <paramref name="builder"/> at <paramref name="epsilon"/>, the other settings
    /// kept, except that <see cref="Reading"/> applies to the group builder only (every other builder is calibrated).
    /// </summary>
    public EnsembleOptions For(EnsembleBuilderKind builder, double epsilon) =>
        this with { Builder = builder, Epsilon = epsilon, Reading = builder == EnsembleBuilderKind.Group ? Reading : GroupActionReading.Calibrated };

    /// <summary>The calibration batch size k for a hidden width h (h unless <see cref="CalibrationSize"/> is set).</summary>
    public int CalibrationBatch(int hidden) => CalibrationSize ?? hidden;

    /// <summary>The standard deviation of M's entries for a hidden width h.</summary>
    public double GeneratorStandardDeviation(int hidden) => GeneratorStd ?? 1 / Math.Sqrt(hidden);

    /// <summary>Short names as the paper's figures use them: group, ginv, random, shuffle, perm-interp.</summary>
    public static string Name(EnsembleBuilderKind builder) => builder switch
    {
        EnsembleBuilderKind.Group => "group",
        EnsembleBuilderKind.GroupInverse => "ginv",
        EnsembleBuilderKind.Random => "random",
        EnsembleBuilderKind.Shuffle => "shuffle",
        EnsembleBuilderKind.PermutationInterpolation => "perm-interp",
        _ => throw Errors.OutOfRange(nameof(builder), builder, "a defined EnsembleBuilderKind"),
    };

    /// <summary>Parses group | ginv (g-inverse) | random | shuffle | perm-interp (perm.interp).</summary>
    public static EnsembleBuilderKind ParseBuilder(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Trim().ToLowerInvariant() switch
        {
            "group" => EnsembleBuilderKind.Group,
            "ginv" or "g-inverse" or "g^-1" or "inverse" => EnsembleBuilderKind.GroupInverse,
            "random" => EnsembleBuilderKind.Random,
            "shuffle" => EnsembleBuilderKind.Shuffle,
            "perm-interp" or "perm.interp" or "perminterp" or "interpolated-permute" => EnsembleBuilderKind.PermutationInterpolation,
            _ => throw Errors.Argument(nameof(text), $"ensemble builder '{text}' is unknown: expected group, ginv, random, shuffle or perm-interp"),
        };
    }
}
