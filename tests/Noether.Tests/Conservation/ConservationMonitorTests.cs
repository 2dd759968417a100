using Noether.Conservation;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;
using Noether.Tests.Symmetry;

namespace Noether.Tests.Conservation;

public class ConservationMonitorTests
{
    private static ConservationMonitor RunGradientDescent(Activation sigma, ConservedQuantity quantity, double eta, int steps, int seed)
    {
        var net = new TwoLayerNetwork(sigma, SquaredErrorLoss.HalfSum);
        // Small weights and large targets keep the relative steps large for a while, so many ΔQ stand clear of rounding.
        var random = new Random(seed);
        var theta = TwoLayerParameters.Gaussian(random, 3, 5, 4, 0.5, 0.5);
        var x = Gaussian.Matrix(random, 4, 6);
        var y = Gaussian.Matrix(random, 3, 6, 10);
        var monitor = new ConservationMonitor(quantity);
        var u = theta.U.Clone();
        var v = theta.V.Clone();
        for (int t = 0; t <= steps; t++)
        {
            var lg = net.LossAndGradient(new TwoLayerParameters(u, v), x, y);
            monitor.Observe([u, v], lg.Gradient, eta);
            for (int i = 0; i < u.Length; i++) u.Data[i] -= eta * lg.Gradient[0].Data[i];
            for (int i = 0; i < v.Length; i++) v.Data[i] -= eta * lg.Gradient[1].Data[i];
        }
        return monitor;
    }

    public static TheoryData<string, string> Cases => new()
    {
        { "identity", "trace" }, { "identity", "matrix" }, { "relu", "diagonal" }, { "relu", "trace" }, { "leaky-relu:0.2", "diagonal" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Observe_GradientDescent_Eq41HoldsEveryStepAndBoundNeverFails(string activation, string kind)
    {
        ConservedQuantity q = kind switch
        {
            "trace" => ConservedQuantity.ImbalanceTrace(1),
            "matrix" => ConservedQuantity.Imbalance(),
            _ => ConservedQuantity.HomogeneousDiagonal(),
        };
        var monitor = RunGradientDescent(Activation.Parse(activation), q, 0.01, 300, 81);
        var s = monitor.Summary;
        Assert.Equal(300, s.Eq41Checks);
        // Every step: exact up to the rounding of the update itself (ε·M).
        Assert.True(s.Eq41MaxErrorOverMagnitude <= 1e-14, $"eq. 41 error up to {s.Eq41MaxErrorOverMagnitude:E3} of the terms");
        // Wherever ΔQ stands clear of that rounding, relative to ΔQ itself.
        Assert.True(s.Eq41MaxRelativeError <= 1e-10, $"eq. 41 relative error up to {s.Eq41MaxRelativeError:E3}");
        Assert.True(s.Eq41ResolvableChecks >= 10, $"only {s.Eq41ResolvableChecks} checks had ΔQ resolvable above rounding");
        Assert.Equal(0, s.Eq41BoundViolations);
        // GD does move Q (so the identity is not trivially 0 = 0) by O(η²).
        Assert.True(s.MaxRelativeChange > 1e-7, $"Q barely moved: {s.MaxRelativeChange:E3}");
    }

    [Fact]
    public void Observe_GradientDescent_PredictionIsEtaSquaredGradientNormDifference()
    {
        // Eq. 41 literally: Q_{t+1} − Q_t = η²(‖∂L/∂U‖² − ‖∂L/∂V‖²) for Q = Tr[UᵀU − VVᵀ].
        var net = new TwoLayerNetwork(Activation.Identity, SquaredErrorLoss.HalfSum);
        var (theta, x, y) = SymmetryFixtures.Problem(new Random(82), 3, 5, 4, 6);
        var monitor = new ConservationMonitor(ConservedQuantity.ImbalanceTrace(1));
        const double eta = 0.03;
        var g = net.Gradient(theta, x, y);
        monitor.Observe(theta.AsList(), g.AsList(), eta);
        var next = theta.Add(g, -eta);
        var record = monitor.Observe(next.AsList())!;
        double expected = eta * eta * (TensorOps.Dot(g.U, g.U) - TensorOps.Dot(g.V, g.V));
        Close.Assert(expected, record.Eq41Predicted![0], 1e-13);
        Close.Assert(expected, record.Eq41Measured![0], 1e-10);
        Close.Assert(eta * eta * (TensorOps.Dot(g.U, g.U) + TensorOps.Dot(g.V, g.V)), record.Eq41Bound![0], 1e-13);
    }

    [Fact]
    public void Observe_NormalisedDrift_FollowsEq43()
    {
        // Q̃ = |f₁ − f₂| / (f₁(U₀) + |f₂(V₀)|) for the scalar eq. 48 form (here linear: f₁ = ½‖U‖², f₂ = ½‖V‖²).
        var monitor = new ConservationMonitor(ConservedQuantity.IntegralForm(Activation.Identity));
        var random = new Random(83);
        var theta0 = TwoLayerParameters.Gaussian(random, 2, 3, 4);
        var theta1 = TwoLayerParameters.Gaussian(random, 2, 3, 4);
        monitor.Observe(theta0.AsList());
        var record = monitor.Observe(theta1.AsList())!;
        double f1a = 0.5 * TensorOps.Dot(theta0.U, theta0.U), f2a = 0.5 * TensorOps.Dot(theta0.V, theta0.V);
        double f1b = 0.5 * TensorOps.Dot(theta1.U, theta1.U), f2b = 0.5 * TensorOps.Dot(theta1.V, theta1.V);
        double expected = Math.Abs(f1b - f2b) / (f1a + f2a) - Math.Abs(f1a - f2a) / (f1a + f2a);
        Close.Assert(expected, record.NormalisedDrift[0], 1e-14);
    }

    [Fact]
    public void Observe_NonQuadraticQuantityWithLearningRate_Throws()
    {
        var monitor = new ConservationMonitor(ConservedQuantity.IntegralForm(Activation.Tanh));
        var theta = TwoLayerParameters.Gaussian(new Random(84), 2, 3, 4);
        var e = Assert.Throws<ArgumentException>(() => monitor.Observe(theta.AsList(), theta.AsList(), 0.1));
        Assert.Contains("not quadratic", e.Message);
    }

    [Fact]
    public void Observe_RecordEvery_KeepsStridedRecordsButSummarisesAll()
    {
        var monitor = new ConservationMonitor(ConservedQuantity.Imbalance(), recordEvery: 10);
        var random = new Random(85);
        for (int i = 0; i < 25; i++) monitor.Observe(TwoLayerParameters.Gaussian(random, 2, 3, 4).AsList());
        Assert.Equal(new long[] { 0, 10, 20 }, monitor.Records.Select(r => r.Step));
        Assert.Equal(25, monitor.Summary.Observations);
    }
}
