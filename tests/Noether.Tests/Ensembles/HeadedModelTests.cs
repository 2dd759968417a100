using Noether.Data;
using Noether.Ensembles;
using Noether.Graphs;
using Noether.Interop;
using Noether.Nn;
using Noether.Serialization;
using Noether.Tensors;
using Noether.Tests.Interop;
using Noether.Tests.Support;

namespace Noether.Tests.Ensembles;

/// <summary>
/// Ensembles on imported graphs (<see cref="HeadedModel{T}.Of(Graph{T}, int[])"/>): the zoo's SPEC CNN export gives the
/// same members as the SPEC CNN path on the same weights, the ε = 0 group member is the graph itself, and a graph without
/// such a head is refused saying what it ends with.
/// </summary>
public sealed class HeadedModelTests
{
    internal static Graph<double> Zoo(string file) => OnnxModel.Load(Path.Combine(OnnxZooTests.Folder, file)).ToGraph<double>();

    private static readonly Lazy<ImageDataset> Images = new(() => FashionMnist.Load(FashionMnist.DefaultDirectory, train: false).Subset(0, 512));

    /// <summary>The first 512 Fashion-MNIST test images (the zoo's models take 1×28×28 inputs with 10 classes).</summary>
    internal static ImageDataset ZooImages() => Images.Value;

    /// <summary>
    /// A batch for central differences: Fashion-MNIST's many exact 0 (and 1) pixels make all-equal patches, hence ties in a
    /// max-pool window where the loss has only one-sided derivatives; 0.05 + 0.9·x + 0.04·u (u uniform, seeded) keeps the
    /// images in [0, 1] without ties.
    /// </summary>
    internal static (Tensor<double> X, int[] Labels) TieFree(int first, int count)
    {
        var (x, labels) = Images.Value.Gather<double>(Enumerable.Range(first, count).ToArray());
        var rng = new Random(first);
        for (int i = 0; i < x.Length; i++) x.Data[i] = 0.05 + 0.9 * x.Data[i] + 0.04 * rng.NextDouble();
        return (x, labels);
    }

    /// <summary>A SPEC CNN holding the graph's parameters (conv, hidden, output; weights and biases in the export's order).</summary>
    private static SpecCnn<double> SpecCnnOf(Graph<double> graph, double slope)
    {
        var cnn = Models.SpecCnn<double>(new Random(0), inChannels: 1, imageSize: 28, classes: 10, channels: 16, hidden: 32, leakySlope: slope);
        Assert.Equal(cnn.Parameters.Count, graph.Parameters.Count);
        for (int i = 0; i < cnn.Parameters.Count; i++)
        {
            Assert.Equal(cnn.Parameters[i].Value.ShapeArray, graph.Parameters[i].Value.ShapeArray);
            graph.Parameters[i].Value.Data.AsSpan().CopyTo(cnn.Parameters[i].Value.Data);
        }
        return cnn;
    }

    [Theory]
    [InlineData(EnsembleBuilderKind.Group)]
    [InlineData(EnsembleBuilderKind.GroupInverse)]
    [InlineData(EnsembleBuilderKind.Random)]
    [InlineData(EnsembleBuilderKind.Shuffle)]
    [InlineData(EnsembleBuilderKind.PermutationInterpolation)]
    public void SpecCnnExport_GivesTheMembersOfTheSpecCnnPath(EnsembleBuilderKind builder)
    {
        var graph = Zoo("spec_cnn.onnx");
        var headed = HeadedModel<double>.Of(graph, [1, 28, 28]);
        Assert.Equal(32, headed.Hidden);
        Assert.Equal(ActivationKind.LeakyRelu, headed.Activation.Kind);
        // The SPEC CNN path (its own conv + max-pool kernel) on the same weights and the graph's LeakyReLU slope (float32 0.01).
        var cnn = SpecCnnOf(graph, headed.Activation.Slope);
        var data = ZooImages();
        var options = new EnsembleOptions(builder, 0.3, Members: 4, Seed: 9);
        var fromGraph = EnsembleBuilder.Build(headed, data, options);
        var fromCnn = EnsembleBuilder.Build(cnn, data, options);
        Assert.Equal(fromCnn.Count, fromGraph.Count);
        Assert.True(fromGraph.Count > 0);
        var (x, _) = data.Gather<double>(Enumerable.Range(0, 64).ToArray());
        var expected = fromCnn.MemberLogits(x);
        var actual = fromGraph.MemberLogits(x);
        // Both trunks are float64 evaluations of the same function (only the summation order differs, ~1e-15); group and shuffle
        // members carry π(g, H₀) = σ(H₀)σ(gH₀)⁺, whose pseudo-inverse (condition numbers up to ~1e3 here) amplifies that by its
        // condition number, still far below 1e-10 of the logits' scale.
        double scale = expected.Data.Max(Math.Abs);
        Close.Assert(expected, actual, 0, 1e-10 * scale, $"{builder} member logits");
    }

    [Theory]
    [InlineData("spec_cnn.onnx", 32, ActivationKind.LeakyRelu)]
    [InlineData("mlp_teleport.onnx", 10, ActivationKind.LeakyRelu)] // features: the first Gemm and LeakyReLU
    public void GroupMembersAtEpsilonZero_AreTheGraphItself(string file, int hidden, ActivationKind activation)
    {
        var graph = Zoo(file);
        var headed = HeadedModel<double>.Of(graph, [1, 28, 28]);
        Assert.Equal(hidden, headed.Hidden);
        Assert.Equal(activation, headed.Activation.Kind);
        var data = ZooImages();
        var ensemble = EnsembleBuilder.Build(headed, data, new EnsembleOptions(EnsembleBuilderKind.Group, 0, Members: 3, Seed: 2));
        Assert.Equal(3, ensemble.Count);
        var (x, _) = data.Gather<double>(Enumerable.Range(100, 48).ToArray());
        // The whole graph, run by the graph executor (output 0): g = I and k = h make π(I, H₀) = σ(H₀)σ(H₀)⁺ = I.
        var logits = graph.Evaluate(x)[0];
        double scale = logits.Data.Max(Math.Abs);
        var members = ensemble.MemberLogits(x);
        int b = x.Dim(0), c = 10;
        for (int m = 0; m < ensemble.Count; m++)
        {
            var member = Tensor<double>.Zeros(b, c);
            for (int i = 0; i < b; i++) members.Data.AsSpan((i * ensemble.Count + m) * c, c).CopyTo(member.Data.AsSpan(i * c, c));
            Close.Assert(logits, member, 0, 1e-10 * scale, $"{file} member {m}");
        }
        Assert.Equal(EnsembleVoting.Combine(logits.Reshape(b, 1, c), EnsembleVote.Mode), ensemble.Predict(x));
    }

    [Fact]
    public void AGraphWithoutTwoLayerHead_IsRefused_SayingWhatItEndsWith()
    {
        // ResNet-20: … → global average pool → Flatten → one Gemm.
        var e = Assert.Throws<ArgumentException>(() => HeadedModel<double>.Of(Zoo("resnet20.onnx"), [1, 28, 28]));
        Assert.Contains("no ensemble head", e.Message);
        Assert.Contains(GraphHead.LookedFor, e.Message);
        Assert.Contains("GlobalAveragePool", e.Message);
        Assert.Contains("Gemm", e.Message);
    }

    [Fact]
    public void SamplesThatDoNotFitTheGraphInput_AreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => HeadedModel<double>.Of(Zoo("spec_cnn.onnx"), [3, 32, 32]));
        Assert.Contains("3×32×32", e.Message);
        Assert.Contains("1×28×28", e.Message);
    }
}
