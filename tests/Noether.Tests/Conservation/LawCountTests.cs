using Noether.Autodiff;
using Noether.Conservation;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Tests.Conservation;

public class LawCountTests
{
    // Marcotte, Gribonval, Peyré (NeurIPS 2023) checked 50 random linear nets (depth 2–4, widths 2–5) and 50 random ReLU
    // nets (depth 2–4, widths 2–9, biases or not): the count from Lie(V) always equalled the known laws. Same sizes here,
    // our own seeded draws; the count never sees the known answer.
    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < 50; i++) data.Add(i);
        return data;
    }

    private static NetworkReparametrization RandomNet(Random random, int maxWidth, bool biases) =>
        NetworkReparametrization.Draw(random, 2, 4, 2, maxWidth, biases);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void LinearNet_LawCountEqualsRankOfKnownQuantities(int seed)
    {
        var random = new Random(1000 + seed);
        var net = RandomNet(random, 5, biases: random.Next(2) == 1);
        var theta = net.RandomPoint(random);
        var count = LawCount.Count(net.LinearProduct(), theta, random);
        var (known, knownClear) = LawCount.FunctionalRank(net.LinearKnownQuantities(), theta);
        string what = $"linear widths [{string.Join(",", net.Widths)}], biases {net.Biases}";
        Assert.True(count.ClearGap && knownClear, $"{what}: rank decision without a clear gap (gap {count.Gap:G3})");
        Assert.Equal(known, count.Laws);
        AssertKnownLawsOrthogonal(net.LinearKnownQuantities(), theta, count, what);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void ReluNet_LawCountEqualsHiddenUnits(int seed)
    {
        var random = new Random(2000 + seed);
        var net = RandomNet(random, 9, biases: random.Next(2) == 1);
        var theta = net.RandomPoint(random);
        var count = LawCount.Count(net.PathProducts(), theta, random);
        Assert.True(count.ClearGap, $"widths [{string.Join(",", net.Widths)}]: no clear gap ({count.Gap:G3})");
        Assert.Equal(net.HiddenUnits, count.Laws);
    }

    [Fact]
    public void DeepThinLinearNet_NeedsSecondLevelBrackets()
    {
        // Widths [2,3,3,2] (CENSUS.md): 12 laws; a count that stops after the first brackets finds 13.
        var net = new NetworkReparametrization([2, 3, 3, 2], biases: false);
        var random = new Random(7);
        var theta = net.RandomPoint(random);
        var full = LawCount.Count(net.LinearProduct(), theta, random);
        var truncated = LawCount.Count(net.LinearProduct(), theta, new Random(8), maxLevels: 2);
        Assert.Equal(12, full.Laws);
        Assert.Equal(13, truncated.Laws);
        Assert.Equal([4, 8, 9], full.Levels.Take(3).Select(l => l.Dimension));
        Assert.Equal(LawCount.FunctionalRank(net.LinearKnownQuantities(), theta).Rank, full.Laws);
    }

    [Theory]
    [InlineData(3, 2, 4)]
    [InlineData(4, 3, 2)]
    [InlineData(5, 4, 6)]
    [InlineData(2, 6, 2)]
    [InlineData(1, 5, 2)]
    public void TwoLayerLinear_LawsAreTheIndependentEntriesOfUtUMinusVVt(int m, int h, int n)
    {
        // F = U V with U m×h, V h×n. The entries of UᵀU − VVᵀ (eq. 48 with σ = id) are all independent while h ≤ m + n
        // ([Uᵀ V] has full row rank h); beyond, UᵀU − VVᵀ has rank ≤ r = m + n and the symmetric h×h matrices of rank r
        // form a set of dimension h(h+1)/2 − (h−r)(h−r+1)/2. V = span ∇(UV)_ij has dimension mn − (m−h)(n−h) for h ≤ min(m, n).
        var net = new NetworkReparametrization([n, h, m], biases: false);
        var random = new Random(m * 100 + h * 10 + n);
        var theta = net.RandomPoint(random);
        var count = LawCount.Count(net.LinearProduct(), theta, random);
        int excess = Math.Max(0, h - m - n);
        Assert.Equal(h * (h + 1) / 2 - excess * (excess + 1) / 2, count.Laws);
        Assert.Equal(LawCount.FunctionalRank(net.LinearKnownQuantities(), theta).Rank, count.Laws);
        if (h <= Math.Min(m, n)) Assert.Equal(m * n - (m - h) * (n - h), count.Levels[0].Dimension);
    }

    [Theory]
    [InlineData(3, 5, 4, false)]
    [InlineData(2, 7, 3, true)]
    public void TwoLayerRelu_OneLawPerHiddenUnit(int m, int h, int n, bool biases)
    {
        // The paper's Q_j = ‖v_j‖² + b_j² − ‖u_j‖², one per hidden unit, and nothing else.
        var net = new NetworkReparametrization([n, h, m], biases);
        var random = new Random(h);
        var count = LawCount.Count(net.PathProducts(), net.RandomPoint(random), random);
        Assert.Equal(h, count.Laws);
    }

    [Fact]
    public void DataFields_GenericReluNet_NeverFewerLawsThanPathFields()
    {
        var net = new NetworkReparametrization([3, 4, 2], biases: true);
        var random = new Random(11);
        var theta = net.RandomPoint(random);
        var inputs = Tensor<double>.Zeros(64, 3);
        Noether.Tensors.Gaussian.Fill(random, inputs.Data);
        var phi = LawCount.Count(net.PathProducts(), theta, random);
        var data = LawCount.Count(net.Outputs(inputs, Activation.Relu), theta, random);
        Assert.Equal(net.HiddenUnits, phi.Laws);
        Assert.True(data.Laws >= phi.Laws, $"data fields gave {data.Laws} laws, path fields {phi.Laws}");
    }

    [Fact]
    public void DataFields_DeadUnit_AddsLawsThePathFieldsDoNotHave()
    {
        // Hidden unit 0 never fires on the data (a large negative bias): its incoming weights, bias and outgoing weights get
        // no gradient on these data, so each is conserved — laws that hold for these data only.
        var net = new NetworkReparametrization([3, 4, 2], biases: true);
        var random = new Random(12);
        var theta = net.RandomPoint(random);
        theta[1].Data[0] = -1e3; // b₁[0]
        var inputs = Tensor<double>.Zeros(64, 3);
        Noether.Tensors.Gaussian.Fill(random, inputs.Data);
        var phi = LawCount.Count(net.PathProducts(), theta, random);
        var data = LawCount.Count(net.Outputs(inputs, Activation.Relu), theta, random);
        Assert.Equal(net.HiddenUnits, phi.Laws);
        // The dead unit's 3 + 1 + 2 parameters are each conserved; its rescaling law is among them.
        Assert.Equal(phi.Laws - 1 + 3 + 1 + 2, data.Laws);
    }

    [Fact]
    public void DataFields_TooFewSamples_AddLaws()
    {
        // Two samples give the output map only 2·2 = 4 coordinates: far fewer directions than the path products.
        var net = new NetworkReparametrization([3, 4, 2], biases: true);
        var random = new Random(13);
        var theta = net.RandomPoint(random);
        var inputs = Tensor<double>.Zeros(2, 3);
        Noether.Tensors.Gaussian.Fill(random, inputs.Data);
        var data = LawCount.Count(net.Outputs(inputs, Activation.Relu), theta, random);
        Assert.True(data.Laws > net.HiddenUnits, $"{data.Laws} laws from 2 samples");
    }

    [Fact]
    public void Levels_ReportDimensionsAndGaps()
    {
        var net = new NetworkReparametrization([2, 3, 3, 2], biases: false);
        var random = new Random(3);
        var count = LawCount.Count(net.LinearProduct(), net.RandomPoint(random), random);
        Assert.Equal(count.LieDimension, count.Levels[^1].Dimension);
        Assert.Equal(0, count.Levels[^1].Added);
        Assert.All(count.Levels, l => Assert.True(l.Gap > 1e4, $"level {l.Level}: gap {l.Gap:G3}"));
        Assert.Equal(count.LieDimension, count.Basis.Count);
    }

    [Fact]
    public void BadInput_IsRefusedNamingTheParameter()
    {
        Assert.Throws<ArgumentException>("widths", () => new NetworkReparametrization([3], false));
        Assert.Throws<ArgumentOutOfRangeException>("widths[1]", () => new NetworkReparametrization([3, 0, 2], false));
        var net = new NetworkReparametrization([2, 2], false);
        var theta = net.RandomPoint(new Random(1));
        theta[0].Data[0] = double.NaN;
        Assert.Throws<ArgumentException>("point", () => LawCount.Count(net.LinearProduct(), theta, new Random(1)));
        Assert.Throws<ArgumentException>("inputs", () => net.Outputs(Tensor<double>.Zeros(4, 3), Activation.Relu));
    }

    /// <summary>Each known law's gradient is orthogonal to Lie(V)(θ) (an independent check of the span found).</summary>
    private static void AssertKnownLawsOrthogonal(Reparametrization known, IReadOnlyList<Tensor<double>> theta, LawCountResult count, string what)
    {
        var tape = new Tape<double>();
        var leaves = theta.Select(t => tape.Leaf(t)).ToArray();
        foreach (var output in known(leaves))
        {
            for (int i = 0; i < output.Value.Length; i++)
            {
                var seed = Tensor<double>.Zeros(output.Value.ShapeArray);
                seed.Data[i] = 1;
                var g = tape.Gradient(output, leaves, tape.Constant(seed)).SelectMany(v => v.Value.Data).ToArray();
                double norm = Math.Sqrt(g.Sum(x => x * x));
                foreach (var b in count.Basis)
                {
                    double dot = 0;
                    for (int j = 0; j < g.Length; j++) dot += g[j] * b[j];
                    Assert.True(Math.Abs(dot) <= 1e-9 * Math.Max(norm, 1), $"{what}: ⟨∇ψ_{i}, basis⟩ = {dot:G3}");
                }
            }
        }
    }
}
