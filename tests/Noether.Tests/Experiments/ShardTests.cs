using CsCheck;
using Noether.Experiments;
using Noether.Nn;

namespace Noether.Tests.Experiments;

public class ShardTests
{
    [Theory]
    [InlineData("1/1", 1, 1)]
    [InlineData("2/4", 2, 4)]
    [InlineData("4/4", 4, 4)]
    [InlineData(" 3 / 10 ", 3, 10)]
    public void Parse_ValidText_GivesIndexAndCount(string text, int index, int count)
    {
        var shard = Shard.Parse(text);
        Assert.Equal(index, shard.Index);
        Assert.Equal(count, shard.Count);
        Assert.Equal($"{index}/{count}", shard.ToString());
    }

    [Theory]
    [InlineData("0/2")]
    [InlineData("3/2")]
    [InlineData("abc")]
    [InlineData("1/0")]
    [InlineData("")]
    [InlineData("1/2/3")]
    [InlineData("-1/2")]
    [InlineData("1.5/2")]
    [InlineData("2")]
    [InlineData("1/99999999999")]
    public void Parse_BadText_ThrowsNamingTheTextAndTheExpectedForm(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => Shard.Parse(text));
        Assert.Contains($"'{text}'", e.Message);
        Assert.Contains("i/n with 1 ≤ i ≤ n", e.Message);
        Assert.False(Shard.TryParse(text, out _));
    }

    [Fact]
    public void Constructor_OutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shard(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shard(4, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shard(1, 0));
    }

    [Fact]
    public void ItemsOf_AnyGrid_ShardsPartitionItInOrderWithSizesDifferingByAtMostOne()
    {
        Gen.Int[1, 5000].SelectMany(n => Gen.Select(Gen.Const(n), Gen.Int[1, n])).Sample((gridSize, count) =>
        {
            var ranges = Enumerable.Range(1, count).Select(i => new Shard(i, count).ItemsOf(gridSize)).ToArray();
            // In order and without gaps: shard k starts where shard k − 1 ends; together they cover 0..N−1 exactly once.
            int next = 0;
            foreach (var r in ranges)
            {
                if (r.Start != next) return false;
                next = r.End;
            }
            if (next != gridSize) return false;
            int min = ranges.Min(r => r.Length), max = ranges.Max(r => r.Length);
            // n ≤ N: no shard is empty, and the sizes are ⌊N/n⌋ or ⌈N/n⌉.
            return min >= 1 && max - min <= 1 && min == gridSize / count;
        });
    }

    [Fact]
    public void ItemsOf_EveryItem_IsInExactlyOneShard()
    {
        Gen.Int[1, 300].SelectMany(n => Gen.Select(Gen.Const(n), Gen.Int[1, n], Gen.Int[0, n - 1])).Sample((gridSize, count, item) =>
            Enumerable.Range(1, count).Count(i => new Shard(i, count).ItemsOf(gridSize).Contains(item)) == 1);
    }

    [Fact]
    public void ParseOfToString_RoundTrips()
    {
        Gen.Int[1, 100_000].SelectMany(n => Gen.Select(Gen.Int[1, n], Gen.Const(n))).Sample((i, n) => Shard.Parse(new Shard(i, n).ToString()) == new Shard(i, n));
    }

    [Fact]
    public void ItemsOf_MoreShardsThanItems_ThrowsNamingBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => new Shard(2, 7).ItemsOf(6));
        Assert.Contains("2/7", e.Message);
        Assert.Contains("6 grid items", e.Message);
        Assert.Equal(new ShardRange(0, 6), Shard.ItemsOf(null, 6));
    }

    // The experiments: running the shards one by one gives, item for item, the unsharded result (a pure function of
    // the settings and the item), so no item may draw from a generator shared with the items before it.
    [Fact]
    public void Xavier_Shards_ConcatenateToTheUnshardedSamples()
    {
        var settings = new XavierSettings
        {
            Shapes = [new(6, 4, 5), new(3, 7, 2), new(5, 5, 5)], Activations = ["relu", "tanh", "sigmoid"], IntegralFormShape = new(4, 6, 3), Draws = 40, Seed = 11,
        };
        var whole = XavierExperiment.Run(settings);
        var all = whole.Linear.Concat(whole.IntegralForms).ToArray();
        Assert.Equal(XavierExperiment.GridSize(settings), all.Length);
        foreach (int count in new[] { 2, 4, 6 })
        {
            var parts = Enumerable.Range(1, count).SelectMany(i =>
            {
                var r = XavierExperiment.Run(settings with { Shard = new Shard(i, count) });
                return r.Linear.Concat(r.IntegralForms);
            }).ToArray();
            Assert.Equal(all.Length, parts.Length);
            for (int k = 0; k < all.Length; k++)
            {
                Assert.Equal(all[k].Label, parts[k].Label);
                Assert.Equal(all[k].Values, parts[k].Values); // exact: the same draws
                Assert.Equal(all[k].MeanZScore, parts[k].MeanZScore);
            }
        }
    }

    [Fact]
    public void Xavier_TupleDraws_DoNotDependOnTheOtherTuples()
    {
        var one = XavierExperiment.Run(new XavierSettings { Shapes = [new(6, 4, 5)], Activations = [], Draws = 30, Seed = 2 });
        var two = XavierExperiment.Run(new XavierSettings { Shapes = [new(6, 4, 5), new(3, 3, 3)], Activations = [], Draws = 30, Seed = 2 });
        var other = XavierExperiment.Run(new XavierSettings { Shapes = [new(6, 4, 5)], Activations = [], Draws = 30, Seed = 3 });
        Assert.Equal(one.Linear[0].Values, two.Linear[0].Values);
        Assert.NotEqual(one.Linear[0].Values, other.Linear[0].Values); // the seed still matters
        // The two tuples draw from different streams (their Q would otherwise be equal for equal shapes).
        var same = XavierExperiment.Run(new XavierSettings { Shapes = [new(4, 4, 4), new(4, 4, 4)], Activations = [], Draws = 30, Seed = 2 });
        Assert.NotEqual(same.Linear[0].Values, same.Linear[1].Values);
    }

    [Fact]
    public void Orbit_Shards_ConcatenateToTheUnshardedRows()
    {
        var settings = new OrbitTableSettings { Shapes = [new(3, 2, 4), new(2, 7, 3), new(4, 4, 4)], Seed = 4 };
        var whole = OrbitTableExperiment.Run(settings).Rows;
        var parts = Enumerable.Range(1, 4).SelectMany(i => OrbitTableExperiment.Run(settings with { Shard = new Shard(i, 4) }).Rows).ToArray();
        Assert.Equal(whole, parts); // record equality: every number equal
    }

    [Fact]
    public void Drift_Shards_ConcatenateToTheUnshardedCurves()
    {
        var settings = new DriftSettings
        {
            M = 2, H = 5, N = 3, Steps = 200, Records = 15, LearningRates = [0.1, 0.01], Activations = ["relu", "sigmoid"], FlowTime = 2, Seed = 8,
        };
        var whole = DriftExperiment.Run(settings).Curves;
        Assert.Equal(DriftExperiment.GridSize(settings), whole.Count);
        var parts = Enumerable.Range(1, 4).SelectMany(i => DriftExperiment.Run(settings with { Shard = new Shard(i, 4) }).Curves).ToArray();
        Assert.Equal(whole.Count, parts.Length);
        for (int k = 0; k < whole.Count; k++)
        {
            Assert.Equal((whole[k].Activation, whole[k].LearningRate, whole[k].IsGradientFlow), (parts[k].Activation, parts[k].LearningRate, parts[k].IsGradientFlow));
            Assert.Equal(whole[k].Loss, parts[k].Loss);
            Assert.Equal(whole[k].Q, parts[k].Q);
            Assert.Equal(whole[k].MaxAbsDeltaNormalisedQ, parts[k].MaxAbsDeltaNormalisedQ);
            Assert.Equal(whole[k].Eq41, parts[k].Eq41);
        }
    }

    [Fact]
    public void Sharpness_Shards_ConcatenateToTheUnshardedRuns()
    {
        // 2 σ × 3 stds = 6 items, 30 parameters: GD is short, the Hessians tiny.
        var settings = new SharpnessSpectrumSettings(Activations: [ActivationKind.Identity, ActivationKind.Tanh], Outputs: 3, Inputs: 2, Hidden: 6,
            Stds: [0.2, 0.5, 0.9], MaxSteps: 3000, GradientTolerance: 1e-8, Seed: 5);
        var whole = SharpnessSpectrum.Run(settings);
        Assert.Equal(SharpnessSpectrum.GridSize(settings), whole.Runs.Count);
        foreach (int count in new[] { 2, 4 })
        {
            var parts = Enumerable.Range(1, count).SelectMany(i => SharpnessSpectrum.Run(settings with { Shard = new Shard(i, count) }).Runs).ToArray();
            Assert.Equal(whole.Runs.Count, parts.Length);
            for (int k = 0; k < parts.Length; k++)
            {
                var (a, b) = (whole.Runs[k], parts[k]);
                Assert.Equal((a.Activation, a.Std, a.Q, a.FinalQ, a.Steps, a.FinalLoss, a.GradientNorm, a.Summary, a.FibreDimension, a.GaussNewtonError),
                    (b.Activation, b.Std, b.Q, b.FinalQ, b.Steps, b.FinalLoss, b.GradientNorm, b.Summary, b.FibreDimension, b.GaussNewtonError));
                Assert.Equal(a.Eigenvalues, b.Eigenvalues); // exact
            }
            // The per-σ correlations, computed again over the joined runs, are the unsharded ones.
            Assert.Equal(whole.Correlations, SharpnessSpectrum.Assemble(settings, parts).Correlations);
        }
        // Sanity: the items differ (distinct inits per std), so equal lists are not trivially equal.
        Assert.NotEqual(whole.Runs[0].Q, whole.Runs[1].Q);
    }

    [Fact]
    public void ConvergenceRate_Shards_ConcatenateToTheUnshardedRuns()
    {
        // 2 σ × 3 σ_U × 2 σ_V = 12 items, 4000 steps of a 36-parameter net each.
        var settings = new ConvergenceRateSettings(Activations: [ActivationKind.Identity, ActivationKind.Tanh], Outputs: 3, Inputs: 4, Hidden: 6,
            StdsU: [0.05, 0.3, 0.8], StdsV: [0.05, 0.5], LearningRate: 0.02, MaxSteps: 4000, Records: 30, Seed: 9);
        var whole = ConvergenceRate.Run(settings);
        Assert.Equal(ConvergenceRate.GridSize(settings), whole.Runs.Count);
        foreach (int count in new[] { 5, 12 })
        {
            var shards = Enumerable.Range(1, count).Select(i => ConvergenceRate.Run(settings with { Shard = new Shard(i, count) })).ToArray();
            var parts = shards.SelectMany(r => r.Runs).ToArray();
            Assert.Equal(whole.Runs.Count, parts.Length);
            for (int k = 0; k < parts.Length; k++)
            {
                var (a, b) = (whole.Runs[k], parts[k]);
                Assert.Equal((a.Activation, a.StdU, a.StdV, a.Q, a.FinalQ, a.InitialLoss, a.FinalLoss, a.StepsToThreshold, a.Diverged),
                    (b.Activation, b.StdU, b.StdV, b.Q, b.FinalQ, b.InitialLoss, b.FinalLoss, b.StepsToThreshold, b.Diverged));
                Assert.Equal(a.Steps, b.Steps);
                Assert.Equal(a.Losses, b.Losses); // exact: the same trajectory
            }
            // Every shard used the unsharded run's threshold (one value for all σ), and the joined runs give its correlations.
            Assert.All(shards, r => Assert.Equal(whole.Threshold, r.Threshold));
            var joined = ConvergenceRate.Assemble(settings, parts);
            Assert.Equal(whole.Correlations, joined.Correlations);
            Assert.Equal((whole.Threshold, whole.ZeroPredictorLoss), (joined.Threshold, joined.ZeroPredictorLoss));
        }
        // The zero-predictor loss is L(Y, 0) = ‖Y‖²/(m·k), computed here from Y drawn as the experiment draws it.
        var y = Noether.Nn.Init.Gaussian(Noether.Tensors.Tensor<double>.Zeros(3, 4), 1, new Random(9));
        Assert.Equal(Noether.Tensors.TensorOps.Dot(y, y) / 12, whole.ZeroPredictorLoss, 1e-14);
        Assert.NotEqual(whole.Runs[0].Q, whole.Runs[1].Q);
    }
}
