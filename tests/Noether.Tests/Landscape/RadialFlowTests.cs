using Noether.Autodiff;
using Noether.Conservation;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>Appendix F.2 (Propositions 14–16).</summary>
public class RadialFlowTests
{
    private static Tensor<double> Targets(int seed) => Init.Gaussian(Tensor<double>.Zeros(5, 10), 1, new Random(seed));

    [Fact]
    public void LossAndGradient_MatchesTheTapeWithOpsRadial()
    {
        var rng = new Random(4);
        var y = Targets(1);
        var u = Init.Gaussian(Tensor<double>.Zeros(5, 5), 1, rng);
        var v = Init.Gaussian(Tensor<double>.Zeros(5, 10), 1, rng);
        var gu = Tensor<double>.Zeros(5, 5);
        var gv = Tensor<double>.Zeros(5, 10);
        double loss = RadialFlow.LossAndGradient(y, u, v, gu, gv);
        var f = RadialFlow.Function(y);
        Close.Assert(FiniteDifference.Evaluate(f, [u, v]), loss, 1e-13);
        Close.Assert(FiniteDifference.AutodiffGradient(f, [u, v]), gu.Data.Concat(gv.Data).ToArray(), 1e-11, 1e-13);
        Close.Assert(loss, RadialFlow.Loss(y, u, v), 1e-14);
    }

    [Fact]
    public void Coordinates_OfSpectralInitialisation_RecoverTheDiagonals()
    {
        var basis = SpectralBasis.Of(Targets(2));
        double[] ub = [0.3, -1.2, 2, 0.5, 0.9], vb = [1.1, 0.4, -0.7, 2.5, 0.2];
        var (u, v) = RadialFlow.SpectralInitialisation(basis, ub, vb);
        var c = RadialFlow.Coordinates(basis, u, v);
        Close.Assert(ub, c.Ubar, 1e-13, 1e-14);
        Close.Assert(vb, c.Vbar, 1e-13, 1e-14);
        Close.Assert(ub.Zip(vb, (a, b) => a / b).ToArray(), c.Sigma, 1e-12, 1e-14, "σ = ū/v̄ (eq. 66)");
        Assert.True(c.OffDiagonal < 1e-12);
    }

    /// <summary>
    /// Acceptance: the full 75-parameter gradient flow (Dormand–Prince, rtol 1e-12) gives σᵢ^X(t) within 1e-6 relative of
    /// eq. 59 solved on its own, keeps λᵢ to 1e-8 relative, and never exceeds the eq. 69 bound.
    /// </summary>
    [Fact]
    public void GradientFlow_FromSpectralStart_FollowsEquation59AndBound69()
    {
        var y = Targets(3);
        var basis = SpectralBasis.Of(y);
        double[] ub = [0.8, 0.3, 1.5, 0.6, 1.0], vb = [0.9, 1.3, 0.5, 0.7, 1.6];
        var (u0, v0) = RadialFlow.SpectralInitialisation(basis, ub, vb);
        var start = RadialFlow.Coordinates(basis, u0, v0);
        double[] times = Enumerable.Range(1, 20).Select(i => 0.25 * i).ToArray();
        var sol = DormandPrince.Solve((_, th, dth) =>
        {
            var u = new Tensor<double>(th[..25].ToArray(), 5, 5);
            var v = new Tensor<double>(th[25..].ToArray(), 5, 10);
            var gu = Tensor<double>.Zeros(5, 5);
            var gv = Tensor<double>.Zeros(5, 10);
            RadialFlow.LossAndGradient(y, u, v, gu, gv);
            for (int i = 0; i < 25; i++) dth[i] = -gu.Data[i];
            for (int i = 0; i < 50; i++) dth[25 + i] = -gv.Data[i];
        }, 0, u0.Data.Concat(v0.Data).ToArray(), times, 1e-12, 1e-14);
        for (int mode = 0; mode < 5; mode++)
        {
            double sy = basis.SingularValues[mode], s0 = start.Sigma[mode], lambda = start.Lambda[mode];
            var ode = RadialFlow.SolveSigma(s0, sy, lambda, times);
            for (int i = 0; i < times.Length; i++)
            {
                var st = sol.States[i];
                var c = RadialFlow.Coordinates(basis, new Tensor<double>(st[..25].ToArray(), 5, 5), new Tensor<double>(st[25..].ToArray(), 5, 10));
                Close.Assert(ode[i], c.Sigma[mode], 1e-6, 0, $"σ_{mode}({times[i]})");
                Close.Assert(lambda, c.Lambda[mode], 1e-8, 0, $"λ_{mode}({times[i]})");
                Assert.True(Math.Abs(c.Sigma[mode] - sy) <= RadialFlow.Bound(s0, sy, lambda, times[i]) * (1 + 1e-9) + 1e-12, $"eq. 69 at mode {mode}, t = {times[i]}");
            }
        }
    }

    [Fact]
    public void SpectralInitialisation_WrongLengthOrZeroVbar_Throws()
    {
        var basis = SpectralBasis.Of(Targets(4));
        Assert.Throws<ArgumentException>(() => RadialFlow.SpectralInitialisation(basis, [1, 2], [1, 2]));
        Assert.Throws<ArgumentException>(() => RadialFlow.SpectralInitialisation(basis, [1, 1, 1, 1, 1], [1, 1, 0, 1, 1]));
        Assert.Throws<ArgumentException>(() => RadialFlow.Activation(Tensor<double>.Zeros(2, 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => RadialFlow.SolveSigma(0, 1, 0, [1.0]));
    }
}
