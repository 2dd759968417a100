using Noether.Autodiff;

namespace Noether.Nn;

/// <summary>
/// Layers applied one after another. Its parameters are its layers' parameters in layer order; names are the
/// layers' own ("0.weight" when the layer is called "0", as PyTorch's <c>nn.Sequential</c> names them).
/// </summary>
public class Sequential<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Module<T>[] _layers;
    private readonly Parameter<T>[] _parameters;

    /// <summary>A sequence of <paramref name="layers"/> called "sequential".</summary>
    public Sequential(params Module<T>[] layers) : this("sequential", layers)
    {
    }

    /// <summary>A sequence of <paramref name="layers"/>; layer names and parameter names must be unique.</summary>
    public Sequential(string name, params Module<T>[] layers) : base(name)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0) throw Errors.Argument(nameof(layers), "sequential: at least one layer is needed");
        var layerNames = new HashSet<string>();
        var parameterNames = new HashSet<string>();
        var parameters = new List<Parameter<T>>();
        for (int i = 0; i < layers.Length; i++)
        {
            var layer = layers[i] ?? throw Errors.Null($"{nameof(layers)}[{i}]");
            if (!layerNames.Add(layer.Name))
                throw Errors.Argument(nameof(layers), $"sequential '{name}': two layers are called '{layer.Name}' (layer {i}); give each a unique name");
            foreach (var p in layer.Parameters)
            {
                if (!parameterNames.Add(p.Name))
                    throw Errors.Argument(nameof(layers), $"sequential '{name}': parameter name '{p.Name}' occurs twice (layer {i}, '{layer.Name}')");
                parameters.Add(p);
            }
        }
        _layers = (Module<T>[])layers.Clone();
        _parameters = [.. parameters];
    }

    /// <summary>The layers in order.</summary>
    public IReadOnlyList<Module<T>> Layers => _layers;

    /// <summary>The layer called <paramref name="name"/>.</summary>
    public Module<T> this[string name] =>
        Array.Find(_layers, l => l.Name == name) ?? throw new KeyNotFoundException($"sequential '{Name}' has no layer called '{name}'");

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc/>
    /// <remarks>
    /// A <see cref="Conv2d{T}"/> directly followed by a <see cref="MaxPool2d{T}"/> runs as one fused op
    /// (<see cref="Ops.Conv2dMaxPool2d{T}"/>): the same values and gradients without materialising the convolution's
    /// output.
    /// </remarks>
    protected override Variable<T> ForwardCore(Tape<T> tape, Variable<T> input)
    {
        var x = input;
        for (int i = 0; i < _layers.Length; i++)
        {
            if (_layers[i] is Conv2d<T> conv && i + 1 < _layers.Length && _layers[i + 1] is MaxPool2d<T> pool)
            {
                x = conv.ForwardPooled(tape, x, pool);
                i++;
            }
            else x = _layers[i].Forward(tape, x);
        }
        return x;
    }
}
