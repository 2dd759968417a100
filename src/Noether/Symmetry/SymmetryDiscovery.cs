using Noether.Nn;
using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>A generator of the linear flow (U, V) ↦ (U + tUA, V + tBV), A, B ∈ gl_h.</summary>
/// <param name="A">Acts on U from the right.</param>
/// <param name="B">Acts on V from the left.</param>
public sealed record AlgebraGenerator(Tensor<double> A, Tensor<double> B)
{
    /// <summary>The tangent vector (UA, BV) at θ.</summary>
    public TwoLayerParameters TangentAt(TwoLayerParameters theta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        if (!LinearAlgebra.IsSquare(A, theta.H) || !LinearAlgebra.IsSquare(B, theta.H))
            throw Errors.Argument(nameof(theta), $"generator: A and B must be {theta.H}×{theta.H} for parameters {theta}");
        return new TwoLayerParameters(theta.U.MatMul(A), B.MatMul(theta.V));
    }
}

/// <summary>How <see cref="SymmetryDiscovery.Discover"/> samples its constraints.</summary>
/// <param name="OutputWidth">m (0: use h).</param>
/// <param name="InputWidth">n (0: use h).</param>
/// <param name="BatchSize">k, samples per batch (0: use h).</param>
/// <param name="Samples">Number of random (θ, X, Y), one linear constraint each (0: 3·2h² + 20, three times the unknowns).</param>
/// <param name="RelativeTolerance">Singular values ≤ this × σ_max span the null space.</param>
/// <param name="ValidationSamples">Fresh samples on which the returned basis is checked.</param>
public sealed record DiscoveryOptions(int OutputWidth = 0, int InputWidth = 0, int BatchSize = 0, int Samples = 0,
    double RelativeTolerance = SymmetryDiscovery.DefaultTolerance, int ValidationSamples = 20);

/// <summary>The numerically discovered Lie algebra of linear symmetries of one layer pair.</summary>
/// <param name="Activation">σ.</param>
/// <param name="Width">h.</param>
/// <param name="Dimension">dim of the null space: the number of independent generators.</param>
/// <param name="Basis">An orthonormal basis of the null space (in the coordinates (vec A, vec B)).</param>
/// <param name="SingularValues">Singular values of the normalised constraint matrix, largest first.</param>
/// <param name="RelativeTolerance">The rank cut used.</param>
/// <param name="Gap">Smallest singular value kept as a constraint over the largest counted as null (∞ if the null space is everything or empty with no drop).</param>
/// <param name="Constraints">Number of constraint rows.</param>
/// <param name="MaxInvarianceResidual">max over basis and fresh samples of |⟨∇L, (UA, BV)⟩| / (‖∇L‖·‖(UA, BV)‖).</param>
/// <param name="MaxPairResidual">max over the basis of ‖A + B‖/‖(A, B)‖: 0 when every generator has A = −B (a GL-type action).</param>
/// <param name="MaxOffDiagonal">max over the basis of ‖offdiag B‖/‖B‖: 0 when every generator is diagonal (scaling).</param>
/// <param name="MaxSymmetricTraceless">max over the basis of ‖sym(B) − (tr B/h) I‖/‖B‖: 0 when B is antisymmetric plus a multiple of I.</param>
/// <param name="KnownDimension">The dimension derived by hand (<see cref="SymmetryDiscovery.KnownDimension"/>), or null.</param>
public sealed record DiscoveredAlgebra(string Activation, int Width, int Dimension, IReadOnlyList<AlgebraGenerator> Basis,
    double[] SingularValues, double RelativeTolerance, double Gap, int Constraints, double MaxInvarianceResidual,
    double MaxPairResidual, double MaxOffDiagonal, double MaxSymmetricTraceless, int? KnownDimension);

