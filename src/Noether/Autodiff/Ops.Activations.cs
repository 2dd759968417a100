using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Autodiff;

public static partial class Ops
{
    /// <summary>max(0, a). Its derivative at 0 is taken as 0, as in PyTorch.</summary>
    public static Variable<T> Relu<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T> => LeakyRelu(a, T.Zero);

    /// <summary>a for a &gt; 0, slope·a otherwise. The derivative at 0 is slope.</summary>
    public static Variable<T> LeakyRelu<T>(Variable<T> a, T slope) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        var mask = Tensor<T>.Zeros(a.Value.ShapeArray);
        var x = a.Value.Data;
        var m = mask.Data;
        for (int i = 0; i < x.Length; i++) m[i] = x[i] > T.Zero ? T.One : slope;
        return MultiplyConstant(a, mask);
    }

    /// <summary>The logistic function 1 / (1 + e⁻ᵃ).</summary>
    public static Variable<T> Sigmoid<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        var value = Map(a.Value, static (x, d) => TensorPrimitives.Sigmoid(x, d));
        Variable<T>? y = null;
        // σ' = σ(1 − σ), written through y so the rule differentiates again.
        y = a.Tape.Record(value, [a], g => [Multiply(g, Multiply(y!, AddScalar(Scale(y!, -T.One), T.One)))],
            g => [Batched.Multiply(g, TensorOps.Binary(BinaryOp.Multiply, value, TensorOps.Binary(BinaryOp.Subtract, T.One, value)))]);
        return y;
    }

    /// <summary>Hyperbolic tangent.</summary>
    public static Variable<T> Tanh<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        var value = Map(a.Value, static (x, d) => TensorPrimitives.Tanh(x, d));
        Variable<T>? y = null;
        y = a.Tape.Record(value, [a], g => [Multiply(g, AddScalar(Scale(Multiply(y!, y!), -T.One), T.One))],
            g => [Batched.Multiply(g, TensorOps.Binary(BinaryOp.Subtract, T.One, TensorOps.Binary(BinaryOp.Multiply, value, value)))]);
        return y;
    }
}
