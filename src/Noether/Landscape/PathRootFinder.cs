using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>The 1-D root find of <see cref="Teleport"/> along a one-parameter subgroup: q(exp(tM)·θ) = target.</summary>
internal static class PathRootFinder
{
    /// <summary>
    /// The t nearest to 0 with q(exp(tM)·θ) = target: |t| grows geometrically on both sides until q − target changes sign (up
    /// to |t|·‖M‖_F/√h = <paramref name="maxScaled"/>), then the bracket is refined by the Illinois method until |q − target| ≤ tolerance.
    /// </summary>
    internal static (double T, int Evaluations) Find(MatrixGroup group, Tensor<double> m, TwoLayerParameters theta, Func<TwoLayerParameters, double> q,
        double target, double tolerance, string targetName, string quantity, double maxScaled = 20)
    {
        double mNorm = TensorOps.Norm(m) / Math.Sqrt(group.Size);
        if (!(mNorm > 0)) throw Errors.Argument("generator", $"teleport: the generator M is zero, so exp(tM) = I never moves θ ({targetName})");
        int evals = 0;
        double minSeen = double.PositiveInfinity, maxSeen = double.NegativeInfinity, tMin = 0, tMaxSeen = 0;
        double F(double t)
        {
            evals++;
            double value = q(group.Apply(group.Exp(m, t), theta));
            if (value < minSeen) (minSeen, tMin) = (value, t);
            if (value > maxSeen) (maxSeen, tMaxSeen) = (value, t);
            return value - target;
        }
        double f0 = F(0);
        if (Math.Abs(f0) <= tolerance) return (0, evals);
        double tMax = maxScaled / mNorm;
        var last = new Dictionary<int, (double T, double F)> { [1] = (0, f0), [-1] = (0, f0) };
        (double T, double F)? a = null, b = null;
        for (double t = 0.01 / mNorm; a is null; t = Math.Min(1.3 * t, tMax))
        {
            foreach (int sign in new[] { 1, -1 })
            {
                double ft = F(sign * t);
                if (!double.IsFinite(ft)) continue;
                if (Math.Abs(ft) <= tolerance) return (sign * t, evals);
                var prev = last[sign];
                if (Math.Sign(ft) != Math.Sign(prev.F))
                {
                    (a, b) = (prev, (sign * t, ft));
                    break;
                }
                last[sign] = (sign * t, ft);
            }
            if (t >= tMax) break;
        }
        if (a is null || b is null)
            throw Errors.Argument("target", string.Create(CultureInfo.InvariantCulture,
                $"teleport: {targetName} is unreachable along the path exp(tM)·θ for |t| ≤ {tMax:G3}: {quantity} stays in [{minSeen:G6}, {maxSeen:G6}] there (minimum at t = {tMin:G4}, maximum at t = {tMaxSeen:G4}); another path or group element may reach it"));
        return (Refine(F, a.Value, b.Value, tolerance), evals);
    }

    /// <summary>
    /// The root of <paramref name="f"/> (a value minus its target) inside the bracket [<paramref name="a"/>, <paramref name="b"/>]
    /// (f changes sign between them) by the Illinois method (modified regula falsi: the ends always bracket the root;
    /// superlinear): stops at |f| ≤ <paramref name="tolerance"/>, at a bracket of relative width 1e-15, or after 200 steps.
    /// </summary>
    internal static double Refine(Func<double, double> f, (double T, double F) a, (double T, double F) b, double tolerance)
    {
        double x0 = a.T, f0b = a.F, x1 = b.T, f1 = b.F;
        for (int i = 0; i < 200; i++)
        {
            double x = x1 - f1 * (x1 - x0) / (f1 - f0b);
            if (!(x > Math.Min(x0, x1) && x < Math.Max(x0, x1))) x = 0.5 * (x0 + x1);
            double fx = f(x);
            if (Math.Abs(fx) <= tolerance || Math.Abs(x1 - x0) <= 1e-15 * Math.Max(1, Math.Abs(x))) return x;
            if (Math.Sign(fx) != Math.Sign(f1)) (x0, f0b) = (x1, f1);
            else f0b *= 0.5;
            (x1, f1) = (x, fx);
        }
        return x1;
    }
}
