using Noether.Experiments;

namespace Noether.Tests.Experiments;

public class MemoryEstimateTests
{
    private const string Fashion = "fashion-mnist";

    public static IEnumerable<object[]> Needs() =>
    [
        ["train", MemoryEstimate.CnnTraining(new CnnTrainingSettings(Hidden: 4096, TrainLimit: 1280))],
        ["train cifar10", MemoryEstimate.CnnTraining(new CnnTrainingSettings("cifar10", Channels: 64))],
        ["ensemble", MemoryEstimate.Ensemble(5000, 32, 16, 10, Fashion, 1000, 32)],
        ["sharpness", MemoryEstimate.Sharpness(100_858, 12_544, Fashion, 1024, new SharpnessEstimateSettings(TopK: 20, DensitySteps: 300))],
        ["analyze", MemoryEstimate.Analyze(100_858, 12_544, Fashion, 256, 100_000, 0)],
        ["curvature", MemoryEstimate.Curvature(272_474, (1_000_000, 300_000), 272_474, 4096, 128, 5)],
        ["train --model", MemoryEstimate.GraphTraining(new GraphTrainingSettings("adam", BatchSize: 512), 272_474, (1_000_000, 300_000), false, true, 60_000,
            MemoryEstimate.ImageData(Fashion, 1024))],
        ["xavier", MemoryEstimate.Xavier(100_000, 7, 300)],
        ["discover", MemoryEstimate.Discover(12_000, 8)],
    ];

    [Theory]
    [MemberData(nameof(Needs))]
    public void Terms_AddUpToTheTotal_AndEachPositiveTermIsShown(string workload, MemoryNeed need)
    {
        Assert.NotEmpty(need.Terms);
        Assert.All(need.Terms, t => Assert.True(t.Bytes >= 0 && double.IsFinite(t.Bytes), $"{workload}: {t.Name} = {t.Bytes}"));
        double sum = 0;
        foreach (var t in need.Terms) sum += t.Bytes;
        Assert.Equal(sum, need.Bytes, 6);
        Assert.Contains(need.Terms, t => t.Name == "runtime" && t.Bytes == MemoryEstimate.RuntimeBytes);
        foreach (var t in need.Terms.Where(t => t.Bytes > 0)) Assert.Contains(t.Name, need.Breakdown);
        Assert.DoesNotContain("E+", need.Breakdown);
        Assert.DoesNotContain('\n', need.Breakdown);
    }

    [Fact]
    public void Breakdown_ListsTheLargestTermFirst()
    {
        var need = MemoryEstimate.Ensemble(20_000, 32, 16, 10, Fashion, 1000, 32);
        var largest = need.Terms.MaxBy(t => t.Bytes)!;
        Assert.StartsWith(largest.Name, need.Breakdown);
    }

    [Fact]
    public void Ensemble_ClosedForm_MatchesTheAllocations()
    {
        // h = 32, C = 10, k = 32, B = 1000: A and U·π as float64 (8·(32² + 10·32)) + 32 indices + 200 of object headers;
        // heads as float32: 4·(32² + 8·32·10 + 10 + 8·10·10); logits and predictions of 1000 images: 1000·(4·10 + 4).
        double member = 8 * (1024 + 320) + 4 * 32 + 200, heads = 4 * (1024 + 2560 + 10 + 800), logits = 1000 * 44;
        Assert.Equal(11_080, member);
        Assert.Equal(17_576, heads);
        var need = MemoryEstimate.Ensemble(500, 32, 16, 10, Fashion, 1000, 32);
        var members = Assert.Single(need.Terms, t => t.Name.StartsWith("500 members", StringComparison.Ordinal));
        Assert.Equal(500 * (member + heads + logits), members.Bytes);
        // The garbage: 20% of (int[60000] + 32 images of 784 float32 + four 32×32 float64 matrices + float32 [1000, 32] twice
        // and [1000, 10] three times) per member.
        var garbage = Assert.Single(need.Terms, t => t.Name.StartsWith("uncollected garbage", StringComparison.Ordinal));
        Assert.Equal(0.2 * 500 * (240_000 + 32 * 784 * 4 + 4 * 8 * 32 * 32 + 1000 * 4 * (64 + 30)), garbage.Bytes, 3);
    }

