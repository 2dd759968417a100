using Noether.Autodiff;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Tests.Support;

namespace Noether.Tests.Nn;

/// <summary>
/// One <see cref="ActivationKind"/> serves the layer (Noether.Nn) and the symmetry machinery (Noether.Symmetry). This
/// file imports both namespaces and names the enum unqualified, which did not compile (CS0104, ambiguous reference)
/// while each namespace had an enum of its own.
/// </summary>
public class ActivationKindTests
{
    public static TheoryData<string, ActivationKind> ParsedKinds => new()
    {
        { "identity", ActivationKind.Identity },
        { "relu", ActivationKind.Relu },
        { "leaky-relu:0.1", ActivationKind.LeakyRelu },
        { "sigmoid", ActivationKind.Sigmoid },
        { "tanh", ActivationKind.Tanh },
        { "radial", ActivationKind.Radial },
        { "radial-inverse-square", ActivationKind.Radial },
    };

    [Fact]
    public void SymmetryActivation_Relu_HasTheSharedKindRelu() => Assert.Equal(ActivationKind.Relu, Activation.Relu.Kind);

    [Theory]
    [MemberData(nameof(ParsedKinds))]
    public void SymmetryActivation_Parse_GivesTheSharedKind(string name, ActivationKind expected) =>
        Assert.Equal(expected, Activation.Parse(name).Kind);

    [Fact]
    public void SymmetryActivation_Elementwise_IsCustom()
    {
        var exp = Activation.Elementwise("exp", Ops.Exp, Math.Exp, Math.Exp);
        Assert.Equal(ActivationKind.Custom, exp.Kind);
        Assert.True(exp.IsElementwise);
        Assert.False(Activation.RadialInverseOnePlusNorm.IsElementwise);
    }

    [Theory]
    [InlineData(ActivationKind.Radial)]
    [InlineData(ActivationKind.Custom)]
    public void Layer_KindWithoutAFixedFunction_ThrowsNamingKind(ActivationKind kind)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new Activation<double>(kind));
        Assert.Equal("kind", e.ParamName);
        Assert.Contains($"kind = {kind}: expected Identity, Relu, LeakyRelu, Sigmoid or Tanh", e.Message);
    }

    /// <summary>
    /// Every value of the enum either builds a layer, whose output then matches the symmetry activation of the same kind
    /// entry by entry (its scalar σ, written independently of the tape ops the layer uses), or is rejected naming
    /// <c>kind</c>; exactly the five elementwise kinds build.
    /// </summary>
    [Fact]
    public void EveryKind_BuildsALayerAgreeingWithTheSymmetryActivation_OrIsRejected()
    {
        var z = LayerTests.Random(7, 3, 5);
        for (int i = 0; i < z.Length; i++) z.Data[i] *= 4;
        var built = new List<ActivationKind>();
        foreach (var kind in Enum.GetValues<ActivationKind>())
        {
            Activation<double> layer;
            try
            {
                layer = new Activation<double>(kind, "act", 0.1);
            }
            catch (ArgumentException e)
            {
                Assert.Equal("kind", e.ParamName);
                continue;
            }
            built.Add(kind);
            Assert.Equal(kind, layer.Kind);
            var sigma = kind switch
            {
                ActivationKind.Identity => Activation.Identity,
                ActivationKind.Relu => Activation.Relu,
                ActivationKind.LeakyRelu => Activation.LeakyRelu(0.1),
                ActivationKind.Sigmoid => Activation.Sigmoid,
                ActivationKind.Tanh => Activation.Tanh,
                _ => throw new InvalidOperationException($"the layer accepted {kind}, which has no fixed function"),
            };
            Assert.Equal(kind, sigma.Kind);
            var y = layer.Predict(z);
            for (int i = 0; i < z.Length; i++) Close.Assert(sigma.Value(z.Data[i]), y.Data[i], 1e-15, 1e-16, $"{kind}({z.Data[i]})");
        }
        Assert.Equal([ActivationKind.Identity, ActivationKind.Relu, ActivationKind.LeakyRelu, ActivationKind.Sigmoid, ActivationKind.Tanh], built);
    }
}
