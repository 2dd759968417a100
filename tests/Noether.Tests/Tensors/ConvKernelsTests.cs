using System.Numerics;
using CsCheck;
using Noether.Tensors;

namespace Noether.Tests.Tensors;

/// <summary>
/// The im2col lowering and its adjoint against their definitions written as plain index loops. Both kernels only move
/// values (im2col copies, col2im adds each column entry to one pixel, in the same order as the loop below), so the
/// comparisons are exact, in float64 and float32, over random geometries and the "same" 3×3 / 5×5 / 1×1 stride-1 ones
/// whose rows the fast paths copy and add as whole runs.
/// </summary>
public class ConvKernelsTests
{
    private static readonly Gen<(int C, int H, int W, int KH, int KW, int Stride, int Padding, int Seed)> Random =
        Gen.Select(Gen.Int[1, 3], Gen.Int[1, 9], Gen.Int[1, 9], Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[1, 3], Gen.Int[0, 2], Gen.Int[0, 1_000_000])
            .Where(t => t.Item2 + 2 * t.Item7 >= t.Item4 && t.Item3 + 2 * t.Item7 >= t.Item5);

    // Stride 1 with OW = W: the fast path (kernel k, padding (k − 1)/2), on square and non-square images.
    private static readonly Gen<(int C, int H, int W, int KH, int KW, int Stride, int Padding, int Seed)> Same =
        Gen.Select(Gen.Int[1, 3], Gen.Int[1, 12], Gen.Int[1, 12], Gen.OneOf(Gen.Const(1), Gen.Const(3), Gen.Const(5)), Gen.Int[0, 1_000_000])
            .Select(t => (t.Item1, t.Item2, t.Item3, t.Item4, t.Item4, 1, (t.Item4 - 1) / 2, t.Item5));

    private static ConvGeometry Geometry((int C, int H, int W, int KH, int KW, int Stride, int Padding, int Seed) c) =>
        ConvGeometry.Create([1, c.C, c.H, c.W], [2, c.C, c.KH, c.KW], default, false, c.Stride, c.Padding);

    private static T[] Values<T>(int seed, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new System.Random(seed);
        var v = new T[length];
        for (int i = 0; i < length; i++) v[i] = T.CreateTruncating(2 * rng.NextDouble() - 1);
        return v;
    }

    /// <summary>The input pixel (c, ih, iw) that im2col row r, column (oh, ow) reads, or null in the padding.</summary>
    private static int? Source(ConvGeometry g, int r, int oh, int ow)
    {
        int c = r / (g.KH * g.KW), ki = r / g.KW % g.KH, kj = r % g.KW;
        int ih = oh * g.Stride - g.Padding + ki, iw = ow * g.Stride - g.Padding + kj;
        return ih < 0 || ih >= g.H || iw < 0 || iw >= g.W ? null : (c * g.H + ih) * g.W + iw;
    }

    private static void Im2ColMatchesDefinition<T>((int C, int H, int W, int KH, int KW, int Stride, int Padding, int Seed) c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Geometry(c);
        var x = Values<T>(c.Seed, g.InSize);
        var col = new T[g.CK * g.P];
        Array.Fill(col, T.NaN); // every entry must be written
        ConvKernels.Im2Col<T>(x, col, g);
        for (int r = 0; r < g.CK; r++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    var expected = Source(g, r, oh, ow) is int i ? x[i] : T.Zero;
                    var actual = col[r * g.P + oh * g.OW + ow];
                    Assert.True(expected.Equals(actual) && T.IsNegative(expected) == T.IsNegative(actual), $"{c}: row {r}, ({oh}, {ow}): {actual} instead of {expected}");
                }
    }

