using Noether.Data;
using Noether.Experiments;
using Noether.Interop;
using Noether.Landscape;
using Noether.Symmetry.Census;
using Noether.Tensors;
using Noether.Tests.Interop;

namespace Noether.Tests.Experiments;

/// <summary>
/// Teleportation inside training (<see cref="TrainingTeleport{T}"/> in <see cref="GraphTrainer{T}"/>) and the ICLR 2024
/// protocol's comparison: time to reach by hand-computed interpolation, the t-interval against the tabulated quantile,
/// and the verdict rule on constructed runs that pass and fail it.
/// </summary>
public sealed class TeleportProtocolTests
{
    private static string Mlp => Path.Combine(OnnxZooTests.Folder, "mlp_teleport.onnx");

    // 40 Fashion-MNIST training images (the first ones), float32 as the loader gives them.
    private static ImageDataset Data(int count) => FashionMnist.Load(FashionMnist.DefaultDirectory, train: true).Subset(0, count);

    private static (GraphTrainer<double> Trainer, TrainingTeleport<double>? Teleport) Trainer(string optimizer, TrainingTeleportSettings? teleport, ImageDataset data)
    {
        var onnx = OnnxModel.Load(Mlp);
        var graph = onnx.ToGraph<double>();
        var trainer = new GraphTrainer<double>(graph, new GraphTrainingSettings(optimizer, Epochs: 2, BatchSize: 10, LearningRate: 0.01), [1, 28, 28], 4);
        if (teleport is null) return (trainer, null);
        var (twin, sites) = ImportedModelTraining.TeleportSites(onnx, Mlp, "model");
        var t = new TrainingTeleport<double>(twin, sites, teleport, data, [1, 28, 28]);
        trainer.AttachTeleport(t);
        return (trainer, t);
    }

    private static void Train(GraphTrainer<double> trainer, ImageDataset data, int epochs)
    {
        var rng = new Random(3);
        for (int e = 0; e < epochs; e++) trainer.TrainEpoch(Minibatches.Create<double>(data, 10, rng));
    }

    [Fact]
    public void TeleportsInsideTraining_RunBeforeTheFirstStepsOfTheirEpoch_KeepTheLoss_AndRaiseTheGradientNorm()
    {
        var data = Data(40);
        var (trainer, teleport) = Trainer("adam", new TrainingTeleportSettings([1], Count: 3, Steps: 4, BatchSize: 20, LearningRate: 0.01, SquaredNormCap: double.PositiveInfinity), data);
        Train(trainer, data, 2);
        Assert.Equal(8, trainer.Steps);
        Assert.Equal([4L, 5L, 6L], teleport!.Records.Select(r => r.Step));
        Assert.All(teleport.Records, r =>
        {
            Assert.Equal(1, r.Epoch);
            Assert.True(r.Result.RelativeLossChange <= GradientNormTeleport.LossTolerance, $"loss changed by {r.Result.RelativeLossChange:E2}");
            Assert.True(r.Result.Gain > 1, $"‖∇L‖² gain {r.Result.Gain}");
            Assert.Equal(4, r.Result.HessianVectorProducts);
        });
        // Each teleport replaced the optimiser: Adam's own step count restarted after the last one (steps 6 and 7 since).
        Assert.Equal(2, trainer.Optimizer.StepCount);
    }

    [Fact]
    public void ATeleportThatDoesNotMove_LeavesStatelessSgd_OnTheBaselineTrajectory()
    {
        // The teleport batches come from their own generator and plain SGD has no state to reset: a teleport stopped by
        // its cap before any move leaves the run bit for bit on the baseline's trajectory (same minibatches, same steps).
        var data = Data(40);
        var (baseline, _) = Trainer("sgd", null, data);
        var (teleported, teleport) = Trainer("sgd", new TrainingTeleportSettings([0], Count: 2, Steps: 3, BatchSize: 20, SquaredNormCap: 1e-300), data);
        Train(baseline, data, 2);
        Train(teleported, data, 2);
        Assert.All(teleport!.Records, r => Assert.True(r.Result.Capped && r.Result.Steps == 0));
        for (int i = 0; i < baseline.Optimizer.Parameters.Count; i++)
            Assert.Equal(baseline.Optimizer.Parameters[i].Value.Data, teleported.Optimizer.Parameters[i].Value.Data);
    }

