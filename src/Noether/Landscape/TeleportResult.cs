using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>How <see cref="Teleport"/> found its group element.</summary>
public enum TeleportMethod
{
    /// <summary>A closed form (positive-definite Gram matrices, per-unit scaling, or the scalar path e^τ·I).</summary>
    ClosedForm,
    /// <summary>Damped Gauss–Newton (Levenberg–Marquardt) on the Lie algebra: g ← exp(M)·g with M the damped least-squares solution of the linearised equation.</summary>
    GaussNewton,
    /// <summary>A 1-D root find (bracketing, then bisection) in t along g(t) = exp(tM).</summary>
    PathRootFind,
}

/// <summary>What a teleport did: the group element, both points, and the checks (loss unchanged, Q reached, sharpness).</summary>
/// <param name="Group">The group that acted: GL_h (identity σ) or positive scaling (ReLU, LeakyReLU).</param>
/// <param name="G">The group element g; the new point is g·θ = (U g⁻¹, g V) (eq. 12 with π(g) = g).</param>
/// <param name="Before">θ.</param>
/// <param name="After">g·θ.</param>
/// <param name="LossBefore">L(θ) of the problem's loss.</param>
/// <param name="LossAfter">L(g·θ).</param>
/// <param name="QBefore">The group's conserved quantity at θ: UᵀU − VVᵀ row-major (h² values) for GL_h, diag(UᵀU − VVᵀ) for scaling.</param>
/// <param name="QAfter">The same at g·θ.</param>
/// <param name="TargetDescription">The target, in words (e.g. "Tr Q = 0", "λ_max = 2.5", "Q = the given 4×4 matrix").</param>
/// <param name="TargetError">|reached − target|: max over entries for a Q target, |Tr Q − target| or |λ_max − target| for a scalar one.</param>
/// <param name="SharpnessBefore">λ_max of the Hessian of the loss at θ (NaN if not computed).</param>
/// <param name="SharpnessAfter">λ_max at g·θ (NaN if not computed).</param>
/// <param name="Method">How g was found.</param>
/// <param name="PathParameter">t with g = exp(tM) for path methods (the scalar path has M = I), else null.</param>
/// <param name="Iterations">Gauss–Newton steps or root-find evaluations (0 for a closed form).</param>
public sealed record TeleportResult(MatrixGroup Group, Tensor<double> G, TwoLayerParameters Before, TwoLayerParameters After, double LossBefore, double LossAfter,
    double[] QBefore, double[] QAfter, string TargetDescription, double TargetError, double SharpnessBefore, double SharpnessAfter, TeleportMethod Method,
    double? PathParameter, int Iterations)
{
    /// <summary>|L(g·θ) − L(θ)|.</summary>
    public double LossChange => Math.Abs(LossAfter - LossBefore);

    /// <summary>|L(g·θ) − L(θ)| / L(θ) (∞ when L(θ) = 0 and the loss moved; 0 when neither is nonzero).</summary>
    public double RelativeLossChange => LossChange == 0 ? 0 : LossChange / Math.Abs(LossBefore);

    /// <summary>‖g·θ − θ‖: the straight-line distance the parameters moved.</summary>
    public double Distance => After.Add(Before, -1).Norm();
}

/// <summary>Options of <see cref="Teleport"/>.</summary>
/// <param name="Tolerance">The reached target must be within this (absolute) of the requested one, or the teleport fails.</param>
/// <param name="ComputeSharpness">Compute λ_max before and after (a full Hessian up to <see cref="FullHessianLimit"/> parameters, Lanczos beyond).</param>
/// <param name="FullHessianLimit">Largest parameter count for which λ_max comes from the full Hessian (all its eigenvalues); larger models use Lanczos.</param>
/// <param name="MaxIterations">Gauss–Newton step limit.</param>
/// <param name="ConditionLimit">Largest accepted condition number of g (beyond it the new point is not trustworthy in float64).</param>
/// <param name="Seed">Seeds Lanczos start vectors.</param>
public sealed record TeleportOptions(double Tolerance = 1e-8, bool ComputeSharpness = true, int FullHessianLimit = 2000, int MaxIterations = 200,
    double ConditionLimit = 1e10, int Seed = 0)
{
    internal void Validate()
    {
        Errors.ThrowIfNotPositive(Tolerance, "tolerance");
        Errors.ThrowIfNotPositive(FullHessianLimit, "full Hessian limit");
        Errors.ThrowIfNotPositive(MaxIterations, "max iterations");
        Errors.ThrowIfNotPositive(ConditionLimit, "condition limit");
    }
}
