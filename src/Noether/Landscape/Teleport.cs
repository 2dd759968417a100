using Noether.Conservation;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>
/// Symmetry teleportation of a two-layer network F(X) = U σ(VX): a group element g that moves θ = (U, V) along its level
/// set of the loss, θ ↦ g·θ = (U g⁻¹, g V) (eq. 12; π(g) = g for GL_h and for positive scaling with α = 1), to a point with a
/// chosen conserved quantity — a whole matrix Q = UᵀU − VVᵀ (linear σ), its diagonal (ReLU, LeakyReLU: Ex. 9), its trace —
/// or a chosen sharpness λ_max. Since L(g·θ) = L(θ) for every g (eq. 1) the loss does not change: this moves a trained model
/// along its minimum without retraining, and the paper's Appendix G says where it lands (how sharp) is set by Q.
/// </summary>
/// <remarks>
/// <para><b>How Q transforms.</b> With A = UᵀU and B = VVᵀ, g·θ has A' = g⁻ᵀ A g⁻¹ and B' = g B gᵀ, so Q' = A' − B' is
/// not a congruence of Q and its inertia is not conserved. What is conserved: A'B' = g⁻ᵀ(AB)gᵀ is similar to AB (its
/// eigenvalues are the squared singular values of W = UV, padded with zeros), and rank A' = rank U, rank B' = rank V.</para>
/// <para><b>Closed form when A and B are positive definite</b> (h ≤ min(m, n), U of full column rank, V of full row rank).
/// Every such pair is in the orbit of the balanced pair (Σ, Σ), Σ = diag(σ) with σ² the eigenvalues of AB: with
/// B^{±½} from B's eigendecomposition and B^{½} A B^{½} = O D Oᵀ, T = D^{¼} Oᵀ B^{−½} maps (A, B) to (D^{½}, D^{½}).
/// Hence EVERY symmetric Q* is reachable: write Q* = E Λ Eᵀ and take A' = E diag(a) Eᵀ, B' = E diag(b) Eᵀ with
/// aᵢ − bᵢ = λᵢ and aᵢbᵢ = σᵢ² (λ and σ both ascending), i.e. bᵢ = (−λᵢ + √(λᵢ² + 4σᵢ²))/2 &gt; 0; this pair is mapped to
/// (Σ, Σ) by T' = diag((a/b)^{¼}) Eᵀ, so g = T'⁻¹T. (Pairing λ with σ in another order gives other solutions: the set of
/// points with a given Q is h(h−1)/2-dimensional.)</para>
/// <para><b>Otherwise</b> (e.g. the paper's Fig. 8 net, h = 50 &gt; m + n): damped Gauss–Newton (Levenberg–Marquardt) on the
/// Lie algebra, g ← exp(M)·g where M is the damped least-squares solution of the linearised equation
/// dQ(M) = −(MᵀA' + A'M + MB' + B'Mᵀ) = Q* − Q' (conjugate gradients on the normal equations); a step that does not reduce
/// ‖Q' − Q*‖ is rejected and the damping raised. A necessary condition is checked
/// first: Q* = A' − B' with A', B' ⪰ 0 of ranks rank U, rank V has at most rank U positive and at most rank V negative
/// eigenvalues. Whether it is also sufficient here is not proven (every target meeting it that the tests tried was reached,
/// e.g. diag(1, 1, 1, −1, −1, 0) with rank U = 3, rank V = 2); a target the iteration cannot reach to the tolerance is
/// reported as unreachable with the residual it got to.</para>
/// <para><b>Scalars.</b> Along the scalar path g = e^τ·I (in both groups), Tr Q(τ) = e^{−2τ}‖U‖² − e^{2τ}‖V‖² is strictly
/// decreasing with range ℝ when U, V ≠ 0, so any trace is reached in closed form; for ReLU the per-unit diagonal
/// qₐ = ‖U_{:,a}‖²/x − x‖V_{a,:}‖² (x = dₐ²) is the same equation unit by unit. Along a general path exp(tM)·θ the trace
/// and the sharpness are found by bracketing from t = 0 outwards (the root nearest to t = 0) and refining (Illinois).</para>
/// <para>Tr Q here is the trace of the matrix UᵀU − VVᵀ; the scalar Q of eq. 48 (½Tr[UᵀU − VVᵀ] for linear and ReLU nets) is half of it.</para>
/// </remarks>
public static class Teleport
{
    /// <summary>The symmetry group of the problem's hidden activation (<see cref="MatrixGroup.ForActivation(Activation, int, double)"/>): GL_h for the identity, positive scaling (α = 1) for ReLU and LeakyReLU.</summary>
    /// <exception cref="ArgumentException">Sigmoid or tanh: no linear symmetry group to teleport with (Prop. 7).</exception>
    public static MatrixGroup GroupFor(TwoLayerProblem problem, double conditionLimit = 1e10)
    {
        ArgumentNullException.ThrowIfNull(problem);
        return MatrixGroup.ForActivation(problem.Activation, problem.Hidden, conditionLimit) ?? throw Errors.Argument(nameof(problem), $"teleport: σ = {problem.Activation} has no linear symmetry group (only identity: GL_h, and ReLU/LeakyReLU: positive scaling, act by (U g⁻¹, g V))");
    }

