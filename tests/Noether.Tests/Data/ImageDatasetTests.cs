using Noether.Data;
using Noether.Tensors;

namespace Noether.Tests.Data;

public class ImageDatasetTests
{
    private static Tensor<float> Images(int n, int c = 2, int h = 3, int w = 2, int seed = 0)
    {
        var rng = new Random(seed);
        var data = new float[n * c * h * w];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
        return new Tensor<float>(data, n, c, h, w);
    }

    [Fact]
    public void Subset_CopiesTheRequestedRowsAndLabels()
    {
        var images = Images(6);
        var data = new ImageDataset(images, [0, 1, 2, 0, 1, 2], 3, ["a", "b", "c"], "test");
        var subset = data.Subset(2, 3);
        Assert.Equal([2, 0, 1], subset.Labels);
        for (int n = 0; n < 3; n++)
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 2; x++)
                        Assert.Equal(images[n + 2, c, y, x], subset.Images[n, c, y, x]);
        float original = images[2, 0, 0, 0];
        subset.Images.Data[0] = original == 0.25f ? 0.75f : 0.25f;
        Assert.Equal(original, images[2, 0, 0, 0]); // a copy, not a view
        Assert.Equal(["a", "b", "c"], subset.ClassNames!);
    }

    [Fact]
    public void Take_ReturnsRowsInGivenOrderWithRepeats()
    {
        var images = Images(4);
        var data = new ImageDataset(images, [0, 1, 2, 3], 4, null, "test");
        var taken = data.Take([3, 0, 3]);
        Assert.Equal([3, 0, 3], taken.Labels);
        Assert.Equal(images.Data.AsSpan(3 * 12, 12).ToArray(), taken.Images.Data.AsSpan(0, 12).ToArray());
        Assert.Equal(images.Data.AsSpan(0, 12).ToArray(), taken.Images.Data.AsSpan(12, 12).ToArray());
        Assert.Equal(images.Data.AsSpan(3 * 12, 12).ToArray(), taken.Images.Data.AsSpan(24, 12).ToArray());
    }

    [Fact]
    public void LabelHistogram_CountsEachClass()
    {
        var data = new ImageDataset(Images(5), [2, 0, 2, 2, 1], 4, null, "test");
        Assert.Equal([1, 1, 3, 0], data.LabelHistogram());
    }

    [Fact]
    public void Constructor_BadInput_NamesTheProblem()
    {
        Assert.Contains("rank 4", Assert.Throws<ArgumentException>(() => new ImageDataset(new Tensor<float>(new float[6], 2, 3), [0, 0], 2, null, "x")).Message);
        Assert.Contains("2 images but 3 labels", Assert.Throws<ArgumentException>(() => new ImageDataset(Images(2), [0, 0, 0], 2, null, "x")).Message);
        Assert.Contains("labels[1] = 5", Assert.Throws<ArgumentException>(() => new ImageDataset(Images(2), [0, 5], 2, null, "x")).Message);
        Assert.Contains("labels[0] = -1", Assert.Throws<ArgumentException>(() => new ImageDataset(Images(2), [-1, 0], 2, null, "x")).Message);
        Assert.Contains("3 class names for 2 classes", Assert.Throws<ArgumentException>(() => new ImageDataset(Images(2), [0, 1], 2, ["a", "b", "c"], "x")).Message);
        var tooBright = Images(2);
        tooBright.Data[7] = 1.5f;
        Assert.Contains("expected values in [0, 1]", Assert.Throws<ArgumentException>(() => new ImageDataset(tooBright, [0, 1], 2, null, "x")).Message);
        var nan = Images(2);
        nan.Data[3] = float.NaN;
        Assert.Equal("images", Assert.Throws<ArgumentException>(() => new ImageDataset(nan, [0, 1], 2, null, "x")).ParamName);
    }

    [Fact]
    public void Subset_OutOfRange_Throws()
    {
        var data = new ImageDataset(Images(4), [0, 1, 0, 1], 2, null, "test");
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset(2, 3)).ParamName);
        Assert.Equal("start", Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset(-1, 1)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Take([4]));
    }
}
