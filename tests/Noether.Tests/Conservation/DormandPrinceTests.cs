using Noether.Conservation;
using Noether.Tests.Support;

namespace Noether.Tests.Conservation;

public class DormandPrinceTests
{
    [Fact]
    public void Solve_HarmonicOscillator_MatchesCosineAndSine()
    {
        double[] times = [0, 0.5, 1, 2, 5, 10];
        var s = DormandPrince.Solve((_, y, dy) => { dy[0] = y[1]; dy[1] = -y[0]; }, 0, [1.0, 0.0], times, 1e-12, 1e-14);
        for (int i = 0; i < times.Length; i++)
        {
            Close.Assert(Math.Cos(times[i]), s.States[i][0], 0, 1e-10, $"x({times[i]})");
            Close.Assert(-Math.Sin(times[i]), s.States[i][1], 0, 1e-10, $"v({times[i]})");
        }
        Assert.True(s.Steps > 0);
    }

    [Fact]
    public void Solve_TimeDependentLinearOde_MatchesClosedForm()
    {
        // y' = −2t·y, y(0) = 3: y = 3 e^{−t²}.
        double[] times = [0.1, 1, 2.5];
        var s = DormandPrince.Solve((t, y, dy) => dy[0] = -2 * t * y[0], 0, [3.0], times, 1e-11, 1e-14);
        for (int i = 0; i < times.Length; i++) Close.Assert(3 * Math.Exp(-times[i] * times[i]), s.States[i][0], 1e-9, 1e-14);
    }

    [Fact]
    public void Solve_UnorderedTimesOrBadTolerance_Throws()
    {
        OdeRightHandSide f = (_, y, dy) => dy[0] = -y[0];
        Assert.Throws<ArgumentException>(() => DormandPrince.Solve(f, 0, [1.0], [1.0, 0.5]));
        Assert.Throws<ArgumentException>(() => DormandPrince.Solve(f, 1, [1.0], [0.5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => DormandPrince.Solve(f, 0, [1.0], [1.0], relativeTolerance: 0));
    }
}
