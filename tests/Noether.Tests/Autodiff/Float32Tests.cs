using Noether.Autodiff;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Autodiff;

/// <summary>
/// The ops are generic over the element type: a float32 network gives the float64 gradients to float32 accuracy.
/// Each gradient entry is a short sum of products of O(1) terms, so its float32 rounding error is a small multiple of
/// ε₃₂·Σ|terms| ≈ 1e-7·10; 1e-4 relative to the gradient's norm leaves a wide margin and still catches any rule that
/// computes in the wrong precision or drops a term.
/// </summary>
public class Float32Tests
{
    [Theory]
    [InlineData("tanh")]
    [InlineData("radial")]
    [InlineData("leaky_relu")]
    public void TwoLayerNetworkGradient_Float32_MatchesFloat64(string activation)
    {
        var rng = new Random(activation.Length);
        var u = OpCheck.RandomTensor(rng, 3, 5);
        var v = OpCheck.RandomTensor(rng, 5, 4);
        var x = OpCheck.RandomTensor(rng, 4, 6);
        var y = OpCheck.RandomTensor(rng, 3, 6);
        var g64 = Gradients(u, v, x, y, activation);
        var g32 = Gradients(u.Cast<float>(), v.Cast<float>(), x.Cast<float>(), y.Cast<float>(), activation);
        for (int i = 0; i < 3; i++)
        {
            double err = Close.RelativeError(g64[i].Data, g32[i].Cast<double>().Data);
            Assert.True(err < 1e-4, $"input {i}: relative error {err:E2}");
        }
    }

    private static Tensor<T>[] Gradients<T>(Tensor<T> u, Tensor<T> v, Tensor<T> x, Tensor<T> y, string activation)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var tape = new Tape<T>();
        var (uv, vv, xv) = (tape.Leaf(u), tape.Leaf(v), tape.Leaf(x));
        var z = Ops.MatMul(vv, xv);
        var s = activation switch
        {
            "tanh" => Ops.Tanh(z),
            "radial" => Ops.Radial(z, 0, r => Ops.Reciprocal(Ops.AddScalar(r, T.One))),
            _ => Ops.LeakyRelu(z, T.CreateChecked(0.1)),
        };
        var loss = Ops.SquaredErrorLoss(Ops.MatMul(uv, s), tape.Constant(y), SquaredErrorScaling.HalfMeanSquaredError);
        return tape.Gradient(loss, [uv, vv, xv]).Select(g => g.Value).ToArray();
    }
}
