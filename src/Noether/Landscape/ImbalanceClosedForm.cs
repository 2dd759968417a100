using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>
/// The closed-form solvers of <see cref="Teleport"/>: the scaling x = d² that moves ‖U‖²/x − x‖V‖² to a target (scalar path
/// and per-unit diagonal), and the group element reaching any symmetric Q* when UᵀU and VVᵀ are positive definite (see
/// <see cref="Teleport"/>'s remarks).
/// </summary>
internal static class ImbalanceClosedForm
{
    /// <summary>
    /// x &gt; 0 with uu/x − x·vv = target (x = d² of a scaling d: U ↦ U/d, V ↦ dV). The left side is strictly decreasing
    /// in x; its range is ℝ when uu, vv &gt; 0, (0, ∞) when vv = 0, (−∞, 0) when uu = 0, {0} when both are 0.
    /// </summary>
    internal static double SolveScaling(double uu, double vv, double target, string targetName, string where)
    {
        string Fail(string range) => string.Create(CultureInfo.InvariantCulture,
            $"teleport: {targetName} is unreachable by scaling {where}: ‖U‖² = {uu:G4}, ‖V‖² = {vv:G4}, so ‖U‖²/x − x‖V‖² only takes values in {range}");
        if (uu > 0 && vv > 0)
        {
            double root = Math.Sqrt(target * target + 4 * uu * vv);
            return target >= 0 ? 2 * uu / (target + root) : (-target + root) / (2 * vv);
        }
        if (uu > 0) return target > 0 ? uu / target : throw Errors.Argument(nameof(target), Fail("(0, ∞) (V is zero there)"));
        if (vv > 0) return target < 0 ? -target / vv : throw Errors.Argument(nameof(target), Fail("(−∞, 0) (U is zero there)"));
        return target == 0 ? 1 : throw Errors.Argument(nameof(target), Fail("{0} (U and V are zero there)"));
    }


    /// <summary>The closed-form g of the remarks when A = UᵀU and B = VVᵀ are positive definite (condition ≤ 1e8), else null.</summary>
    internal static Tensor<double>? PositiveDefiniteSolution(Tensor<double> a, Tensor<double> b, Tensor<double> qStar)
    {
        int h = a.Dim(0);
        var (beta, f) = LinearAlgebra.SymmetricEigen(b);
        var (alpha, _) = LinearAlgebra.SymmetricEigen(a, vectors: false);
        if (!(beta[0] > 1e-8 * beta[^1]) || !(alpha[0] > 1e-8 * alpha[^1])) return null;
        var bHalf = Conjugate(f!, beta.Select(Math.Sqrt).ToArray());
        var bMinusHalf = Conjugate(f!, beta.Select(x => 1 / Math.Sqrt(x)).ToArray());
        var (d, o) = LinearAlgebra.SymmetricEigen(LinearAlgebra.SymmetricPart(LinearAlgebra.Multiply(LinearAlgebra.Multiply(bHalf, a), bHalf)));
        if (!(d[0] > 0)) return null;
        var (lambda, e) = LinearAlgebra.SymmetricEigen(qStar);
        var s = new double[h];
        for (int i = 0; i < h; i++)
        {
            double sigma2 = d[i], l = lambda[i], root = Math.Sqrt(l * l + 4 * sigma2);
            // aᵢ − bᵢ = λᵢ, aᵢbᵢ = σᵢ², each root taken without cancellation.
            double ai = l >= 0 ? 0.5 * (l + root) : 2 * sigma2 / (-l + root);
            double bi = l >= 0 ? 2 * sigma2 / (l + root) : 0.5 * (-l + root);
            s[i] = Math.Pow(ai / bi, 0.25);
        }
        // g = T'⁻¹T = E diag(1/s) diag(d^¼) Oᵀ B^{−½}.
        var left = e!.Clone();
        for (int i = 0; i < h; i++)
            for (int j = 0; j < h; j++) left[i, j] *= Math.Pow(d[j], 0.25) / s[j];
        return LinearAlgebra.Multiply(LinearAlgebra.Multiply(left, o!, transposeB: true), bMinusHalf);
    }

    private static Tensor<double> Conjugate(Tensor<double> f, double[] diag)
    {
        int h = f.Dim(0);
        var fd = f.Clone();
        for (int i = 0; i < h; i++)
            for (int j = 0; j < h; j++) fd[i, j] *= diag[j];
        return LinearAlgebra.SymmetricPart(LinearAlgebra.Multiply(fd, f, transposeB: true));
    }

}
