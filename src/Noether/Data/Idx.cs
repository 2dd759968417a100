using System.Buffers.Binary;
using System.IO.Compression;
using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Data;

/// <summary>The pixels of an IDX image file: <see cref="Count"/> images of <see cref="Rows"/>×<see cref="Columns"/> unsigned bytes, row-major.</summary>
/// <param name="Pixels">Count·Rows·Columns bytes, image after image, each row-major.</param>
/// <param name="Count">Number of images.</param>
/// <param name="Rows">Image height.</param>
/// <param name="Columns">Image width.</param>
public sealed record IdxImages(byte[] Pixels, int Count, int Rows, int Columns);

/// <summary>
/// Reader for the IDX format of MNIST and Fashion-MNIST: a big-endian header — magic number
/// 0x000008dd (two zero bytes, type code 0x08 = unsigned byte, dd = number of dimensions), then dd
/// big-endian 32-bit sizes — followed by the values. Label files have magic 0x00000801 (one
/// dimension: count), image files 0x00000803 (count, rows, columns).
/// </summary>
/// <remarks>
/// Files may be gzip-compressed or raw; compression is detected from the gzip magic bytes 1f 8b, never
/// from the file name. Every malformed file raises a <see cref="DataFormatException"/> whose message starts
/// with the path: wrong magic number, truncated or over-long body, image/label count mismatch, a label outside
/// the class range, a corrupt gzip stream. A missing file raises <see cref="FileNotFoundException"/>.
/// </remarks>
public static class Idx
{
    /// <summary>Magic number of an IDX label file (unsigned bytes, 1 dimension).</summary>
    public const int LabelMagic = 0x00000801;

    /// <summary>Magic number of an IDX image file (unsigned bytes, 3 dimensions).</summary>
    public const int ImageMagic = 0x00000803;

    /// <summary>Reads the labels of an IDX label file (magic 0x00000801).</summary>
    public static byte[] ReadLabels(string path)
    {
        var bytes = ReadDecompressed(path);
        var dims = ParseHeader(path, bytes, LabelMagic, "an IDX label file");
        return bytes.AsSpan(HeaderSize(1), dims[0]).ToArray();
    }

    /// <summary>Reads the images of an IDX image file (magic 0x00000803).</summary>
    public static IdxImages ReadImages(string path)
    {
        var bytes = ReadDecompressed(path);
        var dims = ParseHeader(path, bytes, ImageMagic, "an IDX image file");
        if (dims[1] == 0 || dims[2] == 0)
            throw new DataFormatException(path, $"images are {dims[1]}×{dims[2]} pixels; expected both sizes to be positive");
        long length = (long)dims[0] * dims[1] * dims[2];
        return new IdxImages(bytes.AsSpan(HeaderSize(3), (int)length).ToArray(), dims[0], dims[1], dims[2]);
    }

