using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Tensors;

/// <summary>
/// Value-level convolution and pooling kernels over contiguous buffers. Each image is lowered to its im2col matrix
/// [C·kh·kw, OH·OW] in a small per-thread scratch buffer (reused while it is still in cache) and multiplied by BLAS;
/// the batch is split into one contiguous range per core.
/// </summary>
internal static class ConvKernels
{
    /// <summary>Below this many multiply-adds a layer runs on one thread: forking costs more than it saves.</summary>
    private const long ParallelThreshold = 1 << 18;

    public static Tensor<T> Forward<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias, ConvGeometry g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var output = new Tensor<T>(Scratch<T>.Uninitialized(g.N * g.OutSize), g.N, g.O, g.OH, g.OW);
        var x = input.Data;
        var y = output.Data;
        if (WinogradKernels.Applies<T>(g))
        {
            WinogradKernels.Forward(AsFloat(x), AsFloat(weight.Data), bias is null ? null : AsFloat(bias.Data), g, AsFloat(y));
            return output;
        }
        var w = FoldBias(weight, bias, g, out int k);
        ForBatch(g, (_, start, end) =>
        {
            var col = RentColumns<T>(g, k);
            try
            {
                for (int n = start; n < end; n++) ForwardImage<T>(x.AsSpan(n * g.InSize, g.InSize), w, k, bias, col, y.AsSpan(n * g.OutSize, g.OutSize), g);
            }
            finally
            {
                Return(col);
            }
        });
        return output;
    }

    /// <summary>Convolution followed by max-pooling, one image at a time through a scratch buffer.</summary>
    public static (Tensor<T> Pooled, int[] Argmax) ForwardPooled<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias, ConvGeometry g, PoolGeometry pool)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int pooledSize = g.O * pool.P;
        var output = new Tensor<T>(Scratch<T>.Uninitialized(g.N * pooledSize), g.N, g.O, pool.OH, pool.OW);
        var argmax = GC.AllocateUninitializedArray<int>(output.Length);
        var x = input.Data;
        var y = output.Data;
        var w = FoldBias(weight, bias, g, out int k);
        ForBatch(g, (_, start, end) =>
        {
            var col = RentColumns<T>(g, k);
            var conv = ArrayPool<T>.Shared.Rent(g.OutSize);
            try
            {
                for (int n = start; n < end; n++)
                {
                    ForwardImage<T>(x.AsSpan(n * g.InSize, g.InSize), w, k, bias, col, conv, g);
                    MaxPool(conv, y.AsSpan(n * pooledSize, pooledSize), argmax.AsSpan(n * pooledSize, pooledSize), n * g.OutSize, g.O, pool);
                }
            }
            finally
            {
                Return(col);
                ArrayPool<T>.Shared.Return(conv);
            }
        });
        return (output, argmax);
    }

    public static Tensor<T> InputGradient<T>(Tensor<T> outputGradient, Tensor<T> weight, ConvGeometry g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new Tensor<T>(Scratch<T>.Uninitialized(g.N * g.InSize), g.N, g.C, g.H, g.W);
        var dy = outputGradient.Data;
        var w = weight.Data;
        var dx = result.Data;
        if (WinogradKernels.Applies<T>(g))
        {
            WinogradKernels.InputGradient(AsFloat(dy), AsFloat(w), g, AsFloat(dx));
            return result;
        }
        ForBatch(g, (_, start, end) =>
        {
            var col = RentColumns<T>(g, g.CK);
            try
            {
                for (int n = start; n < end; n++)
                    InputGradientImage<T>(dy.AsSpan(n * g.OutSize, g.OutSize), w, col, dx.AsSpan(n * g.InSize, g.InSize), g);
            }
            finally
            {
                Return(col);
            }
        });
        return result;
    }

    public static Tensor<T> WeightGradient<T>(Tensor<T> outputGradient, Tensor<T> input, ConvGeometry g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dy = outputGradient.Data;
        var x = input.Data;
        if (WinogradKernels.Applies<T>(g))
            return new Tensor<T>((T[])(object)WinogradKernels.WeightGradient(AsFloat(dy), AsFloat(x), g), g.O, g.C, g.KH, g.KW);
        int workers = Workers(g);
        // One accumulator per worker (summed at the end), so no two threads write the same gradient.
        var partial = new T[workers][];
        ForBatch(g, workers, (worker, start, end) =>
        {
            var dw = partial[worker] = new T[g.O * g.CK];
            var col = RentColumns<T>(g, g.CK);
            try
            {
                for (int n = start; n < end; n++)
                    WeightGradientImage<T>(dy.AsSpan(n * g.OutSize, g.OutSize), x.AsSpan(n * g.InSize, g.InSize), col, dw, g);
            }
            finally
            {
                Return(col);
            }
        });
        return new Tensor<T>(Sum(partial), g.O, g.C, g.KH, g.KW);
    }

    /// <summary>Input and weight gradients of <see cref="ForwardPooled{T}"/> from the pooled gradient, without the dense [N, O, OH, OW] gradient.</summary>
    public static (Tensor<T>? Input, Tensor<T>? Weight) PooledGradients<T>(Tensor<T> pooledGradient, int[] argmax, Tensor<T> input, Tensor<T> weight,
        ConvGeometry g, bool wantInput, bool wantWeight) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!wantInput && !wantWeight) return (null, null);
        var gp = pooledGradient.Data;
        var x = input.Data;
        var w = weight.Data;
        int pooledSize = g.N == 0 ? 0 : gp.Length / g.N;
        var dx = wantInput ? new Tensor<T>(Scratch<T>.Uninitialized(g.N * g.InSize), g.N, g.C, g.H, g.W) : null;
        int workers = Workers(g);
        var partial = new T[workers][];
        ForBatch(g, workers, (worker, start, end) =>
        {
            var dw = wantWeight ? partial[worker] = new T[g.O * g.CK] : null;
            var col = RentColumns<T>(g, g.CK);
            var dy = ArrayPool<T>.Shared.Rent(g.OutSize);
            try
            {
                for (int n = start; n < end; n++)
                {
                    var dyn = dy.AsSpan(0, g.OutSize);
                    dyn.Clear();
                    Scatter(gp.AsSpan(n * pooledSize, pooledSize), argmax.AsSpan(n * pooledSize, pooledSize), n * g.OutSize, dyn);
                    if (dw is not null) WeightGradientImage<T>(dyn, x.AsSpan(n * g.InSize, g.InSize), col, dw, g);
                    if (dx is not null) InputGradientImage<T>(dyn, w, col, dx.Data.AsSpan(n * g.InSize, g.InSize), g);
                }
            }
            finally
            {
                Return(col);
                ArrayPool<T>.Shared.Return(dy);
            }
        });
        return (dx, wantWeight ? new Tensor<T>(Sum(partial), g.O, g.C, g.KH, g.KW) : null);
    }

    // ---- one image ----------------------------------------------------------------------------

    /// <summary>yₙ = W·im2col(xₙ) (+ b), W possibly carrying the bias as its last column (k = CK + 1).</summary>
    private static void ForwardImage<T>(ReadOnlySpan<T> xn, T[] w, int k, Tensor<T>? bias, T[]? col, Span<T> yn, ConvGeometry g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ReadOnlySpan<T> cols = xn;
        if (col is not null)
        {
            Im2Col(xn, col, g);
            cols = col;
        }
        SerialGemm(false, false, g.O, g.P, k, w, k, cols, g.P, T.Zero, yn, g.P);
        if (bias is not null && k == g.CK)
            for (int o = 0; o < g.O; o++)
            {
                var row = yn.Slice(o * g.P, g.P);
                TensorPrimitives.Add(row, bias.Data[o], row);
            }
    }

    /// <summary>dxₙ = col2im(Wᵀ·dyₙ).</summary>
    private static void InputGradientImage<T>(ReadOnlySpan<T> dyn, T[] w, T[]? col, Span<T> dxn, ConvGeometry g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (col is null)
        {
            SerialGemm(true, false, g.CK, g.P, g.O, w, g.CK, dyn, g.P, T.Zero, dxn, g.P);
            return;
        }
        SerialGemm(true, false, g.CK, g.P, g.O, w, g.CK, dyn, g.P, T.Zero, col, g.P);
        dxn.Clear();
        Col2ImAdd(col, dxn, g);
    }

    /// <summary>dw += dyₙ·im2col(xₙ)ᵀ.</summary>
    private static void WeightGradientImage<T>(ReadOnlySpan<T> dyn, ReadOnlySpan<T> xn, T[]? col, T[] dw, ConvGeometry g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ReadOnlySpan<T> cols = xn;
        if (col is not null)
        {
            Im2Col(xn, col, g);
            cols = col;
        }
        SerialGemm(false, true, g.O, g.CK, g.P, dyn, g.P, cols, g.P, T.One, dw, g.CK);
    }

    /// <summary>
    /// OpenBLAS runs a product on the calling thread when m·n·k ≤ 4·65536 (its GEMM_MULTITHREAD_THRESHOLD × SMP_THRESHOLD_MIN)
    /// and wakes its own threads above. The per-image products here (≈ 50 µs) are already one per core, so handing each
    /// to OpenBLAS's threads only makes the workers queue on its level-3 lock (and, under load, compete with its spinning
    /// threads).
    /// </summary>
    internal const long SerialProduct = 4 * 65536;

    /// <summary>
    /// C ← op(A)·op(B) + β·C (α = 1) as products of at most <see cref="SerialProduct"/> multiply-adds, each on the calling
    /// thread: C is cut into blocks of whole columns (or whole rows when it has fewer columns than rows), each entry still
    /// one sum over all of k. The cut depends only on the shapes, and OpenBLAS's thread count is never touched, so the
    /// results are the same from run to run whatever else the process is doing.
    /// </summary>
    internal static void SerialGemm<T>(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb,
        T beta, Span<T> c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if ((long)m * n * k <= SerialProduct)
        {
            Blas.Gemm(transA, transB, m, n, k, T.One, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        if (n >= m)
        {
            int cols = (int)Math.Max(1, SerialProduct / ((long)m * k));
            for (int j = 0; j < n; j += cols)
            {
                int w = Math.Min(cols, n - j);
                Blas.Gemm(transA, transB, m, w, k, T.One, a, lda, b[(transB ? j * ldb : j)..], ldb, beta, c[j..], ldc);
            }
            return;
        }
        int rows = (int)Math.Max(1, SerialProduct / ((long)n * k));
        for (int i = 0; i < m; i += rows)
        {
            int h = Math.Min(rows, m - i);
            Blas.Gemm(transA, transB, h, n, k, T.One, a[(transA ? i : i * lda)..], lda, b, ldb, beta, c[(i * ldc)..], ldc);
        }
    }

    // ---- lowering -----------------------------------------------------------------------------

    /// <summary>Lowers one image [C, H, W] to its im2col matrix [C·kh·kw, OH·OW] (zero where the window hangs over the padding).</summary>
    public static void Im2Col<T>(ReadOnlySpan<T> x, Span<T> col, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool sameWidth = Lowering(x.Length, col.Length, g, "im2col");
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T cr = ref MemoryMarshal.GetReference(col);
        int s = g.Stride, ow = g.OW;
        for (int c = 0, r = 0; c < g.C; c++)
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++, r++)
                {
                    ref T row = ref Unsafe.Add(ref cr, r * g.P);
                    ValidColumns(g, kj, out int lo, out int hi);
                    ValidRows(g, ki, out int top, out int bottom);
                    if (lo >= hi || top >= bottom)
                    {
                        Clear(ref row, g.P);
                        continue;
                    }
                    Clear(ref row, top * ow);
                    ref T plane = ref Unsafe.Add(ref xr, c * g.H * g.W);
                    if (sameWidth)
                    {
                        // Stride 1 and OW = W: the valid rows are one contiguous run in both the image and the column row,
                        // shifted by d = kj − p; one copy, then the d columns each row takes from its neighbour are zeroed.
                        int d = kj - g.Padding, n = (bottom - top) * ow;
                        ref T dst = ref Unsafe.Add(ref row, top * ow);
                        ref T src = ref Unsafe.Add(ref plane, (top - g.Padding + ki) * g.W);
                        if (d >= 0) Copy(ref dst, ref Unsafe.Add(ref src, d), n - d);
                        else Copy(ref Unsafe.Add(ref dst, -d), ref src, n + d);
                        for (int oh = top; oh < bottom; oh++)
                        {
                            ref T line = ref Unsafe.Add(ref row, oh * ow);
                            Clear(ref line, lo);
                            Clear(ref Unsafe.Add(ref line, hi), ow - hi);
                        }
                        Clear(ref Unsafe.Add(ref row, bottom * ow), (g.OH - bottom) * ow);
                        continue;
                    }
                    for (int oh = top; oh < bottom; oh++)
                    {
                        ref T dst = ref Unsafe.Add(ref row, oh * ow);
                        int from = c * g.H * g.W + (oh * s - g.Padding + ki) * g.W;
                        ref T src = ref Unsafe.Add(ref xr, from);
                        Clear(ref dst, lo);
                        int iw0 = lo * s - g.Padding + kj;
                        if (s == 1) Copy(ref Unsafe.Add(ref dst, lo), ref Unsafe.Add(ref src, iw0), hi - lo);
                        else if (s != 2 || typeof(T) != typeof(float) || !EvenLanes(ref Unsafe.As<T, float>(ref Unsafe.Add(ref src, iw0)), x.Length - from - iw0,
                            ref Unsafe.As<T, float>(ref Unsafe.Add(ref dst, lo)), g.CK * g.P - (r * g.P + oh * ow + lo), hi - lo))
                            for (int j = lo, iw = iw0; j < hi; j++, iw += s) Unsafe.Add(ref dst, j) = Unsafe.Add(ref src, iw);
                        // After the copy: the vector copy of a stride-2 row may write past hi, into this row, the rows
                        // below (cleared after the loop) or a later im2col row; never past the CK·P it owns (a bias row
                        // of ones may follow).
                        Clear(ref Unsafe.Add(ref dst, hi), ow - hi);
                    }
                    Clear(ref Unsafe.Add(ref row, bottom * ow), (g.OH - bottom) * ow);
                }
    }

    /// <summary>
    /// dst[j] = src[2j] for j &lt; <paramref name="count"/>, 16 at a time from the even lanes of 32 (AVX-512): the stride-2
    /// rows of im2col. Each vector reads 32 source floats and writes 16, possibly past count; false (nothing written)
    /// when either buffer has too few floats left (<paramref name="sourceLeft"/>, <paramref name="destinationLeft"/>).
    /// </summary>
    private static bool EvenLanes(ref float src, int sourceLeft, ref float dst, int destinationLeft, int count)
    {
        int vectors = (count + 15) / 16;
        if (!Avx512F.IsSupported || sourceLeft < 32 * vectors || destinationLeft < 16 * vectors) return false;
        var even = WinogradKernels.Even;
        for (int v = 0; v < vectors; v++)
            Avx512F.PermuteVar16x32x2(Vector512.LoadUnsafe(ref src, (nuint)(32 * v)), even, Vector512.LoadUnsafe(ref src, (nuint)(32 * v + 16)))
                .StoreUnsafe(ref dst, (nuint)(16 * v));
        return true;
    }

    /// <summary>
    /// dst[2j] += src[j] for j &lt; <paramref name="count"/> (AVX-512, 16 at a time): the stride-2 rows of col2im. The odd
    /// lanes and the lanes past count add −0, which leaves every float as it was (x + −0 = x, −0 included), so each
    /// element gets exactly the one addition the scalar loop gives it; false (nothing touched) when the destination has
    /// too few floats left (<paramref name="destinationLeft"/>, which must end at the caller's image) or the source
    /// (<paramref name="sourceLeft"/>).
    /// </summary>
    private static bool AddEvenLanes(ref float dst, int destinationLeft, ref float src, int sourceLeft, int count)
    {
        int vectors = (count + 15) / 16;
        if (!Avx512F.IsSupported || destinationLeft < 32 * vectors || sourceLeft < 16 * vectors) return false;
        // Interleaved with a vector of −0: the values land on the even lanes, −0 on the odd ones.
        var minusZero = Vector512.Create(-0f);
        Vector512<int> low = WinogradKernels.InterleaveLow, high = WinogradKernels.InterleaveHigh;
        for (int v = 0; v < vectors; v++)
        {
            int left = count - 16 * v;
            var values = Vector512.LoadUnsafe(ref src, (nuint)(16 * v));
            if (left < 16) values = Vector512.ConditionalSelect(Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(left)).AsSingle(), values, minusZero);
            ref float d = ref Unsafe.Add(ref dst, 32 * v);
            (Vector512.LoadUnsafe(ref d) + Avx512F.PermuteVar16x32x2(values, low, minusZero)).StoreUnsafe(ref d);
            (Vector512.LoadUnsafe(ref d, 16) + Avx512F.PermuteVar16x32x2(values, high, minusZero)).StoreUnsafe(ref d, 16);
        }
        return true;
    }

    /// <summary>
    /// The adjoint of <see cref="Im2Col{T}"/>: adds every column entry to the pixel it came from, in the order of the
    /// rows (c, ki, kj), so each pixel sums its entries as a plain scatter loop would. For stride 1 with OW = W each row's
    /// valid part is added as one contiguous run shifted by kj − p: the entries that fall in the padding are first set to
    /// −0 (the exact additive identity) in <paramref name="col"/>, which is scratch, so the run adds nothing where it wraps.
    /// </summary>
    public static void Col2ImAdd<T>(Span<T> col, Span<T> x, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool sameWidth = Lowering(x.Length, col.Length, g, "col2im");
        ref T cr = ref MemoryMarshal.GetReference(col);
        ref T xr = ref MemoryMarshal.GetReference(x);
        int s = g.Stride, ow = g.OW;
        for (int c = 0, r = 0; c < g.C; c++)
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++, r++)
                {
                    ref T row = ref Unsafe.Add(ref cr, r * g.P);
                    ValidColumns(g, kj, out int lo, out int hi);
                    ValidRows(g, ki, out int top, out int bottom);
                    if (lo >= hi || top >= bottom) continue;
                    ref T plane = ref Unsafe.Add(ref xr, c * g.H * g.W);
                    if (sameWidth)
                    {
                        for (int oh = top; oh < bottom; oh++)
                        {
                            ref T line = ref Unsafe.Add(ref row, oh * ow);
                            for (int j = 0; j < lo; j++) Unsafe.Add(ref line, j) = -T.Zero;
                            for (int j = hi; j < ow; j++) Unsafe.Add(ref line, j) = -T.Zero;
                        }
                        int d = kj - g.Padding, n = (bottom - top) * ow;
                        ref T src = ref Unsafe.Add(ref row, top * ow);
                        ref T dst = ref Unsafe.Add(ref plane, (top - g.Padding + ki) * g.W);
                        if (d >= 0) AddInto(ref Unsafe.Add(ref dst, d), ref src, n - d);
                        else AddInto(ref dst, ref Unsafe.Add(ref src, -d), n + d);
                        continue;
                    }
                    int iw0 = lo * s - g.Padding + kj;
                    for (int oh = top; oh < bottom; oh++)
                    {
                        ref T src = ref Unsafe.Add(ref row, oh * ow);
                        int to = c * g.H * g.W + (oh * s - g.Padding + ki) * g.W;
                        ref T dst = ref Unsafe.Add(ref xr, to);
                        if (s == 1) AddInto(ref Unsafe.Add(ref dst, iw0), ref Unsafe.Add(ref src, lo), hi - lo);
                        else if (s != 2 || typeof(T) != typeof(float) || !AddEvenLanes(ref Unsafe.As<T, float>(ref Unsafe.Add(ref dst, iw0)), g.InSize - to - iw0,
                            ref Unsafe.As<T, float>(ref Unsafe.Add(ref src, lo)), col.Length - (r * g.P + oh * ow + lo), hi - lo))
                            for (int j = lo, iw = iw0; j < hi; j++, iw += s) Unsafe.Add(ref dst, iw) += Unsafe.Add(ref src, j);
                    }
                }
    }

    /// <summary>Checks an image of <paramref name="image"/> and a column matrix of <paramref name="columns"/> elements; true for stride 1 with OW = W (whole-run rows).</summary>
    private static bool Lowering(int image, int columns, ConvGeometry g, string op)
    {
        if (image < g.InSize || columns < g.CK * g.P) throw Errors.Argument("col", $"{op}: buffer too small");
        return g.Stride == 1 && g.OW == g.W;
    }

    private static void Clear<T>(ref T start, int count) where T : unmanaged
    {
        if (count > 0) MemoryMarshal.CreateSpan(ref start, count).Clear();
    }

    private static void Copy<T>(ref T destination, ref T source, int count) where T : unmanaged
    {
        if (count > 0) MemoryMarshal.CreateReadOnlySpan(ref source, count).CopyTo(MemoryMarshal.CreateSpan(ref destination, count));
    }

    /// <summary>d[i] += s[i] for i &lt; count (one IEEE addition per element, as the scalar loop).</summary>
    private static void AddInto<T>(ref T d, ref T s, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= count - Vector<T>.Count; i += Vector<T>.Count)
                (Vector.LoadUnsafe(ref d, (nuint)i) + Vector.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        for (; i < count; i++) Unsafe.Add(ref d, i) += Unsafe.Add(ref s, i);
    }

    /// <summary>Output columns [lo, hi) whose input column ow·s − p + kj lies inside the image.</summary>
    private static void ValidColumns(ConvGeometry g, int kj, out int lo, out int hi) => ValidRange(g.W, g.OW, g, kj, out lo, out hi);

    /// <summary>Output rows [top, bottom) whose input row oh·s − p + ki lies inside the image.</summary>
    private static void ValidRows(ConvGeometry g, int ki, out int top, out int bottom) => ValidRange(g.H, g.OH, g, ki, out top, out bottom);

    /// <summary>Output positions [lo, hi) along an axis of <paramref name="size"/> inputs and <paramref name="outputs"/> outputs whose input o·s − p + kernelOffset is inside.</summary>
    private static void ValidRange(int size, int outputs, ConvGeometry g, int kernelOffset, out int lo, out int hi)
    {
        int s = g.Stride, shift = g.Padding - kernelOffset;
        lo = shift <= 0 ? 0 : (shift + s - 1) / s;
        int last = size - 1 + shift;
        hi = last < 0 ? 0 : Math.Min(outputs, last / s + 1);
        if (hi < lo) hi = lo;
    }

    // ---- pooling ------------------------------------------------------------------------------

    /// <summary>
    /// Max over each window of <paramref name="planes"/> consecutive H×W planes of <paramref name="x"/>, recording the
    /// index of the maximum plus <paramref name="indexOffset"/>. PyTorch's rule, scanning each window in row-major order:
    /// take v when v &gt; max or v is NaN.
    /// </summary>
    public static void MaxPool<T>(ReadOnlySpan<T> x, Span<T> y, Span<int> argmax, int indexOffset, int planes, PoolGeometry p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p.K == 2 && p.S == 2)
        {
            if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated && p.OW >= Vector256<float>.Count)
                MaxPool2x2Float(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), argmax, indexOffset, planes, p);
            else MaxPool2x2(x, y, argmax, indexOffset, planes, p);
            return;
        }
        int i = 0;
        for (int plane = 0; plane < planes; plane++)
        {
            int baseIn = plane * p.H * p.W;
            for (int r = 0; r < p.OH; r++)
                for (int c = 0; c < p.OW; c++, i++)
                {
                    int first = baseIn + r * p.S * p.W + c * p.S;
                    int best = first;
                    T max = T.NegativeInfinity;
                    for (int a = 0; a < p.K; a++)
                    {
                        int rowStart = first + a * p.W;
                        for (int b = 0; b < p.K; b++)
                        {
                            T v = x[rowStart + b];
                            if (v > max || T.IsNaN(v))
                            {
                                max = v;
                                best = rowStart + b;
                            }
                        }
                    }
                    y[i] = x[best];
                    argmax[i] = best + indexOffset;
                }
        }
    }

    /// <summary>
    /// The common 2×2, stride-2 window without data-dependent branches (random data would mispredict every other
    /// comparison): the winner of each row's pair, then of the two rows. "Take the later one when it is greater or NaN"
    /// applied as this tree makes the same choice as PyTorch's row-major scan. SIMD lanes compare x[j] with x[j + 1]
    /// for every column j and the even columns are kept; the winner's offset in the window (0, 1, W, W + 1) travels as
    /// a value of type T, exact for any realistic width.
    /// </summary>
    private static void MaxPool2x2<T>(ReadOnlySpan<T> x, Span<T> y, Span<int> argmax, int indexOffset, int planes, PoolGeometry p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = p.W, lanes = Vector<T>.Count;
        // A vector starting at column j reads up to column j + lanes, which must stay inside the row.
        int lastVector = Vector.IsHardwareAccelerated ? w - 1 - lanes : -1;
        Span<T> value = w <= 256 ? stackalloc T[w] : new T[w];
        Span<T> offset = w <= 256 ? stackalloc T[w] : new T[w];
        T wide = T.CreateTruncating(w);
        var one = Vector<T>.One;
        var down = new Vector<T>(wide);
        var downRight = new Vector<T>(wide + T.One);
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T vr = ref MemoryMarshal.GetReference(value);
        ref T or = ref MemoryMarshal.GetReference(offset);
        int i = 0;
        for (int plane = 0; plane < planes; plane++)
        {
            int baseIn = plane * p.H * w;
            for (int r = 0; r < p.OH; r++)
            {
                int a = baseIn + 2 * r * w, b = a + w;
                int j = 0;
                for (; j <= lastVector; j += lanes)
                {
                    var a0 = Vector.LoadUnsafe(ref xr, (nuint)(a + j));
                    var a1 = Vector.LoadUnsafe(ref xr, (nuint)(a + j + 1));
                    var b0 = Vector.LoadUnsafe(ref xr, (nuint)(b + j));
                    var b1 = Vector.LoadUnsafe(ref xr, (nuint)(b + j + 1));
                    var ta = Vector.GreaterThan(a1, a0) | ~Vector.Equals(a1, a1);
                    var tb = Vector.GreaterThan(b1, b0) | ~Vector.Equals(b1, b1);
                    var wa = Vector.ConditionalSelect(ta, a1, a0);
                    var wb = Vector.ConditionalSelect(tb, b1, b0);
                    var tv = Vector.GreaterThan(wb, wa) | ~Vector.Equals(wb, wb);
                    Vector.ConditionalSelect(tv, wb, wa).StoreUnsafe(ref vr, (nuint)j);
                    Vector.ConditionalSelect(tv, Vector.ConditionalSelect(tb, downRight, down), Vector.ConditionalSelect(ta, one, Vector<T>.Zero))
                        .StoreUnsafe(ref or, (nuint)j);
                }
                for (; j + 1 < w; j += 2)
                {
                    int ia = a + j + Takes(x[a + j + 1], x[a + j]);
                    int ib = b + j + Takes(x[b + j + 1], x[b + j]);
                    int best = ia + Takes(x[ib], x[ia]) * (ib - ia);
                    value[j] = x[best];
                    offset[j] = T.CreateTruncating(best - a - j);
                }
                for (int c = 0; c < p.OW; c++, i++)
                {
                    y[i] = value[2 * c];
                    argmax[i] = a + 2 * c + int.CreateTruncating(offset[2 * c]) + indexOffset;
                }
            }
        }
    }

    /// <summary>
    /// <see cref="MaxPool2x2{T}"/> for float32 with eight outputs per step: each row's 16 columns are split into their
    /// even and odd columns by two permutes, so values and argmax indices are computed and stored in place. The last
    /// step of a row overlaps the previous one (recomputing identical outputs) instead of a scalar tail.
    /// </summary>
    private static void MaxPool2x2Float(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, int indexOffset, int planes, PoolGeometry p)
    {
        const int lanes = 8;
        int w = p.W, ow = p.OW;
        var even = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
        var odd = Vector256.Create(1, 3, 5, 7, 1, 3, 5, 7);
        var upper = Vector256.Create(0, 0, 0, 0, -1, -1, -1, -1).AsSingle();
        var twice = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        var oneInt = Vector256<int>.One;
        var down = Vector256.Create(w);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref int ar = ref MemoryMarshal.GetReference(argmax);
        int i = 0;
        for (int plane = 0; plane < planes; plane++)
        {
            int baseIn = plane * p.H * w;
            for (int r = 0; r < p.OH; r++, i += ow)
            {
                int a = baseIn + 2 * r * w, b = a + w;
                for (int c0 = 0; ; c0 += lanes)
                {
                    if (c0 + lanes > ow) c0 = ow - lanes;
                    // Columns 2c0 … 2c0 + 15 of both rows (2c0 + 16 ≤ 2·OW ≤ W: inside the row).
                    var a0 = Vector256.LoadUnsafe(ref xr, (nuint)(a + 2 * c0));
                    var a1 = Vector256.LoadUnsafe(ref xr, (nuint)(a + 2 * c0 + lanes));
                    var b0 = Vector256.LoadUnsafe(ref xr, (nuint)(b + 2 * c0));
                    var b1 = Vector256.LoadUnsafe(ref xr, (nuint)(b + 2 * c0 + lanes));
                    var ae = Vector256.ConditionalSelect(upper, Vector256.Shuffle(a1, even), Vector256.Shuffle(a0, even));
                    var ao = Vector256.ConditionalSelect(upper, Vector256.Shuffle(a1, odd), Vector256.Shuffle(a0, odd));
                    var be = Vector256.ConditionalSelect(upper, Vector256.Shuffle(b1, even), Vector256.Shuffle(b0, even));
                    var bo = Vector256.ConditionalSelect(upper, Vector256.Shuffle(b1, odd), Vector256.Shuffle(b0, odd));
                    var ta = Vector256.GreaterThan(ao, ae) | ~Vector256.Equals(ao, ao);
                    var tb = Vector256.GreaterThan(bo, be) | ~Vector256.Equals(bo, bo);
                    var wa = Vector256.ConditionalSelect(ta, ao, ae);
                    var wb = Vector256.ConditionalSelect(tb, bo, be);
                    var tv = Vector256.GreaterThan(wb, wa) | ~Vector256.Equals(wb, wb);
                    Vector256.ConditionalSelect(tv, wb, wa).StoreUnsafe(ref yr, (nuint)(i + c0));
                    var offsetA = ta.AsInt32() & oneInt;
                    var offsetB = down + (tb.AsInt32() & oneInt);
                    var index = Vector256.Create(a + indexOffset + 2 * c0) + twice + Vector256.ConditionalSelect(tv.AsInt32(), offsetB, offsetA);
                    index.StoreUnsafe(ref ar, (nuint)(i + c0));
                    if (c0 + lanes >= ow) break;
                }
            }
        }
    }

    /// <summary>1 when <paramref name="later"/> replaces <paramref name="current"/> as the maximum (greater, or NaN), else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Takes<T>(T later, T current) where T : unmanaged, IFloatingPointIeee754<T> =>
        (later > current ? 1 : 0) | (T.IsNaN(later) ? 1 : 0);

    /// <summary>dx[argmax[i] − indexOffset] += g[i].</summary>
    public static void Scatter<T>(ReadOnlySpan<T> g, ReadOnlySpan<int> argmax, int indexOffset, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < g.Length; i++) dx[argmax[i] - indexOffset] += g[i];
    }

    public static void ChannelSum<T>(ReadOnlySpan<T> a, Span<T> result, int n, int channels, int plane)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0, off = 0; i < n; i++)
            for (int c = 0; c < channels; c++, off += plane)
                result[c] += TensorPrimitives.Sum(a.Slice(off, plane));
    }

    // ---- plumbing -----------------------------------------------------------------------------

    /// <summary>
    /// W as [O, k]; with a bias (and a real im2col matrix) k = CK + 1 and the bias is W's last column, multiplied by a row
    /// of ones in the im2col matrix — the product then adds the bias for free instead of a pass over the output.
    /// </summary>
    private static T[] FoldBias<T>(Tensor<T> weight, Tensor<T>? bias, ConvGeometry g, out int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        k = g.CK;
        if (bias is null || g.IsPointwise) return weight.Data;
        k = g.CK + 1;
        var w = new T[g.O * k];
        for (int o = 0; o < g.O; o++)
        {
            weight.Data.AsSpan(o * g.CK, g.CK).CopyTo(w.AsSpan(o * k));
            w[o * k + g.CK] = bias.Data[o];
        }
        return w;
    }

    /// <summary>A scratch im2col matrix of k rows (null for pointwise kernels); a row beyond CK is filled with ones.</summary>
    private static T[]? RentColumns<T>(ConvGeometry g, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.IsPointwise) return null;
        var col = ArrayPool<T>.Shared.Rent(k * g.P);
        if (k > g.CK) col.AsSpan(g.CK * g.P, (k - g.CK) * g.P).Fill(T.One);
        return col;
    }

    private static void Return<T>(T[]? buffer)
    {
        if (buffer is not null) ArrayPool<T>.Shared.Return(buffer);
    }

    private static T[] Sum<T>(T[][] partial) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = partial[0];
        for (int i = 1; i < partial.Length; i++) TensorPrimitives.Add(result, partial[i], result);
        return result;
    }

    /// <summary>The same array seen as float[] (only called when T is float).</summary>
    private static float[] AsFloat<T>(T[] a) => (float[])(object)a;

    private static int Workers(ConvGeometry g)
    {
        long work = (long)g.N * g.O * g.P * g.CK;
        return work < ParallelThreshold ? 1 : Math.Min(Environment.ProcessorCount, g.N);
    }

    /// <summary>
    /// Per-image loops (forward, input gradient): four ranges per core, claimed as cores come free, so a core that falls
    /// behind hands its share over; every image is computed alone, so the split changes no bit.
    /// </summary>
    private static void ForBatch(ConvGeometry g, Action<int, int, int> body) => ForBatch(g, Workers(g) == 1 ? 1 : Math.Min(g.N, Ranges.Balanced), body);

    private static void ForBatch(ConvGeometry g, int workers, Action<int, int, int> body) => Ranges.For(g.N, workers, body);
}
