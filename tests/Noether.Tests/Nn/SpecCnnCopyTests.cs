using Noether.Ensembles;
using Noether.Nn;
using Noether.Serialization;
using Noether.Tensors;
using Noether.Tests.Serialization;
using static Noether.Tests.Ensembles.EnsembleFixture;

namespace Noether.Tests.Nn;

public class SpecCnnCopyTests
{
    [Fact]
    public void FromTensors_ThroughASafetensorsFile_RebuildsTheSameNetwork()
    {
        var model = Models.SpecCnn<float>(new Random(4), inChannels: 3, imageSize: 10, classes: 7, channels: 5, hidden: 9);
        using var dir = new TempDirectory();
        SafeTensors.Write<float>(dir.File("cnn.safetensors"), model.Parameters.Select(p => (p.Name, p.Value)));
        var loaded = SpecCnnCopy.FromTensors(SafeTensors.ReadTensors<float>(dir.File("cnn.safetensors")));
        Assert.Equal((3, 10, 7, 5, 9), (loaded.InChannels, loaded.ImageSize, loaded.Output.OutFeatures, loaded.Conv.OutChannels, loaded.Hidden.OutFeatures));
        var x = new Tensor<float>(Enumerable.Range(0, 2 * 3 * 10 * 10).Select(i => (float)((i * 37 % 101) / 101.0)).ToArray(), 2, 3, 10, 10);
        Assert.Equal(model.Predict(x).Data, loaded.Predict(x).Data);
    }

    [Fact]
    public void Convert_ToFloat64_IsExact()
    {
        var model = Untrained(3);
        var copy = SpecCnnCopy.Convert<float, double>(model);
        for (int i = 0; i < model.Parameters.Count; i++)
            Assert.Equal(model.Parameters[i].Value.Data.Select(v => (double)v), copy.Parameters[i].Value.Data);
    }

    [Fact]
    public void FromTensors_WeightsThatDoNotFit_GiveClearArgumentExceptions()
    {
        var model = Untrained(5);
        List<(string Name, Tensor<float> Tensor)> Weights() => model.Parameters.Select(p => (p.Name, p.Value.Clone())).ToList();

        var missing = Weights().Where(w => w.Name != "5.bias").ToList();
        Assert.Contains("missing 5.bias", Assert.Throws<ArgumentException>(() => SpecCnnCopy.FromTensors(missing)).Message);

        var extra = Weights();
        extra.Add(("7.weight", Tensor<float>.Zeros(2, 2)));
        Assert.Contains("unexpected 7.weight", Assert.Throws<ArgumentException>(() => SpecCnnCopy.FromTensors(extra)).Message);

        var wrongBias = Weights();
        wrongBias[3] = ("3.bias", Tensor<float>.Zeros(Hidden + 2));
        var e = Assert.Throws<ArgumentException>(() => SpecCnnCopy.FromTensors(wrongBias));
        Assert.Contains("3.bias", e.Message);
        Assert.Contains($"{Hidden + 2}", e.Message);

        var wrongOutput = Weights();
        wrongOutput[4] = ("5.weight", Tensor<float>.Zeros(Classes, Hidden + 1));
        Assert.Contains("5.weight", Assert.Throws<ArgumentException>(() => SpecCnnCopy.FromTensors(wrongOutput)).Message);

        var notSquare = Weights();
        notSquare[2] = ("3.weight", Tensor<float>.Zeros(Hidden, 3 * 17));
        Assert.Contains("square", Assert.Throws<ArgumentException>(() => SpecCnnCopy.FromTensors(notSquare)).Message);

        var nan = Weights();
        nan[0].Tensor.Data[0] = float.NaN;
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => SpecCnnCopy.FromTensors(nan)).Message);

        var kernel5 = Weights();
        kernel5[0] = ("0.weight", Tensor<float>.Zeros(3, 1, 5, 5));
        Assert.Throws<ArgumentException>(() => SpecCnnCopy.FromTensors(kernel5));
    }
}
