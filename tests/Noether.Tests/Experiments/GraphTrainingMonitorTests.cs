using Noether.Experiments;
using Noether.Symmetry.Census;
using Noether.Tensors;
using Noether.Tests.Symmetry.Census;

namespace Noether.Tests.Experiments;

/// <summary>The census monitor inside graph training (what `train --model --monitor` runs): every step observed, every k-th kept.</summary>
public sealed class GraphTrainingMonitorTests
{
    [Theory]
    [InlineData("sgd", 0.9, true, 0.01)]
    [InlineData("sgd", 0.0, false, 0.0)]
    [InlineData("adamw", 0.0, false, 0.01)]
    public void Trainer_WithMonitor_KeepsEveryKthStepAndTheIdentityHolds(string optimizer, double momentum, bool nesterov, double decay)
    {
        var graph = SymmetryCensusTests.Load("mlp.onnx");
        var census = SymmetryCensus.Take(graph);
        var (x, labels) = SymmetryCensusTests.Batch(16);
        var settings = new GraphTrainingSettings(optimizer, Epochs: 1, BatchSize: 4, LearningRate: optimizer == "sgd" ? 0.05 : 1e-3,
            Momentum: momentum, Nesterov: nesterov, WeightDecay: decay);
        var trainer = new GraphTrainer<double>(graph, settings, [1, 28, 28], batchesPerEpoch: 6);
        trainer.AttachMonitor(census.Sites, every: 2);
        for (int k = 0; k < 6; k++)
        {
            int start = k * 4 % 13;
            trainer.TrainStep(Tensor<double>.FromDoubles(x.Data.AsSpan(start * 784, 4 * 784).ToArray(), [4, 1, 28, 28]), labels.Skip(start).Take(4).ToArray());
        }
        Assert.Equal(3 * census.Dimension, trainer.Monitored.Count);
        Assert.Equal([2L, 4L, 6L], trainer.Monitored.Select(s => s.Step).Distinct().ToArray());
        // The measured Q is the generator's quantity at the trainer's parameters (checked at the end against the graph).
        var last = trainer.Monitored.Where(s => s.Step == 6).ToArray();
        for (int i = 0; i < last.Length; i++)
            Assert.Equal(census.Sites.SelectMany(s => s.Generators).ElementAt(i).Conserved(n => graph.Parameter(n)!.Value.Data), last[i].Measured);
        foreach (var s in trainer.Monitored)
        {
            double identity = optimizer == "sgd" ? s.Residual : Math.Abs(s.Measured - s.Predicted - s.Breaking);
            Assert.True(identity <= 1e-12 * (1 + Math.Abs(s.Measured)), $"{optimizer} step {s.Step} {s.Site} {s.Generator}: {identity:E2}");
        }
    }
}
