using System.Buffers.Binary;
using System.IO.Compression;

namespace Noether.Tests.Data;

/// <summary>Builds IDX files byte by byte, independently of the reader under test.</summary>
internal static class IdxFiles
{
    public static byte[] Build(int magic, int[] dims, byte[] payload)
    {
        var bytes = new byte[4 + 4 * dims.Length + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        payload.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Images(int count, int rows, int cols, byte[] pixels) => Build(0x803, [count, rows, cols], pixels);

    public static byte[] Labels(byte[] labels) => Build(0x801, [labels.Length], labels);

    public static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest)) gz.Write(raw);
        return output.ToArray();
    }

    public static byte[] RandomBytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }
}
