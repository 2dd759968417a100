using Noether.Autodiff;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

public class TwoLayerProblemTests
{
    public static TheoryData<ActivationKind, SquaredErrorLoss, bool> Cases()
    {
        var data = new TheoryData<ActivationKind, SquaredErrorLoss, bool>();
        foreach (var kind in Enum.GetValues<ActivationKind>().Where(Activation.HasFixedFunction))
        {
            data.Add(kind, SquaredErrorLoss.HalfSum, true);
            data.Add(kind, SquaredErrorLoss.Mean, false);
        }
        return data;
    }

    /// <summary>The hand-written gradient against the tape's (whose op rules are checked against finite differences).</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void LossAndGradient_MatchesTheTapeFunction(ActivationKind kind, SquaredErrorLoss convention, bool whitened)
    {
        CheckGradient(Activation.Of(kind, 0.2), convention, whitened);
    }

    /// <summary>A custom elementwise σ (σ = eᶻ, given by its tape form and scalar σ, σ′) runs through the same buffered loops.</summary>
    [Fact]
    public void LossAndGradient_OfACustomActivation_MatchesTheTapeFunction() =>
        CheckGradient(Activation.Elementwise("exp", Ops.Exp, Math.Exp, Math.Exp), SquaredErrorLoss.HalfSum, false);

    private static void CheckGradient(Activation sigma, SquaredErrorLoss convention, bool whitened)
    {
        var rng = new Random(3);
        var x = whitened ? Tensor<double>.Identity(4) : Init.Gaussian(Tensor<double>.Zeros(4, 6), 1, rng);
        var y = Init.Gaussian(Tensor<double>.Zeros(3, x.Dim(1)), 1, rng);
        var p = new TwoLayerProblem(new TwoLayerNetwork(sigma, convention), 7, x, y);
        Assert.Equal(whitened, p.XIsIdentity);
        var (u, v) = p.Initialise(0.7, 0.9, rng);
        var gu = Tensor<double>.Zeros(3, 7);
        var gv = Tensor<double>.Zeros(7, 4);
        double loss = p.LossAndGradient(u, v, gu, gv);
        Close.Assert(FiniteDifference.Evaluate(p.Function(), [u, v]), loss, 1e-13);
        Close.Assert(FiniteDifference.AutodiffGradient(p.Function(), [u, v]), gu.Data.Concat(gv.Data).ToArray(), 1e-12, 1e-14);
    }

    [Fact]
    public void Run_ThresholdAndStopping_AreRecorded()
    {
        var rng = new Random(1);
        var p = new TwoLayerProblem(new TwoLayerNetwork(Activation.Identity, SquaredErrorLoss.HalfSum), 8, Tensor<double>.Identity(3), Init.Gaussian(Tensor<double>.Zeros(2, 3), 1, rng));
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
        Assert.Throws<ArgumentException>(() => new TwoLayerProblem(new TwoLayerNetwork(Activation.Tanh, SquaredErrorLoss.HalfSum), 3, Tensor<double>.Identity(3), Tensor<double>.Zeros(2, 4)));
        var p = new TwoLayerProblem(new TwoLayerNetwork(Activation.Tanh, SquaredErrorLoss.HalfSum), 3, Tensor<double>.Identity(3), Tensor<double>.Zeros(2, 3));
        Assert.Throws<ArgumentException>(() => p.Loss(Tensor<double>.Zeros(3, 2), Tensor<double>.Zeros(3, 3)));
    }

    [Fact]
    public void RadialActivation_IsRejectedNamingTheActivation()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new TwoLayerProblem(new TwoLayerNetwork(Activation.RadialInverseOnePlusNorm, SquaredErrorLoss.HalfSum), 3, Tensor<double>.Identity(3), Tensor<double>.Zeros(2, 3)));
        Assert.Equal("network", e.ParamName);
        Assert.Contains("elementwise", e.Message);
    }
}
