using Noether.Conservation;
using Noether.Experiments;
using Noether.Nn;
using Noether.Tests.Support;

namespace Noether.Tests.Experiments;

public sealed class TeleportExperimentTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-teleport-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TwoLayerRegressionSettings Network(ActivationKind kind = ActivationKind.Identity, string? weights = null) =>
        new(kind, new LayerShape(3, 2, 4), 12, 400, 0.05, 1.0, 0.1, 7, weights);

    [Fact]
    public void Run_TraceTarget_KeepsTheLossAndReachesTheTrace()
    {
        var result = TeleportExperiment.Run(new TeleportExperimentSettings(Network(), new TeleportTarget.Trace(0.5), 5));
        Assert.Equal("trained", result.Trained.Source);
        Assert.True(result.Teleport.RelativeLossChange <= 1e-9, $"relative loss change {result.Teleport.RelativeLossChange:E3}");
        Close.Assert(0.5, result.TraceQAfter, 0, 1e-8, "Tr Q after");
        Assert.Equal(ConservedQuantity.ImbalanceTraceAt(result.Trained.Theta.U, result.Trained.Theta.V), result.TraceQBefore);
        Assert.Equal(5, result.Path.Count);
        Assert.Equal(result.Trained.Theta.Count, result.SpectrumBefore.Length);
        Assert.Equal(result.SpectrumBefore.Length, result.SpectrumAfter.Length);
        Assert.True(result.PathLossSpread <= 1e-9, $"loss spread along the orbit {result.PathLossSpread:E3}");
        Assert.Equal(4, result.ImbalanceAfter.Length);
    }

    [Fact]
    public void Run_IsAFunctionOfTheSettings()
    {
        var settings = new TeleportExperimentSettings(Network(ActivationKind.Relu), new TeleportTarget.ImbalanceDiagonal([0.2, -0.1]), 3);
        var a = TeleportExperiment.Run(settings);
        var b = TeleportExperiment.Run(settings);
        Assert.Equal(a.Teleport.After.U.Data, b.Teleport.After.U.Data);
        Assert.Equal(a.SpectrumAfter, b.SpectrumAfter);
        Assert.Equal([0.2, -0.1], a.Teleport.QAfter.Select(q => Math.Round(q, 8)));
    }

    [Fact]
    public void Run_ReportsProgressAndStopsWhenCancelled()
    {
        var stages = new List<string>();
        TeleportExperiment.Run(new TeleportExperimentSettings(Network(), new TeleportTarget.Trace(0), 3), new InlineProgress<ExperimentProgress>(p => stages.Add(p.Stage)));
        Assert.Contains("teleporting", stages);
        Assert.Contains("Hessian spectra and the path", stages);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => TeleportExperiment.Run(new TeleportExperimentSettings(Network(), new TeleportTarget.Trace(0), 3), null, cancelled.Token));
    }

    [Fact]
    public void TwoLayerRegression_SavedWeights_LoadBackAndAreUsedInsteadOfTraining()
    {
        var trained = TwoLayerRegression.Build(Network(), null, default);
        string path = Path.Combine(_dir, "w.safetensors");
        TwoLayerRegression.Save(path, trained.Theta, new Dictionary<string, string> { ["seed"] = "7" });
        var loaded = TwoLayerRegression.Build(Network(weights: path), null, default);
        Assert.Equal(path, loaded.Source);
        Assert.Equal(0, loaded.Steps);
        Assert.Equal(trained.Theta.U.Data, loaded.Theta.U.Data);
        Assert.Equal(trained.Theta.V.Data, loaded.Theta.V.Data);
        Assert.Contains("weights from", TwoLayerRegression.Describe(Network(weights: path), loaded));
        var e = Assert.ThrowsAny<ArgumentException>(() => TwoLayerRegression.Load(path, new LayerShape(3, 5, 4)));
        Assert.Equal("--weights", e.ParamName);
        Assert.Contains("pass the matching --shape", e.Message);
    }

    [Fact]
    public void TwoLayerRegression_Diverging_ThrowsSuggestingALowerRate()
    {
        var e = Assert.Throws<InvalidOperationException>(() => TwoLayerRegression.Build(Network() with { LearningRate = 50 }, null, default));
        Assert.Contains("lower --lr", e.Message);
    }
}
