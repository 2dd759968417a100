using Noether.Experiments;
using Noether.Landscape;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape.Experiments;

public class EllipseConvergenceTests
{
    [Fact]
    public void Result_Aggregates_AreTheCurvesExtremes()
    {
        var r = EllipseConvergence.Run(new EllipseConvergenceSettings(Points: 21));
        Assert.Equal(r.Curves.Max(c => c.MaxRelativeError), r.MaxRelativeError);
        Assert.Equal(r.Curves.Max(c => c.MaxQDrift), r.MaxQDrift);
        Assert.Equal(r.Curves.Select(c => c.NumericalLoss[^1]), r.FinalLosses);
        Assert.Equal(r.FinalLosses.Max() / r.FinalLosses.Min(), r.FinalLossSpread);
        Assert.True(r.FinalLossSpread > 1, "different Q give different final losses when a ≠ 1");
    }

    [Fact]
    public void Run_Defaults_NumericalFlowMatchesClosedFormAndConservesQ()
    {
        var r = EllipseConvergence.Run(new EllipseConvergenceSettings());
        Assert.Equal(5, r.Curves.Count);
        foreach (var c in r.Curves)
        {
            Assert.True(c.MaxRelativeError < 1e-9, $"Q = {c.Q}: L(t) error {c.MaxRelativeError:E2}");
            Assert.True(c.MaxQDrift < 1e-9, $"Q = {c.Q}: Q drift {c.MaxQDrift:E2}");
            Assert.Equal(1, c.ClosedFormLoss[0], 1e-12);
            // Independently of the experiment's own error metric: L(t) = w₁₀²e^{−4t} + a·w₂₀²e^{−4at} from the curve's start,
            // and Q = w₁^{2a}/w₂² (F.1). Dormand–Prince at rtol 1e-12 on a smooth decay: 1e-9 leaves a margin of 10³.
            double a = r.Settings.A;
            Close.Assert(c.Q, Math.Pow(c.W10, 2 * a) / (c.W20 * c.W20), 1e-12);
            for (int k = 0; k < r.Times.Length; k++)
            {
                double t = r.Times[k], closed = c.W10 * c.W10 * Math.Exp(-4 * t) + a * c.W20 * c.W20 * Math.Exp(-4 * a * t);
                Close.Assert(closed, c.ClosedFormLoss[k], 1e-13, 0, $"closed form at t = {t}");
                Close.Assert(closed, c.NumericalLoss[k], 1e-9, 0, $"numerical flow at t = {t}");
            }
        }
    }

    /// <summary>
    /// At fixed L₀ a larger Q puts more of the loss on w₁, which decays as e^{−4t}: slower than w₂ (e^{−4at}) when a &gt; 1 and
    /// faster when a &lt; 1, so the loss at the end is ordered by Q one way or the other; for the circle it does not depend on Q.
    /// </summary>
    [Theory]
    [InlineData(2.0, 1.0)]
    [InlineData(0.5, -1.0)]
    public void Run_LossAtTheEnd_IsOrderedByQ(double a, double expectedRho)
    {
        var r = EllipseConvergence.Run(new EllipseConvergenceSettings(A: a, Points: 11));
        Assert.Equal(expectedRho, RankCorrelation.Spearman(r.Curves.Select(c => c.Q).ToArray(), r.Curves.Select(c => c.ClosedFormLoss[^1]).ToArray()), 1e-12);
    }

    [Fact]
    public void Run_Circle_LossDoesNotDependOnQ()
    {
        var r = EllipseConvergence.Run(new EllipseConvergenceSettings(A: 1, Points: 11));
        foreach (var c in r.Curves) Assert.Equal(r.Curves[0].NumericalLoss[^1], c.NumericalLoss[^1], 1e-12);
    }

    [Fact]
    public void Validate_NonPositiveQ_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => EllipseConvergence.Run(new EllipseConvergenceSettings(ConservedQuantities: [1, -2])));
}