    [Fact]
    public void CnnTraining_ClosedForm_WeightsAndData()
    {
        var need = MemoryEstimate.CnnTraining(new CnnTrainingSettings());
        // SPEC CNN with 16 channels, h = 32: 9·16 + 16 + 16·14²·32 + 32 + 10·32 + 10 = 100 874 weights, 16 float32 copies.
        var weights = Assert.Single(need.Terms, t => t.Name.Contains("100874 weights", StringComparison.Ordinal));
        Assert.Equal(16 * 4 * 100_874.0, weights.Bytes);
        // Both Fashion-MNIST splits kept: 70 000 images of 784 float32 pixels and an int label.
        var data = Assert.Single(need.Terms, t => t.Name == "70000 images as float32");
        Assert.Equal(70_000 * (4 * 784 + 4.0), data.Bytes);
        Assert.DoesNotContain(need.Terms, t => t.Name == "training subset copy");
    }

    [Fact]
    public void Discover_ClosedForm()
    {
        // 100 samples, h = 2 (8 unknowns): C (100×8), U (100×100), V (8×8) as float64.
        Assert.Equal(MemoryEstimate.RuntimeBytes + 8 * (100 * 100 + 2 * 100 * 8 + 8 * 8), MemoryEstimate.Discover(100, 2).Bytes);
    }

    [Theory]
    [InlineData("hidden")]
    [InlineData("channels")]
    [InlineData("batch")]
    [InlineData("limit")]
    public void CnnTraining_GrowsWithEachCount(string count)
    {
        // h and channels grow the weights and activations at every step; the batch only once it outweighs the evaluation
        // batch of 1000, the training subset only while it is a copy (below 60 000).
        double previous = 0, first = double.NaN;
        foreach (int v in new[] { 1, 8, 64, 512, 4096, 32_768 })
        {
            var s = count switch
            {
                "hidden" => new CnnTrainingSettings(Hidden: v),
                "channels" => new CnnTrainingSettings(Channels: v),
                "batch" => new CnnTrainingSettings(BatchSize: v),
                _ => new CnnTrainingSettings(TrainLimit: v),
            };
            double bytes = MemoryEstimate.CnnTraining(s).Bytes;
            if (count is "limit" or "batch") Assert.True(bytes >= previous, $"{count} {v}: {bytes} < {previous}");
            else Assert.True(bytes > previous, $"{count} {v}: {bytes} ≤ {previous}");
            if (double.IsNaN(first)) first = bytes;
            previous = bytes;
        }
        Assert.True(previous > first, $"{count}: the estimate does not grow from 1 to 32 768");
    }

