using Noether.Experiments;
using Noether.Symmetry;

namespace Noether.Tests.Experiments;

public sealed class DiscoveredAlgebraChecksTests
{
    private static DiscoveredAlgebra Algebra(int dimension, double[] singularValues, double invariance = 0, double pair = 1, double offDiagonal = 1,
        double symmetricTraceless = 1, int? known = null) =>
        new("test", 2, dimension, [], singularValues, 1e-10, 1, 10, invariance, pair, offDiagonal, symmetricTraceless, known);

    [Fact]
    public void Structure_NoSymmetry_SaysSo() => Assert.Equal("{0}: no continuous symmetry", Algebra(0, [2, 1]).Structure());

    [Fact]
    public void Structure_SmallResiduals_ReadAsTheBasisShape()
    {
        Assert.Equal("A = −B, B diagonal", Algebra(1, [2, 1, 0], pair: 0, offDiagonal: 0).Structure());
        Assert.Equal("A = −B, B antisymmetric", Algebra(1, [2, 1, 0], pair: 0, symmetricTraceless: 1e-8).Structure());
        Assert.Equal("A + B ≠ 0, B antisymmetric + cI", Algebra(1, [2, 1, 0], symmetricTraceless: 1e-8).Structure());
        Assert.Equal("A + B ≠ 0, B general", Algebra(1, [2, 1, 0]).Structure());
    }

    [Fact]
    public void RelativeSingularValues_SitOnEitherSideOfTheRankCut()
    {
        var a = Algebra(1, [4, 2, 1e-12]);
        Assert.Equal(0.5, a.LastKeptRelative());
        Assert.Equal(1e-12 / 4, a.FirstNullRelative());
        Assert.Null(Algebra(0, [4, 2]).FirstNullRelative());
        Assert.Null(Algebra(2, [0, 0]).LastKeptRelative());
    }

    [Fact]
    public void IsInvariant_ResidualAboveTheLimit_IsFalse()
    {
        Assert.True(Algebra(1, [1, 0], invariance: DiscoveredAlgebraChecks.InvarianceLimit).IsInvariant());
        Assert.False(Algebra(1, [1, 0], invariance: 2 * DiscoveredAlgebraChecks.InvarianceLimit).IsInvariant());
        Assert.True(Algebra(0, [1, 1], invariance: 1).IsInvariant());
    }

    [Fact]
    public void MatchesKnown_ComparesWithTheDerivedDimension()
    {
        Assert.True(Algebra(1, [1, 0], known: 1).MatchesKnown());
        Assert.False(Algebra(2, [1, 0, 0], known: 1).MatchesKnown());
        Assert.True(Algebra(2, [1, 0, 0]).MatchesKnown());
    }
}
