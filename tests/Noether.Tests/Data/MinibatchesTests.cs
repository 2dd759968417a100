using CsCheck;
using Noether.Data;
using Noether.Tensors;

namespace Noether.Tests.Data;

public class MinibatchesTests
{
    /// <summary>N one-channel 1×2 images; sample i has pixels (i/255, (255−i)/255), so a pixel identifies its sample.</summary>
    internal static ImageDataset Numbered(int n, int classes = 7)
    {
        var pixels = new float[n * 2];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            pixels[2 * i] = i / 255f;
            pixels[2 * i + 1] = (255 - i) / 255f;
            labels[i] = i % classes;
        }
        return new ImageDataset(new Tensor<float>(pixels, n, 1, 1, 2), labels, classes, null, "numbered");
    }

    private static int Id(Tensor<float> inputs, int row) => (int)MathF.Round(inputs.Data[2 * row] * 255f);

    private static List<int[]> Ids(IEnumerable<(Tensor<float> Inputs, int[] Labels)> batches) =>
        batches.Select(b => Enumerable.Range(0, b.Inputs.Dim(0)).Select(r => Id(b.Inputs, r)).ToArray()).ToList();

    [Fact]
    public void Create_EveryEpoch_VisitsEverySampleExactlyOnceWithItsOwnLabelAndPixels()
    {
        Gen.Select(Gen.Int[1, 256], Gen.Int[1, 300], Gen.Int).Sample((n, batch, seed) =>
        {
            var data = Numbered(n);
            var batches = Minibatches.Create(data, batch, new Random(seed)).ToList();
            var ids = new List<int>();
            foreach (var (inputs, labels) in batches)
            {
                Assert.Equal([labels.Length, 1, 1, 2], inputs.ShapeArray);
                for (int r = 0; r < labels.Length; r++)
                {
                    int id = Id(inputs, r);
                    ids.Add(id);
                    Assert.Equal(data.Labels[id], labels[r]);
                    Assert.Equal((255 - id) / 255f, inputs.Data[2 * r + 1]);
                }
            }
            Assert.Equal(Enumerable.Range(0, n), ids.Order());
            Assert.Equal(Minibatches.BatchCount(n, batch), batches.Count);
            Assert.All(batches.SkipLast(1), b => Assert.Equal(batch, b.Labels.Length));
        }, iter: 100);
    }

    [Fact]
    public void Create_DropLast_OmitsOnlyTheFinalPartialBatch()
    {
        Gen.Select(Gen.Int[1, 256], Gen.Int[1, 300], Gen.Int).Sample((n, batch, seed) =>
        {
            var ids = Ids(Minibatches.Create(Numbered(n), batch, new Random(seed), dropLast: true));
            Assert.Equal(n / batch, ids.Count);
            Assert.All(ids, b => Assert.Equal(batch, b.Length));
            var flat = ids.SelectMany(b => b).ToList();
            Assert.Equal(flat.Count, flat.Distinct().Count());
        }, iter: 100);
    }

    [Fact]
    public void Create_SameSeed_GivesIdenticalBatches_DifferentSeedsDiffer()
    {
        var data = Numbered(200);
        var a = Ids(Minibatches.Create(data, 16, new Random(42)));
        var b = Ids(Minibatches.Create(data, 16, new Random(42)));
        var c = Ids(Minibatches.Create(data, 16, new Random(43)));
        Assert.Equal(a, b);
        Assert.NotEqual(a.SelectMany(x => x), c.SelectMany(x => x));
    }

    [Fact]
    public void Create_EnumeratedTwice_YieldsSameOrder_NextCallYieldsNewEpoch()
    {
        var data = Numbered(50);
        var rng = new Random(7);
        var epoch1 = Minibatches.Create(data, 8, rng);
        var first = Ids(epoch1).SelectMany(x => x).ToArray();
        Assert.Equal(first, Ids(epoch1).SelectMany(x => x));
        var epoch2 = Ids(Minibatches.Create(data, 8, rng)).SelectMany(x => x).ToArray();
        Assert.NotEqual(first, epoch2);
        Assert.Equal(Enumerable.Range(0, 50), epoch2.Order());
    }

    [Fact]
    public void Create_NoShuffle_VisitsSamplesInIndexOrder()
    {
        var ids = Ids(Minibatches.Create(Numbered(10), 4, rng: null, shuffle: false));
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], ids);
    }

    [Fact]
    public void Order_FisherYates_DrawsAllPermutationsOfFourUniformly()
    {
        // 24 permutations, 48,000 draws: each count ~ Binomial(48000, 1/24), mean 2000, sd ≈ 43.8; allow 5 sd.
        var rng = new Random(2024);
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < 48_000; i++)
        {
            var key = string.Join("", Minibatches.Order(4, rng));
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        Assert.Equal(24, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 2000 - 219, 2000 + 219));
    }

    [Fact]
    public void CreateDouble_ConvertsEveryFloatPixelExactly()
    {
        var data = Numbered(30);
        var floats = Minibatches.Create(data, 8, new Random(3)).ToList();
        var doubles = Minibatches.Create<double>(data, 8, new Random(3)).ToList();
        Assert.Equal(floats.Count, doubles.Count);
        for (int b = 0; b < floats.Count; b++)
        {
            Assert.Equal(floats[b].Labels, doubles[b].Labels);
            Assert.Equal(floats[b].Inputs.Data.Select(v => (double)v), doubles[b].Inputs.Data);
        }
    }

    [Fact]
    public void GatherInto_ReusedBuffer_MatchesGather()
    {
        var data = Numbered(40);
        var inputs = Tensor<double>.Zeros(3, 1, 1, 2);
        var labels = new int[3];
        foreach (var indices in new[] { new[] { 5, 0, 39 }, new[] { 7, 7, 1 } })
        {
            data.GatherInto<double>(indices, inputs, labels);
            var (expected, expectedLabels) = data.Gather<double>(indices);
            Assert.Equal(expected.Data, inputs.Data);
            Assert.Equal(expectedLabels, labels);
            Assert.Equal(indices.Select(i => data.Labels[i]), labels);
        }
        Assert.Throws<ArgumentException>(() => data.GatherInto<double>([1, 2], inputs, labels));
    }

    [Fact]
    public void Create_BadArguments_AreRejectedWithTheirNames()
    {
        var data = Numbered(5);
        Assert.Equal("batchSize", Assert.Throws<ArgumentOutOfRangeException>(() => Minibatches.Create(data, 0, new Random(1))).ParamName);
        Assert.Equal("batchSize", Assert.Throws<ArgumentOutOfRangeException>(() => Minibatches.Create(data, -3, new Random(1))).ParamName);
        Assert.Equal("rng", Assert.Throws<ArgumentNullException>(() => Minibatches.Create(data, 2, null)).ParamName);
    }
}