/// <summary>
/// Finds, numerically, the Lie algebra of linear actions (U, V) ↦ (U + tUA, V + tBV), A, B ∈ gl_h, that leave the
/// loss L = ½‖Y − Uσ(VX)‖² invariant for all parameters and data — the paper's "general framework for finding
/// continuous symmetries" (Prop. 5). Infinitesimal invariance at one (θ, X, Y) is one linear equation in (A, B):
/// ⟨∇_U L, UA⟩ + ⟨∇_V L, BV⟩ = ⟨Uᵀ∇_U L, A⟩ + ⟨∇_V L Vᵀ, B⟩ = 0. Stacking the rows (vec Uᵀ∇_U L, vec ∇_V L Vᵀ) over many
/// random (θ, X, Y), normalised, the algebra is the null space, read from an SVD with a stated relative tolerance.
/// <para>
/// What to expect (derivation). Write Z = VX and R = Y − F. Then ⟨∇_U L, UA⟩ + ⟨∇_V L, BV⟩ = −⟨R, U[Aσ(Z) + dσ_Z(BZ)]⟩,
/// and since Y (so R) and U are arbitrary, the condition is Aσ(z) + dσ_z(Bz) = 0 for every column z ∈ ℝʰ.
/// • identity: (A + B)z = 0 ⇒ A = −B, any B: dimension h² (GL_h, eq. 13).
/// • ReLU / LeakyReLU (slope s ≠ 1): on an orthant σ(z) = Dz, σ'(z) = D with D = diag(1 or s), so AD + DB = 0 for
///   every sign pattern; D = I gives A = −B, then [D, B] = 0 for all D forces B diagonal: dimension h. (Permutations
///   of hidden units are symmetries too, but discrete: they contribute nothing to the algebra.)
/// • tanh: expanding at z = 0, order 1 gives A = −B; order 3 gives ⅓B(z³) − z²⊙(Bz) = 0, whose z_j³ coefficient is
///   ⅓B_ij (i ≠ j) and −⅔B_ii (i = j): B = 0. Dimension 0 (the sign flips z ↦ −z of odd σ are discrete).
/// • sigmoid: σ(z) = ½ + z/4 − z³/48 + …, σ' = ¼ − z²/16 + …; order 1 gives A = −B, order 3 gives B(z³)/48 − z²⊙(Bz)/16 = 0,
///   so again B = 0: dimension 0.
/// • radial σ(z) = f(r)z, r = ‖z‖, z = ru: the condition becomes f(r)(A + B)u + r f'(r)(uᵀBu)u = 0. If r f'/f is not
///   constant (f = 1/(1+r)), both terms vanish: A = −B, B antisymmetric: dimension C(h,2) (o(h)). If f = c·r^(α−1)
///   (σ homogeneous of degree α ≠ 1, e.g. f = r⁻², α = −1), then (A + B)u = (1 − α)(uᵀBu)u for all unit u, which forces
///   sym(B) = cI and A + B = (1 − α)cI: dimension C(h,2) + 1 (the scalings cI join so(h)).
/// </para>
/// </summary>
public static class SymmetryDiscovery
{
    /// <summary>Default relative rank tolerance of the constraint matrix.</summary>
    public const double DefaultTolerance = 1e-8;

    /// <summary>The dimension derived above for the built-in activations, or null when no derivation applies (custom σ).</summary>
    public static int? KnownDimension(Activation activation, int h)
    {
        ArgumentNullException.ThrowIfNull(activation);
        Errors.ThrowIfNotPositive(h, nameof(h));
        int so = h * (h - 1) / 2;
        return activation.Kind switch
        {
            ActivationKind.Identity => h * h,
            ActivationKind.Relu or ActivationKind.LeakyRelu => h,
            ActivationKind.Sigmoid or ActivationKind.Tanh => 0,
            ActivationKind.Radial => activation.HomogeneityDegree switch
            {
                null => so,
                1.0 => h * h,
                _ => so + 1,
            },
            _ => null,
        };
    }

