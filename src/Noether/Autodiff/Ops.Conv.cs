using System.Buffers;
using System.Numerics;
using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Autodiff;

public static partial class Ops
{
    // Convolution is bilinear in (input, weight), and the three maps involved are each other's adjoints:
    //   y  = Conv(x, W)              ⟨g, Conv(x, W)⟩ = ⟨x, InputGrad(g, W)⟩ = ⟨W, WeightGrad(g, x)⟩,
    // so the backward rule of every one of them is written with the other two and convolution is
    // differentiable any number of times (exact Hessian-vector products through CNNs). Max-pooling
    // likewise routes through a fixed argmax: gather and scatter are adjoint and linear.

    /// <summary>
    /// 2-D cross-correlation (PyTorch's <c>conv2d</c>): input [N, C, H, W], weight [O, C, kh, kw], optional bias [O];
    /// output [N, O, ⌊(H + 2p − kh)/s⌋ + 1, ⌊(W + 2p − kw)/s⌋ + 1] with zero padding p and stride s on both axes.
    /// </summary>
    /// <remarks>
    /// Computed image by image as im2col followed by one <see cref="Blas.Gemm{T}"/> (OpenBLAS sgemm/dgemm), the batch
    /// split across cores. Gradients with respect to input, weight and bias; the backward rule is itself made of
    /// differentiable convolutions, so second derivatives (Hessian-vector products) are exact.
    /// </remarks>
    /// <param name="input">Images [N, C, H, W].</param>
    /// <param name="weight">Filters [O, C, kh, kw].</param>
    /// <param name="bias">One value per output channel [O], or null.</param>
    /// <param name="stride">Step between windows (both axes), ≥ 1.</param>
    /// <param name="padding">Zeros added on each side (both axes), ≥ 0.</param>
    public static Variable<T> Conv2d<T>(Variable<T> input, Variable<T> weight, Variable<T>? bias = null, int stride = 1, int padding = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = Same(input, weight);
        if (bias is not null) Same(input, bias);
        var geometry = ConvGeometry.Create(input.Shape, weight.Shape, bias is null ? default : bias.Shape, bias is not null, stride, padding);
        return Conv2dCore(tape, input, weight, bias, geometry);
    }

    /// <summary>
    /// Max-pooling over kernel×kernel windows moved by <paramref name="stride"/> (default: the kernel size), no padding,
    /// floor mode: [N, C, H, W] → [N, C, ⌊(H − k)/s⌋ + 1, ⌊(W − k)/s⌋ + 1].
    /// </summary>
    /// <remarks>
    /// The gradient goes to the window's maximum; on ties, to the first maximum in row-major order (as PyTorch),
    /// and a NaN counts as the maximum so it propagates. The argmax is fixed, so the op is piecewise linear and its
    /// backward rule differentiates again (the second derivative is zero almost everywhere).
    /// </remarks>
    /// <param name="input">Feature maps [N, C, H, W].</param>
    /// <param name="kernelSize">Window side k ≥ 1.</param>
    /// <param name="stride">Step between windows; null means k.</param>
    public static Variable<T> MaxPool2d<T>(Variable<T> input, int kernelSize, int? stride = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        int s = stride ?? kernelSize;
        if (kernelSize < 1) throw Errors.OutOfRange(nameof(kernelSize), kernelSize, "a positive window size");
        if (s < 1) throw Errors.OutOfRange(nameof(stride), s, "a positive stride");
        if (input.Rank != 4) throw Errors.BadShape("max-pool2d", nameof(input), input.Shape, "rank 4 [N, C, H, W]");
        int h = input.Value.Dim(2), w = input.Value.Dim(3);
        if (h < kernelSize || w < kernelSize)
            throw Errors.BadShape("max-pool2d", nameof(input), input.Shape, $"height and width ≥ the kernel size {kernelSize}");
        int oh = (h - kernelSize) / s + 1, ow = (w - kernelSize) / s + 1;
        var inputShape = input.Value.ShapeArray;
        int[] outputShape = [inputShape[0], inputShape[1], oh, ow];
        var value = Tensor<T>.Zeros(outputShape);
        var argmax = new int[value.Length];
        ConvKernels.MaxPoolForward(input.Value.Data, value.Data, argmax, inputShape[0] * inputShape[1], h, w, kernelSize, s, oh, ow);
        return input.Tape.Record(value, [input], g => [PoolScatter(g, argmax, inputShape)]);
    }

