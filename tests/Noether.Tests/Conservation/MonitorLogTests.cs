using Noether.Conservation;
using Noether.Symmetry.Census;

namespace Noether.Tests.Conservation;

/// <summary>monitor.csv written by <see cref="MonitorLog.Table"/> reads back to the same observations (numbers round-trip exactly).</summary>
public sealed class MonitorLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-monitor-log-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Table_ReadBack_IsTheSameObservations()
    {
        var steps = new[]
        {
            new SiteStep(10, SiteKind.NormalizationScale, "conv1.weight → BatchNormalization 'bn1', \"batch\"", "channel 0", 0.1 / 3, 0.1 / 3 + 1e-17, -3e-9, Math.PI),
            new SiteStep(20, SiteKind.SoftmaxTranslation, "fc.bias → softmax", "column 2", -1e300, double.Epsilon, 0, double.NaN),
        };
        string path = Path.Combine(_dir, "monitor.csv");
        MonitorLog.Table(steps).Save(path);
        Assert.Equal(steps, MonitorLog.Read(path));
        var summary = SiteMonitorSummary.Of(MonitorLog.Read(path));
        Assert.Equal(2, summary.Steps);
        Assert.Equal(2, SiteMonitorSummary.ByKind(steps).Count);
        Assert.Equal([10L, 20L], SiteMonitorSummary.PerStep(steps).Select(p => p.Step));
    }

    [Theory]
    [InlineData("step,kind\n1,Rescaling\n", "columns")]
    [InlineData("step,kind,site,generator,measured,predicted,residual,breaking,integral\n1,Nonsense,s,g,1,1,0,0,1\n", "kind")]
    [InlineData("step,kind,site,generator,measured,predicted,residual,breaking,integral\n1,Rescaling,s,g,one,1,0,0,1\n", "measured")]
    public void Read_NotAMonitorLog_NamesTheFileAndTheProblem(string text, string mention)
    {
        string path = Path.Combine(_dir, "bad.csv");
        File.WriteAllText(path, text);
        var e = Assert.Throws<DataFormatException>(() => MonitorLog.Read(path));
        Assert.Contains("bad.csv", e.Message);
        Assert.Contains(mention, e.Message);
    }
}
