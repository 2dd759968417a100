using System.Numerics;
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

/// <summary>The elementwise nonlinearities σ of the paper's networks.</summary>
public enum ActivationKind
{
    /// <summary>σ(z) = z (linear networks; group GL_h).</summary>
    Identity,
    /// <summary>σ(z) = max(0, z) (group: positive diagonal scalings).</summary>
    Relu,
    /// <summary>σ(z) = z for z &gt; 0, slope·z otherwise (group: positive diagonal scalings).</summary>
    LeakyRelu,
    /// <summary>σ(z) = 1 / (1 + e⁻ᶻ).</summary>
    Sigmoid,
    /// <summary>σ(z) = tanh z.</summary>
    Tanh,
}

/// <summary>An elementwise activation layer.</summary>
public sealed class Activation<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>An activation layer of the given kind; <paramref name="slope"/> is used by <see cref="ActivationKind.LeakyRelu"/> only.</summary>
    public Activation(ActivationKind kind, string name = "activation", double slope = 0.01) : base(name)
    {
        if (!Enum.IsDefined(kind)) throw Errors.OutOfRange(nameof(kind), kind, "a defined ActivationKind");
        if (!double.IsFinite(slope)) throw Errors.OutOfRange(nameof(slope), slope, "a finite slope");
        Kind = kind;
        Slope = kind == ActivationKind.LeakyRelu ? slope : 0;
    }

    /// <summary>Which nonlinearity.</summary>
    public ActivationKind Kind { get; }

    /// <summary>The negative-side slope of a leaky ReLU (0 for other kinds).</summary>
    public double Slope { get; }

    /// <summary>σ(z) = z.</summary>
    public static Activation<T> Identity(string name = "identity") => new(ActivationKind.Identity, name);

    /// <summary>σ(z) = max(0, z).</summary>
    public static Activation<T> Relu(string name = "relu") => new(ActivationKind.Relu, name);

    /// <summary>Leaky ReLU with the given negative-side slope (PyTorch's default is 0.01).</summary>
    public static Activation<T> LeakyRelu(double slope = 0.01, string name = "leaky_relu") => new(ActivationKind.LeakyRelu, name, slope);

    /// <summary>The logistic sigmoid.</summary>
    public static Activation<T> Sigmoid(string name = "sigmoid") => new(ActivationKind.Sigmoid, name);

    /// <summary>Hyperbolic tangent.</summary>
    public static Activation<T> Tanh(string name = "tanh") => new(ActivationKind.Tanh, name);

    /// <summary>Applies σ elementwise (the same as <see cref="Module{T}.Forward"/> without the tape argument).</summary>
    public Variable<T> Apply(Variable<T> z)
    {
        ArgumentNullException.ThrowIfNull(z);
        return Kind switch
        {
            ActivationKind.Identity => z,
            ActivationKind.Relu => Ops.Relu(z),
            ActivationKind.LeakyRelu => Ops.LeakyRelu(z, T.CreateChecked(Slope)),
            ActivationKind.Sigmoid => Ops.Sigmoid(z),
            _ => Ops.Tanh(z),
        };
    }

    /// <inheritdoc/>
    protected override Variable<T> ForwardCore(Tape<T> tape, Variable<T> input) => Apply(input);
}
