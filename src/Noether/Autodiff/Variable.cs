using Noether.Tensors;

namespace Noether.Autodiff;

/// <summary>
/// Gives the gradient of each parent from the gradient of the node's output. Written with
/// <see cref="Variable{T}"/> operations so that, recorded on the tape, it can be differentiated again
/// (double backward: exact Hessian-vector products). Returns null for a parent that needs no gradient.
/// </summary>
internal delegate Variable<T>?[] BackwardRule<T>(Variable<T> outputGradient) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// The same vector-Jacobian product for a batch of B output gradients at once, on raw tensors: the argument has
/// shape [B, …output shape], each result [B, …parent shape] (null for a parent that needs no gradient). Used for
/// first-order passes over many directions (the columns of a full Hessian): one large kernel call per node
/// instead of B small ones. Not recorded, so never differentiated again.
/// </summary>
internal delegate Tensor<T>?[] BatchedBackwardRule<T>(Tensor<T> outputGradients) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// A node of a <see cref="Tape{T}"/>: a tensor value and, when it depends on something that needs a
/// gradient, the rule that carries gradients back to its parents.
/// </summary>
public sealed class Variable<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    internal Variable(Tape<T> tape, Tensor<T> value, bool requiresGrad, Variable<T>[]? parents, BackwardRule<T>? backward, string? name,
        BatchedBackwardRule<T>? batchedBackward = null)
    {
        (Tape, Value, RequiresGrad, Parents, Backward, BatchedBackward, Name) = (tape, value, requiresGrad, parents, backward, batchedBackward, name);
    }

    /// <summary>The tape this variable belongs to.</summary>
    public Tape<T> Tape { get; }

    /// <summary>The value (do not modify it while the tape may still differentiate through it).</summary>
    public Tensor<T> Value { get; }

    /// <summary>True when this variable depends on a leaf that needs a gradient.</summary>
    public bool RequiresGrad { get; }

    /// <summary>Optional name, used in error messages.</summary>
    public string? Name { get; }

    /// <summary>The shape of <see cref="Value"/>.</summary>
    public ReadOnlySpan<int> Shape => Value.Shape;

    /// <summary>The rank of <see cref="Value"/>.</summary>
    public int Rank => Value.Rank;

    internal Variable<T>[]? Parents { get; }

    internal BackwardRule<T>? Backward { get; }

    /// <summary>The batched rule, when the op has one (see <see cref="BatchedBackwardRule{T}"/>).</summary>
    internal BatchedBackwardRule<T>? BatchedBackward { get; }

    /// <summary>Position on the tape, or −1 for a constant.</summary>
    internal int Index { get; set; } = -1;

    /// <summary>The tape generation in which this node was recorded.</summary>
    internal int Generation { get; set; }

    /// <inheritdoc/>
    public override string ToString() => $"Variable[{Errors.Shape(Shape)}]{(Name is null ? "" : " " + Name)}{(RequiresGrad ? " (grad)" : "")}";

    /// <summary>Elementwise sum with broadcasting.</summary>
    public static Variable<T> operator +(Variable<T> a, Variable<T> b) => Ops.Add(a, b);
    /// <summary>Elementwise difference with broadcasting.</summary>
    public static Variable<T> operator -(Variable<T> a, Variable<T> b) => Ops.Subtract(a, b);
    /// <summary>Elementwise product with broadcasting.</summary>
    public static Variable<T> operator *(Variable<T> a, Variable<T> b) => Ops.Multiply(a, b);
    /// <summary>Elementwise quotient with broadcasting.</summary>
    public static Variable<T> operator /(Variable<T> a, Variable<T> b) => Ops.Divide(a, b);
    /// <summary>Adds a scalar.</summary>
    public static Variable<T> operator +(Variable<T> a, T s) => Ops.AddScalar(a, s);
    /// <summary>Adds a scalar.</summary>
    public static Variable<T> operator +(T s, Variable<T> a) => Ops.AddScalar(a, s);
    /// <summary>Subtracts a scalar.</summary>
    public static Variable<T> operator -(Variable<T> a, T s) => Ops.AddScalar(a, -s);
    /// <summary>A scalar minus a variable.</summary>
    public static Variable<T> operator -(T s, Variable<T> a) => Ops.AddScalar(Ops.Scale(a, -T.One), s);
    /// <summary>Multiplies by a scalar.</summary>
    public static Variable<T> operator *(Variable<T> a, T s) => Ops.Scale(a, s);
    /// <summary>Multiplies by a scalar.</summary>
    public static Variable<T> operator *(T s, Variable<T> a) => Ops.Scale(a, s);
    /// <summary>Divides by a scalar.</summary>
    public static Variable<T> operator /(Variable<T> a, T s) => Ops.Scale(a, T.One / s);
    /// <summary>A scalar divided elementwise by a variable.</summary>
    public static Variable<T> operator /(T s, Variable<T> a) => Ops.Scale(Ops.Reciprocal(a), s);
    /// <summary>Negation.</summary>
    public static Variable<T> operator -(Variable<T> a) => Ops.Scale(a, -T.One);
}
