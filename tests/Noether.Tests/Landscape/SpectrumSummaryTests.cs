using Noether.Autodiff;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

public class SpectrumSummaryTests
{
    [Fact]
    public void SpectrumSummary_SplitsFlatAndCurved()
    {
        var s = SpectrumSummary.Of([1e-4, -5e-4, 2, 4, 9, 0], 1e-3);
        Assert.Equal(3, s.Flat);
        Assert.Equal(4, s.Median);
        Close.Assert(5, s.Mean, 1e-15);
        Assert.Equal(9, s.Max);
        Assert.Equal(-5e-4, s.Min);
    }
}
