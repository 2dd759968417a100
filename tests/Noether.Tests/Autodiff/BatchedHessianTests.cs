using CsCheck;
using Noether.Autodiff;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Autodiff;

/// <summary>
/// The full Hessian assembled from batched backward passes (many directions per pass) equals the one assembled
/// column by column through the double-backward graph: the batched rules are a second implementation of every
/// op's vector-Jacobian product, checked here against the first. Both compute the same sums in possibly different
/// orders (one large product against many small ones), so they agree to rounding: 1e-12 relative to the largest entry.
/// </summary>
public class BatchedHessianTests
{
    [Theory]
    [MemberData(nameof(OpCatalog.TwiceDifferentiableNames), MemberType = typeof(OpCatalog))]
    public void Full_BatchedPasses_EqualOnePassPerColumn(string name)
    {
        var op = OpCatalog.Get(name);
        OpCheck.Cases(op.Shapes, op.Domains).Sample(c =>
        {
            var hessian = new HessianOperator<double>(OpCheck.Probe(op.Apply, c.Seed), c.Inputs);
            var reference = hessian.Full(1);
            double scale = Math.Max(1, reference.Data.Max(Math.Abs));
            foreach (int batch in new[] { 2, 3, HessianOperator<double>.DefaultBatchSize })
            {
                Close.Assert(reference, hessian.Full(batch), 0, 1e-12 * scale, $"batch {batch}");
                // Every op has a batched rule; only rank-4 inputs (no rank left for the batch axis) fall back.
                Assert.Equal(c.Inputs.All(t => t.Rank < 4), hessian.LastFullWasBatched);
            }
        }, iter: 100, seed: "0N0XIDEW4Y50");
    }

    [Theory]
    [InlineData("identity")]
    [InlineData("relu")]
    [InlineData("sigmoid")]
    [InlineData("tanh")]
    [InlineData("radial")]
    public void Full_TwoLayerNetwork_BatchedEqualsPerColumn(string activation)
    {
        var rng = new Random(activation.Length);
        var point = new[] { OpCheck.RandomTensor(rng, 4, 6), OpCheck.RandomTensor(rng, 6, 3), OpCheck.RandomTensor(rng, 3, 5) };
        var y = OpCheck.RandomTensor(rng, 4, 5);
        ScalarFunction<double> loss = (tape, p) =>
        {
            var z = Ops.MatMul(p[1], p[2]);
            var s = activation switch
            {
                "identity" => z,
                "relu" => Ops.Relu(z),
                "sigmoid" => Ops.Sigmoid(z),
                "tanh" => Ops.Tanh(z),
                _ => Ops.Radial(z, 0, r => Ops.Reciprocal(Ops.AddScalar(Ops.Square(r), 1.0))),
            };
            return Ops.SquaredErrorLoss(Ops.MatMul(p[0], s), tape.Constant(y), SquaredErrorScaling.MeanSquaredError);
        };
        var hessian = new HessianOperator<double>(loss, point);
        var reference = hessian.Full(1);
        double scale = reference.Data.Max(Math.Abs);
        Close.Assert(reference, hessian.Full(), 0, 1e-12 * scale);
        Assert.True(hessian.LastFullWasBatched);
        Close.Assert(reference, hessian.Full(7), 0, 1e-12 * scale);
    }

    /// <summary>Blocks of directions run in parallel, but each block's arithmetic is fixed: the result is bit-identical.</summary>
    [Fact]
    public void Full_ThreadCount_DoesNotChangeTheResult()
    {
        var rng = new Random(4);
        var point = new[] { OpCheck.RandomTensor(rng, 10, 50), OpCheck.RandomTensor(rng, 50, 5) };
        var y = OpCheck.RandomTensor(rng, 10, 5);
        var hessian = new HessianOperator<double>((tape, p) =>
            Ops.SquaredErrorLoss(Ops.MatMul(p[0], Ops.Tanh(p[1])), tape.Constant(y), SquaredErrorScaling.HalfSumOfSquares), point);
        var serial = hessian.Full(16, threads: 1);
        Assert.True(hessian.LastFullWasBatched);
        Assert.Equal(serial.Data, hessian.Full(16, threads: 2).Data);
        Assert.Equal(serial.Data, hessian.Full(16, threads: 4).Data);
        Close.Assert(hessian.Full(1), serial, 0, 1e-12 * serial.Data.Max(Math.Abs));
    }