    private static void Col2ImMatchesScatterLoop<T>((int C, int H, int W, int KH, int KW, int Stride, int Padding, int Seed) c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Geometry(c);
        var col = Values<T>(c.Seed, g.CK * g.P);
        var start = Values<T>(c.Seed + 1, g.InSize);
        for (int i = 0; i < start.Length; i += 7) start[i] = -T.Zero; // a pixel that receives nothing keeps its −0
        var expected = (T[])start.Clone();
        for (int r = 0; r < g.CK; r++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                    if (Source(g, r, oh, ow) is int i) expected[i] += col[r * g.P + oh * g.OW + ow];
        var actual = (T[])start.Clone();
        ConvKernels.Col2ImAdd<T>(col, actual, g);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected.AsSpan()).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(actual.AsSpan())),
            $"{c}: col2im differs from the scatter loop");
    }

    [Fact]
    public void Im2Col_Float64_EqualsTheDefinition() => Random.Sample(Im2ColMatchesDefinition<double>, iter: 300, seed: "0N0XIDEW4Y50");

    [Fact]
    public void Im2Col_Float32_SameWidthRuns_EqualTheDefinition() => Same.Sample(Im2ColMatchesDefinition<float>, iter: 300, seed: "0N0XIDEW4Y50");

    [Fact]
    public void Im2Col_Float64_SameWidthRuns_EqualTheDefinition() => Same.Sample(Im2ColMatchesDefinition<double>, iter: 300, seed: "0N0XIDEW4Y50");

    [Fact]
    public void Col2ImAdd_Float64_EqualsTheScatterLoopBitForBit() => Random.Sample(Col2ImMatchesScatterLoop<double>, iter: 300, seed: "0N0XIDEW4Y50");

    [Fact]
    public void Col2ImAdd_Float32_EqualsTheScatterLoopBitForBit() => Same.Sample(Col2ImMatchesScatterLoop<float>, iter: 300, seed: "0N0XIDEW4Y50");

    // Stride 2 on images wide enough for rows of one to three vectors of the AVX-512 even-lane copy, and narrow ones.
    private static readonly Gen<(int C, int H, int W, int KH, int KW, int Stride, int Padding, int Seed)> StrideTwo =
        Gen.Select(Gen.Int[1, 3], Gen.Int[1, 40], Gen.Int[1, 70], Gen.Int[1, 3], Gen.Int[1, 3], Gen.Int[0, 1], Gen.Int[0, 1_000_000])
            .Where(t => t.Item2 + 2 * t.Item6 >= t.Item4 && t.Item3 + 2 * t.Item6 >= t.Item5)
            .Select(t => (t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, 2, t.Item6, t.Item7));

    [Fact]
    public void Im2Col_Float32_StrideTwo_EqualsTheDefinition() => StrideTwo.Sample(Im2ColMatchesDefinition<float>, iter: 200, seed: "0N0XIDEW4Y50");

    [Fact]
    public void Col2ImAdd_Float32_StrideTwo_EqualsTheScatterLoopBitForBit() => StrideTwo.Sample(Col2ImMatchesScatterLoop<float>, iter: 200, seed: "0N0XIDEW4Y50");

    /// <summary>
    /// The bias rides in im2col as a last row of ones; the stride-2 copy of the row before it must not write into it (the
    /// 1×1 kernel on an even image reads its last output row from the second-last input row, so the copy runs at the very
    /// end of the im2col rows). A float32 convolution with a bias against the float64 one on the same values: float32's
    /// sum of at most 28 terms of size ≤ 1 is within 28·2⁻²⁴·28 ≈ 5e-5 of it; a corrupted bias row is off by O(1).
    /// </summary>
    [Theory]
    [InlineData(3, 1)]
    [InlineData(1, 0)]
    public void Forward_Float32_StrideTwo_WithBias_EqualsFloat64(int kernel, int padding)
    {
        int[] xs = [2, 3, 38, 38], ws = [4, 3, kernel, kernel];
        var g = ConvGeometry.Create(xs, ws, [4], true, 2, padding);
        var x = Values<double>(11, g.N * g.InSize).Select(v => (double)(float)v).ToArray();
        var w = Values<double>(12, 4 * 3 * kernel * kernel).Select(v => (double)(float)v).ToArray();
        var b = Values<double>(13, 4).Select(v => (double)(float)v).ToArray();
        Tensor<float> F32(double[] v, int[] shape) => new(v.Select(e => (float)e).ToArray(), shape);
        var y32 = ConvKernels.Forward(F32(x, xs), F32(w, ws), F32(b, [4]), g).Data;
        var y64 = ConvKernels.Forward(new Tensor<double>(x, xs), new Tensor<double>(w, ws), new Tensor<double>(b, 4), g).Data;
        for (int i = 0; i < y64.Length; i++) Assert.True(Math.Abs(y32[i] - y64[i]) <= 1e-4, $"y[{i}]: {y32[i]} vs {y64[i]}");
    }

    [Fact]
    public void Im2Col_ResNetStage_EqualsTheDefinition()
    {
        // ResNet-20's first stage (16 channels, 28×28, 3×3, padding 1) and its stride-2 and 1×1 shortcut transitions.
        Im2ColMatchesDefinition<float>((16, 28, 28, 3, 3, 1, 1, 5));
        Im2ColMatchesDefinition<float>((16, 28, 28, 3, 3, 2, 1, 6));
        Im2ColMatchesDefinition<float>((16, 28, 28, 1, 1, 2, 0, 7));
        Col2ImMatchesScatterLoop<float>((16, 28, 28, 3, 3, 1, 1, 8));
        Col2ImMatchesScatterLoop<float>((16, 28, 28, 3, 3, 2, 1, 9));
    }
}
