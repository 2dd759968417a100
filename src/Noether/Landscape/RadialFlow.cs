using Noether.Autodiff;
using Noether.Conservation;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>The SVD Y = Φ Σ_Y Ψᵀ that the spectral initialisation of paper Appendix F.2 is built on.</summary>
/// <param name="Phi">Φ, m×r with orthonormal columns (r = min(m, n)).</param>
/// <param name="SingularValues">σ_i^Y, descending.</param>
/// <param name="Psi">Ψ, n×r with orthonormal columns.</param>
public sealed record SpectralBasis(Tensor<double> Phi, double[] SingularValues, Tensor<double> Psi)
{
    /// <summary>r, the number of modes.</summary>
    public int Rank => SingularValues.Length;

    /// <summary>The thin SVD of <paramref name="y"/> (LAPACK dgesdd_).</summary>
    public static SpectralBasis Of(Tensor<double> y)
    {
        ArgumentNullException.ThrowIfNull(y);
        var (s, u, vt) = LinearAlgebra.Svd(y, vectors: true);
        return new SpectralBasis(u!, s, TensorOps.Transpose(vt!));
    }
}

/// <summary>
/// Paper Appendix F.2 (Propositions 14–16) in our shapes: L = ½‖Y − U g(V)‖²_F with U m×h, V h×n (the paper's Vᵀ),
/// X = I, and the radial map g acting on each row of V as g(v) = h(|v|)·v with h(r) = r⁻², i.e. g(v) = v/|v|². Note
/// that here the norm runs over a hidden unit's n weights (a row of V, the paper's row of Vᵀ), not over the hidden
/// units of one sample as in the radial networks of Appendix B.3. With the spectral initialisation U = Φ diag(ū),
/// V = diag(v̄) Ψᵀ (h = r) the modes decouple: σ_i^X = ū_i/v̄_i obeys σ̇ = (σ_Y − σ)(σ² + 1)²/λ (eq. 59) with
/// λ_i = ū_i² + v̄_i² conserved, and |σ − σ_Y| ≤ |σ(0) − σ_Y| e^{−t/λ} (eq. 69).
/// </summary>
public static class RadialFlow
{
    /// <summary>dσ/dt = (σ_Y − σ)(σ² + 1)²/λ (eq. 59).</summary>
    public static double SigmaRate(double sigma, double target, double lambda) => (target - sigma) * Square(sigma * sigma + 1) / lambda;

    /// <summary>The bound |σ(0) − σ_Y| e^{−t/λ} on |σ(t) − σ_Y| (eq. 69).</summary>
    public static double Bound(double sigma0, double target, double lambda, double t) => Math.Abs(sigma0 - target) * Math.Exp(-t / lambda);

    /// <summary>Eq. 59 solved on its own (Dormand–Prince) from σ(0) = <paramref name="sigma0"/>, at each of <paramref name="times"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">λ not positive.</exception>
    public static double[] SolveSigma(double sigma0, double target, double lambda, IReadOnlyList<double> times,
        double relativeTolerance = 1e-12, double absoluteTolerance = 1e-14)
    {
        Errors.ThrowIfNotPositive(lambda, nameof(lambda));
        var solution = DormandPrince.Solve((_, y, dy) => dy[0] = SigmaRate(y[0], target, lambda), 0, [sigma0], times,
            relativeTolerance, absoluteTolerance);
        return solution.States.Select(s => s[0]).ToArray();
    }

