using CsCheck;
using Noether.Autodiff;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Autodiff;

public class ReductionAndLossTests
{
    [Fact]
    public void SumAxisAndMeanAxis_EveryAxisOfRank4_MatchLoops()
    {
        var a = OpCheck.RandomTensor(new Random(7), 2, 3, 4, 5);
        var tape = new Tape<double>();
        var x = tape.Constant(a);
        var dims = a.ShapeArray;
        for (int axis = 0; axis < 4; axis++)
        {
            var sum = Ops.SumAxis(x, axis).Value;
            var mean = Ops.MeanAxis(x, axis - 4, keepDims: true).Value;
            Assert.Equal(dims.Where((_, i) => i != axis).ToArray(), sum.ShapeArray);
            Assert.Equal(dims.Select((d, i) => i == axis ? 1 : d).ToArray(), mean.ShapeArray);
            for (int i0 = 0; i0 < 2; i0++)
                for (int i1 = 0; i1 < 3; i1++)
                    for (int i2 = 0; i2 < 4; i2++)
                        for (int i3 = 0; i3 < 5; i3++)
                        {
                            int[] idx = [i0, i1, i2, i3];
                            if (idx[axis] != 0) continue;
                            double s = 0;
                            for (int t = 0; t < dims[axis]; t++)
                            {
                                idx[axis] = t;
                                s += a[idx[0], idx[1], idx[2], idx[3]];
                            }
                            idx[axis] = 0;
                            int flat = ((idx[0] * mean.Dim(1) + idx[1]) * mean.Dim(2) + idx[2]) * mean.Dim(3) + idx[3];
                            Close.Assert(s, sum.Data[flat], 1e-14, 1e-15, $"sum axis {axis}");
                            Close.Assert(s / dims[axis], mean.Data[flat], 1e-14, 1e-15, $"mean axis {axis}");
                        }
        }
    }

    [Fact]
    public void SquaredErrorLoss_FourScalings_MatchDirectSums()
    {
        Gen.Select(Gen.Int[1, 6], Gen.Int[1, 6], Gen.Int[0, int.MaxValue]).Sample((m, n, seed) =>
        {
            var rng = new Random(seed);
            var p = OpCheck.RandomTensor(rng, m, n);
            var t = OpCheck.RandomTensor(rng, m, n);
            double s = 0;
            for (int i = 0; i < p.Length; i++) s += (p.Data[i] - t.Data[i]) * (p.Data[i] - t.Data[i]);
            var tape = new Tape<double>();
            var (pv, tv) = (tape.Constant(p), tape.Constant(t));
            Close.Assert(s, Ops.SquaredErrorLoss(pv, tv, SquaredErrorScaling.SumOfSquares).Value.ScalarValue, 1e-14);
            Close.Assert(s / 2, Ops.SquaredErrorLoss(pv, tv, SquaredErrorScaling.HalfSumOfSquares).Value.ScalarValue, 1e-14);
            Close.Assert(s / (m * n), Ops.SquaredErrorLoss(pv, tv, SquaredErrorScaling.MeanSquaredError).Value.ScalarValue, 1e-14);
            Close.Assert(s / (2.0 * m * n), Ops.SquaredErrorLoss(pv, tv, SquaredErrorScaling.HalfMeanSquaredError).Value.ScalarValue, 1e-14);
        }, iter: 100, seed: "0N0XIDEW4Y50");
    }

    [Theory]
    [InlineData(LossReduction.Sum, false, SquaredErrorScaling.SumOfSquares)]
    [InlineData(LossReduction.Sum, true, SquaredErrorScaling.HalfSumOfSquares)]
    [InlineData(LossReduction.Mean, false, SquaredErrorScaling.MeanSquaredError)]
    [InlineData(LossReduction.Mean, true, SquaredErrorScaling.HalfMeanSquaredError)]
    public void SquaredErrorScalingOf_ReductionAndHalf_NamesTheScaling(LossReduction reduction, bool half, SquaredErrorScaling expected) =>
        Assert.Equal(expected, Ops.SquaredErrorScalingOf(reduction, half));

    [Fact]
    public void SquaredErrorLoss_UndefinedScaling_ThrowsNamingIt()
    {
        var tape = new Tape<double>();
        var x = tape.Constant(Tensor<double>.Ones(2, 2));
        Assert.Equal("scaling", Assert.Throws<ArgumentOutOfRangeException>(() => Ops.SquaredErrorLoss(x, x, (SquaredErrorScaling)7)).ParamName);
        Assert.Equal("reduction", Assert.Throws<ArgumentOutOfRangeException>(() => Ops.SquaredErrorScalingOf((LossReduction)7, true)).ParamName);
    }

    [Fact]
    public void SquaredErrorLoss_Gradient_IsScaledResidual()
    {
        // ∂/∂P c·Σ(P − T)² = 2c(P − T), ∂/∂T = −2c(P − T); c = 1/(2·m·n) for the halved mean.
        var rng = new Random(3);
        var p = OpCheck.RandomTensor(rng, 4, 3);
        var t = OpCheck.RandomTensor(rng, 4, 3);
        var tape = new Tape<double>();
        var (pv, tv) = (tape.Leaf(p), tape.Leaf(t));
        var g = tape.Gradient(Ops.SquaredErrorLoss(pv, tv, SquaredErrorScaling.HalfMeanSquaredError), [pv, tv]);
        for (int i = 0; i < p.Length; i++)
        {
            double r = (p.Data[i] - t.Data[i]) / 12;
            Close.Assert(r, g[0].Value.Data[i], 1e-15, 1e-17);
            Close.Assert(-r, g[1].Value.Data[i], 1e-15, 1e-17);
        }
    }

    [Fact]
    public void Norm_ZeroColumn_HasFiniteZeroGradient()
    {
        var z = Tensor<double>.FromArray(new double[,] { { 0, 3 }, { 0, 4 } });
        var tape = new Tape<double>();
        var x = tape.Leaf(z);
        var n = Ops.Norm(x, 0);
        Assert.Equal([0.0, 5.0], n.Value.Data);
        var g = tape.Gradient(Ops.Sum(n), [x])[0].Value;
        Close.Assert([0.0, 0.6, 0.0, 0.8], g.Data, 1e-15, 0, "∂‖z‖/∂z");
    }
}
