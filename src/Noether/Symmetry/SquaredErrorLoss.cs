namespace Noether.Symmetry;

/// <summary>
/// The loss convention of a two-layer regression: how the squared error between targets Y and outputs F is reduced.
/// Every two-layer loss (<see cref="TwoLayerNetwork"/>, Landscape's TwoLayerProblem, the drift kernel) names one of these.
/// </summary>
public enum SquaredErrorLoss
{
    /// <summary>L = ½‖Y − F‖²_F (the SPEC's default; its Hessian is half that of the unhalved sum).</summary>
    HalfSum,
    /// <summary>L = ‖Y − F‖²_F / (m·k), PyTorch's nn.MSELoss (the authors' scripts); same flow as HalfSum with time scaled by 2/(m·k).</summary>
    Mean,
}
