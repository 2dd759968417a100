using Noether.Tensors;

namespace Noether.Autodiff;

public static partial class Ops
{
    // Convolution is bilinear in (input, weight), and the three maps involved are each other's adjoints:
    //   ⟨g, Conv(x, W)⟩ = ⟨x, InputGrad(g, W)⟩ = ⟨W, WeightGrad(g, x)⟩,
    // so the backward rule of each is written with the other two and convolution is differentiable any
    // number of times (exact Hessian-vector products through CNNs). Max-pooling routes through a fixed
    // argmax: gather and scatter are linear and adjoint, so pooling differentiates again as well.

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
    /// The gradient goes to the window's maximum. PyTorch's rule decides ties: scanning the window in row-major order,
    /// a value replaces the current maximum when it is greater or NaN — so the first of equal maxima wins, and a NaN
    /// (the last one, if several) propagates. The argmax is fixed, so the op is piecewise linear and its backward rule
    /// differentiates again (the second derivative is zero almost everywhere).
    /// </remarks>
    /// <param name="input">Feature maps [N, C, H, W].</param>
    /// <param name="kernelSize">Window side k ≥ 1.</param>
    /// <param name="stride">Step between windows; null means k.</param>
    public static Variable<T> MaxPool2d<T>(Variable<T> input, int kernelSize, int? stride = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4) throw Errors.BadShape("max-pool2d", nameof(input), input.Shape, "rank 4 [N, C, H, W]");
        var pool = PoolGeometry.Create(input.Value.Dim(2), input.Value.Dim(3), kernelSize, stride, nameof(input));
        var inputShape = input.Value.ShapeArray;
        var value = new Tensor<T>(Scratch<T>.Uninitialized(inputShape[0] * inputShape[1] * pool.P), inputShape[0], inputShape[1], pool.OH, pool.OW);
        var argmax = GC.AllocateUninitializedArray<int>(value.Length);
        ConvKernels.MaxPool(input.Value.Data, value.Data, argmax, 0, inputShape[0] * inputShape[1], pool);
        return input.Tape.Record(value, [input], g => [PoolScatter(g, argmax, inputShape)]);
    }

    /// <summary>
    /// <c>MaxPool2d(Conv2d(input, weight, bias, stride, padding), poolKernel, poolStride)</c> computed without
    /// materialising the convolution's output: each image is convolved into a small cache-resident buffer and pooled
    /// at once, and the backward pass scatters the pooled gradient image by image. Same values and gradients as the
    /// two ops in sequence (the argmax rule is <see cref="MaxPool2d{T}"/>'s), at a fraction of the memory traffic.
    /// </summary>
    /// <remarks>
    /// Twice differentiable: when the backward pass is itself recorded (<c>createGraph</c>), the rule falls back to the
    /// differentiable convolution adjoints.
    /// </remarks>
    /// <param name="input">Images [N, C, H, W].</param>
    /// <param name="weight">Filters [O, C, kh, kw].</param>
    /// <param name="bias">One value per output channel [O], or null.</param>
    /// <param name="stride">Convolution stride ≥ 1.</param>
    /// <param name="padding">Convolution zero padding ≥ 0.</param>
    /// <param name="poolKernel">Pooling window side ≥ 1.</param>
    /// <param name="poolStride">Pooling step; null means <paramref name="poolKernel"/>.</param>
    public static Variable<T> Conv2dMaxPool2d<T>(Variable<T> input, Variable<T> weight, Variable<T>? bias, int stride, int padding,
        int poolKernel, int? poolStride = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = Same(input, weight);
        if (bias is not null) Same(input, bias);
        var conv = ConvGeometry.Create(input.Shape, weight.Shape, bias is null ? default : bias.Shape, bias is not null, stride, padding);
        var pool = PoolGeometry.Create(conv.OH, conv.OW, poolKernel, poolStride, "convolution output", nameof(poolKernel), nameof(poolStride));
        var (value, argmax) = ConvKernels.ForwardPooled(input.Value, weight.Value, bias?.Value, conv, pool);
        Variable<T>[] parents = bias is null ? [input, weight] : [input, weight, bias];
        int[] convShape = [conv.N, conv.O, conv.OH, conv.OW];
        return tape.Record(value, parents, g =>
        {
            if (tape.IsRecording)
            {
                var gy = PoolScatter(g, argmax, convShape);
                return [
                    input.RequiresGrad ? ConvInputGradient(gy, weight, conv) : null,
                    weight.RequiresGrad ? ConvWeightGradient(gy, input, conv) : null,
                    bias is { RequiresGrad: true } ? ChannelSum(gy) : null];
            }
            var (gx, gw) = ConvKernels.PooledGradients(g.Value, argmax, input.Value, weight.Value, conv, input.RequiresGrad, weight.RequiresGrad);
            Tensor<T>? gb = null;
            if (bias is { RequiresGrad: true })
            {
                gb = Tensor<T>.Zeros(conv.O);
                ConvKernels.ChannelSum(g.Value.Data, gb.Data, conv.N, conv.O, pool.P);
            }
            return [
                gx is null ? null : tape.Constant(gx),
                gw is null ? null : tape.Constant(gw),
                gb is null ? null : tape.Constant(gb)];
        });
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
        var value = new Tensor<T>(Scratch<T>.Uninitialized(shape[0] * shape[1] * shape[2] * shape[3]), shape);
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
        ConvKernels.Scatter(g.Value.Data, argmax, 0, value.Data);
        var outputShape = g.Value.ShapeArray;
        return g.Tape.Record(value, [g], u => [PoolGather(u, argmax, outputShape)]);
    }

    /// <summary>y[i] = x[argmax[i]]: max-pooling with the routes fixed.</summary>
    private static Variable<T> PoolGather<T>(Variable<T> x, int[] argmax, int[] outputShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = new Tensor<T>(Scratch<T>.Uninitialized(argmax.Length), outputShape);
        var src = x.Value.Data;
        var dst = value.Data;
        for (int i = 0; i < argmax.Length; i++) dst[i] = src[argmax[i]];
        var inputShape = x.Value.ShapeArray;
        return x.Tape.Record(value, [x], u => [PoolScatter(u, argmax, inputShape)]);
    }
}
