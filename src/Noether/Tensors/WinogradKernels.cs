using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Noether.Tensors;

/// <summary>
/// float32 3×3 convolutions with stride 1 and padding 1 by Winograd's F(2×2, 3×3) (Lavin and Gray 2016): each 2×2
/// output tile is Aᵀ[(G w Gᵀ) ⊙ (Bᵀ d B)]A of its 4×4 input patch d, so the 36 multiply-adds per tile and channel pair
/// become 16, done as 16 matrix products [O × C]·[C × tiles] by BLAS. The identity is exact; only the rounding differs
/// from im2col (the transforms add and subtract a few inputs, so the error stays at float32's level). The input
/// gradient is the same convolution of the output gradient with the flipped, transposed kernel; the weight gradient is
/// Gᵀ[Σ_tiles (A dY Aᵀ) ⊙ (Bᵀ d B)]G, again 16 products. Images are processed in groups per core, so every product stays
/// below OpenBLAS's single-thread size. The transforms run 16 tiles at a time in AVX-512 registers: a padded row is split
/// into its even and odd columns by two-source permutes. Planes are read and written in place through masked loads and
/// stores (the zero border is the masked-off lanes, never copied). Transformed planes are written in increasing address
/// order, so a vector that runs past a row's last tile writes lanes the next row overwrites; each buffer carries a
/// vector of slack.
/// </summary>
internal static class WinogradKernels
{
    private const int Lanes = 16;

    /// <summary>Below this many channels the transforms cost more than the products save (the first layer of a CNN).</summary>
    private const int MinChannels = 8;

    public static bool Applies<T>(ConvGeometry g) where T : unmanaged =>
        typeof(T) == typeof(float) && Avx512F.IsSupported && g.KH == 3 && g.KW == 3 && g.Stride == 1 && g.Padding == 1
        && g.C >= MinChannels && g.O >= MinChannels && g.N > 0;

    // ---- public entry points (float only; callers check Applies) ------------------------------

    public static void Forward(float[] x, float[] weight, float[]? bias, ConvGeometry g, float[] y)
    {
        var u = WeightTransform(weight, g.O, g.C);
        var shape = new Shape(g.H, g.W);
        float[] b = bias ?? [];
        ForGroups(g, shape, (_, start, end, group) =>
        {
            using var scratch = new Scratch(shape, g.C, g.O, group);
            for (int n = start; n < end; n += group)
            {
                int count = Math.Min(group, end - n);
                ForwardGroup(x, n, count, u, b, g.C, g.O, shape, scratch, y);
            }
        });
    }

    /// <summary>dx = conv(dy, w'), w'[c, o, a, b] = w[o, c, 2 − a, 2 − b], padding 1: the adjoint of the forward convolution.</summary>
    public static void InputGradient(float[] dy, float[] weight, ConvGeometry g, float[] dx)
    {
        var flipped = new float[weight.Length];
        for (int o = 0; o < g.O; o++)
            for (int c = 0; c < g.C; c++)
                for (int k = 0; k < 9; k++) flipped[(c * g.O + o) * 9 + k] = weight[(o * g.C + c) * 9 + 8 - k];
        var u = WeightTransform(flipped, g.C, g.O);
        var shape = new Shape(g.H, g.W);
        ForGroups(g with { C = g.O, O = g.C }, shape, (_, start, end, group) =>
        {
            using var scratch = new Scratch(shape, g.O, g.C, group);
            for (int n = start; n < end; n += group)
                ForwardGroup(dy, n, Math.Min(group, end - n), u, [], g.O, g.C, shape, scratch, dx);
        });
    }

