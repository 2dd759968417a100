namespace Noether.Autodiff;

/// <summary>How a loss combines its per-element terms.</summary>
public enum LossReduction
{
    /// <summary>Add the terms.</summary>
    Sum,
    /// <summary>Average the terms (PyTorch's default; the paper's experiments use it, SPEC "Settings").</summary>
    Mean,
}

/// <summary>
/// The scaling of a squared-error loss c·Σ (prediction − target)² over its N elements, named so that no call site
/// gets one silently: the paper's ½-sum and PyTorch's mean differ by a factor 2N.
/// </summary>
public enum SquaredErrorScaling
{
    /// <summary>Σ (prediction − target)².</summary>
    SumOfSquares,
    /// <summary>½ Σ (prediction − target)²: the paper's L = ½‖Y − U σ(VX)‖²_F (SPEC "Conventions").</summary>
    HalfSumOfSquares,
    /// <summary>(1/N) Σ (prediction − target)²: PyTorch's <c>nn.MSELoss()</c>.</summary>
    MeanSquaredError,
    /// <summary>(1/2N) Σ (prediction − target)².</summary>
    HalfMeanSquaredError,
}

public static partial class Ops
{
    /// <summary>
    /// The squared-error loss c·Σ (prediction − target)² with c from <paramref name="scaling"/> (no default: see
    /// <see cref="SquaredErrorScaling"/>). Both operands get gradients; twice differentiable (fused: two nodes whatever
    /// the size, so Hessian-vector products stay cheap).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ (no broadcasting: a silent broadcast here is a classic bug).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An undefined scaling.</exception>
    public static Variable<T> SquaredErrorLoss<T>(Variable<T> prediction, Variable<T> target, SquaredErrorScaling scaling)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Same(prediction, target);
        if (!prediction.Value.SameShape(target.Value))
            throw Errors.ShapeMismatch("squared-error loss", nameof(prediction), prediction.Shape, nameof(target), target.Shape, "shapes must be equal");
        if (!Enum.IsDefined(scaling)) throw Errors.OutOfRange(nameof(scaling), scaling, "a SquaredErrorScaling");
        int n = prediction.Value.Length;
        if (n == 0) throw Errors.BadShape("squared-error loss", nameof(prediction), prediction.Shape, "at least one element");
        bool half = scaling is SquaredErrorScaling.HalfSumOfSquares or SquaredErrorScaling.HalfMeanSquaredError;
        var c = half ? T.CreateChecked(0.5) : T.One;
        if (scaling is SquaredErrorScaling.MeanSquaredError or SquaredErrorScaling.HalfMeanSquaredError) c /= T.CreateChecked(n);
        return ScaledSumOfSquares(Subtract(prediction, target), c);
    }

    /// <summary>The <see cref="SquaredErrorScaling"/> of a <paramref name="reduction"/> with or without the ½.</summary>
    public static SquaredErrorScaling SquaredErrorScalingOf(LossReduction reduction, bool half) => reduction switch
    {
        LossReduction.Sum => half ? SquaredErrorScaling.HalfSumOfSquares : SquaredErrorScaling.SumOfSquares,
        LossReduction.Mean => half ? SquaredErrorScaling.HalfMeanSquaredError : SquaredErrorScaling.MeanSquaredError,
        _ => throw Errors.OutOfRange(nameof(reduction), reduction, "LossReduction.Sum or LossReduction.Mean"),
    };
}