    /// <summary>Samples constraints for activation σ on hidden width h and returns the null space.</summary>
    public static DiscoveredAlgebra Discover(Activation activation, int h, Random random, DiscoveryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(activation);
        ArgumentNullException.ThrowIfNull(random);
        Errors.ThrowIfNotPositive(h, nameof(h));
        options ??= new DiscoveryOptions();
        int m = options.OutputWidth > 0 ? options.OutputWidth : h;
        int n = options.InputWidth > 0 ? options.InputWidth : h;
        int k = options.BatchSize > 0 ? options.BatchSize : h;
        int unknowns = 2 * h * h;
        int samples = options.Samples > 0 ? options.Samples : 3 * unknowns + 20;
        if (samples < unknowns) throw Errors.OutOfRange("options.Samples", samples, $"at least 2h² = {unknowns} constraints for {unknowns} unknowns");
        double tol = options.RelativeTolerance;
        if (!(tol > 0 && tol < 1)) throw Errors.OutOfRange("options.RelativeTolerance", tol, "a number in (0, 1)");

        var network = new TwoLayerNetwork(activation, SquaredErrorLoss.HalfSum);
        var c = Tensor<double>.Zeros(samples, unknowns);
        for (int s = 0; s < samples; s++)
        {
            var (theta, x, y) = Sample(random, m, h, n, k);
            var g = network.LossAndGradient(theta, x, y).Gradient;
            var ua = LinearAlgebra.Multiply(theta.U, g[0], transposeA: true);   // Uᵀ ∇_U L, pairs with A
            var bv = LinearAlgebra.Multiply(g[1], theta.V, transposeB: true);   // ∇_V L Vᵀ, pairs with B
            double norm = Math.Sqrt(TensorOps.Dot(ua, ua) + TensorOps.Dot(bv, bv));
            if (!(norm > 0) || !double.IsFinite(norm)) { s--; continue; }
            for (int i = 0; i < h * h; i++)
            {
                c[s, i] = ua.Data[i] / norm;
                c[s, h * h + i] = bv.Data[i] / norm;
            }
        }

        // MathNet's managed SVD, as when the stored results were made; c is tall (samples ≥ 2h²), so its thin Vᵀ is the full one.
        var (sv, _, vt) = LinearAlgebra.Svd(c, vectors: true, BlasProvider.Managed);
        int rank = LinearAlgebra.Rank(sv, tol);
        var basis = new List<AlgebraGenerator>();
        for (int r = rank; r < unknowns; r++)
        {
            var a = Tensor<double>.Zeros(h, h);
            var b = Tensor<double>.Zeros(h, h);
            for (int i = 0; i < h * h; i++)
            {
                a.Data[i] = vt![r, i];
                b.Data[i] = vt[r, h * h + i];
            }
            basis.Add(new AlgebraGenerator(a, b));
        }
        double gap = rank == 0 ? double.PositiveInfinity : rank >= sv.Length ? double.PositiveInfinity : sv[rank] == 0 ? double.PositiveInfinity : sv[rank - 1] / sv[rank];

        double residual = 0;
        for (int s = 0; s < options.ValidationSamples && basis.Count > 0; s++)
        {
            var (theta, x, y) = Sample(random, m, h, n, k);
            foreach (var gen in basis) residual = Math.Max(residual, InvarianceResidual(network, gen, theta, x, y));
        }

        double pair = 0, offDiagonal = 0, symmetric = 0;
        foreach (var gen in basis)
        {
            double na = TensorOps.Norm(gen.A), nb = TensorOps.Norm(gen.B);
            pair = Math.Max(pair, TensorOps.Norm(gen.A + gen.B) / Math.Sqrt(na * na + nb * nb));
            if (nb == 0) { offDiagonal = symmetric = double.PositiveInfinity; continue; }
            var off = gen.B.Clone();
            double trace = 0;
            for (int i = 0; i < h; i++)
            {
                trace += gen.B[i, i];
                off.Data[i * h + i] = 0;
            }
            offDiagonal = Math.Max(offDiagonal, TensorOps.Norm(off) / nb);
            var sym = LinearAlgebra.SymmetricPart(gen.B);
            for (int i = 0; i < h; i++) sym.Data[i * h + i] -= trace / h;
            symmetric = Math.Max(symmetric, TensorOps.Norm(sym) / nb);
        }
        return new DiscoveredAlgebra(activation.Name, h, basis.Count, basis, sv, tol, gap, samples, residual, pair, offDiagonal, symmetric,
            KnownDimension(activation, h));
    }

    /// <summary>|⟨∇L, (UA, BV)⟩| / (‖∇L‖·‖(UA, BV)‖) at one (θ, X, Y): 0 for an exact infinitesimal symmetry.</summary>
    public static double InvarianceResidual(TwoLayerNetwork network, AlgebraGenerator generator, TwoLayerParameters theta, Tensor<double> x, Tensor<double> y)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(generator);
        var grad = network.Gradient(theta, x, y);
        var tangent = generator.TangentAt(theta);
        double denominator = grad.Norm() * tangent.Norm();
        return denominator == 0 ? 0 : Math.Abs(grad.Inner(tangent)) / denominator;
    }

    // Parameters at random scales (e^{N(0,1)}) so that both the linear and the saturating regimes of σ, and a wide
    // range of norms r for radial σ, enter the constraints.
    private static (TwoLayerParameters, Tensor<double>, Tensor<double>) Sample(Random random, int m, int h, int n, int k)
    {
        double su = Math.Exp(Gaussian.Next(random));
        double sv = Math.Exp(Gaussian.Next(random)) / Math.Sqrt(n);
        var theta = TwoLayerParameters.Gaussian(random, m, h, n, su, sv);
        var x = Gaussian.Matrix(random, n, k);
        var y = Gaussian.Matrix(random, m, k);
        return (theta, x, y);
    }
}
