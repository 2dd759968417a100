using Noether.Tensors;

namespace Noether.Tests.Tensors;

/// <summary>The operators on <see cref="Tensor{T}"/> give exactly what the <see cref="TensorOps"/> calls they stand for give.</summary>
public class TensorOperatorTests
{
    public static IEnumerable<object[]> Shapes =>
    [
        [new[] { 1 }, new[] { 1 }],
        [new[] { 5 }, new[] { 5 }],
        [new[] { 3, 4 }, new[] { 3, 4 }],
        [new[] { 3, 4 }, new[] { 1, 4 }],
        [new[] { 3, 1 }, new[] { 1, 4 }],
        [new[] { 2, 3, 4 }, new[] { 4 }],
        [new[] { 2, 3, 4, 5 }, new[] { 2, 3, 4, 5 }],
        [new[] { 6, 7 }, new[] { 1 }],
    ];

    private static Tensor<double> Random(int[] shape, int seed)
    {
        var t = Tensor<double>.Zeros(shape);
        Gaussian.Fill(new Random(seed), t.Data);
        return t;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BinaryOperators_AnyBroadcastableShapes_EqualTensorOpsBitForBit(int[] left, int[] right)
    {
        var a = Random(left, 1);
        var b = Random(right, 2);
        Assert.Equal(TensorOps.Binary(BinaryOp.Add, a, b).Data, (a + b).Data);
        Assert.Equal(TensorOps.Binary(BinaryOp.Subtract, a, b).Data, (a - b).Data);
        Assert.Equal(TensorOps.Binary(BinaryOp.Multiply, a, b).Data, (a * b).Data);
        Assert.Equal(TensorOps.Binary(BinaryOp.Subtract, b, a).Data, (b - a).Data);
        Assert.Equal(TensorOps.BroadcastShape(a.Shape, b.Shape), (a + b).ShapeArray);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ScalarAndUnaryOperators_EqualTensorOpsBitForBit(int[] shape, int[] _)
    {
        var a = Random(shape, 3);
        Assert.Equal(TensorOps.Binary(BinaryOp.Multiply, a, 0.3).Data, (a * 0.3).Data);
        Assert.Equal(TensorOps.Binary(BinaryOp.Multiply, 0.3, a).Data, (0.3 * a).Data);
        Assert.Equal(TensorOps.Binary(BinaryOp.Multiply, a, -1.0).Data, (-a).Data);
        Assert.Equal(TensorOps.Binary(BinaryOp.Subtract, 0.0, a).Data.Select(Math.Abs), (-a).Data.Select(Math.Abs));
    }

    [Fact]
    public void Operators_Float32_EqualTensorOps()
    {
        var a = Random([4, 3], 5).Cast<float>();
        var b = Random([4, 3], 6).Cast<float>();
        Assert.Equal(TensorOps.Binary(BinaryOp.Subtract, a, TensorOps.Binary(BinaryOp.Multiply, b, 0.05f)).Data, (a - b * 0.05f).Data);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 3, 4)]
    [InlineData(7, 5, 9)]
    [InlineData(40, 33, 17)]
    public void MatMul_EqualsTensorOpsMatMul(int m, int k, int n)
    {
        var a = Random([m, k], m);
        var b = Random([k, n], n);
        Assert.Equal(TensorOps.MatMul(a, b).Data, a.MatMul(b).Data);
    }

    [Fact]
    public void Operators_NullOrMismatchedOperands_ThrowNamingTheOperand()
    {
        var a = Tensor<double>.Zeros(2, 3);
        Assert.Equal("right", Assert.Throws<ArgumentNullException>(() => a + null!).ParamName);
        Assert.Equal("left", Assert.Throws<ArgumentNullException>(() => null! - a).ParamName);
        Assert.Equal("right", Assert.Throws<ArgumentNullException>(() => a.MatMul(null!)).ParamName);
        Assert.Throws<ArgumentException>(() => a - Tensor<double>.Zeros(3, 2));
        Assert.Throws<ArgumentException>(() => a.MatMul(a));
    }

    [Fact]
    public void SameShapeElementwise_SplitOverCores_EqualsTheElementLoop_BitForBit()
    {
        // Above Ranges.ParallelElements same-shape products run one range per core; an element is one rounding wherever
        // the cut falls, so each must equal the scalar operation (the length is not a whole number of vectors or granules).
        int length = (int)Ranges.ParallelElements * 3 + 37;
        Assert.True(length >= Ranges.ParallelElements);
        var rng = new System.Random(5);
        var a = Enumerable.Range(0, length).Select(_ => (float)(4 * rng.NextDouble() - 2)).ToArray();
        var b = Enumerable.Range(0, length).Select(i => i % 11 == 0 ? 0f : (float)(4 * rng.NextDouble() - 2)).ToArray();
        var ta = new Tensor<float>(a, length);
        var tb = new Tensor<float>(b, length);
        foreach (var (op, f) in new (BinaryOp, Func<float, float, float>)[]
                 { (BinaryOp.Add, (p, q) => p + q), (BinaryOp.Subtract, (p, q) => p - q), (BinaryOp.Multiply, (p, q) => p * q), (BinaryOp.Divide, (p, q) => p / q) })
        {
            var r = TensorOps.Binary(op, ta, tb);
            for (int i = 0; i < length; i++)
                if (BitConverter.SingleToInt32Bits(r.Data[i]) != BitConverter.SingleToInt32Bits(f(a[i], b[i])))
                    Assert.Fail($"{op}: element {i} is {r.Data[i]:R}, the scalar operation gives {f(a[i], b[i]):R}");
        }
    }
}
