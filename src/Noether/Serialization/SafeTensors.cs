using System.Buffers.Binary;
using System.Text.Json;
using Noether.Tensors;

namespace Noether.Serialization;

/// <summary>
/// Reads and writes the safetensors format (the format of Hugging Face's <c>safetensors</c> library, loadable from
/// PyTorch): an 8-byte little-endian unsigned header length N, then N bytes of UTF-8 JSON
/// <c>{"NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}, …, "__metadata__": {"key": "value"}}</c>
/// (optionally padded with spaces), then the data section: each tensor's little-endian row-major bytes at
/// [BEGIN, END) relative to the section's start.
/// </summary>
/// <remarks>
/// Reading checks everything a malformed or hostile file can get wrong and raises <see cref="DataFormatException"/>
/// naming the file: truncation (file shorter than 8 bytes, header or data cut off), a header that is not a JSON
/// object, a tensor entry without a valid dtype/shape/data_offsets, an unknown dtype, a byte range that does not
/// match the shape, lies outside the data section or overlaps another tensor, duplicate names, non-string metadata.
/// Gaps between tensors are tolerated. Writing lays tensors out contiguously in the given order, pads the header
/// with spaces to a multiple of 8 bytes (so the data is 8-byte aligned, as the reference writer does), and goes
/// through <see cref="AtomicFile"/>.
/// </remarks>
public static class SafeTensors
{
    /// <summary>The header key reserved for string-to-string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The largest header accepted (100 MB, as the reference implementation).</summary>
    public const long MaxHeaderSize = 100_000_000;

    private static readonly (SafeTensorDType Type, string Name, int Size)[] DTypes =
    [
        (SafeTensorDType.Bool, "BOOL", 1), (SafeTensorDType.U8, "U8", 1), (SafeTensorDType.I8, "I8", 1),
        (SafeTensorDType.F8E5M2, "F8_E5M2", 1), (SafeTensorDType.F8E4M3, "F8_E4M3", 1),
        (SafeTensorDType.I16, "I16", 2), (SafeTensorDType.U16, "U16", 2), (SafeTensorDType.F16, "F16", 2), (SafeTensorDType.BF16, "BF16", 2),
        (SafeTensorDType.I32, "I32", 4), (SafeTensorDType.U32, "U32", 4), (SafeTensorDType.F32, "F32", 4),
        (SafeTensorDType.F64, "F64", 8), (SafeTensorDType.I64, "I64", 8), (SafeTensorDType.U64, "U64", 8),
    ];

    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    public static int SizeOf(SafeTensorDType dtype) => DTypes[Index(dtype)].Size;

    /// <summary>The header string of <paramref name="dtype"/>, e.g. "F32", "BF16", "F8_E4M3".</summary>
    public static string DTypeName(SafeTensorDType dtype) => DTypes[Index(dtype)].Name;

    /// <summary>Parses a header dtype string (case-sensitive, as the format defines it); false when unknown.</summary>
    public static bool TryParseDType(string name, out SafeTensorDType dtype)
    {
        foreach (var d in DTypes)
            if (d.Name == name)
            {
                dtype = d.Type;
                return true;
            }
        dtype = default;
        return false;
    }

    private static int Index(SafeTensorDType dtype)
    {
        for (int i = 0; i < DTypes.Length; i++) if (DTypes[i].Type == dtype) return i;
        throw Errors.OutOfRange(nameof(dtype), dtype, "a SafeTensorDType value");
    }

    // ---- reading ------------------------------------------------------------------------------------

