using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Nn;

public class InitTests
{
    // 300×200 = 60 000 draws per check; tolerances are 5 standard errors of the sample statistic, so a correct
    // initialiser fails with probability below 1e-6 — and each test is seeded, so the outcome is fixed.
    private const int Rows = 300, Cols = 200;

    private static (double Mean, double Variance) Moments(Tensor<double> t)
    {
        double mean = t.Data.Average();
        double variance = t.Data.Sum(x => (x - mean) * (x - mean)) / (t.Length - 1);
        return (mean, variance);
    }

    private static void AssertNormal(Tensor<double> t, double std)
    {
        int n = t.Length;
        var (mean, variance) = Moments(t);
        Close.Assert(0, mean, 0, 5 * std / Math.Sqrt(n), "mean");
        // Var(s²) = 2σ⁴/(n − 1) for normal samples.
        Close.Assert(std * std, variance, 0, 5 * std * std * Math.Sqrt(2.0 / (n - 1)), "variance");
    }

    private static void AssertUniform(Tensor<double> t, double bound)
    {
        int n = t.Length;
        Assert.All(t.Data, x => Assert.InRange(x, -bound, bound));
        var (mean, variance) = Moments(t);
        Close.Assert(0, mean, 0, 5 * bound / Math.Sqrt(3 * n), "mean");
        // σ² = a²/3 and Var(s²) ≈ (μ₄ − σ⁴)/n = (a⁴/5 − a⁴/9)/n = 4a⁴/(45n).
        Close.Assert(bound * bound / 3, variance, 0, 5 * bound * bound * Math.Sqrt(4.0 / (45 * n)), "variance");
    }

    [Fact]
    public void XavierNormal_MomentsMatchFormula()
    {
        var t = Init.XavierNormal(Tensor<double>.Zeros(Rows, Cols), new Random(1));
        AssertNormal(t, Math.Sqrt(2.0 / (Rows + Cols)));
    }

    [Fact]
    public void XavierNormal_Gain_ScalesStandardDeviation()
    {
        var t = Init.XavierNormal(Tensor<double>.Zeros(Rows, Cols), new Random(2), gain: 3);
        AssertNormal(t, 3 * Math.Sqrt(2.0 / (Rows + Cols)));
    }

    [Fact]
    public void XavierUniform_MomentsAndBoundMatchFormula()
    {
        var t = Init.XavierUniform(Tensor<double>.Zeros(Rows, Cols), new Random(3));
        AssertUniform(t, Math.Sqrt(6.0 / (Rows + Cols)));
    }

    [Fact]
    public void He_MomentsMatchFormula_UsingFanIn()
    {
        var t = Init.He(Tensor<double>.Zeros(Rows, Cols), new Random(4));
        AssertNormal(t, Math.Sqrt(2.0 / Cols));
    }

    [Fact]
    public void He_ConvolutionWeight_UsesChannelsTimesKernelArea()
    {
        var t = Init.He(Tensor<double>.Zeros(150, 20, 5, 4), new Random(5), negativeSlope: 0.5);
        AssertNormal(t, Math.Sqrt(2.0 / ((1 + 0.25) * 20 * 5 * 4)));
    }

    [Fact]
    public void Gaussian_MomentsMatchGivenStd()
    {
        AssertNormal(Init.Gaussian(Tensor<double>.Zeros(Rows, Cols), 0.1, new Random(6)), 0.1);
        var f = Init.Gaussian(Tensor<float>.Zeros(Rows, Cols), 2.5, new Random(7));
        AssertNormal(f.Cast<double>(), 2.5);
    }

    [Fact]
    public void KaimingUniformDefault_IsPyTorchsLinearDefault()
    {
        AssertUniform(Init.KaimingUniformDefault(Tensor<double>.Zeros(Rows, Cols), new Random(8)), 1 / Math.Sqrt(Cols));
    }

    [Fact]
    public void Fans_FollowPyTorchConvention()
    {
        Assert.Equal((7, 3), Init.Fans([3, 7]));
        Assert.Equal((2 * 3 * 5, 4 * 3 * 5), Init.Fans([4, 2, 3, 5]));
        Assert.Throws<ArgumentException>(() => Init.Fans([5]));
    }

    [Fact]
    public void Initialisers_AreSeeded()
    {
        var a = Init.XavierNormal(Tensor<double>.Zeros(4, 5), new Random(42));
        var b = Init.XavierNormal(Tensor<double>.Zeros(4, 5), new Random(42));
        var c = Init.XavierNormal(Tensor<double>.Zeros(4, 5), new Random(43));
        Assert.Equal(a.Data, b.Data);
        Assert.NotEqual(a.Data, c.Data);
    }

    [Fact]
    public void Gaussian_NegativeStd_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Init.Gaussian(Tensor<double>.Zeros(2, 2), -1, new Random(0)));
        Assert.Equal("std", ex.ParamName);
    }
}
