using Noether.Landscape;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>Charting the valley: group paths are flat to rounding, filter-normalised random directions rise.</summary>
public class ValleyTests
{
    [Fact]
    public void FilterNormalize_HandCase_RescalesEachRowToTheWeightRowNorm()
    {
        // Rows (filters) of W: (3, 4) with norm 5 and (0, 0); of d: (1, 0) and (2, 2).
        var w = Tensor<double>.FromArray(new double[,] { { 3, 4 }, { 0, 0 }, { 1, 1 } });
        var d = Tensor<double>.FromArray(new double[,] { { 1, 0 }, { 2, 2 }, { -3, 4 } });
        var r = Valley.FilterNormalize(d, w);
        Close.Assert(Tensor<double>.FromArray(new double[,] { { 5, 0 }, { 0, 0 }, { -3 * Math.Sqrt(2) / 5, 4 * Math.Sqrt(2) / 5 } }), r, 1e-15, 1e-15);
        Assert.ThrowsAny<ArgumentException>(() => Valley.FilterNormalize(d, Tensor<double>.Zeros(2, 2)));
    }

    [Fact]
    public void FilterNormalizedDirection_HasTheNormOfTheWeightsRowByRow()
    {
        var theta = TwoLayerParameters.Gaussian(new Random(1), 3, 5, 4, 0.4, 2.0);
        var d = Valley.FilterNormalizedDirection(theta, new Random(2));
        Close.Assert(theta.Norm(), d.Norm(), 1e-14);
        for (int i = 0; i < 5; i++)
        {
            double dn = 0, wn = 0;
            for (int j = 0; j < 4; j++) { dn += d.V[i, j] * d.V[i, j]; wn += theta.V[i, j] * theta.V[i, j]; }
            Close.Assert(wn, dn, 1e-13, 0, $"row {i} of V");
        }
    }

    /// <summary>Acceptance: the loss along exp(tM)·θ* is constant to rounding while every random filter-normalised line rises.</summary>
    [Theory]
    [InlineData(ActivationKind.Identity)]
    [InlineData(ActivationKind.Relu)]
    public void GroupLine_IsFlat_WhileRandomDirectionsRise(ActivationKind kind)
    {
        var (problem, theta) = TeleportTests.Trained(kind, 4, 5, 3, 8);
        double Loss(TwoLayerParameters p) => problem.Loss(p.U, p.V);
        var group = Teleport.GroupFor(problem);
        var m = Valley.UnitSpeedGenerator(group, theta, new Random(3));
        var ts = Valley.Symmetric(0.5, 21);
        var line = Valley.GroupLine(Loss, group, theta, m, ts);
        double l0 = Loss(theta);
        Assert.True(line.MaxDeviation <= 1e-12 * l0, $"group path deviation {line.MaxDeviation:E3} of L = {l0:E3}");
        double reach = Math.Min(-line.Distance[0], line.Distance[^1]);
        Assert.True(reach > 0.2 * theta.Norm(), $"the path should travel: {reach} vs ‖θ‖ = {theta.Norm()}");
        var rng = new Random(4);
        for (int k = 0; k < 3; k++)
        {
            var d = Valley.FilterNormalizedDirection(theta, rng);
            var random = Valley.DirectionLine(Loss, theta, d, ts.Select(t => t * reach / theta.Norm() / 0.5).ToArray());
            // The same distance along a random direction raises the loss by orders of magnitude more than rounding.
            Assert.True(random.MaxRise > 1e-3 * l0, $"direction {k}: rise {random.MaxRise:E3}");
            Close.Assert(reach, random.Distance[^1], 1e-12, 0, "distance α‖d‖ at the end");
        }
    }

    /// <summary>The Simpson arc length against a fine trapezoid rule (a second quadrature) of the same speed ‖M̄_θ(τ)‖.</summary>
    [Fact]
    public void ArcLength_AgreesWithAFineTrapezoidRule()
    {
        var theta = TwoLayerParameters.Gaussian(new Random(1), 3, 4, 2, 0.8, 0.5);
        var group = new GeneralLinearGroup(4);
        var m = Valley.UnitSpeedGenerator(group, theta, new Random(2));
        foreach (double t in new[] { -0.7, 0.4 })
        {
            int n = 4000;
            double step = t / n, sum = 0;
            for (int i = 0; i <= n; i++)
            {
                double speed = group.InfinitesimalAction(m, group.Apply(group.Exp(m, i * step), theta)).Norm();
                sum += (i == 0 || i == n ? 0.5 : 1) * speed;
            }
            Close.Assert(sum * step, Valley.ArcLength(group, theta, m, t), 1e-6, 0, $"arc length to t = {t}");
        }
        // At small t the path length is the speed times t, and the speed is ‖θ‖ for a unit-speed generator.
        Close.Assert(theta.Norm() * 1e-4, Valley.ArcLength(group, theta, m, 1e-4), 1e-3);
    }

    [Fact]
    public void MixedPlane_EveryRowEqualsTheRandomLine()
    {
        var (problem, theta) = TeleportTests.Trained(ActivationKind.Identity, 3, 4, 3, 2);
        double Loss(TwoLayerParameters p) => problem.Loss(p.U, p.V);
        var group = Teleport.GroupFor(problem);
        var m = Valley.UnitSpeedGenerator(group, theta, new Random(1));
        var d = Valley.FilterNormalizedDirection(theta, new Random(2));
        var s = Valley.Symmetric(0.4, 5);
        var a = Valley.Symmetric(0.3, 7);
        var plane = Valley.MixedPlane(Loss, group, theta, m, d, s, a);
        var line = Valley.DirectionLine(Loss, theta, d, a);
        for (int i = 0; i < s.Length; i++)
            for (int j = 0; j < a.Length; j++) Close.Assert(line.Loss[j], plane.Loss[i, j], 1e-11, 0, $"({s[i]}, {a[j]})");
        var flat = Valley.GroupPlane(Loss, group, theta, m, Valley.UnitSpeedGenerator(group, theta, new Random(5)), s, s);
        foreach (var l in flat.Loss) Close.Assert(Loss(theta), l, 1e-12, 0, "group plane");
    }
}
