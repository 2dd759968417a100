using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using Noether.Graphs;

namespace Noether.Serialization;

/// <summary>
/// NumPy's .npy format (versions 1–3, C order, little-endian): float32, float64 and integer/boolean arrays of any rank
/// are read as <see cref="HostTensor"/>s; float32 and float64 arrays are written.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads an .npy file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">The file is not a C-order little-endian .npy array of a supported type.</exception>
    public static HostTensor Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such .npy file", path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses the bytes of an .npy file; <paramref name="source"/> names it in errors.</summary>
    public static HostTensor Parse(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic)) throw new DataFormatException(source, "not a .npy file (no \\x93NUMPY magic)");
        int major = bytes[6];
        int headerLength, offset;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]); offset = 10; }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw new DataFormatException(source, "truncated .npy header");
            headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
            offset = 12;
        }
        else throw new DataFormatException(source, $".npy version {major} is not supported");
        if (offset + headerLength > bytes.Length) throw new DataFormatException(source, "truncated .npy header");
        var header = Encoding.Latin1.GetString(bytes.Slice(offset, headerLength));
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !shapeMatch.Success) throw new DataFormatException(source, $"malformed .npy header {header.Trim()}");
        if (fortran.Success && fortran.Groups[1].Value == "True") throw new DataFormatException(source, "Fortran-order arrays are not supported (save with np.ascontiguousarray)");
        var shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var (type, size) = descr.Groups[1].Value switch
        {
            "<f4" => (ElementType.Float, 4),
            "<f8" => (ElementType.Double, 8),
            "<i8" => (ElementType.Int64, 8),
            "<i4" => (ElementType.Int32, 4),
            "|u1" => (ElementType.UInt8, 1),
            "|b1" => (ElementType.Bool, 1),
            var d => throw new DataFormatException(source, $"element type '{d}' is not supported (float32, float64, int64, int32, uint8, bool)"),
        };
        long count = 1;
        foreach (int d in shape) count *= d;
        var body = bytes[(offset + headerLength)..];
        if (body.Length != count * size) throw new DataFormatException(source, $"{body.Length} data bytes for shape ({string.Join(", ", shape)}) of {descr.Groups[1].Value} (expected {count * size}): truncated?");
        var data = new double[count];
        for (int i = 0; i < count; i++)
        {
            var b = body.Slice(i * size, size);
            data[i] = HostTensor.ReadLittleEndian(type, b);
        }
        return new HostTensor(type, shape, data);
    }

    /// <summary>Writes a float32 (<paramref name="type"/> Float) or float64 (Double) array atomically.</summary>
    public static void Write(string path, ElementType type, int[] shape, ReadOnlySpan<double> values)
    {
        ArgumentNullException.ThrowIfNull(shape);
        AtomicFile.WriteAllBytes(path, Serialize(type, shape, values));
    }

    /// <summary>The bytes of a float32 or float64 .npy file (version 1).</summary>
    public static byte[] Serialize(ElementType type, int[] shape, ReadOnlySpan<double> values)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (type is not (ElementType.Float or ElementType.Double)) throw Errors.Argument(nameof(type), $"npy: writes float32 or float64, not {type}");
        int size = type == ElementType.Float ? 4 : 8;
        var dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        var text = $"{{'descr': '<f{size}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + text.Length + 1;
        text = text.PadRight(text.Length + (64 - total % 64) % 64) + "\n";
        var header = Encoding.Latin1.GetBytes(text);
        var result = new byte[10 + header.Length + values.Length * size];
        Magic.CopyTo(result, 0);
        result[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), (ushort)header.Length);
        header.CopyTo(result, 10);
        var body = result.AsSpan(10 + header.Length);
        for (int i = 0; i < values.Length; i++)
            if (size == 4) BinaryPrimitives.WriteSingleLittleEndian(body[(4 * i)..], (float)values[i]);
            else BinaryPrimitives.WriteDoubleLittleEndian(body[(8 * i)..], values[i]);
        return result;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
