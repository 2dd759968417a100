using System.Numerics;
using Noether.Nn;

namespace Noether.Ensembles;

/// <summary>Copies of a SPEC CNN in another (or the same) precision.</summary>
public static class SpecCnnCopy
{
    /// <summary>
    /// A new SPEC CNN of the same architecture holding <paramref name="model"/>'s weights converted to
    /// <typeparamref name="TTo"/> (float32 → float64 is exact), e.g. for float64 checks of a float32 model.
    /// </summary>
    public static SpecCnn<TTo> Convert<TFrom, TTo>(SpecCnn<TFrom> model)
        where TFrom : unmanaged, IFloatingPointIeee754<TFrom>
        where TTo : unmanaged, IFloatingPointIeee754<TTo>
    {
        ArgumentNullException.ThrowIfNull(model);
        // The initial draw is overwritten below; the generator only satisfies the constructor.
        var copy = Models.SpecCnn<TTo>(new Random(0), model.InChannels, model.ImageSize, model.Output.OutFeatures,
            model.Conv.OutChannels, model.Hidden.OutFeatures, model.Activation.Slope);
        var source = model.Parameters;
        var target = copy.Parameters;
        if (source.Count != target.Count)
            throw new ArgumentException($"SPEC CNN copy: the model has {source.Count} parameter tensors, the architecture {target.Count}", nameof(model));
        for (int i = 0; i < source.Count; i++)
        {
            if (source[i].Name != target[i].Name || !source[i].Value.Shape.SequenceEqual(target[i].Value.Shape))
                throw new ArgumentException($"SPEC CNN copy: parameter {i} is {source[i]}, the architecture expects {target[i]}", nameof(model));
            target[i].Value.CopyFrom(source[i].Value.Cast<TTo>());
        }
        return copy;
    }
}
