using Noether.Experiments;

namespace Noether.Tests.Experiments;

public class LawCountExperimentTests
{
    [Fact]
    public void SmallTable_PhiMatchesKnown_DataNeverBelowPhi_AndIsReproducible()
    {
        var settings = new LawCountSettings { LinearNets = 3, ReluNets = 3, MaxDepth = 3, MaxReluWidth = 5, Seed = 3 };
        var table = LawCountExperiment.Run(settings);
        Assert.Equal(6, table.Rows.Count);
        Assert.Equal(0, table.Mismatches);
        // φ counts must be decided with a clear gap; a data-field count may be flagged (reported, not asserted).
        Assert.All(table.Rows, r => Assert.True(r.Phi.ClearGap, $"{r.Family} {r.Index}: gap {r.Phi.Gap:G3}"));
        foreach (var row in table.Rows)
        {
            Assert.NotNull(row.Data);
            Assert.True(row.Data!.Laws >= row.Phi.Laws, $"{row.Family} {row.Index}: data {row.Data.Laws} < φ {row.Phi.Laws}");
            // A finding is named exactly when the data fields have more laws.
            Assert.Equal(row.Data.Laws > row.Phi.Laws, row.DataFinding.Length > 0);
        }
        var again = LawCountExperiment.Run(settings);
        Assert.Equal(table.Rows.Select(r => (r.Phi.Laws, r.Data!.Laws, string.Join(",", r.Widths))),
                     again.Rows.Select(r => (r.Phi.Laws, r.Data!.Laws, string.Join(",", r.Widths))));
    }

    [Fact]
    public void BadSettings_AreRefusedNamingTheSetting()
    {
        Assert.Throws<ArgumentOutOfRangeException>("MaxDepth", () => LawCountExperiment.Run(new LawCountSettings { MinDepth = 3, MaxDepth = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>("MaxLinearWidth", () => LawCountExperiment.Run(new LawCountSettings { MaxLinearWidth = 17 }));
        Assert.Throws<ArgumentOutOfRangeException>("LinearNets", () => LawCountExperiment.Run(new LawCountSettings { LinearNets = -1 }));
    }
}
