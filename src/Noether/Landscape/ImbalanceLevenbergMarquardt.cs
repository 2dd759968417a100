using Noether.Conservation;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>
/// Levenberg–Marquardt on gl_h for Q(g·θ) = Q*, the solver <see cref="Teleport.ToImbalance"/> falls back on when the Gram
/// matrices are not both positive definite (see <see cref="Teleport"/>'s remarks).
/// </summary>
internal static class ImbalanceLevenbergMarquardt
{
    /// <summary>
    /// Levenberg–Marquardt on gl_h for Q(g·θ) = Q*: the step M minimises ‖L(M) − R‖² + μ‖M‖² (L the linearisation, R = Q' − Q*),
    /// so M = Lᵀ(Y) with (LLᵀ + μ)Y = R; μ shrinks after an accepted step and grows after a rejected one. Returns g and the steps
    /// taken (the caller checks the residual).
    /// </summary>
    internal static (Tensor<double> G, int Steps) Solve(TwoLayerParameters theta, Tensor<double> qStar, int maxSteps)
    {
        int h = theta.H;
        var g = Tensor<double>.Identity(h);
        var u = theta.U.Clone();
        var v = theta.V.Clone();
        var r = ConservedQuantity.ImbalanceMatrixAt(u, v) - qStar;
        double norm = TensorOps.Norm(r);
        double gram = TensorOps.Dot(u, u) + TensorOps.Dot(v, v);
        double floor = 1e-15 * Math.Max(1, Math.Max(TensorOps.MaxAbs(qStar), gram));
        // LLᵀ scales like (‖A‖ + ‖B‖)²; μ is relative to that.
        double mu = 1e-6, kScale = 4 * gram * gram;
        int step = 0;
        for (int tries = 0; step < maxSteps && tries < 4 * maxSteps && TensorOps.MaxAbs(r) > floor; tries++)
        {
            var a = LinearAlgebra.Multiply(u, u, transposeA: true);
            var b = LinearAlgebra.Multiply(v, v, transposeB: true);
            var y = ConjugateGradient(a, b, r, mu * kScale);
            var m = (LinearAlgebra.Multiply(a, y) + LinearAlgebra.Multiply(y, b)) * 2;
            var hStep = LinearAlgebra.Exponential(m);
            var hInv = LinearAlgebra.Exponential(m * -1);
            var u2 = LinearAlgebra.Multiply(u, hInv);
            var v2 = LinearAlgebra.Multiply(hStep, v);
            var r2 = ConservedQuantity.ImbalanceMatrixAt(u2, v2) - qStar;
            double n2 = TensorOps.Norm(r2);
            if (double.IsFinite(n2) && n2 < norm)
            {
                (u, v, r, norm) = (u2, v2, r2, n2);
                g = LinearAlgebra.Multiply(hStep, g);
                mu = Math.Max(mu / 10, 1e-16);
                step++;
            }
            else
            {
                mu *= 10;
                if (mu > 1e8) break;
            }
        }
        return (g, step);
    }

    // Solves (L Lᵀ + μ) Y = R over symmetric Y by conjugate gradients, where L(M) = S + Sᵀ, S = AM + BMᵀ (the negated differential of
    // Q at g = I in direction M) and Lᵀ(Y) = 2(AY + YB); M = Lᵀ(Y) is then the damped least-squares solution of L(M) = R.
    private static Tensor<double> ConjugateGradient(Tensor<double> a, Tensor<double> b, Tensor<double> rhs, double mu)
    {
        int h = a.Dim(0);
        Tensor<double> Apply(Tensor<double> y)
        {
            var m = (LinearAlgebra.Multiply(a, y) + LinearAlgebra.Multiply(y, b)) * 2;
            var s = LinearAlgebra.Multiply(a, m) + LinearAlgebra.Multiply(b, m, transposeB: true);
            return (s + LinearAlgebra.Transpose(s)) + y * mu;
        }
        var x = Tensor<double>.Zeros(h, h);
        var r = rhs.Clone();
        var p = r.Clone();
        double rr = TensorOps.Dot(r, r), stop = 1e-30 * rr;
        int limit = 2 * h * (h + 1) + 20;
        for (int k = 0; k < limit && rr > stop; k++)
        {
            var kp = Apply(p);
            double pkp = TensorOps.Dot(p, kp);
            if (!(pkp > 0)) break;
            double step = rr / pkp;
            x = x + p * step;
            r = r + kp * -step;
            double rrNew = TensorOps.Dot(r, r);
            p = r + p * (rrNew / rr);
            rr = rrNew;
        }
        return x;
    }
}
