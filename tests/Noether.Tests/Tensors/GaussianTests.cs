using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Tensors;

/// <summary>The one Box–Muller sampler: its draws written out by hand from the same generator, and its moments.</summary>
public class GaussianTests
{
    /// <summary>The textbook pair from (u₁, u₂), u₁ drawn first: the formula every former copy used.</summary>
    private static (double, double) HandPair(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        return (r * Math.Cos(2.0 * Math.PI * u2), r * Math.Sin(2.0 * Math.PI * u2));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(42)]
    public void Next_SameSeed_IsTheFirstHalfOfTheHandWrittenPair(int seed)
    {
        Random a = new(seed), b = new(seed);
        for (int i = 0; i < 1000; i++) Assert.Equal(HandPair(b).Item1, Gaussian.Next(a));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void NextPair_SameSeed_IsTheHandWrittenPair(int seed)
    {
        Random a = new(seed), b = new(seed);
        for (int i = 0; i < 1000; i++) Assert.Equal(HandPair(b), Gaussian.NextPair(a));
    }

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 0.5)]
    [InlineData(7, 3.0)]
    [InlineData(64, 0.1)]
    public void Fill_AnyLength_TakesPairsThenOneDrawForAnOddTail(int length, double std)
    {
        Random a = new(length), b = new(length);
        var x = new double[length];
        Gaussian.Fill(a, x, std);
        int i = 0;
        for (; i + 1 < length; i += 2)
        {
            double u1 = 1.0 - b.NextDouble(), u2 = b.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1)), theta = 2.0 * Math.PI * u2;
            Assert.Equal(std * r * Math.Cos(theta), x[i]);
            Assert.Equal(std * r * Math.Sin(theta), x[i + 1]);
        }
        if (i < length) Assert.Equal(std * HandPair(b).Item1, x[i]);
    }

    [Fact]
    public void Fill_ManyDraws_HaveMeanZeroAndTheRequestedVariance()
    {
        var x = new double[200_000];
        Gaussian.Fill(new Random(3), x, 2.0);
        double mean = x.Average(), variance = x.Select(v => (v - mean) * (v - mean)).Average();
        // Standard errors: σ/√n ≈ 0.0045 for the mean, σ²·√(2/n) ≈ 0.013 for the variance; five of each.
        Close.Assert(0, mean, 0, 0.025);
        Close.Assert(4, variance, 0, 0.07);
    }

    [Fact]
    public void Next_NullGenerator_Throws() =>
        Assert.Equal("random", Assert.Throws<ArgumentNullException>(() => Gaussian.Next(null!)).ParamName);
}
