using Noether.Experiments;
using Noether.Nn;

namespace Noether.Tests.Experiments;

public class ExperimentTests
{
    private static readonly DriftSettings SmallDrift = new()
    {
        M = 3, H = 8, N = 4, Steps = 3000, Records = 40, LearningRates = [0.1, 0.01], Activations = ["identity", "relu", "tanh"],
        Loss = SquaredErrorLoss.Mean, FlowTime = 30, Seed = 5,
    };

    [Fact]
    public void Drift_SmallSetting_FlowConservesAndGradientDescentDriftsWithEta()
    {
        var result = DriftExperiment.Run(SmallDrift);
        Assert.Equal(9, result.Curves.Count);
        foreach (var name in new[] { "identity", "relu", "tanh" })
        {
            var curves = result.Curves.Where(c => c.Activation == name).ToArray();
            var flow = curves.Single(c => c.IsGradientFlow);
            var big = curves.Single(c => c.LearningRate == 0.1);
            var small = curves.Single(c => c.LearningRate == 0.01);
            Assert.True(flow.MaxAbsDeltaNormalisedQ <= 1e-9, $"{name}: flow drift {flow.MaxAbsDeltaNormalisedQ:E3}");
            Assert.False(big.Diverged);
            // Each GD step moves Q by O(η²), over O(1/η) steps: the drift grows with η and is far above the flow's.
            Assert.True(big.MaxAbsDeltaNormalisedQ > 3 * small.MaxAbsDeltaNormalisedQ, $"{name}: {big.MaxAbsDeltaNormalisedQ:E3} vs {small.MaxAbsDeltaNormalisedQ:E3}");
            Assert.True(small.MaxAbsDeltaNormalisedQ > 100 * flow.MaxAbsDeltaNormalisedQ);
            Assert.True(big.FinalLoss < big.Loss[0], $"{name}: GD did not reduce the loss");
            Assert.Equal(0, big.Step[0]);
            Assert.Equal(SmallDrift.Steps, big.Step[^1]);
            Assert.Equal(big.Q.Length, big.DeltaNormalisedQ.Length);
            Assert.Equal(0.0, big.DeltaNormalisedQ[0]);
            if (name == "tanh") Assert.Null(big.Eq41);
            else
            {
                var e = big.Eq41!;
                Assert.Equal(SmallDrift.Steps, e.Checks);
                Assert.True(e.MaxErrorOverMagnitude <= 1e-14, $"{name}: eq. 41 error {e.MaxErrorOverMagnitude:E3}");
                Assert.Equal(0, e.BoundViolations);
                Assert.True(e.ResolvableChecks == 0 || e.MaxRelativeError <= 1e-10);
            }
        }
    }

    [Fact]
    public void Drift_SameSettings_GiveIdenticalResults()
    {
        var settings = SmallDrift with { Steps = 200, Activations = ["sigmoid"], FlowTime = 2 };
        var a = DriftExperiment.Run(settings);
        var b = DriftExperiment.Run(settings with { Parallelism = 2 });
        for (int i = 0; i < a.Curves.Count; i++) Assert.Equal(a.Curves[i].DeltaNormalisedQ, b.Curves[i].DeltaNormalisedQ);
    }

    [Fact]
    public void Drift_ReportsProgressUpToTotal()
    {
        var reports = new List<ExperimentProgress>();
        DriftExperiment.Run(SmallDrift with { Steps = 400, Activations = ["identity"], FlowTime = 1 }, new SyncProgress(reports.Add));
        Assert.NotEmpty(reports);
        Assert.Equal(reports[^1].Total, reports[^1].Completed);
    }

