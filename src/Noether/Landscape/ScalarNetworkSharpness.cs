namespace Noether.Landscape;

/// <summary>
/// Paper Appendix G.1: the two-layer linear network with scalar weights, L = ½(Y − UVX)² with X = Y = 1. Gradient flow
/// conserves Q = U² − V² and ends on the hyperbola UV = 1 at U = √(½(Q + √(Q²+4))), V = √(½(−Q + √(Q²+4))), where the
/// Hessian [[V², 2UV − 1], [2UV − 1, U²]] = [[V², 1], [1, U²]] has eigenvalues 0 and U² + V² = √(Q² + 4). The paper's
/// eq. 77 prints 2√(Q² + 4): that is the value for the loss without the ½ (SPEC "Sharpness").
/// </summary>
public static class ScalarNetworkSharpness
{
    /// <summary>The minimum (U, V) with UV = 1 and U² − V² = Q, U, V &gt; 0 (G.1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Q not finite.</exception>
    public static (double U, double V) Minimum(double q)
    {
        if (!double.IsFinite(q)) throw Errors.OutOfRange(nameof(q), q, "a finite Q");
        double root = Math.Sqrt(q * q + 4);
        // ½(−|Q| + √(Q²+4)) = 2/(|Q| + √(Q²+4)) without cancellation.
        double small = 2 / (Math.Abs(q) + root), large = 0.5 * (Math.Abs(q) + root);
        return q >= 0 ? (Math.Sqrt(large), Math.Sqrt(small)) : (Math.Sqrt(small), Math.Sqrt(large));
    }

    /// <summary>The nonzero Hessian eigenvalue at the minimum of Q: √(Q²+4) for ½(1 − UV)², 2√(Q²+4) without the ½.</summary>
    public static double NonzeroEigenvalue(double q, bool half = true) => (half ? 1 : 2) * Math.Sqrt(q * q + 4);

    /// <summary>The loss ½(1 − UV)² (or (1 − UV)²) as a tape function of the inputs [U, V] (each a 1×1 tensor).</summary>
    public static Autodiff.ScalarFunction<double> Function(bool half = true) => (tape, p) =>
    {
        var r = Autodiff.Ops.AddScalar(Autodiff.Ops.Scale(Autodiff.Ops.Multiply(p[0], p[1]), -1.0), 1.0);
        return Autodiff.Ops.Scale(Autodiff.Ops.Sum(Autodiff.Ops.Square(r)), half ? 0.5 : 1.0);
    };
}
