using Noether.Data;
using Noether.Experiments;
using Noether.Serialization;
using Noether.Tensors;
using static Noether.Tests.Ensembles.EnsembleFixture;

namespace Noether.Tests.Experiments;

public class SpecCnnSourceTests
{
    private static CnnTrainingSettings Settings(int seed = 3) => new("fashion-mnist", null, Epochs: 1, Seed: seed, Channels: 3, Hidden: Hidden, LeakySlope: 0.1);

    [Fact]
    public void SaveThenTryCached_SameSettings_GivesTheSavedWeights_OtherSettingsNone()
    {
        string dir = Directory.CreateTempSubdirectory("noether-cache").FullName;
        try
        {
            var model = Untrained(5);
            SpecCnnSource.Save(dir, model, Settings());
            var cached = SpecCnnSource.TryCached(dir, Settings(), Side);
            Assert.NotNull(cached);
            Assert.Equal(model.Parameters.Select(p => p.Value.Data), cached!.Parameters.Select(p => p.Value.Data));
            Assert.Null(SpecCnnSource.TryCached(dir, Settings(seed: 4), Side)); // another seed trains other weights
            Assert.Null(SpecCnnSource.TryCached(Path.Combine(dir, "none"), Settings(), Side));
            File.WriteAllText(Path.Combine(dir, SpecCnnSource.CacheFile), "damaged");
            Assert.Null(SpecCnnSource.TryCached(dir, Settings(), Side)); // a damaged cache is retrained, not an error
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ReuseCached_FromAnEarlierFolder_CopiesTheCacheIntoTheNewOne()
    {
        string earlier = Directory.CreateTempSubdirectory("noether-earlier").FullName, next = Directory.CreateTempSubdirectory("noether-next").FullName;
        try
        {
            SpecCnnSource.Save(earlier, Untrained(6), Settings());
            Assert.NotNull(SpecCnnSource.ReuseCached(earlier, next, Settings(), Side));
            Assert.Equal(File.ReadAllBytes(Path.Combine(earlier, SpecCnnSource.CacheFile)), File.ReadAllBytes(Path.Combine(next, SpecCnnSource.CacheFile)));
            Assert.Null(SpecCnnSource.ReuseCached(next, earlier, Settings(seed: 9), Side));
        }
        finally
        {
            Directory.Delete(earlier, recursive: true);
            Directory.Delete(next, recursive: true);
        }
    }

    [Fact]
    public void TrainingImages_TakesTheFirstLimitImages_OrAll()
    {
        var train = Images(20, 1);
        Assert.Same(train, SpecCnnSource.TrainingImages(Settings(), train));
        var cut = SpecCnnSource.TrainingImages(Settings() with { TrainLimit = 7 }, train);
        Assert.Equal(7, cut.Count);
        Assert.Equal(train.Labels.Take(7), cut.Labels);
        Assert.Same(train, SpecCnnSource.TrainingImages(Settings() with { TrainLimit = 50 }, train));
    }

    [Fact]
    public void CheckHiddenLayer_TooManyWeightsForOneTensor_IsRefusedNamingTheSettings()
    {
        // 28×28 images pool to 14×14: C·196·h weights; 1000·196·20000 > Array.MaxLength, 16·196·32 is not.
        SpecCnnSource.CheckHiddenLayer(new CnnTrainingSettings("fashion-mnist", null, Channels: 16, Hidden: 32), "hidden", "16/32");
        var e = Assert.Throws<ArgumentException>(() => SpecCnnSource.CheckHiddenLayer(new CnnTrainingSettings("fashion-mnist", null, Channels: 1000, Hidden: 20000), "hidden", "1000/20000"));
        Assert.Equal("hidden", e.ParamName);
        Assert.StartsWith("1000/20000: the hidden layer would have 1000·14²·20000 = 3.92E+09 weights", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RequireImages_EmptySplit_IsRefusedNamingItsSource()
    {
        var empty = new ImageDataset(new Tensor<float>(new float[0], 0, 1, Side, Side), [], Classes, null, "empty.idx");
        var e = Assert.Throws<InvalidDataException>(() => SpecCnnSource.RequireImages(empty, "data"));
        Assert.Equal("data: empty.idx holds no images", e.Message);
        SpecCnnSource.RequireImages(Images(1, 2), "data");
    }

    [Fact]
    public void ReadWeights_NotAModelFile_NamesTheCallersOption()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [1, 2, 3]);
            var e = Assert.ThrowsAny<Exception>(() => SpecCnnSource.ReadWeights(path, null, "--weights"));
            if (e is ArgumentException a) Assert.Equal("--weights", a.ParamName);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
