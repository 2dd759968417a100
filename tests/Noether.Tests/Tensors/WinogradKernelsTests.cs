using CsCheck;
using Noether.Tensors;

namespace Noether.Tests.Tensors;

/// <summary>
/// The float32 3×3 / stride-1 / padding-1 convolution (Winograd F(2×2, 3×3) on AVX-512 machines) and its two adjoints
/// against the float64 im2col kernels on the same values. Tolerance: a float32 sum of m = 9·C (or 9·O, or N·H·W for the
/// weight gradient) products is within m·u·Σ|terms| of the exact sum in the worst case (u = 2⁻²⁴), and the transforms
/// (entries ±1, ±½, row sums ≤ 3) at most triple that. Winograd's products mix the terms of a whole tile (which cancel
/// exactly), so Σ|terms| is taken over the 2×2 output tile (forward, input gradient) or over the 9 taps of the kernel
/// (weight gradient), from the same convolutions of |x|, |w|, |dy| in float64. A wrong index or a missed tile is an
/// O(1) error.
/// </summary>
public class WinogradKernelsTests
{
    private const double U = 1.0 / (1 << 24);

    private static readonly Gen<(int N, int C, int O, int H, int W, bool Bias, int Seed)> Shapes =
        Gen.Select(Gen.Int[1, 4], Gen.Int[8, 19], Gen.Int[8, 19], Gen.Int[1, 37], Gen.Int[1, 37], Gen.Bool, Gen.Int[0, 1_000_000]);

    [Fact]
    public void RandomShapes_EqualFloat64Im2Col_WithinTheFloat32Bound() => Shapes.Sample(Check, iter: 40, seed: "0N0XIDEW4Y50");

    /// <summary>
    /// ResNet-20's three stages with enough images for several groups (the last one short); 40 images of the 7×7 stage
    /// are 10 groups of 4, more than the forward pass's ranges, so some ranges hold two groups.
    /// </summary>
    [Theory]
    [InlineData(12, 16, 16, 28, 28)]
    [InlineData(12, 32, 32, 14, 14)]
    [InlineData(9, 64, 64, 7, 7)]
    [InlineData(40, 64, 64, 7, 7)]
    [InlineData(3, 16, 32, 33, 34)]
    public void ResNetStages_EqualFloat64Im2Col_WithinTheFloat32Bound(int n, int c, int o, int h, int w) => Check((n, c, o, h, w, true, 7));

    private static void Check((int N, int C, int O, int H, int W, bool Bias, int Seed) s)
    {
        var rng = new Random(s.Seed);
        double[] Draw(int length) => Enumerable.Range(0, length).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        var x = Draw(s.N * s.C * s.H * s.W);
        var w = Draw(s.O * s.C * 9);
        var b = s.Bias ? Draw(s.O) : null;
        var dy = Draw(s.N * s.O * s.H * s.W);
        // Round once to float32 so both sides see the same numbers.
        x = x.Select(v => (double)(float)v).ToArray();
        w = w.Select(v => (double)(float)v).ToArray();
        dy = dy.Select(v => (double)(float)v).ToArray();
        b = b?.Select(v => (double)(float)v).ToArray();
        var g = ConvGeometry.Create([s.N, s.C, s.H, s.W], [s.O, s.C, 3, 3], b is null ? [] : [s.O], b is not null, 1, 1);
        Tensor<double> T64(double[] v, params int[] shape) => new(v, shape);
        Tensor<float> T32(double[] v, params int[] shape) => new(v.Select(e => (float)e).ToArray(), shape);
        double[] Abs(double[] v) => v.Select(Math.Abs).ToArray();
        int[] xs = [s.N, s.C, s.H, s.W], ws = [s.O, s.C, 3, 3], ys = [s.N, s.O, s.H, s.W];

        var y = ConvKernels.Forward(T32(x, xs), T32(w, ws), b is null ? null : T32(b, s.O), g).Data;
        var yExact = ConvKernels.Forward(T64(x, xs), T64(w, ws), b is null ? null : T64(b, s.O), g).Data;
        var yScale = ConvKernels.Forward(T64(Abs(x), xs), T64(Abs(w), ws), b is null ? null : T64(Abs(b), s.O), g).Data;
        Compare("forward", y, yExact, TileSums(yScale, s.H, s.W), 9 * s.C + 1, s);

        var dx = ConvKernels.InputGradient(T32(dy, ys), T32(w, ws), g).Data;
        var dxExact = ConvKernels.InputGradient(T64(dy, ys), T64(w, ws), g).Data;
        var dxScale = ConvKernels.InputGradient(T64(Abs(dy), ys), T64(Abs(w), ws), g).Data;
        Compare("input gradient", dx, dxExact, TileSums(dxScale, s.H, s.W), 9 * s.O, s);

        var dw = ConvKernels.WeightGradient(T32(dy, ys), T32(x, xs), g).Data;
        var dwExact = ConvKernels.WeightGradient(T64(dy, ys), T64(x, xs), g).Data;
        var dwScale = ConvKernels.WeightGradient(T64(Abs(dy), ys), T64(Abs(x), xs), g).Data;
        var kernelSums = Enumerable.Range(0, dwScale.Length).Select(i => dwScale.AsSpan(i / 9 * 9, 9).ToArray().Sum()).ToArray();
        Compare("weight gradient", dw, dwExact, kernelSums, s.N * s.H * s.W, s);
    }

    /// <summary>Each entry of [.., H, W] planes replaced by the sum over its 2×2 tile (rows 2⌊h/2⌋…, columns 2⌊w/2⌋…).</summary>
    private static double[] TileSums(double[] v, int h, int w)
    {
        var result = new double[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            int plane = i / (h * w) * h * w, r = i % (h * w) / w / 2 * 2, c = i % w / 2 * 2;
            for (int a = r; a < Math.Min(r + 2, h); a++)
                for (int b = c; b < Math.Min(c + 2, w); b++) result[i] += v[plane + a * w + b];
        }
        return result;
    }

    private static void Compare(string what, float[] actual, double[] exact, double[] scale, int terms, object shape)
    {
        Assert.Equal(exact.Length, actual.Length);
        for (int i = 0; i < exact.Length; i++)
        {
            double bound = 3 * terms * U * scale[i] + U * Math.Abs(exact[i]);
            Assert.True(Math.Abs(actual[i] - exact[i]) <= bound,
                $"{shape} {what}[{i}]: {actual[i]:R} vs exact {exact[i]:R} (|Δ| {Math.Abs(actual[i] - exact[i]):E2} > bound {bound:E2})");
        }
    }
}
