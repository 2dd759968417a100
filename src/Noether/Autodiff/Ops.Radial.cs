using Noether.Tensors;

namespace Noether.Autodiff;

public static partial class Ops
{
    /// <summary>The identity activation σ(z) = z (returns <paramref name="a"/> itself; no node is recorded).</summary>
    public static Variable<T> Identity<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        return a;
    }

    /// <summary>
    /// Radial rescaling activation σ(z) = f(‖z‖)·z (paper Example 5, B.3; SPEC "Group actions"), applied to
    /// every vector z along <paramref name="axis"/>: the norm is taken over that axis. In the paper's convention
    /// H = VX is h×k with samples as columns, so use axis 0; for rows-as-samples use axis 1. σ commutes with
    /// rotations, σ(gz) = gσ(z) for g ∈ O(h), which makes O(h) a symmetry of the network.
    /// </summary>
    /// <param name="z">The pre-activations.</param>
    /// <param name="axis">The axis the norm runs over (negative counts from the end).</param>
    /// <param name="f">
    /// The radial profile, applied to the norms (a variable of <paramref name="z"/>'s shape with size 1 on
    /// <paramref name="axis"/>) and written with <see cref="Ops"/>, e.g. <c>r => Ops.Reciprocal(Ops.AddScalar(r, 1.0))</c>.
    /// The tape differentiates it, so σ's gradient and Hessian are exact.
    /// </param>
    /// <remarks>
    /// At z = 0 the norm has a kink: the rule uses the subgradient 0 for z/‖z‖, which gives the correct
    /// first derivative f(0)·I when f is finite near 0; the second derivative there exists only if f'(0) = 0.
    /// </remarks>
    public static Variable<T> Radial<T>(Variable<T> z, int axis, Func<Variable<T>, Variable<T>> f) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(f);
        var r = Norm(z, axis, keepDims: true);
        var scale = f(r) ?? throw Errors.Argument(nameof(f), "radial: f returned null");
        if (!ReferenceEquals(scale.Tape, z.Tape)) throw Errors.Argument(nameof(f), "radial: f returned a variable of another tape");
        if (!scale.Value.SameShape(r.Value))
            throw Errors.ShapeMismatch("radial", "f(‖z‖)", scale.Shape, "‖z‖", r.Shape, "f must act elementwise on the norms");
        return Multiply(scale, z);
    }

    /// <summary>
    /// Radial rescaling σ(z) = f(‖z‖)·z with f and its derivative given as plain functions (norm over
    /// <paramref name="axis"/>, as in <see cref="Radial{T}(Variable{T}, int, Func{Variable{T}, Variable{T}})"/>).
    /// First-order only: gradients are exact (given a correct <paramref name="derivative"/>), but f'' is
    /// unknown, so differentiating the gradient again throws <see cref="NotSupportedException"/>. For
    /// Hessians pass f as a function of variables instead.
    /// </summary>
    /// <param name="z">The pre-activations.</param>
    /// <param name="axis">The axis the norm runs over.</param>
    /// <param name="f">The radial profile f(r).</param>
    /// <param name="derivative">Its derivative f'(r).</param>
    public static Variable<T> Radial<T>(Variable<T> z, int axis, Func<double, double> f, Func<double, double> derivative)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(derivative);
        var r = Norm(z, axis, keepDims: true);
        return Multiply(ElementwiseFirstOrder(r, f, derivative, "radial activation with scalar f and f′"), z);
    }

    /// <summary>
    /// f applied elementwise with a user-given derivative f'. The backward rule multiplies by the constant
    /// f'(x), so the result is first-order only: if the gradient is itself differentiated (double backward,
    /// Hessians) the node throws a <see cref="NotSupportedException"/> naming <paramref name="what"/> rather than
    /// silently dropping f''.
    /// </summary>
    internal static Variable<T> ElementwiseFirstOrder<T>(Variable<T> x, Func<double, double> f, Func<double, double> derivative, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = Tensor<T>.EmptyLike(x.Value);
        var slope = Tensor<T>.EmptyLike(x.Value);
        var src = x.Value.Data;
        for (int i = 0; i < src.Length; i++)
        {
            double xi = double.CreateTruncating(src[i]);
            value.Data[i] = T.CreateTruncating(f(xi));
            slope.Data[i] = T.CreateTruncating(derivative(xi));
        }
        var tape = x.Tape;
        return tape.Record(value, [x], g =>
        {
            var grad = TensorOps.Binary(BinaryOp.Multiply, g.Value, slope);
            // Linear in g, but its dependence on x (through f'') is unknown: refuse a second derivative.
            return [tape.Record(grad, [g], _ => throw new NotSupportedException(
                $"{what} is first-order only: its second derivative is unknown. Give f as a function of variables (Ops.Radial(z, axis, r => ...)) to differentiate twice."))];
        });
    }
}