    // ---- convolution and its adjoints ---------------------------------------------------------

    private static Variable<T> Conv2dCore<T>(Tape<T> tape, Variable<T> input, Variable<T> weight, Variable<T>? bias, ConvGeometry geometry)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = ConvKernels.Forward(input.Value, weight.Value, bias?.Value, geometry);
        Variable<T>[] parents = bias is null ? [input, weight] : [input, weight, bias];
        return tape.Record(value, parents, g => [
            input.RequiresGrad ? ConvInputGradient(g, weight, geometry) : null,
            weight.RequiresGrad ? ConvWeightGradient(g, input, geometry) : null,
            bias is { RequiresGrad: true } ? ChannelSum(g) : null]);
    }

    /// <summary>∂⟨g, Conv(x, W)⟩/∂x — a transposed convolution of g with W; bilinear in (g, W).</summary>
    private static Variable<T> ConvInputGradient<T>(Variable<T> g, Variable<T> weight, ConvGeometry geometry)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = ConvKernels.InputGradient(g.Value, weight.Value, geometry);
        return g.Tape.Record(value, [g, weight], u => [
            g.RequiresGrad ? Conv2dCore(g.Tape, u, weight, null, geometry) : null,
            weight.RequiresGrad ? ConvWeightGradient(g, u, geometry) : null]);
    }

    /// <summary>∂⟨g, Conv(x, W)⟩/∂W = Σₙ gₙ · im2col(xₙ)ᵀ; bilinear in (g, x).</summary>
    private static Variable<T> ConvWeightGradient<T>(Variable<T> g, Variable<T> input, ConvGeometry geometry)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = ConvKernels.WeightGradient(g.Value, input.Value, geometry);
        return g.Tape.Record(value, [g, input], u => [
            g.RequiresGrad ? Conv2dCore(g.Tape, input, u, null, geometry) : null,
            input.RequiresGrad ? ConvInputGradient(g, u, geometry) : null]);
    }

    /// <summary>Sum over batch and space: [N, C, H, W] → [C] (the bias gradient).</summary>
    private static Variable<T> ChannelSum<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = a.Value.ShapeArray;
        var value = Tensor<T>.Zeros(shape[1]);
        ConvKernels.ChannelSum(a.Value.Data, value.Data, shape[0], shape[1], shape[2] * shape[3]);
        return a.Tape.Record(value, [a], u => [ChannelBroadcast(u, shape)]);
    }

    /// <summary>[C] → [N, C, H, W], constant over batch and space (adjoint of <see cref="ChannelSum{T}"/>).</summary>
    private static Variable<T> ChannelBroadcast<T>(Variable<T> a, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = Tensor<T>.Zeros(shape);
        int plane = shape[2] * shape[3];
        var src = a.Value.Data;
        var dst = value.Data;
        for (int n = 0, off = 0; n < shape[0]; n++)
            for (int c = 0; c < shape[1]; c++, off += plane)
                dst.AsSpan(off, plane).Fill(src[c]);
        return a.Tape.Record(value, [a], u => [ChannelSum(u)]);
    }

    // ---- pooling routes -----------------------------------------------------------------------

    /// <summary>dx[argmax[i]] += g[i]: the adjoint of <see cref="PoolGather{T}"/>.</summary>
    private static Variable<T> PoolScatter<T>(Variable<T> g, int[] argmax, int[] inputShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = Tensor<T>.Zeros(inputShape);
        var src = g.Value.Data;
        var dst = value.Data;
        for (int i = 0; i < argmax.Length; i++) dst[argmax[i]] += src[i];
        var outputShape = g.Value.ShapeArray;
        return g.Tape.Record(value, [g], u => [PoolGather(u, argmax, outputShape)]);
    }

    /// <summary>y[i] = x[argmax[i]]: max-pooling with the routes fixed.</summary>
    private static Variable<T> PoolGather<T>(Variable<T> x, int[] argmax, int[] outputShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = new Tensor<T>(GC.AllocateUninitializedArray<T>(argmax.Length), outputShape);
        var src = x.Value.Data;
        var dst = value.Data;
        for (int i = 0; i < argmax.Length; i++) dst[i] = src[argmax[i]];
        var inputShape = x.Value.ShapeArray;
        return x.Tape.Record(value, [x], u => [PoolScatter(u, argmax, inputShape)]);
    }
}

