using Noether.Nn;
using Noether.Serialization;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Serialization;

/// <summary>The one model-file reader and writer: float64 tensors, the widest dtype, the architecture entry, SPEC CNNs.</summary>
public class ModelFileTests
{
    [Fact]
    public void Read_MixedPrecision_ConvertsExactlyAndReportsTheWidestDType()
    {
        using var dir = new TempDirectory();
        string path = dir.File("mixed.safetensors");
        var w = new Tensor<float>([0.1f, -2.5f, 3e-8f, 7f], 2, 2);
        var b = new Tensor<double>([0.1, -0.2], 2);
        SafeTensors.Write(path, [SafeTensor.FromTensor("0.weight", w), SafeTensor.FromTensor("0.bias", b)]);
        var file = ModelFile.Read(path);
        Assert.Equal(Path.GetFullPath(path), file.Path);
        Assert.Equal(SafeTensorDType.F64, file.DType);
        Assert.Equal("F32/F64", file.DTypes);
        Assert.Equal(["0.weight", "0.bias"], file.Tensors.Select(t => t.Name));
        Assert.Equal(w.Data.Select(x => (double)x), file.Tensors[0].Tensor.Data);
        Assert.Equal(b.Data, file.Tensors[1].Tensor.Data);
        Assert.Null(file.Architecture);
        Assert.Null(file.SpecCnnSlope);
    }

    [Fact]
    public void Read_IntegerTensorOrMissingFile_NamesTheFileAndTheTensor()
    {
        using var dir = new TempDirectory();
        string path = dir.File("int.safetensors");
        SafeTensors.Write(path, [new SafeTensor("0.weight", SafeTensorDType.I16, [2], new byte[4])]);
        var e = Assert.Throws<ArgumentException>(() => ModelFile.Read(path));
        Assert.Contains(Path.GetFullPath(path), e.Message, StringComparison.Ordinal);
        Assert.Contains("'0.weight'", e.Message, StringComparison.Ordinal);
        Assert.Contains("I16", e.Message, StringComparison.Ordinal);
        Assert.Equal("path", e.ParamName);
        var missing = Assert.Throws<ArgumentException>(() => ModelFile.Read(dir.File("absent.safetensors")));
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        var folder = Assert.Throws<ArgumentException>(() => ModelFile.Read(dir.Path));
        Assert.Contains("is a directory", folder.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteThenRead_SpecCnnWithItsArchitecture_RebuildsTheSameModel()
    {
        using var dir = new TempDirectory();
        var (model, _, _) = TinyCnn.Create(seed: 2, count: 1, imageSize: 6, classes: 3, channels: 2, hidden: 4);
        string path = dir.File("cnn.safetensors");
        string arch = ModelFile.SpecCnnArchitecture(model);
        Assert.Equal("spec-cnn:in=1,size=6,channels=2,hidden=4,classes=3,slope=0.01", arch);
        ModelFile.Write(path, model.Parameters, SafeTensorDType.F64, new Dictionary<string, string> { [ModelFile.ArchitectureKey] = arch });
        var file = ModelFile.Read(path);
        Assert.Equal(ArchitectureKind.SpecCnn, file.Architecture!.Kind);
        Assert.Equal(0.01, file.SpecCnnSlope);
        var rebuilt = file.RequireSpecCnn();
        for (int i = 0; i < model.Parameters.Count; i++) Assert.Equal(model.Parameters[i].Value.Data, rebuilt.Parameters[i].Value.Data);
        var single = file.SpecCnn<float>();
        Assert.Equal(model.Parameters[0].Value.Data.Select(x => (float)x), single.Parameters[0].Value.Data);
    }

    [Fact]
    public void WriteF32_RoundsOnce_AsAsStoredPredicts()
    {
        using var dir = new TempDirectory();
        var (model, _, _) = TinyCnn.Create(seed: 3, count: 1, imageSize: 4, classes: 2, channels: 1, hidden: 3);
        string path = dir.File("f32.safetensors");
        ModelFile.Write(path, model.Parameters, SafeTensorDType.F32, new Dictionary<string, string>());
        var file = ModelFile.Read(path);
        Assert.Equal(SafeTensorDType.F32, file.DType);
        var stored = ModelFile.AsStored(model.Parameters, SafeTensorDType.F32);
        for (int i = 0; i < stored.Count; i++)
        {
            Assert.Equal(stored[i].Name, file.Tensors[i].Name);
            Assert.Equal(stored[i].Tensor.Data, file.Tensors[i].Tensor.Data);
        }
    }

    [Fact]
    public void RequireSpecCnn_WithoutArchitectureEntry_SaysWhatIsMissing()
    {
        using var dir = new TempDirectory();
        var (model, _, _) = TinyCnn.Create(seed: 1, count: 1, imageSize: 4, classes: 2, channels: 1, hidden: 2);
        string path = dir.File("plain.safetensors");
        ModelFile.Write(path, model.Parameters, SafeTensorDType.F32, new Dictionary<string, string> { [ModelFile.ArchitectureKey] = "mlp:16-2-2" });
        var e = Assert.Throws<ArgumentException>(() => ModelFile.Read(path).RequireSpecCnn());
        Assert.Contains("noether.arch", e.Message, StringComparison.Ordinal);
        Assert.Contains("mlp:16-2-2", e.Message, StringComparison.Ordinal);
    }
}
