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
        var seeds = new Variable<T>[v.Count];
        for (int i = 0; i < v.Count; i++)
        {
            if (!v[i].Shape.SequenceEqual(Shapes[i]))
                throw Errors.ShapeMismatch("hessian-vector product", $"v[{i}]", v[i].Shape, $"input {i}", Shapes[i], "shapes differ");
            seeds[i] = _tape.Constant(v[i]);
        }
        var hv = _tape.Gradient(_gradient, seeds, _inputs, createGraph: false);
        return hv.Select(x => x.Value).ToArray();
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
        foreach (var t in Multiply(parts))
        {
            t.Data.CopyTo(result, offset);
            offset += t.Length;
        }
        return result;
    }

    /// <summary>The full Hessian, column by column from unit vectors, then symmetrised against rounding.</summary>
    public Tensor<T> Full()
    {
        int n = Dimension;
        var h = Tensor<T>.Zeros(n, n);
        var e = new T[n];
        for (int j = 0; j < n; j++)
        {
            e[j] = T.One;
            var column = Multiply(e);
            e[j] = T.Zero;
            for (int i = 0; i < n; i++) h.Data[i * n + j] = column[i];
        }
        var half = T.CreateChecked(0.5);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                var s = half * (h.Data[i * n + j] + h.Data[j * n + i]);
                h.Data[i * n + j] = s;
                h.Data[j * n + i] = s;
            }
        return h;
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
