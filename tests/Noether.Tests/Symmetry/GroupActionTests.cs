using CsCheck;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Symmetry;

public class GroupActionTests
{
    public static TheoryData<string> SymmetricActivations => new() { "identity", "relu", "leaky-relu:0.1", "radial", "radial-inverse-square" };

    // (seed, m, h, n, k): random sizes, then θ, X, Y and g drawn from System.Random(seed).
    private static readonly Gen<(int, int, int, int, int)> Shapes = Gen.Select(Gen.Int[0, 1_000_000], Gen.Int[1, 6], Gen.Int[1, 6], Gen.Int[1, 6], Gen.Int[1, 8]);

    [Theory]
    [MemberData(nameof(SymmetricActivations))]
    public void Apply_RandomGroupElement_LeavesLossInvariant(string name)
    {
        // Eq. 1/8: L(g·θ) = L(θ) for the linear action of σ's group (Prop. 7).
        var sigma = Activation.Parse(name);
        var net = new TwoLayerNetwork(sigma, SquaredErrorLoss.HalfSum);
        Shapes.Sample((seed, m, h, n, k) =>
        {
            var random = new Random(seed);
            var group = MatrixGroup.ForActivation(sigma, h)!;
            var (theta, x, y) = SymmetryFixtures.Problem(random, m, h, n, k);
            var g = group.RandomElement(random, 0.5);
            double loss = net.Loss(theta, x, y);
            double moved = net.Loss(group.Apply(g, theta), x, y);
            Assert.True(Math.Abs(moved - loss) <= 1e-10 * Math.Abs(loss), $"{group}: L = {loss:R}, L(g·θ) = {moved:R}");
        }, iter: 100);
    }

    [Theory]
    [MemberData(nameof(SymmetricActivations))]
    public void InfinitesimalAction_RandomAlgebraElement_IsOrthogonalToGradient(string name)
    {
        // Prop. 5 / Cor. 6: ⟨∇L, M̄_θ⟩ = 0.
        var sigma = Activation.Parse(name);
        var net = new TwoLayerNetwork(sigma, SquaredErrorLoss.HalfSum);
        Shapes.Sample((seed, m, h, n, k) =>
        {
            var random = new Random(seed);
            var group = MatrixGroup.ForActivation(sigma, h)!;
            var (theta, x, y) = SymmetryFixtures.Problem(random, m, h, n, k);
            var tangent = group.InfinitesimalAction(group.RandomAlgebraElement(random), theta);
            var grad = net.Gradient(theta, x, y);
            double inner = grad.Inner(tangent);
            Assert.True(Math.Abs(inner) <= 1e-10 * grad.Norm() * tangent.Norm(), $"{group}: ⟨∇L, M̄θ⟩ = {inner:E3}");
        }, iter: 100);
    }

    public static TheoryData<string> Groups => new() { "GL", "scaling", "O" };

