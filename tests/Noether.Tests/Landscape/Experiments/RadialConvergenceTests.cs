using Noether.Experiments;

namespace Noether.Tests.Landscape.Experiments;

public class RadialConvergenceTests
{
    /// <summary>
    /// Acceptance on a short horizon (t = 1, three μ): the gradient flow (on the invariant spectral family) follows eq. 59 to
    /// 1e-6 relative, λᵢ drifts ≤ 1e-8 relative, and eq. 69 is never violated; GD at η = 1e-4 tracks the flow for large λ.
    /// </summary>
    [Fact]
    public void Run_ShortHorizon_FlowFollowsEquation59WithConservedLambda()
    {
        var s = new RadialConvergenceSettings(Scales: [0.5, 2, 10], LearningRate: 1e-4, Steps: 10_000, Records: 31, Seed: 3);
        var r = RadialConvergence.Run(s);
        Assert.Equal(5, r.SingularValues.Length);
        Assert.Equal(r.RecordedSteps.Length, r.Times.Length);
        Assert.Equal(0, r.Times[0]);
        Assert.Equal(1.0, r.Times[^1], 1e-12);
        foreach (var run in r.Runs)
        {
            Assert.True(run.MaxFlowDeviation <= 1e-6, $"μ = {run.Scale}: σ deviation {run.MaxFlowDeviation:E2}");
            Assert.True(run.MaxFlowLambdaDrift <= 1e-8, $"μ = {run.Scale}: λ drift {run.MaxFlowLambdaDrift:E2}");
            Assert.Equal(0, run.BoundViolations);
            // Leaving the spectral family is the only way the unrestricted flow can depart from eq. 59.
            if (run.UnrestrictedDeparture is not null) Assert.True(run.UnrestrictedMaxOffDiagonal > 1e-7, $"μ = {run.Scale}: departed with off-diagonal {run.UnrestrictedMaxOffDiagonal:E2}");
            else Assert.True(run.UnrestrictedMaxOffDiagonal < 1e-3);
            Assert.Null(run.DescentDivergedAtStep);
            Assert.Equal(run.Lambda.Sum(), run.Q, 1e-12);
            // The flow's loss never increases.
            for (int t = 1; t < run.FlowLoss.Length; t++) Assert.True(run.FlowLoss[t] <= run.FlowLoss[t - 1] * (1 + 1e-12));
        }
        // The result's aggregates: extremes over the runs, and the first record at ≤ 1% of the starting loss per run.
        Assert.Equal(r.Runs.Max(x => x.MaxFlowDeviation), r.MaxFlowDeviation);
        Assert.Equal(r.Runs.Max(x => x.MaxFlowLambdaDrift), r.MaxFlowLambdaDrift);
        Assert.Equal(0, r.BoundViolations);
        var times = r.FlowTimesToOnePercent;
        Assert.Equal(r.Runs.Count, times.Length);
        for (int k = 0; k < r.Runs.Count; k++)
        {
            var loss = r.Runs[k].FlowLoss;
            int first = Array.FindIndex(loss, l => l <= 1e-2 * loss[0]);
            Assert.Equal(first < 0 ? null : r.Times[first], times[k]);
        }
        if (times.Any(t => t is not null)) Assert.InRange(r.SpearmanQVsTimeToOnePercent, -1, 1);
        else Assert.True(double.IsNaN(r.SpearmanQVsTimeToOnePercent), "no run reached 1%: no ranking");
        // With λ ≥ ~0.5 the GD step η·(σ²+1)²/λ stays small, so GD tracks the flow.
        Assert.True(r.Runs[^1].MaxDescentDeviation < 1e-3, $"μ = 10: GD deviation {r.Runs[^1].MaxDescentDeviation:E2}");
    }

    [Fact]
    public void Validate_BadScale_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RadialConvergence.Run(new RadialConvergenceSettings(Scales: [0])));
}