    public static float[] WeightGradient(float[] dy, float[] x, ConvGeometry g)
    {
        var shape = new Shape(g.H, g.W);
        // One accumulator per worker, summed in worker order: the same result whichever finishes first.
        var partial = new float[Environment.ProcessorCount][];
        ForGroups(g, shape, (worker, start, end, group) =>
        {
            using var scratch = new Scratch(shape, g.C, g.O, group);
            var du = partial[worker] = new float[16 * g.O * g.C];
            for (int n = start; n < end; n += group)
            {
                int count = Math.Min(group, end - n);
                int t = count * shape.Tiles;
                TransformInputs(x, n, count, g.C, shape, scratch);
                TransformOutputGradients(dy, n, count, g.O, shape, scratch);
                for (int xi = 0; xi < 16; xi++)
                    ConvKernels.SerialGemm(false, true, g.O, g.C, t, scratch.M.AsSpan(xi * scratch.MStride), t, scratch.V.AsSpan(xi * scratch.VStride), t,
                        1f, du.AsSpan(xi * g.O * g.C, g.O * g.C), g.C);
            }
        }, perCore: true);
        var sum = partial[0];
        for (int i = 1; i < partial.Length && partial[i] is not null; i++) System.Numerics.Tensors.TensorPrimitives.Add(sum, partial[i], sum);
        return WeightGradientInverse(sum, g.O, g.C);
    }

    // ---- one group of images ------------------------------------------------------------------

    private static void ForwardGroup(float[] x, int first, int count, float[] u, float[] bias, int c, int o, Shape s, Scratch scratch, float[] y)
    {
        int t = count * s.Tiles;
        TransformInputs(x, first, count, c, s, scratch);
        for (int xi = 0; xi < 16; xi++)
            ConvKernels.SerialGemm(false, false, o, t, c, u.AsSpan(xi * o * c, o * c), c, scratch.V.AsSpan(xi * scratch.VStride), t,
                0f, scratch.M.AsSpan(xi * scratch.MStride), t);
        int plane = s.H * s.W;
        for (int n = 0; n < count; n++)
            for (int k = 0; k < o; k++)
                TransformOutput(scratch, k * t + n * s.Tiles, bias.Length == 0 ? 0f : bias[k], s, y.AsSpan(((first + n) * o + k) * plane, plane));
    }

    /// <summary>V[ξ][c][n·tiles + th·TW + tw] = (Bᵀ d B)[ξ] for every tile of the group's images.</summary>
    private static void TransformInputs(float[] x, int first, int count, int channels, Shape s, Scratch scratch)
    {
        int plane = s.H * s.W, t = count * s.Tiles;
        // Channel outer, image inner: each plane's overrun lands in the next plane's tiles, written after it.
        for (int c = 0; c < channels; c++)
            for (int n = 0; n < count; n++)
                TransformInput(x.AsSpan(((first + n) * channels + c) * plane, plane), s, scratch, c * t + n * s.Tiles);
    }

    private static void TransformOutputGradients(float[] dy, int first, int count, int channels, Shape s, Scratch scratch)
    {
        int plane = s.H * s.W, t = count * s.Tiles;
        for (int o = 0; o < channels; o++)
            for (int n = 0; n < count; n++)
                TransformOutputGradient(dy.AsSpan(((first + n) * channels + o) * plane, plane), s, scratch, o * t + n * s.Tiles);
    }

    // ---- transforms of one plane --------------------------------------------------------------

    // Two-source permute indices (PermuteVar16x32x2 over a:b, 32 lanes): the even and odd lanes of a:b, and a and b
    // interleaved (a0 b0 a1 b1 …, from the low or the high halves). ConvKernels' stride-2 lowering uses them too.
    internal static readonly Vector512<int> Even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> Odd = Even + Vector512<int>.One;
    internal static readonly Vector512<int> InterleaveLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    internal static readonly Vector512<int> InterleaveHigh = InterleaveLow + Vector512.Create(8);

