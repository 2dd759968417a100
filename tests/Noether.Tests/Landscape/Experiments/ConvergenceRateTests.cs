using Noether.Experiments;
using Noether.Landscape;
using Noether.Nn;

namespace Noether.Tests.Landscape.Experiments;

public class ConvergenceRateTests
{
    private static ConvergenceRateSettings Small => new(Activations: [ActivationKind.Identity, ActivationKind.Tanh], Outputs: 3, Inputs: 4, Hidden: 8,
        StdsU: [0.05, 0.5], StdsV: [0.05, 0.5], LearningRate: 0.02, MaxSteps: 4000, Records: 40, Seed: 7);

    [Fact]
    public void Run_SmallSweep_ReportsConsistentRunsAndCorrelations()
    {
        var r = ConvergenceRate.Run(Small);
        Assert.Equal(8, r.Runs.Count);
        Assert.Equal(r.ZeroPredictorLoss * 1e-2, r.Threshold, 1e-15);
        foreach (var run in r.Runs)
        {
            Assert.Equal(run.InitialLoss, run.Losses[0]);
            Assert.Equal(run.FinalLoss, run.Losses[^1]);
            if (run.StepsToThreshold is { } s)
            {
                // The reported step is the first crossing: every loss recorded before it is still above the threshold.
                for (int i = 0; i < run.Steps.Length && run.Steps[i] < s; i++) Assert.True(run.Losses[i] > r.Threshold);
            }
            // GD drift of Q is O(η²) per step (Appendix D): small next to Q's spread here.
            Assert.True(Math.Abs(run.FinalQ - run.Q) < 0.05, $"{run.Activation}: ΔQ = {run.FinalQ - run.Q:G3}");
        }
        foreach (var c in r.Correlations)
        {
            var mine = r.Runs.Where(x => x.Activation == c.Activation).ToArray();
            double expected = RankCorrelation.Spearman(mine.Select(x => x.Q).ToArray(), mine.Select(x => (double)(x.StepsToThreshold ?? Small.MaxSteps + 1)).ToArray());
            Assert.Equal(expected, c.SpearmanCensored, 1e-14);
            Assert.Equal(4, c.Runs);
        }
    }

    [Fact]
    public void Run_SameSettings_IsDeterministic()
    {
        var a = ConvergenceRate.Run(Small with { Activations = [ActivationKind.Relu] });
        var b = ConvergenceRate.Run(Small with { Activations = [ActivationKind.Relu] });
        Assert.Equal(a.Runs.Select(x => x.Q), b.Runs.Select(x => x.Q));
        Assert.Equal(a.Runs.Select(x => x.FinalLoss), b.Runs.Select(x => x.FinalLoss));
    }

    [Fact]
    public void Validate_NoActivations_Throws() =>
        Assert.Throws<ArgumentException>(() => ConvergenceRate.Run(Small with { Activations = [] }));

    [Fact]
    public void Validate_RadialActivation_ThrowsNamingIt() =>
        Assert.Contains("activation = Radial: expected Identity", Assert.ThrowsAny<ArgumentException>(() => ConvergenceRate.Run(Small with { Activations = [ActivationKind.Radial] })).Message);
}
