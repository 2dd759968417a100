using System.IO.Compression;
using Noether.Data;
using Noether.Tests.Serialization;

namespace Noether.Tests.Data;

public class FashionMnistTests
{
    private static byte[] Gunzip(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var output = new MemoryStream();
        gz.CopyTo(output);
        return output.ToArray();
    }

    [Fact]
    public void Load_InstalledTestSplit_HasTenThousandBalancedImagesInUnitRange()
    {
        var location = FashionMnist.Locate(FashionMnist.DefaultDirectory);
        Assert.True(location.Found,
            $"Fashion-MNIST must be installed for this test ({location}); run `{FashionMnist.InstallCommand}`");

        var data = FashionMnist.Load(FashionMnist.DefaultDirectory, train: false);

        Assert.Equal([10_000, 1, 28, 28], data.Images.ShapeArray);
        Assert.Equal(10, data.ClassCount);
        Assert.Equal(FashionMnist.ClassNames, data.ClassNames);
        // The published test split holds exactly 1000 images of each class.
        Assert.All(data.LabelHistogram(), count => Assert.Equal(1000, count));
        Assert.Equal(0f, data.Images.Data.Min());
        Assert.Equal(1f, data.Images.Data.Max());

        // Independent parse of the same files: labels at offset 8, pixels at offset 16, byte / 255.
        var labels = Gunzip(Path.Combine(FashionMnist.DefaultDirectory, "t10k-labels-idx1-ubyte.gz"));
        var pixels = Gunzip(Path.Combine(FashionMnist.DefaultDirectory, "t10k-images-idx3-ubyte.gz"));
        Assert.Equal(labels.AsSpan(8).ToArray().Select(b => (int)b), data.Labels);
        for (int i = 0; i < data.Images.Length; i += 997)
            Assert.Equal(pixels[16 + i] / 255f, data.Images.Data[i]);
    }

    [Fact]
    public void Locate_InstalledPackage_FindsAllFourFilesInDefaultDirectory()
    {
        var location = FashionMnist.Locate(null, _ => null);
        Assert.Equal(FashionMnist.DefaultDirectory, location.Directory);
        Assert.Equal("default", location.ChosenBy);
        Assert.True(location.Found, location.ToString());
        Assert.Equal(4, location.Files.Count);
    }

    [Fact]
    public void Locate_EnvironmentVariableSet_OverridesDefaultButNotAnExplicitDirectory()
    {
        using var dir = new TempDirectory();
        Func<string, string?> env = name => name == FashionMnist.EnvironmentVariable ? dir.Path : null;

        var fromEnv = FashionMnist.Locate(null, env);
        Assert.Equal(dir.Path, fromEnv.Directory);
        Assert.Equal(FashionMnist.EnvironmentVariable, fromEnv.ChosenBy);
        Assert.False(fromEnv.Found);
        Assert.Equal(4, fromEnv.Missing.Count);

        var explicitDir = FashionMnist.Locate(FashionMnist.DefaultDirectory, env);
        Assert.Equal(FashionMnist.DefaultDirectory, explicitDir.Directory);
        Assert.Equal("argument", explicitDir.ChosenBy);
    }

    [Fact]
    public void Load_MissingDataset_MessageGivesDirectoryAndInstallCommand()
    {
        using var dir = new TempDirectory();
        var missing = Path.Combine(dir.Path, "nowhere");
        var e = Assert.Throws<DatasetNotFoundException>(() => FashionMnist.Load(missing, train: true));
        Assert.Contains(missing, e.Message);
        Assert.Contains("train-images-idx3-ubyte.gz", e.Message);
        Assert.Contains("apt-get install -y dataset-fashion-mnist", e.Message);
        Assert.Contains("does not exist", e.Message);
        Assert.Equal(FashionMnist.InstallCommand, e.InstallCommand);
    }

    [Fact]
    public void Load_RawUncompressedFilesInCustomDirectory_AreRead()
    {
        using var dir = new TempDirectory();
        var pixels = IdxFiles.RandomBytes(2 * 28 * 28, seed: 5);
        File.WriteAllBytes(dir.File("t10k-images-idx3-ubyte"), IdxFiles.Images(2, 28, 28, pixels));
        File.WriteAllBytes(dir.File("t10k-labels-idx1-ubyte"), IdxFiles.Labels([9, 4]));

        var data = FashionMnist.Load(dir.Path, train: false);

        Assert.Equal([9, 4], data.Labels);
        Assert.Equal(pixels[28 * 28 + 5 * 28 + 7] / 255f, data.Images[1, 0, 5, 7]);
        Assert.Equal("Ankle boot", data.ClassName(9));
        // Only the test split is there: the training split's files are reported missing.
        var e = Assert.Throws<DatasetNotFoundException>(() => FashionMnist.Load(dir.Path, train: true));
        Assert.Contains("train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz", e.Message);
    }

    [Fact]
    public void Load_ImagesOfWrongSize_UnexpectedDimensionsNamingFile()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("t10k-images-idx3-ubyte.gz"), IdxFiles.Gzip(IdxFiles.Images(1, 32, 32, new byte[1024])));
        File.WriteAllBytes(dir.File("t10k-labels-idx1-ubyte.gz"), IdxFiles.Gzip(IdxFiles.Labels([0])));
        var e = Assert.Throws<DataFormatException>(() => FashionMnist.Load(dir.Path, train: false));
        Assert.Equal(dir.File("t10k-images-idx3-ubyte.gz"), e.FilePath);
        Assert.Contains("32×32", e.Message);
        Assert.Contains("expected 28×28", e.Message);
    }

    [Fact]
    public void ClassNames_AreTheTenPublishedNamesAndACopy()
    {
        var names = FashionMnist.ClassNames;
        Assert.Equal(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"], names);
        names[0] = "changed";
        Assert.Equal("T-shirt/top", FashionMnist.ClassNames[0]);
    }
}
