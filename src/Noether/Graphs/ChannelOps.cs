using System.Numerics;
using Noether.Autodiff;
using Noether.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Graphs;

/// <summary>
/// Per-channel tape ops on [N, C, …] tensors (any rank ≥ 2; the axes after 1 are flattened to one plane of S values)
/// that BatchNormalization and ReLU are fused from, so a normalised layer records one full-size tensor instead of four
/// to six. Each op's backward rule is written with the others (scale ↔ dot, sum ↔ broadcast, relu ↔ its mask), so they
/// differentiate any number of times: exact Hessian-vector products through BatchNorm and ReLU.
/// </summary>
internal static class ChannelOps<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static (int N, int C, int S) Split(ReadOnlySpan<int> shape)
    {
        int s = 1;
        for (int d = 2; d < shape.Length; d++) s *= shape[d];
        return (shape[0], shape[1], s);
    }

    // Every op takes an optional mask (one flag per element, null: all set) that zeroes the elements it clears — a ReLU
    // fused into the op before or after it. With M the 0/1 diagonal, M² = M keeps the adjoint pairs exact:
    // Scale_M(x, a) = M(x·a) ↔ Dot_M(g, x) = Σ M·g·x, and Sum_M(x) = Σ M·x ↔ Broadcast_M(u) = M·u.

    /// <summary>y = x·a[c] (a of length C), zero where <paramref name="mask"/> is clear.</summary>
    public static Variable<T> Scale(Variable<T> x, Variable<T> a, bool[]? mask = null)
    {
        var (n, c, s) = Split(x.Shape);
        var value = new Tensor<T>(Scratch<T>.Uninitialized(x.Value.Length), x.Value.ShapeArray);
        var src = x.Value.Data;
        var dst = value.Data;
        var factor = a.Value.Data;
        for (int b = 0, off = 0; b < n; b++)
            for (int k = 0; k < c; k++, off += s)
            {
                TensorPrimitives.Multiply<T>(src.AsSpan(off, s), factor[k], dst.AsSpan(off, s));
                if (mask is not null) ApplyMask(dst, mask, off, s);
            }
        return x.Tape.Record(value, [x, a], g => [x.RequiresGrad ? Scale(g, a, mask) : null, a.RequiresGrad ? Dot(g, x, mask) : null]);
    }

    /// <summary>r[c] = Σ over batch and plane of x·y where <paramref name="mask"/> is set (bilinear; the adjoint of <see cref="Scale"/> in a).</summary>
    public static Variable<T> Dot(Variable<T> x, Variable<T> y, bool[]? mask = null)
    {
        var (n, c, s) = Split(x.Shape);
        var value = Tensor<T>.Zeros(c);
        var xs = x.Value.Data;
        var ys = y.Value.Data;
        var r = value.Data;
        for (int b = 0, off = 0; b < n; b++)
            for (int k = 0; k < c; k++, off += s)
            {
                if (mask is null)
                {
                    r[k] += TensorPrimitives.Dot<T>(xs.AsSpan(off, s), ys.AsSpan(off, s));
                    continue;
                }
                T acc = T.Zero;
                for (int i = off; i < off + s; i++) if (mask[i]) acc += xs[i] * ys[i];
                r[k] += acc;
            }
        return x.Tape.Record(value, [x, y], u => [x.RequiresGrad ? Scale(y, u, mask) : null, y.RequiresGrad ? Scale(x, u, mask) : null]);
    }

    /// <summary>r[c] = Σ over batch and plane of x where <paramref name="mask"/> is set.</summary>
    public static Variable<T> Sum(Variable<T> x, bool[]? mask = null)
    {
        var shape = x.Value.ShapeArray;
        var (n, c, s) = Split(shape);
        var value = Tensor<T>.Zeros(c);
        var xs = x.Value.Data;
        var r = value.Data;
        for (int b = 0, off = 0; b < n; b++)
            for (int k = 0; k < c; k++, off += s)
            {
                if (mask is null)
                {
                    r[k] += TensorPrimitives.Sum<T>(xs.AsSpan(off, s));
                    continue;
                }
                T acc = T.Zero;
                for (int i = off; i < off + s; i++) if (mask[i]) acc += xs[i];
                r[k] += acc;
            }
        return x.Tape.Record(value, [x], u => [Broadcast(u, shape, mask)]);
    }

    /// <summary>y[n, c, …] = u[c] (zero where <paramref name="mask"/> is clear), of the given shape (the adjoint of <see cref="Sum"/>).</summary>
    public static Variable<T> Broadcast(Variable<T> u, int[] shape, bool[]? mask = null)
    {
        var (n, c, s) = Split(shape);
        var value = new Tensor<T>(Scratch<T>.Uninitialized(n * c * s), shape);
        var src = u.Value.Data;
        var dst = value.Data;
        for (int b = 0, off = 0; b < n; b++)
            for (int k = 0; k < c; k++, off += s)
            {
                dst.AsSpan(off, s).Fill(src[k]);
                if (mask is not null) ApplyMask(dst, mask, off, s);
            }
        return u.Tape.Record(value, [u], g => [Sum(g, mask)]);
    }

    // ((x − mean)/σ)·scale + bias per channel, in that order of roundings; with relu, max(0, ·) as ReluInPlace does it, and its mask.
    private static (Tensor<T> Value, bool[]? Mask) Normalize(Tensor<T> x, Tensor<T> scale, Tensor<T> bias, T[] mean, T[] sigma, int n, int c, int s, bool relu)
    {
        var value = new Tensor<T>(Scratch<T>.Uninitialized(x.Length), x.ShapeArray);
        var mask = relu ? new bool[x.Length] : null;
        var src = x.Data;
        var dst = value.Data;
        var w = scale.Data;
        var b0 = bias.Data;
        Ranges.For(c, x.Length, (first, last) =>
        {
            for (int b = 0; b < n; b++)
                for (int k = first, off = (b * c + first) * s; k < last; k++, off += s)
                {
                    T m = mean[k], sd = sigma[k], sk = w[k], bk = b0[k];
                    int i = 0;
                    if (Simd)
                    {
                        var vm = Vector256.Create(m);
                        var vsd = Vector256.Create(sd);
                        var vsk = Vector256.Create(sk);
                        var vbk = Vector256.Create(bk);
                        for (; i <= s - Vector256<T>.Count; i += Vector256<T>.Count)
                        {
                            // Each lane rounds as the scalar loop below: subtract, divide, multiply, add (no fused multiply-add).
                            var v = (Vector256.LoadUnsafe(ref src[off], (nuint)i) - vm) / vsd * vsk + vbk;
                            if (mask is not null) v = ReluLanes(v, mask, off + i);
                            v.StoreUnsafe(ref dst[off], (nuint)i);
                        }
                    }
                    for (i += off; i < off + s; i++)
                    {
                        T v = (src[i] - m) / sd * sk + bk;
                        if (mask is not null) v = ReluScalar(v, mask, i);
                        dst[i] = v;
                    }
                }
        });
        return (value, mask);
    }

    // d[i] = d[i]·0 where the mask is clear (as a ReLU's x·mask: NaN stays NaN).
    private static void ApplyMask(T[] d, bool[] mask, int off, int count)
    {
        for (int i = off; i < off + count; i++) if (!mask[i]) d[i] *= T.Zero;
    }

    // In place: y = max(0, y) as y·[y > 0], returning the mask.
    private static bool[] ReluInPlace(T[] y)
    {
        var mask = new bool[y.Length];
        Ranges.For(y.Length, y.Length, (start, end) => ReluInPlace(y, mask, start, end), Vector256<T>.Count);
        return mask;
    }

    private static void ReluInPlace(T[] y, bool[] mask, int start, int end)
    {
        int i = start;
        if (Simd)
            for (; i <= end - Vector256<T>.Count; i += Vector256<T>.Count)
                ReluLanes(Vector256.LoadUnsafe(ref y[0], (nuint)i), mask, i).StoreUnsafe(ref y[0], (nuint)i);
        for (; i < end; i++) y[i] = ReluScalar(y[i], mask, i);
    }

    // v·[v > 0] (v·0 where not: −0 for negative v, NaN for NaN), recording [v > 0] in mask[i].
    private static T ReluScalar(T v, bool[] mask, int i)
    {
        bool on = v > T.Zero;
        mask[i] = on;
        return on ? v : v * T.Zero;
    }

    // ReluScalar on every lane: the lanes' [v > 0] bits become one byte each in mask[at …] (through a table of 8-byte
    // patterns), and v is multiplied by 1 or 0 — the same product, so the same bits, as the scalar form.
    private static Vector256<T> ReluLanes(Vector256<T> v, bool[] mask, int at)
    {
        var on = Vector256.GreaterThan(v, Vector256<T>.Zero);
        uint bits = on.ExtractMostSignificantBits();
        ref byte target = ref Unsafe.As<bool, byte>(ref mask[at]);
        if (Vector256<T>.Count == 8) Unsafe.WriteUnaligned(ref target, MaskBytes[bits]);
        else if (Vector256<T>.Count == 4) Unsafe.WriteUnaligned(ref target, (uint)MaskBytes[bits]);
        else
            for (int j = 0; j < Vector256<T>.Count; j++) Unsafe.Add(ref target, j) = (byte)((bits >> j) & 1);
        return v * (on & Vector256<T>.One);
    }

    // Vector kernels for float32 and float64 with AVX2 (the mask bytes widen to lanes with vpmovzx); scalar loops otherwise.
    private static readonly bool Simd = Avx2.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double));

    // Lanes of 1 or 0 from the mask bytes at [at, at + lanes).
    private static Vector256<T> MaskFactor(bool[] mask, int at)
    {
        ref byte source = ref Unsafe.As<bool, byte>(ref mask[at]);
        if (typeof(T) == typeof(float))
            return Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref source)).AsByte())).As<float, T>();
        return Avx.ConvertToVector256Double(Sse41.ConvertToVector128Int32(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(ref source)).AsByte())).As<double, T>();
    }

    // g·[on]: g·1, or g·0 (−0 for negative g, NaN for ±∞ or NaN): the scalar form of MaskFactor's lanes.
    private static T Gated(T g, bool on) => g * (on ? T.One : T.Zero);

    // g·[mask] elementwise (g·1 or g·0, as the scalar rule), into a new array.
    private static T[] Masked(T[] g, bool[] mask)
    {
        var result = Scratch<T>.Uninitialized(g.Length);
        Ranges.For(g.Length, g.Length, (start, end) =>
        {
            int i = start;
            if (Simd)
                for (; i <= end - Vector256<T>.Count; i += Vector256<T>.Count)
                    (Vector256.LoadUnsafe(ref g[0], (nuint)i) * MaskFactor(mask, i)).StoreUnsafe(ref result[0], (nuint)i);
            for (; i < end; i++) result[i] = Gated(g[i], mask[i]);
        }, Vector256<T>.Count);
        return result;
    }

    // MaskBytes[b]: byte j is bit j of b.
    private static readonly ulong[] MaskBytes = Enumerable.Range(0, 256)
        .Select(b => Enumerable.Range(0, 8).Aggregate(0UL, (acc, j) => acc | ((ulong)((b >> j) & 1) << (8 * j)))).ToArray();

    /// <summary>
    /// BatchNormalization with fixed statistics: y = ((x − mean[c]) / σ[c])·scale[c] + bias[c], σ = √(variance + ε), in the
    /// order and rounding of those four elementwise steps. Backward: ∂x = g·(scale/σ), ∂scale = (Σ g·x − mean·Σ g)/σ,
    /// ∂bias = Σ g — all per-channel ops, so the rule differentiates again.
    /// </summary>
    /// <param name="x">Input [N, C, …].</param>
    /// <param name="scale">Per-channel scale [C].</param>
    /// <param name="bias">Per-channel shift [C].</param>
    /// <param name="mean">The fixed mean per channel.</param>
    /// <param name="sigma">√(variance + ε) per channel.</param>
    /// <param name="relu">Return max(0, y) instead (a ReLU fused in: the pre-ReLU tensor is never kept).</param>
    public static Variable<T> NormalizeFixed(Variable<T> x, Variable<T> scale, Variable<T> bias, T[] mean, T[] sigma, bool relu = false)
    {
        var (n, c, s) = Split(x.Shape);
        var (value, mask) = Normalize(x.Value, scale.Value, bias.Value, mean, sigma, n, c, s, relu);
        var tape = x.Tape;
        return tape.Record(value, [x, scale, bias], g =>
        {
            var sigmaConstant = tape.Constant(new Tensor<T>(sigma, c));
            Variable<T>? sum = scale.RequiresGrad || bias.RequiresGrad ? Sum(g, mask) : null;
            Variable<T>? dx = x.RequiresGrad ? Scale(g, Ops.Divide(scale, sigmaConstant), mask) : null;
            Variable<T>? dscale = null;
            if (scale.RequiresGrad)
                dscale = Ops.Divide(Ops.Subtract(Dot(g, x, mask), Ops.Multiply(sum!, tape.Constant(new Tensor<T>(mean, c)))), sigmaConstant);
            return [dx, dscale, bias.RequiresGrad ? sum : null];
        });
    }

    /// <summary>
    /// BatchNormalization with the batch's statistics (PyTorch's <c>train()</c>): per channel μ and the biased variance
    /// v over batch and plane, y = ((x − μ)/σ)·scale + bias with σ = √(v + ε), differentiated through μ and σ. One pass
    /// for the statistics (summed in double), one for y; the first-order backward is the fused textbook rule
    /// ∂x = (scale/σ)·(g − mean(g) − x̂·mean(g·x̂)) with x̂ recomputed, ∂scale = Σ g·x̂, ∂bias = Σ g. When the backward pass
    /// is itself recorded (double backward), the rule is the vector-Jacobian product of <paramref name="composed"/> (the
    /// same function written with differentiable elementwise ops), recorded on the tape.
    /// </summary>
    /// <param name="x">Input [N, C, …].</param>
    /// <param name="scale">Per-channel scale [C].</param>
    /// <param name="bias">Per-channel shift [C].</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="composed">The same normalisation from elementwise tape ops, for the recorded backward.</param>
    /// <param name="mean">The batch mean per channel.</param>
    /// <param name="variance">The biased batch variance per channel.</param>
    /// <param name="relu">Return max(0, y) instead (a ReLU fused in; <paramref name="composed"/> is then followed by a ReLU too).</param>
    public static Variable<T> NormalizeBatch(Variable<T> x, Variable<T> scale, Variable<T> bias, T epsilon,
        Func<Variable<T>, Variable<T>, Variable<T>, Variable<T>> composed, out double[] mean, out double[] variance, bool relu = false)
    {
        var (n, c, s) = Split(x.Shape);
        double count = (double)n * s;
        var src = x.Value.Data;
        var mu = new T[c];
        var sigma = new T[c];
        mean = new double[c];
        variance = new double[c];
        var sums = mean;
        var squares = variance;
        long length = src.Length;
        // Each channel's sums run over the batch in order whatever the split (one range of channels per core).
        Ranges.For(c, length, (first, last) =>
        {
            for (int b = 0; b < n; b++)
                for (int k = first, off = (b * c + first) * s; k < last; k++, off += s)
                    sums[k] += double.CreateTruncating(TensorPrimitives.Sum<T>(src.AsSpan(off, s)));
        });
        for (int k = 0; k < c; k++)
        {
            mean[k] /= count;
            mu[k] = T.CreateTruncating(mean[k]);
        }
        Ranges.For(c, length, (first, last) =>
        {
            for (int b = 0; b < n; b++)
                for (int k = first, off = (b * c + first) * s; k < last; k++, off += s)
                {
                    T m = mu[k], acc = T.Zero;
                    int i = 0;
                    if (Simd && s >= Vector256<T>.Count)
                    {
                        Vector256<T> vacc = Vector256<T>.Zero, vm = Vector256.Create(m);
                        for (; i <= s - Vector256<T>.Count; i += Vector256<T>.Count)
                        {
                            var d = Vector256.LoadUnsafe(ref src[off], (nuint)i) - vm;
                            vacc += d * d;
                        }
                        acc = Vector256.Sum(vacc);
                    }
                    for (i += off; i < off + s; i++)
                    {
                        T d = src[i] - m;
                        acc += d * d;
                    }
                    squares[k] += double.CreateTruncating(acc);
                }
        });
        for (int k = 0; k < c; k++)
        {
            variance[k] /= count;
            sigma[k] = T.Sqrt(T.CreateTruncating(variance[k]) + epsilon);
        }
        var (value, mask) = Normalize(x.Value, scale.Value, bias.Value, mu, sigma, n, c, s, relu);
        var tape = x.Tape;
        return tape.Record(value, [x, scale, bias], g =>
        {
            if (tape.IsRecording)
            {
                var again = composed(x, scale, bias);
                if (relu) again = Relu(again);
                return tape.Gradient([again], [g], [x, scale, bias], createGraph: true);
            }
            var (dx, dscale, dbias) = BatchBackward(g.Value, mask, x.Value, scale.Value, mu, sigma, n, c, s, x.RequiresGrad);
            return [dx is null ? null : tape.Constant(dx), scale.RequiresGrad ? tape.Constant(dscale) : null, bias.RequiresGrad ? tape.Constant(dbias) : null];
        });
    }

    private static (Tensor<T>? Dx, Tensor<T> Dscale, Tensor<T> Dbias) BatchBackward(Tensor<T> gradient, bool[]? mask, Tensor<T> input, Tensor<T> scale, T[] mu, T[] sigma,
        int n, int c, int s, bool wantInput)
    {
        // The fused ReLU's backward, g·[y > 0], is applied as g is read (both passes), not as a pass of its own: the same
        // products, one tensor less written and read.
        var g = gradient.Data;
        bool masked = mask is not null;
        var mk = mask ?? [];
        var x = input.Data;
        var sumG = new double[c];
        var sumGx = new double[c];
        int lanes = Vector256<T>.Count;
        Ranges.For(c, x.Length, (first, last) =>
        {
            for (int b = 0; b < n; b++)
                for (int k = first, off = (b * c + first) * s; k < last; k++, off += s)
                {
                    T m = mu[k], inv = T.One / sigma[k], ag = T.Zero, agx = T.Zero;
                    int i = 0;
                    if (Simd && s >= lanes)
                    {
                        Vector256<T> vg = Vector256<T>.Zero, vgx = Vector256<T>.Zero, vm = Vector256.Create(m), vinv = Vector256.Create(inv);
                        for (; i <= s - lanes; i += lanes)
                        {
                            var gi = Vector256.LoadUnsafe(ref g[off], (nuint)i);
                            if (masked) gi *= MaskFactor(mk, off + i);
                            vg += gi;
                            vgx += gi * ((Vector256.LoadUnsafe(ref x[off], (nuint)i) - vm) * vinv);
                        }
                        ag = Vector256.Sum(vg);
                        agx = Vector256.Sum(vgx);
                    }
                    for (i += off; i < off + s; i++)
                    {
                        T gi = masked ? Gated(g[i], mk[i]) : g[i];
                        ag += gi;
                        agx += gi * ((x[i] - m) * inv);
                    }
                    sumG[k] += double.CreateTruncating(ag);
                    sumGx[k] += double.CreateTruncating(agx);
                }
        });
        var dscale = new Tensor<T>(sumGx.Select(v => T.CreateTruncating(v)).ToArray(), c);
        var dbias = new Tensor<T>(sumG.Select(v => T.CreateTruncating(v)).ToArray(), c);
        if (!wantInput) return (null, dscale, dbias);
        double count = (double)n * s;
        var dx = new Tensor<T>(Scratch<T>.Uninitialized(g.Length), input.ShapeArray);
        var d = dx.Data;
        var w = scale.Data;
        Ranges.For(c, x.Length, (first, last) =>
        {
            for (int b = 0; b < n; b++)
                for (int k = first, off = (b * c + first) * s; k < last; k++, off += s)
                {
                    T m = mu[k], inv = T.One / sigma[k], factor = w[k] * inv;
                    T meanG = T.CreateTruncating(sumG[k] / count), meanGx = T.CreateTruncating(sumGx[k] / count);
                    int i = 0;
                    if (Simd)
                    {
                        Vector256<T> vm = Vector256.Create(m), vinv = Vector256.Create(inv), vf = Vector256.Create(factor), vmg = Vector256.Create(meanG), vmgx = Vector256.Create(meanGx);
                        for (; i <= s - lanes; i += lanes)
                        {
                            var gi = Vector256.LoadUnsafe(ref g[off], (nuint)i);
                            if (masked) gi *= MaskFactor(mk, off + i);
                            (vf * (gi - vmg - (Vector256.LoadUnsafe(ref x[off], (nuint)i) - vm) * vinv * vmgx)).StoreUnsafe(ref d[off], (nuint)i);
                        }
                    }
                    for (i += off; i < off + s; i++)
                    {
                        T gi = masked ? Gated(g[i], mk[i]) : g[i];
                        d[i] = factor * (gi - meanG - (x[i] - m) * inv * meanGx);
                    }
                }
        });
        return (dx, dscale, dbias);
    }

    /// <summary>
    /// max(0, x), as x·mask with mask = [x &gt; 0] (so −0 for negative x and NaN for NaN, as <see cref="Ops.Relu{T}"/>), the
    /// mask kept as one byte per element instead of a tensor. Backward: g·mask, itself masked again.
    /// </summary>
    public static Variable<T> Relu(Variable<T> x)
    {
        var value = new Tensor<T>(Scratch<T>.Uninitialized(x.Value.Length), x.Value.ShapeArray);
        x.Value.Data.AsSpan().CopyTo(value.Data);
        return Masked(x, value, ReluInPlace(value.Data));
    }

    /// <summary>max(0, a + b) for equal shapes, without keeping a + b: the backward passes g·[a + b &gt; 0] to both.</summary>
    public static Variable<T> AddRelu(Variable<T> a, Variable<T> b)
    {
        if (!a.Value.SameShape(b.Value)) throw Errors.ShapeMismatch("add-relu", "a", a.Value.Shape, "b", b.Value.Shape, "the shapes must be equal");
        var value = new Tensor<T>(Scratch<T>.Uninitialized(a.Value.Length), a.Value.ShapeArray);
        var mask = new bool[value.Length];
        T[] x = a.Value.Data, y = b.Value.Data, sum = value.Data;
        // One pass: each range is added and rectified while it is still in cache.
        Ranges.For(sum.Length, sum.Length, (start, end) =>
        {
            System.Numerics.Tensors.TensorPrimitives.Add<T>(x.AsSpan(start, end - start), y.AsSpan(start, end - start), sum.AsSpan(start, end - start));
            ReluInPlace(sum, mask, start, end);
        }, Vector256<T>.Count);
        return a.Tape.Record(value, [a, b], g =>
        {
            var masked = ApplyMask(g, mask);
            return [a.RequiresGrad ? masked : null, b.RequiresGrad ? masked : null];
        });
    }

    private static Variable<T> Masked(Variable<T> x, Tensor<T> value, bool[] mask) =>
        x.Tape.Record(value, [x], g => [ApplyMask(g, mask)]);

    private static Variable<T> ApplyMask(Variable<T> g, bool[] mask)
    {
        var value = new Tensor<T>(Masked(g.Value.Data, mask), g.Value.ShapeArray);
        return Masked(g, value, mask);
    }
}