    /// <summary>Reads a safetensors file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">The file is malformed (see the type's remarks); the message starts with its path.</exception>
    public static SafeTensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        long length = new FileInfo(path).Length;
        if (length > Array.MaxLength)
            throw new DataFormatException(path, $"{length} bytes is larger than Noether can hold in memory at once ({Array.MaxLength} bytes)");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses safetensors bytes; <paramref name="source"/> names them in error messages.</summary>
    /// <exception cref="DataFormatException">The bytes are malformed.</exception>
    public static SafeTensorsFile Parse(ReadOnlySpan<byte> bytes, string source = "<bytes>")
    {
        ArgumentNullException.ThrowIfNull(source);
        if (bytes.Length < 8)
            throw new DataFormatException(source, $"truncated: {bytes.Length} bytes, too short for the 8-byte header length of a safetensors file");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderSize)
            throw new DataFormatException(source, $"header length {headerLength} exceeds the {MaxHeaderSize}-byte limit (not a safetensors file, or corrupt)");
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new DataFormatException(source, $"truncated: the header length field says {headerLength} bytes but only {bytes.Length - 8} bytes follow it");
        if (headerLength < 2)
            throw new DataFormatException(source, $"header length {headerLength} is too short for a JSON object");
        var header = bytes.Slice(8, (int)headerLength);
        var data = bytes[(8 + (int)headerLength)..];
        // JsonDocument accepts invalid UTF-8 inside strings and fails only when a name is read, with a message that names nothing.
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw new DataFormatException(source, "the header is not valid UTF-8 text (a safetensors header is a UTF-8 JSON object)");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new DataFormatException(source, $"the header is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new DataFormatException(source, $"the header is a JSON {document.RootElement.ValueKind}, expected an object");

            var metadata = new Dictionary<string, string>();
            var entries = new List<(string Name, SafeTensorDType DType, int[] Shape, long Begin, long End)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new DataFormatException(source, $"the header names '{property.Name}' twice");
                if (property.Name == MetadataKey)
                    ReadMetadata(property.Value, metadata, source);
                else
                    entries.Add(ReadEntry(property.Name, property.Value, data.Length, source));
            }

