using Noether.Autodiff;

namespace Noether.Nn;

/// <summary>Max-pooling over square windows (PyTorch's <c>nn.MaxPool2d</c> without padding); see <see cref="Ops.MaxPool2d{T}"/>.</summary>
public sealed class MaxPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A pooling layer with windows of <paramref name="kernelSize"/> moved by <paramref name="stride"/> (default: the kernel size).</summary>
    public MaxPool2d(int kernelSize, int? stride = null, string name = "pool") : base(name)
    {
        Errors.ThrowIfNotPositive(kernelSize, nameof(kernelSize));
        if (stride is { } s) Errors.ThrowIfNotPositive(s, nameof(stride));
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
    }

    /// <summary>Window side.</summary>
    public int KernelSize { get; }

    /// <summary>Step between windows.</summary>
    public int Stride { get; }

    /// <inheritdoc/>
    protected override Variable<T> ForwardCore(Tape<T> tape, Variable<T> input) => Ops.MaxPool2d(input, KernelSize, Stride);
}

/// <summary>Flattens all but the batch dimension: [N, …] → [N, rest] (PyTorch's <c>nn.Flatten</c>).</summary>
public sealed class Flatten<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A flattening layer.</summary>
    public Flatten(string name = "flatten") : base(name)
    {
    }

    /// <inheritdoc/>
    protected override Variable<T> ForwardCore(Tape<T> tape, Variable<T> input) => Ops.Flatten(input);
}

/// <summary>
/// An activation layer: the <see cref="Nn.Activation"/> σ applied to every entry (rows of a layer's input are samples, so a
/// radial σ, which acts on columns, is not a layer).
/// </summary>
public sealed class Activation<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A layer computing <paramref name="function"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="function"/> is radial, or a custom σ (a float64 tape function) in a layer of another type.</exception>
    public Activation(Nn.Activation function, string name = "activation") : base(name)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (!function.IsElementwise)
            throw Errors.Argument(nameof(function), $"activation layer: '{function.Name}' acts on the columns of a matrix, not on each entry; a layer needs an elementwise σ");
        if (function.Kind == ActivationKind.Custom && typeof(T) != typeof(double))
            throw Errors.Argument(nameof(function), $"activation layer: the custom σ '{function.Name}' is a float64 tape function; it cannot be a layer of {typeof(T).Name}");
        Function = function;
    }

    /// <summary>σ.</summary>
    public Nn.Activation Function { get; }

    /// <summary>σ's family.</summary>
    public ActivationKind Kind => Function.Kind;

    /// <summary>The negative-side slope of a leaky ReLU (0 for other kinds).</summary>
    public double Slope => Function.Slope;

    /// <summary>σ(z) = z.</summary>
    public static Activation<T> Identity(string name = "identity") => new(Nn.Activation.Identity, name);

    /// <summary>σ(z) = max(0, z).</summary>
    public static Activation<T> Relu(string name = "relu") => new(Nn.Activation.Relu, name);

    /// <summary>Leaky ReLU with the given negative-side slope (PyTorch's default is <see cref="Nn.Activation.PyTorchLeakySlope"/>).</summary>
    public static Activation<T> LeakyRelu(double slope, string name = "leaky_relu") => new(Nn.Activation.LeakyRelu(slope), name);

    /// <summary>The logistic sigmoid.</summary>
    public static Activation<T> Sigmoid(string name = "sigmoid") => new(Nn.Activation.Sigmoid, name);

    /// <summary>Hyperbolic tangent.</summary>
    public static Activation<T> Tanh(string name = "tanh") => new(Nn.Activation.Tanh, name);

    /// <summary>Applies σ elementwise (the same as <see cref="Module{T}.Forward"/> without the tape argument).</summary>
    public Variable<T> Apply(Variable<T> z) => Function.Apply(z);

    /// <inheritdoc/>
    protected override Variable<T> ForwardCore(Tape<T> tape, Variable<T> input) => Function.Apply(input);
}
