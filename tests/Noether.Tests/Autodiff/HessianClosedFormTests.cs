using Noether.Autodiff;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Autodiff;

public class HessianClosedFormTests
{
    // SPEC "Sharpness": L = ½(1 − UV)², at the minimum UV = 1 the Hessian is [[V², 1], [1, U²]]
    // with eigenvalues 0 and U² + V² = √(Q² + 4), Q = U² − V².
    private static Variable<double> OneDimensionalLoss(Tape<double> tape, IReadOnlyList<Variable<double>> p) =>
        Ops.Scale(Ops.Square(Ops.AddScalar(-Ops.Multiply(p[0], p[1]), 1.0)), 0.5);

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0)]
    [InlineData(2.5)]
    [InlineData(-1.7)]
    public void OneDimensionalProblem_AtMinimum_MatchesClosedForm(double u)
    {
        double v = 1 / u;
        var h = Hessian.Full<double>(OneDimensionalLoss, [Tensor<double>.Scalar(u), Tensor<double>.Scalar(v)]);
        Close.Assert(v * v, h[0, 0], 1e-14, what: "H_UU");
        Close.Assert(1.0, h[0, 1], 1e-14, what: "H_UV");
        Close.Assert(u * u, h[1, 1], 1e-14, what: "H_VV");
        double q = u * u - v * v;
        double trace = h[0, 0] + h[1, 1], det = h[0, 0] * h[1, 1] - h[0, 1] * h[1, 0];
        double disc = Math.Sqrt(trace * trace / 4 - det);
        Close.Assert(Math.Sqrt(q * q + 4), trace / 2 + disc, 1e-10, what: "top eigenvalue");
        Close.Assert(0.0, trace / 2 - disc, 0, 1e-10, what: "zero eigenvalue");
    }
}
