using System.Numerics;

namespace Noether.Autodiff;

/// <summary>How a loss combines its per-element terms.</summary>
public enum LossReduction
{
    /// <summary>Add the terms.</summary>
    Sum,
    /// <summary>Average the terms (PyTorch's default; the paper's experiments use it, SPEC "Settings").</summary>
    Mean,
}

public static partial class Ops
{
    /// <summary>
    /// Mean-squared error c·Σ (prediction − target)², where c = ½ when <paramref name="half"/> and the sum
    /// is divided by the number of elements for <see cref="LossReduction.Mean"/>. The paper's loss
    /// L = ½‖Y − U σ(VX)‖²_F (SPEC "Conventions") is <c>MseLoss(F, Y, LossReduction.Sum, half: true)</c>;
    /// PyTorch's <c>nn.MSELoss()</c> is the default. Both operands get gradients; twice differentiable
    /// (fused: two nodes whatever the size, so Hessian-vector products stay cheap).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ (no broadcasting: a silent broadcast here is a classic bug).</exception>
    public static Variable<T> MseLoss<T>(Variable<T> prediction, Variable<T> target, LossReduction reduction = LossReduction.Mean, bool half = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Same(prediction, target);
        if (!prediction.Value.SameShape(target.Value))
            throw Errors.ShapeMismatch("mse loss", nameof(prediction), prediction.Shape, nameof(target), target.Shape, "shapes must be equal");
        if (reduction is not (LossReduction.Sum or LossReduction.Mean))
            throw Errors.OutOfRange(nameof(reduction), reduction, "LossReduction.Sum or LossReduction.Mean");
        int n = prediction.Value.Length;
        if (n == 0) throw Errors.BadShape("mse loss", nameof(prediction), prediction.Shape, "at least one element");
        var c = half ? T.CreateChecked(0.5) : T.One;
        if (reduction == LossReduction.Mean) c /= T.CreateChecked(n);
        return ScaledSumOfSquares(Subtract(prediction, target), c);
    }
}
