using CsCheck;
using Noether.Autodiff;
using Noether.Tests.Support;

namespace Noether.Tests.Autodiff;

/// <summary>
/// For every op: the analytic gradient with respect to every input agrees with central finite differences
/// (relative error ≤ 1e-6), and the exact Hessian-vector product agrees with central differences of the
/// gradient (≤ 1e-5), over 100 random shapes and values each. Central differences with h = 1e-5·max(1, |x|)
/// have truncation error ~h²·f‴ ≈ 1e-10 and rounding error ~ε·|f|/h ≈ 1e-11 here, so the bounds have margin.
/// </summary>
public class OpDerivativeTests
{
    [Theory]
    [MemberData(nameof(OpCatalog.Names), MemberType = typeof(OpCatalog))]
    public void Gradient_RandomShapesAndValues_MatchesFiniteDifferences(string name)
    {
        var op = OpCatalog.Get(name);
        OpCheck.Cases(op.Shapes, op.Domains).Sample(c => OpCheck.Gradient(OpCheck.Probe(op.Apply, c.Seed), c.Inputs), iter: 100, seed: "0N0XIDEW4Y50");
    }

    [Theory]
    [MemberData(nameof(OpCatalog.TwiceDifferentiableNames), MemberType = typeof(OpCatalog))]
    public void HessianVectorProduct_RandomShapesAndValues_MatchesFiniteDifferences(string name)
    {
        var op = OpCatalog.Get(name);
        OpCheck.Cases(op.Shapes, op.Domains).Sample(c => OpCheck.HessianVectorProduct(OpCheck.Probe(op.Apply, c.Seed), c.Inputs, c.Seed), iter: 100, seed: "0N0XIDEW4Y50");
    }
}
