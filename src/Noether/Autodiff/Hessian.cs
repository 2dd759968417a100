using System.Numerics;
using Noether.Tensors;

namespace Noether.Autodiff;

/// <summary>A scalar function of several tensors, written with tape operations (e.g. a loss of parameters).</summary>
public delegate Variable<T> ScalarFunction<T>(Tape<T> tape, IReadOnlyList<Variable<T>> inputs) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// The Hessian of a scalar function at a point, as an operator: the gradient is recorded once with its
/// own backward graph (double backward), then each product Hv is one more backward pass through that
/// graph, seeded with v. Exact to rounding; no finite differences.
/// </summary>
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
        if (point.Count == 0) throw new ArgumentException("the point has no tensors", nameof(point));
        _inputs = new Variable<T>[point.Count];
        for (int i = 0; i < point.Count; i++) _inputs[i] = _tape.Leaf(point[i] ?? throw new ArgumentNullException($"point[{i}]"));
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
        if (v.Count != _inputs.Length) throw new ArgumentException($"hessian-vector product: {v.Count} direction tensors for {_inputs.Length} inputs", nameof(v));
        for (int i = 0; i < v.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(v[i], $"v[{i}]");
            if (!v[i].Shape.SequenceEqual(Shapes[i]))
                throw Errors.ShapeMismatch("hessian-vector product", $"v[{i}]", v[i].Shape, $"input {i}", Shapes[i], "shapes differ");
        }
        var result = MultiplyCore(v, null);
        // A product may pass a direction through unchanged (the gradient of ½‖x‖² is x): never hand back the caller's tensor.
        for (int i = 0; i < result.Length; i++)
            if (ReferenceEquals(result[i].Data, v[i].Data)) result[i] = result[i].Clone();
        return result;
    }

    /// <summary>H·v for a flat v (inputs concatenated in order, each row-major).</summary>
    public T[] Multiply(ReadOnlySpan<T> v)
    {
        if (v.Length != Dimension) throw new ArgumentException($"hessian-vector product: v has {v.Length} entries, expected {Dimension}", nameof(v));
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
        foreach (var t in MultiplyCore(parts, null))
        {
            t.Data.CopyTo(result, offset);
            offset += t.Length;
        }
        return result;
    }

    /// <summary>Directions per backward pass in <see cref="Full()"/>.</summary>
    public const int DefaultBatchSize = 16;

    /// <summary>
    /// The full Hessian (inputs flattened in order), assembled from products H·e_j. Row j of the result is written
    /// from H·e_j (H is symmetric), then H is symmetrised, ½(H + Hᵀ), against rounding. Up to
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
        Errors.ThrowIfNotPositive(batchSize, nameof(batchSize));
        if (threads < 0) throw Errors.OutOfRange(nameof(threads), threads, "0 (one per processor) or a positive count");
        int n = Dimension;
        var h = GC.AllocateUninitializedArray<T>(n * n);
        var offsets = new int[_inputs.Length + 1];
        for (int i = 0; i < _inputs.Length; i++) offsets[i + 1] = offsets[i] + _inputs[i].Value.Length;
        int blocks = (n + batchSize - 1) / batchSize;
        var done = new bool[blocks];
        if (batchSize > 1 && blocks > 0)
        {
            // The first block on this thread (it tells whether batching works at all), the rest in parallel.
            done[0] = TryBatch(0, Math.Min(batchSize, n), offsets, h);
            if (done[0] && blocks > 1)
            {
                var options = new ParallelOptions { MaxDegreeOfParallelism = threads == 0 ? Environment.ProcessorCount : threads };
                Parallel.For(1, blocks, options, k =>
                {
                    int col = k * batchSize;
                    done[k] = TryBatch(col, Math.Min(batchSize, n - col), offsets, h);
                });
            }
        }
        // Blocks the batched rules could not do, one double-backward pass per column (the tape is not thread-safe).
        for (int k = 0; k < blocks; k++)
            if (!done[k])
            {
                int col = k * batchSize;
                Columns(col, Math.Min(batchSize, n - col), offsets, h);
            }
        Symmetrise(h, n);
        LastFullWasBatched = blocks > 0 && done.All(d => d);
        return new Tensor<T>(h, [n, n], true);
    }

    /// <summary>Whether the last <see cref="Full(int, int)"/> ran batched passes throughout (for tests).</summary>
    internal bool LastFullWasBatched { get; private set; }

    // Rows col … col+b−1 of H from one batched pass; false if some op on the way has no batched rule.
    private bool TryBatch(int col, int b, int[] offsets, T[] h)
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
        var hv = _tape.BatchedGradient(outputs, seeds, _inputs, b);
        if (hv is null) return false;
        for (int i = 0; i < hv.Length; i++)
        {
            int size = offsets[i + 1] - offsets[i];
            var data = hv[i].Data;
            for (int item = 0; item < b; item++)
                Array.Copy(data, item * size, h, (long)(col + item) * n + offsets[i], size);
        }
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
            int offset = j * n;
            foreach (var t in column)
            {
                t.Data.CopyTo(h, offset);
                offset += t.Length;
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

    // h ← ½(h + hᵀ) in tiles small enough that the strided column side stays in L1.
    private static void Symmetrise(T[] h, int n)
    {
        const int B = 16;
        var half = T.CreateChecked(0.5);
        for (int i0 = 0; i0 < n; i0 += B)
        {
            int i1 = Math.Min(i0 + B, n);
            for (int j0 = i0; j0 < n; j0 += B)
            {
                int j1 = Math.Min(j0 + B, n);
                for (int i = i0; i < i1; i++)
                {
                    int rowI = i * n;
                    for (int j = Math.Max(j0, i + 1); j < j1; j++)
                    {
                        ref T upper = ref h[rowI + j];
                        ref T lower = ref h[j * n + i];
                        var s = half * (upper + lower);
                        upper = s;
                        lower = s;
                    }
                }
            }
        }
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
}
