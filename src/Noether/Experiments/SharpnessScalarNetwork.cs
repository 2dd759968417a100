using Noether.Autodiff;
using Noether.Landscape;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>One Q of <see cref="SharpnessScalarNetwork"/>.</summary>
/// <param name="Q">U² − V².</param>
/// <param name="U">The minimum's U.</param>
/// <param name="V">The minimum's V.</param>
/// <param name="Eigenvalues">Eigenvalues of the exact (double-backward) Hessian of ½(1 − UV)², ascending.</param>
/// <param name="EigenvaluesWithoutHalf">The same for (1 − UV)².</param>
/// <param name="ClosedForm">√(Q² + 4).</param>
/// <param name="MaxError">Largest deviation of any eigenvalue from 0, √(Q²+4), 2√(Q²+4) respectively.</param>
public sealed record ScalarSharpnessPoint(double Q, double U, double V, double[] Eigenvalues, double[] EigenvaluesWithoutHalf, double ClosedForm, double MaxError);

/// <summary>
/// Paper Appendix G.1: the Hessian of the scalar two-layer network at the end of the gradient flow with conserved Q has
/// eigenvalues 0 and √(Q² + 4) (loss with ½; 2√(Q² + 4) without) — the sharpness grows with |Q|, least at Q = 0.
/// </summary>
public static class SharpnessScalarNetwork
{
    /// <summary>Default Q values: 21 points from −10 to 10.</summary>
    public static IReadOnlyList<double> DefaultQ => Enumerable.Range(0, 21).Select(i => -10.0 + i).ToArray();

    /// <summary>Computes the exact Hessian spectrum at the minimum of each Q.</summary>
    public static IReadOnlyList<ScalarSharpnessPoint> Run(IReadOnlyList<double>? q = null)
    {
        var points = new List<ScalarSharpnessPoint>();
        foreach (double value in q ?? DefaultQ)
        {
            var (u, v) = ScalarNetworkSharpness.Minimum(value);
            Tensor<double>[] at = [Tensor<double>.Full(u, 1, 1), Tensor<double>.Full(v, 1, 1)];
            var (half, _) = LinearAlgebra.SymmetricEigen(Hessian.Full(ScalarNetworkSharpness.Function(true), at), vectors: false);
            var (full, _) = LinearAlgebra.SymmetricEigen(Hessian.Full(ScalarNetworkSharpness.Function(false), at), vectors: false);
            double root = Math.Sqrt(value * value + 4);
            double err = new[] { Math.Abs(half[0]), Math.Abs(half[1] - root), Math.Abs(full[0]), Math.Abs(full[1] - 2 * root) }.Max();
            points.Add(new ScalarSharpnessPoint(value, u, v, half, full, root, err));
        }
        return points;
    }
}
