using Noether.Autodiff;
using Noether.Conservation;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>Appendix G.1: the scalar network's exact Hessian at the minimum of each Q.</summary>
public class ScalarNetworkSharpnessTests
{
    public static IEnumerable<object[]> TwentyQ => Enumerable.Range(0, 20).Select(i => new object[] { -9.5 + i * 1.0 + 0.01 * i * i });

    /// <summary>Acceptance: at the minimum with conserved Q the exact Hessian has eigenvalues 0 and √(Q²+4) (2√(Q²+4) without ½), to 1e-10.</summary>
    [Theory]
    [MemberData(nameof(TwentyQ))]
    public void ScalarNetwork_HessianAtMinimumOfQ_HasEigenvaluesZeroAndRootQSquaredPlusFour(double q)
    {
        var (u, v) = ScalarNetworkSharpness.Minimum(q);
        Close.Assert(1, u * v, 1e-14, 0, "UV");
        Close.Assert(q, u * u - v * v, 1e-13, 1e-13, "Q = U² − V²");
        foreach (bool half in new[] { true, false })
        {
            var h = Hessian.Full(ScalarNetworkSharpness.Function(half), [Tensor<double>.Full(u, 1, 1), Tensor<double>.Full(v, 1, 1)]);
            var (values, _) = LinearAlgebra.SymmetricEigen(h, vectors: false);
            Close.Assert(0, values[0], 0, 1e-10, "λ₁");
            Close.Assert(ScalarNetworkSharpness.NonzeroEigenvalue(q, half), values[1], 0, 1e-10, "λ₂");
            Close.Assert((half ? 1 : 2) * Math.Sqrt(q * q + 4), values[1], 0, 1e-10, "closed form");
        }
    }

    [Fact]
    public void ScalarNetwork_GradientFlowFromQ_EndsAtTheMinimumOfThatQ()
    {
        // Start at (U, V) = (1.5, 0.2): Q = 2.21; the flow of ½(1 − UV)² must end at Minimum(2.21).
        var s = DormandPrince.Solve((_, w, dw) => { double r = 1 - w[0] * w[1]; dw[0] = r * w[1]; dw[1] = r * w[0]; }, 0, [1.5, 0.2], [200.0], 1e-12, 1e-14);
        var (u, v) = ScalarNetworkSharpness.Minimum(1.5 * 1.5 - 0.2 * 0.2);
        Close.Assert(u, s.States[0][0], 1e-8);
        Close.Assert(v, s.States[0][1], 1e-8);
    }
}
