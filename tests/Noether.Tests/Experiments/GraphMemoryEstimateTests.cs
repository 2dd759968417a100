using Noether.Autodiff;
using Noether.Experiments;
using Noether.Graphs;
using Noether.Interop;
using Noether.Tensors;
using Noether.Tests.Interop;

namespace Noether.Tests.Experiments;

/// <summary>The memory estimates of imported graph models: the recorded values a forward pass holds, train --model, curvature --model.</summary>
public class GraphMemoryEstimateTests
{
    /// <summary>
    /// x [b, 1, 3] → Flatten → MatMul W [3, 4] → Add bias [4] → Relu → MatMul W2 [4, 2]: one recorded op per node, the Flatten a
    /// view of x's buffer.
    /// </summary>
    private static Graph<double> SmallGraph()
    {
        var rng = new Random(3);
        Parameter<double> P(string name, params int[] shape) =>
            new(name, Tensor<double>.FromDoubles(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => rng.NextDouble() - 0.5).ToArray(), shape));
        GraphNode[] nodes =
        [
            new("flat", "Flatten", ["x"], ["f"]),
            new("mm1", "MatMul", ["f", "w"], ["m"]),
            new("bias", "Add", ["m", "b"], ["a"]),
            new("relu", "Relu", ["a"], ["r"]),
            new("mm2", "MatMul", ["r", "w2"], ["y"]),
        ];
        return new Graph<double>(nodes, [new GraphInput("x", ElementType.Double, [null, 1, 3], ["batch", null, null])], ["y"],
            [P("w", 3, 4), P("b", 4), P("w2", 4, 2)], new Dictionary<string, HostTensor>(), 17);
    }

    [Fact]
    public void RecordedValues_SmallGraph_IsTheHandCountOfItsActivations()
    {
        // Per sample: the input (3; the Flatten shares its buffer), the product (4), the biased product (4), the ReLU (4), the
        // logits (2) = 17. Fixed: the parameters the tape binds, 12 + 4 + 8 = 24.
        var (perSample, fixedValues) = MemoryEstimate.RecordedValues(SmallGraph(), [1, 3]);
        Assert.Equal(17, perSample);
        Assert.Equal(24, fixedValues);
    }

    [Fact]
    public void RecordedValues_AreWhatAForwardPassOfThatBatchHolds()
    {
        // An independent count on a batch of 5: the values of every node output and of the input, by running the graph and
        // summing the shapes of its outputs as a second graph whose outputs are all of them (Flatten's counted once).
        var graph = SmallGraph();
        var everything = new Graph<double>(graph.Nodes, graph.Inputs, ["x", "m", "a", "r", "y"], graph.Parameters, graph.Constants, graph.Opset);
        var tape = new Tape<double>();
        var run = everything.Run(tape, [tape.Constant(Tensor<double>.Zeros(5, 1, 3))]);
        long held = run.Outputs.Sum(o => (long)o.Variable!.Value.Length) + graph.Parameters.Sum(p => (long)p.Length);
        var (perSample, fixedValues) = MemoryEstimate.RecordedValues(graph, [1, 3]);
        Assert.Equal(held, 5 * perSample + fixedValues);
    }

    [Fact]
    public void RecordedValues_AModelWithTwoInputs_IsRefused()
    {
        var g = SmallGraph();
        var two = new Graph<double>(g.Nodes, [.. g.Inputs, new GraphInput("z", ElementType.Double, [null, 3], ["batch", null])], g.Outputs, g.Parameters, g.Constants, g.Opset);
        Assert.Contains("2 inputs", Assert.Throws<ArgumentException>(() => MemoryEstimate.RecordedValues(two, [1, 3])).Message);
    }

    [Fact]
    public void GraphTraining_ClosedForm()
    {
        // 1000 parameters, 17 values per sample and 24 fixed, float32, batch 64 of 100 training samples, SGD without momentum:
        // the recorded values are GraphTrainingValueCopies × 4 bytes × (64 · 17 + 24); the model 1000 × (12 + 4 · (2 + 0 + 2)).
        var need = MemoryEstimate.GraphTraining(new GraphTrainingSettings("sgd", BatchSize: 64), 1000, (17, 24), false, false, 100, []);
        Assert.Equal(MemoryEstimate.RuntimeBytes + MemoryEstimate.GraphTrainingValueCopies * 4 * (64 * 17 + 24) + 1000 * (12 + 4 * 4), need.Bytes, 6);
        // A batch larger than the data holds only the data; float64 doubles the values; Adam adds two moments; the monitor its copies.
        var clamped = MemoryEstimate.GraphTraining(new GraphTrainingSettings("sgd", BatchSize: 4096), 1000, (17, 24), false, false, 100, []);
        var full = MemoryEstimate.GraphTraining(new GraphTrainingSettings("sgd", BatchSize: 100), 1000, (17, 24), false, false, 100, []);
        Assert.Equal(full.Bytes, clamped.Bytes);
        var wide = MemoryEstimate.GraphTraining(new GraphTrainingSettings("sgd", BatchSize: 64), 1000, (17, 24), true, false, 100, []);
        Assert.Equal(MemoryEstimate.GraphTrainingValueCopies * 4 * (64 * 17 + 24) + 1000 * 4 * 4, wide.Bytes - need.Bytes, 6);
        var adam = MemoryEstimate.GraphTraining(new GraphTrainingSettings("adam", BatchSize: 64, LearningRate: 1e-3), 1000, (17, 24), false, false, 100, []);
        Assert.Equal(2 * 4 * 1000, adam.Bytes - need.Bytes, 6);
        var monitored = MemoryEstimate.GraphTraining(new GraphTrainingSettings("sgd", BatchSize: 64), 1000, (17, 24), false, true, 100, []);
        Assert.Equal(MemoryEstimate.MonitorBytesPerParameter * 1000, monitored.Bytes - need.Bytes, 6);
    }

    [Fact]
    public void GraphTraining_TheDataTermsAreAddedAsGiven()
    {
        var data = MemoryEstimate.ImageData("fashion-mnist", 1000).ToArray();
        // Both splits (70 000 images of 784 float32 and a label), the IDX loading buffers (4 bytes a training pixel) and the
        // 1000-image subset's copy.
        Assert.Equal(70_000 * (4 * 784 + 4.0) + 4.0 * 60_000 * 784 + 1000 * (4 * 784 + 4.0), data.Sum(t => t.Bytes));
        var need = MemoryEstimate.GraphTraining(new GraphTrainingSettings(), 1000, (17, 24), false, false, 1000, data);
        var bare = MemoryEstimate.GraphTraining(new GraphTrainingSettings(), 1000, (17, 24), false, false, 1000, []);
        Assert.Equal(data.Sum(t => t.Bytes), need.Bytes - bare.Bytes, 3);
        Assert.Equal(16 * 100 * (4 + 28) + 16 * 4.0, MemoryEstimate.TensorData(16, 100).Sum(t => t.Bytes));
    }

    [Fact]
    public void Curvature_VectorsImagesAndProducts()
    {
        // k = 5: max(20, 20) + 1 basis vectors, 32 probe vectors and products, 4 work vectors and k Ritz vectors = 62 vectors.
        var a = MemoryEstimate.Curvature(1000, (17, 24), 1000, 16, 8, 5);
        Assert.Equal(62 * 8 * 1000.0, Assert.Single(a.Terms, t => t.Name.StartsWith("62 vectors", StringComparison.Ordinal)).Bytes);
        Assert.Equal(16 * 784 * 8.0, Assert.Single(a.Terms, t => t.Name == "16 images as float64").Bytes);
        var products = Assert.Single(a.Terms, t => t.Name.StartsWith("Hessian-vector products", StringComparison.Ordinal));
        Assert.Equal(MemoryEstimate.HessianProductValueCopies * 8 * (8 * 17 + 24), products.Bytes);
        // k = 50: the basis grows to 2k + 10 + 1.
        Assert.Single(MemoryEstimate.Curvature(1000, (17, 24), 1000, 16, 8, 50).Terms, t => t.Name.StartsWith("197 vectors", StringComparison.Ordinal));
        // A batch larger than the images holds only the images.
        Assert.Equal(MemoryEstimate.Curvature(1000, (17, 24), 1000, 16, 16, 5).Bytes, MemoryEstimate.Curvature(1000, (17, 24), 1000, 16, 64, 5).Bytes);
    }

    private const double MiB = 1 << 20;

    [Theory]
    // docs/reliability.md (Memory estimates): peak RSS of `train --model` (one epoch, Fashion-MNIST, --train-limit twice the batch),
    // re-measured after the BatchNorm/ReLU fusion (scripts/measure-memory-estimates.sh, Release).
    [InlineData("resnet20.onnx", false, 32, 705)]
    [InlineData("resnet20.onnx", false, 128, 1087)]
    [InlineData("resnet20.onnx", true, 256, 3370)]
    [InlineData("transformer.onnx", false, 128, 701)]
    [InlineData("transformer.onnx", false, 2048, 2447)]
    [InlineData("mlp.onnx", false, 4096, 493)]
    public void GraphTraining_FitsTheMeasuredPeaks(string model, bool float64, int batch, double peakMiB)
    {
        var onnx = OnnxModel.Load(Path.Combine(OnnxZooTests.Folder, model));
        var options = new GraphOptions { BatchNorm = BatchNormMode.Training };
        var (values, parameters) = float64 ? Values(onnx.ToGraph<double>(options)) : Values(onnx.ToGraph<float>(options));
        var settings = new GraphTrainingSettings(model == "transformer.onnx" ? "adamw" : "sgd", BatchSize: batch);
        double estimate = MemoryEstimate.GraphTraining(settings, parameters, values, float64, false, 2 * batch, MemoryEstimate.ImageData("fashion-mnist", 2 * batch)).Bytes;
        // The aim: peak ≤ 1.25 × estimate and estimate ≤ 2 × peak.
        Assert.InRange(estimate, peakMiB * MiB / 1.25, 2 * peakMiB * MiB);
    }

    [Theory]
    // docs/reliability.md: peak RSS of `curvature --model … --images B --batch-size B --top-k 1 --probes 2 --density-probes 0 --single-batches 0`
    // (after the fusion).
    [InlineData("resnet20.onnx", 32, 1461)]
    [InlineData("resnet20.onnx", 128, 4324)]
    [InlineData("mlp.onnx", 4096, 688)]
    public void Curvature_FitsTheMeasuredPeaks(string model, int batch, double peakMiB)
    {
        var graph = OnnxModel.Load(Path.Combine(OnnxZooTests.Folder, model)).ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
        long n = graph.Parameters.Sum(p => (long)p.Length);
        double estimate = MemoryEstimate.Curvature(n, MemoryEstimate.RecordedValues(graph, [1, 28, 28]), n, batch, batch, 1).Bytes;
        Assert.InRange(estimate, peakMiB * MiB / 1.25, 2 * peakMiB * MiB);
    }

    [Theory]
    // docs/reliability.md: peak RSS of `symmetries --model … --batch B [--discover]` (Release, after the fusion).
    [InlineData("resnet20.onnx", 64, false, 951)]
    [InlineData("resnet20.onnx", 256, false, 3580)]
    [InlineData("transformer.onnx", 8, false, 190)]
    [InlineData("transformer.onnx", 256, false, 449)]
    [InlineData("mlp.onnx", 8, true, 1434)]
    [InlineData("transformer.onnx", 8, true, 695)]
    public void Census_CoversTheMeasuredPeaks(string model, int batch, bool discover, double peakMiB)
    {
        var graph = OnnxModel.Load(Path.Combine(OnnxZooTests.Folder, model)).ToGraph<double>(new GraphOptions());
        var census = Noether.Symmetry.Census.SymmetryCensus.Take(graph);
        double estimate = MemoryEstimate.Census(graph, census, batch, discover ? new Noether.Symmetry.Census.DiscoveryOptions() : null)!.Bytes;
        // peak ≤ 1.25 × estimate always; estimate ≤ 2 × peak only without discovery (its rows are an upper bound) and beyond
        // the fixed terms (a tiny batch is dominated by them).
        Assert.True(peakMiB * MiB <= 1.25 * estimate, $"peak {peakMiB} MiB above 1.25 × the estimate {estimate / MiB:F0} MiB");
        if (!discover && batch >= 64) Assert.True(estimate <= 2 * peakMiB * MiB, $"estimate {estimate / MiB:F0} MiB above twice the peak {peakMiB} MiB");
    }

    [Theory]
    // docs/reliability.md: peak RSS of `model show resnet20.onnx --batch B` (Release).
    [InlineData(256, 431)]
    [InlineData(2048, 3066)]
    public void GraphForward_FitsTheMeasuredPeaks(int batch, double peakMiB)
    {
        var graph = OnnxModel.Load(Path.Combine(OnnxZooTests.Folder, "resnet20.onnx")).ToGraph<float>();
        double estimate = MemoryEstimate.GraphForward(graph.Parameters.Sum(p => (long)p.Length), MemoryEstimate.RecordedValues(graph, [1, 28, 28]), batch).Bytes;
        Assert.InRange(estimate, peakMiB * MiB / 1.25, 2 * peakMiB * MiB);
    }

    private static ((long, long) Values, long Parameters) Values<T>(Graph<T> graph) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        (MemoryEstimate.RecordedValues(graph, [1, 28, 28]), graph.Parameters.Sum(p => (long)p.Length));

    [Fact]
    public void InvalidCounts_AreRefusedNamingThem()
    {
        Assert.Equal("values", Assert.Throws<ArgumentOutOfRangeException>(() => MemoryEstimate.Curvature(10, (0, 0), 10, 1, 1, 1)).ParamName);
        Assert.Equal("modelParameters", Assert.Throws<ArgumentOutOfRangeException>(() => MemoryEstimate.Curvature(10, (1, 0), 5, 1, 1, 1)).ParamName);
        Assert.Equal("trainSamples", Assert.Throws<ArgumentOutOfRangeException>(() => MemoryEstimate.GraphTraining(new GraphTrainingSettings(), 10, (1, 0), false, false, 0, [])).ParamName);
        Assert.Equal("samples", Assert.Throws<ArgumentOutOfRangeException>(() => MemoryEstimate.TensorData(0, 10)).ParamName);
    }
}
