using Noether.Autodiff;
using Noether.Conservation;
using Noether.Landscape;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;
using Noether.Tests.Support;
using Noether.Tests.Symmetry;

namespace Noether.Tests.Conservation;

public class ConservedQuantityTests
{
    // d/dt Q(θ(t)) at t = 0 along θ̇ = −∇L, by a central difference of Q, next to the scale ‖∇Q‖·‖∇L‖ it is compared with.
    private static (double Rate, double Scale) FlowDerivative(ConservedQuantity q, TwoLayerNetwork net, TwoLayerParameters theta, Tensor<double> x, Tensor<double> y)
    {
        var g = net.Gradient(theta, x, y);
        const double d = 1e-5;
        var plus = q.Evaluate(theta.Add(g, -d));
        var minus = q.Evaluate(theta.Add(g, d));
        var q0 = q.Terms(theta.AsList());
        double rate = 0;
        for (int i = 0; i < plus.Length; i++) rate = Math.Max(rate, Math.Abs(plus[i] - minus[i]) / (2 * d));
        return (rate, q0.Magnitude() * g.Norm() / theta.Norm());
    }

    public static TheoryData<string> NaturalQuantities => new() { "identity", "relu", "leaky-relu:0.2", "sigmoid", "tanh" };

    [Theory]
    [MemberData(nameof(NaturalQuantities))]
    public void ForActivation_WhitenedInput_IsConservedInfinitesimally(string name)
    {
        // With X = I (k = n) every quantity of ForActivation has dQ/dt = 0 (Ex. 7, Ex. 9, eq. 48 per unit).
        var sigma = Activation.Parse(name);
        var net = new TwoLayerNetwork(sigma, SquaredErrorLoss.HalfSum);
        var random = new Random(61);
        var theta = TwoLayerParameters.Gaussian(random, 3, 4, 5, 1, 0.7);
        var (rate, scale) = FlowDerivative(ConservedQuantity.ForActivation(sigma), net, theta, Tensor<double>.Identity(5), Gaussian.Matrix(random, 3, 5));
        Assert.True(rate <= 1e-8 * scale, $"dQ/dt = {rate:E3} against scale {scale:E3}");
    }

    [Fact]
    public void IntegralForm_Tanh_NonWhitenedInput_IsNotConserved()
    {
        // The eq. 48 form relies on X = I: with a general X the same Q moves at a rate comparable to its scale.
        var net = new TwoLayerNetwork(Activation.Tanh, SquaredErrorLoss.HalfSum);
        var (theta, x, y) = SymmetryFixtures.Problem(new Random(62), 3, 4, 5, 6);
        var (rate, scale) = FlowDerivative(ConservedQuantity.IntegralFormPerUnit(Activation.Tanh), net, theta, x, y);
        Assert.True(rate > 1e-3 * scale, $"dQ/dt = {rate:E3} unexpectedly small against {scale:E3}");
    }

    [Fact]
    public void Imbalance_GeneralInputLinearNet_IsConservedButDiagonalOfTanhIsNot()
    {
        var (theta, x, y) = SymmetryFixtures.Problem(new Random(63), 3, 4, 5, 6);
        var (rate, scale) = FlowDerivative(ConservedQuantity.Imbalance(), new TwoLayerNetwork(Activation.Identity, SquaredErrorLoss.HalfSum), theta, x, y);
        Assert.True(rate <= 1e-8 * scale);
        var (rateTanh, scaleTanh) = FlowDerivative(ConservedQuantity.HomogeneousDiagonal(), new TwoLayerNetwork(Activation.Tanh, SquaredErrorLoss.HalfSum), theta, x, y);
        Assert.True(rateTanh > 1e-3 * scaleTanh);
    }

    [Fact]
    public void Imbalance_Terms_AreGramMatrices()
    {
        var theta = TwoLayerParameters.Gaussian(new Random(64), 3, 4, 5);
        var terms = ConservedQuantity.Imbalance().Terms(theta.AsList());
        Close.Assert(SymmetryFixtures.MatMul(theta.U, theta.U, ta: true).Data, terms.First, 1e-15);
        Close.Assert(SymmetryFixtures.MatMul(theta.V, theta.V, tb: true).Data, terms.Second, 1e-15);
        var trace = ConservedQuantity.ImbalanceTrace(0.5).Evaluate(theta)[0];
        double expected = 0;
        for (int a = 0; a < 4; a++) expected += 0.5 * (terms.First[a * 4 + a] - terms.Second[a * 4 + a]);
        Close.Assert(expected, trace, 1e-13);
    }

