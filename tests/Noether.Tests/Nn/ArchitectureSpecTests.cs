using Noether.Nn;

namespace Noether.Tests.Nn;

/// <summary>The architecture grammar of <c>--arch</c> and of a model file's noether.arch entry.</summary>
public class ArchitectureSpecTests
{
    public static TheoryData<string, string, int, string> ValidSpecs() => new()
    {
        // text, kind, layers (0 for the CNN), activation
        { "mlp:784-128-64-10:relu", "Mlp", 3, "Relu" },
        { "MLP:784-10-10", "Mlp", 2, "Relu" },
        { "mlp:784-300-10:leaky-relu=0.1", "Mlp", 2, "LeakyRelu" },
        { "mlp:3-2-1:leaky_relu:0", "Mlp", 2, "Relu" },
        { "mlp:3-2-1:leaky-relu=1", "Mlp", 2, "Identity" },
        { "mlp:3-2-1:linear", "Mlp", 2, "Identity" },
        { "spec-cnn", "SpecCnn", 0, "LeakyRelu" },
        { "spec-cnn:hidden=32,channels=16,slope=0.2", "SpecCnn", 0, "LeakyRelu" },
    };

    [Theory]
    [MemberData(nameof(ValidSpecs))]
    public void Parse_ValidText_Parses(string text, string kind, int layers, string activation)
    {
        var spec = ArchitectureSpec.Parse(text);
        Assert.Equal(kind, spec.Kind.ToString());
        Assert.Equal(layers, Math.Max(0, spec.Widths.Count - 1));
        Assert.Equal(activation, spec.Activation.ToString());
        if (text.Contains("=0.1", StringComparison.Ordinal)) Assert.Equal(0.1, spec.Slope);
        if (text.Contains("slope=0.2", StringComparison.Ordinal)) Assert.Equal(0.2, spec.Slope);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("cnn:3", "'cnn'")]
    [InlineData("mlp", "widths")]
    [InlineData("mlp:784-10", "at least two")]
    [InlineData("mlp:784--10", "width 1 ('')")]
    [InlineData("mlp:784-0-10", "width 1 ('0')")]
    [InlineData("mlp:784-5-10:swish", "'swish'")]
    [InlineData("mlp:784-5-10:leaky-relu=-1", "slope '-1'")]
    [InlineData("spec-cnn:hidden=0", "hidden '0'")]
    [InlineData("spec-cnn:size=27", "size 27 is odd")]
    [InlineData("spec-cnn:depth=3", "'depth=3'")]
    [InlineData("spec-cnn:hidden=3,hidden=4", "'hidden' is given twice")]
    public void Parse_Malformed_NamesThePart(string text, string part)
    {
        var e = Assert.Throws<ArgumentException>(() => ArchitectureSpec.Parse(text));
        Assert.Contains($"architecture '{text}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(part, e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The spec of a model (what noether train stores) parses back to the model's sizes and slope, and building it from the
    /// model's own tensors gives a network with the same outputs (an independent forward pass of the original).
    /// </summary>
    [Fact]
    public void Of_SpecCnn_RoundTripsThroughParseAndBuild()
    {
        var model = Models.SpecCnn<double>(new Random(4), inChannels: 1, imageSize: 6, classes: 3, channels: 2, hidden: 5, leakySlope: 0.25);
        var spec = ArchitectureSpec.Of(model);
        Assert.Equal("spec-cnn:in=1,size=6,channels=2,hidden=5,classes=3,slope=0.25", spec.Text);
        Assert.Equal(ArchitectureKind.SpecCnn, spec.Kind);
        Assert.Equal(ActivationKind.LeakyRelu, spec.Activation);
        Assert.Equal(0.25, spec.Slope);
        Assert.Equal(0.25, spec.ActivationFunction.Slope);
        var rebuilt = spec.Build(model.Parameters.Select(p => (p.Name, p.Value)).ToList(), "test");
        var x = Noether.Tensors.Tensor<double>.Zeros(2, 1, 6, 6);
        var random = new Random(5);
        for (int i = 0; i < x.Length; i++) x.Data[i] = random.NextDouble() - 0.5;
        Assert.Equal(model.Predict(x).Data, rebuilt.Predict(x).Data);
    }
}