    /// <summary>
    /// One [H, W] plane into V at <paramref name="offset"/>: each row r of the plane padded by 1 (read from the plane with
    /// masked loads, the border zero) becomes Bᵀ applied along the row (R₀…R₃ per tile, from its even and odd columns), stored
    /// compactly (TW per row) with even and odd rows apart, so that the four rows 2th … 2th + 3 a tile combines are the
    /// even and odd arrays at q and q + TW for the tile's flat index q = th·TW + tw. The second Bᵀ then runs over q,
    /// 16 tiles per vector whatever the width of the plane.
    /// </summary>
    private static unsafe void TransformInput(ReadOnlySpan<float> x, Shape s, Scratch scratch, int offset)
    {
        int h = s.H, w = s.W, tw = s.TW, blocks = s.Blocks, tiles = s.Tiles;
        ref float rr = ref MemoryMarshal.GetArrayDataReference(scratch.Rows);
        int rows = 2 * s.TH + 2, half = scratch.RowsStride;
        Vector512<int> evenColumns = Even, oddColumns = Odd; // locals: no static-base access inside the loops
        var masks = scratch.PaddedRowMasks;
        fixed (float* px = x)
            for (int r = 0; r < rows; r++)
            {
                // R_j of row r at Rows[(2j + r mod 2)·half + (r div 2)·TW + tw].
                ref float dst0 = ref Unsafe.Add(ref rr, (r & 1) * half + (r >> 1) * tw);
                for (int kb = 0; kb < blocks; kb++)
                {
                    // Padded row r, columns 32kb … 32kb + 33: image row r − 1, columns 32kb − 1 …; the masks leave the
                    // border (and the rows above and below the image) zero without reading it.
                    Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
                    if ((uint)(r - 1) < (uint)h)
                    {
                        float* a = px + (r - 1) * w + 2 * Lanes * kb - 1;
                        a0 = Avx512F.MaskLoad(a, masks[4 * kb], default);
                        a1 = Avx512F.MaskLoad(a + Lanes, masks[4 * kb + 1], default);
                        b0 = Avx512F.MaskLoad(a + 2, masks[4 * kb + 2], default);
                        b1 = Avx512F.MaskLoad(a + Lanes + 2, masks[4 * kb + 3], default);
                    }
                    var e = Avx512F.PermuteVar16x32x2(a0, evenColumns, a1);
                    var od = Avx512F.PermuteVar16x32x2(a0, oddColumns, a1);
                    var e1 = Avx512F.PermuteVar16x32x2(b0, evenColumns, b1);
                    var o1 = Avx512F.PermuteVar16x32x2(b0, oddColumns, b1);
                    ref float dst = ref Unsafe.Add(ref dst0, Lanes * kb);
                    (e - e1).StoreUnsafe(ref dst);
                    (od + e1).StoreUnsafe(ref dst, (nuint)(2 * half));
                    (e1 - od).StoreUnsafe(ref dst, (nuint)(4 * half));
                    (od - o1).StoreUnsafe(ref dst, (nuint)(6 * half));
                }
            }
        ref float vr = ref MemoryMarshal.GetArrayDataReference(scratch.V);
        int vs = scratch.VStride;
        for (int q = 0; q < tiles; q += Lanes)
        {
            ref float dst = ref Unsafe.Add(ref vr, offset + q);
            for (int j = 0; j < 4; j++)
            {
                ref float even = ref Unsafe.Add(ref rr, 2 * j * half + q);
                ref float odd = ref Unsafe.Add(ref even, half);
                var r0 = Vector512.LoadUnsafe(ref even);
                var r1 = Vector512.LoadUnsafe(ref odd);
                var r2 = Vector512.LoadUnsafe(ref even, (nuint)tw);
                var r3 = Vector512.LoadUnsafe(ref odd, (nuint)tw);
                (r0 - r2).StoreUnsafe(ref dst, (nuint)(j * vs));
                (r1 + r2).StoreUnsafe(ref dst, (nuint)((4 + j) * vs));
                (r2 - r1).StoreUnsafe(ref dst, (nuint)((8 + j) * vs));
                (r1 - r3).StoreUnsafe(ref dst, (nuint)((12 + j) * vs));
            }
        }
    }