    [Fact]
    public void FullInto_ReusedBuffer_EqualsFullAndIsExactlySymmetric()
    {
        var rng = new Random(6);
        var point = new[] { OpCheck.RandomTensor(rng, 3, 7), OpCheck.RandomTensor(rng, 7, 4) };
        var y = OpCheck.RandomTensor(rng, 3, 4);
        var hessian = new HessianOperator<double>((tape, p) =>
            Ops.SquaredErrorLoss(Ops.MatMul(p[0], Ops.Sigmoid(p[1])), tape.Constant(y), SquaredErrorScaling.HalfSumOfSquares), point);
        var expected = hessian.Full();
        var buffer = Tensor<double>.Full(double.NaN, 49, 49);
        hessian.FullInto(buffer, batchSize: 5);
        Close.Assert(expected, buffer, 0, 1e-12 * expected.Data.Max(Math.Abs));
        for (int i = 0; i < 49; i++)
            for (int j = 0; j < 49; j++)
                Assert.Equal(buffer[i, j], buffer[j, i]);
        var viaStatic = Tensor<double>.Zeros(49, 49);
        Hessian.FullInto<double>((tape, p) =>
            Ops.SquaredErrorLoss(Ops.MatMul(p[0], Ops.Sigmoid(p[1])), tape.Constant(y), SquaredErrorScaling.HalfSumOfSquares), point, viaStatic);
        Assert.Equal(expected.Data, viaStatic.Data);
        var ex = Assert.Throws<ArgumentException>(() => hessian.FullInto(Tensor<double>.Zeros(49, 48)));
        Assert.Contains("49×48", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => hessian.Full(0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(37)]
    public void MultiplyMany_RandomDirections_EqualOneProductPerDirection(int count)
    {
        var rng = new Random(count);
        var point = new[] { OpCheck.RandomTensor(rng, 4, 6), OpCheck.RandomTensor(rng, 6, 3), OpCheck.RandomTensor(rng, 6, 1) };
        var y = OpCheck.RandomTensor(rng, 4, 3);
        var hessian = new HessianOperator<double>((tape, p) =>
            Ops.SquaredErrorLoss(Ops.MatMul(p[0], Ops.Tanh(Ops.Add(p[1], p[2]))), tape.Constant(y), SquaredErrorScaling.MeanSquaredError), point);
        var directions = OpCheck.RandomTensor(rng, count, hessian.Dimension);
        var many = hessian.MultiplyMany(directions);
        for (int k = 0; k < count; k++)
        {
            var one = hessian.Multiply(directions.Data.AsSpan(k * hessian.Dimension, hessian.Dimension));
            Close.Assert(one, many.Data.AsSpan(k * hessian.Dimension, hessian.Dimension), 1e-12, 1e-14, $"direction {k}");
        }
        Assert.Throws<ArgumentException>(() => hessian.MultiplyMany(Tensor<double>.Zeros(2, hessian.Dimension + 1)));
    }

    [Fact]
    public void Full_OpWithoutBatchedRule_FallsBackAndStillThrowsForFirstOrderOps()
    {
        var z = OpCheck.RandomTensor(new Random(1), 3, 2);
        var op = new HessianOperator<double>((tape, p) => Ops.SumOfSquares(Ops.Radial(p[0], 0, r => 1 / (1 + r), r => -1 / ((1 + r) * (1 + r)))), [z]);
        Assert.Throws<NotSupportedException>(() => op.Full());
    }
}