    [Fact]
    public void Quadratic_MatchesGroupQuadraticForm()
    {
        var random = new Random(65);
        var group = new PositiveScalingGroup(4, 2);
        var theta = TwoLayerParameters.Gaussian(random, 3, 4, 5);
        var m = group.RandomAlgebraElement(random);
        Close.Assert(group.QuadraticForm(m, theta), ConservedQuantity.Quadratic(group, m).Evaluate(theta)[0], 1e-13);
    }

    [Fact]
    public void LayerImbalance_ThreeLayerLinearNet_IsConservedAtEachHiddenLayer()
    {
        var random = new Random(66);
        var net = new MultilayerNetwork([4, 3, 5, 2], Activation.Identity, SquaredErrorLoss.HalfSum);
        var w = net.RandomWeights(random, 0.8);
        var x = Gaussian.Matrix(random, 4, 6);
        var y = Gaussian.Matrix(random, 2, 6);
        var g = net.LossAndGradient(w, x, y).Gradient;
        const double d = 1e-5;
        foreach (int layer in new[] { 1, 2 })
        {
            var q = ConservedQuantity.LayerImbalance(layer);
            var plus = q.Evaluate(w.Select((t, i) => TensorOps.Binary(BinaryOp.Subtract, t, TensorOps.Binary(BinaryOp.Multiply, g[i], d))).ToArray());
            var minus = q.Evaluate(w.Select((t, i) => TensorOps.Binary(BinaryOp.Add, t, TensorOps.Binary(BinaryOp.Multiply, g[i], d))).ToArray());
            double scale = q.Terms(w).Magnitude();
            for (int i = 0; i < plus.Length; i++) Assert.True(Math.Abs(plus[i] - minus[i]) / (2 * d) <= 1e-7 * scale);
        }
    }

    [Fact]
    public void ForActivation_Radial_ThrowsPointingToAngularMomentum()
    {
        var e = Assert.Throws<ArgumentException>(() => ConservedQuantity.ForActivation(Activation.RadialInverseOnePlusNorm));
        Assert.Contains("angular-momentum", e.Message);
    }

    [Fact]
    public void RadialIdentity_CorrectFormHolds_PaperFormFails()
    {
        // SPEC: A(U̇ᵀU) = A(VV̇ᵀ) holds (to rounding); eq. 30's A(U̇ᵀU) = A(V̇Vᵀ) does not.
        foreach (var sigma in new[] { Activation.RadialInverseOnePlusNorm, Activation.RadialInverseSquareNorm })
        {
            var net = new TwoLayerNetwork(sigma, SquaredErrorLoss.HalfSum);
            var (theta, x, y) = SymmetryFixtures.Problem(new Random(67), 3, 5, 4, 6);
            var g = net.Gradient(theta, x, y);
            var velocity = new TwoLayerParameters(TensorOps.Binary(BinaryOp.Multiply, g.U, -1.0), TensorOps.Binary(BinaryOp.Multiply, g.V, -1.0));
            var check = RadialAngularMomentum.Check(theta, velocity);
            Assert.True(check.CorrectRelative <= 1e-14, $"{sigma}: correct form residual {check.CorrectRelative:E3}");
            Assert.True(check.PaperRelative > 1e-2, $"{sigma}: paper form residual only {check.PaperRelative:E3}");
        }
    }

    /// <summary>Eq. 48 is conserved by an accurate gradient flow (Dormand–Prince) for every activation, whitened input.</summary>
    [Theory]
    [InlineData(ActivationKind.Identity)]
    [InlineData(ActivationKind.Relu)]
    [InlineData(ActivationKind.Sigmoid)]
    [InlineData(ActivationKind.Tanh)]
    public void IntegralFormAt_UnderGradientFlow_StaysConstant(ActivationKind kind)
    {
        var rng = new Random(8);
        var y = Init.Gaussian(Tensor<double>.Zeros(3, 4), 1, rng);
        var p = new TwoLayerProblem(new TwoLayerNetwork(Activation.Of(kind, Activation.PyTorchLeakySlope), SquaredErrorLoss.HalfSum), 6, Tensor<double>.Identity(4), y);
        var (u0, v0) = p.Initialise(0.8, 0.8, rng);
        double q0 = ConservedQuantity.IntegralFormAt(p.Activation, u0, v0);
        var sol = DormandPrince.Solve((_, th, dth) =>
        {
            var u = new Tensor<double>(th[..18].ToArray(), 3, 6);
            var v = new Tensor<double>(th[18..].ToArray(), 6, 4);
            var gu = Tensor<double>.Zeros(3, 6);
            var gv = Tensor<double>.Zeros(6, 4);
            p.LossAndGradient(u, v, gu, gv);
            for (int i = 0; i < 18; i++) dth[i] = -gu.Data[i];
            for (int i = 0; i < 24; i++) dth[18 + i] = -gv.Data[i];
        }, 0, u0.Data.Concat(v0.Data).ToArray(), [0.5, 2.0], 1e-12, 1e-14);
        var end = sol.States[^1];
        var u1 = new Tensor<double>(end[..18].ToArray(), 3, 6);
        var v1 = new Tensor<double>(end[18..].ToArray(), 6, 4);
        Assert.True(p.Loss(u1, v1) < p.Loss(u0, v0), "the flow should descend");
        // ReLU's flow crosses kinks, where the right-hand side jumps; the integrator still resolves them to ~1e-9.
        Close.Assert(q0, ConservedQuantity.IntegralFormAt(p.Activation, u1, v1), 0, 1e-8 * Math.Max(1, Math.Abs(q0)), "Q");
    }

