using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

public class StochasticLanczosQuadratureTests
{
    [Fact]
    public void Estimate_FullLengthRunOnDistinctSpectrum_NodesAreTheEigenvalues()
    {
        var a = LanczosTests.RandomSymmetric(12, new Random(5));
        var (exact, _) = LinearAlgebra.SymmetricEigen(a, vectors: false);
        var density = StochasticLanczosQuadrature.Estimate(SymmetricOperator.FromMatrix(a), 3, 12, new Random(6));
        foreach (var nodes in density.Nodes) Close.Assert(exact, nodes, 0, 1e-9);
    }

    /// <summary>
    /// On the 750-parameter network: each probe's weights sum to 1; the Gaussian-broadened density integrates to 1
    /// (trapezoid rule on its grid); its mean equals the average Rayleigh quotient of the unit probes (an identity: e₁ᵀTe₁ =
    /// v̂ᵀHv̂), and with 60 probes matches Tr H / n within 5% (the Hutchinson error for these probes is ~1.5%).
    /// </summary>
    [Fact]
    public void Estimate_750ParameterNetwork_NormalisedWithMeanTraceOverN()
    {
        var (hessian, _) = SharpnessFixtures.TrainedNetworkHessian(ActivationKind.Identity, steps: 300);
        var h = hessian.Full();
        int n = 750;
        double traceOverN = Enumerable.Range(0, n).Sum(i => h[i, i]) / n;
        var op = SymmetricOperator.FromHessian(hessian);
        var density = StochasticLanczosQuadrature.Estimate(op, 60, 40, new Random(9));
        foreach (var w in density.Weights) Close.Assert(1, w.Sum(), 0, 1e-12, "weights");
        var (grid, phi, sigma) = density.OnGrid(4000, 0.01);
        double integral = 0;
        for (int i = 1; i < grid.Length; i++) integral += 0.5 * (phi[i] + phi[i - 1]) * (grid[i] - grid[i - 1]);
        Close.Assert(1, integral, 0, 1e-5, "∫φ");
        Assert.True(sigma > 0);
        // The same probes, redrawn from the same seed, through the exact Hessian.
        var rng = new Random(9);
        double rayleigh = 0;
        for (int p = 0; p < 60; p++)
        {
            var z = new double[n];
            for (int i = 0; i < n; i++) z[i] = rng.Next(2) == 0 ? -1.0 : 1.0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) rayleigh += z[i] * h[i, j] * z[j] / n;
        }
        Close.Assert(rayleigh / 60, density.Mean, 1e-9, 0, "mean vs Rayleigh quotients");
        Close.Assert(traceOverN, density.Mean, 0.05, 0, "mean vs Tr H / n");
    }

    [Fact]
    public void Estimate_BadArguments_Throw()
    {
        var op = SymmetricOperator.FromMatrix(Tensor<double>.Identity(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => StochasticLanczosQuadrature.Estimate(op, 1, 4, new Random(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => StochasticLanczosQuadrature.Estimate(op, 0, 2, new Random(0)));
        var d = StochasticLanczosQuadrature.Estimate(op, 1, 2, new Random(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Evaluate([0.0], 0));
    }
}
