using Noether.Nn;
using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>π(g, Z) = σ(Z) σ(gZ)⁺ and what was learnt computing it.</summary>
/// <param name="Pi">The h×h matrix π(g, Z).</param>
/// <param name="Rank">Numerical rank of σ(gZ) (relative tolerance <see cref="NonlinearAction.RankTolerance"/>).</param>
/// <param name="ConditionNumber">σ_max/σ_min of σ(gZ) (h×k, k ≤ h); π amplifies rounding by about this much.</param>
/// <param name="SingularValues">The singular values of σ(gZ), largest first.</param>
public sealed record NonlinearPi(Tensor<double> Pi, int Rank, double ConditionNumber, double[] SingularValues);

/// <summary>The transformed parameters of the data-dependent action and the π that built them.</summary>
/// <param name="Parameters">(U π(g, VX), gV).</param>
/// <param name="Pi">π(g, VX) with its rank and condition number.</param>
public sealed record NonlinearActionResult(TwoLayerParameters Parameters, NonlinearPi Pi);

/// <summary>
/// The nonlinear, data-dependent action of GL_h (Prop. 8, eq. 15): for a batch X (n×k) and Z = VX,
/// g·(U, V) = (U π(g, Z), gV) with π(g, Z) = σ(Z) σ(gZ)⁺ (⁺ the Moore–Penrose pseudoinverse). It works for any σ
/// acting column by column (elementwise or radial).
/// <para>
/// When σ(gZ) has full column rank k ≤ h, σ(gZ)⁺σ(gZ) = I_k, so the output on the batch is kept:
/// Uπσ(gVX) = Uσ(VX); and the composition law π(g₁, Z) π(g₂, g₁Z) = π(g₂g₁, Z) (eq. 16) holds. Only for h = k is
/// π(I, Z) = I (the identity axiom); for h &gt; k, π(I, Z) = σ(Z)σ(Z)⁺ is a projection (‖π(I,Z) − I‖_F = √(h − k)),
/// so even g = I changes U and the output on other data. For k &gt; h the output is not kept even on the batch,
/// and the action refuses it. On a different batch X* the output Uπσ(gVX*) differs from Uσ(VX*) in general.
/// </para>
/// <para>π is as ill-conditioned as σ(gZ) (condition numbers of 1e4–1e6 are typical at ε ≥ 0.1 for g = I + εM):
/// the condition number is reported and elements beyond <see cref="ConditionLimit"/> are refused.</para>
/// </summary>
public sealed class NonlinearAction
{
    /// <summary>The action for activation σ.</summary>
    /// <param name="activation">σ, acting on columns.</param>
    /// <param name="rankTolerance">Singular values of σ(gZ) ≤ this × σ_max count as zero.</param>
    /// <param name="conditionLimit">σ(gZ) with a larger condition number is refused (the pseudoinverse would be noise).</param>
    public NonlinearAction(Activation activation, double rankTolerance = 1e-12, double conditionLimit = 1e10)
    {
        ArgumentNullException.ThrowIfNull(activation);
        Errors.ThrowIfNotPositive(rankTolerance, nameof(rankTolerance));
        Errors.ThrowIfNotPositive(conditionLimit, nameof(conditionLimit));
        (Activation, RankTolerance, ConditionLimit) = (activation, rankTolerance, conditionLimit);
    }

    /// <summary>σ.</summary>
    public Activation Activation { get; }

    /// <summary>Relative tolerance of the numerical rank of σ(gZ).</summary>
    public double RankTolerance { get; }

    /// <summary>Largest accepted condition number of σ(gZ).</summary>
    public double ConditionLimit { get; }

    /// <summary>π(g, Z) = σ(Z) σ(gZ)⁺ for Z (h×k); requires g invertible (h×h) and σ(gZ) of full column rank k ≤ h.</summary>
    public NonlinearPi Pi(Tensor<double> g, Tensor<double> z)
    {
        ArgumentNullException.ThrowIfNull(z);
        if (z.Rank != 2) throw Errors.BadShape("nonlinear action", nameof(z), z.Shape, "an h×k matrix (Z = VX)");
        int h = z.Dim(0), k = z.Dim(1);
        new GeneralLinearGroup(h).ValidateElement(g, nameof(g));
        if (k > h)
            throw Errors.Argument(nameof(z), $"nonlinear action: the batch has k = {k} samples but h = {h} hidden units; σ(gZ)⁺σ(gZ) ≠ I_k when k > h, so the output would change even on this batch (Prop. 8 needs k ≤ h)");
        var sgz = Activation.Evaluate(LinearAlgebra.Multiply(g, z));
        var (pinv, rank, condition, s, _) = LinearAlgebra.PseudoInverse(sgz, RankTolerance, BlasProvider.Managed);
        if (rank < k)
            throw Errors.Argument(nameof(g), string.Create(CultureInfo.InvariantCulture,
                $"nonlinear action: σ(gVX) is {h}×{k} with numerical rank {rank} (tolerance {RankTolerance:G3}·σ_max); it needs full column rank k = {k} ≤ h = {h} (smallest singular value {s[^1]:G3})"));
        if (!(condition <= ConditionLimit))
            throw Errors.Argument(nameof(g), string.Create(CultureInfo.InvariantCulture,
                $"nonlinear action: σ(gVX) ({h}×{k}) has condition number {condition:G3} > limit {ConditionLimit:G3}; π(g, Z) would be dominated by rounding (use a smaller ε)"));
        var pi = LinearAlgebra.Multiply(Activation.Evaluate(z), pinv);
        return new NonlinearPi(pi, rank, condition, s);
    }

    /// <summary>g·(U, V) = (U π(g, VX), gV) for the batch <paramref name="x"/> (n×k, k ≤ h).</summary>
    public NonlinearActionResult Apply(Tensor<double> g, TwoLayerParameters theta, Tensor<double> x)
    {
        ArgumentNullException.ThrowIfNull(theta);
        TwoLayerNetwork.CheckData(theta, x, null);
        LinearAlgebra.CheckSquare(g, theta.H, "nonlinear action", nameof(g));
        var pi = Pi(g, LinearAlgebra.Multiply(theta.V, x));
        return new NonlinearActionResult(new TwoLayerParameters(LinearAlgebra.Multiply(theta.U, pi.Pi), LinearAlgebra.Multiply(g, theta.V)), pi);
    }
}