    [Fact]
    public void IntegralFormAt_RadialActivation_IsRejectedNamingTheActivation()
    {
        var q = Assert.ThrowsAny<ArgumentException>(() => ConservedQuantity.IntegralFormAt(Activation.RadialInverseOnePlusNorm, Tensor<double>.Zeros(2, 3), Tensor<double>.Zeros(3, 3)));
        Assert.Equal("activation", q.ParamName);
    }

    /// <summary>
    /// A custom σ equal to tanh (no closed form known to the code: G by quadrature of σ/σ′) gives the Q of the built-in tanh
    /// (closed form ½sinh²v); the quadrature asks 1e-13 relative per entry, so 1e-11 on a sum of 9 terms is a safe margin.
    /// </summary>
    [Fact]
    public void IntegralFormAt_CustomTanh_MatchesTheClosedFormOfTheBuiltInTanh()
    {
        var handTanh = Activation.Elementwise("hand tanh", Ops.Tanh, Math.Tanh, x => 1 / (Math.Cosh(x) * Math.Cosh(x)));
        var random = new Random(9);
        var u = Init.Gaussian(Tensor<double>.Zeros(2, 3), 1, random);
        var v = Init.Gaussian(Tensor<double>.Zeros(3, 3), 1, random);
        double expected = ConservedQuantity.IntegralFormAt(Activation.Tanh, u, v);
        Close.Assert(expected, ConservedQuantity.IntegralFormAt(handTanh, u, v), 1e-11, 1e-12, "Q");
    }

    [Fact]
    public void ImbalanceMatrixAt_IsSymmetricAndMatchesTheQuantityAndItsTrace()
    {
        var random = new Random(5);
        var u = Gaussian.Matrix(random, 4, 3);
        var v = Gaussian.Matrix(random, 3, 5);
        var q = ConservedQuantity.ImbalanceMatrixAt(u, v);
        var reference = ConservedQuantity.Imbalance().Evaluate([u, v]);
        double trace = 0;
        for (int i = 0; i < 3; i++)
        {
            trace += q[i, i];
            for (int j = 0; j < 3; j++)
            {
                Assert.Equal(q[i, j], q[j, i]);
                Close.Assert(reference[i * 3 + j], q[i, j], 1e-14, 1e-14, "UᵀU − VVᵀ");
            }
        }
        Close.Assert(trace, ConservedQuantity.ImbalanceTraceAt(u, v), 1e-13, 1e-13, "Tr Q");
        var e = Assert.ThrowsAny<ArgumentException>(() => ConservedQuantity.ImbalanceTraceAt(u, Tensor<double>.Zeros(4, 5)));
        Assert.Contains("U must be m×h and V h×n", e.Message);
    }

    [Fact]
    public void OfGroup_GivesTheMatrixForGlAndItsDiagonalForScaling()
    {
        var random = new Random(6);
        var theta = new TwoLayerParameters(Gaussian.Matrix(random, 4, 3), Gaussian.Matrix(random, 3, 2));
        var q = ConservedQuantity.ImbalanceMatrixAt(theta.U, theta.V);
        Assert.Equal(q.Data, ConservedQuantity.OfGroup(new GeneralLinearGroup(3), theta));
        Assert.Equal([q[0, 0], q[1, 1], q[2, 2]], ConservedQuantity.OfGroup(new PositiveScalingGroup(3, 1), theta));
        Assert.Equal("group", Assert.ThrowsAny<ArgumentException>(() => ConservedQuantity.OfGroup(new OrthogonalGroup(3), theta)).ParamName);
    }
}
