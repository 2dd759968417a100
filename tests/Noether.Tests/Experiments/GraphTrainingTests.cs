using Noether.Autodiff;
using Noether.Data;
using Noether.Experiments;
using Noether.Graphs;
using Noether.Interop;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Interop;
using Noether.Tests.Support;

namespace Noether.Tests.Experiments;

public sealed class GraphTrainingTests
{
    private static Graph<T> Load<T>(string file) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        OnnxModel.Load(Path.Combine(OnnxZooTests.Folder, file)).ToGraph<T>();

    [Fact]
    public void MlpFixture_OnFashionMnistSubset_LearnsWellAboveChance()
    {
        // 2000 training images, 2 epochs of SGD with momentum: a 784-32-… MLP from PyTorch's initialisation. Chance is
        // 10%; a linear classifier already gets ≈ 70% on Fashion-MNIST after this little training, so 55% on 1000 test
        // images cannot be reached by a model that does not learn, and the epoch-2 loss must be below epoch 1's.
        var train = FashionMnist.Load(FashionMnist.DefaultDirectory, train: true).Subset(0, 2000);
        var test = FashionMnist.Load(FashionMnist.DefaultDirectory, train: false).Subset(0, 1000);
        var graph = Load<float>("mlp.onnx");
        var before = graph.Parameters.Select(p => p.Value.ToDoubles()).ToArray();
        var settings = new GraphTrainingSettings("sgd", Epochs: 2, BatchSize: 64, LearningRate: 0.05, Momentum: 0.9, WeightDecay: 5e-4, Schedule: "cosine", Seed: 1);
        var result = GraphTraining.Run(graph, settings, train, test);
        Assert.Equal(2, result.Epochs.Count);
        Assert.Equal(2 * 32, result.Steps); // ⌈2000 / 64⌉ = 32 steps an epoch
        Assert.True(result.Epochs[1].TrainLoss < result.Epochs[0].TrainLoss, $"loss {result.Epochs[0].TrainLoss} → {result.Epochs[1].TrainLoss}");
        Assert.True(result.FinalTestAccuracy > 0.55, $"test accuracy {result.FinalTestAccuracy}");
        Assert.Contains(graph.Parameters, p => !p.Value.ToDoubles().SequenceEqual(before[graph.Parameters.ToList().IndexOf(p)]));
    }

    [Fact]
    public void SameSeed_GivesTheSameTrajectory()
    {
        var data = FashionMnist.Load(FashionMnist.DefaultDirectory, train: false).Subset(0, 300);
        var settings = new GraphTrainingSettings("adam", Epochs: 1, BatchSize: 50, LearningRate: 1e-3, Seed: 7);
        var a = Load<float>("mlp.onnx");
        var b = Load<float>("mlp.onnx");
        GraphTraining.Run(a, settings, data, data);
        GraphTraining.Run(b, settings, data, data);
        for (int i = 0; i < a.Parameters.Count; i++) Assert.Equal(a.Parameters[i].Value.ToDoubles(), b.Parameters[i].Value.ToDoubles());
    }

    [Fact]
    public void PooledSteps_EqualFreshArraySteps_BitForBit()
    {
        // From the second step on, a step's tensors reuse the last one's buffers; a buffer handed out while it is still in
        // use would change the result. ResNet-20 in float32 (Winograd convolutions, BatchNorm + ReLU, residual junctions,
        // gradient sums) trained 3 steps of SGD with momentum and weight decay both ways must give the same losses and end
        // with the same parameters, bit for bit.
        var data = FashionMnist.Load(FashionMnist.DefaultDirectory, train: true).Subset(0, 48);
        var batches = Minibatches.Create(data, 16, null, shuffle: false).ToList();
        var settings = new GraphTrainingSettings("sgd", Epochs: 1, BatchSize: 16, LearningRate: 0.1, Momentum: 0.9, WeightDecay: 5e-4);
        (double[] Losses, double[][] Parameters) Train(bool pool)
        {
            var graph = Load<float>("resnet20.onnx");
            var shape = GraphTrainer<float>.ModelSampleShape(graph, data.SampleShape, data.Source);
            var trainer = new GraphTrainer<float>(graph, settings, shape, batches.Count) { PoolStepTensors = pool };
            var losses = batches.Select(b => trainer.TrainStep(b.Inputs, b.Labels)).ToArray();
            return (losses, trainer.Optimizer.Parameters.Select(p => p.Value.ToDoubles()).ToArray());
        }
        var pooled = Train(pool: true);
        var fresh = Train(pool: false);
        Assert.Equal(fresh.Losses, pooled.Losses);
        Assert.True(fresh.Losses[2] != fresh.Losses[0], "the steps must change the model");
        for (int i = 0; i < fresh.Parameters.Length; i++) Assert.Equal(fresh.Parameters[i], pooled.Parameters[i]);
    }

