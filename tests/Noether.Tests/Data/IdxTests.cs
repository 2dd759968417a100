using Noether.Data;
using Noether.Tests.Serialization;

namespace Noether.Tests.Data;

public class IdxTests
{
    private static DataFormatException AssertFormatError(string path, Action read, params string[] phrases)
    {
        var e = Assert.Throws<DataFormatException>(read);
        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(path + ": ", e.Message);
        foreach (var phrase in phrases) Assert.Contains(phrase, e.Message);
        return e;
    }

    [Fact]
    public void ReadImages_GzipAndRaw_AreDetectedByContentNotByName()
    {
        using var dir = new TempDirectory();
        var pixels = IdxFiles.RandomBytes(3 * 4 * 5, seed: 1);
        var raw = IdxFiles.Images(3, 4, 5, pixels);
        // Deliberately misleading names: the raw file ends in .gz and the gzip file does not.
        File.WriteAllBytes(dir.File("raw.gz"), raw);
        File.WriteAllBytes(dir.File("compressed.bin"), IdxFiles.Gzip(raw));

        foreach (var name in new[] { "raw.gz", "compressed.bin" })
        {
            var images = Idx.ReadImages(dir.File(name));
            Assert.Equal((3, 4, 5), (images.Count, images.Rows, images.Columns));
            Assert.Equal(pixels, images.Pixels);
        }
    }

