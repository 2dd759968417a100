using Noether.Landscape;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>Teleport: acceptance numbers (loss change ≤ 1e-9 relative, Q within 1e-8), checked with independent computations.</summary>
public class TeleportTests
{
    /// <summary>A regression problem with a positive loss floor (k &gt; n samples, noisy targets) and a point moved towards its minimum.</summary>
    internal static (TwoLayerProblem Problem, TwoLayerParameters Theta) Trained(ActivationKind kind, int m, int h, int n, int seed, int k = 24, long steps = 3000)
    {
        var rng = new Random(seed);
        var x = Init.Gaussian(Tensor<double>.Zeros(n, k), 1 / Math.Sqrt(k), rng);
        var y = Init.Gaussian(Tensor<double>.Zeros(m, k), 1, rng);
        var problem = new TwoLayerProblem(new TwoLayerNetwork(Activation.Of(kind, Activation.PyTorchLeakySlope), SquaredErrorLoss.HalfSum), h, x, y);
        var (u, v) = problem.Initialise(0.5, 0.5, rng);
        TwoLayerDescent.Run(problem, u, v, new DescentOptions(0.05, steps, Records: 0));
        return (problem, new TwoLayerParameters(u, v));
    }

    /// <summary>L by the autodiff tape (TwoLayerNetwork): an implementation independent of TwoLayerProblem's direct loss.</summary>
    private static double TapeLoss(TwoLayerProblem problem, TwoLayerParameters theta) =>
        problem.Network.Loss(theta, problem.X, problem.Y);

    private static Tensor<double> Imbalance(TwoLayerParameters p)
    {
        var a = TensorOps.MatMul(p.U, p.U, transposeA: true);
        var b = TensorOps.MatMul(p.V, p.V, transposeB: true);
        var q = a.Clone();
        for (int i = 0; i < q.Length; i++) q.Data[i] -= b.Data[i];
        return q;
    }

    private static Tensor<double> RandomSymmetric(Random rng, int h, double scale)
    {
        var a = Gaussian.Matrix(rng, h, h, scale);
        var s = Tensor<double>.Zeros(h, h);
        for (int i = 0; i < h; i++)
            for (int j = 0; j < h; j++) s[i, j] = 0.5 * (a[i, j] + a[j, i]);
        return s;
    }

    private static void AssertLossUnchanged(TwoLayerProblem problem, TeleportResult r)
    {
        double before = TapeLoss(problem, r.Before), after = TapeLoss(problem, r.After);
        Assert.True(before > 1e-3, $"the loss floor should be positive, got {before}");
        Assert.True(Math.Abs(after - before) <= 1e-9 * before, $"loss {before:R} → {after:R}");
        Assert.True(r.RelativeLossChange <= 1e-9, $"reported relative change {r.RelativeLossChange:E3}");
        Close.Assert(before, r.LossBefore, 1e-12, 0, "reported loss before");
    }

    /// <summary>Acceptance: closed form with positive-definite Gram matrices (h ≤ min(m, n)) reaches any symmetric Q* to 1e-8.</summary>
    [Theory]
    [InlineData(2, 1, 2, 3, 0.5)]
    [InlineData(4, 3, 5, 4, 1.0)]
    [InlineData(6, 5, 5, 5, 3.0)]
    [InlineData(8, 8, 10, 6, 0.2)]
    public void ToImbalance_PositiveDefiniteGrams_ReachesAnySymmetricTargetInClosedForm(int m, int h, int n, int seed, double scale)
    {
        var (problem, theta) = Trained(ActivationKind.Identity, m, h, n, seed);
        var target = RandomSymmetric(new Random(100 + seed), h, scale);
        var r = Teleport.ToImbalance(problem, theta, target);
        Assert.Equal(TeleportMethod.ClosedForm, r.Method);
        Close.Assert(target, Imbalance(r.After), 0, 1e-8, "Q reached");
        Assert.True(r.TargetError <= 1e-8);
        AssertLossUnchanged(problem, r);
        // g·θ = (U g⁻¹, g V) keeps the product W = UV.
        Close.Assert(TensorOps.MatMul(theta.U, theta.V), TensorOps.MatMul(r.After.U, r.After.V), 1e-9, 1e-11, "UV");
        Assert.True(double.IsFinite(r.SharpnessBefore) && double.IsFinite(r.SharpnessAfter));
    }

