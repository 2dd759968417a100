using Noether.Data;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Tests.Ensembles;

/// <summary>
/// Small, fast stand-ins for the Fashion-MNIST setting: 8×8 one-channel images with values uniform in [0, 0.75], the
/// quadrant named by the label (one of four) brightened by 0.25 (learnable, so a briefly trained SPEC CNN beats chance,
/// but noisy enough not to be perfect), and a SPEC CNN with
/// 3 channels, h = 6 and 4 classes.
/// </summary>
public static class EnsembleFixture
{
    public const int Side = 8, Classes = 4, Hidden = 6;

    public static ImageDataset Images(int count, int seed)
    {
        var rng = new Random(seed);
        var data = new float[count * Side * Side];
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            int label = labels[n] = rng.Next(Classes);
            for (int i = 0; i < Side; i++)
                for (int j = 0; j < Side; j++)
                {
                    int quadrant = (i < Side / 2 ? 0 : 2) + (j < Side / 2 ? 0 : 1);
                    data[(n * Side + i) * Side + j] = (float)((quadrant == label ? 0.25 : 0) + 0.75 * rng.NextDouble());
                }
        }
        return new ImageDataset(new Tensor<float>(data, count, 1, Side, Side), labels, Classes, null, $"quadrant images (seed {seed})");
    }

    public static SpecCnn<float> Untrained(int seed, int hidden = Hidden, int classes = Classes, double slope = 0.1) =>
        Models.SpecCnn<float>(new Random(seed), inChannels: 1, imageSize: Side, classes: classes, channels: 3, hidden: hidden, leakySlope: slope);

    /// <summary>An untrained model after <paramref name="epochs"/> Adam epochs on <paramref name="train"/> (batch 32, lr 1e-2).</summary>
    public static SpecCnn<float> Trained(ImageDataset train, int seed, int epochs = 4)
    {
        var model = Untrained(seed);
        var optimizer = new Adam<float>(model.Parameters, 1e-2);
        var rng = new Random(seed);
        for (int e = 0; e < epochs; e++) Classifier.TrainEpoch(model, optimizer, Minibatches.Create(train, 32, rng));
        return model;
    }

    /// <summary>A model trained on 256 images (<see cref="Trained"/>), its training set and a test set: a test class's fixture.</summary>
    public static (SpecCnn<float> Model, ImageDataset Train, ImageDataset Test) TrainedSetup(int trainSeed, int modelSeed, int testCount, int testSeed)
    {
        var train = Images(256, trainSeed);
        return (Trained(train, modelSeed), train, Images(testCount, testSeed));
    }

    /// <summary>The largest |a − b| over the largest |a| (a whole-tensor relative error).</summary>
    public static double RelativeError(Tensor<double> expected, Tensor<double> actual)
    {
        double diff = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs(expected.Data[i] - actual.Data[i]));
            scale = Math.Max(scale, Math.Abs(expected.Data[i]));
        }
        return diff / scale;
    }

    /// <summary>Member <paramref name="m"/>'s logits [B, C] out of [B, N, C].</summary>
    public static Tensor<T> Member<T>(Tensor<T> memberLogits, int m) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int b = memberLogits.Dim(0), n = memberLogits.Dim(1), c = memberLogits.Dim(2);
        var r = Tensor<T>.Zeros(b, c);
        for (int i = 0; i < b; i++)
            for (int j = 0; j < c; j++) r[i, j] = memberLogits.Data[(i * n + m) * c + j];
        return r;
    }
}
