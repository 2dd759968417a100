using System.Numerics;
using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Graphs;

internal static partial class GraphOps<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // Convolution and pooling over 1 or 2 spatial axes ([N, C, L] or [N, C, H, W]). A window of the input is an index
    // map (−1 where it covers padding), so im2col is a gather and the convolution a batched product with the weights;
    // plain 2-D convolutions (one group, no dilation, equal strides and symmetric padding) take Ops.Conv2d instead.

    private sealed record Window(int[] Input, int[] Kernel, int[] Strides, int[] Dilations, int[] PadBegin, int[] PadEnd, int[] Output)
    {
        public int KernelSize => Kernel.Aggregate(1, (a, k) => a * k);
        public int OutputSize => Output.Aggregate(1, (a, k) => a * k);
    }

    private static Window Geometry(NodeContext<T> c, int[] spatial, int[] kernel, bool ceil)
    {
        int s = spatial.Length;
        var strides = c.Ints("strides")?.Select(v => (int)v).ToArray() ?? Enumerable.Repeat(1, s).ToArray();
        var dilations = c.Ints("dilations")?.Select(v => (int)v).ToArray() ?? Enumerable.Repeat(1, s).ToArray();
        var pads = c.Ints("pads")?.Select(v => (int)v).ToArray() ?? new int[2 * s];
        if (strides.Length != s || dilations.Length != s || pads.Length != 2 * s)
            throw c.Invalid($"strides, dilations or pads do not match {s} spatial axes");
        if (strides.Any(v => v < 1) || dilations.Any(v => v < 1) || pads.Any(v => v < 0)) throw c.Invalid("non-positive strides/dilations or negative pads");
        var begin = pads[..s];
        var end = pads[s..];
        var output = new int[s];
        string autoPad = c.String("auto_pad", "NOTSET");
        for (int d = 0; d < s; d++)
        {
            int extent = (kernel[d] - 1) * dilations[d] + 1;
            switch (autoPad)
            {
                case "NOTSET":
                case "VALID":
                    if (autoPad == "VALID") begin[d] = end[d] = 0;
                    int span = spatial[d] + begin[d] + end[d] - extent;
                    if (span < 0) throw c.Invalid($"the window ({extent}) is larger than the padded input ({spatial[d] + begin[d] + end[d]}) on spatial axis {d}");
                    output[d] = (ceil ? (span + strides[d] - 1) / strides[d] : span / strides[d]) + 1;
                    // A window that would start in the end padding is dropped (PyTorch's and ONNX's ceil-mode rule).
                    if (ceil && (output[d] - 1) * strides[d] >= spatial[d] + begin[d]) output[d]--;
                    break;
                case "SAME_UPPER":
                case "SAME_LOWER":
                    output[d] = (spatial[d] + strides[d] - 1) / strides[d];
                    int total = Math.Max(0, (output[d] - 1) * strides[d] + extent - spatial[d]);
                    begin[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    end[d] = total - begin[d];
                    break;
                default:
                    throw c.Unsupported($"auto_pad '{autoPad}'");
            }
        }
        return new Window(spatial, kernel, strides, dilations, begin, end, output);
    }

    // For planes of the given spatial size: the input offset (within one plane) of every (output position, kernel
    // position) pair, output-major, −1 in padding.
    private static int[] WindowIndex(Window w)
    {
        int p = w.OutputSize, k = w.KernelSize, s = w.Input.Length;
        var index = new int[p * k];
        var outAt = new int[s];
        var kAt = new int[s];
        for (int o = 0; o < p; o++)
        {
            for (int d = s - 1, r = o; d >= 0; d--) { outAt[d] = r % w.Output[d]; r /= w.Output[d]; }
            for (int q = 0; q < k; q++)
            {
                for (int d = s - 1, r = q; d >= 0; d--) { kAt[d] = r % w.Kernel[d]; r /= w.Kernel[d]; }
                int offset = 0;
                for (int d = 0; d < s; d++)
                {
                    int at = outAt[d] * w.Strides[d] - w.PadBegin[d] + kAt[d] * w.Dilations[d];
                    if (at < 0 || at >= w.Input[d]) { offset = -1; break; }
                    offset = offset * w.Input[d] + at;
                }
                index[o * k + q] = offset;
            }
        }
        return index;
    }

    private static int[] SpatialShape(NodeContext<T> c, int[] shape)
    {
        if (shape.Length is < 3 or > 4)
            throw shape.Length > 4
                ? c.Unsupported($"{shape.Length - 2} spatial axes (input {Errors.Shape(shape)}); Noether runs 1-D and 2-D convolution and pooling")
                : c.Invalid($"input is {Errors.Shape(shape)}, expected [N, C, L] or [N, C, H, W]");
        return shape[2..];
    }

    private static GraphValue<T>?[] Conv(NodeContext<T> c)
    {
        var x = c.Var(0);
        var weight = c.Var(1);
        var shape = x.Value.ShapeArray;
        var spatial = SpatialShape(c, shape);
        int n = shape[0], channels = shape[1];
        int group = (int)c.Int("group", 1);
        var ws = weight.Value.ShapeArray;
        if (ws.Length != shape.Length) throw c.Invalid($"weight is {Errors.Shape(ws)} for input {Errors.Shape(shape)}");
        int outChannels = ws[0];
        if (group < 1 || channels % group != 0 || outChannels % group != 0 || ws[1] * group != channels)
            throw c.Invalid($"weight {Errors.Shape(ws)} does not fit {channels} input channels in {group} groups");
        var kernel = ws[2..];
        if (c.Ints("kernel_shape") is { } ks && !ks.Select(v => (int)v).SequenceEqual(kernel)) throw c.Invalid($"kernel_shape [{string.Join(",", ks)}] differs from the weight's {Errors.Shape(kernel)}");
        var w = Geometry(c, spatial, kernel, ceil: false);
        var bias = c.Has(2) ? c.Var(2) : null;
        if (bias is not null && bias.Value.Length != outChannels) throw c.Invalid($"bias has {bias.Value.Length} elements for {outChannels} output channels");

        bool plain = spatial.Length == 2 && group == 1 && w.Dilations.All(d => d == 1) && w.Strides[0] == w.Strides[1]
            && w.PadBegin.Concat(w.PadEnd).Distinct().Count() == 1;
        if (plain)
            return [c.Out(Ops.Conv2d(x, weight, bias is null ? null : Ops.Reshape(bias, outChannels), w.Strides[0], w.PadBegin[0]))];

        int cg = channels / group, mg = outChannels / group, k = w.KernelSize, p = w.OutputSize;
        int plane = spatial.Aggregate(1, (a, d) => a * d);
        var window = WindowIndex(w);
        // cols[n, g, (ci, q), o] = x[n, g·cg + ci, window(o, q)]
        var index = new int[n * group * cg * k * p];
        int at = 0;
        for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
                for (int ci = 0; ci < cg; ci++)
                {
                    int baseOffset = (b * channels + g * cg + ci) * plane;
                    for (int q = 0; q < k; q++)
                        for (int o = 0; o < p; o++)
                        {
                            int src = window[o * k + q];
                            index[at++] = src < 0 ? -1 : baseOffset + src;
                        }
                }
        var cols = Ops.Gather(x, index, [n, group, cg * k, p]);
        var filters = Ops.Reshape(weight, 1, group, mg, cg * k);
        var y = Ops.BatchMatMul(filters, cols);
        y = Ops.Reshape(y, [n, outChannels, .. w.Output]);
        if (bias is not null) y = Ops.Add(y, Ops.Reshape(bias, [1, outChannels, .. Enumerable.Repeat(1, spatial.Length)]));
        return [c.Out(y)];
    }

    private static GraphValue<T>?[] Pool(NodeContext<T> c, bool max)
    {
        var x = c.Var(0);
        var shape = x.Value.ShapeArray;
        var spatial = SpatialShape(c, shape);
        var kernel = c.Ints("kernel_shape")?.Select(v => (int)v).ToArray() ?? throw c.Invalid("no kernel_shape");
        if (kernel.Length != spatial.Length) throw c.Invalid($"kernel_shape has {kernel.Length} axes for {spatial.Length} spatial axes");
        if (!max && c.Ints("dilations") is { } dil && dil.Any(d => d != 1)) throw c.Unsupported("dilated average pooling");
        if (max && c.Node.Outputs.Length > 1 && c.Node.Outputs[1].Length > 0) throw c.Unsupported("the Indices output of MaxPool");
        var w = Geometry(c, spatial, kernel, ceil: c.Int("ceil_mode", 0) != 0);
        int planes = shape[0] * shape[1], k = w.KernelSize, p = w.OutputSize;
        int plane = spatial.Aggregate(1, (a, d) => a * d);
        var window = WindowIndex(w);
        var outShape = new[] { shape[0], shape[1] }.Concat(w.Output).ToArray();
        c.CheckRank(outShape);
        var data = x.Value.Data;
        if (max)
        {
            // The window's maximum (first of equal ones), as a fixed gather: piecewise linear, differentiable again.
            var argmax = new int[planes * p];
            for (int pl = 0; pl < planes; pl++)
                for (int o = 0; o < p; o++)
                {
                    int best = -1;
                    for (int q = 0; q < k; q++)
                    {
                        int src = window[o * k + q];
                        if (src < 0) continue;
                        int j = pl * plane + src;
                        if (best < 0 || data[j] > data[best] || (T.IsNaN(data[j]) && !T.IsNaN(data[best]))) best = j;
                    }
                    argmax[pl * p + o] = best;
                }
            return [c.Out(Ops.Gather(x, argmax, outShape))];
        }
        bool includePad = c.Int("count_include_pad", 0) != 0;
        var index = new int[planes * p * k];
        for (int pl = 0; pl < planes; pl++)
            for (int j = 0; j < p * k; j++)
                index[pl * p * k + j] = window[j] < 0 ? -1 : pl * plane + window[j];
        var sums = Ops.SumAxis(Ops.Gather(x, index, [planes * p, k]), 1);
        var inverse = Tensor<T>.Zeros(planes * p);
        var outAt = new int[spatial.Length];
        for (int o = 0; o < p; o++)
        {
            for (int d = spatial.Length - 1, r = o; d >= 0; d--) { outAt[d] = r % w.Output[d]; r /= w.Output[d]; }
            int count = 1;
            for (int d = 0; d < spatial.Length; d++)
            {
                int start = outAt[d] * w.Strides[d] - w.PadBegin[d];
                int lo = includePad ? -w.PadBegin[d] : 0, hi = includePad ? spatial[d] + w.PadEnd[d] : spatial[d];
                int inside = Math.Min(start + kernel[d], hi) - Math.Max(start, lo);
                count *= Math.Max(inside, 0);
            }
            var v = count == 0 ? T.Zero : T.One / T.CreateTruncating(count);
            for (int pl = 0; pl < planes; pl++) inverse.Data[pl * p + o] = v;
        }
        return [c.Out(Ops.Reshape(Ops.MultiplyConstant(sums, inverse), outShape))];
    }

    private static GraphValue<T>?[] GlobalAveragePool(NodeContext<T> c)
    {
        var x = c.Var(0);
        var shape = x.Value.ShapeArray;
        if (shape.Length < 3) throw c.Invalid($"input is {Errors.Shape(shape)}, expected [N, C, …]");
        var flat = Ops.Reshape(x, shape[0], shape[1], -1);
        var mean = Ops.MeanAxis(flat, 2, keepDims: true);
        return [c.Out(Ops.Reshape(mean, [shape[0], shape[1], .. Enumerable.Repeat(1, shape.Length - 2)]))];
    }

    private static GraphValue<T>?[] GlobalMaxPool(NodeContext<T> c)
    {
        var x = c.Var(0);
        var shape = x.Value.ShapeArray;
        if (shape.Length < 3) throw c.Invalid($"input is {Errors.Shape(shape)}, expected [N, C, …]");
        int planes = shape[0] * shape[1], plane = x.Value.Length / Math.Max(planes, 1);
        var argmax = new int[planes];
        var data = x.Value.Data;
        for (int p = 0; p < planes; p++)
        {
            int best = p * plane;
            for (int i = 1; i < plane; i++)
            {
                int j = p * plane + i;
                if (data[j] > data[best] || (T.IsNaN(data[j]) && !T.IsNaN(data[best]))) best = j;
            }
            argmax[p] = best;
        }
        return [c.Out(Ops.Gather(x, argmax, [shape[0], shape[1], .. Enumerable.Repeat(1, shape.Length - 2)]))];
    }

    private static GraphValue<T>?[] InstanceNormalization(NodeContext<T> c)
    {
        var x = c.Var(0);
        var shape = x.Value.ShapeArray;
        if (shape.Length < 3) throw c.Invalid($"input is {Errors.Shape(shape)}, expected [N, C, …]");
        var flat = Ops.Reshape(x, shape[0], shape[1], -1);
        var mean = Ops.MeanAxis(flat, 2, keepDims: true);
        var centered = Ops.Subtract(flat, mean);
        var variance = Ops.MeanAxis(Ops.Multiply(centered, centered), 2, keepDims: true);
        var y = Ops.Reshape(Ops.Divide(centered, Ops.Sqrt(Ops.AddScalar(variance, T.CreateTruncating(c.Float("epsilon", 1e-5))))), shape);
        var statShape = shape.Select((d, i) => i == 1 ? d : 1).ToArray();
        return [c.Out(Ops.Add(Ops.Multiply(y, Ops.Reshape(c.Var(1), statShape)), Ops.Reshape(c.Var(2), statShape)))];
    }

    private static GraphValue<T>?[] ConvTranspose(NodeContext<T> c)
    {
        // The adjoint of a convolution in its input: each input pixel spreads W-weighted copies over its output window.
        // cols = Wᵀ·x (a batched product), then a scatter-add through the convolution's window map read backwards.
        var x = c.Var(0);
        var weight = c.Var(1);
        var shape = x.Value.ShapeArray;
        var spatial = SpatialShape(c, shape);
        int s = spatial.Length, n = shape[0], channels = shape[1];
        int group = (int)c.Int("group", 1);
        var ws = weight.Value.ShapeArray;
        if (ws.Length != shape.Length || ws[0] != channels || group < 1 || channels % group != 0)
            throw c.Invalid($"weight {Errors.Shape(ws)} does not fit input {Errors.Shape(shape)} in {group} groups");
        int mg = ws[1], outChannels = mg * group, cg = channels / group;
        var kernel = ws[2..];
        var strides = c.Ints("strides")?.Select(v => (int)v).ToArray() ?? Enumerable.Repeat(1, s).ToArray();
        var dilations = c.Ints("dilations")?.Select(v => (int)v).ToArray() ?? Enumerable.Repeat(1, s).ToArray();
        var outputPadding = c.Ints("output_padding")?.Select(v => (int)v).ToArray() ?? new int[s];
        var pads = c.Ints("pads")?.Select(v => (int)v).ToArray() ?? new int[2 * s];
        if (strides.Length != s || dilations.Length != s || outputPadding.Length != s || pads.Length != 2 * s)
            throw c.Invalid($"strides, dilations, output_padding or pads do not match {s} spatial axes");
        string autoPad = c.String("auto_pad", "NOTSET");
        var requested = c.Ints("output_shape")?.Select(v => (int)v).ToArray();
        if (requested is not null && requested.Length == s + 2) requested = requested[2..];
        if (autoPad is "SAME_UPPER" or "SAME_LOWER" && requested is null) requested = spatial.Select((d, i) => d * strides[i]).ToArray();
        else if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER")) throw c.Unsupported($"auto_pad '{autoPad}'");
        if (autoPad == "VALID") pads = new int[2 * s];
        var outSpatial = new int[s];
        for (int d = 0; d < s; d++)
        {
            int full = strides[d] * (spatial[d] - 1) + outputPadding[d] + (kernel[d] - 1) * dilations[d] + 1;
            if (requested is not null)
            {
                if (requested.Length != s) throw c.Invalid($"output_shape has {requested.Length} entries for {s} spatial axes");
                // ONNX's rule, with floor division: a negative total (a larger output_shape) adds zeros at the end.
                int total = full - requested[d];
                int half = (int)Math.Floor(total / 2.0);
                pads[d] = autoPad == "SAME_UPPER" ? half : total - half;
                pads[d + s] = total - pads[d];
                outSpatial[d] = requested[d];
            }
            else outSpatial[d] = full - pads[d] - pads[d + s];
            if (outSpatial[d] <= 0) throw c.Invalid($"the output would have size {outSpatial[d]} on spatial axis {d}");
        }
        // The convolution from the output grid to the input grid, whose window map this op reads backwards.
        var w = new Window(outSpatial, kernel, strides, dilations, pads[..s], pads[s..], spatial);
        var window = WindowIndex(w);
        int k = w.KernelSize, p = w.OutputSize, outPlane = outSpatial.Aggregate(1, (a, d) => a * d);
        var filters = Ops.SwapLastAxes(Ops.Reshape(weight, 1, group, cg, mg * k));
        var cols = Ops.BatchMatMul(filters, Ops.Reshape(x, n, group, cg, p));
        var index = new int[n * group * mg * k * p];
        int at = 0;
        for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
                for (int mi = 0; mi < mg; mi++)
                {
                    int baseOffset = (b * outChannels + g * mg + mi) * outPlane;
                    for (int q = 0; q < k; q++)
                        for (int o = 0; o < p; o++)
                        {
                            int dst = window[o * k + q];
                            index[at++] = dst < 0 ? -1 : baseOffset + dst;
                        }
                }
        var y = Ops.ScatterAdd(cols, index, [n, outChannels, .. outSpatial]);
        if (c.Has(2)) y = Ops.Add(y, Ops.Reshape(c.Var(2), [1, outChannels, .. Enumerable.Repeat(1, s)]));
        return [c.Out(y)];
    }
}