    private static MatrixGroup MakeGroup(string kind, int h) => kind switch
    {
        "GL" => new GeneralLinearGroup(h),
        "scaling" => new PositiveScalingGroup(h, 1.5),
        _ => new OrthogonalGroup(h),
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public void Apply_Composition_EqualsActionOfProduct(string kind)
    {
        // Group action axiom: g₁·(g₂·θ) = (g₁g₂)·θ.
        Gen.Select(Gen.Int[0, 1_000_000], Gen.Int[1, 6]).Sample((seed, h) =>
        {
            var random = new Random(seed);
            var group = MakeGroup(kind, h);
            var theta = TwoLayerParameters.Gaussian(random, 3, h, 4);
            var g1 = group.RandomElement(random, 0.5);
            var g2 = group.RandomElement(random, 0.5);
            var left = group.Apply(g1, group.Apply(g2, theta));
            var right = group.Apply(SymmetryFixtures.MatMul(g1, g2), theta);
            Assert.True(SymmetryFixtures.RelativeMaxError(left.U, right.U) < 1e-12);
            Assert.True(SymmetryFixtures.RelativeMaxError(left.V, right.V) < 1e-12);
        }, iter: 50);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void InfinitesimalAction_EqualsDerivativeOfExpAction(string kind)
    {
        // Eq. 9: M̄_θ = d/dt exp(tM)·θ at t = 0, by a central difference.
        var random = new Random(21);
        var group = MakeGroup(kind, 4);
        var theta = TwoLayerParameters.Gaussian(random, 3, 4, 5);
        var m = group.RandomAlgebraElement(random);
        const double d = 1e-5;
        var plus = group.Apply(group.Exp(m, d), theta);
        var minus = group.Apply(group.Exp(m, -d), theta);
        var fd = plus.Add(minus, -1);
        var tangent = group.InfinitesimalAction(m, theta);
        var fdScaled = new TwoLayerParameters(Scale(fd.U, 0.5 / d), Scale(fd.V, 0.5 / d));
        Close.Assert(tangent.U, fdScaled.U, 1e-8, 1e-9);
        Close.Assert(tangent.V, fdScaled.V, 1e-8, 1e-9);
    }

    [Fact]
    public void Exp_AntisymmetricTwoByTwo_IsRotation()
    {
        var group = new OrthogonalGroup(2);
        var m = Tensor<double>.FromArray(new double[,] { { 0, 1 }, { -1, 0 } });
        var g = group.Exp(m, 2.3);
        Close.Assert(Math.Cos(2.3), g[0, 0], 1e-14, 1e-15);
        Close.Assert(Math.Sin(2.3), g[0, 1], 1e-14, 1e-15);
        Close.Assert(-Math.Sin(2.3), g[1, 0], 1e-14, 1e-15);
        Close.Assert(Math.Cos(2.3), g[1, 1], 1e-14, 1e-15);
    }

    [Fact]
    public void Exp_Diagonal_IsElementwiseExp()
    {
        var group = new PositiveScalingGroup(3);
        var m = Tensor<double>.Zeros(3, 3);
        m[0, 0] = -4; m[1, 1] = 0.5; m[2, 2] = 7;
        var g = group.Exp(m);
        Close.Assert(Math.Exp(-4), g[0, 0], 1e-13);
        Close.Assert(Math.Exp(0.5), g[1, 1], 1e-13);
        Close.Assert(Math.Exp(7), g[2, 2], 1e-13);
        Assert.Equal(0.0, g[0, 1]);
    }

    [Fact]
    public void Exp_OfMinusM_IsInverse()
    {
        var random = new Random(22);
        var group = new GeneralLinearGroup(5);
        var m = group.RandomAlgebraElement(random, 1.5);
        var product = SymmetryFixtures.MatMul(group.Exp(m), group.Exp(m, -1));
        Close.Assert(Tensor<double>.Identity(5), product, 0, 1e-11);
    }

    [Fact]
    public void QuadraticForm_GeneralLinear_EqualsMinusImbalancePairedWithM()
    {
        // Q_M = ⟨θ, M̄θ⟩ = −⟨UᵀU − VVᵀ, M⟩ for symmetric M (eq. 25 vs Ex. 7).
        var random = new Random(23);
        var group = new GeneralLinearGroup(4);
        var theta = TwoLayerParameters.Gaussian(random, 3, 4, 5);
        var a = Gaussian.Matrix(random, 4, 4);
        var m = Tensor<double>.Zeros(4, 4);
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) m[i, j] = a[i, j] + a[j, i];
        var imbalance = TensorOps.Binary(BinaryOp.Subtract, SymmetryFixtures.MatMul(theta.U, theta.U, ta: true), SymmetryFixtures.MatMul(theta.V, theta.V, tb: true));
        Close.Assert(-TensorOps.Dot(imbalance, m), group.QuadraticForm(m, theta), 1e-13);
    }

    [Fact]
    public void QuadraticForm_NonSymmetricM_Throws()
    {
        var group = new GeneralLinearGroup(3);
        var theta = TwoLayerParameters.Gaussian(new Random(24), 2, 3, 2);
        var e = Assert.Throws<ArgumentException>(() => group.QuadraticForm(Gaussian.Matrix(new Random(25), 3, 3), theta));
        Assert.Contains("symmetric", e.Message);
    }

    [Fact]
    public void Apply_SingularElement_ThrowsSayingSingular()
    {
        var group = new GeneralLinearGroup(2);
        var g = Tensor<double>.FromArray(new double[,] { { 1, 2 }, { 2, 4 } });
        var e = Assert.Throws<ArgumentException>(() => group.Apply(g, TwoLayerParameters.Gaussian(new Random(26), 2, 2, 2)));
        Assert.Contains("singular", e.Message);
        Assert.Equal("g", e.ParamName);
    }

    [Fact]
    public void Apply_NonOrthogonalElement_ThrowsWithDeviation()
    {
        var group = new OrthogonalGroup(3);
        var m = group.RandomAlgebraElement(new Random(27));
        var e = Assert.Throws<ArgumentException>(() => group.IdentityPlus(m, 0.1));
        Assert.Contains("not orthogonal", e.Message);
        Assert.Contains("gᵀg − I", e.Message);
    }

    [Fact]
    public void Apply_NonPositiveScaling_ThrowsNamingEntry()
    {
        var group = new PositiveScalingGroup(3);
        var g = Tensor<double>.Identity(3);
        g[1, 1] = -0.5;
        var e = Assert.Throws<ArgumentException>(() => group.Apply(g, TwoLayerParameters.Gaussian(new Random(28), 2, 3, 2)));
        Assert.Contains("g[1,1]", e.Message);
        Assert.Contains("not positive", e.Message);
        g[1, 1] = 1;
        g[0, 2] = 0.1;
        e = Assert.Throws<ArgumentException>(() => group.ValidateElement(g));
        Assert.Contains("diagonal", e.Message);
    }

    [Fact]
    public void IdentityPlus_ScalingWithSmallEpsilon_IsAccepted()
    {
        var group = new PositiveScalingGroup(4);
        var m = group.RandomAlgebraElement(new Random(29));
        var g = group.IdentityPlus(m, 0.01);
        for (int i = 0; i < 4; i++) Close.Assert(1 + 0.01 * m[i, i], g[i, i], 1e-15);
    }

    [Fact]
    public void ValidateAlgebraElement_SymmetricForOrthogonal_Throws()
    {
        var group = new OrthogonalGroup(3);
        var e = Assert.Throws<ArgumentException>(() => group.Exp(Tensor<double>.Identity(3)));
        Assert.Contains("not antisymmetric", e.Message);
    }

    [Fact]
    public void Apply_WrongWidth_Throws()
    {
        var group = new GeneralLinearGroup(3);
        var e = Assert.Throws<ArgumentException>(() => group.Apply(Tensor<double>.Identity(3), TwoLayerParameters.Gaussian(new Random(30), 2, 4, 2)));
        Assert.Contains("h = 4", e.Message);
    }

    [Fact]
    public void AlgebraBasis_HasStatedDimensionAndLiesInAlgebra()
    {
        foreach (var group in new MatrixGroup[] { new GeneralLinearGroup(4), new PositiveScalingGroup(4), new OrthogonalGroup(4) })
        {
            var basis = group.AlgebraBasis();
            Assert.Equal(group.AlgebraDimension, basis.Count);
            foreach (var b in basis) group.ValidateAlgebraElement(b);
        }
        Assert.Equal(6, new OrthogonalGroup(4).AlgebraDimension);
    }

    public static TheoryData<string> MultilayerActivations => new() { "identity", "relu", "radial" };

    [Theory]
    [MemberData(nameof(MultilayerActivations))]
    public void MultilayerApply_ProductElement_LeavesLossInvariantAndTangentOrthogonal(string name)
    {
        // Prop. 9 (eqs. 17–18) on a 3-layer network.
        var sigma = Activation.Parse(name);
        Gen.Select(Gen.Int[0, 1_000_000], Gen.Int[1, 5], Gen.Int[1, 5], Gen.Int[1, 5]).Sample((seed, n1, n2, k) =>
        {
            var random = new Random(seed);
            var net = new MultilayerNetwork([4, n1, n2, 3], sigma, SquaredErrorLoss.HalfSum);
            var action = MultilayerAction.ForNetwork(net);
            var w = net.RandomWeights(random, 0.6);
            var x = Gaussian.Matrix(random, 4, k);
            var y = Gaussian.Matrix(random, 3, k);
            double loss = net.Loss(w, x, y);
            double moved = net.Loss(action.Apply(action.RandomElement(random, 0.4), w), x, y);
            Assert.True(Math.Abs(moved - loss) <= 1e-10 * Math.Abs(loss), $"L = {loss:R}, L(g·θ) = {moved:R}");
            var tangent = action.InfinitesimalAction(action.RandomAlgebraElement(random), w);
            var grad = net.LossAndGradient(w, x, y).Gradient;
            double inner = 0, ng = 0, nt = 0;
            for (int i = 0; i < w.Length; i++)
            {
                inner += TensorOps.Dot(grad[i], tangent[i]);
                ng += TensorOps.Dot(grad[i], grad[i]);
                nt += TensorOps.Dot(tangent[i], tangent[i]);
            }
            Assert.True(Math.Abs(inner) <= 1e-10 * Math.Sqrt(ng * nt), $"⟨∇L, M̄θ⟩ = {inner:E3}");
        }, iter: 50);
    }

    [Fact]
    public void MultilayerApply_TwoLayers_MatchesTwoLayerAction()
    {
        var random = new Random(31);
        var theta = TwoLayerParameters.Gaussian(random, 3, 4, 5);
        var group = new PositiveScalingGroup(4, 2);
        var action = new MultilayerAction([group]);
        var g = group.RandomElement(random);
        var expected = group.Apply(g, theta);
        var w = action.Apply([g], [theta.V, theta.U]);
        Close.Assert(expected.V, w[0], 1e-15);
        Close.Assert(expected.U, w[1], 1e-15);
    }

    [Fact]
    public void MultilayerForNetwork_Tanh_ThrowsNoLinearGroup()
    {
        var e = Assert.Throws<ArgumentException>(() => MultilayerAction.ForNetwork(new MultilayerNetwork([2, 3, 2], Activation.Tanh, SquaredErrorLoss.HalfSum)));
        Assert.Contains("no linear symmetry group", e.Message);
    }

    private static Tensor<double> Scale(Tensor<double> a, double s) => TensorOps.Binary(BinaryOp.Multiply, a, s);
}
