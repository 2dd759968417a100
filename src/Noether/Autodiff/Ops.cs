using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Noether.Tensors;

namespace Noether.Autodiff;

/// <summary>
/// The differentiable operations. Each validates its operands, computes the value with a
/// <see cref="TensorOps"/> kernel and records a backward rule written in these same operations,
/// so every rule here is twice differentiable unless its remarks say otherwise. Each op also records a
/// batched rule (the same vector-Jacobian product for many output gradients at once, on raw tensors),
/// which full Hessians and <see cref="HessianOperator{T}.MultiplyMany(Tensor{T})"/> use.
/// </summary>
public static partial class Ops
{
    // ---- arithmetic -------------------------------------------------------------------------

    /// <summary>a + b with broadcasting.</summary>
    public static Variable<T> Add<T>(Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = Same(a, b);
        var value = TensorOps.Binary(BinaryOp.Add, a.Value, b.Value);
        return tape.Record(value, [a, b], g => [Reduce(g, a), Reduce(g, b)],
            g => [a.RequiresGrad ? Batched.ReduceTo(g, a.Value.ShapeRef) : null, b.RequiresGrad ? Batched.ReduceTo(g, b.Value.ShapeRef) : null]);
    }

    /// <summary>a − b with broadcasting.</summary>
    public static Variable<T> Subtract<T>(Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = Same(a, b);
        var value = TensorOps.Binary(BinaryOp.Subtract, a.Value, b.Value);
        return tape.Record(value, [a, b], g => [Reduce(g, a), b.RequiresGrad ? Reduce(Scale(g, -T.One), b) : null],
            g => [a.RequiresGrad ? Batched.ReduceTo(g, a.Value.ShapeRef) : null,
                  b.RequiresGrad ? Batched.ReduceTo(Batched.Scale(g, -T.One), b.Value.ShapeRef) : null]);
    }

    /// <summary>a ⊙ b (elementwise) with broadcasting.</summary>
    public static Variable<T> Multiply<T>(Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = Same(a, b);
        var value = TensorOps.Binary(BinaryOp.Multiply, a.Value, b.Value);
        return tape.Record(value, [a, b], g => [
            a.RequiresGrad ? Reduce(Multiply(g, b), a) : null,
            b.RequiresGrad ? Reduce(Multiply(g, a), b) : null],
            g => [a.RequiresGrad ? Batched.ReduceTo(Batched.Multiply(g, b.Value), a.Value.ShapeRef) : null,
                  b.RequiresGrad ? Batched.ReduceTo(Batched.Multiply(g, a.Value), b.Value.ShapeRef) : null]);
    }

    /// <summary>a / b (elementwise) with broadcasting.</summary>
    public static Variable<T> Divide<T>(Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = Same(a, b);
        var value = TensorOps.Binary(BinaryOp.Divide, a.Value, b.Value);
        return tape.Record(value, [a, b], g => [
            a.RequiresGrad ? Reduce(Divide(g, b), a) : null,
            b.RequiresGrad ? Reduce(Scale(Divide(Multiply(g, a), Multiply(b, b)), -T.One), b) : null],
            g => [a.RequiresGrad ? Batched.ReduceTo(TensorOps.Binary(BinaryOp.Divide, g, b.Value), a.Value.ShapeRef) : null,
                  b.RequiresGrad ? Batched.ReduceTo(Batched.Multiply(g, TensorOps.Binary(BinaryOp.Multiply,
                      TensorOps.Binary(BinaryOp.Divide, a.Value, TensorOps.Binary(BinaryOp.Multiply, b.Value, b.Value)), -T.One)), b.Value.ShapeRef) : null]);
    }

    /// <summary>s·a for a scalar s.</summary>
    public static Variable<T> Scale<T>(Variable<T> a, T s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        var value = TensorOps.Binary(BinaryOp.Multiply, a.Value, s);
        return a.Tape.Record(value, [a], g => [Scale(g, s)], g => [Batched.Scale(g, s)]);
    }

    /// <summary>a + s for a scalar s.</summary>
    public static Variable<T> AddScalar<T>(Variable<T> a, T s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        var value = TensorOps.Binary(BinaryOp.Add, a.Value, s);
        return a.Tape.Record(value, [a], g => [g], g => [g]);
    }

