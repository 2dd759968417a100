using Noether.Landscape;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

public class RankCorrelationTests
{
    [Fact]
    public void Spearman_MonotoneTransform_IsOne() =>
        Close.Assert(1, RankCorrelation.Spearman([1, 2, 3, 10, 11], [Math.Exp(1), Math.Exp(2), Math.Exp(3), Math.Exp(10), Math.Exp(11)]), 1e-15);

    [Fact]
    public void Spearman_Reversed_IsMinusOne() => Close.Assert(-1, RankCorrelation.Spearman([1, 2, 3], [3, 2, 1]), 1e-15);

    [Fact]
    public void Spearman_NoTies_MatchesTheSumOfSquaredRankDifferencesFormula()
    {
        double[] x = [0.3, -1, 4, 2.5, 7, 0.1], y = [1, 0, 3, 5, 4, 2];
        var rx = RankCorrelation.Ranks(x);
        var ry = RankCorrelation.Ranks(y);
        double d2 = rx.Zip(ry, (a, b) => (a - b) * (a - b)).Sum();
        int n = x.Length;
        Close.Assert(1 - 6 * d2 / (n * (n * n - 1.0)), RankCorrelation.Spearman(x, y), 1e-14);
    }

    [Fact]
    public void Ranks_Ties_GetTheAverageRank() => Assert.Equal([1.5, 1.5, 3, 4.5, 4.5], RankCorrelation.Ranks([2, 2, 5, 9, 9]));

    [Fact]
    public void Spearman_LengthsDiffer_Throws() => Assert.Throws<ArgumentException>(() => RankCorrelation.Spearman([1, 2], [1]));
}