    [Fact]
    public void Settings_RefuseEpochsBeyondTheRun_TooManyTeleports_AndABatchLargerThanTheData()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingTeleportSettings([2]).Validate(epochs: 2, batchesPerEpoch: 10, trainCount: 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingTeleportSettings([0], Count: 11).Validate(2, 10, 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingTeleportSettings([0], BatchSize: 1001).Validate(2, 10, 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingTeleportSettings([0], Steps: 0).Validate(2, 10, 1000));
        Assert.Throws<ArgumentException>(() => new TrainingTeleportSettings([0, 0]).Validate(2, 10, 1000));
    }

    [Fact]
    public void MonitorAndTeleport_AreNotCombined()
    {
        var data = Data(40);
        var (trainer, _) = Trainer("sgd", new TrainingTeleportSettings([0], Count: 1, BatchSize: 20), data);
        var sites = SymmetryCensus.Take(OnnxModel.Load(Mlp).ToGraph<double>()).Sites;
        Assert.Throws<ArgumentException>(() => trainer.AttachMonitor(sites, 1));
    }

    [Fact]
    public void TimeToReach_InterpolatesInTimeBetweenTheEpochsAroundTheCrossing()
    {
        double[] seconds = [10, 20, 30, 40];
        double[] loss = [1.0, 0.8, 0.5, 0.4];
        // 0.6 is crossed between epoch 2 (0.8 at 20 s) and epoch 3 (0.5 at 30 s): 20 + 10·(0.8 − 0.6)/(0.8 − 0.5).
        Assert.Equal(20 + 10 * 0.2 / 0.3, TeleportProtocol.TimeToReach(seconds, loss, 0.6), 12);
        Assert.Equal(10, TeleportProtocol.TimeToReach(seconds, loss, 1.5)); // already there after the first epoch
        Assert.Equal(40, TeleportProtocol.TimeToReach(seconds, loss, 0.4)); // its own final loss, at the end
        Assert.True(double.IsNaN(TeleportProtocol.TimeToReach(seconds, loss, 0.3)));
    }

    [Fact]
    public void TInterval_UsesStudentsQuantile()
    {
        // t₀.₉₇₅ with 4 degrees of freedom is 2.7764451 (statistical tables); values 1..5: mean 3, s = √2.5.
        var i = TInterval.Of([1.0, 2, 3, 4, 5]);
        double half = 2.7764451051977987 * Math.Sqrt(2.5) / Math.Sqrt(5);
        Assert.Equal(3, i.Mean, 12);
        Assert.Equal(3 - half, i.Lower, 9);
        Assert.Equal(3 + half, i.Upper, 9);
        Assert.True(double.IsNaN(TInterval.Of([1.0]).Upper));
        Assert.True(double.IsNaN(TInterval.Of([1.0, double.NaN]).Upper));
    }

    private static TeleportProtocolRun Run(bool teleport, int seed, double[] loss, double[] seconds) => new("adam", seed, teleport, loss, seconds, 0.8, []);

    public static TheoryData<double[][], double[][], bool> Constructed => new()
    {
        // (per seed: baseline loss curve; per seed: teleport loss curve; faster?) — every run's epochs end at 1, 2, 3, 4 s.
        // Teleport reaches the baseline's final loss one epoch early on every seed: ΔT = −1 s, no spread.
        { [[1, 0.8, 0.6, 0.5], [1, 0.7, 0.6, 0.5], [1, 0.9, 0.7, 0.5]], [[0.8, 0.6, 0.5, 0.45], [0.8, 0.6, 0.5, 0.4], [0.9, 0.7, 0.5, 0.45]], true },
        // Teleport reaches it later on every seed: not faster.
        { [[1, 0.8, 0.6, 0.5], [1, 0.7, 0.6, 0.5]], [[1, 0.9, 0.7, 0.55], [1, 0.8, 0.7, 0.55]], false },
        // One seed much earlier, one later: the interval straddles 0.
        { [[1, 0.8, 0.6, 0.5], [1, 0.7, 0.6, 0.5]], [[0.5, 0.4, 0.3, 0.3], [1, 0.9, 0.8, 0.5]], false },
    };

    [Theory]
    [MemberData(nameof(Constructed))]
    public void Verdict_IsFasterOnlyWhenEverySeedReachesAndTheIntervalIsBelowZero(double[][] baseline, double[][] teleport, bool faster)
    {
        double[] seconds = [1, 2, 3, 4];
        var pairs = baseline.Select((b, s) => (Run(false, s, b, seconds), Run(true, s, teleport[s], seconds))).ToArray();
        var arm = TeleportProtocol.Compare("adam", pairs);
        Assert.Equal(faster, arm.Faster);
        var claim = TeleportProtocolClaims.Faster.Make([arm.Part], "constructed");
        Assert.Equal(faster ? Verdict.Reproduced : Verdict.NotReproduced, claim.Verdict);
    }

    [Fact]
    public void Verdict_IsNotFaster_WhenASeedNeverReachesTheTarget()
    {
        double[] seconds = [1, 2, 3, 4];
        var pairs = new[]
        {
            (Run(false, 0, [1, 0.8, 0.6, 0.5], seconds), Run(true, 0, [0.8, 0.6, 0.5, 0.4], seconds)),
            (Run(false, 1, [1, 0.8, 0.6, 0.5], seconds), Run(true, 1, [0.9, 0.8, 0.7, 0.6], seconds)),
        };
        var arm = TeleportProtocol.Compare("adam", pairs);
        Assert.Equal(1, arm.Reached);
        Assert.True(double.IsNaN(arm.Difference.Upper));
        Assert.False(arm.Faster);
    }

    [Fact]
    public void Initialize_DrawsPyTorchsLinearDistribution_PerSeed()
    {
        var graph = OnnxModel.Load(Mlp).ToGraph<float>();
        TeleportProtocol.Initialize(graph, 7);
        var first = graph.Parameters.Select(p => p.Value.ToDoubles()).ToArray();
        foreach (var p in graph.Parameters)
        {
            int fanIn = p.Value.Rank == 2 ? p.Value.Dim(1) : graph.Parameter(p.Name[..^5] + ".weight")!.Value.Dim(1);
            Assert.All(p.Value.ToDoubles(), v => Assert.True(Math.Abs(v) <= 1 / Math.Sqrt(fanIn), $"{p.Name}: {v}"));
        }
        TeleportProtocol.Initialize(graph, 7);
        Assert.Equal(first, graph.Parameters.Select(p => p.Value.ToDoubles()).ToArray());
        TeleportProtocol.Initialize(graph, 8);
        Assert.NotEqual(first[0], graph.Parameters[0].Value.ToDoubles());
    }
}
