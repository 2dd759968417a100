using Noether.Nn;
using Noether.Symmetry;

namespace Noether.Tests.Symmetry;

public class SymmetryDiscoveryTests
{
    public static TheoryData<string, int, int> Cases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (int h in new[] { 2, 3, 5, 8 })
        {
            int so = h * (h - 1) / 2;
            data.Add("identity", h, h * h);
            data.Add("relu", h, h);
            data.Add("leaky-relu:0.1", h, h);
            data.Add("radial", h, so);
            data.Add("radial-inverse-square", h, so + 1);
            data.Add("tanh", h, 0);
            data.Add("sigmoid", h, 0);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Discover_BuiltInActivation_RecoversIndependentlyDerivedDimension(string name, int h, int expected)
    {
        var sigma = Activation.Parse(name);
        var result = SymmetryDiscovery.Discover(sigma, h, new Random(1000 + h));
        Assert.Equal(expected, result.Dimension);
        Assert.Equal(expected, SymmetryDiscovery.KnownDimension(sigma, h));
        Assert.True(result.MaxInvarianceResidual <= 1e-9, $"basis residual {result.MaxInvarianceResidual:E3}");
        Assert.True(result.Gap > 1e3, $"the rank cut is not clear: gap {result.Gap:G3}");
    }

    [Fact]
    public void Discover_Identity_BasisHasAEqualMinusB()
    {
        var result = SymmetryDiscovery.Discover(Activation.Identity, 3, new Random(7));
        Assert.True(result.MaxPairResidual < 1e-9, $"‖A + B‖ up to {result.MaxPairResidual:E3}");
    }

    [Fact]
    public void Discover_Relu_BasisIsDiagonalWithAEqualMinusB()
    {
        var result = SymmetryDiscovery.Discover(Activation.Relu, 4, new Random(8));
        Assert.True(result.MaxPairResidual < 1e-9);
        Assert.True(result.MaxOffDiagonal < 1e-9);
    }

    [Fact]
    public void Discover_Radial_BasisIsAntisymmetric()
    {
        var result = SymmetryDiscovery.Discover(Activation.RadialInverseOnePlusNorm, 4, new Random(9));
        Assert.True(result.MaxPairResidual < 1e-9);
        Assert.True(result.MaxSymmetricTraceless < 1e-9);
    }

    [Fact]
    public void Discover_TooFewSamples_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SymmetryDiscovery.Discover(Activation.Tanh, 3, new Random(1), new DiscoveryOptions(Samples: 5)));
    }
}
