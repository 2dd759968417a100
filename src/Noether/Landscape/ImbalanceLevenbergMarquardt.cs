using Noether.Conservation;
using Noether.Symmetry;
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
        var r = Mat.Sub(ConservedQuantity.ImbalanceMatrixAt(u, v), qStar);
        double norm = Mat.Norm(r);
        double gram = Mat.Dot(u, u) + Mat.Dot(v, v);
        double floor = 1e-15 * Math.Max(1, Math.Max(Mat.MaxAbs(qStar), gram));
        // LLᵀ scales like (‖A‖ + ‖B‖)²; μ is relative to that.
        double mu = 1e-6, kScale = 4 * gram * gram;
        int step = 0;
        for (int tries = 0; step < maxSteps && tries < 4 * maxSteps && Mat.MaxAbs(r) > floor; tries++)
        {
            var a = Mat.Mul(u, u, ta: true);
            var b = Mat.Mul(v, v, tb: true);
            var y = ConjugateGradient(a, b, r, mu * kScale);
            var m = Mat.Scale(Mat.Add(Mat.Mul(a, y), Mat.Mul(y, b)), 2);
            var hStep = LinearAlgebra.Exponential(m);
            var hInv = LinearAlgebra.Exponential(Mat.Scale(m, -1));
            var u2 = Mat.Mul(u, hInv);
            var v2 = Mat.Mul(hStep, v);
            var r2 = Mat.Sub(ConservedQuantity.ImbalanceMatrixAt(u2, v2), qStar);
            double n2 = Mat.Norm(r2);
            if (double.IsFinite(n2) && n2 < norm)
            {
                (u, v, r, norm) = (u2, v2, r2, n2);
                g = Mat.Mul(hStep, g);
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
            var m = Mat.Scale(Mat.Add(Mat.Mul(a, y), Mat.Mul(y, b)), 2);
            var s = Mat.Add(Mat.Mul(a, m), Mat.Mul(b, m, tb: true));
            return Mat.Add(Mat.Add(s, Mat.T(s)), y, mu);
        }
        var x = Tensor<double>.Zeros(h, h);
        var r = rhs.Clone();
        var p = r.Clone();
        double rr = Mat.Dot(r, r), stop = 1e-30 * rr;
        int limit = 2 * h * (h + 1) + 20;
        for (int k = 0; k < limit && rr > stop; k++)
        {
            var kp = Apply(p);
            double pkp = Mat.Dot(p, kp);
            if (!(pkp > 0)) break;
            double step = rr / pkp;
            x = Mat.Add(x, p, step);
            r = Mat.Add(r, kp, -step);
            double rrNew = Mat.Dot(r, r);
            p = Mat.Add(r, p, rrNew / rr);
            rr = rrNew;
        }
        return x;
    }
}
