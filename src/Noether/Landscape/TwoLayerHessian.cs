using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>
/// The Hessian of a <see cref="TwoLayerProblem"/>'s loss with respect to θ = (U, V), by double backward through the problem's
/// tape function: its whole spectrum, and its top eigenvalue λ_max (the sharpness teleportation moves, Appendix G).
/// </summary>
public static class TwoLayerHessian
{
    /// <summary>The default largest parameter count for which <see cref="Sharpness"/> takes the full Hessian.</summary>
    public const int DefaultFullHessianLimit = 2000;

    /// <summary>
    /// λ_max of the Hessian at θ: the largest eigenvalue of the full (symmetrised) Hessian up to <paramref name="fullHessianLimit"/>
    /// parameters, Lanczos (seeded by <paramref name="seed"/>) beyond.
    /// </summary>
    public static double Sharpness(TwoLayerProblem problem, TwoLayerParameters theta, int fullHessianLimit = DefaultFullHessianLimit, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(theta);
        var hessian = new HessianOperator<double>(problem.Function(), [theta.U, theta.V]);
        if (hessian.Dimension <= fullHessianLimit)
            return LinearAlgebra.SymmetricEigen(Symmetrised(hessian.Full()), vectors: false).Values[^1];
        var result = Lanczos.Eigenvalues(SymmetricOperator.FromHessian(hessian), 1, new Random(seed), SpectrumEnd.Largest, tolerance: 1e-10);
        return result.Values[0];
    }

    /// <summary>All eigenvalues of the (symmetrised) Hessian at θ, ascending (full Hessian; at most 5000 parameters).</summary>
    public static double[] Spectrum(TwoLayerProblem problem, TwoLayerParameters theta)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(theta);
        if (theta.Count > 5000) throw Errors.OutOfRange("parameters", theta.Count, "at most 5000 parameters for a full Hessian spectrum");
        return LinearAlgebra.SymmetricEigen(Symmetrised(new HessianOperator<double>(problem.Function(), [theta.U, theta.V]).Full()), vectors: false).Values;
    }

    // (H + Hᵀ)/2 in place: double backward leaves rounding-level asymmetry that the symmetric eigensolver must not see.
    private static Tensor<double> Symmetrised(Tensor<double> a)
    {
        int n = a.Dim(0);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) a[i, j] = a[j, i] = 0.5 * (a[i, j] + a[j, i]);
        return a;
    }
}
