using Noether.Experiments;
using Noether.Nn;

namespace Noether.Tests.Experiments;

public sealed class FormatTests
{
    [Fact]
    public void Numbers_AreInvariantAndKeepNaN()
    {
        Assert.Equal("0.123", Format.G(0.12346));
        Assert.Equal("0.1235", Format.G(0.12346, 4));
        Assert.Equal("NaN", Format.G(double.NaN));
        Assert.Equal("1.23e-04", Format.Sci(1.2345e-4));
        Assert.Equal("NaN", Format.Sci(double.NaN));
        Assert.Equal("3.142", Format.Fixed(Math.PI));
        Assert.Equal("3.1", Format.Fixed(Math.PI, 1));
        Assert.Equal("0.5", Format.Inv($"{0.5}"));
    }

    [Fact]
    public void Percentages_AreSignedPointsOrPercentAndDashForNaN()
    {
        Assert.Equal("85.21%", Format.Pct(0.8521));
        Assert.Equal("–", Format.Pct(double.NaN));
        Assert.Equal("+1.20", Format.Points(0.012));
        Assert.Equal("−0.35", Format.Points(-0.0035));
        Assert.Equal("–", Format.Points(double.NaN));
    }

    [Fact]
    public void Name_IsTheStoredActivationName()
    {
        Assert.Equal(["identity", "relu", "leaky-relu", "sigmoid", "tanh", "radial", "custom"],
            new[] { ActivationKind.Identity, ActivationKind.Relu, ActivationKind.LeakyRelu, ActivationKind.Sigmoid, ActivationKind.Tanh, ActivationKind.Radial, ActivationKind.Custom }
                .Select(Format.Name));
        Assert.Throws<ArgumentOutOfRangeException>(() => Format.Name((ActivationKind)99));
    }
}
