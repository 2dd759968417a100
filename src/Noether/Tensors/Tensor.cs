using System.Runtime.CompilerServices;

namespace Noether.Tensors;

/// <summary>
/// A dense, contiguous, row-major array of rank 0–4 over <typeparamref name="T"/> (float64 or float32).
/// Storage only: kernels live in <see cref="TensorOps"/> and <see cref="Blas"/>, derivatives in the autodiff tape.
/// A tensor's shape never changes; its contents may be updated in place by optimisers and kernels.
/// </summary>
public sealed class Tensor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The largest rank Noether supports.</summary>
    public const int MaxRank = 4;

    private readonly int[] _shape;

    /// <summary>Wraps <paramref name="data"/> (not copied) with the given shape.</summary>
    public Tensor(T[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length > MaxRank) throw Errors.BadShape("Tensor", nameof(shape), shape, $"rank ≤ {MaxRank}");
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw Errors.BadShape("Tensor", nameof(shape), shape, "non-negative dimensions");
            count *= d;
        }
        if (count != data.Length)
            throw Errors.Argument(nameof(data), $"Tensor: shape {Errors.Shape(shape)} holds {count} elements but data has {data.Length}");
        Data = data;
        _shape = (int[])shape.Clone();
    }

    /// <summary>Trusted constructor for kernels: no validation, and <paramref name="shape"/> is kept, not copied.</summary>
    /// <remarks>Shapes are never mutated, so tensors of one shape may share the array (saves an allocation per op).</remarks>
    internal Tensor(T[] data, int[] shape, bool trusted)
    {
        System.Diagnostics.Debug.Assert(trusted && Count(shape) == data.Length);
        Data = data;
        _shape = shape;
    }

    /// <summary>The contiguous row-major buffer (shared, not copied).</summary>
    public T[] Data { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>A copy of the dimensions.</summary>
    public int[] ShapeArray => (int[])_shape.Clone();

    /// <summary>Number of dimensions (0 for a scalar).</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>Size of dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int Dim(int axis) => _shape[axis < 0 ? _shape.Length + axis : axis];

    /// <summary>The buffer as a span.</summary>
    public Span<T> Span => Data;

    /// <summary>Element of a rank-1 tensor.</summary>
    public T this[int i] { get => Data[i]; set => Data[i] = value; }

    /// <summary>Element of a rank-2 tensor.</summary>
    public T this[int i, int j] { get => Data[i * _shape[1] + j]; set => Data[i * _shape[1] + j] = value; }

    /// <summary>Element of a rank-4 tensor.</summary>
    public T this[int a, int b, int c, int d]
    {
        get => Data[((a * _shape[1] + b) * _shape[2] + c) * _shape[3] + d];
        set => Data[((a * _shape[1] + b) * _shape[2] + c) * _shape[3] + d] = value;
    }

    /// <summary>The value of a one-element tensor.</summary>
    public T ScalarValue => Length == 1 ? Data[0] : throw Errors.BadShape("Item", "tensor", Shape, "exactly one element");

    /// <summary>True when both shapes are equal.</summary>
    public bool SameShape(Tensor<T> other) => Shape.SequenceEqual(other.Shape);

    /// <summary>True when the shape equals <paramref name="shape"/>.</summary>
    public bool HasShape(params int[] shape) => Shape.SequenceEqual(shape);

    /// <summary>The shape array itself (never mutate it): lets kernels build results without copying shapes.</summary>
    internal int[] ShapeRef => _shape;

    /// <summary>A tensor of zeros with <paramref name="like"/>'s shape (shape array shared).</summary>
    internal static Tensor<T> ZerosLike(Tensor<T> like) => new(new T[like.Length], like._shape, true);

    /// <summary>A tensor with <paramref name="like"/>'s shape whose contents the caller overwrites entirely (from the thread's <see cref="Scratch{T}"/> pool when one is entered).</summary>
    internal static Tensor<T> EmptyLike(Tensor<T> like) => new(Scratch<T>.Uninitialized(like.Length), like._shape, true);

    /// <summary>A tensor of zeros.</summary>
    public static Tensor<T> Zeros(params int[] shape) => new(new T[Count(shape)], shape);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor<T> Full(T value, params int[] shape)
    {
        var data = new T[Count(shape)];
        Array.Fill(data, value);
        return new Tensor<T>(data, shape);
    }

    /// <summary>A tensor of ones.</summary>
    public static Tensor<T> Ones(params int[] shape) => Full(T.One, shape);

    /// <summary>A rank-0 tensor.</summary>
    public static Tensor<T> Scalar(T value) => new([value], [], true);

    /// <summary>The n×n identity matrix.</summary>
    public static Tensor<T> Identity(int n)
    {
        var t = Zeros(n, n);
        for (int i = 0; i < n; i++) t.Data[i * n + i] = T.One;
        return t;
    }

    /// <summary>Copies a 2-D array into a new matrix.</summary>
    public static Tensor<T> FromArray(T[,] values)
    {
        int r = values.GetLength(0), c = values.GetLength(1);
        var data = new T[r * c];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++)
                data[i * c + j] = values[i, j];
        return new Tensor<T>(data, r, c);
    }

    /// <summary>Converts doubles into a tensor of <typeparamref name="T"/>.</summary>
    public static Tensor<T> FromDoubles(double[] values, params int[] shape)
    {
        var data = new T[values.Length];
        for (int i = 0; i < data.Length; i++) data[i] = T.CreateTruncating(values[i]);
        return new Tensor<T>(data, shape);
    }

    /// <summary>The elements as doubles.</summary>
    public double[] ToDoubles()
    {
        var result = new double[Length];
        for (int i = 0; i < result.Length; i++) result[i] = double.CreateTruncating(Data[i]);
        return result;
    }

    /// <summary>A deep copy.</summary>
    public Tensor<T> Clone() => new((T[])Data.Clone(), _shape);

    /// <summary>The same buffer seen with another shape of equal size.</summary>
    public Tensor<T> Reshape(params int[] shape)
    {
        int inferred = Array.IndexOf(shape, -1);
        if (inferred >= 0)
        {
            int known = 1;
            for (int i = 0; i < shape.Length; i++) if (i != inferred) known *= shape[i];
            if (known == 0 || Length % known != 0)
                throw Errors.ShapeMismatch("reshape", "tensor", Shape, "target", shape, "sizes are incompatible");
            shape = (int[])shape.Clone();
            shape[inferred] = Length / known;
        }
        if (Count(shape) != Length)
            throw Errors.ShapeMismatch("reshape", "tensor", Shape, "target", shape, $"{Length} elements cannot take shape {Errors.Shape(shape)}");
        return new Tensor<T>(Data, shape);
    }

    /// <summary>Copies <paramref name="source"/>'s elements into this tensor (shapes must agree).</summary>
    public void CopyFrom(Tensor<T> source)
    {
        if (!SameShape(source)) throw Errors.ShapeMismatch("copy", "destination", Shape, "source", source.Shape, "shapes differ");
        source.Data.AsSpan().CopyTo(Data);
    }

    /// <summary>Converts to another element type.</summary>
    public Tensor<TOut> Cast<TOut>() where TOut : unmanaged, IFloatingPointIeee754<TOut>
    {
        var data = new TOut[Length];
        for (int i = 0; i < data.Length; i++) data[i] = TOut.CreateTruncating(Data[i]);
        return new Tensor<TOut>(data, _shape);
    }

    /// <summary>True when every element is finite.</summary>
    public bool AllFinite()
    {
        foreach (var x in Data) if (!T.IsFinite(x)) return false;
        return true;
    }

    /// <summary>Elementwise <paramref name="left"/> + <paramref name="right"/> with NumPy broadcasting (<see cref="TensorOps.Binary{T}(BinaryOp, Tensor{T}, Tensor{T})"/>).</summary>
    public static Tensor<T> operator +(Tensor<T> left, Tensor<T> right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return TensorOps.Binary(BinaryOp.Add, left, right);
    }

    /// <summary>Elementwise <paramref name="left"/> − <paramref name="right"/> with NumPy broadcasting.</summary>
    public static Tensor<T> operator -(Tensor<T> left, Tensor<T> right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return TensorOps.Binary(BinaryOp.Subtract, left, right);
    }

    /// <summary>Elementwise −<paramref name="value"/> (<see cref="TensorOps.Negate{T}"/>).</summary>
    public static Tensor<T> operator -(Tensor<T> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return TensorOps.Negate(value);
    }

    /// <summary>The elementwise (Hadamard) product with NumPy broadcasting; <see cref="MatMul"/> is the matrix product.</summary>
    public static Tensor<T> operator *(Tensor<T> left, Tensor<T> right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return TensorOps.Binary(BinaryOp.Multiply, left, right);
    }

    /// <summary>Every element times <paramref name="scale"/>.</summary>
    public static Tensor<T> operator *(Tensor<T> tensor, T scale)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return TensorOps.Binary(BinaryOp.Multiply, tensor, scale);
    }

    /// <summary>Every element times <paramref name="scale"/>.</summary>
    public static Tensor<T> operator *(T scale, Tensor<T> tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return TensorOps.Binary(BinaryOp.Multiply, scale, tensor);
    }

    /// <summary>The matrix product this·<paramref name="right"/> of two matrices (Python's <c>@</c>; <see cref="TensorOps.MatMul{T}"/>).</summary>
    public Tensor<T> MatMul(Tensor<T> right)
    {
        ArgumentNullException.ThrowIfNull(right);
        return TensorOps.MatMul(this, right);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Tensor<{typeof(T).Name}>[{Errors.Shape(Shape)}]";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Count(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw Errors.BadShape("Tensor", nameof(shape), shape, "non-negative dimensions");
            count *= d;
        }
        if (count > Array.MaxLength) throw Errors.BadShape("Tensor", nameof(shape), shape, "fewer than 2³¹ elements");
        return (int)count;
    }
}