    /// <summary>One BatchNormalization node (C = 2, ONNX momentum 0.8 = PyTorch's 0.2) followed by a global average pool.</summary>
    private static Graph<double> BatchNormGraph(double momentum)
    {
        var attributes = new Dictionary<string, GraphAttribute> { ["momentum"] = new() { Float = momentum }, ["epsilon"] = new() { Float = 1e-5 } };
        var nodes = new[]
        {
            new GraphNode("bn", "BatchNormalization", ["x", "gamma", "beta", "mean", "var"], ["y"], attributes),
            new GraphNode("flat", "Flatten", ["y"], ["logits"]),
        };
        var parameters = new[]
        {
            new Parameter<double>("gamma", Tensor<double>.FromDoubles([1.0, 2.0], 2)),
            new Parameter<double>("beta", Tensor<double>.FromDoubles([0.0, 0.5], 2)),
        };
        var constants = new Dictionary<string, HostTensor>
        {
            ["mean"] = new(ElementType.Double, [2], [0.1, -0.2]),
            ["var"] = new(ElementType.Double, [2], [1.5, 0.5]),
        };
        return new Graph<double>(nodes, [new GraphInput("x", ElementType.Double, [null, 2, 1, 3], ["batch", null, null, null])], ["logits"], parameters, constants, 15);
    }

    [Fact]
    public void BatchNorm_RunningStatistics_FollowPyTorchsUpdate()
    {
        // A batch of 2 samples, 2 channels, 1×3 pixels: each channel has n = 6 values. PyTorch (momentum p = 1 − 0.8):
        // running_mean ← (1 − p)·running_mean + p·mean, running_var ← (1 − p)·running_var + p·var·n/(n − 1).
        var graph = BatchNormGraph(0.8);
        double[] x = [1, 2, 3, 0, -1, 4, /* sample 2 */ 2, 2, 5, 1, 1, -3];
        var trainer = new GraphTrainer<double>(graph, new GraphTrainingSettings("sgd", Epochs: 1, LearningRate: 0.01), [2, 1, 3], 1);
        trainer.TrainStep(Tensor<double>.FromDoubles(x, 2, 2, 1, 3), [0, 5]);
        double[][] channel = [[1, 2, 3, 2, 2, 5], [0, -1, 4, 1, 1, -3]];
        double[] runningMean0 = [0.1, -0.2], runningVar0 = [1.5, 0.5];
        for (int c = 0; c < 2; c++)
        {
            double mean = channel[c].Average();
            double unbiased = channel[c].Sum(v => (v - mean) * (v - mean)) / 5;
            Close.Assert(0.8 * runningMean0[c] + 0.2 * mean, graph.Constants["mean"].Data[c], 1e-15, 0, $"running mean {c}");
            Close.Assert(0.8 * runningVar0[c] + 0.2 * unbiased, graph.Constants["var"].Data[c], 1e-15, 0, $"running var {c}");
            Close.Assert(graph.Constants["var"].Data[c], trainer.RunningStatistics.Single(p => p.Name == "var").Value[c], 1e-15);
        }
        // PyTorch itself (torch.nn.BatchNorm2d(2, momentum=0.2).double(), train(), the same batch and starting statistics)
        // ends with running_mean (0.58, −0.09333…) and running_var (1.58, 1.49333…).
        Close.Assert([0.58, -0.28 / 3], graph.Constants["mean"].Data, 1e-14);
        Close.Assert([1.58, 4.48 / 3], graph.Constants["var"].Data, 1e-14);
    }

    [Fact]
    public void BatchNorm_TrainsWithBatchStatistics_AndEvaluatesWithRunningOnes()
    {
        // Evaluation must use the running statistics: with the running mean and variance written by hand, the output of
        // sample 0 channel 0 pixel 0 is γ(x − μ_r)/√(σ²_r + ε) + β; training mode would normalise by the batch instead.
        var graph = BatchNormGraph(0.9);
        var trainer = new GraphTrainer<double>(graph, new GraphTrainingSettings("sgd", Epochs: 1, LearningRate: 0.01), [2, 1, 3], 1);
        var input = Tensor<double>.FromDoubles([1, 2, 3, 0, -1, 4, 2, 2, 5, 1, 1, -3], 2, 2, 1, 3);
        var eval = trainer.EvaluationGraph.Evaluate(input)[0];
        Close.Assert(1.0 * (1 - 0.1) / Math.Sqrt(1.5 + 1e-5) + 0.0, eval[0, 0], 1e-14);
        var train = trainer.TrainingGraph.Evaluate(input)[0];
        Close.Assert((1 - 2.5) / Math.Sqrt(9.5 / 6 + 1e-5), train[0, 0], 1e-12); // channel 0 = (1, 2, 3, 2, 2, 5): mean 2.5, biased variance 9.5/6
    }

    [Fact]
    public void ModelSampleShape_AcceptsEqualOrFlat_RefusesOthersNamingTheFileAndBothShapes()
    {
        var mlp = Load<float>("mlp.onnx");
        Assert.Equal([1, 28, 28], GraphTrainer<float>.ModelSampleShape(mlp, [1, 28, 28], "a.npy"));
        var e = Assert.Throws<ArgumentException>(() => GraphTrainer<float>.ModelSampleShape(mlp, [3, 32, 32], "cifar.bin"));
        Assert.Contains("cifar.bin", e.Message);
        Assert.Contains("3×32×32", e.Message);
        Assert.Contains("28×28", e.Message);
    }

    [Fact]
    public void Settings_RefuseInconsistentOptions()
    {
        Assert.Throws<ArgumentException>(() => new GraphTrainingSettings("lamb").Validate());
        Assert.ThrowsAny<ArgumentException>(() => new GraphTrainingSettings("adam", Momentum: 0.9).Validate());
        Assert.ThrowsAny<ArgumentException>(() => new GraphTrainingSettings("sgd", Nesterov: true).Validate());
        Assert.ThrowsAny<ArgumentException>(() => new GraphTrainingSettings("sgd", Epochs: 2, WarmupEpochs: 2).Validate());
    }
}