/// <summary>The sizes of one convolution, validated once at the public surface.</summary>
internal readonly record struct ConvGeometry(int N, int C, int H, int W, int O, int KH, int KW, int Stride, int Padding, int OH, int OW)
{
    /// <summary>Output positions per image and channel.</summary>
    public int P => OH * OW;

    /// <summary>Rows of the im2col matrix: one per (channel, kernel row, kernel column).</summary>
    public int CK => C * KH * KW;

    /// <summary>A 1×1 kernel with stride 1 and no padding: the image already is its im2col matrix.</summary>
    public bool IsPointwise => KH == 1 && KW == 1 && Stride == 1 && Padding == 0;

    public static ConvGeometry Create(ReadOnlySpan<int> input, ReadOnlySpan<int> weight, ReadOnlySpan<int> bias, bool hasBias, int stride, int padding)
    {
        const string op = "conv2d";
        if (stride < 1) throw Errors.OutOfRange(nameof(stride), stride, "a positive stride");
        if (padding < 0) throw Errors.OutOfRange(nameof(padding), padding, "a non-negative padding");
        if (input.Length != 4) throw Errors.BadShape(op, nameof(input), input, "rank 4 [N, C, H, W]");
        if (weight.Length != 4) throw Errors.BadShape(op, nameof(weight), weight, "rank 4 [out channels, in channels, kh, kw]");
        if (input[1] != weight[1])
            throw Errors.ShapeMismatch(op, nameof(input), input, nameof(weight), weight, $"input has {input[1]} channels, weight expects {weight[1]}");
        if (hasBias && (bias.Length != 1 || bias[0] != weight[0]))
            throw Errors.ShapeMismatch(op, nameof(bias), bias, nameof(weight), weight, $"bias must be [{weight[0]}], one value per output channel");
        int h = input[2] + 2 * padding, w = input[3] + 2 * padding;
        if (weight[2] < 1 || weight[3] < 1 || h < weight[2] || w < weight[3])
            throw Errors.ShapeMismatch(op, nameof(input), input, nameof(weight), weight,
                $"the {weight[2]}×{weight[3]} kernel does not fit the padded {h}×{w} image");
        return new ConvGeometry(input[0], input[1], input[2], input[3], weight[0], weight[2], weight[3], stride, padding,
            (h - weight[2]) / stride + 1, (w - weight[3]) / stride + 1);
    }
}

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
        var output = new Tensor<T>(GC.AllocateUninitializedArray<T>(g.N * g.O * g.P), g.N, g.O, g.OH, g.OW);
        var x = input.Data;
        var w = weight.Data;
        var b = bias?.Data;
        var y = output.Data;
        ForBatch(g, (start, end) =>
        {
            int inSize = g.C * g.H * g.W, outSize = g.O * g.P;
            T[]? col = g.IsPointwise ? null : ArrayPool<T>.Shared.Rent(g.CK * g.P);
            try
            {
                for (int n = start; n < end; n++)
                {
                    ReadOnlySpan<T> xn = x.AsSpan(n * inSize, inSize);
                    var yn = y.AsSpan(n * outSize, outSize);
                    ReadOnlySpan<T> cols = xn;
                    if (col is not null)
                    {
                        Im2Col(xn, col, g);
                        cols = col;
                    }
                    Blas.Gemm(false, false, g.O, g.P, g.CK, T.One, w, g.CK, cols, g.P, T.Zero, yn, g.P);
                    if (b is not null)
                        for (int o = 0; o < g.O; o++)
                        {
                            var row = yn.Slice(o * g.P, g.P);
                            TensorPrimitives.Add(row, b[o], row);
                        }
                }
            }
            finally
            {
                if (col is not null) ArrayPool<T>.Shared.Return(col);
            }
        });
        return output;
    }

    public static Tensor<T> InputGradient<T>(Tensor<T> outputGradient, Tensor<T> weight, ConvGeometry g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new Tensor<T>(GC.AllocateUninitializedArray<T>(g.N * g.C * g.H * g.W), g.N, g.C, g.H, g.W);
        var dy = outputGradient.Data;
        var w = weight.Data;
        var dx = result.Data;
        ForBatch(g, (start, end) =>
        {
            int inSize = g.C * g.H * g.W, outSize = g.O * g.P;
            T[]? col = g.IsPointwise ? null : ArrayPool<T>.Shared.Rent(g.CK * g.P);
            try
            {
                for (int n = start; n < end; n++)
                {
                    ReadOnlySpan<T> dyn = dy.AsSpan(n * outSize, outSize);
                    var dxn = dx.AsSpan(n * inSize, inSize);
                    if (col is null)
                    {
                        Blas.Gemm(true, false, g.CK, g.P, g.O, T.One, w, g.CK, dyn, g.P, T.Zero, dxn, g.P);
                        continue;
                    }
                    // dcol = Wᵀ·dyₙ, then every column entry is added back to the pixel it was copied from.
                    Blas.Gemm(true, false, g.CK, g.P, g.O, T.One, w, g.CK, dyn, g.P, T.Zero, col, g.P);
                    dxn.Clear();
                    Col2ImAdd(col, dxn, g);
                }
            }
            finally
            {
                if (col is not null) ArrayPool<T>.Shared.Return(col);
            }
        });
        return result;
    }

    public static Tensor<T> WeightGradient<T>(Tensor<T> outputGradient, Tensor<T> input, ConvGeometry g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dy = outputGradient.Data;
        var x = input.Data;
        int workers = Workers(g);
        int size = g.O * g.CK;
        // One accumulator per worker (summed at the end), so no two threads write the same gradient.
        var partial = new T[workers][];
        ForBatch(g, workers, (worker, start, end) =>
        {
            int inSize = g.C * g.H * g.W, outSize = g.O * g.P;
            var dw = partial[worker] = new T[size];
            T[]? col = g.IsPointwise ? null : ArrayPool<T>.Shared.Rent(g.CK * g.P);
            try
            {
                for (int n = start; n < end; n++)
                {
                    ReadOnlySpan<T> xn = x.AsSpan(n * inSize, inSize);
                    ReadOnlySpan<T> cols = xn;
                    if (col is not null)
                    {
                        Im2Col(xn, col, g);
                        cols = col;
                    }
                    Blas.Gemm(false, true, g.O, g.CK, g.P, T.One, dy.AsSpan(n * outSize, outSize), g.P, cols, g.P, T.One, dw, g.CK);
                }
            }
            finally
            {
                if (col is not null) ArrayPool<T>.Shared.Return(col);
            }
        });
        var result = partial[0];
        for (int i = 1; i < workers; i++) TensorPrimitives.Add(result, partial[i], result);
        return new Tensor<T>(result, g.O, g.C, g.KH, g.KW);
    }

    public static void ChannelSum<T>(ReadOnlySpan<T> a, Span<T> result, int n, int channels, int plane)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0, off = 0; i < n; i++)
            for (int c = 0; c < channels; c++, off += plane)
                result[c] += TensorPrimitives.Sum(a.Slice(off, plane));
    }

    /// <summary>Lowers one image [C, H, W] to its im2col matrix [C·kh·kw, OH·OW] (zero where the window hangs over the padding).</summary>
    public static void Im2Col<T>(ReadOnlySpan<T> x, Span<T> col, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int p = g.P, s = g.Stride;
        for (int c = 0, r = 0; c < g.C; c++)
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++, r++)
                {
                    var row = col.Slice(r * p, p);
                    ValidColumns(g, kj, out int lo, out int hi);
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        var dst = row.Slice(oh * g.OW, g.OW);
                        int ih = oh * s - g.Padding + ki;
                        if ((uint)ih >= (uint)g.H || lo >= hi)
                        {
                            dst.Clear();
                            continue;
                        }
                        var src = x.Slice((c * g.H + ih) * g.W, g.W);
                        dst[..lo].Clear();
                        dst[hi..].Clear();
                        int iw0 = lo * s - g.Padding + kj;
                        if (s == 1) src.Slice(iw0, hi - lo).CopyTo(dst[lo..hi]);
                        else
                            for (int ow = lo, iw = iw0; ow < hi; ow++, iw += s) dst[ow] = src[iw];
                    }
                }
    }

    /// <summary>The adjoint of <see cref="Im2Col{T}"/>: adds every column entry to the pixel it came from.</summary>
    public static void Col2ImAdd<T>(ReadOnlySpan<T> col, Span<T> x, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int p = g.P, s = g.Stride;
        for (int c = 0, r = 0; c < g.C; c++)
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++, r++)
                {
                    var row = col.Slice(r * p, p);
                    ValidColumns(g, kj, out int lo, out int hi);
                    if (lo >= hi) continue;
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        int ih = oh * s - g.Padding + ki;
                        if ((uint)ih >= (uint)g.H) continue;
                        var src = row.Slice(oh * g.OW, g.OW);
                        var dst = x.Slice((c * g.H + ih) * g.W, g.W);
                        int iw0 = lo * s - g.Padding + kj;
                        if (s == 1)
                        {
                            var d = dst.Slice(iw0, hi - lo);
                            TensorPrimitives.Add(d, src[lo..hi], d);
                        }
                        else
                            for (int ow = lo, iw = iw0; ow < hi; ow++, iw += s) dst[iw] += src[ow];
                    }
                }
    }

    /// <summary>Output columns [lo, hi) whose input column ow·s − p + kj lies inside the image.</summary>
    private static void ValidColumns(ConvGeometry g, int kj, out int lo, out int hi)
    {
        int s = g.Stride, shift = g.Padding - kj;
        lo = shift <= 0 ? 0 : (shift + s - 1) / s;
        int last = g.W - 1 + shift;
        hi = last < 0 ? 0 : Math.Min(g.OW, last / s + 1);
        if (hi < lo) hi = lo;
    }

    /// <summary>Max over each window of each of <paramref name="planes"/> H×W planes, recording the flat index of the maximum.</summary>
    public static void MaxPoolForward<T>(T[] x, T[] y, int[] argmax, int planes, int h, int w, int k, int s, int oh, int ow)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        for (int plane = 0; plane < planes; plane++)
        {
            int baseIn = plane * h * w;
            for (int r = 0; r < oh; r++)
                for (int c = 0; c < ow; c++, i++)
                {
                    int first = baseIn + r * s * w + c * s;
                    int best = first;
                    T max = x[first];
                    if (!T.IsNaN(max))
                        for (int a = 0; a < k; a++)
                        {
                            int rowStart = first + a * w;
                            for (int b = 0; b < k; b++)
                            {
                                T v = x[rowStart + b];
                                // Strictly greater keeps the first maximum on ties; a NaN wins and ends the scan.
                                if (v > max || T.IsNaN(v))
                                {
                                    max = v;
                                    best = rowStart + b;
                                    if (T.IsNaN(v)) goto done;
                                }
                            }
                        }
                    done:
                    y[i] = max;
                    argmax[i] = best;
                }
        }
    }

    private static int Workers(ConvGeometry g)
    {
        long work = (long)g.N * g.O * g.P * g.CK;
        return work < ParallelThreshold ? 1 : Math.Min(Environment.ProcessorCount, g.N);
    }

    private static void ForBatch(ConvGeometry g, Action<int, int> body) => ForBatch(g, Workers(g), (_, start, end) => body(start, end));

    private static void ForBatch(ConvGeometry g, int workers, Action<int, int, int> body)
    {
        if (workers <= 1)
        {
            body(0, 0, g.N);
            return;
        }
        Parallel.For(0, workers, worker => body(worker, (int)((long)g.N * worker / workers), (int)((long)g.N * (worker + 1) / workers)));
    }
}