    /// <summary>1 / a elementwise.</summary>
    public static Variable<T> Reciprocal<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        var value = TensorOps.Binary(BinaryOp.Divide, T.One, a.Value);
        Variable<T>? y = null;
        y = a.Tape.Record(value, [a], g => [Scale(Multiply(g, Multiply(y!, y!)), -T.One)],
            g => [Batched.Multiply(g, TensorOps.Binary(BinaryOp.Multiply, TensorOps.Binary(BinaryOp.Multiply, value, value), -T.One))]);
        return y;
    }

    // ---- linear algebra ----------------------------------------------------------------------

    /// <summary>Matrix product op(a)·op(b), where op transposes when asked (no copy is made).</summary>
    public static Variable<T> MatMul<T>(Variable<T> a, Variable<T> b, bool transposeA = false, bool transposeB = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = Same(a, b);
        var value = TensorOps.MatMul(a.Value, b.Value, transposeA, transposeB);
        return tape.Record(value, [a, b], g =>
        {
            Variable<T>? ga = null, gb = null;
            if (a.RequiresGrad)
                ga = (transposeA, transposeB) switch
                {
                    (false, false) => MatMul(g, b, false, true),
                    (false, true) => MatMul(g, b),
                    (true, false) => MatMul(b, g, false, true),
                    _ => MatMul(b, g, true, true),
                };
            if (b.RequiresGrad)
                gb = (transposeA, transposeB) switch
                {
                    (false, false) => MatMul(a, g, true, false),
                    (false, true) => MatMul(g, a, true, false),
                    (true, false) => MatMul(a, g),
                    _ => MatMul(g, a, true, true),
                };
            return [ga, gb];
        }, g =>
        {
            var (ga, gb) = Batched.MatMulBackward(g, a.Value, b.Value, transposeA, transposeB, a.RequiresGrad, b.RequiresGrad);
            return [ga, gb];
        });
    }

    /// <summary>Matrix transpose.</summary>
    public static Variable<T> Transpose<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Tape.Record(TensorOps.Transpose(a.Value), [a], g => [Transpose(g)], g => [Batched.TransposeEach(g)]);
    }

    // ---- shape -------------------------------------------------------------------------------

    /// <summary>The same elements with another shape (one dimension may be −1).</summary>
    public static Variable<T> Reshape<T>(Variable<T> a, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        var original = a.Value.ShapeArray;
        return a.Tape.Record(a.Value.Reshape(shape), [a], g => [Reshape(g, original)], g => [Batched.Reshape(g, original)]);
    }

    /// <summary>Flattens all but the first dimension: [N, …] → [N, rest].</summary>
    public static Variable<T> Flatten<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rank < 1) throw Errors.BadShape("flatten", "input", a.Shape, "rank ≥ 1");
        return Reshape(a, a.Value.Dim(0), -1);
    }

    /// <summary>Sums over the axes along which <paramref name="shape"/> broadcasts to a's shape.</summary>
    public static Variable<T> SumTo<T>(Variable<T> a, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Shape.SequenceEqual(shape)) return a;
        var original = a.Value.ShapeArray;
        return a.Tape.Record(TensorOps.SumTo(a.Value, shape), [a], g => [BroadcastTo(g, original)], g => [Batched.BroadcastTo(g, original)]);
    }

    /// <summary>Repeats <paramref name="a"/> along broadcast axes to <paramref name="shape"/>.</summary>
    public static Variable<T> BroadcastTo<T>(Variable<T> a, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Shape.SequenceEqual(shape)) return a;
        var original = a.Value.ShapeArray;
        return a.Tape.Record(TensorOps.BroadcastTo(a.Value, shape), [a], g => [SumTo(g, original)], g => [Batched.ReduceTo(g, original)]);
    }

    // ---- reductions --------------------------------------------------------------------------

    /// <summary>Sum of all elements (a scalar).</summary>
    public static Variable<T> Sum<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        var original = a.Value.ShapeArray;
        return a.Tape.Record(Tensor<T>.Scalar(TensorOps.Sum(a.Value)), [a], g => [BroadcastTo(g, original)], g => [Batched.BroadcastTo(g, original)]);
    }

    /// <summary>Mean of all elements (a scalar).</summary>
    public static Variable<T> Mean<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Value.Length == 0) throw Errors.BadShape("mean", "input", a.Shape, "at least one element");
        return Scale(Sum(a), T.One / T.CreateChecked(a.Value.Length));
    }

    /// <summary>Frobenius inner product ⟨a, b⟩ = Σ a_ij b_ij (a scalar).</summary>
    public static Variable<T> Dot<T>(Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Same(a, b);
        if (!a.Value.SameShape(b.Value)) throw Errors.ShapeMismatch("dot", "left", a.Shape, "right", b.Shape, "shapes differ");
        return Sum(Multiply(a, b));
    }

    // ---- elementwise functions ---------------------------------------------------------------

    /// <summary>eᵃ elementwise.</summary>
    public static Variable<T> Exp<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        var value = Map(a.Value, static (x, d) => TensorPrimitives.Exp(x, d));
        Variable<T>? y = null;
        y = a.Tape.Record(value, [a], g => [Multiply(g, y!)], g => [Batched.Multiply(g, value)]);
        return y;
    }

    /// <summary>Natural logarithm elementwise.</summary>
    public static Variable<T> Log<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        var value = Map(a.Value, static (x, d) => TensorPrimitives.Log(x, d));
        return a.Tape.Record(value, [a], g => [Divide(g, a)], g => [TensorOps.Binary(BinaryOp.Divide, g, a.Value)]);
    }

    /// <summary>aᵖ elementwise for a constant exponent p.</summary>
    public static Variable<T> Pow<T>(Variable<T> a, T p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        if (p == T.One) return a;
        // a⁰ = 1 does not depend on a (the generic rule would give 0·a⁻¹ = NaN at a = 0).
        if (p == T.Zero) return a.Tape.Constant(Tensor<T>.Ones(a.Value.ShapeArray));
        Tensor<T> value;
        if (p == T.CreateChecked(2)) value = TensorOps.Binary(BinaryOp.Multiply, a.Value, a.Value);
        else value = Map(a.Value, (x, d) => TensorPrimitives.Pow(x, p, d));
        return a.Tape.Record(value, [a], g => [Multiply(g, Scale(Pow(a, p - T.One), p))], g =>
        {
            // p·a^(p−1) as a value.
            var pm1 = p - T.One;
            var d = pm1 == T.One ? a.Value : Map(a.Value, (x, dst) => TensorPrimitives.Pow(x, pm1, dst));
            return [Batched.Multiply(g, TensorOps.Binary(BinaryOp.Multiply, d, p))];
        });
    }

    /// <summary>a² elementwise.</summary>
    public static Variable<T> Square<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T> => Pow(a, T.CreateChecked(2));

    /// <summary>√a elementwise.</summary>
    public static Variable<T> Sqrt<T>(Variable<T> a) where T : unmanaged, IFloatingPointIeee754<T> => Pow(a, T.CreateChecked(0.5));

    /// <summary>
    /// Multiplies by a constant mask (gradient flows only through <paramref name="a"/>). The building
    /// block of piecewise-linear activations: their second derivative is zero almost everywhere.
    /// </summary>
    internal static Variable<T> MultiplyConstant<T>(Variable<T> a, Tensor<T> mask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = TensorOps.Binary(BinaryOp.Multiply, a.Value, mask);
        return a.Tape.Record(value, [a], g => [MultiplyConstant(g, mask)], g => [Batched.Multiply(g, mask)]);
    }

    // ---- helpers -----------------------------------------------------------------------------

    internal delegate void Kernel<T>(ReadOnlySpan<T> x, Span<T> destination);

    internal static Tensor<T> Map<T>(Tensor<T> a, Kernel<T> kernel) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = Tensor<T>.Zeros(a.ShapeArray);
        kernel(a.Data, r.Data);
        return r;
    }

    private static Variable<T> Reduce<T>(Variable<T> g, Variable<T> target) where T : unmanaged, IFloatingPointIeee754<T> =>
        g.Shape.SequenceEqual(target.Shape) ? g : SumTo(g, target.Value.ShapeArray);

    internal static Tape<T> Same<T>(Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (!ReferenceEquals(a.Tape, b.Tape)) throw Errors.Argument(nameof(b), $"an operation mixes variables of two tapes ({a}, {b})");
        return a.Tape;
    }
}
