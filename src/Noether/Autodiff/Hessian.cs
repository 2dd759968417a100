using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Noether.Tensors;

namespace Noether.Autodiff;

/// <summary>A scalar function of several tensors, written with tape operations (e.g. a loss of parameters).</summary>
public delegate Variable<T> ScalarFunction<T>(Tape<T> tape, IReadOnlyList<Variable<T>> inputs) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// The Hessian of a scalar function at a point, as an operator: the gradient is recorded once with its
/// own backward graph (double backward), then each product Hv is one more backward pass through that
/// graph, seeded with v. Exact to rounding; no finite differences.
/// </summary>
/// <remarks>
/// Not thread-safe: call one method at a time (<see cref="Full(int, int)"/> parallelises internally, over
/// batched passes that only read the recorded graph).
/// </remarks>
public sealed class HessianOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tape<T> _tape = new();
    private readonly Variable<T>[] _inputs;
    private readonly Variable<T>[] _gradient;

    /// <summary>Records f and its gradient at <paramref name="point"/>.</summary>
    public HessianOperator(ScalarFunction<T> function, IReadOnlyList<Tensor<T>> point)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(point);
        if (point.Count == 0) throw Errors.Argument(nameof(point), "the point has no tensors");
        _inputs = new Variable<T>[point.Count];
        for (int i = 0; i < point.Count; i++) _inputs[i] = _tape.Leaf(point[i] ?? throw Errors.Null($"point[{i}]"));
        var value = function(_tape, _inputs);
        if (value.Value.Length != 1) throw Errors.BadShape("hessian", "function value", value.Shape, "a scalar");
        Value = value.Value.Data[0];
        _gradient = _tape.Gradient(value, _inputs, createGraph: true);
        Dimension = point.Sum(t => t.Length);
        Shapes = point.Select(t => t.ShapeArray).ToArray();
    }

    /// <summary>f at the point.</summary>
    public T Value { get; }

    /// <summary>Number of scalar inputs (the Hessian is Dimension × Dimension).</summary>
    public int Dimension { get; }

    /// <summary>The shapes of the input tensors.</summary>
    public IReadOnlyList<int[]> Shapes { get; }

    /// <summary>∇f at the point, one tensor per input.</summary>
    public Tensor<T>[] Gradient => _gradient.Select(g => g.Value).ToArray();

    /// <summary>H·v for v given tensor by tensor (shapes as the inputs).</summary>
    public Tensor<T>[] Multiply(IReadOnlyList<Tensor<T>> v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.Count != _inputs.Length) throw Errors.Argument(nameof(v), $"hessian-vector product: {v.Count} direction tensors for {_inputs.Length} inputs");
        for (int i = 0; i < v.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(v[i], $"v[{i}]");
            if (!v[i].Shape.SequenceEqual(Shapes[i]))
                throw Errors.ShapeMismatch("hessian-vector product", $"v[{i}]", v[i].Shape, $"input {i}", Shapes[i], "shapes differ");
        }
        // Copied out of the pool, which also never hands back the caller's tensor (the gradient of ½‖x‖² is x).
        return MultiplyPooled(v);
    }

    /// <summary>H·v for a flat v (inputs concatenated in order, each row-major).</summary>
    public T[] Multiply(ReadOnlySpan<T> v) => Multiply(v, pooled: true);

    /// <summary>
    /// H·v for a flat v, without the product pool when <paramref name="pooled"/> is false: for an operator used for one
    /// product (a per-batch graph), where the pool would only hold every temporary of the pass until it ends.
    /// </summary>
    internal T[] Multiply(ReadOnlySpan<T> v, bool pooled)
    {
        if (v.Length != Dimension) throw Errors.Argument(nameof(v), $"hessian-vector product: v has {v.Length} entries, expected {Dimension}");
        var parts = new Tensor<T>[Shapes.Count];
        int offset = 0;
        for (int i = 0; i < parts.Length; i++)
        {
            int n = Tensor<T>.Count(Shapes[i]);
            parts[i] = new Tensor<T>(v.Slice(offset, n).ToArray(), Shapes[i]);
            offset += n;
        }
        var result = new T[Dimension];
        offset = 0;
        foreach (var t in pooled ? MultiplyPooled(parts) : MultiplyCore(parts, null))
        {
            t.Data.CopyTo(result, offset);
            offset += t.Length;
        }
        return result;
    }

    // One product's temporaries (every tensor the backward pass allocates through the pool) are recycled for the next:
    // Lanczos and power iterations call Multiply hundreds of times with same-sized passes.
    private readonly Scratch<T> _productScratch = new();

    private Tensor<T>[] MultiplyPooled(IReadOnlyList<Tensor<T>> v)
    {
        Tensor<T>[] pooled;
        using (_productScratch.Enter()) pooled = MultiplyCore(v, null);
        try
        {
            // Outside the scope, so the copies are plain arrays that outlive the release.
            var result = new Tensor<T>[pooled.Length];
            for (int i = 0; i < pooled.Length; i++) result[i] = new Tensor<T>(pooled[i].Data.AsSpan().ToArray(), pooled[i].ShapeArray);
            return result;
        }
        finally
        {
            _productScratch.ReleaseAll();
        }
    }

    /// <summary>
    /// H·v for many directions at once: row k of <paramref name="directions"/> (k × Dimension, inputs concatenated
    /// as in <see cref="Multiply(ReadOnlySpan{T})"/>) gives row k of the result. Up to <see cref="DefaultBatchSize"/>
    /// directions share one batched backward pass (e.g. the probes of a stochastic trace estimate); graphs with an op
    /// lacking a batched rule fall back to one pass per direction.
    /// </summary>
    public Tensor<T> MultiplyMany(Tensor<T> directions) => MultiplyMany(directions, pooled: true);

    /// <summary>
    /// <see cref="MultiplyMany(Tensor{T})"/>, with the per-direction fallback outside the product pool when
    /// <paramref name="pooled"/> is false (an operator built for a few products of one batch: the pool would hold every
    /// temporary of a pass until it ends). Operators reused for many products keep the pool (fewer allocations).
    /// </summary>
    internal Tensor<T> MultiplyMany(Tensor<T> directions, bool pooled)
    {
        ArgumentNullException.ThrowIfNull(directions);
        if (directions.Rank != 2 || directions.Dim(1) != Dimension)
            throw Errors.BadShape("hessian-vector product", nameof(directions), directions.Shape, $"k×{Dimension} (one direction per row)");
        int count = directions.Dim(0), n = Dimension;
        var result = Tensor<T>.Zeros(count, n);
        var offsets = Offsets();
        bool batched = !Shapes.Any(shape => shape.Length >= Tensor<T>.MaxRank);
        var scratch = new Scratch<T>();
        for (int start = 0; start < count; start += DefaultBatchSize)
        {
            int b = Math.Min(DefaultBatchSize, count - start);
            if (batched)
            {
                using (scratch.Enter())
                {
                    // Row-major [b, n] splits into one [b, …shape] seed per input.
                    var seeds = new Tensor<T>[_inputs.Length];
                    for (int i = 0; i < seeds.Length; i++)
                    {
                        int size = offsets[i + 1] - offsets[i];
                        seeds[i] = Tensor<T>.Zeros(Batched.With(b, Shapes[i]));
                        for (int item = 0; item < b; item++)
                            Array.Copy(directions.Data, (start + item) * n + offsets[i], seeds[i].Data, item * size, size);
                    }
                    var hv = _tape.BatchedGradient(_gradient, seeds, _inputs, b);
                    if (hv is not null)
                        for (int i = 0; i < hv.Length; i++)
                        {
                            int size = offsets[i + 1] - offsets[i];
                            for (int item = 0; item < b; item++)
                                Array.Copy(hv[i].Data, item * size, result.Data, (start + item) * n + offsets[i], size);
                        }
                    batched = hv is not null;
                }
                scratch.ReleaseAll();
                if (batched) continue;
            }
            for (int item = 0; item < b; item++)
                Multiply(directions.Data.AsSpan((start + item) * n, n), pooled).CopyTo(result.Data, (start + item) * n);
        }
        return result;
    }

    private int[] Offsets()
    {
        var offsets = new int[_inputs.Length + 1];
        for (int i = 0; i < _inputs.Length; i++) offsets[i + 1] = offsets[i] + _inputs[i].Value.Length;
        return offsets;
    }

    /// <summary>Directions per backward pass in <see cref="Full()"/>.</summary>
    public const int DefaultBatchSize = 16;

    /// <summary>
    /// The full Hessian (inputs flattened in order), assembled from products H·e_j: the entries h_ji for i ≥ j come
    /// from H·e_j and are mirrored below the diagonal, so the result is exactly symmetric. Up to
    /// <see cref="DefaultBatchSize"/> directions share one backward pass (batched rules: one large kernel call per
    /// node instead of many small ones), and blocks of directions run on all processors; a graph with an op that has
    /// no batched rule falls back to one pass per column. Either way each column is the exact double-backward
    /// product, and the result does not depend on the number of threads.
    /// </summary>
    public Tensor<T> Full() => Full(DefaultBatchSize);

    /// <summary>The full Hessian with <paramref name="batchSize"/> directions per backward pass (1: one pass per column).</summary>
    /// <param name="batchSize">Directions per backward pass.</param>
    /// <param name="threads">Blocks of directions computed at once (0: one per processor). Batched passes only read the recorded graph.</param>
    public Tensor<T> Full(int batchSize, int threads = 0)
    {
        var h = new Tensor<T>(GC.AllocateUninitializedArray<T>(Dimension * Dimension), [Dimension, Dimension], true);
        FullInto(h, batchSize, threads);
        return h;
    }

    /// <summary>
    /// <see cref="Full(int, int)"/> written into <paramref name="destination"/> (Dimension × Dimension, overwritten).
    /// Reusing one buffer for many Hessians of the same size spares a large allocation each time: in .NET a fresh
    /// multi-megabyte array costs a full collection and page faults (about 2 ms for 750×750 here), as much as the
    /// arithmetic.
    /// </summary>
    public void FullInto(Tensor<T> destination, int batchSize = DefaultBatchSize, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Errors.ThrowIfNotPositive(batchSize, nameof(batchSize));
        if (threads < 0) throw Errors.OutOfRange(nameof(threads), threads, "0 (one per processor) or a positive count");
        int n = Dimension;
        if (!destination.HasShape(n, n)) throw Errors.BadShape("hessian", nameof(destination), destination.Shape, $"{n}×{n}");
        var h = destination.Data;
        var offsets = Offsets();
        int blocks = (n + batchSize - 1) / batchSize;
        var done = new bool[blocks];
        if (batchSize > 1 && blocks > 0)
        {
            // The first block on this thread (it tells whether batching works at all), the rest in parallel, each
            // worker recycling its temporaries from pass to pass.
            var scratch = new Scratch<T>();
            done[0] = TryBatch(0, Math.Min(batchSize, n), offsets, h, scratch);
            int workers = threads == 0 ? Environment.ProcessorCount : threads;
            if (done[0] && blocks > 1 && workers == 1)
                for (int k = 1; k < blocks; k++) done[k] = TryBatch(k * batchSize, Math.Min(batchSize, n - k * batchSize), offsets, h, scratch);
            else if (done[0] && blocks > 1)
                Parallel.For(1, blocks, new ParallelOptions { MaxDegreeOfParallelism = workers }, () => new Scratch<T>(), (k, _, pool) =>
                {
                    int col = k * batchSize;
                    done[k] = TryBatch(col, Math.Min(batchSize, n - col), offsets, h, pool);
                    return pool;
                }, _ => { });
        }
        // Blocks the batched rules could not do, one double-backward pass per column (the tape is not thread-safe).
        for (int k = 0; k < blocks; k++)
            if (!done[k])
            {
                int col = k * batchSize;
                Columns(col, Math.Min(batchSize, n - col), offsets, h);
            }
        LastFullWasBatched = blocks > 0 && done.All(d => d);
    }

    /// <summary>Whether the last <see cref="FullInto"/> ran batched passes throughout (for tests).</summary>
    internal bool LastFullWasBatched { get; private set; }

    // Rows col … col+b−1 of H from one batched pass; false if some op on the way has no batched rule.
    private bool TryBatch(int col, int b, int[] offsets, T[] h, Scratch<T> scratch)
    {
        using var scope = scratch.Enter();
        try
        {
            return TryBatchCore(col, b, offsets, h);
        }
        finally
        {
            // Every [B, …] tensor of the pass is dead once its rows are in h.
            scratch.ReleaseAll();
        }
    }

    private bool TryBatchCore(int col, int b, int[] offsets, T[] h)
    {
        int n = Dimension;
        foreach (var shape in Shapes) if (shape.Length >= Tensor<T>.MaxRank) return false; // no rank left for the batch axis
        var outputs = new List<Variable<T>>();
        var seeds = new List<Tensor<T>>();
        for (int i = 0; i < _inputs.Length; i++)
        {
            int lo = Math.Max(col, offsets[i]), hi = Math.Min(col + b, offsets[i + 1]);
            if (lo >= hi) continue; // e_j is zero on this block: its seed would add only zeros
            int size = offsets[i + 1] - offsets[i];
            var seed = Tensor<T>.Zeros(Batched.With(b, Shapes[i]));
            for (int j = lo; j < hi; j++) seed.Data[(j - col) * size + (j - offsets[i])] = T.One;
            outputs.Add(_gradient[i]);
            seeds.Add(seed);
        }
        // Only entries on and above the diagonal are written (WriteRows mirrors them): inputs that lie wholly to the
        // left of this block need no gradient, and skipping them prunes their branches from the pass.
        var wrt = new List<Variable<T>>();
        var parts = new Tensor<T>[_inputs.Length];
        for (int i = 0; i < _inputs.Length; i++) if (offsets[i + 1] > col) wrt.Add(_inputs[i]);
        var hv = _tape.BatchedGradient(outputs, seeds, wrt, b);
        if (hv is null) return false;
        for (int i = 0, k = 0; i < _inputs.Length; i++) if (offsets[i + 1] > col) parts[i] = hv[k++];
        WriteRows(h, n, col, b, parts, offsets);
        return true;
    }

    // Rows col … col+b−1 of H, one backward pass each.
    private void Columns(int col, int b, int[] offsets, T[] h)
    {
        int n = Dimension;
        var directions = new Tensor<T>[_inputs.Length];
        for (int i = 0; i < directions.Length; i++) directions[i] = Tensor<T>.Zeros(Shapes[i]);
        var active = new bool[_inputs.Length];
        for (int j = col; j < col + b; j++)
        {
            int part = Array.FindLastIndex(offsets, o => o <= j);
            active[part] = true;
            directions[part].Data[j - offsets[part]] = T.One;
            var column = MultiplyCore(directions, active);
            directions[part].Data[j - offsets[part]] = T.Zero;
            active[part] = false;
            WriteRows(h, n, j, 1, column, offsets);
        }
    }

    // Rows col … col+b−1 of H from the product tensors (one per input, items [B, …] in order): the entries on and
    // above the diagonal, h_ri for i ≥ r, and their mirror images h_ir in columns col … col+b−1, so H comes out exactly
    // symmetric, each pair from the product with the smaller index. Blocks write disjoint entries (they may run in
    // parallel); the mirror images go in row-contiguous runs of b, read from the block's own (cached) products.
    private static void WriteRows(T[] h, int n, int col, int b, Tensor<T>[] parts, int[] offsets)
    {
        for (int p = 0; p < parts.Length; p++)
        {
            int lo = offsets[p], hi = offsets[p + 1], size = hi - lo;
            if (hi <= col) continue;
            var src = parts[p].Data;
            for (int item = 0; item < b; item++)
            {
                int r = col + item, start = Math.Max(r, lo);
                if (start < hi) src.AsSpan(item * size + start - lo, hi - start).CopyTo(h.AsSpan(r * n + start, hi - start));
            }
            ref T from = ref MemoryMarshal.GetArrayDataReference(src);
            ref T to = ref MemoryMarshal.GetArrayDataReference(h);
            for (int i = Math.Max(lo, col + 1); i < hi; i++)
            {
                // Row i, columns col … col+items−1 (r = col + item < i), gathered from column i of the block's products.
                ref T row = ref Unsafe.Add(ref to, (nint)i * n + col);
                ref T column = ref Unsafe.Add(ref from, i - lo);
                int items = Math.Min(b, i - col);
                for (int item = 0; item < items; item++) Unsafe.Add(ref row, item) = Unsafe.Add(ref column, item * size);
            }
        }
    }

    // One backward pass through the recorded gradient graph seeded with v (only the active blocks when given).
    private Tensor<T>[] MultiplyCore(IReadOnlyList<Tensor<T>> v, bool[]? active)
    {
        int count = 0;
        for (int i = 0; i < v.Count; i++) if (active is null || active[i]) count++;
        var outputs = new Variable<T>[count];
        var seeds = new Variable<T>[count];
        for (int i = 0, k = 0; i < v.Count; i++)
        {
            if (active is not null && !active[i]) continue;
            outputs[k] = _gradient[i];
            seeds[k++] = _tape.Constant(v[i]);
        }
        var hv = _tape.Gradient(outputs, seeds, _inputs, createGraph: false);
        var result = new Tensor<T>[hv.Length];
        for (int i = 0; i < hv.Length; i++) result[i] = hv[i].Value;
        return result;
    }

}

/// <summary>Convenience entry points for Hessians of scalar functions.</summary>
public static class Hessian
{
    /// <summary>H(f)(point)·v, exact (double backward).</summary>
    public static Tensor<T>[] VectorProduct<T>(ScalarFunction<T> function, IReadOnlyList<Tensor<T>> point, IReadOnlyList<Tensor<T>> v)
        where T : unmanaged, IFloatingPointIeee754<T> => new HessianOperator<T>(function, point).Multiply(v);

    /// <summary>The full Hessian of f at the point (inputs flattened in order).</summary>
    public static Tensor<T> Full<T>(ScalarFunction<T> function, IReadOnlyList<Tensor<T>> point)
        where T : unmanaged, IFloatingPointIeee754<T> => new HessianOperator<T>(function, point).Full();

    /// <summary>
    /// The full Hessian of f at the point written into <paramref name="destination"/> (n×n, n the number of
    /// scalar inputs): for many Hessians of one size, reuse the buffer (see <see cref="HessianOperator{T}.FullInto"/>).
    /// </summary>
    public static void FullInto<T>(ScalarFunction<T> function, IReadOnlyList<Tensor<T>> point, Tensor<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => new HessianOperator<T>(function, point).FullInto(destination);
}
