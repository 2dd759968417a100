using Noether.Experiments;
using Noether.Landscape;
using Noether.Nn;
using Noether.Serialization;
using Noether.Symmetry;
using Noether.Tensors;
using Noether.Tests.Cli;
using Noether.Tests.Serialization;
using Noether.Tests.Support;

namespace Noether.Tests.Experiments;

/// <summary>The experiments behind <c>noether analyze</c> and <c>noether valley</c>, called without the CLI.</summary>
public class AnalyzeValleyExperimentTests
{
    private static ModelFile LinearMlp(TempDirectory dir, SafeTensorDType dtype)
    {
        var rng = new Random(5);
        var tensors = new List<(string, Tensor<double>)>
        {
            ("0.weight", Init.Uniform(Tensor<double>.Zeros(3, 784), -0.05, 0.05, rng)), ("0.bias", Init.Uniform(Tensor<double>.Zeros(3), -0.1, 0.1, rng)),
            ("2.weight", Init.Uniform(Tensor<double>.Zeros(10, 3), -0.5, 0.5, rng)), ("2.bias", Init.Uniform(Tensor<double>.Zeros(10), -0.1, 0.1, rng)),
        };
        string path = dir.File("mlp.safetensors");
        var model = ArchitectureSpec.Parse("mlp:784-3-10:identity").Build(tensors, path);
        ModelFile.Write(path, model.Parameters, dtype, new Dictionary<string, string>());
        return ModelFile.Read(path);
    }

    [Fact]
    public void Analyze_LinearMlp_RescaleKeepsTheLossAndMembersComeFromTheFileOnce()
    {
        using var dir = new TempDirectory();
        string data = AnalyzeFixtures.WriteIdx(Path.Combine(dir.Path, "data"), count: 12);
        var file = LinearMlp(dir, SafeTensorDType.F64);
        var spec = ArchitectureSpec.Parse("mlp:784-3-10:identity");
        var model = file.Build(spec);
        var settings = new AnalyzeSettings(spec, DataDirectory: data, Samples: 8, Sharpness: false, Rescale: true, Ensemble: 3, Epsilon: 0.1, Seed: 2);
        var r = AnalyzeExperiment.Run(settings, file, model);
        Assert.Equal(8, r.Samples);
        var pair = Assert.Single(r.Pairs);
        Assert.Equal(new GeneralLinearGroup(3).Name, pair.Group);
        Assert.Equal(pair.OrbitClosedForm, pair.OrbitMeasured);
        Assert.Equal(9, r.Conserved.Count);
        Assert.True(Math.Abs(r.Rescale!.LossAfter - r.Loss) <= 1e-12 * Math.Max(1, r.Loss), $"rescale moved the loss by {r.Rescale.LossAfter - r.Loss:E3}");
        Assert.Equal(r.Rescale.LossAfter, r.Rescale.WrittenLoss); // F64: the file holds the moved model exactly
        Assert.Equal(3, r.Members!.Count);
        Assert.All(r.Ensemble!.Losses, l => Close.Assert(r.Loss, l, 1e-10, 0, "member loss"));
        // The model itself is untouched by the copies moved along the orbit.
        Assert.Equal(file.Tensors[0].Tensor.Data, model.Parameters[0].Value.Data);
    }

    [Fact]
    public void Analyze_DataWiderThanTheModel_ThrowsNamingTheSpec()
    {
        using var dir = new TempDirectory();
        string data = AnalyzeFixtures.WriteIdx(Path.Combine(dir.Path, "data"), count: 4);
        var file = LinearMlp(dir, SafeTensorDType.F32);
        var spec = ArchitectureSpec.Parse("mlp:784-3-10:identity");
        var narrow = ArchitectureSpec.Parse("mlp:100-3-10");
        var model = narrow.Build([("0.weight", Tensor<double>.Zeros(3, 100)), ("2.weight", Tensor<double>.Zeros(10, 3))], "x");
        var e = Assert.Throws<ArgumentException>(() => AnalyzeExperiment.Run(new AnalyzeSettings(narrow, DataDirectory: data, Samples: 4, Sharpness: false), file, model));
        Assert.Equal(nameof(AnalyzeSettings.Spec), e.ParamName);
        Assert.Contains("784", e.Message, StringComparison.Ordinal);
        Assert.Equal(1e-5, AnalyzeExperiment.OrbitTolerance(file.DType));
        Assert.True(AnalyzeExperiment.HasLinearGroup(spec, file.Build(spec)));
    }

    [Fact]
    public void Valley_SpecCnnHead_GroupSlicesAreFlatAndRandomLinesRise()
    {
        var (model, images, labels) = TinyCnn.Create(seed: 6, count: 9, imageSize: 6, classes: 3, channels: 2, hidden: 4);
        var head = new SpecCnnHead(model, images, labels);
        var subject = ValleySubject.TwoLayer("tiny", "mean cross-entropy", head.Group, head.Parameters, head.Loss, head.FilterNormalizedDirection, new { });
        var r = ValleyExperiment.Run(subject, new ValleySettings(Seed: 1, Directions: 2, Points: 7, Grid: 5, Extent: 1));
        Assert.Equal(head.Loss(head.Parameters), r.LStar);
        Assert.Equal(2, r.GroupLines.Length);
        Assert.Equal(2, r.RandomLines.Length);
        Assert.True(r.FlatWorst <= 1e-12, $"group slices deviate by {r.FlatWorst:E3}");
        Assert.True(r.MinRise > 1e-6, $"random lines rise by only {r.MinRise:E3}");
        Assert.Equal(5, r.Group2D.A.Length);
    }
}
