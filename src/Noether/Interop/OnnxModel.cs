using System.Buffers.Binary;
using Google.Protobuf;
using Noether.Autodiff;
using Noether.Graphs;
using Noether.Serialization;
using Noether.Tensors;
using Onnx;

namespace Noether.Interop;

/// <summary>
/// An ONNX model file (as written by <c>torch.onnx.export</c>), parsed with ONNX's own schema. It becomes a
/// <see cref="Graph{T}"/> that runs on the autodiff tape (<see cref="ToGraph{T}"/>), and goes back out with new
/// parameter values — the same graph, new initializers (<see cref="Save{T}"/>), or the initializers alone as
/// safetensors under their state_dict names (<see cref="SaveSafeTensors{T}"/>).
/// </summary>
public sealed class OnnxModel
{
    /// <summary>The lowest default-domain opset Noether reads (nodes that use attributes of opsets before 7, such as
    /// <c>broadcast</c> or <c>consumed_inputs</c>, are refused one by one).</summary>
    public const int MinOpset = 1;

    /// <summary>The highest default-domain opset Noether reads.</summary>
    public const int MaxOpset = 17;

    private readonly ModelProto _proto;

    private OnnxModel(ModelProto proto, string source, string? directory)
    {
        _proto = proto;
        Source = source;
        Directory = directory;
        Opset = (int)(proto.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 1);
    }

    /// <summary>Where the model came from (its path).</summary>
    public string Source { get; }

    /// <summary>The folder of external-data files (the model's own folder), or null.</summary>
    public string? Directory { get; }

    /// <summary>The default-domain opset.</summary>
    public int Opset { get; }

    /// <summary>The tool that wrote the file ("pytorch 1.13.1").</summary>
    public string Producer => $"{_proto.ProducerName} {_proto.ProducerVersion}".Trim();

    /// <summary>The distinct op types of the graph's nodes, in order of first use.</summary>
    public IReadOnlyList<string> OpTypes => _proto.Graph.Node.Select(n => n.OpType).Distinct().ToArray();

    /// <summary>True when a graph input or output is float64 (the model is then best run in double).</summary>
    public bool UsesDouble => _proto.Graph.Input.Concat(_proto.Graph.Output)
        .Any(v => v.Type?.TensorType?.ElemType == (int)ElementType.Double);

    /// <summary>The graph's initializer names, in the file's order.</summary>
    public IReadOnlyList<string> InitializerNames => _proto.Graph.Initializer.Select(t => t.Name).ToArray();

    /// <summary>Reads and parses an .onnx file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">The file is not an ONNX model (truncated, another format) or its opset is outside [<see cref="MinOpset"/>, <see cref="MaxOpset"/>].</exception>
    public static OnnxModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such ONNX file", path);
        return Parse(File.ReadAllBytes(path), path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Parses the bytes of an ONNX model; <paramref name="directory"/> holds its external-data files, if any.</summary>
    public static OnnxModel Parse(byte[] bytes, string source, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new DataFormatException(source, $"not an ONNX model (the protobuf does not parse: {e.Message})", e);
        }
        if (proto.Graph is null || proto.IrVersion <= 0)
            throw new DataFormatException(source, "not an ONNX model (no graph or IR version)");
        var model = new OnnxModel(proto, source, directory);
        if (model.Opset < MinOpset || model.Opset > MaxOpset)
            throw new DataFormatException(source, $"opset {model.Opset} is outside the range Noether reads ({MinOpset}–{MaxOpset}); re-export with opset_version between them (e.g. 17)");
        foreach (var o in proto.OpsetImport)
            if (o.Domain is not ("" or "ai.onnx") && proto.Graph.Node.Any(n => n.Domain == o.Domain))
            {
                var node = proto.Graph.Node.First(n => n.Domain == o.Domain);
                throw new DataFormatException(source, $"node '{node.Name}' ({o.Domain}.{node.OpType}): operator domain '{o.Domain}' is not supported; supported: {string.Join(", ", GraphOps<double>.Names)}");
            }
        return model;
    }