    [Fact]
    public void Load_ValidFiles_PixelsAreBytesOver255InRowMajorOrder()
    {
        using var dir = new TempDirectory();
        var pixels = IdxFiles.RandomBytes(4 * 3 * 2, seed: 2);
        byte[] labels = [3, 0, 9, 3];
        File.WriteAllBytes(dir.File("img"), IdxFiles.Gzip(IdxFiles.Images(4, 3, 2, pixels)));
        File.WriteAllBytes(dir.File("lbl"), IdxFiles.Labels(labels));

        var data = Idx.Load(dir.File("img"), dir.File("lbl"), classCount: 10);

        Assert.Equal([4, 1, 3, 2], data.Images.ShapeArray);
        Assert.Equal(labels.Select(l => (int)l), data.Labels);
        for (int n = 0; n < 4; n++)
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 2; c++)
                    Assert.Equal(pixels[n * 6 + r * 2 + c] / 255f, data.Images[n, 0, r, c]);
        Assert.Contains(dir.File("img"), data.Source);
    }

    [Fact]
    public void Load_EveryByteValue_BecomesExactlyByteOver255()
    {
        using var dir = new TempDirectory();
        var pixels = Enumerable.Range(0, 256).Select(v => (byte)v).ToArray();
        File.WriteAllBytes(dir.File("img"), IdxFiles.Images(1, 16, 16, pixels));
        File.WriteAllBytes(dir.File("lbl"), IdxFiles.Labels([0]));
        var data = Idx.Load(dir.File("img"), dir.File("lbl"), 1);
        for (int v = 0; v < 256; v++) Assert.Equal(v / 255f, data.Images.Data[v]);
    }

    [Fact]
    public void ReadLabels_ImageFileGiven_WrongMagicNumberNamesFileAndBothMagics()
    {
        using var dir = new TempDirectory();
        var path = dir.File("train-labels-idx1-ubyte.gz");
        File.WriteAllBytes(path, IdxFiles.Gzip(IdxFiles.Images(1, 2, 2, [1, 2, 3, 4])));
        AssertFormatError(path, () => Idx.ReadLabels(path), "wrong magic number 0x00000803", "expected 0x00000801", "image file");
    }

    [Fact]
    public void ReadImages_ArbitraryBytes_WrongMagicNumber()
    {
        using var dir = new TempDirectory();
        var path = dir.File("notes.txt");
        File.WriteAllText(path, "hello, this is not an IDX file");
        AssertFormatError(path, () => Idx.ReadImages(path), "wrong magic number 0x68656C6C", "expected 0x00000803");
    }

    [Fact]
    public void ReadImages_BodyCutShort_TruncatedWithDeclaredAndActualSizes()
    {
        using var dir = new TempDirectory();
        var path = dir.File("images");
        var full = IdxFiles.Images(3, 4, 4, IdxFiles.RandomBytes(48, seed: 3));
        File.WriteAllBytes(path, full[..^5]);
        AssertFormatError(path, () => Idx.ReadImages(path), "truncated", "3 images of 4×4", "48 bytes", "only 43 bytes");
    }

    [Fact]
    public void ReadImages_GzipStreamCutShort_ReportsTruncationOrCorruption()
    {
        using var dir = new TempDirectory();
        var path = dir.File("images.gz");
        var gz = IdxFiles.Gzip(IdxFiles.Images(50, 8, 8, IdxFiles.RandomBytes(50 * 64, seed: 4)));
        File.WriteAllBytes(path, gz[..(gz.Length / 2)]);
        var e = Assert.Throws<DataFormatException>(() => Idx.ReadImages(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.True(e.Message.Contains("truncated") || e.Message.Contains("corrupt gzip"), e.Message);
    }

    [Fact]
    public void ReadImages_GzipMagicThenGarbage_CorruptGzip()
    {
        using var dir = new TempDirectory();
        var path = dir.File("images.gz");
        File.WriteAllBytes(path, [0x1F, 0x8B, 0x08, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A]);
        AssertFormatError(path, () => Idx.ReadImages(path), "corrupt gzip");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(9)]
    public void ReadImages_HeaderCutShort_Truncated(int length)
    {
        using var dir = new TempDirectory();
        var path = dir.File("images");
        File.WriteAllBytes(path, IdxFiles.Images(1, 1, 1, [7])[..length]);
        AssertFormatError(path, () => Idx.ReadImages(path), "truncated");
    }

    [Fact]
    public void ReadLabels_ExtraBytesAfterBody_Rejected()
    {
        using var dir = new TempDirectory();
        var path = dir.File("labels");
        File.WriteAllBytes(path, [.. IdxFiles.Labels([1, 2, 3]), 0, 0]);
        AssertFormatError(path, () => Idx.ReadLabels(path), "2 unexpected bytes", "3 labels");
    }

    [Fact]
    public void Load_CountMismatch_NamesBothFilesAndCounts()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("img"), IdxFiles.Images(3, 2, 2, new byte[12]));
        File.WriteAllBytes(dir.File("lbl"), IdxFiles.Labels([1, 2]));
        AssertFormatError(dir.File("lbl"), () => Idx.Load(dir.File("img"), dir.File("lbl"), 10),
            "count mismatch", "2 labels", "3 images", dir.File("img"));
    }

    [Fact]
    public void Load_UnexpectedDimensions_NamesActualAndExpectedSizes()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("img"), IdxFiles.Images(1, 27, 28, new byte[27 * 28]));
        File.WriteAllBytes(dir.File("lbl"), IdxFiles.Labels([1]));
        AssertFormatError(dir.File("img"), () => Idx.Load(dir.File("img"), dir.File("lbl"), 10, expectedRows: 28, expectedColumns: 28),
            "unexpected dimensions", "27×28", "expected 28×28");
    }

    [Fact]
    public void ReadImages_ZeroSizedImages_UnexpectedDimensions()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("img"), IdxFiles.Images(5, 0, 28, []));
        AssertFormatError(dir.File("img"), () => Idx.ReadImages(dir.File("img")), "0×28");
    }

    [Fact]
    public void Load_LabelAboveClassCount_NamesLabelAndIndex()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("img"), IdxFiles.Images(3, 1, 1, [0, 0, 0]));
        File.WriteAllBytes(dir.File("lbl"), IdxFiles.Labels([1, 10, 2]));
        AssertFormatError(dir.File("lbl"), () => Idx.Load(dir.File("img"), dir.File("lbl"), 10), "label 10 at index 1");
    }

    [Fact]
    public void ReadImages_MissingFile_FileNotFound()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<FileNotFoundException>(() => Idx.ReadImages(dir.File("absent")));
        Assert.Contains(dir.File("absent"), e.Message);
    }
}
