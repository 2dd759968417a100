using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Nn;

/// <summary>
/// A parameter list seen as one vector θ: the tensors' elements concatenated in registration order, each
/// tensor row-major. Used for Hessians, group actions and saving.
/// </summary>
public static class ParameterVector
{
    /// <summary>Total number of scalars.</summary>
    public static int Count<T>(IReadOnlyList<Parameter<T>> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        long count = 0;
        foreach (var p in parameters) count += p.Length;
        return checked((int)count);
    }

    /// <summary>θ as a new array.</summary>
    public static T[] Flatten<T>(IReadOnlyList<Parameter<T>> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var result = new T[Count(parameters)];
        int offset = 0;
        foreach (var p in parameters)
        {
            p.Value.Data.CopyTo(result, offset);
            offset += p.Length;
        }
        return result;
    }

    /// <summary>The tensors' elements concatenated (e.g. gradients aligned with a parameter list).</summary>
    public static T[] Flatten<T>(IReadOnlyList<Tensor<T>> tensors) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensors);
        long count = 0;
        foreach (var t in tensors) count += t.Length;
        var result = new T[checked((int)count)];
        int offset = 0;
        foreach (var t in tensors)
        {
            t.Data.CopyTo(result, offset);
            offset += t.Length;
        }
        return result;
    }

    /// <summary>Copies <paramref name="vector"/> into the parameters (in place); its length must be <see cref="Count{T}"/>.</summary>
    public static void Assign<T>(IReadOnlyList<Parameter<T>> parameters, ReadOnlySpan<T> vector) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = Count(parameters);
        if (vector.Length != count)
            throw Errors.Argument(nameof(vector), $"parameter vector: {vector.Length} values for {parameters.Count} parameters holding {count} scalars");
        int offset = 0;
        foreach (var p in parameters)
        {
            vector.Slice(offset, p.Length).CopyTo(p.Value.Data);
            offset += p.Length;
        }
    }

    /// <summary>Copies each tensor into the parameter at the same position; shapes must match one for one.</summary>
    public static void Assign<T>(IReadOnlyList<Parameter<T>> parameters, IReadOnlyList<Tensor<T>> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != parameters.Count)
            throw Errors.Argument(nameof(values), $"parameter vector: {values.Count} tensors for {parameters.Count} parameters");
        for (int i = 0; i < values.Count; i++)
            if (!values[i].SameShape(parameters[i].Value))
                throw Errors.ShapeMismatch("parameter vector", $"values[{i}]", values[i].Shape, parameters[i].Name, parameters[i].Value.Shape, "shapes differ");
        for (int i = 0; i < values.Count; i++) parameters[i].Value.CopyFrom(values[i]);
    }

    /// <summary>Splits <paramref name="vector"/> into new tensors shaped like <paramref name="parameters"/>.</summary>
    public static Tensor<T>[] Unflatten<T>(ReadOnlySpan<T> vector, IReadOnlyList<Parameter<T>> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = Count(parameters);
        if (vector.Length != count)
            throw Errors.Argument(nameof(vector), $"parameter vector: {vector.Length} values for {parameters.Count} parameters holding {count} scalars");
        var result = new Tensor<T>[parameters.Count];
        int offset = 0;
        for (int i = 0; i < result.Length; i++)
        {
            var p = parameters[i];
            result[i] = new Tensor<T>(vector.Slice(offset, p.Length).ToArray(), p.Value.ShapeArray);
            offset += p.Length;
        }
        return result;
    }
}
