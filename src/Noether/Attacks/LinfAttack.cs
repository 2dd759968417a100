namespace Noether.Attacks;

/// <summary>The two L∞ attacks.</summary>
public enum AttackKind
{
    /// <summary>Fast gradient sign method (Goodfellow et al. 2015): x + ε·sign(∇ₓ loss), one step.</summary>
    Fgsm,

    /// <summary>Projected gradient descent (Madry et al. 2018): repeated sign steps, each projected back onto the ε-ball ∩ [0, 1].</summary>
    Pgd,
}

/// <summary>Whose gradients the adversarial examples are computed with. Always shown next to a robustness number.</summary>
public enum ThreatModel
{
    /// <summary>
    /// Adversarial examples computed on the single trained model and then shown to the ensemble (the paper's setting:
    /// the attacker does not know the ensemble). For the single model itself transfer and adaptive coincide.
    /// </summary>
    Transfer,

    /// <summary>Gradients through the ensemble itself: the cross-entropy of the members' averaged logits.</summary>
    Adaptive,
}

/// <summary>
/// An L∞ attack on images in [0, 1] (normalisation, if any, belongs inside the model): the adversarial example stays in
/// the ε-ball around the clean image and in [0, 1]. The loss is the cross-entropy of the target's logits.
/// </summary>
/// <remarks>
/// Each step is x' ← Π(x' + α·sign(∇ₓ′ loss)), Π the projection onto {|x' − x|∞ ≤ ε} ∩ [0, 1] applied once per step
/// (the image is perturbed once and clipped once). PGD's random start draws x' = Π(x + U(−ε, ε)) first. FGSM is PGD with
/// one step, α = ε and no random start, and the two give identical examples. The projection is exact in real
/// arithmetic: a float32 bound that rounds outside the ball is moved one ulp inwards.
/// Defaults follow the common library convention (torchattacks, advertorch for ε = 8/255): PGD ε = 8/255, α = 2/255,
/// 10 steps, random start.
/// </remarks>
/// <param name="Kind">FGSM or PGD.</param>
/// <param name="Epsilon">The L∞ radius ε ≥ 0 (in pixel units of [0, 1]).</param>
/// <param name="StepSize">α ≥ 0 per step (FGSM: ε).</param>
/// <param name="Steps">Number of gradient steps ≥ 0 (FGSM: 1; PGD with 0 steps is only the random start).</param>
/// <param name="RandomStart">Start PGD from a uniform point of the ε-ball.</param>
public sealed record LinfAttack(AttackKind Kind, double Epsilon, double StepSize, int Steps, bool RandomStart)
{
    /// <summary>PGD's default radius 8/255.</summary>
    public const double DefaultEpsilon = 8.0 / 255;

    /// <summary>PGD's default step 2/255.</summary>
    public const double DefaultStepSize = 2.0 / 255;

    /// <summary>PGD's default number of steps.</summary>
    public const int DefaultSteps = 10;

    /// <summary>FGSM with radius ε.</summary>
    public static LinfAttack Fgsm(double epsilon) => new(AttackKind.Fgsm, epsilon, epsilon, 1, false);

    /// <summary>PGD; the defaults are ε = 8/255, α = 2/255, 10 steps, random start.</summary>
    public static LinfAttack Pgd(double epsilon = DefaultEpsilon, double stepSize = DefaultStepSize, int steps = DefaultSteps, bool randomStart = true) =>
        new(AttackKind.Pgd, epsilon, stepSize, steps, randomStart);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw Errors.OutOfRange("attack kind", Kind, "FGSM or PGD");
        if (!(Epsilon >= 0) || double.IsInfinity(Epsilon)) throw Errors.OutOfRange("attack epsilon", Epsilon, "a finite L∞ radius ε ≥ 0");
        if (!(StepSize >= 0) || double.IsInfinity(StepSize)) throw Errors.OutOfRange("attack step size", StepSize, "a finite step size ≥ 0");
        if (Steps < 0) throw Errors.OutOfRange("attack steps", Steps, "a number of steps ≥ 0");
        if (Kind == AttackKind.Fgsm && (Steps != 1 || RandomStart || StepSize != Epsilon))
            throw Errors.Argument(nameof(Kind), "FGSM is one step of size ε without random start; use LinfAttack.Fgsm(ε) or a PGD attack");
    }

    /// <summary>A label such as "FGSM ε=0.0314" or "PGD-10 ε=0.0314 α=0.00784 random start".</summary>
    public string Label => Kind == AttackKind.Fgsm
        ? string.Create(CultureInfo.InvariantCulture, $"FGSM ε={Epsilon:G4}")
        : string.Create(CultureInfo.InvariantCulture, $"PGD-{Steps} ε={Epsilon:G4} α={StepSize:G4}{(RandomStart ? " random start" : "")}");
}
