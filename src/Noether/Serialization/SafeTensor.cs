using System.Buffers.Binary;
using Noether.Tensors;

namespace Noether.Serialization;

/// <summary>The element types of the safetensors format (the header's <c>dtype</c> strings).</summary>
public enum SafeTensorDType
{
    /// <summary>"BOOL": one byte, 0 or 1.</summary>
    Bool,
    /// <summary>"U8": unsigned 8-bit integer.</summary>
    U8,
    /// <summary>"I8": signed 8-bit integer.</summary>
    I8,
    /// <summary>"F8_E5M2": 8-bit float (read, not converted).</summary>
    F8E5M2,
    /// <summary>"F8_E4M3": 8-bit float (read, not converted).</summary>
    F8E4M3,
    /// <summary>"I16": signed 16-bit integer.</summary>
    I16,
    /// <summary>"U16": unsigned 16-bit integer.</summary>
    U16,
    /// <summary>"F16": IEEE half precision.</summary>
    F16,
    /// <summary>"BF16": bfloat16 (the upper half of a float32).</summary>
    BF16,
    /// <summary>"I32": signed 32-bit integer.</summary>
    I32,
    /// <summary>"U32": unsigned 32-bit integer.</summary>
    U32,
    /// <summary>"F32": IEEE single precision.</summary>
    F32,
    /// <summary>"F64": IEEE double precision.</summary>
    F64,
    /// <summary>"I64": signed 64-bit integer.</summary>
    I64,
    /// <summary>"U64": unsigned 64-bit integer.</summary>
    U64,
}

/// <summary>
/// One named tensor of a safetensors file: its element type, shape and raw little-endian bytes. Convert with
/// <see cref="ToTensor{T}"/>; build from a Noether tensor with <see cref="FromTensor{T}"/>.
/// </summary>
public sealed class SafeTensor
{
    private readonly int[] _shape;
    private readonly byte[] _data;

    /// <summary>Wraps raw little-endian <paramref name="data"/> (not copied) after checking its length against the shape.</summary>
    /// <param name="name">The tensor's name (non-empty, not "__metadata__").</param>
    /// <param name="dtype">Element type.</param>
    /// <param name="shape">Dimensions (any rank, each non-negative).</param>
    /// <param name="data">product(shape) · size(dtype) bytes.</param>
    public SafeTensor(string name, SafeTensorDType dtype, int[] shape, byte[] data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == SafeTensors.MetadataKey) throw Errors.Argument(nameof(name), $"SafeTensor: \"{SafeTensors.MetadataKey}\" is reserved for the metadata and cannot name a tensor");
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (!Enum.IsDefined(dtype)) throw Errors.OutOfRange(nameof(dtype), dtype, "a SafeTensorDType value");
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw Errors.BadShape("SafeTensor", nameof(shape), shape, "non-negative dimensions");
            count *= d;
        }
        long bytes = count * SafeTensors.SizeOf(dtype);
        if (bytes != data.Length)
            throw Errors.Argument(nameof(data), $"SafeTensor '{name}': shape {Errors.Shape(shape)} of {SafeTensors.DTypeName(dtype)} needs {bytes} bytes but {data.Length} were given");
        Name = name;
        DType = dtype;
        _shape = (int[])shape.Clone();
        _data = data;
    }

    /// <summary>The tensor's name (the header key).</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public SafeTensorDType DType { get; }

    /// <summary>Dimensions.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>Number of elements.</summary>
    public long ElementCount => _data.Length / SafeTensors.SizeOf(DType);

    /// <summary>The raw little-endian bytes.</summary>
    public ReadOnlySpan<byte> Data => _data;

    /// <summary>The tensor as F32 (for <see cref="float"/>) or F64 (for <see cref="double"/>), bytes little-endian.</summary>
    public static SafeTensor FromTensor<T>(string name, Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var source = tensor.Data;
        if (typeof(T) == typeof(float))
        {
            var bytes = new byte[source.Length * 4];
            for (int i = 0; i < source.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), float.CreateTruncating(source[i]));
            return new SafeTensor(name, SafeTensorDType.F32, tensor.ShapeArray, bytes);
        }
        if (typeof(T) == typeof(double))
        {
            var bytes = new byte[source.Length * 8];
            for (int i = 0; i < source.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8 * i), double.CreateTruncating(source[i]));
            return new SafeTensor(name, SafeTensorDType.F64, tensor.ShapeArray, bytes);
        }
        throw new NotSupportedException($"SafeTensor '{name}': element type {typeof(T).Name} has no safetensors dtype here (use float or double)");
    }

    /// <summary>
    /// The values converted to <typeparamref name="T"/>: exact from F16, BF16, F32 to float or double and from F64 to
    /// double; F64 to float rounds to nearest; integers and BOOL are converted numerically (I64/U64 beyond 2⁵³ round).
    /// </summary>
    /// <exception cref="NotSupportedException">The dtype is an 8-bit float, or the rank exceeds <see cref="Tensor{T}.MaxRank"/>.</exception>
    public Tensor<T> ToTensor<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (_shape.Length > Tensor<T>.MaxRank)
            throw new NotSupportedException($"SafeTensor '{Name}': shape {Errors.Shape(_shape)} has rank {_shape.Length}; Noether tensors have rank ≤ {Tensor<T>.MaxRank}");
        var result = new T[ElementCount];
        var b = _data.AsSpan();
        switch (DType)
        {
            case SafeTensorDType.F32:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(BinaryPrimitives.ReadSingleLittleEndian(b[(4 * i)..]));
                break;
            case SafeTensorDType.F64:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(BinaryPrimitives.ReadDoubleLittleEndian(b[(8 * i)..]));
                break;
            case SafeTensorDType.F16:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating((float)BinaryPrimitives.ReadHalfLittleEndian(b[(2 * i)..]));
                break;
            case SafeTensorDType.BF16:
                for (int i = 0; i < result.Length; i++)
                    result[i] = T.CreateTruncating(BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b[(2 * i)..]) << 16));
                break;
            case SafeTensorDType.Bool:
            case SafeTensorDType.U8:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(b[i]);
                break;
            case SafeTensorDType.I8:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating((sbyte)b[i]);
                break;
            case SafeTensorDType.I16:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(BinaryPrimitives.ReadInt16LittleEndian(b[(2 * i)..]));
                break;
            case SafeTensorDType.U16:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(BinaryPrimitives.ReadUInt16LittleEndian(b[(2 * i)..]));
                break;
            case SafeTensorDType.I32:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(BinaryPrimitives.ReadInt32LittleEndian(b[(4 * i)..]));
                break;
            case SafeTensorDType.U32:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(BinaryPrimitives.ReadUInt32LittleEndian(b[(4 * i)..]));
                break;
            case SafeTensorDType.I64:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(BinaryPrimitives.ReadInt64LittleEndian(b[(8 * i)..]));
                break;
            case SafeTensorDType.U64:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(BinaryPrimitives.ReadUInt64LittleEndian(b[(8 * i)..]));
                break;
            default:
                throw new NotSupportedException($"SafeTensor '{Name}': dtype {SafeTensors.DTypeName(DType)} cannot be converted to {typeof(T).Name}");
        }
        return new Tensor<T>(result, _shape);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {SafeTensors.DTypeName(DType)}[{Errors.Shape(_shape)}]";
}
