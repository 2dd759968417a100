using Noether.Experiments;
using Noether.Tests.Interop;

namespace Noether.Tests.Experiments;

public sealed class ModelTeleportExperimentTests
{
    private static string Mlp => Path.Combine(OnnxZooTests.Folder, "mlp.onnx");

    [Theory]
    [InlineData(SiteTargetKind.Scale, 2.0)]
    [InlineData(SiteTargetKind.Shift, -0.5)]
    [InlineData(SiteTargetKind.Value, 0.75)]
    public void Run_MovesTheSiteAndBothChecksHold(SiteTargetKind kind, double amount)
    {
        var r = ModelTeleportExperiment.Run(new ModelTeleportSettings(Mlp, 0, kind, amount));
        // Targets computed here from the result's own "before" (independent of the experiment's target code).
        var expected = r.Teleport.Before.Select(q => kind switch { SiteTargetKind.Scale => amount * q, SiteTargetKind.Shift => q + amount, _ => amount }).ToArray();
        Assert.Equal(expected, r.Teleport.Target);
        for (int i = 0; i < expected.Length; i++)
            Support.Close.Assert(expected[i], r.Census.Sites[0].Generators[i].Conserved(n => r.Graph.Parameter(n)!.Value.Data), 1e-8);
        Assert.Equal(Verdict.Passed, ModelTeleportClaims.SiteTargetReached.Judge([[r.Teleport.MaxRelativeError]]));
        Assert.Equal(Verdict.Passed, ModelTeleportClaims.SiteFunctionUnchanged.Judge([[r.ProbabilityChange]]));
        Assert.Equal(4, r.CheckBatch);
    }

    [Fact]
    public void Run_SiteOutOfRange_IsRefusedWithTheRange()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelTeleportExperiment.Run(new ModelTeleportSettings(Mlp, 99, SiteTargetKind.Scale, 2)));
        Assert.Equal("Site", e.ParamName);
        Assert.Contains("sites 0–2", e.Message);
    }
}
