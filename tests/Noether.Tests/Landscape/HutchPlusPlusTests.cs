using Noether.Landscape;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>Hutch++ against exact traces, and the coverage of its interval over many seeds.</summary>
public class HutchPlusPlusTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Q diag(λ) Qᵀ with λᵢ = 10/(i+1)² (fast decay, where Hutch++ beats Hutchinson) for a random orthogonal Q.</summary>
    private static Tensor<double> Decaying(int n, Random rng)
    {
        var (_, q) = LinearAlgebra.SymmetricEigen(LanczosTests.RandomSymmetric(n, rng), vectors: true);
        var a = Tensor<double>.Zeros(n, n);
        for (int k = 0; k < n; k++)
        {
            double lambda = 10.0 / ((k + 1) * (k + 1)) * (k % 3 == 2 ? -1 : 1);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) a[i, j] += lambda * q![i, k] * q[j, k];
        }
        return a;
    }

    private static double Trace(Tensor<double> a) => Enumerable.Range(0, a.Dim(0)).Sum(i => a[i, i]);

    [Fact]
    public void HutchPlusPlus_MlpHessian_WithinThreeStandardErrorsOfExactTrace()
    {
        var (model, batches, _, _) = CurvatureFixtures.Mlp(19);
        var h = MinibatchHessian.ForModel(model, batches);
        var op = h.Mean();
        double exact = Trace(CurvatureFixtures.Dense(op));
        var r = Hutchinson.HutchPlusPlus(op, 30, new Random(20));
        // 3 SE: a 1-in-300 miss for a calibrated interval (coverage checked below).
        Assert.True(Math.Abs(r.Trace - exact) <= 3 * r.StandardError, $"{r.Trace} ± {r.StandardError} vs {exact}");
        Assert.Equal(10, r.Rank);
        Assert.Equal(10, r.Remainder.Probes);
        Assert.Equal(51 + 30, op.Products); // the dense check above took 51
        var hutch = Hutchinson.Trace(h.Mean(), 30, new Random(20));
        Assert.True(Math.Abs(hutch.Trace - exact) <= 3 * hutch.StandardError, $"Hutchinson {hutch.Trace} ± {hutch.StandardError} vs {exact}");
    }

    [Fact]
    public void HutchPlusPlus_CoverageOverSeeds_NearNominalAndTighterThanHutchinson()
    {
        var a = Decaying(40, new Random(3));
        var op = SymmetricOperator.FromMatrix(a);
        double exact = Trace(a);
        int seeds = 1000, coveredPlus = 0, coveredPlain = 0;
        double sePlus = 0, sePlain = 0;
        for (int s = 0; s < seeds; s++)
        {
            var plus = Hutchinson.HutchPlusPlus(op, 60, new Random(s));
            var plain = Hutchinson.Trace(op, 60, new Random(s));
            if (Math.Abs(plus.Trace - exact) <= 1.96 * plus.StandardError) coveredPlus++;
            if (Math.Abs(plain.Trace - exact) <= 1.96 * plain.StandardError) coveredPlain++;
            sePlus += plus.StandardError;
            sePlain += plain.StandardError;
        }
        output.WriteLine($"coverage: Hutch++ {coveredPlus / (double)seeds:F3}, Hutchinson {coveredPlain / (double)seeds:F3}; mean SE {sePlus / seeds:G4} vs {sePlain / seeds:G4}");
        // 1.96 SE with 20 (Hutch++) and 60 (Hutchinson) probes: t-quantiles make these ≈ 93.5% and 94.5% intervals (a little
        // less for skewed samples); binomial sd over 1000 seeds is 0.7%, so [0.90, 0.975] is over ±3.5 sd.
        Assert.InRange(coveredPlus / (double)seeds, 0.90, 0.975);
        Assert.InRange(coveredPlain / (double)seeds, 0.90, 0.975);
        Assert.True(sePlus < sePlain, $"Hutch++ mean SE {sePlus / seeds:E3} vs Hutchinson {sePlain / seeds:E3} on a decaying spectrum");
    }

    [Fact]
    public void HutchPlusPlus_BadInput_RefusedNamingTheParameter()
    {
        var op = SymmetricOperator.FromMatrix(Tensor<double>.Identity(5));
        Assert.Equal("products", Assert.Throws<ArgumentOutOfRangeException>(() => Hutchinson.HutchPlusPlus(op, 0, new Random(1))).ParamName);
        Assert.Equal("products", Assert.Throws<ArgumentOutOfRangeException>(() => Hutchinson.HutchPlusPlus(op, 3, new Random(1))).ParamName);
    }
}