    /// <summary>Targets far from Q(θ) (e.g. −5·I: the inertia of Q changes) are reachable too when the Grams are definite.</summary>
    [Fact]
    public void ToImbalance_NegativeDefiniteTarget_IsReachedAlthoughInertiaChanges()
    {
        var (problem, theta) = Trained(ActivationKind.Identity, 4, 3, 5, 7);
        var target = Tensor<double>.Identity(3);
        for (int i = 0; i < 9; i++) target.Data[i] *= -5;
        var r = Teleport.ToImbalance(problem, theta, target);
        Close.Assert(target, Imbalance(r.After), 0, 1e-8);
        AssertLossUnchanged(problem, r);
    }

    /// <summary>Singular Grams (h &gt; m, n): Gauss–Newton on gl_h reaches a target known to be reachable (Q of a random g₀·θ).</summary>
    [Theory]
    [InlineData(3, 6, 2, 1)]
    [InlineData(4, 7, 3, 2)]
    public void ToImbalance_SingularGrams_GaussNewtonReachesAReachableTarget(int m, int h, int n, int seed)
    {
        var (problem, theta) = Trained(ActivationKind.Identity, m, h, n, seed);
        var group = new GeneralLinearGroup(h);
        var g0 = group.Exp(group.RandomAlgebraElement(new Random(seed + 50), 0.3));
        var target = Imbalance(group.Apply(g0, theta));
        var r = Teleport.ToImbalance(problem, theta, target);
        Assert.Equal(TeleportMethod.GaussNewton, r.Method);
        Close.Assert(target, Imbalance(r.After), 0, 1e-8, "Q reached");
        AssertLossUnchanged(problem, r);
    }

    /// <summary>A target not built from the orbit: diag(1, 1, 1, −1, −1, 0) uses all the inertia rank U = 3, rank V = 2 allow.</summary>
    [Fact]
    public void ToImbalance_SingularGrams_ReachesADiagonalTargetOfMaximalInertia()
    {
        var (problem, theta) = Trained(ActivationKind.Identity, 3, 6, 2, 1);
        var target = Tensor<double>.Zeros(6, 6);
        double[] d = [1, 1, 1, -1, -1, 0];
        for (int i = 0; i < 6; i++) target[i, i] = d[i];
        var r = Teleport.ToImbalance(problem, theta, target);
        Assert.Equal(TeleportMethod.GaussNewton, r.Method);
        Close.Assert(target, Imbalance(r.After), 0, 1e-8, "Q reached");
        AssertLossUnchanged(problem, r);
    }

    [Fact]
    public void ToImbalance_TooManyPositiveEigenvalues_IsUnreachableAndSaysWhy()
    {
        // U is 3×6, so U'ᵀU' has rank 3 on the whole orbit and Q' has at most 3 positive eigenvalues: Q* = I₆ has 6.
        var (problem, theta) = Trained(ActivationKind.Identity, 3, 6, 2, 1, steps: 10);
        var e = Assert.ThrowsAny<ArgumentException>(() => Teleport.ToImbalance(problem, theta, Tensor<double>.Identity(6)));
        Assert.Contains("target Q is unreachable", e.Message);
        Assert.Contains("6 positive eigenvalues", e.Message);
        Assert.Contains("rank U = 3", e.Message);
    }

    [Fact]
    public void ToImbalance_BadTargets_AreRejectedByName()
    {
        var (problem, theta) = Trained(ActivationKind.Identity, 4, 3, 5, 1, steps: 10);
        var nonSymmetric = Tensor<double>.Zeros(3, 3);
        nonSymmetric[0, 1] = 1;
        Assert.Contains("not symmetric", Assert.ThrowsAny<ArgumentException>(() => Teleport.ToImbalance(problem, theta, nonSymmetric)).Message);
        Assert.Contains("target Q", Assert.ThrowsAny<ArgumentException>(() => Teleport.ToImbalance(problem, theta, Tensor<double>.Zeros(2, 2))).Message);
        var nan = Tensor<double>.Zeros(3, 3);
        nan[1, 1] = double.NaN;
        Assert.Contains("non-finite", Assert.ThrowsAny<ArgumentException>(() => Teleport.ToImbalance(problem, theta, nan)).Message);
        var (relu, reluTheta) = Trained(ActivationKind.Relu, 4, 3, 5, 1, steps: 10);
        Assert.Contains("diagonal target", Assert.ThrowsAny<ArgumentException>(() => Teleport.ToImbalance(relu, reluTheta, Tensor<double>.Zeros(3, 3))).Message);
    }