    /// <summary>g(V): each row v of V mapped to v/|v|² (h(r) = r⁻²).</summary>
    /// <exception cref="ArgumentException">A zero row (g is undefined there).</exception>
    public static Tensor<double> Activation(Tensor<double> v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.Rank != 2) throw Errors.BadShape("radial g", nameof(v), v.Shape, "a matrix h×n");
        int h = v.Dim(0), n = v.Dim(1);
        var g = Tensor<double>.Zeros(h, n);
        for (int i = 0; i < h; i++)
        {
            var row = v.Data.AsSpan(i * n, n);
            double r2 = 0;
            foreach (var x in row) r2 += x * x;
            if (!(r2 > 0)) throw Errors.Argument(nameof(v), $"radial g: row {i} of V is zero (g(v) = v/|v|² is undefined there)");
            for (int j = 0; j < n; j++) g.Data[i * n + j] = row[j] / r2;
        }
        return g;
    }

    /// <summary>L = ½‖Y − U g(V)‖²_F.</summary>
    public static double Loss(Tensor<double> y, Tensor<double> u, Tensor<double> v)
    {
        Check(y, u, v);
        var r = TensorOps.Binary(BinaryOp.Subtract, TensorOps.MatMul(u, Activation(v)), y);
        return 0.5 * TensorOps.Dot(r, r);
    }

    /// <summary>
    /// L and its gradient: with R = U g(V) − Y and P = UᵀR, ∂L/∂U = R g(V)ᵀ and, row by row (v a row of V, p the row of
    /// P), ∂L/∂v = p/|v|² − 2(p·v) v/|v|⁴ (the Jacobian of v ↦ v/|v|² is symmetric).
    /// </summary>
    public static double LossAndGradient(Tensor<double> y, Tensor<double> u, Tensor<double> v, Tensor<double> gradU, Tensor<double> gradV)
    {
        Check(y, u, v);
        ArgumentNullException.ThrowIfNull(gradU);
        ArgumentNullException.ThrowIfNull(gradV);
        if (!gradU.SameShape(u) || !gradV.SameShape(v)) throw Errors.ShapeMismatch("radial gradient", nameof(gradU), gradU.Shape, "U", u.Shape, "gradients must be shaped as U and V");
        int m = u.Dim(0), h = u.Dim(1), n = v.Dim(1);
        var g = Activation(v);
        var r = Tensor<double>.Zeros(m, n);
        Blas.Gemm(false, false, m, n, h, 1.0, u.Data, h, g.Data, n, 0.0, r.Data, n);
        double loss = 0;
        for (int i = 0; i < r.Length; i++)
        {
            r.Data[i] -= y.Data[i];
            loss += r.Data[i] * r.Data[i];
        }
        Blas.Gemm(false, true, m, h, n, 1.0, r.Data, n, g.Data, n, 0.0, gradU.Data, h);
        var p = Tensor<double>.Zeros(h, n);
        Blas.Gemm(true, false, h, n, m, 1.0, u.Data, h, r.Data, n, 0.0, p.Data, n);
        for (int i = 0; i < h; i++)
        {
            var vr = v.Data.AsSpan(i * n, n);
            var pr = p.Data.AsSpan(i * n, n);
            double r2 = 0, pv = 0;
            for (int j = 0; j < n; j++)
            {
                r2 += vr[j] * vr[j];
                pv += pr[j] * vr[j];
            }
            double c = 2 * pv / (r2 * r2);
            for (int j = 0; j < n; j++) gradV.Data[i * n + j] = pr[j] / r2 - c * vr[j];
        }
        return 0.5 * loss;
    }

    /// <summary>The same loss on the tape (inputs [U, V]), with g built from <see cref="Ops.Radial{T}(Variable{T}, int, Func{Variable{T}, Variable{T}})"/>: for exact Hessians and as an independent check of the gradient.</summary>
    public static ScalarFunction<double> Function(Tensor<double> y)
    {
        ArgumentNullException.ThrowIfNull(y);
        return (tape, p) => Ops.SquaredErrorLoss(Ops.MatMul(p[0], Ops.Radial(p[1], 1, r => Ops.Reciprocal(Ops.Square(r)))), tape.Constant(y), SquaredErrorScaling.HalfSumOfSquares);
    }

    /// <summary>The spectral initialisation U = Φ diag(ū), V = diag(v̄) Ψᵀ (h = r modes).</summary>
    /// <exception cref="ArgumentException">ū or v̄ does not have r entries, or some v̄_i = 0.</exception>
    public static (Tensor<double> U, Tensor<double> V) SpectralInitialisation(SpectralBasis basis, IReadOnlyList<double> ubar, IReadOnlyList<double> vbar)
    {
        ArgumentNullException.ThrowIfNull(basis);
        ArgumentNullException.ThrowIfNull(ubar);
        ArgumentNullException.ThrowIfNull(vbar);
        int r = basis.Rank, m = basis.Phi.Dim(0), n = basis.Psi.Dim(0);
        if (ubar.Count != r || vbar.Count != r)
            throw Errors.Argument(nameof(ubar), $"spectral initialisation: ū has {ubar.Count} and v̄ {vbar.Count} entries, expected r = {r} (one per singular value of Y)");
        for (int i = 0; i < r; i++)
            if (vbar[i] == 0 || !double.IsFinite(vbar[i]) || !double.IsFinite(ubar[i]))
                throw Errors.Argument(nameof(vbar), $"spectral initialisation: v̄[{i}] = {vbar[i]}, ū[{i}] = {ubar[i]}; need finite values and v̄ ≠ 0 (g(v) = v/|v|²)");
        var u = Tensor<double>.Zeros(m, r);
        var v = Tensor<double>.Zeros(r, n);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < r; j++) u[i, j] = basis.Phi[i, j] * ubar[j];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < n; j++) v[i, j] = vbar[i] * basis.Psi[j, i];
        return (u, v);
    }

    /// <summary>
    /// The spectral coordinates of (U, V): ū_i = (ΦᵀU)_ii, v̄_i = (VΨ)_ii, σ_i^X = (Φᵀ U g(V) Ψ)_ii, λ_i = ū_i² + v̄_i², and
    /// the Frobenius norm of the off-diagonal part of Φᵀ U g(V) Ψ (zero while the flow stays spectral).
    /// </summary>
    public static SpectralState Coordinates(SpectralBasis basis, Tensor<double> u, Tensor<double> v)
    {
        ArgumentNullException.ThrowIfNull(basis);
        ArgumentNullException.ThrowIfNull(u);
        ArgumentNullException.ThrowIfNull(v);
        var pu = TensorOps.MatMul(basis.Phi, u, transposeA: true);
        var vp = TensorOps.MatMul(v, basis.Psi);
        var s = TensorOps.MatMul(TensorOps.MatMul(basis.Phi, TensorOps.MatMul(u, Activation(v)), transposeA: true), basis.Psi);
        int r = basis.Rank;
        var ub = new double[r];
        var vb = new double[r];
        var sigma = new double[r];
        var lambda = new double[r];
        double off = 0;
        for (int i = 0; i < r; i++)
        {
            ub[i] = pu[i, i];
            vb[i] = vp[i, i];
            sigma[i] = s[i, i];
            lambda[i] = ub[i] * ub[i] + vb[i] * vb[i];
            for (int j = 0; j < r; j++) if (i != j) off += s[i, j] * s[i, j];
        }
        return new SpectralState(ub, vb, sigma, lambda, Math.Sqrt(off));
    }

    private static void Check(Tensor<double> y, Tensor<double> u, Tensor<double> v)
    {
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(u);
        ArgumentNullException.ThrowIfNull(v);
        if (u.Rank != 2 || v.Rank != 2 || y.Rank != 2 || u.Dim(1) != v.Dim(0) || u.Dim(0) != y.Dim(0) || v.Dim(1) != y.Dim(1))
            throw Errors.Argument(nameof(u), $"radial loss: U is {Errors.Shape(u.Shape)}, V is {Errors.Shape(v.Shape)}, Y is {Errors.Shape(y.Shape)}; expected U m×h, V h×n, Y m×n");
    }

    private static double Square(double x) => x * x;
}

/// <summary>Spectral coordinates of a point of the F.2 problem (see <see cref="RadialFlow.Coordinates"/>).</summary>
/// <param name="Ubar">ū_i.</param>
/// <param name="Vbar">v̄_i.</param>
/// <param name="Sigma">σ_i^X.</param>
/// <param name="Lambda">λ_i = ū_i² + v̄_i² (eq. 65).</param>
/// <param name="OffDiagonal">‖offdiag(Φᵀ U g(V) Ψ)‖_F.</param>
public sealed record SpectralState(double[] Ubar, double[] Vbar, double[] Sigma, double[] Lambda, double OffDiagonal);
