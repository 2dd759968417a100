using Noether.Tensors;

namespace Noether.Autodiff;

public static partial class Ops
{
    /// <summary>
    /// Sum along one axis (negative axes count from the end). The result drops that axis unless
    /// <paramref name="keepDims"/>, in which case it stays with size 1 (ready to broadcast back).
    /// Twice differentiable: the backward rule broadcasts the gradient back along the axis.
    /// </summary>
    /// <example>For a 3×4 matrix, <c>SumAxis(a, 0)</c> has shape [4] (column sums), <c>SumAxis(a, 1, keepDims: true)</c> has shape [3, 1].</example>
    public static Variable<T> SumAxis<T>(Variable<T> a, int axis, bool keepDims = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        int ax = NormalizeAxis("sum-axis", a, axis);
        var kept = KeptShape(a.Value, ax);
        var summed = SumTo(a, kept);
        return keepDims ? summed : Reshape(summed, ReducedShape(a.Value, ax));
    }

    /// <summary>Mean along one axis; see <see cref="SumAxis{T}"/> for the shape rules.</summary>
    public static Variable<T> MeanAxis<T>(Variable<T> a, int axis, bool keepDims = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        int ax = NormalizeAxis("mean-axis", a, axis);
        int n = a.Value.Dim(ax);
        if (n == 0) throw Errors.BadShape("mean-axis", "input", a.Shape, $"a non-empty axis {axis}");
        return Scale(SumAxis(a, ax, keepDims), T.One / T.CreateChecked(n));
    }

    /// <summary>
    /// Euclidean norm along one axis, ‖a‖ = √(Σ a²) (e.g. axis 0 of an h×k matrix gives the norm of each
    /// column). Its derivative a/‖a‖ is taken as 0 where ‖a‖ = 0 (a subgradient; the norm has a kink there),
    /// so gradients stay finite; away from 0 it is twice differentiable.
    /// </summary>
    public static Variable<T> Norm<T>(Variable<T> a, int axis, bool keepDims = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        int ax = NormalizeAxis("norm", a, axis);
        var kept = KeptShape(a.Value, ax);
        var squares = TensorOps.Binary(BinaryOp.Multiply, a.Value, a.Value);
        var value = TensorOps.SumTo(squares, kept);
        var data = value.Data;
        for (int i = 0; i < data.Length; i++) data[i] = T.Sqrt(data[i]);
        Variable<T>? r = null;
        r = a.Tape.Record(value, [a], g => [Multiply(a, Multiply(g, SafeReciprocal(r!)))],
            g => [Batched.Multiply(Batched.Multiply(g, SafeReciprocalValue(value)), a.Value)]);
        return keepDims ? r : Reshape(r, ReducedShape(a.Value, ax));
    }

    /// <summary>‖a‖² = Σ a² over all elements (a scalar), fused: one node, twice differentiable.</summary>
    public static Variable<T> SumOfSquares<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        return ScaledSumOfSquares(a, T.One);
    }

    // c·Σ a² as one node; its gradient 2c·g·a is one node too (ScaleByScalar).
    internal static Variable<T> ScaledSumOfSquares<T>(Variable<T> a, T c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = Tensor<T>.Scalar(c * System.Numerics.Tensors.TensorPrimitives.SumOfSquares<T>(a.Value.Data));
        var twoC = c + c;
        return a.Tape.Record(value, [a], g => [ScaleByScalar(a, g, twoC)], g => [Batched.Outer(g, TensorOps.Binary(BinaryOp.Multiply, a.Value, twoC))]);
    }

    /// <summary>
    /// factor·s·a, where s is a one-element variable (a differentiable scalar multiplier). One node in
    /// place of a broadcast multiply and a scale; both operands get gradients, so it differentiates again.
    /// </summary>
    internal static Variable<T> ScaleByScalar<T>(Variable<T> a, Variable<T> s, T factor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = Same(a, s);
        var value = TensorOps.Binary(BinaryOp.Multiply, a.Value, factor * s.Value.Data[0]);
        return tape.Record(value, [a, s], g => [
            a.RequiresGrad ? ScaleByScalar(g, s, factor) : null,
            s.RequiresGrad ? Reshape(Scale(Sum(Multiply(g, a)), factor), s.Value.ShapeArray) : null],
            g => [a.RequiresGrad ? Batched.Scale(g, factor * s.Value.Data[0]) : null,
                  s.RequiresGrad ? Batched.Scale(Batched.DotEach(g, a.Value, s.Value.ShapeRef), factor) : null]);
    }

    // 1/x where x > 0 and 0 elsewhere (for x ≥ 0 such as norms): the derivative −1/x² likewise, written
    // through the node itself (−y²) so it stays 0 at x = 0 and differentiates again.
    internal static Variable<T> SafeReciprocal<T>(Variable<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = SafeReciprocalValue(x.Value);
        Variable<T>? y = null;
        y = x.Tape.Record(value, [x], g => [Scale(Multiply(g, Multiply(y!, y!)), -T.One)],
            g => [Batched.Multiply(g, TensorOps.Binary(BinaryOp.Multiply, TensorOps.Binary(BinaryOp.Multiply, value, value), -T.One))]);
        return y;
    }

    private static Tensor<T> SafeReciprocalValue<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = Tensor<T>.EmptyLike(x);
        var src = x.Data;
        var dst = value.Data;
        for (int i = 0; i < src.Length; i++) dst[i] = src[i] > T.Zero ? T.One / src[i] : T.Zero;
        return value;
    }

    private static int NormalizeAxis<T>(string op, Variable<T> a, int axis) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rank = a.Rank;
        if (rank == 0) throw Errors.BadShape(op, "input", a.Shape, "rank ≥ 1 (a scalar has no axis)");
        int ax = axis < 0 ? axis + rank : axis;
        if (ax < 0 || ax >= rank) throw Errors.OutOfRange(nameof(axis), axis, $"an axis of a rank-{rank} input, in [{-rank}, {rank - 1}] (input is {Errors.Shape(a.Shape)})");
        return ax;
    }

    private static int[] KeptShape<T>(Tensor<T> a, int axis) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kept = a.ShapeArray;
        kept[axis] = 1;
        return kept;
    }

    private static int[] ReducedShape<T>(Tensor<T> a, int axis) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = new int[a.Rank - 1];
        for (int i = 0, j = 0; i < a.Rank; i++) if (i != axis) shape[j++] = a.Dim(i);
        return shape;
    }
}
