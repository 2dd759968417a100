using Noether.Autodiff;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

public class TwoLayerProblemTests
{
    public static TheoryData<ActivationKind, LossReduction, bool, bool> Cases()
    {
        var data = new TheoryData<ActivationKind, LossReduction, bool, bool>();
        foreach (var kind in Enum.GetValues<ActivationKind>().Where(ActivationKinds.IsLayerKind))
        {
            data.Add(kind, LossReduction.Sum, true, true);
            data.Add(kind, LossReduction.Mean, false, false);
        }
        return data;
    }

    /// <summary>The hand-written gradient against the tape's (whose op rules are checked against finite differences).</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void LossAndGradient_MatchesTheTapeFunction(ActivationKind kind, LossReduction reduction, bool half, bool whitened)
    {
        var rng = new Random(3);
        var x = whitened ? Tensor<double>.Identity(4) : Init.Gaussian(Tensor<double>.Zeros(4, 6), 1, rng);
        var y = Init.Gaussian(Tensor<double>.Zeros(3, x.Dim(1)), 1, rng);
        var p = new TwoLayerProblem(kind, 7, x, y, reduction, half, 0.2);
        Assert.Equal(whitened, p.XIsIdentity);
        var (u, v) = p.Initialise(0.7, 0.9, rng);
        var gu = Tensor<double>.Zeros(3, 7);
        var gv = Tensor<double>.Zeros(7, 4);
        double loss = p.LossAndGradient(u, v, gu, gv);
        Close.Assert(FiniteDifference.Evaluate(p.Function(), [u, v]), loss, 1e-13);
        Close.Assert(FiniteDifference.AutodiffGradient(p.Function(), [u, v]), gu.Data.Concat(gv.Data).ToArray(), 1e-12, 1e-14);
    }

    /// <summary>Eq. 48 is conserved by an accurate gradient flow (Dormand–Prince) for every activation, whitened input.</summary>
    [Theory]
    [InlineData(ActivationKind.Identity)]
    [InlineData(ActivationKind.Relu)]
    [InlineData(ActivationKind.Sigmoid)]
    [InlineData(ActivationKind.Tanh)]
    public void ConservedQuantity_UnderGradientFlow_StaysConstant(ActivationKind kind)
    {
        var rng = new Random(8);
        var y = Init.Gaussian(Tensor<double>.Zeros(3, 4), 1, rng);
        var p = new TwoLayerProblem(kind, 6, Tensor<double>.Identity(4), y);
        var (u0, v0) = p.Initialise(0.8, 0.8, rng);
        double q0 = TwoLayerProblem.ConservedQuantity(kind, u0, v0);
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
        Close.Assert(q0, TwoLayerProblem.ConservedQuantity(kind, u1, v1), 0, 1e-8 * Math.Max(1, Math.Abs(q0)), "Q");
    }

    [Fact]
    public void Run_ThresholdAndStopping_AreRecorded()
    {
        var rng = new Random(1);
        var p = new TwoLayerProblem(ActivationKind.Identity, 8, Tensor<double>.Identity(3), Init.Gaussian(Tensor<double>.Zeros(2, 3), 1, rng));
        var (u, v) = p.Initialise(0.5, 0.5, rng);
        var (u2, v2) = (u.Clone(), v.Clone());
        var (u3, v3) = (u.Clone(), v.Clone());
        var full = TwoLayerDescent.Run(p, u, v, new DescentOptions(0.05, 2000, LossThreshold: 1e-3, Records: 50));
        Assert.NotNull(full.StepsToThreshold);
        Assert.Equal(2000, full.Steps);
        Assert.True(full.FinalLoss < 1e-3);
        int at = Array.IndexOf(full.RecordedSteps, full.RecordedSteps.First(s => s >= full.StepsToThreshold));
        Assert.True(full.RecordedLosses[at] <= 1e-3);
        var stopped = TwoLayerDescent.Run(p, u2, v2, new DescentOptions(0.05, 2000, LossThreshold: 1e-3, StopAtThreshold: true));
        Assert.Equal(full.StepsToThreshold, stopped.Steps);
        Assert.True(stopped.FinalLoss <= 1e-3);
        // The step before the threshold was still above it: the first crossing is reported.
        var before = TwoLayerDescent.Run(p, u3, v3, new DescentOptions(0.05, stopped.Steps - 1));
        Assert.True(before.FinalLoss > 1e-3);
    }

    [Fact]
    public void Constructor_MismatchedShapes_Throw()
    {
        Assert.Throws<ArgumentException>(() => new TwoLayerProblem(ActivationKind.Tanh, 3, Tensor<double>.Identity(3), Tensor<double>.Zeros(2, 4)));
        var p = new TwoLayerProblem(ActivationKind.Tanh, 3, Tensor<double>.Identity(3), Tensor<double>.Zeros(2, 3));
        Assert.Throws<ArgumentException>(() => p.Loss(Tensor<double>.Zeros(3, 2), Tensor<double>.Zeros(3, 3)));
    }

    [Theory]
    [InlineData(ActivationKind.Radial)]
    [InlineData(ActivationKind.Custom)]
    public void KindWithoutAFixedFunction_IsRejectedNamingTheActivation(ActivationKind kind)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new TwoLayerProblem(kind, 3, Tensor<double>.Identity(3), Tensor<double>.Zeros(2, 3)));
        Assert.Equal("activation", e.ParamName);
        Assert.Contains($"activation = {kind}: expected Identity, Relu, LeakyRelu, Sigmoid or Tanh", e.Message);
        var q = Assert.ThrowsAny<ArgumentException>(() => TwoLayerProblem.ConservedQuantity(kind, Tensor<double>.Zeros(2, 3), Tensor<double>.Zeros(3, 3)));
        Assert.Equal("activation", q.ParamName);
    }
}