    /// <summary>Aᵀ M A for every tile of one output plane (M at <paramref name="offset"/>), plus the bias, into <paramref name="y"/>.</summary>
    private static unsafe void TransformOutput(Scratch scratch, int offset, float bias, Shape s, Span<float> y)
    {
        ref float mr = ref MemoryMarshal.GetArrayDataReference(scratch.M);
        int ms = scratch.MStride, w = s.W;
        var b = Vector512.Create(bias);
        Vector512<int> low = InterleaveLow, high = InterleaveHigh;
        var masks = scratch.RowMasks;
        fixed (float* py = y)
            for (int th = 0; th < s.TH; th++)
                for (int kb = 0; kb < s.Blocks; kb++)
                {
                    ref float src = ref Unsafe.Add(ref mr, offset + th * s.TW + Lanes * kb);
                    // Rows of Aᵀ: (1, 1, 1, 0) and (0, 1, −1, −1), first down each column j, then along the row.
                    Vector512<float> s00, s01, s02, s03, s10, s11, s12, s13;
                    Column(ref src, ms, 0, out s00, out s10);
                    Column(ref src, ms, 1, out s01, out s11);
                    Column(ref src, ms, 2, out s02, out s12);
                    Column(ref src, ms, 3, out s03, out s13);
                    var y00 = s00 + s01 + s02 + b;
                    var y01 = s01 - s02 - s03 + b;
                    var y10 = s10 + s11 + s12 + b;
                    var y11 = s11 - s12 - s13 + b;
                    // Output rows 2th and 2th + 1 (when the plane has it), columns 32kb …: the masks stop at the row's end.
                    float* top = py + 2 * th * w + 2 * Lanes * kb;
                    Avx512F.MaskStore(top, masks[2 * kb], Avx512F.PermuteVar16x32x2(y00, low, y01));
                    Avx512F.MaskStore(top + Lanes, masks[2 * kb + 1], Avx512F.PermuteVar16x32x2(y00, high, y01));
                    if (2 * th + 1 < s.H)
                    {
                        Avx512F.MaskStore(top + w, masks[2 * kb], Avx512F.PermuteVar16x32x2(y10, low, y11));
                        Avx512F.MaskStore(top + w + Lanes, masks[2 * kb + 1], Avx512F.PermuteVar16x32x2(y10, high, y11));
                    }
                }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column(ref float src, int stride, int j, out Vector512<float> first, out Vector512<float> second)
    {
        var m0 = Vector512.LoadUnsafe(ref src, (nuint)(j * stride));
        var m1 = Vector512.LoadUnsafe(ref src, (nuint)((4 + j) * stride));
        var m2 = Vector512.LoadUnsafe(ref src, (nuint)((8 + j) * stride));
        var m3 = Vector512.LoadUnsafe(ref src, (nuint)((12 + j) * stride));
        first = m0 + m1 + m2;
        second = m1 - m2 - m3;
    }

    /// <summary>
    /// A dY Aᵀ (4×4 from each 2×2 output-gradient tile; A's rows (1, 0), (1, 1), (1, −1), (0, −1)) into M at
    /// <paramref name="offset"/>. Positions past an odd edge are masked-off lanes: zero, never read.
    /// </summary>
    private static unsafe void TransformOutputGradient(ReadOnlySpan<float> dy, Shape s, Scratch scratch, int offset)
    {
        ref float mr = ref MemoryMarshal.GetArrayDataReference(scratch.M);
        int ms = scratch.MStride, w = s.W;
        Vector512<int> evenColumns = Even, oddColumns = Odd;
        var masks = scratch.RowMasks;
        fixed (float* pd = dy)
            for (int th = 0; th < s.TH; th++)
                for (int kb = 0; kb < s.Blocks; kb++)
                {
                    // Rows 2th and 2th + 1 (zero past an odd bottom edge), columns 32kb …, zero past the right edge.
                    float* row0 = pd + 2 * th * w + 2 * Lanes * kb;
                    var a0 = Avx512F.MaskLoad(row0, masks[2 * kb], default);
                    var a1 = Avx512F.MaskLoad(row0 + Lanes, masks[2 * kb + 1], default);
                    Vector512<float> c0 = default, c1 = default;
                    if (2 * th + 1 < s.H)
                    {
                        c0 = Avx512F.MaskLoad(row0 + w, masks[2 * kb], default);
                        c1 = Avx512F.MaskLoad(row0 + w + Lanes, masks[2 * kb + 1], default);
                    }
                    var y00 = Avx512F.PermuteVar16x32x2(a0, evenColumns, a1);
                    var y01 = Avx512F.PermuteVar16x32x2(a0, oddColumns, a1);
                    var y10 = Avx512F.PermuteVar16x32x2(c0, evenColumns, c1);
                    var y11 = Avx512F.PermuteVar16x32x2(c0, oddColumns, c1);
                    // Along each row: (y0, y0 + y1, y0 − y1, −y1); then down the column j: (q, q + r, q − r, −r).
                    ref float dst = ref Unsafe.Add(ref mr, offset + th * s.TW + Lanes * kb);
                    Down(ref dst, ms, 0, y00, y10);
                    Down(ref dst, ms, 1, y00 + y01, y10 + y11);
                    Down(ref dst, ms, 2, y00 - y01, y10 - y11);
                    Down(ref dst, ms, 3, -y01, -y11);
                }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Down(ref float dst, int stride, int j, Vector512<float> q, Vector512<float> r)
    {
        q.StoreUnsafe(ref dst, (nuint)(j * stride));
        (q + r).StoreUnsafe(ref dst, (nuint)((4 + j) * stride));
        (q - r).StoreUnsafe(ref dst, (nuint)((8 + j) * stride));
        (-r).StoreUnsafe(ref dst, (nuint)((12 + j) * stride));
    }

    // ---- kernel transforms --------------------------------------------------------------------

    /// <summary>U[ξ][o][c] = (G w[o, c] Gᵀ)[ξ], G's rows (1, 0, 0), (½, ½, ½), (½, −½, ½), (0, 0, 1); in double, rounded once.</summary>
    private static float[] WeightTransform(float[] weight, int outputs, int inputs)
    {
        var u = new float[16 * outputs * inputs];
        int pair = outputs * inputs;
        // Every (o, c) pair on its own: the split over cores changes no bit.
        Ranges.For(pair, 16L * pair, (first, last) => WeightTransformPairs(weight, u, pair, first, last));
        return u;
    }

    private static void WeightTransformPairs(float[] weight, float[] u, int pair, int first, int last)
    {
        Span<double> t = stackalloc double[12];
        for (int oc = first; oc < last; oc++)
        {
            var w = weight.AsSpan(oc * 9, 9);
            for (int b = 0; b < 3; b++) // G·w, column b
            {
                double w0 = w[b], w1 = w[3 + b], w2 = w[6 + b];
                t[b] = w0;
                t[3 + b] = 0.5 * (w0 + w1 + w2);
                t[6 + b] = 0.5 * (w0 - w1 + w2);
                t[9 + b] = w2;
            }
            for (int i = 0; i < 4; i++) // (G·w)·Gᵀ, row i
            {
                double a0 = t[3 * i], a1 = t[3 * i + 1], a2 = t[3 * i + 2];
                u[(4 * i) * pair + oc] = (float)a0;
                u[(4 * i + 1) * pair + oc] = (float)(0.5 * (a0 + a1 + a2));
                u[(4 * i + 2) * pair + oc] = (float)(0.5 * (a0 - a1 + a2));
                u[(4 * i + 3) * pair + oc] = (float)a2;
            }
        }
    }

    /// <summary>dw[o, c] = Gᵀ dU[o, c] G (3×3 from 4×4), the adjoint of <see cref="WeightTransform"/>.</summary>
    private static float[] WeightGradientInverse(float[] du, int outputs, int inputs)
    {
        var dw = new float[outputs * inputs * 9];
        int pair = outputs * inputs;
        Ranges.For(pair, 16L * pair, (first, last) => WeightGradientInversePairs(du, dw, pair, first, last));
        return dw;
    }

    private static void WeightGradientInversePairs(float[] du, float[] dw, int pair, int first, int last)
    {
        Span<double> t = stackalloc double[12];
        for (int oc = first; oc < last; oc++)
        {
            for (int j = 0; j < 4; j++) // Gᵀ·dU, column j
            {
                double d0 = du[j * pair + oc], d1 = du[(4 + j) * pair + oc], d2 = du[(8 + j) * pair + oc], d3 = du[(12 + j) * pair + oc];
                t[j] = d0 + 0.5 * (d1 + d2);
                t[4 + j] = 0.5 * (d1 - d2);
                t[8 + j] = 0.5 * (d1 + d2) + d3;
            }
            for (int a = 0; a < 3; a++) // (Gᵀ·dU)·G, row a
            {
                double e0 = t[4 * a], e1 = t[4 * a + 1], e2 = t[4 * a + 2], e3 = t[4 * a + 3];
                dw[oc * 9 + 3 * a] = (float)(e0 + 0.5 * (e1 + e2));
                dw[oc * 9 + 3 * a + 1] = (float)(0.5 * (e1 - e2));
                dw[oc * 9 + 3 * a + 2] = (float)(0.5 * (e1 + e2) + e3);
            }
        }
    }

    // ---- plumbing -----------------------------------------------------------------------------

    /// <summary>Tile counts and buffer widths of one H×W plane.</summary>
    private readonly record struct Shape(int H, int W)
    {
        public int TH => (H + 1) / 2;
        public int TW => (W + 1) / 2;
        public int Tiles => TH * TW;

        /// <summary>Vectors of 16 tiles per tile row.</summary>
        public int Blocks => (TW + Lanes - 1) / Lanes;
    }

    /// <summary>Per-core buffers for a group of images, rented once per call.</summary>
    private sealed class Scratch : IDisposable
    {
        public readonly float[] V, M, Rows;
        public readonly int VStride, MStride, RowsStride;

        /// <summary>
        /// Lanes inside a row of the plane: for each block kb of 32 columns, the loads of TransformInput's padded row at
        /// image columns 32kb − 1, + 15, + 1 and + 17 (four masks), and the loads and stores at columns 32kb and 32kb + 16
        /// (two masks, <see cref="RowMasks"/>). A masked-off lane is neither read nor written.
        /// </summary>
        public readonly Vector512<float>[] PaddedRowMasks, RowMasks;

        public Scratch(Shape s, int inputs, int outputs, int group)
        {
            int t = group * s.Tiles;
            VStride = inputs * t + Lanes;
            MStride = outputs * t + Lanes;
            V = ArrayPool<float>.Shared.Rent(16 * VStride);
            M = ArrayPool<float>.Shared.Rent(16 * Math.Max(MStride, VStride));
            // Eight compact arrays (R₀…R₃ × even, odd rows) of TH + 1 rows, each with a vector of slack.
            RowsStride = (s.TH + 1) * s.TW + 2 * Lanes;
            Rows = new float[8 * RowsStride];
            PaddedRowMasks = new Vector512<float>[4 * s.Blocks];
            RowMasks = new Vector512<float>[2 * s.Blocks];
            for (int kb = 0; kb < s.Blocks; kb++)
            {
                int first = 2 * Lanes * kb;
                PaddedRowMasks[4 * kb] = Inside(first - 1, s.W);
                PaddedRowMasks[4 * kb + 1] = Inside(first - 1 + Lanes, s.W);
                PaddedRowMasks[4 * kb + 2] = Inside(first + 1, s.W);
                PaddedRowMasks[4 * kb + 3] = Inside(first + 1 + Lanes, s.W);
                RowMasks[2 * kb] = Inside(first, s.W);
                RowMasks[2 * kb + 1] = Inside(first + Lanes, s.W);
            }
        }

        /// <summary>All bits set in lane l when 0 ≤ column + l &lt; width.</summary>
        private static Vector512<float> Inside(int column, int width)
        {
            var lanes = Vector512.Create(column) + Vector512<int>.Indices;
            return (Vector512.GreaterThanOrEqual(lanes, Vector512<int>.Zero) & Vector512.LessThan(lanes, Vector512.Create(width))).AsSingle();
        }

        public void Dispose()
        {
            ArrayPool<float>.Shared.Return(V);
            ArrayPool<float>.Shared.Return(M);
        }
    }

    /// <summary>
    /// Splits the batch into contiguous ranges (body(range, start, end, group)) and picks the group size: as many images
    /// as keep each of the 16 products (O·C·tiles multiply-adds) within OpenBLAS's single-thread size. The weight gradient
    /// sums one accumulator per range, so it keeps one range per core (its bits depend on the cut); the forward pass and
    /// the input gradient compute every group alone and take ranges of whole groups, four per core, claimed as cores
    /// come free.
    /// </summary>
    private static void ForGroups(ConvGeometry g, Shape s, Action<int, int, int, int> body, bool perCore = false)
    {
        long perImage = (long)g.O * g.C * s.Tiles;
        int group = (int)Math.Clamp(ConvKernels.SerialProduct / perImage, 1, g.N);
        int groups = (g.N + group - 1) / group;
        if (perCore)
        {
            Ranges.For(g.N, Math.Min(Environment.ProcessorCount, groups), (w, start, end) => body(w, start, end, group));
            return;
        }
        Ranges.For(groups, Math.Min(Ranges.Balanced, groups),
            (w, first, last) => body(w, first * group, Math.Min(g.N, last * group), group));
    }
}