    [Fact]
    public void CnnTraining_HiddenDominatesAtLargeWidths()
    {
        // Doubling h from 8192 doubles the hidden layer; the estimate must grow by at least its 16 float32 copies.
        double weightsPerH = 16 * 14 * 14 * 16 * 4.0;
        double a = MemoryEstimate.CnnTraining(new CnnTrainingSettings(Hidden: 8192)).Bytes;
        double b = MemoryEstimate.CnnTraining(new CnnTrainingSettings(Hidden: 16_384)).Bytes;
        Assert.True(b - a >= 8192 * weightsPerH, $"{b - a} < {8192 * weightsPerH}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Ensemble_GrowsWithEachCount(int which)
    {
        double previous = 0;
        foreach (int v in new[] { 1, 2, 10, 100, 1000, 20_000 })
        {
            int[] a = [200, 32, 16, 1000, 32];
            a[which] = v;
            double bytes = MemoryEstimate.Ensemble(a[0], a[1], a[2], 10, Fashion, a[3], a[4]).Bytes;
            Assert.True(bytes > previous, $"argument {which} = {v}: {bytes} ≤ {previous}");
            previous = bytes;
        }
    }

    [Fact]
    public void Ensemble_PerMemberSlope_IsWhatWasMeasured()
    {
        // Measured at h = 32 on 1000 test images: 188 KB more peak per member from 5000 to 20 000 members; the estimate's
        // slope stays within [1, 1.5]× of it.
        double slope = (MemoryEstimate.Ensemble(20_000, 32, 16, 10, Fashion, 1000, 32).Bytes - MemoryEstimate.Ensemble(5000, 32, 16, 10, Fashion, 1000, 32).Bytes) / 15_000;
        Assert.InRange(slope, 188e3, 1.5 * 188e3);
    }

    [Theory]
    [InlineData("parameters")]
    [InlineData("samples")]
    [InlineData("top-k")]
    [InlineData("probes")]
    [InlineData("density-steps")]
    public void Sharpness_NeverShrinksWithACount_AndGrowsOverItsRange(string count)
    {
        double previous = 0, first = double.NaN;
        foreach (int v in new[] { 1, 10, 100, 1000, 10_000, 100_000 })
        {
            long n = count == "parameters" ? Math.Max(v, 1000) : 100_858;
            var s = count switch
            {
                "top-k" => new SharpnessEstimateSettings(TopK: Math.Min(v, (int)n)),
                "probes" => new SharpnessEstimateSettings(TraceProbes: v),
                "density-steps" => new SharpnessEstimateSettings(DensitySteps: v),
                _ => new SharpnessEstimateSettings(),
            };
            double bytes = MemoryEstimate.Sharpness(n, 12_544, Fashion, count == "samples" ? v : 128, s).Bytes;
            Assert.True(bytes >= previous, $"{count} {v}: {bytes} < {previous}");
            if (double.IsNaN(first)) first = bytes;
            previous = bytes;
        }
        Assert.True(previous > first, $"{count}: the estimate does not grow from 1 to 100 000");
    }

    [Fact]
    public void Sharpness_LanczosBasis_IsCappedByTheParameters()
    {
        // min(n, max(100, 10k)) steps: beyond k = n/10 the basis cannot grow.
        var a = MemoryEstimate.Sharpness(5000, 100, Fashion, 8, new SharpnessEstimateSettings(TopK: 500, DensityProbes: 0));
        var b = MemoryEstimate.Sharpness(5000, 100, Fashion, 8, new SharpnessEstimateSettings(TopK: 5000, DensityProbes: 0));
        Assert.Equal(a.Bytes, b.Bytes);
    }

    [Fact]
    public void Analyze_ProbesCostEightBytesEach_BeyondTheBatch()
    {
        // Past the 16 directions of a batched product, a probe adds only its sample (Hutchinson.Trace: double[probes]).
        double a = MemoryEstimate.Analyze(100_858, 12_544, Fashion, 256, 1000, 0).Bytes;
        double b = MemoryEstimate.Analyze(100_858, 12_544, Fashion, 256, 101_000, 0).Bytes;
        Assert.Equal(100_000 * 8.0, b - a, 3);
        Assert.True(MemoryEstimate.Analyze(100_858, 12_544, Fashion, 256, 30, 1000).Bytes > MemoryEstimate.Analyze(100_858, 12_544, Fashion, 256, 30, 0).Bytes);
    }

    [Fact]
    public void InvalidCounts_AreRefusedNamingThem()
    {
        Assert.Equal("members", Assert.Throws<ArgumentOutOfRangeException>(() => MemoryEstimate.Ensemble(0, 32, 16, 10, Fashion, 1000, 32)).ParamName);
        Assert.Equal("samples", Assert.Throws<ArgumentOutOfRangeException>(() => MemoryEstimate.Analyze(10, 10, Fashion, 0, 1, 0)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentOutOfRangeException>(() => MemoryEstimate.Analyze(0, 10, Fashion, 1, 1, 0)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryEstimate.CnnTraining(new CnnTrainingSettings(Hidden: 0)));
        Assert.Contains("mnist", Assert.Throws<ArgumentException>(() => MemoryEstimate.Dataset("mnist", 1, 0)).Message);
    }

    [Fact]
    public void Show_UsesMiBBelowAGiB()
    {
        Assert.Equal("1.5 MiB", MemoryNeed.Show(1.5 * (1 << 20)));
        Assert.Equal("2.0 GiB", MemoryNeed.Show(2.0 * (1 << 30)));
    }
}
