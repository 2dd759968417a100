using System.Diagnostics;
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

/// <summary>
/// The families of hidden-layer activations σ of <c>F(X) = U σ(VX)</c>, with the linear symmetry group each admits
/// (Prop. 7). The first five are the elementwise nonlinearities an <see cref="Activation{T}"/> layer computes;
/// <see cref="Radial"/> and <see cref="Custom"/> exist only for the symmetry machinery's
/// <see cref="Symmetry.Activation"/>, which carries the function itself, and an <see cref="Activation{T}"/> layer rejects them.
/// </summary>
/// <remarks>Results store these by name (JSON, CSV); the integer values of the first five are those of earlier versions.</remarks>
public enum ActivationKind
{
    /// <summary>σ(z) = z: linear networks, symmetric under all of GL_h (Ex. 2).</summary>
    Identity,
    /// <summary>σ(z) = max(0, z): homogeneous of degree 1, symmetric under the positive diagonal scalings (Ex. 4).</summary>
    Relu,
    /// <summary>σ(z) = z for z &gt; 0, slope·z otherwise: homogeneous of degree 1, symmetric under the positive diagonal scalings (Ex. 4).</summary>
    LeakyRelu,
    /// <summary>σ(z) = 1 / (1 + e⁻ᶻ): no continuous linear symmetry.</summary>
    Sigmoid,
    /// <summary>σ(z) = tanh z: no continuous linear symmetry.</summary>
    Tanh,
    /// <summary>
    /// σ(z) = f(‖z‖) z on each column z ∈ ℝʰ: equivariant under O(h) (Ex. 5). Not elementwise; only
    /// <see cref="Symmetry.Activation.Radial"/> builds one (an <see cref="Activation{T}"/> layer cannot compute it).
    /// </summary>
    Radial,
    /// <summary>
    /// A user-given elementwise function; only <see cref="Symmetry.Activation.Elementwise"/> builds one (an
    /// <see cref="Activation{T}"/> layer has no function to compute).
    /// </summary>
    Custom,
}

/// <summary>An elementwise activation layer.</summary>
public sealed class Activation<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>An activation layer of the given kind; <paramref name="slope"/> is used by <see cref="ActivationKind.LeakyRelu"/> only.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not one of the five elementwise kinds
    /// (<see cref="ActivationKind.Radial"/> and <see cref="ActivationKind.Custom"/> have no fixed function to compute), or the slope is not finite.</exception>
    public Activation(ActivationKind kind, string name = "activation", double slope = 0.01) : base(name)
    {
        ActivationKinds.ThrowIfNotLayerKind(kind, nameof(kind));
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
            ActivationKind.Tanh => Ops.Tanh(z),
            _ => throw ActivationKinds.Unreachable(Kind),
        };
    }

    /// <inheritdoc/>
    protected override Variable<T> ForwardCore(Tape<T> tape, Variable<T> input) => Apply(input);
}

/// <summary>Checks shared by everything that computes σ from an <see cref="ActivationKind"/> alone (layers, <c>TwoLayerProblem</c>, experiments).</summary>
internal static class ActivationKinds
{
    /// <summary>What an error message says is expected.</summary>
    public const string LayerKinds = "Identity, Relu, LeakyRelu, Sigmoid or Tanh (Radial and Custom need a Noether.Symmetry.Activation, which carries the function)";

    /// <summary>True for the five kinds whose σ is fixed by the kind alone.</summary>
    public static bool IsLayerKind(ActivationKind kind) =>
        kind is ActivationKind.Identity or ActivationKind.Relu or ActivationKind.LeakyRelu or ActivationKind.Sigmoid or ActivationKind.Tanh;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming <paramref name="name"/> unless <see cref="IsLayerKind"/>.</summary>
    public static void ThrowIfNotLayerKind(ActivationKind kind, string name)
    {
        if (!IsLayerKind(kind)) throw Errors.OutOfRange(name, kind, LayerKinds);
    }

    /// <summary>For the default arm of a switch over a kind that <see cref="ThrowIfNotLayerKind"/> already admitted.</summary>
    public static UnreachableException Unreachable(ActivationKind kind) =>
        new($"σ of kind {kind} reached code that computes only the five elementwise kinds; it should have been rejected on input");
}