    /// <summary>
    /// The model as a graph in <typeparamref name="T"/>: float initializers become parameters (named as in the file,
    /// PyTorch's state_dict names), except BatchNormalization's running statistics and scalars, which are constants.
    /// </summary>
    /// <exception cref="DataFormatException">A node is unsupported or malformed, or external data is missing (message: file, node, op, why).</exception>
    public Graph<T> ToGraph<T>(GraphOptions? options = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = _proto.Graph;
        var nodes = new List<GraphNode>();
        for (int i = 0; i < g.Node.Count; i++)
        {
            var n = g.Node[i];
            var name = string.IsNullOrEmpty(n.Name) ? $"{n.OpType}_{i}" : n.Name;
            var attributes = new Dictionary<string, GraphAttribute>();
            foreach (var a in n.Attribute) attributes[a.Name] = ReadAttribute(a, name);
            nodes.Add(new GraphNode(name, n.OpType, n.Input.ToArray(), n.Output.ToArray(), attributes, n.Domain));
        }
        // Running statistics and exponents are inputs Noether never trains.
        var frozen = new HashSet<string>();
        foreach (var n in nodes)
        {
            if (n.OpType == "BatchNormalization") foreach (int i in new[] { 3, 4 }) if (i < n.Inputs.Length) frozen.Add(n.Inputs[i]);
            if (n.OpType == "Pow" && n.Inputs.Length > 1) frozen.Add(n.Inputs[1]);
        }
        var parameters = new List<Parameter<T>>();
        var constants = new Dictionary<string, HostTensor>();
        foreach (var t in g.Initializer)
        {
            var host = ReadTensor(t, $"initializer '{t.Name}'");
            if (host.IsReal && host.Rank >= 1 && host.Rank <= Tensor<T>.MaxRank && !frozen.Contains(t.Name))
                parameters.Add(new Parameter<T>(t.Name, host.ToTensor<T>()));
            else constants[t.Name] = host;
        }
        var initializerNames = new HashSet<string>(g.Initializer.Select(t => t.Name));
        var inputs = g.Input.Where(v => !initializerNames.Contains(v.Name)).Select(ReadInput).ToArray();
        foreach (var input in inputs)
            if (input.Type is not (ElementType.Float or ElementType.Double or ElementType.Int64 or ElementType.Int32 or ElementType.Int16 or ElementType.Int8
                or ElementType.UInt8 or ElementType.UInt16 or ElementType.UInt32 or ElementType.UInt64 or ElementType.Bool))
                throw new DataFormatException(Source, $"graph input '{input.Name}' is a {input.Type} tensor; Noether computes in float32 and float64 (and integers in shape computations)");
        try
        {
            return new Graph<T>(nodes, inputs, g.Output.Select(o => o.Name).ToArray(), parameters, constants, Opset, options);
        }
        catch (GraphException e)
        {
            throw new DataFormatException(Source, e.Message, e);
        }
    }

    /// <summary>
    /// Writes the model to <paramref name="path"/> with each initializer named like one of <paramref name="parameters"/>
    /// replaced by that parameter's value (in the initializer's own element type); everything else is copied unchanged.
    /// Atomic: a failure leaves no file.
    /// </summary>
    /// <exception cref="ArgumentException">A parameter names no initializer or has another shape.</exception>
    public void Save<T>(string path, IEnumerable<Parameter<T>> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(parameters);
        var proto = _proto.Clone();
        var byName = proto.Graph.Initializer.ToDictionary(t => t.Name);
        foreach (var p in parameters)
        {
            if (!byName.TryGetValue(p.Name, out var t)) throw Errors.Argument(nameof(parameters), $"export: parameter '{p.Name}' names no initializer of {Source}");
            var dims = t.Dims.Select(d => (int)d).ToArray();
            if (!p.Value.HasShape(dims)) throw Errors.ShapeMismatch("export", p.Name, p.Value.Shape, "initializer", dims, "shapes differ");
            var type = (ElementType)t.DataType;
            if (type is not (ElementType.Float or ElementType.Double)) throw Errors.Argument(nameof(parameters), $"export: initializer '{p.Name}' is {type}, not a float tensor");
            t.FloatData.Clear();
            t.DoubleData.Clear();
            t.ExternalData.Clear();
            t.DataLocation = TensorProto.Types.DataLocation.Default;
            int size = type == ElementType.Float ? 4 : 8;
            var raw = new byte[p.Value.Length * size];
            for (int i = 0; i < p.Value.Length; i++)
            {
                double v = double.CreateTruncating(p.Value.Data[i]);
                if (size == 4) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(4 * i), (float)v);
                else BinaryPrimitives.WriteDoubleLittleEndian(raw.AsSpan(8 * i), v);
            }
            t.RawData = ByteString.CopyFrom(raw);
        }
        var bytes = proto.ToByteArray();
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>Writes <paramref name="parameters"/> as a safetensors file (float32 or float64 as <typeparamref name="T"/>) under their names, which for a PyTorch export are its state_dict keys.</summary>
    public static void SaveSafeTensors<T>(string path, IEnumerable<Parameter<T>> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        SafeTensors.Write(path, parameters.Select(p => (p.Name, p.Value)));
    }

