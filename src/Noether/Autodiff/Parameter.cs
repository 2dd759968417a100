using Noether.Tensors;

namespace Noether.Autodiff;

/// <summary>
/// A named trainable tensor. Each tape binds it to one leaf variable (<see cref="Tape{T}.Bind"/>), so a
/// model can be run on a fresh tape every step while optimisers update <see cref="Value"/> in place.
/// </summary>
public sealed class Parameter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a parameter holding <paramref name="value"/> (not copied).</summary>
    public Parameter(string name, Tensor<T> value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        Name = name;
        Value = value;
    }

    /// <summary>The parameter's name, unique within its model (e.g. "fc1.weight").</summary>
    public string Name { get; }

    /// <summary>The current value, updated in place by optimisers.</summary>
    public Tensor<T> Value { get; }

    /// <summary>Number of scalars.</summary>
    public int Length => Value.Length;

    /// <inheritdoc/>
    public override string ToString() => $"{Name} [{Errors.Shape(Value.Shape)}]";
}