    /// <summary>
    /// Teleports a linear network (σ = identity, group GL_h) to the imbalance matrix Q* = UᵀU − VVᵀ: closed form when UᵀU and
    /// VVᵀ are positive definite (then every symmetric Q* is reachable), Levenberg–Marquardt on gl_h otherwise (see the remarks).
    /// </summary>
    /// <exception cref="ArgumentException">Not a linear network, a target that is not a symmetric finite h×h matrix, a target
    /// outside the reachable set (its inertia exceeds the ranks of U and V, or the iteration cannot reach it), naming the target and why.</exception>
    public static TeleportResult ToImbalance(TwoLayerProblem problem, TwoLayerParameters theta, Tensor<double> target, TeleportOptions? options = null)
    {
        options = Check(problem, theta, options);
        ArgumentNullException.ThrowIfNull(target);
        if (problem.Activation.Kind != ActivationKind.Identity)
            throw Errors.Argument(nameof(target), $"teleport to a Q matrix: σ = {problem.Activation} conserves only diag(UᵀU − VVᵀ) (Ex. 9); give a diagonal target (one value per hidden unit) instead");
        int h = theta.H;
        if (!target.HasShape(h, h)) throw Errors.BadShape("teleport", "target Q", target.Shape, $"an {h}×{h} symmetric matrix (h = {h})");
        if (!target.AllFinite()) throw Errors.Argument(nameof(target), "teleport: target Q has non-finite entries");
        double scale = Math.Max(1, TensorOps.MaxAbs(target));
        double asym = TensorOps.MaxAbs(LinearAlgebra.AntisymmetricPart(target));
        if (asym > 1e-12 * scale)
            throw Errors.Argument(nameof(target), string.Create(CultureInfo.InvariantCulture,
                $"teleport: target Q is not symmetric (max |Q − Qᵀ|/2 = {asym:G3}); Q = UᵀU − VVᵀ is always symmetric"));
        var qStar = LinearAlgebra.SymmetricPart(target);
        var group = (GeneralLinearGroup)GroupFor(problem, options.ConditionLimit);
        CheckInertia(theta, qStar);

        Tensor<double> g;
        TeleportMethod method;
        int iterations = 0;
        var a = LinearAlgebra.SymmetricPart(LinearAlgebra.Multiply(theta.U, theta.U, transposeA: true));
        var b = LinearAlgebra.SymmetricPart(LinearAlgebra.Multiply(theta.V, theta.V, transposeB: true));
        if (ImbalanceClosedForm.PositiveDefiniteSolution(a, b, qStar) is { } closed)
        {
            g = closed;
            method = TeleportMethod.ClosedForm;
        }
        else
        {
            (g, iterations) = ImbalanceLevenbergMarquardt.Solve(theta, qStar, options.MaxIterations);
            method = TeleportMethod.GaussNewton;
        }
        var after = ApplyChecked(group, g, theta, "target Q");
        var reached = ConservedQuantity.ImbalanceMatrixAt(after.U, after.V);
        double error = TensorOps.MaxAbs(reached - qStar);
        if (!(error <= options.Tolerance))
            throw Errors.Argument(nameof(target), string.Create(CultureInfo.InvariantCulture,
                $"teleport: target Q is not reachable from this point: {(method == TeleportMethod.GaussNewton ? $"Levenberg–Marquardt on gl_{h} stalled after {iterations} steps" : "the closed form")} left max |Q − Q*| = {error:G3} > tolerance {options.Tolerance:G3} (U is {theta.M}×{h} of rank {LinearAlgebra.NumericalRank(theta.U)}, V is {h}×{theta.N} of rank {LinearAlgebra.NumericalRank(theta.V)}; only with both Gram matrices positive definite is every Q* reachable)"));
        return Finish(problem, group, g, theta, after, $"Q = the given {h}×{h} matrix", error, method, null, iterations, options);
    }

