using Noether.Autodiff;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Autodiff;

public class TapeBehaviourTests
{
    private static Tensor<double> Random(int seed, params int[] shape) => OpCheck.RandomTensor(new Random(seed), shape);

    [Fact]
    public void Operation_VariablesOfTwoTapes_Throws()
    {
        var t1 = new Tape<double>();
        var t2 = new Tape<double>();
        var a = t1.Leaf(Random(1, 2, 2));
        var b = t2.Leaf(Random(2, 2, 2));
        Assert.Throws<ArgumentException>(() => Ops.Add(a, b));
        Assert.Throws<ArgumentException>(() => Ops.MatMul(a, b));
        Assert.Throws<ArgumentException>(() => Ops.SquaredErrorLoss(a, b, SquaredErrorScaling.MeanSquaredError));
        Assert.Throws<ArgumentException>(() => t1.Gradient(Ops.Sum(a), [b]));
    }

    [Fact]
    public void Gradient_UnrelatedVariable_IsZeroOfItsShape()
    {
        var tape = new Tape<double>();
        var a = tape.Leaf(Random(1, 2, 3));
        var unrelated = tape.Leaf(Random(2, 4, 5));
        var y = Ops.Sum(Ops.Exp(a));
        var g = tape.Gradient(y, [a, unrelated]);
        Assert.True(g[1].Value.HasShape(4, 5));
        Assert.All(g[1].Value.Data, x => Assert.Equal(0.0, x));
        Close.Assert(Ops.Exp(tape.Constant(a.Value)).Value, g[0].Value, 1e-15);
    }

    [Fact]
    public void Gradient_WithoutCreateGraph_LeavesTapeLengthUnchanged()
    {
        var tape = new Tape<double>();
        var a = tape.Leaf(Random(1, 3, 3));
        var b = tape.Leaf(Random(2, 3, 3));
        var y = Ops.Sum(Ops.Tanh(Ops.MatMul(a, b)));
        int before = tape.Count;
        tape.Gradient(y, [a, b]);
        Assert.Equal(before, tape.Count);
        tape.Gradient(y, [a, b], createGraph: true);
        Assert.True(tape.Count > before, "a gradient recorded for double backward adds nodes");
    }

    [Fact]
    public void Pause_OperationsInside_AreNotRecorded()
    {
        var tape = new Tape<double>();
        var a = tape.Leaf(Random(1, 2, 2));
        int before = tape.Count;
        Variable<double> y;
        using (tape.Pause()) y = Ops.Exp(Ops.Square(a));
        Assert.Equal(before, tape.Count);
        Assert.False(y.RequiresGrad);
        Assert.True(tape.IsRecording);
    }

    [Fact]
    public void Gradient_VariableFromBeforeReset_Throws()
    {
        var tape = new Tape<double>();
        var a = tape.Leaf(Random(1, 2, 2));
        tape.Reset();
        var b = tape.Leaf(Random(2, 2, 2));
        var ex = Assert.Throws<ArgumentException>(() => tape.Gradient(Ops.Sum(b), [a]));
        Assert.Contains("reset", ex.Message);
    }

    [Fact]
    public void Gradient_BiasBroadcastAcrossRows_SumsTheUpstreamGradientOverRows()
    {
        // y = X W + b with b a row (shape [n]) broadcast over the batch; L = Σ G ⊙ y ⇒ ∂L/∂b_j = Σ_i G_ij.
        var tape = new Tape<double>();
        var x = tape.Leaf(Random(1, 5, 3));
        var w = tape.Leaf(Random(2, 3, 4));
        var b = tape.Leaf(Random(3, 4));
        var g = Random(4, 5, 4);
        var loss = Ops.Sum(Ops.Multiply(tape.Constant(g), Ops.Add(Ops.MatMul(x, w), b)));
        var grads = tape.Gradient(loss, [b, w]);
        Assert.True(grads[0].Value.HasShape(4));
        for (int j = 0; j < 4; j++)
        {
            double s = 0;
            for (int i = 0; i < 5; i++) s += g[i, j];
            Close.Assert(s, grads[0].Value[j], 1e-14, 1e-15, $"db[{j}]");
        }
        // ∂L/∂W = Xᵀ G.
        for (int p = 0; p < 3; p++)
            for (int j = 0; j < 4; j++)
            {
                double s = 0;
                for (int i = 0; i < 5; i++) s += x.Value[i, p] * g[i, j];
                Close.Assert(s, grads[1].Value[p, j], 1e-13, 1e-14, $"dW[{p},{j}]");
            }
    }

    [Fact]
    public void Gradient_BroadcastMultiplyByColumn_ReducesOverColumns()
    {
        // y = A ⊙ s with s of shape [m, 1]; L = Σ G ⊙ y ⇒ ∂L/∂s_i = Σ_j G_ij A_ij and ∂L/∂A = G ⊙ s.
        var tape = new Tape<double>();
        var a = tape.Leaf(Random(1, 3, 4));
        var s = tape.Leaf(Random(2, 3, 1));
        var g = Random(3, 3, 4);
        var grads = tape.Gradient(Ops.Sum(Ops.Multiply(tape.Constant(g), Ops.Multiply(a, s))), [s, a]);
        Assert.True(grads[0].Value.HasShape(3, 1));
        for (int i = 0; i < 3; i++)
        {
            double sum = 0;
            for (int j = 0; j < 4; j++)
            {
                sum += g[i, j] * a.Value[i, j];
                Close.Assert(g[i, j] * s.Value[i, 0], grads[1].Value[i, j], 1e-15, 0, $"dA[{i},{j}]");
            }
            Close.Assert(sum, grads[0].Value[i, 0], 1e-14, 1e-15, $"ds[{i}]");
        }
    }

    public static TheoryData<string, string[]> Mismatches => new()
    {
        { "add", ["2×3", "4×5"] },
        { "matmul", ["2×3", "4×5"] },
        { "mse", ["2×3", "3×2"] },
        { "dot", ["2×3", "3×2"] },
        { "radial", ["1×3", "2×3"] },
        { "seed", ["2×3", "3×2"] },
    };

    [Theory]
    [MemberData(nameof(Mismatches))]
    public void ShapeMismatch_Message_NamesBothShapes(string op, string[] shapes)
    {
        var tape = new Tape<double>();
        var a = tape.Leaf(Random(1, 2, 3));
        var ex = Assert.ThrowsAny<ArgumentException>(() =>
        {
            _ = op switch
            {
                "add" => Ops.Add(a, tape.Leaf(Random(2, 4, 5))),
                "matmul" => Ops.MatMul(a, tape.Leaf(Random(2, 4, 5))),
                "mse" => Ops.SquaredErrorLoss(a, tape.Leaf(Random(2, 3, 2)), SquaredErrorScaling.MeanSquaredError),
                "dot" => Ops.Dot(a, tape.Leaf(Random(2, 3, 2))),
                "radial" => Ops.Radial(a, 0, r => Ops.BroadcastTo(r, 2, 3)),
                _ => tape.Gradient(a, [a], tape.Constant(Random(2, 3, 2)))[0],
            };
        });
        foreach (var s in shapes) Assert.Contains(s, ex.Message);
    }

    [Fact]
    public void SumAxis_BadAxis_ThrowsNamingTheRank()
    {
        var tape = new Tape<double>();
        var a = tape.Leaf(Random(1, 2, 3));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.SumAxis(a, 2));
        Assert.Contains("rank-2", ex.Message);
        Assert.Throws<ArgumentException>(() => Ops.SumAxis(tape.Leaf(Tensor<double>.Scalar(1)), 0));
    }
}
