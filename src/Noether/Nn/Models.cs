namespace Noether.Nn;

/// <summary>
/// The CNN of SPEC "Ensembles and attacks" (paper Appendix H): conv 3×3 (padding 1) → max-pool 2 → flatten →
/// linear to h → LeakyReLU → linear to the classes. Layers are named by index as in the equivalent PyTorch
/// <c>nn.Sequential</c> ("0" conv, "1" pool, "2" flatten, "3" hidden linear, "4" LeakyReLU, "5" output linear), so
/// parameter names are "0.weight", "0.bias", "3.weight", "3.bias", "5.weight", "5.bias".
/// </summary>
/// <remarks>
/// The group acts on the last two linear layers: <see cref="Output"/>'s weight is U (classes × h) and
/// <see cref="Hidden"/>'s weight is V (h × features), with σ the LeakyReLU between them.
/// </remarks>
public sealed class SpecCnn<T> : Sequential<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Builds the network with PyTorch's default initialisation drawn from <paramref name="rng"/>.</summary>
    /// <param name="rng">The seeded generator.</param>
    /// <param name="inChannels">Image channels (1 for Fashion-MNIST, 3 for CIFAR-10).</param>
    /// <param name="imageSize">Image side (28 or 32); must be even.</param>
    /// <param name="classes">Number of classes.</param>
    /// <param name="channels">Convolution output channels.</param>
    /// <param name="hidden">Hidden width h.</param>
    /// <param name="leakySlope">LeakyReLU's negative slope.</param>
    public SpecCnn(Random rng, int inChannels = 1, int imageSize = 28, int classes = 10, int channels = 16, int hidden = 32, double leakySlope = Nn.Activation.PyTorchLeakySlope)
        : this(Build(rng, inChannels, imageSize, classes, channels, hidden, leakySlope))
    {
        InChannels = inChannels;
        ImageSize = imageSize;
    }

    private SpecCnn(Module<T>[] layers) : base("spec_cnn", layers)
    {
        Conv = (Conv2d<T>)layers[0];
        Hidden = (Linear<T>)layers[3];
        Activation = (Activation<T>)layers[4];
        Output = (Linear<T>)layers[5];
    }

    /// <summary>The 3×3 convolution.</summary>
    public Conv2d<T> Conv { get; }

    /// <summary>The linear layer to h; its weight is the group's V.</summary>
    public Linear<T> Hidden { get; }

    /// <summary>The LeakyReLU σ between <see cref="Hidden"/> and <see cref="Output"/>.</summary>
    public Activation<T> Activation { get; }

    /// <summary>The last linear layer; its weight is the group's U.</summary>
    public Linear<T> Output { get; }

    /// <summary>Image channels expected.</summary>
    public int InChannels { get; }

    /// <summary>Image side expected.</summary>
    public int ImageSize { get; }

    private static Module<T>[] Build(Random rng, int inChannels, int imageSize, int classes, int channels, int hidden, double leakySlope)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Errors.ThrowIfNotPositive(inChannels, nameof(inChannels));
        Errors.ThrowIfNotPositive(classes, nameof(classes));
        Errors.ThrowIfNotPositive(channels, nameof(channels));
        Errors.ThrowIfNotPositive(hidden, nameof(hidden));
        if (imageSize < 2 || imageSize % 2 != 0) throw Errors.OutOfRange(nameof(imageSize), imageSize, "an even image side ≥ 2");
        int pooled = imageSize / 2;
        return
        [
            new Conv2d<T>(inChannels, channels, 3, 1, 1, true, rng, "0"),
            new MaxPool2d<T>(2, name: "1"),
            new Flatten<T>("2"),
            new Linear<T>(channels * pooled * pooled, hidden, true, rng, "3"),
            new Activation<T>(Nn.Activation.LeakyRelu(leakySlope), "4"),
            new Linear<T>(hidden, classes, true, rng, "5"),
        ];
    }
}

/// <summary>Factories for the networks the experiments use.</summary>
public static class Models
{
    /// <summary>The SPEC CNN: conv 3×3 (<paramref name="channels"/>) → max-pool 2 → linear <paramref name="hidden"/> → LeakyReLU → linear <paramref name="classes"/>.</summary>
    public static SpecCnn<T> SpecCnn<T>(Random rng, int inChannels = 1, int imageSize = 28, int classes = 10, int channels = 16, int hidden = 32,
        double leakySlope = Nn.Activation.PyTorchLeakySlope) where T : unmanaged, IFloatingPointIeee754<T> =>
        new(rng, inChannels, imageSize, classes, channels, hidden, leakySlope);
}
