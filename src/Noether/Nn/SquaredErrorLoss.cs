using Noether.Autodiff;

namespace Noether.Nn;

/// <summary>
/// The loss convention of a two-layer regression: how the squared error between targets Y and outputs F is reduced.
/// Every two-layer loss (<see cref="TwoLayerNetwork"/>, <see cref="MultilayerNetwork"/>, Landscape's TwoLayerProblem, the
/// drift kernel) names one of these and takes its factor from <see cref="SquaredErrorLosses.Factor"/>.
/// </summary>
public enum SquaredErrorLoss
{
    /// <summary>L = ½‖Y − F‖²_F (the SPEC's default; its Hessian is half that of the unhalved sum).</summary>
    HalfSum,
    /// <summary>L = ‖Y − F‖²_F / (m·k), PyTorch's nn.MSELoss (the authors' scripts); same flow as HalfSum with time scaled by 2/(m·k).</summary>
    Mean,
}

/// <summary>The one place a <see cref="SquaredErrorLoss"/> becomes a number or a tape expression.</summary>
public static class SquaredErrorLosses
{
    /// <summary>c in L = c·‖Y − F‖²: ½ (HalfSum) or 1/<paramref name="count"/> (Mean, with count = m·k the entries of Y).</summary>
    public static double Factor(this SquaredErrorLoss loss, int count) => loss switch
    {
        SquaredErrorLoss.HalfSum => 0.5,
        SquaredErrorLoss.Mean => 1.0 / count,
        _ => throw Errors.OutOfRange(nameof(loss), loss, "HalfSum or Mean"),
    };

    /// <summary>L = c·‖R‖² of the residual R = Y − F on the tape (c = <see cref="Factor"/> of R's entries).</summary>
    public static Variable<double> OnTape(this SquaredErrorLoss loss, Variable<double> residual)
    {
        ArgumentNullException.ThrowIfNull(residual);
        return Ops.Scale(Ops.Sum(Ops.Square(residual)), loss.Factor(residual.Value.Length));
    }
}