            // Overlaps: sort by start; each tensor must end before the next begins (empty tensors occupy nothing).
            var ordered = entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin).ToList();
            for (int i = 1; i < ordered.Count; i++)
                if (ordered[i].Begin < ordered[i - 1].End)
                    throw new DataFormatException(source,
                        $"tensors '{ordered[i - 1].Name}' (data_offsets [{ordered[i - 1].Begin}, {ordered[i - 1].End}]) and '{ordered[i].Name}' ([{ordered[i].Begin}, {ordered[i].End}]) overlap");

            var tensors = new List<SafeTensor>(entries.Count);
            foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.Name, StringComparer.Ordinal))
                tensors.Add(new SafeTensor(e.Name, e.DType, e.Shape, data[(int)e.Begin..(int)e.End].ToArray()));
            return new SafeTensorsFile(tensors, metadata, source);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new DataFormatException(source, $"\"{MetadataKey}\" is a JSON {value.ValueKind}, expected an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new DataFormatException(source, $"\"{MetadataKey}\".\"{item.Name}\" is a JSON {item.Value.ValueKind}, expected a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw new DataFormatException(source, $"\"{MetadataKey}\" names '{item.Name}' twice");
        }
    }

    private static (string Name, SafeTensorDType DType, int[] Shape, long Begin, long End) ReadEntry(string name, JsonElement value, int dataLength, string source)
    {
        string what = $"tensor '{name}'";
        if (name.Length == 0) throw new DataFormatException(source, "a tensor has an empty name");
        if (value.ValueKind != JsonValueKind.Object)
            throw new DataFormatException(source, $"{what} is a JSON {value.ValueKind}, expected an object with dtype, shape and data_offsets");

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new DataFormatException(source, $"{what} has no \"dtype\" string");
        string dtypeName = dtypeElement.GetString()!;
        if (!TryParseDType(dtypeName, out var dtype))
            throw new DataFormatException(source, $"{what} has unknown dtype '{dtypeName}' (known: {string.Join(", ", DTypes.Select(d => d.Name))})");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new DataFormatException(source, $"{what} has no \"shape\" array");
        var shape = new int[shapeElement.GetArrayLength()];
        long count = 1;
        int k = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int size) || size < 0)
                throw new DataFormatException(source, $"{what} has shape entry {d.GetRawText()}, expected a non-negative integer below 2³¹");
            shape[k++] = size;
            count = checked(count * size);
            if (count > Array.MaxLength)
                throw new DataFormatException(source, $"{what} has shape {Errors.Shape(shape.AsSpan(0, k))}…, too many elements");
        }

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new DataFormatException(source, $"{what} has no \"data_offsets\" pair [begin, end]");
        long begin = Offset(offsets[0]), end = Offset(offsets[1]);
        if (begin < 0 || end < 0)
            throw new DataFormatException(source, $"{what} has data_offsets {offsets.GetRawText()}, expected two non-negative integers");
        if (end < begin)
            throw new DataFormatException(source, $"{what} has data_offsets [{begin}, {end}] with end before begin");
        long needed = count * SizeOf(dtype);
        if (end - begin != needed)
            throw new DataFormatException(source,
                $"{what}: shape {Errors.Shape(shape)} of {dtypeName} needs {needed} bytes but data_offsets [{begin}, {end}] span {end - begin}");
        if (end > dataLength)
            throw new DataFormatException(source,
                $"{what}: data_offsets [{begin}, {end}] are out of range: the data section has only {dataLength} bytes (truncated file?)");
        return (name, dtype, shape, begin, end);

        static long Offset(JsonElement e) => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) ? v : -1;
    }

    // ---- writing ------------------------------------------------------------------------------------

    /// <summary>The safetensors bytes of <paramref name="tensors"/> (laid out in the given order) and <paramref name="metadata"/>.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name.</exception>
    public static byte[] Serialize(IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in list)
        {
            ArgumentNullException.ThrowIfNull(t, nameof(tensors));
            if (!names.Add(t.Name)) throw Errors.Argument(nameof(tensors), $"SafeTensors: two tensors are named '{t.Name}'");
        }

        var json = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                {
                    ArgumentNullException.ThrowIfNull(value, nameof(metadata));
                    writer.WriteString(key, value);
                }
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in list)
            {
                writer.WriteStartObject(t.Name);
                writer.WriteString("dtype", DTypeName(t.DType));
                writer.WriteStartArray("shape");
                foreach (int d in t.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + t.Data.Length);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += t.Data.Length;
            }
            writer.WriteEndObject();
        }
        int headerLength = (json.WrittenCount + 7) / 8 * 8;
        long total = 8L + headerLength + list.Sum(t => (long)t.Data.Length);
        if (total > Array.MaxLength) throw Errors.Argument(nameof(tensors), $"SafeTensors: {total} bytes exceed what one buffer can hold");
        var result = new byte[total];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)headerLength);
        json.WrittenSpan.CopyTo(result.AsSpan(8));
        result.AsSpan(8 + json.WrittenCount, headerLength - json.WrittenCount).Fill((byte)' ');
        int position = 8 + headerLength;
        foreach (var t in list)
        {
            t.Data.CopyTo(result.AsSpan(position));
            position += t.Data.Length;
        }
        return result;
    }

    /// <summary>Writes <paramref name="tensors"/> (in the given order) and <paramref name="metadata"/> to <paramref name="path"/> atomically.</summary>
    /// <exception cref="IOException">The file cannot be written; an existing file is then left untouched.</exception>
    public static void Write(string path, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var bytes = Serialize(tensors, metadata);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>Writes named float32 (F32) or float64 (F64) tensors, in the given order, atomically.</summary>
    public static void Write<T>(string path, IEnumerable<(string Name, Tensor<T> Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Write(path, tensors.Select(t => SafeTensor.FromTensor(t.Name, t.Tensor)).ToList(), metadata);
    }

    /// <summary>Reads every tensor of a file converted to <typeparamref name="T"/>, in data order, with its name.</summary>
    public static IReadOnlyList<(string Name, Tensor<T> Tensor)> ReadTensors<T>(string path) where T : unmanaged, IFloatingPointIeee754<T> =>
        Read(path).Tensors.Select(t => (t.Name, t.ToTensor<T>())).ToList();
}

/// <summary>The contents of a safetensors file: its tensors (in data order) and metadata.</summary>
public sealed class SafeTensorsFile
{
    private readonly Dictionary<string, SafeTensor> _byName;

    /// <summary>Creates the collection (used by <see cref="SafeTensors.Parse"/>).</summary>
    public SafeTensorsFile(IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata, string source)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(source);
        (Tensors, Metadata, Source) = (tensors, metadata, source);
        _byName = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        foreach (var t in tensors)
            if (!_byName.TryAdd(t.Name, t)) throw Errors.Argument(nameof(tensors), $"SafeTensorsFile: two tensors are named '{t.Name}'");
    }

    /// <summary>The tensors, ordered by their position in the data section.</summary>
    public IReadOnlyList<SafeTensor> Tensors { get; }

    /// <summary>The "__metadata__" strings (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The path (or description) the file was read from.</summary>
    public string Source { get; }

    /// <summary>The tensor names, in data order.</summary>
    public IEnumerable<string> Names => Tensors.Select(t => t.Name);

    /// <summary>True when a tensor is named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The tensor named <paramref name="name"/>, or null.</summary>
    public SafeTensor? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor; the message lists the names that exist.</exception>
    public SafeTensor this[string name] => _byName.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"{Source}: no tensor named '{name}' (it has {string.Join(", ", Names.Select(n => $"'{n}'"))})");

    /// <summary>The tensor named <paramref name="name"/> converted to <typeparamref name="T"/> (see <see cref="SafeTensor.ToTensor{T}"/>).</summary>
    public Tensor<T> GetTensor<T>(string name) where T : unmanaged, IFloatingPointIeee754<T> => this[name].ToTensor<T>();
}
