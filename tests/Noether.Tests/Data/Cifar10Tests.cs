using Noether.Data;
using Noether.Tests.Serialization;

namespace Noether.Tests.Data;

public class Cifar10Tests
{
    // A pixel value that differs with every coordinate, so a misplaced channel, row or column shows.
    private static byte Pixel(int record, int channel, int row, int col) => (byte)((record * 13 + channel * 101 + row * 31 + col * 7) % 256);

    private static byte[] Batch(int firstRecord, params byte[] labels)
    {
        var bytes = new byte[labels.Length * 3073];
        for (int r = 0; r < labels.Length; r++)
        {
            int o = r * 3073;
            bytes[o] = labels[r];
            // Documented layout: 1024 red, then 1024 green, then 1024 blue bytes, each row-major 32×32.
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++)
                        bytes[o + 1 + c * 1024 + y * 32 + x] = Pixel(firstRecord + r, c, y, x);
        }
        return bytes;
    }

    private static void WriteAll(TempDirectory dir)
    {
        File.WriteAllBytes(dir.File("data_batch_1.bin"), Batch(0, 0, 1));
        File.WriteAllBytes(dir.File("data_batch_2.bin"), Batch(2, 2));
        File.WriteAllBytes(dir.File("data_batch_3.bin"), Batch(3, 3, 4, 5));
        File.WriteAllBytes(dir.File("data_batch_4.bin"), Batch(6, 6));
        File.WriteAllBytes(dir.File("data_batch_5.bin"), Batch(7, 7, 8));
        File.WriteAllBytes(dir.File("test_batch.bin"), Batch(100, 9, 0, 5));
    }

    [Fact]
    public void Load_TestBatch_PlacesEveryPixelAtItsChannelRowAndColumn()
    {
        using var dir = new TempDirectory();
        WriteAll(dir);
        var data = Cifar10.Load(dir.Path, train: false);

        Assert.Equal([3, 3, 32, 32], data.Images.ShapeArray);
        Assert.Equal([9, 0, 5], data.Labels);
        for (int n = 0; n < 3; n++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++)
                        Assert.Equal(Pixel(100 + n, c, y, x) / 255f, data.Images[n, c, y, x]);
        Assert.Equal(Cifar10.DefaultClassNames, data.ClassNames);
    }

    [Fact]
    public void Load_TrainingSplit_ConcatenatesTheFiveBatchesInOrder()
    {
        using var dir = new TempDirectory();
        WriteAll(dir);
        var data = Cifar10.Load(dir.Path, train: true);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8], data.Labels);
        for (int n = 0; n < 9; n++)
            Assert.Equal(Pixel(n, 2, 31, 30) / 255f, data.Images[n, 2, 31, 30]);
    }

    [Fact]
    public void Load_ParentOfArchiveDirectory_DescendsIntoIt()
    {
        using var dir = new TempDirectory();
        var nested = Directory.CreateDirectory(Path.Combine(dir.Path, Cifar10.ArchiveDirectory)).FullName;
        File.WriteAllBytes(Path.Combine(nested, "test_batch.bin"), Batch(0, 1));
        var data = Cifar10.Load(dir.Path, train: false);
        Assert.Equal([1], data.Labels);
        Assert.Contains(nested, data.Source);
    }

    [Fact]
    public void Load_MetaFile_SuppliesClassNames()
    {
        using var dir = new TempDirectory();
        WriteAll(dir);
        File.WriteAllText(dir.File("batches.meta.txt"), string.Join("\n", Enumerable.Range(0, 10).Select(i => $"class{i}")) + "\n\n");
        Assert.Equal("class7", Cifar10.Load(dir.Path, train: false).ClassNames![7]);
    }

    [Fact]
    public void Load_MetaFileWithWrongLineCount_NamesFile()
    {
        using var dir = new TempDirectory();
        WriteAll(dir);
        File.WriteAllText(dir.File("batches.meta.txt"), "cat\ndog\n");
        var e = Assert.Throws<DataFormatException>(() => Cifar10.Load(dir.Path, train: false));
        Assert.Equal(dir.File("batches.meta.txt"), e.FilePath);
        Assert.Contains("found 2", e.Message);
    }

    [Fact]
    public void Load_MissingBatchFile_NamesTheMissingFileAndDirectory()
    {
        using var dir = new TempDirectory();
        WriteAll(dir);
        File.Delete(dir.File("data_batch_3.bin"));
        var e = Assert.Throws<DatasetNotFoundException>(() => Cifar10.Load(dir.Path, train: true));
        Assert.Contains("data_batch_3.bin", e.Message);
        Assert.DoesNotContain("data_batch_2.bin", e.Message);
        Assert.Contains(dir.Path, e.Message);
        // The test split is complete and still loads.
        Assert.Equal(3, Cifar10.Load(dir.Path, train: false).Count);
    }

    [Fact]
    public void Load_EmptyDirectory_ListsAllMissingBatches()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<DatasetNotFoundException>(() => Cifar10.Load(dir.Path, train: true));
        for (int i = 1; i <= 5; i++) Assert.Contains($"data_batch_{i}.bin", e.Message);
    }

    [Theory]
    [InlineData(3073 * 2 + 5)]
    [InlineData(3072)]
    [InlineData(0)]
    public void Load_RecordSizeNotAMultipleOf3073_NamesFileAndSize(int size)
    {
        using var dir = new TempDirectory();
        WriteAll(dir);
        File.WriteAllBytes(dir.File("data_batch_4.bin"), new byte[size]);
        var e = Assert.Throws<DataFormatException>(() => Cifar10.Load(dir.Path, train: true));
        Assert.Equal(dir.File("data_batch_4.bin"), e.FilePath);
        Assert.Contains($"size {size} bytes", e.Message);
        Assert.Contains("3073", e.Message);
    }

    [Fact]
    public void Load_LabelTen_NamesFileRecordAndLabel()
    {
        using var dir = new TempDirectory();
        WriteAll(dir);
        File.WriteAllBytes(dir.File("test_batch.bin"), Batch(0, 3, 4, 10));
        var e = Assert.Throws<DataFormatException>(() => Cifar10.Load(dir.Path, train: false));
        Assert.Equal(dir.File("test_batch.bin"), e.FilePath);
        Assert.Contains("record 2", e.Message);
        Assert.Contains("label 10", e.Message);
    }

    [Fact]
    public void Locate_NoDirectoryAndNoEnvironment_ReportsNothingConfigured()
    {
        var location = Cifar10.Locate(null, _ => null);
        Assert.Null(location.Directory);
        Assert.False(location.Found);
        Assert.Equal(6, location.Missing.Count);
    }

    [Fact]
    public void Locate_EnvironmentVariable_IsUsedWhenNoDirectoryGiven()
    {
        using var dir = new TempDirectory();
        WriteAll(dir);
        var location = Cifar10.Locate(null, name => name == Cifar10.EnvironmentVariable ? dir.Path : null);
        Assert.True(location.Found, location.ToString());
        Assert.Equal(Cifar10.EnvironmentVariable, location.ChosenBy);
    }
}
