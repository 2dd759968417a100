using CsCheck;
using Noether.Autodiff;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Autodiff;

public class RadialTests
{
    private static Variable<double> F(Variable<double> r) => Ops.Reciprocal(Ops.AddScalar(r, 1.0)); // f(r) = 1/(1 + r)

    /// <summary>σ(gz) = gσ(z) for orthogonal g (paper Example 5): g is a Householder reflection I − 2uuᵀ/‖u‖².</summary>
    [Fact]
    public void Radial_OrthogonalTransform_CommutesWithActivation()
    {
        Gen.Select(Gen.Int[1, 6], Gen.Int[1, 5], Gen.Int[0, int.MaxValue]).Sample((h, k, seed) =>
        {
            var rng = new Random(seed);
            var z = OpCheck.RandomTensor(rng, h, k);
            var u = OpCheck.RandomTensor(rng, h, 1);
            double uu = u.Data.Sum(x => x * x);
            var g = Tensor<double>.Identity(h);
            for (int i = 0; i < h; i++)
                for (int j = 0; j < h; j++)
                    g[i, j] -= 2 * u.Data[i] * u.Data[j] / uu;
            var tape = new Tape<double>();
            var left = Ops.Radial(tape.Constant(TensorOps.MatMul(g, z)), 0, F).Value;
            var right = TensorOps.MatMul(g, Ops.Radial(tape.Constant(z), 0, F).Value);
            Close.Assert(right, left, 1e-13, 1e-14);
        }, iter: 100, seed: "0N0XIDEW4Y50");
    }

    [Fact]
    public void Radial_RowsAsSamples_EqualsColumnsAsSamplesTransposed()
    {
        var z = OpCheck.RandomTensor(new Random(5), 4, 3);
        var tape = new Tape<double>();
        var byColumns = Ops.Radial(tape.Constant(z), 0, F).Value;
        var byRows = Ops.Radial(tape.Constant(TensorOps.Transpose(z)), 1, F).Value;
        Close.Assert(byColumns, TensorOps.Transpose(byRows), 1e-15);
        // Direct: column j scaled by 1/(1 + ‖z_j‖).
        for (int j = 0; j < 3; j++)
        {
            double r = Math.Sqrt(Enumerable.Range(0, 4).Sum(i => z[i, j] * z[i, j]));
            for (int i = 0; i < 4; i++) Close.Assert(z[i, j] / (1 + r), byColumns[i, j], 1e-15);
        }
    }

    /// <summary>At z = 0, σ(z) = f(‖z‖)z has Jacobian f(0)·I, so ∂(Σ W⊙σ)/∂z = f(0)·W on a zero column.</summary>
    [Fact]
    public void Radial_ZeroColumn_GradientIsFOfZeroTimesUpstream()
    {
        var z = OpCheck.RandomTensor(new Random(8), 3, 2);
        for (int i = 0; i < 3; i++) z[i, 1] = 0;
        var w = OpCheck.RandomTensor(new Random(9), 3, 2);
        var tape = new Tape<double>();
        var x = tape.Leaf(z);
        var g = tape.Gradient(Ops.Sum(Ops.Multiply(tape.Constant(w), Ops.Radial(x, 0, r => Ops.Exp(Ops.Scale(r, -1.0))))), [x])[0].Value;
        for (int i = 0; i < 3; i++) Close.Assert(w[i, 1] * Math.Exp(0), g[i, 1], 1e-15, 0, $"g[{i},1]");
        Assert.True(g.AllFinite());
    }

    [Fact]
    public void RadialScalarF_Gradient_EqualsVariableFGradient()
    {
        var z = OpCheck.RandomTensor(new Random(10), 4, 3);
        var w = OpCheck.RandomTensor(new Random(11), 4, 3);
        double[] Grad(Func<Variable<double>, Variable<double>> act)
        {
            var tape = new Tape<double>();
            var x = tape.Leaf(z);
            return tape.Gradient(Ops.Sum(Ops.Multiply(tape.Constant(w), act(x))), [x])[0].Value.Data;
        }
        var viaVariables = Grad(x => Ops.Radial(x, 0, F));
        var viaScalars = Grad(x => Ops.Radial(x, 0, r => 1 / (1 + r), r => -1 / ((1 + r) * (1 + r))));
        Close.Assert(viaVariables, viaScalars, 1e-14, 1e-16);
    }

    [Fact]
    public void RadialScalarF_DifferentiatedTwice_ThrowsNotSupported()
    {
        var z = OpCheck.RandomTensor(new Random(12), 3, 2);
        var op = new HessianOperator<double>((tape, p) => Ops.SumOfSquares(Ops.Radial(p[0], 0, r => 1 / (1 + r), r => -1 / ((1 + r) * (1 + r)))), [z]);
        var ex = Assert.Throws<NotSupportedException>(() => op.Multiply([Tensor<double>.Ones(3, 2)]));
        Assert.Contains("first-order", ex.Message);
    }
}