    /// <summary>
    /// Teleports to a target diagonal diag(UᵀU − VVᵀ) (the conserved quantity of ReLU/LeakyReLU, Ex. 9) by scaling each hidden
    /// unit: qₐ' = ‖U_{:,a}‖²/x − x‖V_{a,:}‖² with x = dₐ² solved in closed form. Also valid for linear networks (positive
    /// diagonal matrices lie in GL_h; there the off-diagonal entries of Q change).
    /// </summary>
    /// <exception cref="ArgumentException">Wrong length or non-finite target; a unit whose target has the wrong sign (a dead unit
    /// with U_{:,a} = 0 can only reach qₐ &lt; 0, one with V_{a,:} = 0 only qₐ &gt; 0).</exception>
    public static TeleportResult ToImbalanceDiagonal(TwoLayerProblem problem, TwoLayerParameters theta, IReadOnlyList<double> target, TeleportOptions? options = null)
    {
        options = Check(problem, theta, options);
        ArgumentNullException.ThrowIfNull(target);
        int h = theta.H;
        if (target.Count != h) throw Errors.Argument(nameof(target), $"teleport: the diagonal target has {target.Count} values, expected one per hidden unit (h = {h})");
        var group = GroupFor(problem, options.ConditionLimit);
        var g = Tensor<double>.Zeros(h, h);
        for (int k = 0; k < h; k++)
        {
            double t = target[k];
            if (!double.IsFinite(t)) throw Errors.Argument(nameof(target), string.Create(CultureInfo.InvariantCulture, $"teleport: target q[{k}] = {t} is not finite"));
            double uu = 0, vv = 0;
            for (int i = 0; i < theta.M; i++) uu += theta.U[i, k] * theta.U[i, k];
            for (int j = 0; j < theta.N; j++) vv += theta.V[k, j] * theta.V[k, j];
            double x = ImbalanceClosedForm.SolveScaling(uu, vv, t, $"target q[{k}]", $"hidden unit {k}");
            g[k, k] = Math.Sqrt(x);
        }
        var after = ApplyChecked(group, g, theta, "diagonal target");
        var reached = ConservedQuantity.Diagonal(ConservedQuantity.ImbalanceMatrixAt(after.U, after.V));
        double error = reached.Select((q, k) => Math.Abs(q - target[k])).Max();
        if (!(error <= options.Tolerance))
            throw Errors.Argument(nameof(target), string.Create(CultureInfo.InvariantCulture, $"teleport: the diagonal target was missed by {error:G3} > tolerance {options.Tolerance:G3} (scalings too extreme for float64)"));
        return Finish(problem, group, g, theta, after, "diag Q = the given vector", error, TeleportMethod.ClosedForm, null, 0, options);
    }