    [Fact]
    public void Teleport_SigmoidNetwork_HasNoGroupToTeleportWith()
    {
        var (problem, theta) = Trained(ActivationKind.Sigmoid, 3, 4, 3, 1, steps: 10);
        var e = Assert.ThrowsAny<ArgumentException>(() => Teleport.ToTrace(problem, theta, 1));
        Assert.Contains("no linear symmetry group", e.Message);
    }

    /// <summary>ReLU: per-unit scaling reaches any diag Q to 1e-8; the outputs on the data are unchanged (homogeneity).</summary>
    [Theory]
    [InlineData(ActivationKind.Relu, 3)]
    [InlineData(ActivationKind.LeakyRelu, 4)]
    [InlineData(ActivationKind.Identity, 5)]
    public void ToImbalanceDiagonal_ScalingGroup_ReachesTheDiagonal(ActivationKind kind, int seed)
    {
        var (problem, theta) = Trained(kind, 4, 6, 3, seed);
        var rng = new Random(seed);
        var target = Enumerable.Range(0, 6).Select(_ => 4 * (rng.NextDouble() - 0.5)).ToArray();
        var r = Teleport.ToImbalanceDiagonal(problem, theta, target);
        var q = Imbalance(r.After);
        for (int a = 0; a < 6; a++) Close.Assert(target[a], q[a, a], 0, 1e-8, $"q[{a}]");
        AssertLossUnchanged(problem, r);
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
                if (i != j) Assert.Equal(0.0, r.G[i, j]);
    }

    [Fact]
    public void ToImbalanceDiagonal_DeadUnitWithPositiveTarget_NamesTheUnit()
    {
        var (problem, theta) = Trained(ActivationKind.Relu, 4, 3, 3, 1, steps: 10);
        for (int i = 0; i < 4; i++) theta.U[i, 1] = 0; // unit 1 feeds nothing forward: q₁ = −d²‖V₁‖² < 0 only
        var e = Assert.ThrowsAny<ArgumentException>(() => Teleport.ToImbalanceDiagonal(problem, theta, [0.1, 0.5, 0.1]));
        Assert.Contains("hidden unit 1", e.Message);
        Assert.Contains("(−∞, 0)", e.Message);
    }

    /// <summary>The scalar path e^τ·I reaches any trace in closed form; a root find along exp(tI) lands on the same τ.</summary>
    [Theory]
    [InlineData(ActivationKind.Identity, -5.0)]
    [InlineData(ActivationKind.Identity, 0.0)]
    [InlineData(ActivationKind.Relu, 7.5)]
    public void ToTrace_ScalarPath_ClosedFormAgreesWithTheRootFind(ActivationKind kind, double target)
    {
        var (problem, theta) = Trained(kind, 4, 5, 3, 2);
        var closed = Teleport.ToTrace(problem, theta, target);
        Assert.Equal(TeleportMethod.ClosedForm, closed.Method);
        Close.Assert(target, Mat(closed.After), 0, 1e-8, "Tr Q");
        AssertLossUnchanged(problem, closed);
        var found = Teleport.ToTrace(problem, theta, target, Tensor<double>.Identity(5), new TeleportOptions(Tolerance: 1e-11, ComputeSharpness: false));
        Assert.Equal(TeleportMethod.PathRootFind, found.Method);
        Close.Assert(closed.PathParameter!.Value, found.PathParameter!.Value, 0, 1e-9, "τ");
        static double Mat(TwoLayerParameters p) => TensorOps.Dot(p.U, p.U) - TensorOps.Dot(p.V, p.V);
    }

    [Fact]
    public void ToTrace_ZeroV_OnlyPositiveTracesAreReachable()
    {
        var (problem, theta) = Trained(ActivationKind.Identity, 3, 2, 2, 1, steps: 0);
        var zeroV = new TwoLayerParameters(theta.U, Tensor<double>.Zeros(2, 2));
        var e = Assert.ThrowsAny<ArgumentException>(() => Teleport.ToTrace(problem, zeroV, -1));
        Assert.Contains("target trace -1", e.Message);
        Assert.Contains("(0, ∞)", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => Teleport.ToTrace(problem, theta, double.NaN));
    }

