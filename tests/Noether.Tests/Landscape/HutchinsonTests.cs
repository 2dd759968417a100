using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

public class HutchinsonTests
{
    [Fact]
    public void Trace_DiagonalMatrix_IsExactForEveryProbe()
    {
        // zᵀDz = Σ dᵢzᵢ² = Tr D for z ∈ {±1}ⁿ: a property any wrong probe distribution or bookkeeping breaks.
        var d = Tensor<double>.Zeros(20, 20);
        for (int i = 0; i < 20; i++) d[i, i] = i - 7.5;
        var est = Hutchinson.Trace(SymmetricOperator.FromMatrix(d), 37, new Random(1), batch: 8);
        Assert.Equal(37, est.Probes);
        foreach (var s in est.Samples) Close.Assert(40, s, 0, 1e-12);
        Close.Assert(0, est.StandardError, 0, 1e-12);
    }

    /// <summary>
    /// Acceptance: 200 seeded probes estimate the trace of the 750-parameter network's Hessian within 5%. The reported
    /// standard error is also checked to cover the actual error at 4σ, so a biased estimator would fail too.
    /// </summary>
    [Fact]
    public void Trace_750ParameterNetwork_Within5PercentWith200Probes()
    {
        var (hessian, _) = SharpnessFixtures.TrainedNetworkHessian(ActivationKind.Identity, steps: 300);
        var h = hessian.Full();
        double exact = Enumerable.Range(0, 750).Sum(i => h[i, i]);
        var op = SymmetricOperator.FromHessian(hessian);
        var est = Hutchinson.Trace(op, 200, new Random(2024));
        Assert.Equal(200, op.Products);
        Close.Assert(exact, est.Trace, 0.05, 0, "trace");
        Assert.True(Math.Abs(est.Trace - exact) <= 4 * est.StandardError, $"error {est.Trace - exact:G4} vs standard error {est.StandardError:G4}");
    }

    [Fact]
    public void Trace_BadArguments_Throw()
    {
        var op = SymmetricOperator.FromMatrix(Tensor<double>.Identity(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Hutchinson.Trace(op, 0, new Random(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Hutchinson.Trace(op, 3, new Random(0), batch: 0));
    }
}
