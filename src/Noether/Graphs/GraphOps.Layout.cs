using System.Numerics;
using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Graphs;

internal static partial class GraphOps<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // Layout ops are index maps (output element i takes input element index[i], or the fill value where index[i] = −1):
    // the same map folds host tensors and gathers runtime ones (Ops.Gather, linear, differentiable any number of times).

    private static GraphValue<T> Map(NodeContext<T> c, GraphValue<T> x, int[] index, int[] shape, double fill = 0)
    {
        if (x.Host is { } h)
        {
            var data = new double[index.Length];
            for (int i = 0; i < data.Length; i++) data[i] = index[i] < 0 ? fill : h.Data[index[i]];
            return c.Out(new HostTensor(h.Type, shape, data));
        }
        // Above rank 4 the result is held flat with its logical shape (only layout ops read it).
        bool flat = shape.Length > Tensor<T>.MaxRank;
        var physical = flat ? [index.Length] : shape;
        var y = Ops.Gather(x.Variable!, index, physical);
        if (fill != 0 && index.Any(i => i < 0))
        {
            var pad = Tensor<T>.Zeros(physical);
            for (int i = 0; i < index.Length; i++) if (index[i] < 0) pad.Data[i] = T.CreateTruncating(fill);
            y = Ops.Add(y, c.Tape.Constant(pad));
        }
        return flat ? new GraphValue<T>(y, shape) : c.Out(y);
    }

    private static GraphValue<T> ReshapeValue(NodeContext<T> c, GraphValue<T> x, int[] shape)
    {
        if (x.Host is { } h) return c.Out(new HostTensor(h.Type, shape, h.Data));
        if (shape.Length > Tensor<T>.MaxRank) return new GraphValue<T>(Ops.Reshape(x.Variable!, Count(shape)), shape);
        return c.Out(Ops.Reshape(x.Variable!, shape));
    }

    private static int Count(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        return checked((int)n);
    }

    private static int[] Strides(ReadOnlySpan<int> shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]; }
        return s;
    }

    // Calls visit(flat output index, output coordinates) for every element of shape, in row-major order.
    private static void ForEach(int[] shape, Action<int, int[]> visit)
    {
        int n = Count(shape);
        var counter = new int[shape.Length];
        for (int i = 0; i < n; i++)
        {
            visit(i, counter);
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (++counter[d] < shape[d]) break;
                counter[d] = 0;
            }
        }
    }

    /// <summary>The broadcast shape of a and b and, for each of its elements, the flat index into a and into b.</summary>
    private static (int[] Shape, int[] A, int[] B) Broadcast(NodeContext<T> c, int[] a, int[] b)
    {
        var shape = TensorOps.BroadcastShape(a, b, c.Node.OpType);
        return (shape, BroadcastIndex(a, shape), BroadcastIndex(b, shape));
    }

    private static int[] BroadcastIndex(int[] own, int[] shape)
    {
        var strides = Strides(own);
        int lead = shape.Length - own.Length;
        var index = new int[Count(shape)];
        ForEach(shape, (i, at) =>
        {
            int src = 0;
            for (int d = lead; d < shape.Length; d++) if (own[d - lead] != 1) src += at[d] * strides[d - lead];
            index[i] = src;
        });
        return index;
    }

    private static GraphValue<T>?[] Reshape(NodeContext<T> c)
    {
        var x = c.Input(0);
        var request = c.Opset >= 5 ? c.Host(1).ToLongs() : c.Ints("shape") ?? throw c.Invalid("no shape");
        bool allowZero = c.Int("allowzero", 0) != 0;
        var inShape = x.Shape;
        var shape = new int[request.Length];
        int inferred = -1;
        for (int d = 0; d < shape.Length; d++)
        {
            long r = request[d];
            if (r == -1)
            {
                if (inferred >= 0) throw c.Invalid("more than one −1 in the target shape");
                inferred = d;
                shape[d] = 1;
            }
            else if (r == 0 && !allowZero)
            {
                if (d >= inShape.Length) throw c.Invalid($"target dimension {d} is 0 (copy) but the input has rank {inShape.Length}");
                shape[d] = inShape[d];
            }
            else if (r < 0) throw c.Invalid($"target dimension {d} is {r}");
            else shape[d] = checked((int)r);
        }
        int total = Count(inShape);
        if (inferred >= 0)
        {
            int known = Count(shape);
            if (known == 0 || total % known != 0) throw c.Invalid($"cannot reshape {Errors.Shape(inShape)} to [{string.Join(",", request)}]");
            shape[inferred] = total / known;
        }
        if (Count(shape) != total) throw c.Invalid($"cannot reshape {Errors.Shape(inShape)} ({total} elements) to {Errors.Shape(shape)}");
        return [ReshapeValue(c, x, shape)];
    }

    private static GraphValue<T>?[] Flatten(NodeContext<T> c)
    {
        var x = c.Input(0);
        var shape = x.Shape;
        long axisAttr = c.Int("axis", 1);
        int axis = (int)(axisAttr < 0 ? axisAttr + shape.Length : axisAttr);
        if (axis < 0 || axis > shape.Length) throw c.Invalid($"axis {axisAttr} is outside [{-shape.Length}, {shape.Length}]");
        return [ReshapeValue(c, x, [Count(shape[..axis]), Count(shape[axis..])])];
    }

    private static GraphValue<T>?[] Transpose(NodeContext<T> c)
    {
        var x = c.Input(0);
        int rank = x.Shape.Length;
        var perm = c.Ints("perm")?.Select(p => (int)p).ToArray() ?? Enumerable.Range(0, rank).Reverse().ToArray();
        var (index, shape) = Ops.PermuteIndex(x.Shape, perm);
        return [Map(c, x, index, shape)];
    }

    private static long[] AxesInputOrAttribute(NodeContext<T> c, int since)
    {
        if (c.Opset >= since) return c.Has(1) ? c.Host(1).ToLongs() : [];
        return c.Ints("axes") ?? [];
    }

    private static GraphValue<T>?[] Squeeze(NodeContext<T> c)
    {
        var x = c.Input(0);
        var shape = x.Shape;
        var axes = AxesInputOrAttribute(c, 13).Select(a => c.Axis(a, shape.Length)).ToHashSet();
        if (axes.Count == 0) axes = Enumerable.Range(0, shape.Length).Where(d => shape[d] == 1).ToHashSet();
        foreach (int a in axes) if (shape[a] != 1) throw c.Invalid($"cannot squeeze axis {a} of size {shape[a]}");
        return [ReshapeValue(c, x, shape.Where((_, d) => !axes.Contains(d)).ToArray())];
    }

    private static GraphValue<T>?[] Unsqueeze(NodeContext<T> c)
    {
        var x = c.Input(0);
        var shape = x.Shape;
        var raw = AxesInputOrAttribute(c, 13);
        int rank = shape.Length + raw.Length;
        var axes = raw.Select(a => c.Axis(a, rank)).ToHashSet();
        if (axes.Count != raw.Length) throw c.Invalid("repeated axes");
        var result = new int[rank];
        for (int d = 0, j = 0; d < rank; d++) result[d] = axes.Contains(d) ? 1 : shape[j++];
        return [ReshapeValue(c, x, result)];
    }

    private static GraphValue<T>?[] Concat(NodeContext<T> c)
    {
        var parts = Enumerable.Range(0, c.Inputs.Length).Where(c.Has).Select(c.Input).ToArray();
        if (parts.Length == 0) throw c.Invalid("no inputs");
        int rank = parts[0].Shape.Length;
        int axis = c.Axis(c.Int("axis", 0), rank);
        // Empty parts (PyTorch exports concatenate with 0-length shape tensors) add nothing.
        var used = parts.Where(p => p.Shape[axis] > 0 || parts.All(q => q.Shape[axis] == 0)).ToArray();
        if (used.All(p => p.Host is not null))
        {
            var shape = (int[])used[0].Shape.Clone();
            shape[axis] = used.Sum(p => p.Shape[axis]);
            int outer = Count(shape[..axis]), inner = Count(shape[(axis + 1)..]);
            var data = new double[Count(shape)];
            int offset = 0;
            foreach (var p in used)
            {
                int len = p.Shape[axis];
                for (int o = 0; o < outer; o++)
                    Array.Copy(p.Host!.Data, o * len * inner, data, (o * shape[axis] + offset) * inner, len * inner);
                offset += len;
            }
            return [c.Out(new HostTensor(used[0].Host!.Type, shape, data))];
        }
        var vars = used.Select((p, i) => c.Var(Array.IndexOf(c.Inputs, p))).ToArray();
        return [c.Out(vars.Length == 1 ? vars[0] : Ops.Concat(vars, axis))];
    }

    // The index map of a strided slice along given axes.
    private static int[] SliceIndex(int[] inShape, int[] starts, int[] steps, int[] outShape)
    {
        var strides = Strides(inShape);
        var index = new int[Count(outShape)];
        ForEach(outShape, (i, at) =>
        {
            int src = 0;
            for (int d = 0; d < inShape.Length; d++) src += (starts[d] + at[d] * steps[d]) * strides[d];
            index[i] = src;
        });
        return index;
    }

    private static GraphValue<T>?[] Slice(NodeContext<T> c)
    {
        var x = c.Input(0);
        var shape = x.Shape;
        int rank = shape.Length;
        long[] startsIn, endsIn, axesIn, stepsIn;
        if (c.Opset >= 10)
        {
            startsIn = c.Host(1).ToLongs();
            endsIn = c.Host(2).ToLongs();
            axesIn = c.Has(3) ? c.Host(3).ToLongs() : Enumerable.Range(0, startsIn.Length).Select(i => (long)i).ToArray();
            stepsIn = c.Has(4) ? c.Host(4).ToLongs() : Enumerable.Repeat(1L, startsIn.Length).ToArray();
        }
        else
        {
            startsIn = c.Ints("starts") ?? throw c.Invalid("no starts");
            endsIn = c.Ints("ends") ?? throw c.Invalid("no ends");
            axesIn = c.Ints("axes") ?? Enumerable.Range(0, startsIn.Length).Select(i => (long)i).ToArray();
            stepsIn = Enumerable.Repeat(1L, startsIn.Length).ToArray();
        }
        if (endsIn.Length != startsIn.Length || axesIn.Length != startsIn.Length || stepsIn.Length != startsIn.Length)
            throw c.Invalid("starts, ends, axes and steps differ in length");
        var starts = new int[rank];
        var steps = Enumerable.Repeat(1, rank).ToArray();
        var outShape = (int[])shape.Clone();
        for (int k = 0; k < startsIn.Length; k++)
        {
            int axis = c.Axis(axesIn[k], rank);
            long dim = shape[axis], step = stepsIn[k];
            if (step == 0) throw c.Invalid("a step of 0");
            long start = startsIn[k], end = endsIn[k];
            if (start < 0) start += dim;
            if (end < 0) end += dim;
            long count;
            if (step > 0)
            {
                start = Math.Clamp(start, 0, dim);
                end = Math.Clamp(end, 0, dim);
                count = end > start ? (end - start + step - 1) / step : 0;
            }
            else
            {
                start = Math.Clamp(start, 0, dim - 1);
                end = Math.Clamp(end, -1, dim - 1);
                count = start > end ? (start - end + (-step) - 1) / (-step) : 0;
            }
            starts[axis] = (int)start;
            steps[axis] = (int)step;
            outShape[axis] = (int)count;
        }
        return [Map(c, x, SliceIndex(shape, starts, steps, outShape), outShape)];
    }

    private static GraphValue<T>?[] Split(NodeContext<T> c)
    {
        var x = c.Input(0);
        var shape = x.Shape;
        int axis = c.Axis(c.Int("axis", 0), shape.Length);
        int outputs = c.Node.Outputs.Length;
        long[]? sizes = c.Opset >= 13 ? (c.Has(1) ? c.Host(1).ToLongs() : null) : c.Ints("split");
        if (sizes is null || sizes.Length == 0)
        {
            if (c.Node.Attributes.ContainsKey("num_outputs")) outputs = (int)c.Int("num_outputs", outputs);
            int each = (shape[axis] + outputs - 1) / outputs;
            sizes = Enumerable.Range(0, outputs).Select(i => (long)Math.Max(0, Math.Min(each, shape[axis] - i * each))).ToArray();
        }
        if (sizes.Sum() != shape[axis]) throw c.Invalid($"split sizes [{string.Join(",", sizes)}] do not add up to dimension {shape[axis]}");
        var result = new GraphValue<T>?[sizes.Length];
        int offset = 0;
        for (int k = 0; k < sizes.Length; k++)
        {
            var starts = new int[shape.Length];
            starts[axis] = offset;
            var outShape = (int[])shape.Clone();
            outShape[axis] = (int)sizes[k];
            result[k] = Map(c, x, SliceIndex(shape, starts, Enumerable.Repeat(1, shape.Length).ToArray(), outShape), outShape);
            offset += (int)sizes[k];
        }
        return result;
    }

    private static GraphValue<T>?[] Gather(NodeContext<T> c)
    {
        var x = c.Input(0);
        var indices = c.Host(1);
        var shape = x.Shape;
        int axis = c.Axis(c.Int("axis", 0), shape.Length);
        int dim = shape[axis];
        var idx = indices.ToInts().Select(i =>
        {
            int j = i < 0 ? i + dim : i;
            if (j < 0 || j >= dim) throw c.Invalid($"index {i} is outside [{-dim}, {dim - 1}]");
            return j;
        }).ToArray();
        var outShape = shape[..axis].Concat(indices.Shape).Concat(shape[(axis + 1)..]).ToArray();
        int outer = Count(shape[..axis]), inner = Count(shape[(axis + 1)..]);
        var index = new int[outer * idx.Length * inner];
        int k = 0;
        for (int o = 0; o < outer; o++)
            foreach (int j in idx)
                for (int i = 0; i < inner; i++) index[k++] = (o * dim + j) * inner + i;
        return [Map(c, x, index, outShape)];
    }

    private static GraphValue<T>?[] Expand(NodeContext<T> c)
    {
        var x = c.Input(0);
        var target = c.Host(1).ToInts();
        var shape = TensorOps.BroadcastShape(x.Shape, target, "Expand");
        if (x.Host is not null) return [Map(c, x, BroadcastIndex(x.Shape, shape), shape)];
        c.CheckRank(shape);
        var v = x.Variable!;
        if (v.Rank < shape.Length) v = Ops.Reshape(v, [.. Enumerable.Repeat(1, shape.Length - v.Rank), .. v.Shape]);
        return [c.Out(Ops.BroadcastTo(v, shape))];
    }

    private static GraphValue<T>?[] Pad(NodeContext<T> c)
    {
        var x = c.Input(0);
        var shape = x.Shape;
        int rank = shape.Length;
        string mode = c.String("mode", "constant");
        long[] pads;
        double value;
        if (c.Opset >= 11)
        {
            pads = c.Host(1).ToLongs();
            value = c.Has(2) ? c.Host(2).Data[0] : 0;
            if (c.Has(3))
            {
                var axes = c.Host(3).ToLongs().Select(a => c.Axis(a, rank)).ToArray();
                var full = new long[2 * rank];
                for (int k = 0; k < axes.Length; k++) { full[axes[k]] = pads[k]; full[axes[k] + rank] = pads[k + axes.Length]; }
                pads = full;
            }
        }
        else
        {
            pads = c.Ints("pads") ?? throw c.Invalid("no pads");
            value = c.Float("value", 0);
        }
        if (pads.Length != 2 * rank) throw c.Invalid($"{pads.Length} pads for a rank-{rank} tensor");
        var outShape = new int[rank];
        for (int d = 0; d < rank; d++) outShape[d] = checked((int)(shape[d] + pads[d] + pads[d + rank]));
        if (outShape.Any(d => d < 0)) throw c.Invalid("negative padded size");
        var strides = Strides(shape);
        var index = new int[Count(outShape)];
        bool bad = false;
        ForEach(outShape, (i, at) =>
        {
            int src = 0;
            for (int d = 0; d < rank; d++)
            {
                long p = at[d] - pads[d];
                int n = shape[d];
                if (p < 0 || p >= n)
                {
                    switch (mode)
                    {
                        case "constant": src = -1; break;
                        case "edge": p = Math.Clamp(p, 0, n - 1); break;
                        case "reflect":
                            if (n == 1) p = 0;
                            else
                            {
                                long period = 2 * (n - 1);
                                p = ((p % period) + period) % period;
                                if (p >= n) p = period - p;
                            }
                            break;
                        default: bad = true; break;
                    }
                    if (src < 0) break;
                }
                src += (int)p * strides[d];
            }
            index[i] = src;
        });
        if (bad) throw c.Unsupported($"pad mode '{mode}'");
        return [Map(c, x, index, outShape, value)];
    }

    // ---- folded computations --------------------------------------------------------------------------------------

    private static GraphValue<T>?[] Shape(NodeContext<T> c)
    {
        var shape = c.Input(0).Shape;
        int rank = shape.Length;
        long start = c.Int("start", 0), end = c.Int("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank);
        end = Math.Clamp(end, start, rank);
        return [c.Out(HostTensor.Ints(shape[(int)start..(int)end].Select(d => (long)d).ToArray()))];
    }

    private static GraphValue<T>?[] Constant(NodeContext<T> c)
    {
        if (c.Attribute("value") is { Tensor: { } t }) return [c.Out(t)];
        if (c.Attribute("value_float") is { Float: { } f }) return [c.Out(new HostTensor(ElementType.Float, [], [f]))];
        if (c.Attribute("value_floats") is { Floats: { } fs }) return [c.Out(new HostTensor(ElementType.Float, [fs.Length], fs))];
        if (c.Attribute("value_int") is { Int: { } i }) return [c.Out(new HostTensor(ElementType.Int64, [], [i]))];
        if (c.Attribute("value_ints") is { Ints: { } ints }) return [c.Out(HostTensor.Ints(ints))];
        throw c.Unsupported($"a Constant with attributes {string.Join(", ", c.Node.Attributes.Keys)} (Noether reads value, value_float(s), value_int(s))");
    }

    private static GraphValue<T>?[] ConstantOfShape(NodeContext<T> c)
    {
        var shape = c.Host(0).ToInts();
        var value = c.Attribute("value")?.Tensor;
        double fill = value is null ? 0 : value.Data[0];
        var type = value?.Type ?? ElementType.Float;
        var data = new double[Count(shape)];
        Array.Fill(data, fill);
        return [c.Out(new HostTensor(type, shape, data))];
    }

    private static GraphValue<T>?[] Cast(NodeContext<T> c)
    {
        var to = (ElementType)c.Int("to", 0);
        var x = c.Input(0);
        if (to is not (ElementType.Float or ElementType.Double or ElementType.Int64 or ElementType.Int32 or ElementType.Int16 or ElementType.Int8
            or ElementType.UInt8 or ElementType.UInt16 or ElementType.UInt32 or ElementType.UInt64 or ElementType.Bool))
            throw c.Unsupported($"a cast to {to}");
        if (x.Host is null && x.Variable is not null && to is ElementType.Float or ElementType.Double)
            return [x]; // runtime values stay in the graph's float type
        var source = x.Host ?? new HostTensor(HostTensor.TypeOf<T>(), x.Shape, x.ToDoubles());
        if (source.Type is ElementType.String or ElementType.Float16 or ElementType.BFloat16) throw c.Unsupported($"a cast from {source.Type}");
        Func<double, double> convert = to switch
        {
            ElementType.Float => v => (float)v,
            ElementType.Double => v => v,
            ElementType.Bool => v => v != 0 ? 1 : 0,
            ElementType.Int8 => v => (sbyte)Math.Truncate(v),
            ElementType.UInt8 => v => (byte)Math.Truncate(v),
            ElementType.Int16 => v => (short)Math.Truncate(v),
            ElementType.UInt16 => v => (ushort)Math.Truncate(v),
            ElementType.Int32 => v => (int)Math.Truncate(v),
            _ => Math.Truncate,
        };
        var h = new HostTensor(to, source.Shape, source.Data.Select(convert).ToArray());
        return [c.Out(h)];
    }

    private static GraphValue<T>?[] Range(NodeContext<T> c)
    {
        double start = c.Host(0).Data[0], limit = c.Host(1).Data[0], delta = c.Host(2).Data[0];
        if (delta == 0) throw c.Invalid("delta is 0");
        int n = (int)Math.Max(0, Math.Ceiling((limit - start) / delta));
        var type = c.Host(0).Type;
        var data = new double[n];
        for (int i = 0; i < n; i++) data[i] = type == ElementType.Float ? (float)(start + i * delta) : start + i * delta;
        return [c.Out(new HostTensor(type, [n], data))];
    }

    private static GraphValue<T>?[] HostCompare(NodeContext<T> c, Func<double, double, bool> compare)
    {
        // A comparison's output is boolean (no derivative), so runtime operands are read as values.
        var a = c.Values(0);
        var b = c.Values(1);
        var (shape, ia, ib) = Broadcast(c, a.Shape, b.Shape);
        var data = new double[ia.Length];
        for (int i = 0; i < data.Length; i++) data[i] = compare(a.Data[ia[i]], b.Data[ib[i]]) ? 1 : 0;
        return [c.Out(new HostTensor(ElementType.Bool, shape, data))];
    }

    private static GraphValue<T>?[] Where(NodeContext<T> c)
    {
        var cond = c.Host(0);
        var shape = TensorOps.BroadcastShape(TensorOps.BroadcastShape(cond.Shape, c.Shape(1), "Where"), c.Shape(2), "Where");
        var ic = BroadcastIndex(cond.Shape, shape);
        var ia = BroadcastIndex(c.Shape(1), shape);
        var ib = BroadcastIndex(c.Shape(2), shape);
        if (!c.IsHost(1) || !c.IsHost(2))
        {
            // A fixed selection: two gathers (each −1 where the other operand is chosen), so it differentiates again.
            c.CheckRank(shape);
            var fromA = new int[ic.Length];
            var fromB = new int[ic.Length];
            for (int i = 0; i < ic.Length; i++)
            {
                bool pickA = cond.Data[ic[i]] != 0;
                fromA[i] = pickA ? ia[i] : -1;
                fromB[i] = pickA ? -1 : ib[i];
            }
            return [c.Out(Ops.Add(Ops.Gather(c.Var(1), fromA, shape), Ops.Gather(c.Var(2), fromB, shape)))];
        }
        var a = c.Host(1);
        var b = c.Host(2);
        var data = new double[ic.Length];
        for (int i = 0; i < data.Length; i++) data[i] = cond.Data[ic[i]] != 0 ? a.Data[ia[i]] : b.Data[ib[i]];
        return [c.Out(new HostTensor(a.Type, shape, data))];
    }

    private static GraphValue<T>?[] Tile(NodeContext<T> c)
    {
        var x = c.Input(0);
        var shape = x.Shape;
        var repeats = c.Host(1).ToInts();
        if (repeats.Length != shape.Length || repeats.Any(r => r < 0)) throw c.Invalid($"repeats [{string.Join(",", repeats)}] for a rank-{shape.Length} input");
        var outShape = shape.Select((d, i) => d * repeats[i]).ToArray();
        var strides = Strides(shape);
        var index = new int[Count(outShape)];
        ForEach(outShape, (i, at) =>
        {
            int src = 0;
            for (int d = 0; d < shape.Length; d++) src += at[d] % shape[d] * strides[d];
            index[i] = src;
        });
        return [Map(c, x, index, outShape)];
    }

    // A reshape, an axis permutation and a reshape, as one index map (the middle tensor has rank 6).
    private static GraphValue<T> Rearrange(NodeContext<T> c, GraphValue<T> x, int[] middle, int[] perm, int[] result)
    {
        var (index, _) = Ops.PermuteIndex(middle, perm);
        return Map(c, x, index, result);
    }

    private static GraphValue<T>?[] DepthToSpace(NodeContext<T> c)
    {
        var x = c.Input(0);
        var s = x.Shape;
        int b = (int)c.Int("blocksize", 0);
        if (s.Length != 4 || b < 1 || s[1] % (b * b) != 0) throw c.Invalid($"input {Errors.Shape(s)} and blocksize {b}");
        int n = s[0], ch = s[1] / (b * b), h = s[2], w = s[3];
        bool crd = c.String("mode", "DCR") == "CRD";
        return [crd
            ? Rearrange(c, x, [n, ch, b, b, h, w], [0, 1, 4, 2, 5, 3], [n, ch, h * b, w * b])
            : Rearrange(c, x, [n, b, b, ch, h, w], [0, 3, 4, 1, 5, 2], [n, ch, h * b, w * b])];
    }

    private static GraphValue<T>?[] SpaceToDepth(NodeContext<T> c)
    {
        var x = c.Input(0);
        var s = x.Shape;
        int b = (int)c.Int("blocksize", 0);
        if (s.Length != 4 || b < 1 || s[2] % b != 0 || s[3] % b != 0) throw c.Invalid($"input {Errors.Shape(s)} and blocksize {b}");
        int n = s[0], ch = s[1], h = s[2] / b, w = s[3] / b;
        return [Rearrange(c, x, [n, ch, h, b, w, b], [0, 3, 5, 1, 2, 4], [n, ch * b * b, h, w])];
    }

    private static GraphValue<T>?[] Trilu(NodeContext<T> c)
    {
        var x = c.Input(0);
        var shape = x.Shape;
        if (shape.Length < 2) throw c.Invalid($"input is {Errors.Shape(shape)}, expected rank ≥ 2");
        long k = c.Has(1) ? c.Host(1).ToLongs()[0] : 0;
        bool upper = c.Int("upper", 1) != 0;
        int rows = shape[^2], cols = shape[^1];
        var index = new int[Count(shape)];
        for (int i = 0; i < index.Length; i++)
        {
            int col = i % cols, row = i / cols % rows;
            long diagonal = col - row;
            index[i] = (upper ? diagonal >= k : diagonal <= k) ? i : -1;
        }
        return [Map(c, x, index, shape)];
    }

    private static GraphValue<T>?[] GatherElements(NodeContext<T> c)
    {
        var x = c.Input(0);
        var indices = c.Host(1);
        var shape = x.Shape;
        if (indices.Rank != shape.Length) throw c.Invalid($"indices are {Errors.Shape(indices.Shape)} for data {Errors.Shape(shape)} (ranks must agree)");
        int axis = c.Axis(c.Int("axis", 0), shape.Length);
        var strides = Strides(shape);
        var index = new int[indices.Length];
        bool bad = false;
        ForEach(indices.Shape, (i, at) =>
        {
            long j = (long)indices.Data[i];
            if (j < 0) j += shape[axis];
            if (j < 0 || j >= shape[axis]) { bad = true; return; }
            int src = 0;
            for (int d = 0; d < shape.Length; d++) src += (d == axis ? (int)j : at[d]) * strides[d];
            index[i] = src;
        });
        if (bad) throw c.Invalid($"an index is outside [{-shape[axis]}, {shape[axis] - 1}]");
        return [Map(c, x, index, indices.Shape)];
    }

    private static GraphValue<T>?[] TopK(NodeContext<T> c)
    {
        // The k largest (smallest) along an axis: the values a fixed gather (differentiable), the indices integers.
        var x = c.Input(0);
        var values = c.Values(0);
        var shape = x.Shape;
        int axis = c.Axis(c.Int("axis", -1), shape.Length);
        int k = c.Opset >= 10 ? (int)c.Host(1).ToLongs()[0] : (int)c.Int("k", 0);
        bool largest = c.Int("largest", 1) != 0;
        int n = shape[axis];
        if (k < 0 || k > n) throw c.Invalid($"k = {k} for an axis of size {n}");
        int outer = Count(shape[..axis]), inner = Count(shape[(axis + 1)..]);
        var outShape = (int[])shape.Clone();
        outShape[axis] = k;
        var index = new int[outer * k * inner];
        var positions = new double[index.Length];
        var order = new int[n];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                for (int j = 0; j < n; j++) order[j] = j;
                int Key(int j) => (o * n + j) * inner + i;
                // Stable: equal values keep the lower index first (ONNX's rule).
                var sorted = largest
                    ? order.OrderByDescending(j => values.Data[Key(j)]).ThenBy(j => j).ToArray()
                    : order.OrderBy(j => values.Data[Key(j)]).ThenBy(j => j).ToArray();
                for (int r = 0; r < k; r++)
                {
                    int dst = (o * k + r) * inner + i;
                    index[dst] = Key(sorted[r]);
                    positions[dst] = sorted[r];
                }
            }
        return [Map(c, x, index, outShape), c.Out(new HostTensor(ElementType.Int64, outShape, positions))];
    }
}