    /// <summary>
    /// An exact zero-residual minimum of a linear net (Y := UV, X = I): there the Hessian is Gauss–Newton and along e^t·I its top
    /// eigenvalue is e^{−2t}λmax(UUᵀ) + e^{2t}λmax(VᵀV) (loss with ½). The teleported sharpness must match the target and that formula.
    /// </summary>
    [Theory]
    [InlineData(1.5)]
    [InlineData(0.5)]
    public void ToSharpness_ExactMinimum_MatchesTheGaussNewtonFormula(double factor)
    {
        var (problem, theta) = ExactMinimum(4, 6, 3, 21);
        double before = TwoLayerHessian.Sharpness(problem, theta);
        var gnBefore = LinearMinimum.GaussNewtonEigenvalues(theta.U, theta.V)[^1];
        Close.Assert(gnBefore, before, 1e-9, 0, "λ_max = λmax(UUᵀ) + λmax(VᵀV) at a zero-residual minimum");
        // The path minimum is 2√(ab); aim between it and the start (factor 0.5) or above the start (1.5).
        double a = TopEigen(TensorOps.MatMul(theta.U, theta.U, transposeB: true)), b = TopEigen(TensorOps.MatMul(theta.V, theta.V, transposeA: true));
        double floor = 2 * Math.Sqrt(a * b);
        Assert.True(before > 1.05 * floor, "the start should not already sit at the path minimum");
        double target = floor + factor * (before - floor);
        var r = Teleport.ToSharpness(problem, theta, target);
        Close.Assert(target, r.SharpnessAfter, 1e-8, 0, "λ_max after");
        double t = r.PathParameter!.Value;
        Close.Assert(Math.Exp(-2 * t) * a + Math.Exp(2 * t) * b, r.SharpnessAfter, 1e-8, 0, "formula at t");
        Assert.True(r.LossAfter < 1e-24);
    }

    [Fact]
    public void ToSharpness_BelowThePathMinimum_IsUnreachableWithTheRange()
    {
        var (problem, theta) = ExactMinimum(4, 6, 3, 21);
        double a = TopEigen(TensorOps.MatMul(theta.U, theta.U, transposeB: true)), b = TopEigen(TensorOps.MatMul(theta.V, theta.V, transposeA: true));
        double floor = 2 * Math.Sqrt(a * b);
        var e = Assert.ThrowsAny<ArgumentException>(() => Teleport.ToSharpness(problem, theta, 0.5 * floor, maxPathParameter: 2));
        Assert.Contains("target sharpness", e.Message);
        Assert.Contains("unreachable along the path", e.Message);
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => Teleport.ToSharpness(problem, theta, -1));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => Teleport.ToSharpness(problem, theta, double.NaN));
    }

    /// <summary>A rotation path exp(tA), A antisymmetric, keeps Tr Q = Tr(OAOᵀ) − Tr(OBOᵀ) fixed: other traces are unreachable on it.</summary>
    [Fact]
    public void ToTrace_RotationPath_CannotChangeTheTrace()
    {
        var (problem, theta) = Trained(ActivationKind.Identity, 4, 3, 5, 1, steps: 100);
        var a = Tensor<double>.Zeros(3, 3);
        a[0, 1] = 1;
        a[1, 0] = -1;
        double trace = TensorOps.Dot(theta.U, theta.U) - TensorOps.Dot(theta.V, theta.V);
        var e = Assert.ThrowsAny<ArgumentException>(() => Teleport.ToTrace(problem, theta, trace + 1, a, new TeleportOptions(ComputeSharpness: false)));
        Assert.Contains("unreachable along the path", e.Message);
        Assert.Contains("Tr Q stays in", e.Message);
    }

    internal static (TwoLayerProblem Problem, TwoLayerParameters Theta) ExactMinimum(int m, int h, int n, int seed)
    {
        var rng = new Random(seed);
        var theta = TwoLayerParameters.Gaussian(rng, m, h, n, 1.2, 0.4);
        var y = TensorOps.MatMul(theta.U, theta.V);
        return (new TwoLayerProblem(new TwoLayerNetwork(Activation.Identity, SquaredErrorLoss.HalfSum), h, Tensor<double>.Identity(n), y), theta);
    }

    private static double TopEigen(Tensor<double> s)
    {
        int n = s.Dim(0);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) s[i, j] = s[j, i] = 0.5 * (s[i, j] + s[j, i]);
        return LinearAlgebra.SymmetricEigen(s, vectors: false).Values[^1];
    }
}