    /// <summary>Reads a serialized ONNX TensorProto (the .pb files of ONNX's test data) as a host tensor.</summary>
    /// <exception cref="DataFormatException">The file is not a TensorProto.</exception>
    public static HostTensor ReadTensorFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such tensor file", path);
        TensorProto t;
        try
        {
            t = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new DataFormatException(path, $"not an ONNX TensorProto ({e.Message})", e);
        }
        return ReadTensor(t, path, null, path);
    }

    private GraphInput ReadInput(ValueInfoProto v)
    {
        var tensorType = v.Type?.TensorType;
        if (tensorType is null) throw new DataFormatException(Source, $"graph input '{v.Name}' is not a tensor (sequences and maps are not supported)");
        var dims = tensorType.Shape?.Dim ?? [];
        var shape = dims.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? (int?)checked((int)d.DimValue) : null).ToArray();
        var names = dims.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : null).ToArray();
        return new GraphInput(v.Name, (ElementType)tensorType.ElemType, shape, names);
    }

    private GraphAttribute ReadAttribute(AttributeProto a, string node) => a.Type switch
    {
        AttributeProto.Types.AttributeType.Int => new GraphAttribute { Int = a.I },
        AttributeProto.Types.AttributeType.Float => new GraphAttribute { Float = a.F },
        AttributeProto.Types.AttributeType.String => new GraphAttribute { String = a.S.ToStringUtf8() },
        AttributeProto.Types.AttributeType.Ints => new GraphAttribute { Ints = a.Ints.ToArray() },
        AttributeProto.Types.AttributeType.Floats => new GraphAttribute { Floats = a.Floats.Select(f => (double)f).ToArray() },
        AttributeProto.Types.AttributeType.Tensor => new GraphAttribute { Tensor = ReadTensor(a.T, $"node '{node}' attribute '{a.Name}'") },
        _ => new GraphAttribute { Unreadable = a.Type.ToString() },
    };

    private HostTensor ReadTensor(TensorProto t, string what) => ReadTensor(t, what, Directory, Source);

    private static HostTensor ReadTensor(TensorProto t, string what, string? directory, string source)
    {
        var shape = t.Dims.Select(d => d is < 0 or > int.MaxValue ? throw new DataFormatException(source, $"{what}: dimension {d}") : (int)d).ToArray();
        long count = 1;
        foreach (int d in shape) count *= d;
        if (count > Array.MaxLength) throw new DataFormatException(source, $"{what}: {count} elements is too large");
        var type = (ElementType)t.DataType;
        var data = new double[count];
        ReadOnlySpan<byte> raw = default;
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            raw = ReadExternal(t, what, directory, source);
        else if (!t.RawData.IsEmpty) raw = t.RawData.Span;
        int size = type switch
        {
            ElementType.Float or ElementType.Int32 or ElementType.UInt32 => 4,
            ElementType.Double or ElementType.Int64 or ElementType.UInt64 => 8,
            ElementType.Int16 or ElementType.UInt16 or ElementType.Float16 or ElementType.BFloat16 => 2,
            ElementType.Int8 or ElementType.UInt8 or ElementType.Bool => 1,
            _ => throw new DataFormatException(source, $"{what}: element type {type} is not supported"),
        };
        if (raw.Length > 0 || (count > 0 && t.FloatData.Count + t.DoubleData.Count + t.Int32Data.Count + t.Int64Data.Count + t.Uint64Data.Count == 0))
        {
            if (raw.Length != count * size) throw new DataFormatException(source, $"{what}: {raw.Length} bytes of data for {count} {type} elements");
            for (int i = 0; i < count; i++)
            {
                var b = raw.Slice(i * size, size);
                data[i] = HostTensor.ReadLittleEndian(type, b);
            }
            return new HostTensor(type, shape, data);
        }
        int have = type switch
        {
            ElementType.Float => t.FloatData.Count,
            ElementType.Double => t.DoubleData.Count,
            ElementType.Int64 => t.Int64Data.Count,
            ElementType.UInt32 or ElementType.UInt64 => t.Uint64Data.Count,
            _ => t.Int32Data.Count,
        };
        if (have != count) throw new DataFormatException(source, $"{what}: {have} values for {count} {type} elements");
        for (int i = 0; i < count; i++)
            data[i] = type switch
            {
                ElementType.Float => t.FloatData[i],
                ElementType.Double => t.DoubleData[i],
                ElementType.Int64 => t.Int64Data[i],
                ElementType.UInt32 or ElementType.UInt64 => t.Uint64Data[i],
                ElementType.Float16 => (double)BitConverter.UInt16BitsToHalf((ushort)t.Int32Data[i]),
                ElementType.BFloat16 => BitConverter.Int32BitsToSingle(t.Int32Data[i] << 16),
                _ => t.Int32Data[i],
            };
        return new HostTensor(type, shape, data);
    }

    private static byte[] ReadExternal(TensorProto t, string what, string? directory, string source)
    {
        var info = t.ExternalData.ToDictionary(e => e.Key, e => e.Value);
        if (!info.TryGetValue("location", out var location)) throw new DataFormatException(source, $"{what}: external data without a location");
        var path = Path.Combine(directory ?? ".", location);
        if (!File.Exists(path)) throw new DataFormatException(source, $"{what}: its external data file '{path}' is missing (keep it beside the .onnx file)");
        long offset = info.TryGetValue("offset", out var o) ? long.Parse(o, System.Globalization.CultureInfo.InvariantCulture) : 0;
        using var stream = File.OpenRead(path);
        long length = info.TryGetValue("length", out var l) ? long.Parse(l, System.Globalization.CultureInfo.InvariantCulture) : stream.Length - offset;
        if (offset < 0 || length < 0 || offset + length > stream.Length) throw new DataFormatException(source, $"{what}: external data [{offset}, {offset + length}) lies outside '{path}' ({stream.Length} bytes)");
        var bytes = new byte[length];
        stream.Seek(offset, SeekOrigin.Begin);
        stream.ReadExactly(bytes);
        return bytes;
    }
}