    /// <summary>
    /// Teleports to Tr Q = Tr[UᵀU − VVᵀ] = <paramref name="target"/>. Without a generator: along the scalar path g = e^τ·I
    /// in closed form (every trace is reachable when U, V ≠ 0). With a generator M ∈ 𝔤: the root of Tr Q(exp(tM)·θ) = target
    /// nearest to t = 0 (bracketing, then refinement), which need not exist.
    /// </summary>
    /// <exception cref="ArgumentException">A non-finite target, an invalid generator, or a target outside the range reachable along the path.</exception>
    public static TeleportResult ToTrace(TwoLayerProblem problem, TwoLayerParameters theta, double target, Tensor<double>? generator = null,
        TeleportOptions? options = null)
    {
        options = Check(problem, theta, options);
        if (!double.IsFinite(target)) throw Errors.OutOfRange("target trace", target, "a finite number");
        var group = GroupFor(problem, options.ConditionLimit);
        string what = string.Create(CultureInfo.InvariantCulture, $"Tr Q = {target:G6}");
        if (generator is null)
        {
            double x = ImbalanceClosedForm.SolveScaling(TensorOps.Dot(theta.U, theta.U), TensorOps.Dot(theta.V, theta.V), target, string.Create(CultureInfo.InvariantCulture, $"target trace {target:G6}"), "the scalar path e^τ·I");
            double tau = 0.5 * Math.Log(x);
            var g = Tensor<double>.Identity(theta.H) * Math.Exp(tau);
            var after = ApplyChecked(group, g, theta, "target trace");
            double error = Math.Abs(ConservedQuantity.ImbalanceTraceAt(after.U, after.V) - target);
            if (!(error <= options.Tolerance))
                throw Errors.Argument(nameof(target), string.Create(CultureInfo.InvariantCulture, $"teleport: target trace {target:G6} missed by {error:G3} (scaling e^τ = {Math.Exp(tau):G3} too extreme for float64)"));
            return Finish(problem, group, g, theta, after, what, error, TeleportMethod.ClosedForm, tau, 0, options);
        }
        group.ValidateAlgebraElement(generator, nameof(generator));
        double traceTolerance = options.Tolerance;
        var (t, evals) = PathRootFinder.Find(group, generator, theta, p => ConservedQuantity.ImbalanceTraceAt(p.U, p.V), target, traceTolerance, $"target trace {target.ToString("G6", CultureInfo.InvariantCulture)}", "Tr Q");
        var gt = group.Exp(generator, t);
        var at = ApplyChecked(group, gt, theta, "target trace");
        return Finish(problem, group, gt, theta, at, what, Math.Abs(ConservedQuantity.ImbalanceTraceAt(at.U, at.V) - target), TeleportMethod.PathRootFind, t, evals, options);
    }

    /// <summary>
    /// Teleports to a top Hessian eigenvalue λ_max = <paramref name="target"/> along g(t) = exp(tM)·θ (M = I, the scalar path,
    /// by default): the root of λ_max(t) = target nearest to t = 0, λ_max from the full Hessian or Lanczos. Along the scalar
    /// path at a zero-residual minimum of a linear net λ_max = 2c(e^{−2t}‖U‖₂² + e^{2t}‖V‖₂²) (c the loss factor): convex in t,
    /// so targets below its minimum are unreachable on this path.
    /// </summary>
    /// <param name="problem">The loss.</param>
    /// <param name="theta">The point (usually a trained minimum).</param>
    /// <param name="target">The wanted λ_max (&gt; 0).</param>
    /// <param name="generator">M ∈ 𝔤 (null: the identity).</param>
    /// <param name="maxPathParameter">The search stops at |t|·‖M‖_F/√h = this (by default 5: scalings up to e^5).</param>
    /// <param name="options">Tolerances; the sharpness must be met to Tolerance·max(1, target).</param>
    /// <exception cref="ArgumentException">A target that is not positive and finite, or one not reached along the path (the message gives the range seen).</exception>
    public static TeleportResult ToSharpness(TwoLayerProblem problem, TwoLayerParameters theta, double target, Tensor<double>? generator = null,
        double maxPathParameter = 5, TeleportOptions? options = null)
    {
        options = Check(problem, theta, options);
        if (!(target > 0) || double.IsInfinity(target)) throw Errors.OutOfRange("target sharpness", target, "a positive finite top Hessian eigenvalue");
        Errors.ThrowIfNotPositive(maxPathParameter, nameof(maxPathParameter));
        var group = GroupFor(problem, options.ConditionLimit);
        var m = generator ?? Tensor<double>.Identity(theta.H);
        group.ValidateAlgebraElement(m, nameof(generator));
        var sharpnessOptions = options with { ComputeSharpness = true };
        double tol = options.Tolerance * Math.Max(1, target);
        var (t, evals) = PathRootFinder.Find(group, m, theta, p => Sharpness(problem, p, sharpnessOptions), target, tol,
            $"target sharpness {target.ToString("G6", CultureInfo.InvariantCulture)}", "λ_max", maxPathParameter);
        var g = group.Exp(m, t);
        var after = ApplyChecked(group, g, theta, "target sharpness");
        var result = Finish(problem, group, g, theta, after, string.Create(CultureInfo.InvariantCulture, $"λ_max = {target:G6}"), double.NaN, TeleportMethod.PathRootFind, t, evals,
            sharpnessOptions);
        return result with { TargetError = Math.Abs(result.SharpnessAfter - target) };
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static TeleportOptions Check(TwoLayerProblem problem, TwoLayerParameters theta, TeleportOptions? options)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(theta);
        options ??= new TeleportOptions();
        options.Validate();
        if (theta.M != problem.Outputs || theta.H != problem.Hidden || theta.N != problem.Inputs)
            throw Errors.Argument(nameof(theta), $"teleport: the parameters {theta} do not fit the problem (U {problem.Outputs}×{problem.Hidden}, V {problem.Hidden}×{problem.Inputs})");
        if (!theta.U.AllFinite() || !theta.V.AllFinite()) throw Errors.Argument(nameof(theta), "teleport: the parameters have non-finite entries");
        return options;
    }

