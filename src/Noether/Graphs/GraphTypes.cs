using System.Buffers.Binary;
using System.Numerics;

namespace Noether.Graphs;

/// <summary>Element types of graph values, numbered as ONNX's <c>TensorProto.DataType</c>.</summary>
public enum ElementType
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    /// <summary>32-bit float.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>String (never computed).</summary>
    String = 8,
    /// <summary>Boolean.</summary>
    Bool = 9,
    /// <summary>16-bit float (not computed).</summary>
    Float16 = 10,
    /// <summary>64-bit float.</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
    /// <summary>Complex (not computed).</summary>
    Complex64 = 14,
    /// <summary>Complex (not computed).</summary>
    Complex128 = 15,
    /// <summary>bfloat16 (not computed).</summary>
    BFloat16 = 16,
}

/// <summary>
/// A tensor known without running the model: a constant, an integer tensor, or the result of a folded shape
/// computation. Any rank (a graph's runtime tensors stop at rank 4; folded ones need not). Values are held as
/// doubles, exact for every float32/float64 value and every integer up to 2⁵³ (shapes, indices, axes).
/// </summary>
public sealed class HostTensor
{
    /// <summary>Creates a tensor (data not copied).</summary>
    public HostTensor(ElementType type, int[] shape, double[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw Errors.BadShape("host tensor", nameof(shape), shape, "non-negative dimensions");
            count *= d;
        }
        if (count != data.Length) throw Errors.Argument(nameof(data), $"host tensor: shape {Errors.Shape(shape)} holds {count} elements but data has {data.Length}");
        Type = type;
        Shape = shape;
        Data = data;
    }

    /// <summary>The element type.</summary>
    public ElementType Type { get; }

    /// <summary>The dimensions.</summary>
    public int[] Shape { get; }

    /// <summary>The elements, row-major.</summary>
    public double[] Data { get; }

    /// <summary>Number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>True for float and double.</summary>
    public bool IsReal => Type is ElementType.Float or ElementType.Double;

    /// <summary>A rank-0 or rank-1 int64 tensor.</summary>
    public static HostTensor Ints(params long[] values) => new(ElementType.Int64, [values.Length], values.Select(v => (double)v).ToArray());

    /// <summary>The elements as integers (saturating at ±2³¹ − 1: ONNX uses ±2⁶³ − 1 for "to the end").</summary>
    public int[] ToInts() => Data.Select(Saturate).ToArray();

    /// <summary>The elements as 64-bit integers.</summary>
    public long[] ToLongs() => Data.Select(v => v >= 9.2e18 ? long.MaxValue : v <= -9.2e18 ? long.MinValue : (long)v).ToArray();

    internal static int Saturate(double v) => v >= int.MaxValue ? int.MaxValue : v <= int.MinValue ? int.MinValue : (int)v;

    /// <summary>Converts to a runtime tensor (rank ≤ 4).</summary>
    public Tensors.Tensor<T> ToTensor<T>() where T : unmanaged, IFloatingPointIeee754<T> => Tensors.Tensor<T>.FromDoubles(Data, Shape);

    /// <summary>One little-endian element of <paramref name="type"/> from <paramref name="bytes"/> (its size in bytes), as a
    /// double: the byte reading shared by ONNX raw_data and .npy bodies. UInt8 and Bool are the byte itself.</summary>
    internal static double ReadLittleEndian(ElementType type, ReadOnlySpan<byte> bytes) => type switch
    {
        ElementType.Float => BinaryPrimitives.ReadSingleLittleEndian(bytes),
        ElementType.Double => BinaryPrimitives.ReadDoubleLittleEndian(bytes),
        ElementType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(bytes),
        ElementType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
        ElementType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(bytes),
        ElementType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(bytes),
        ElementType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(bytes),
        ElementType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
        ElementType.Float16 => (double)BinaryPrimitives.ReadHalfLittleEndian(bytes),
        ElementType.BFloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes) << 16),
        ElementType.Int8 => (sbyte)bytes[0],
        _ => bytes[0],
    };

    /// <summary>The element type of <typeparamref name="T"/>.</summary>
    public static ElementType TypeOf<T>() => typeof(T) == typeof(double) ? ElementType.Double : ElementType.Float;

    /// <inheritdoc/>
    public override string ToString() => $"{Type}[{Errors.Shape(Shape)}]";
}

/// <summary>An attribute of a node (ONNX's AttributeProto, the kinds Noether reads).</summary>
public sealed class GraphAttribute
{
    /// <summary>An integer attribute.</summary>
    public long? Int { get; init; }
    /// <summary>A float attribute.</summary>
    public double? Float { get; init; }
    /// <summary>A string attribute.</summary>
    public string? String { get; init; }
    /// <summary>An integer-list attribute.</summary>
    public long[]? Ints { get; init; }
    /// <summary>A float-list attribute.</summary>
    public double[]? Floats { get; init; }
    /// <summary>A tensor attribute.</summary>
    public HostTensor? Tensor { get; init; }
    /// <summary>The attribute kind is one Noether does not read (graphs, sparse tensors, type protos).</summary>
    public string? Unreadable { get; init; }
}

/// <summary>One operation of a graph: an op type (ONNX's names), named inputs ("" for an omitted optional one), outputs and attributes.</summary>
public sealed class GraphNode
{
    /// <summary>Creates a node.</summary>
    public GraphNode(string name, string opType, string[] inputs, string[] outputs, IReadOnlyDictionary<string, GraphAttribute>? attributes = null, string domain = "")
    {
        Name = name;
        OpType = opType;
        Inputs = inputs;
        Outputs = outputs;
        Attributes = attributes ?? new Dictionary<string, GraphAttribute>();
        Domain = domain;
    }

    /// <summary>The node's name (or a generated one, e.g. "Conv_3").</summary>
    public string Name { get; }
    /// <summary>The op type, e.g. "Conv".</summary>
    public string OpType { get; }
    /// <summary>The operator domain ("" is ONNX's default domain).</summary>
    public string Domain { get; }
    /// <summary>Input value names.</summary>
    public string[] Inputs { get; }
    /// <summary>Output value names.</summary>
    public string[] Outputs { get; }
    /// <summary>Attributes by name.</summary>
    public IReadOnlyDictionary<string, GraphAttribute> Attributes { get; }

    /// <inheritdoc/>
    public override string ToString() => $"node '{Name}' ({OpType})";
}

/// <summary>A graph input: a name, an element type and a shape whose dimensions may be dynamic (null, with an optional symbolic name).</summary>
public sealed record GraphInput(string Name, ElementType Type, int?[] Shape, string?[] DimNames);

/// <summary>
/// A model's own description of a problem: the node and op it concerns (when one does) and what is wrong. Unsupported
/// operations (<see cref="Unsupported"/>) and malformed graphs are both reported this way; the message names the node,
/// its op type and, for an unsupported op, the list of supported ones.
/// </summary>
public sealed class GraphException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public GraphException(string message, string? node = null, string? opType = null, bool unsupported = false, Exception? inner = null)
        : base(message, inner)
    {
        Node = node;
        OpType = opType;
        Unsupported = unsupported;
    }

    /// <summary>The node's name, when the problem is in a node.</summary>
    public string? Node { get; }

    /// <summary>The node's op type.</summary>
    public string? OpType { get; }

    /// <summary>True when the graph is well-formed but uses something Noether does not run.</summary>
    public bool Unsupported { get; }
}