    /// <summary>
    /// Reads an image file and its label file into an <see cref="ImageDataset"/> of shape [N, 1, rows, columns]
    /// with pixel values byte / 255.
    /// </summary>
    /// <param name="imagesPath">IDX image file (gzip or raw).</param>
    /// <param name="labelsPath">IDX label file (gzip or raw) with one label per image.</param>
    /// <param name="classCount">Number of classes; every label must be below it.</param>
    /// <param name="classNames">Optional class names (classCount of them).</param>
    /// <param name="expectedRows">If given, the image height the caller requires (else any).</param>
    /// <param name="expectedColumns">If given, the image width the caller requires (else any).</param>
    /// <param name="description">Text put before the file names in <see cref="ImageDataset.Source"/>.</param>
    /// <exception cref="DataFormatException">Either file is malformed, the counts differ, the sizes differ from the expected ones, or a label is out of range.</exception>
    public static ImageDataset Load(string imagesPath, string labelsPath, int classCount, string[]? classNames = null,
        int? expectedRows = null, int? expectedColumns = null, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(imagesPath);
        ArgumentNullException.ThrowIfNull(labelsPath);
        Errors.ThrowIfNotPositive(classCount, nameof(classCount));
        var images = ReadImages(imagesPath);
        if ((expectedRows is int r && r != images.Rows) || (expectedColumns is int c && c != images.Columns))
            throw new DataFormatException(imagesPath,
                $"unexpected dimensions: images are {images.Rows}×{images.Columns} pixels, expected {expectedRows?.ToString(CultureInfo.InvariantCulture) ?? "any"}×{expectedColumns?.ToString(CultureInfo.InvariantCulture) ?? "any"}");
        var labels = ReadLabels(labelsPath);
        if (labels.Length != images.Count)
            throw new DataFormatException(labelsPath,
                $"image/label count mismatch: this label file holds {labels.Length} labels but the image file {imagesPath} holds {images.Count} images");
        var labelInts = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= classCount)
                throw new DataFormatException(labelsPath, $"label {labels[i]} at index {i} is outside the {classCount} classes [0, {classCount})");
            labelInts[i] = labels[i];
        }
        var pixels = PixelsToUnitInterval(images.Pixels);
        var tensor = new Tensor<float>(pixels, images.Count, 1, images.Rows, images.Columns);
        string source = $"{(description is null ? "" : description + ": ")}{imagesPath}, {labelsPath}";
        return new ImageDataset(tensor, labelInts, classCount, classNames, source);
    }

    /// <summary>byte → byte / 255 (IEEE division, correctly rounded, vectorised; the same value on every machine).</summary>
    internal static float[] PixelsToUnitInterval(ReadOnlySpan<byte> pixels)
    {
        // Datasets live as long as the process: on the pinned object heap they stay out of the large-object
        // heap's collection budget, so training garbage is collected sooner (peak memory 579 → 408 MB for one
        // Fashion-MNIST epoch, measured by the Nn work).
        var result = GC.AllocateUninitializedArray<float>(pixels.Length, pinned: true);
        PixelsToUnitInterval(pixels, result);
        return result;
    }

    /// <summary>Writes byte / 255 for each of <paramref name="pixels"/> into <paramref name="destination"/>.</summary>
    internal static void PixelsToUnitInterval(ReadOnlySpan<byte> pixels, Span<float> destination)
    {
        TensorPrimitives.ConvertTruncating<byte, float>(pixels, destination);
        TensorPrimitives.Divide(destination, 255f, destination);
    }

    private static int HeaderSize(int dimensions) => 4 + 4 * dimensions;

    /// <summary>Checks magic and sizes against the byte count and returns the sizes.</summary>
    private static int[] ParseHeader(string path, byte[] bytes, int expectedMagic, string what)
    {
        if (bytes.Length < 4)
            throw new DataFormatException(path, $"truncated: {bytes.Length} bytes, too short for the 4-byte IDX magic number of {what}");
        int magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (magic != expectedMagic)
        {
            string hint = magic switch
            {
                LabelMagic => " — this is an IDX label file",
                ImageMagic => " — this is an IDX image file",
                _ when bytes[0] == 0 && bytes[1] == 0 && bytes[2] != 0x08 => $" — IDX type code 0x{bytes[2]:X2} is not unsigned byte (0x08)",
                _ => "",
            };
            throw new DataFormatException(path, $"wrong magic number 0x{magic:X8} (expected 0x{expectedMagic:X8}, {what}){hint}");
        }
        int dimensions = expectedMagic & 0xFF;
        int header = HeaderSize(dimensions);
        if (bytes.Length < header)
            throw new DataFormatException(path, $"truncated: {bytes.Length} bytes, too short for the {header}-byte header of {what}");
        var dims = new int[dimensions];
        long expectedValues = 1;
        for (int d = 0; d < dimensions; d++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (size > int.MaxValue) throw new DataFormatException(path, $"dimension {d} has the impossible size {size}");
            dims[d] = (int)size;
            expectedValues *= size;
        }
        long actualValues = bytes.Length - header;
        string declared = dimensions == 1
            ? $"{dims[0]} labels"
            : $"{dims[0]} images of {string.Join("×", dims[1..])} pixels ({expectedValues} bytes)";
        if (actualValues < expectedValues)
            throw new DataFormatException(path, $"truncated: the header declares {declared} but only {actualValues} bytes follow it");
        if (actualValues > expectedValues)
            throw new DataFormatException(path, $"{actualValues - expectedValues} unexpected bytes after the {declared} the header declares");
        return dims;
    }

    /// <summary>The file's contents, gunzipped when it starts with the gzip magic 1f 8b.</summary>
    internal static byte[] ReadDecompressed(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1F || raw[1] != 0x8B) return raw;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw, writable: false), CompressionMode.Decompress);
            using var output = new MemoryStream((int)Math.Min(4L * raw.Length, Array.MaxLength));
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt gzip stream ({e.Message})", e);
        }
    }
}
