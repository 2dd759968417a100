using Noether.Conservation;
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
        var net = new TwoLayerNetwork(sigma);
        var random = new Random(61);
        var theta = TwoLayerParameters.Gaussian(random, 3, 4, 5, 1, 0.7);
        var (rate, scale) = FlowDerivative(ConservedQuantity.ForActivation(sigma), net, theta, Tensor<double>.Identity(5), RandomMatrix.Gaussian(random, 3, 5));
        Assert.True(rate <= 1e-8 * scale, $"dQ/dt = {rate:E3} against scale {scale:E3}");
    }

    [Fact]
    public void IntegralForm_Tanh_NonWhitenedInput_IsNotConserved()
    {
        // The eq. 48 form relies on X = I: with a general X the same Q moves at a rate comparable to its scale.
        var net = new TwoLayerNetwork(Activation.Tanh);
        var (theta, x, y) = SymmetryFixtures.Problem(new Random(62), 3, 4, 5, 6);
        var (rate, scale) = FlowDerivative(ConservedQuantity.IntegralFormPerUnit(Activation.Tanh), net, theta, x, y);
        Assert.True(rate > 1e-3 * scale, $"dQ/dt = {rate:E3} unexpectedly small against {scale:E3}");
    }

    [Fact]
    public void Imbalance_GeneralInputLinearNet_IsConservedButDiagonalOfTanhIsNot()
    {
        var (theta, x, y) = SymmetryFixtures.Problem(new Random(63), 3, 4, 5, 6);
        var (rate, scale) = FlowDerivative(ConservedQuantity.Imbalance(), new TwoLayerNetwork(Activation.Identity), theta, x, y);
        Assert.True(rate <= 1e-8 * scale);
        var (rateTanh, scaleTanh) = FlowDerivative(ConservedQuantity.HomogeneousDiagonal(), new TwoLayerNetwork(Activation.Tanh), theta, x, y);
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
        var net = new MultilayerNetwork([4, 3, 5, 2], Activation.Identity);
        var w = net.RandomWeights(random, 0.8);
        var x = RandomMatrix.Gaussian(random, 4, 6);
        var y = RandomMatrix.Gaussian(random, 2, 6);
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
            var net = new TwoLayerNetwork(sigma);
            var (theta, x, y) = SymmetryFixtures.Problem(new Random(67), 3, 5, 4, 6);
            var g = net.Gradient(theta, x, y);
            var velocity = new TwoLayerParameters(TensorOps.Binary(BinaryOp.Multiply, g.U, -1.0), TensorOps.Binary(BinaryOp.Multiply, g.V, -1.0));
            var check = RadialAngularMomentum.Check(theta, velocity);
            Assert.True(check.CorrectRelative <= 1e-14, $"{sigma}: correct form residual {check.CorrectRelative:E3}");
            Assert.True(check.PaperRelative > 1e-2, $"{sigma}: paper form residual only {check.PaperRelative:E3}");
        }
    }
}
