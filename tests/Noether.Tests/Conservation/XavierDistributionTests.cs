using Noether.Conservation;
using Noether.Nn;

namespace Noether.Tests.Conservation;

public class XavierDistributionTests
{
    private const int Draws = 1000;

    private static double[] Sample(Func<TwoLayerParameters, double> q, int m, int h, int n, int seed)
    {
        var random = new Random(seed);
        var values = new double[Draws];
        for (int i = 0; i < Draws; i++) values[i] = q(TwoLayerParameters.Xavier(random, m, h, n));
        return values;
    }

    private static void AssertMoments(double[] values, QuantityMoments predicted, string what)
    {
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
        double seMean = predicted.StandardErrorOfMean(values.Length);
        double seVariance = predicted.StandardErrorOfVariance(values.Length);
        Assert.True(Math.Abs(mean - predicted.Mean) <= 3 * seMean, $"{what}: mean {mean:G6} vs predicted {predicted.Mean:G6} (SE {seMean:G3})");
        Assert.True(Math.Abs(variance - predicted.Variance) <= 3 * seVariance, $"{what}: variance {variance:G6} vs predicted {predicted.Variance:G6} (SE {seVariance:G3})");
    }

    [Theory]
    [InlineData(100, 100, 100)]
    [InlineData(200, 100, 100)]
    [InlineData(10, 40, 5)]
    public void LinearTrace_ThousandDraws_MeanAndVarianceWithinThreeStandardErrors(int m, int h, int n)
    {
        // E[Q] = ½(m − h) (eq. 47 prints m − h), Var[Q] = ½(m/h + h/n).
        var q = ConservedQuantity.ImbalanceTrace(0.5);
        var values = Sample(t => q.Evaluate(t)[0], m, h, n, m * 7 + h * 3 + n);
        var moments = XavierDistribution.LinearTrace(m, h, n);
        AssertMoments(values, moments, $"({m},{h},{n})");
        // The paper's eq. 47 (m − h, without the ½) is many standard errors away whenever m ≠ h.
        if (m != h) Assert.True(Math.Abs(values.Average() - (m - h)) > 20 * moments.StandardErrorOfMean(Draws));
    }

    [Fact]
    public void IntegralForm_ThousandDraws_MeanWithinThreeStandardErrorsForEachActivation()
    {
        // Fig. 5 setting (m = h = n = 100), one set of 1000 Xavier draws scored by every activation's eq. 48 form.
        const int size = 100;
        var activations = new[] { Activation.Identity, Activation.Relu, Activation.Sigmoid, Activation.Tanh };
        var quantities = activations.Select(a => ConservedQuantity.IntegralForm(a)).ToArray();
        var values = activations.Select(_ => new double[Draws]).ToArray();
        var random = new Random(92);
        for (int i = 0; i < Draws; i++)
        {
            var theta = TwoLayerParameters.Xavier(random, size, size, size);
            for (int a = 0; a < activations.Length; a++) values[a][i] = quantities[a].Evaluate(theta)[0];
        }
        for (int a = 0; a < activations.Length; a++)
        {
            var predicted = XavierDistribution.IntegralForm(activations[a], size, size, size)!;
            // κ₄ is derived only for the quadratic forms, so the variance is asserted only there.
            if (!double.IsNaN(predicted.FourthCumulant)) AssertMoments(values[a], predicted, activations[a].Name);
            else Assert.True(Math.Abs(values[a].Average() - predicted.Mean) <= 3 * predicted.StandardErrorOfMean(Draws),
                $"{activations[a].Name}: mean {values[a].Average():G6} vs {predicted.Mean:G6}");
        }
    }
}
