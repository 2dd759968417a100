using Noether.Autodiff;
using Noether.Data;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Data;

public class ChannelNormalizationTests
{
    private static ImageDataset RandomData(int n, int c, int h, int w, int seed)
    {
        var rng = new Random(seed);
        var pixels = new float[n * c * h * w];
        // Channel k has a different distribution, so per-channel statistics differ.
        for (int i = 0; i < pixels.Length; i++)
        {
            int channel = i / (h * w) % c;
            pixels[i] = (float)Math.Pow(rng.NextDouble(), channel + 1);
        }
        return new ImageDataset(new Tensor<float>(pixels, n, c, h, w), new int[n], 1, null, "random");
    }

    [Fact]
    public void Compute_MatchesDirectPerChannelMeanAndPopulationStd()
    {
        var data = RandomData(20, 3, 4, 5, seed: 11);
        var norm = ChannelNormalization.Compute(data);
        for (int c = 0; c < 3; c++)
        {
            var values = new List<double>();
            for (int n = 0; n < 20; n++)
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 5; x++) values.Add(data.Images[n, c, y, x]);
            double mean = values.Average();
            double std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);
            Close.Assert(mean, norm.Mean[c], 1e-13, what: $"mean[{c}]");
            Close.Assert(std, norm.Std[c], 1e-12, what: $"std[{c}]");
        }
        Assert.NotEqual(norm.Mean[0], norm.Mean[2]);
    }

    [Fact]
    public void Apply_ToItsOwnData_GivesZeroMeanUnitStdPerChannel()
    {
        var data = RandomData(30, 3, 4, 4, seed: 12);
        var norm = ChannelNormalization.Compute(data);
        var z = norm.Apply(data.ImagesAsDouble());
        for (int c = 0; c < 3; c++)
        {
            var values = new List<double>();
            for (int n = 0; n < 30; n++)
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 4; x++) values.Add(z[n, c, y, x]);
            double mean = values.Average();
            Close.Assert(0, mean, 0, 1e-12, $"normalised mean[{c}]");
            Close.Assert(1, Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count), 1e-12, what: $"normalised std[{c}]");
        }
    }

    [Fact]
    public void ApplyVariable_MatchesTensorValuesAndPassesGradientDividedByStd()
    {
        var norm = new ChannelNormalization([0.2, 0.5], [0.25, 2.0]);
        var rng = new Random(13);
        var x = Tensor<double>.FromDoubles(Enumerable.Range(0, 3 * 2 * 2 * 2).Select(_ => rng.NextDouble()).ToArray(), 3, 2, 2, 2);
        var w = Tensor<double>.FromDoubles(Enumerable.Range(0, x.Length).Select(_ => rng.NextDouble() - 0.5).ToArray(), 3, 2, 2, 2);

        var tape = new Tape<double>();
        var input = tape.Leaf(x);
        var y = norm.Apply(input);
        Close.Assert(norm.Apply(x), y.Value, 1e-15, 1e-15, "normalised values");

        var loss = Ops.Sum(Ops.Multiply(y, tape.Constant(w)));
        var grad = tape.Gradient(loss, [input])[0].Value;
        // d/dx Σ w (x − m_c)/s_c = w / s_c.
        for (int n = 0; n < 3; n++)
            for (int c = 0; c < 2; c++)
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++)
                        Close.Assert(w[n, c, i, j] / norm.Std[c], grad[n, c, i, j], 1e-15, what: "input gradient");
    }

    [Fact]
    public void Compute_ConstantChannel_IsRejected()
    {
        var t = new Tensor<float>(new float[16], 2, 2, 2, 2);
        for (int n = 0; n < 2; n++)
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 2; x++)
                {
                    t[n, 0, y, x] = (n + y + x) / 4f;
                    t[n, 1, y, x] = 0.5f;
                }
        var data = new ImageDataset(t, [0, 0], 1, null, "constant");
        Assert.Contains("channel 1", Assert.Throws<ArgumentException>(() => ChannelNormalization.Compute(data)).Message);
    }

    [Fact]
    public void Apply_WrongChannelCountOrBadStatistics_Throws()
    {
        var norm = new ChannelNormalization([0.5], [0.1]);
        Assert.Contains("[N, 1, H, W]", Assert.Throws<ArgumentException>(() => norm.Apply(Tensor<double>.Zeros(2, 3, 4, 4))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChannelNormalization([0.5], [0.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChannelNormalization([double.NaN], [1.0]));
        Assert.Throws<ArgumentException>(() => new ChannelNormalization([0.5, 0.5], [1.0]));
    }
}