    [Fact]
    public void Drift_RadialActivation_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => DriftExperiment.Run(SmallDrift with { Activations = ["radial"] }));
        Assert.Contains("elementwise", e.Message);
    }

    [Fact]
    public void Xavier_SmallSetting_MeansWithinThreeStandardErrors()
    {
        var result = XavierExperiment.Run(new XavierSettings { Shapes = [new(20, 10, 30), new(10, 20, 10)], Draws = 300, IntegralFormShape = new(20, 20, 20), Seed = 3 });
        Assert.All(result.Linear, s => Assert.True(s.WithinThreeStandardErrors, $"{s.Label}: z = {s.MeanZScore:F2}"));
        Assert.All(result.IntegralForms, s => Assert.True(s.WithinThreeStandardErrors, $"{s.Label}: z = {s.MeanZScore:F2}"));
        Assert.Equal(5.0, result.Linear[0].PredictedMean);
        Assert.Equal(10.0, result.Linear[0].PaperMean);
        Assert.Equal(300, result.Linear[0].Values.Length);
    }

    [Fact]
    public void XavierScore_SmallSetting_ScoresEverySampleInGridOrderWithVarianceWithinThreeStandardErrors()
    {
        var result = XavierExperiment.Run(new XavierSettings { Shapes = [new(20, 10, 30), new(10, 20, 10)], Draws = 300, IntegralFormShape = new(20, 20, 20), Seed = 3 });
        var scores = XavierExperiment.Score(result);
        Assert.Equal(result.Linear.Concat(result.IntegralForms), scores.Select(s => s.Sample));
        Assert.Equal(result.Linear.Count, scores.Count(s => s.Figure == "Fig. 4"));
        var linear = scores.Where(s => s.Figure == "Fig. 4").ToArray();
        Assert.All(linear, s => Assert.True(s.VariancePass, $"{s.Sample.Label}: variance z = {s.VarianceZ:F2}"));
        // (mean − m + h)/SE: the paper's eq. 47 is off by ½(m − h), far outside 3 SE at 300 draws.
        Assert.All(linear, s => Assert.True(Math.Abs(s.PaperZ) > 3, $"{s.Sample.Label}: paper z = {s.PaperZ:F2}"));
    }

    [Fact]
    public void Xavier_RadialActivation_Throws()
    {
        Assert.Throws<ArgumentException>(() => XavierExperiment.Run(new XavierSettings { Shapes = [], Draws = 10, Activations = ["radial"] }));
    }

    [Fact]
    public void OrbitTable_SmallShapes_AllMatchCorrectedAndPaperDiffersOnlyAboveMaxMN()
    {
        var result = OrbitTableExperiment.Run(new OrbitTableSettings { Shapes = [new(3, 2, 4), new(2, 7, 3), new(3, 9, 2), new(4, 4, 4)] });
        Assert.Equal(12, result.Rows.Count);
        Assert.All(result.Rows, r => Assert.True(r.MatchesCorrected, $"{r.Shape} {r.Group}: {r.Measured} vs {r.Corrected}"));
        Assert.All(result.Rows.Where(r => r.PaperDiffers), r => Assert.True(r.Shape.H > Math.Max(r.Shape.M, r.Shape.N)));
        Assert.Contains(result.Rows, r => r.PaperDiffers);
    }

    [Fact]
    public void Discover_SmallWidths_AllMatchKnown()
    {
        var result = DiscoverExperiment.Run(new DiscoverSettings { Widths = [2, 3] });
        Assert.Equal(14, result.Algebras.Count);
        Assert.True(result.AllMatchKnown);
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("identity")]
    [InlineData("radial")]
    public void SymmetryCheck_LinearGroup_InvariantAndControlIsNot(string activation)
    {
        var r = SymmetryCheckExperiment.Run(new SymmetryCheckSettings { Activation = activation, Draws = 10 });
        var linear = r.Linear!;
        Assert.True(linear.MaxLossInvarianceError <= 1e-10, $"{linear.MaxLossInvarianceError:E3}");
        Assert.True(linear.MaxInfinitesimalResidual <= 1e-10, $"{linear.MaxInfinitesimalResidual:E3}");
        Assert.True(linear.MinControlLossChange > 1e-6, $"control {linear.MinControlLossChange:E3}");
        Assert.True(r.Nonlinear.Checked > 0);
        Assert.True(r.Nonlinear.MaxOutputErrorOnBatch <= 1e-8);
        Assert.True(r.Nonlinear.MaxCompositionError <= 1e-8);
        Assert.True(r.Nonlinear.MedianOutputChangeOnFreshBatch > 1e-3);
    }

    [Fact]
    public void SymmetryCheck_Tanh_HasNoLinearGroupButNonlinearActionHolds()
    {
        var r = SymmetryCheckExperiment.Run(new SymmetryCheckSettings { Activation = "tanh", Widths = [6, 5, 4], BatchSize = 3, Draws = 8 });
        Assert.Null(r.Linear);
        Assert.Equal(8, r.Nonlinear.Checked + r.Nonlinear.Refused);
        Assert.True(r.Nonlinear.MaxOutputErrorOnBatch <= 1e-8);
        Assert.Equal(Math.Sqrt(2), r.Nonlinear.ExpectedProjectionDistance, 1e-12);
        Assert.Equal(Math.Sqrt(2), r.Nonlinear.IdentityProjectionDistance, 1e-10);
    }

    [Fact]
    public void SymmetryCheck_ReluSquareCase_MeasuresTheIdentityProjectionAtTheFirstUsableDraw()
    {
        // ReLU with k = h: σ(Z) is often rank-deficient and π refused; the identity axiom π(I, Z) = I (distance
        // √(h − k) = 0) is still measured at the first draw where π is defined, as long as any draw was checked.
        var r = SymmetryCheckExperiment.Run(new SymmetryCheckSettings { Activation = "relu", Widths = [8, 6, 6, 3], BatchSize = 6, Draws = 20 });
        Assert.True(r.Nonlinear.Checked > 0 && r.Nonlinear.Refused > 0, $"{r.Nonlinear.Checked} checked, {r.Nonlinear.Refused} refused");
        Assert.Equal(0, r.Nonlinear.ExpectedProjectionDistance);
        Assert.True(r.Nonlinear.IdentityProjectionDistance <= 1e-10, $"‖π(I,Z) − I‖_F = {r.Nonlinear.IdentityProjectionDistance}");
    }

    [Fact]
    public void SymmetryCheck_BatchLargerThanLayer_ThrowsNamingBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => SymmetryCheckExperiment.Run(new SymmetryCheckSettings { Widths = [6, 3, 2], BatchSize = 5 }));
        Assert.Contains("k ≤ 3", e.Message);
        Assert.Contains("k = 5", e.Message);
    }

    private sealed class SyncProgress(Action<ExperimentProgress> action) : IProgress<ExperimentProgress>
    {
        public void Report(ExperimentProgress value) => action(value);
    }
}
