using Noether.Nn;
using Noether.Tensors;

namespace Noether.Tests.Support;

/// <summary>A seeded SPEC-shaped CNN small enough for exact checks, with uniform [0, 1) images and labels i mod classes.</summary>
public static class TinyCnn
{
    public static (SpecCnn<double> Model, Tensor<double> Images, int[] Labels) Create(int seed, int count, int imageSize, int classes, int channels, int hidden)
    {
        var rng = new Random(seed);
        var model = Models.SpecCnn<double>(rng, inChannels: 1, imageSize: imageSize, classes: classes, channels: channels, hidden: hidden);
        var images = Init.Uniform(Tensor<double>.Zeros(count, 1, imageSize, imageSize), 0, 1, rng);
        return (model, images, Enumerable.Range(0, count).Select(i => i % classes).ToArray());
    }
}