    private static TeleportResult Finish(TwoLayerProblem problem, MatrixGroup group, Tensor<double> g, TwoLayerParameters before, TwoLayerParameters after,
        string what, double error, TeleportMethod method, double? t, int iterations, TeleportOptions options)
    {
        double lossBefore = problem.Loss(before.U, before.V), lossAfter = problem.Loss(after.U, after.V);
        double sBefore = options.ComputeSharpness ? Sharpness(problem, before, options) : double.NaN;
        double sAfter = options.ComputeSharpness ? Sharpness(problem, after, options) : double.NaN;
        return new TeleportResult(group, g, before, after, lossBefore, lossAfter, ConservedQuantity.OfGroup(group, before), ConservedQuantity.OfGroup(group, after), what, error,
            sBefore, sAfter, method, t, iterations);
    }

    private static double Sharpness(TwoLayerProblem problem, TwoLayerParameters theta, TeleportOptions options) =>
        TwoLayerHessian.Sharpness(problem, theta, options.FullHessianLimit, options.Seed);

    private static TwoLayerParameters ApplyChecked(MatrixGroup group, Tensor<double> g, TwoLayerParameters theta, string what)
    {
        try
        {
            return group.Apply(g, theta);
        }
        catch (ArgumentException e)
        {
            throw Errors.Argument(what, $"teleport: the group element reaching the {what} is unusable: {e.Message}", e);
        }
    }

    private static void CheckInertia(TwoLayerParameters theta, Tensor<double> qStar)
    {
        var (lambda, _) = LinearAlgebra.SymmetricEigen(qStar, vectors: false);
        double cut = 1e-10 * Math.Max(lambda.Max(Math.Abs), 1e-300);
        int positive = lambda.Count(l => l > cut), negative = lambda.Count(l => l < -cut);
        int rankU = LinearAlgebra.NumericalRank(theta.U), rankV = LinearAlgebra.NumericalRank(theta.V);
        if (positive > rankU)
            throw Errors.Argument("target", $"teleport: target Q is unreachable: it has {positive} positive eigenvalues, but Q = U'ᵀU' − V'V'ᵀ has at most rank U = {rankU} (U'ᵀU' = g⁻ᵀUᵀUg⁻¹ keeps its rank; U is {theta.M}×{theta.H})");
        if (negative > rankV)
            throw Errors.Argument("target", $"teleport: target Q is unreachable: it has {negative} negative eigenvalues, but Q = U'ᵀU' − V'V'ᵀ has at most rank V = {rankV} (V'V'ᵀ = gVVᵀgᵀ keeps its rank; V is {theta.H}×{theta.N})");
    }
}
