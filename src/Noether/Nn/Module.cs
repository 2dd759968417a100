using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Nn;

/// <summary>
/// A piece of a model: a differentiable map from one tensor to another with named, ordered parameters.
/// Parameters are registered explicitly (no reflection) in a fixed order, so a model flattens to one vector
/// the same way every time (<see cref="ParameterVector"/>).
/// </summary>
/// <remarks>
/// A module holds no per-step state: <see cref="Forward"/> records onto the tape it is given, binding each
/// <see cref="Parameter{T}"/> to a leaf of that tape, so one model can be run on a fresh tape every step.
/// </remarks>
public abstract class Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a module called <paramref name="name"/>.</summary>
    protected Module(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>
    /// The module's name; it prefixes its parameters' names ("fc1" → "fc1.weight"). Inside a <see cref="Sequential{T}"/>
    /// that mirrors a PyTorch <c>nn.Sequential</c>, name layers by their index ("0", "1", …) so parameter names match
    /// PyTorch's <c>state_dict</c> keys.
    /// </summary>
    public string Name { get; }

    /// <summary>The trainable parameters in registration order (empty for parameter-free layers).</summary>
    public virtual IReadOnlyList<Parameter<T>> Parameters => [];

    /// <summary>Total number of scalars in <see cref="Parameters"/>.</summary>
    public int ParameterCount
    {
        get
        {
            int count = 0;
            foreach (var p in Parameters) count += p.Length;
            return count;
        }
    }

    /// <summary>Applies the module to <paramref name="input"/>, recording onto <paramref name="tape"/>.</summary>
    /// <param name="tape">The tape the input belongs to; parameters are bound to it.</param>
    /// <param name="input">A batch, first dimension N.</param>
    public Variable<T> Forward(Tape<T> tape, Variable<T> input)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(input);
        if (!ReferenceEquals(input.Tape, tape)) throw Errors.Argument(nameof(input), $"{Name}: the input belongs to another tape");
        return ForwardCore(tape, input);
    }

    /// <summary>The output for a batch without recording gradients (inference).</summary>
    public Tensor<T> Predict(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var tape = new Tape<T>();
        using (tape.Pause()) return Forward(tape, tape.Constant(input)).Value;
    }

    /// <summary>The layer's computation; <paramref name="input"/> is known to belong to <paramref name="tape"/>.</summary>
    protected abstract Variable<T> ForwardCore(Tape<T> tape, Variable<T> input);

    /// <inheritdoc/>
    public override string ToString() => $"{GetType().Name.Split('`')[0]} {Name}";
}
