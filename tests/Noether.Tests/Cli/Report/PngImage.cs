using System.Buffers.Binary;
using System.IO.Compression;

namespace Noether.Tests.Cli.Report;

/// <summary>
/// A minimal PNG decoder for the tests (8-bit greyscale/RGB/RGBA, non-interlaced: what ScottPlot and Chromium write):
/// enough to check that an image decodes and is not one flat colour, independently of the code that wrote it.
/// </summary>
public sealed class PngImage
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public int Width { get; }
    public int Height { get; }

    /// <summary>Pixels as 0xRRGGBBAA, row-major.</summary>
    public uint[] Pixels { get; }

    private PngImage(int width, int height, uint[] pixels) => (Width, Height, Pixels) = (width, height, pixels);

    public static PngImage Decode(byte[] bytes)
    {
        if (bytes.Length < 8 || !bytes.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException("not a PNG (signature)");
        int width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0;
        using var idat = new MemoryStream();
        int pos = 8;
        bool end = false;
        while (!end)
        {
            if (pos + 8 > bytes.Length) throw new InvalidDataException("truncated PNG (no IEND)");
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(bytes, pos + 4, 4);
            if (length < 0 || pos + 12 + length > bytes.Length) throw new InvalidDataException($"truncated PNG chunk {type}");
            var data = bytes.AsSpan(pos + 8, length);
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    (bitDepth, colorType, interlace) = (data[8], data[9], data[12]);
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
                case "IEND":
                    end = true;
                    break;
            }
            pos += 12 + length;
        }
        if (width <= 0 || height <= 0) throw new InvalidDataException("PNG with an empty image");
        int channels = colorType switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => throw new NotSupportedException($"PNG colour type {colorType}") };
        if (bitDepth != 8 || interlace != 0) throw new NotSupportedException($"PNG bit depth {bitDepth}, interlace {interlace}");

        idat.Position = 0;
        using var inflate = new ZLibStream(idat, CompressionMode.Decompress);
        int stride = width * channels;
        var raw = new byte[(stride + 1) * height];
        int read = 0;
        while (read < raw.Length)
        {
            int n = inflate.Read(raw, read, raw.Length - read);
            if (n == 0) throw new InvalidDataException("PNG image data shorter than its header says");
            read += n;
        }

        var pixels = new uint[width * height];
        var previous = new byte[stride];
        var line = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            int filter = raw[y * (stride + 1)];
            Array.Copy(raw, y * (stride + 1) + 1, line, 0, stride);
            for (int i = 0; i < stride; i++)
            {
                int a = i >= channels ? line[i - channels] : 0, b = previous[i], c = i >= channels ? previous[i - channels] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"PNG filter {filter}"),
                };
                line[i] = (byte)(line[i] + predictor);
            }
            for (int x = 0; x < width; x++)
            {
                int o = x * channels;
                (byte r, byte g, byte bl, byte al) = channels switch
                {
                    1 => (line[o], line[o], line[o], (byte)255),
                    2 => (line[o], line[o], line[o], line[o + 1]),
                    3 => (line[o], line[o + 1], line[o + 2], (byte)255),
                    _ => (line[o], line[o + 1], line[o + 2], line[o + 3]),
                };
                pixels[y * width + x] = (uint)(r << 24 | g << 16 | bl << 8 | al);
            }
            (previous, line) = (line, previous);
        }
        return new PngImage(width, height, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Number of distinct colours.</summary>
    public int DistinctColours() => Pixels.Distinct().Count();

    /// <summary>Fraction of pixels that differ from the most common colour (the background).</summary>
    public double NonBackgroundFraction()
    {
        uint background = Pixels.GroupBy(p => p).MaxBy(g => g.Count())!.Key;
        return Pixels.Count(p => p != background) / (double)Pixels.Length;
    }
}
