using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Nn;

/// <summary>A 2-D convolution layer (PyTorch's <c>nn.Conv2d</c> with square kernels): weight [O, C, k, k], bias [O].</summary>
public sealed class Conv2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;

    /// <summary>
    /// A layer initialised as PyTorch's: Kaiming-uniform with a = √5, i.e. weight and bias ~ U(−1/√fanIn, 1/√fanIn)
    /// with fanIn = C·k·k.
    /// </summary>
    /// <param name="inChannels">Input channels C ≥ 1.</param>
    /// <param name="outChannels">Output channels O ≥ 1.</param>
    /// <param name="kernelSize">Kernel side k ≥ 1.</param>
    /// <param name="stride">Step between windows, ≥ 1.</param>
    /// <param name="padding">Zeros added on each side, ≥ 0 (k odd, stride 1, padding (k−1)/2 keeps the size).</param>
    /// <param name="bias">Whether the layer adds a per-channel bias.</param>
    /// <param name="rng">The seeded generator the initial values are drawn from.</param>
    /// <param name="name">Prefix of the parameter names.</param>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding, bool bias, Random rng, string name = "conv")
        : base(name)
    {
        Errors.ThrowIfNotPositive(inChannels, nameof(inChannels));
        Errors.ThrowIfNotPositive(outChannels, nameof(outChannels));
        Errors.ThrowIfNotPositive(kernelSize, nameof(kernelSize));
        Errors.ThrowIfNotPositive(stride, nameof(stride));
        if (padding < 0) throw Errors.OutOfRange(nameof(padding), padding, "a non-negative padding");
        ArgumentNullException.ThrowIfNull(rng);
        Stride = stride;
        Padding = padding;
        var w = Tensor<T>.Zeros(outChannels, inChannels, kernelSize, kernelSize);
        Init.KaimingUniformDefault(w, rng);
        Weight = new Parameter<T>($"{name}.weight", w);
        if (bias)
        {
            var b = Tensor<T>.Zeros(outChannels);
            double bound = 1 / Math.Sqrt(inChannels * kernelSize * kernelSize);
            Init.Uniform(b, -bound, bound, rng);
            Bias = new Parameter<T>($"{name}.bias", b);
        }
        _parameters = Bias is null ? [Weight] : [Weight, Bias];
    }

    /// <summary>The filters [O, C, k, k].</summary>
    public Parameter<T> Weight { get; }

    /// <summary>The per-channel bias [O], or null.</summary>
    public Parameter<T>? Bias { get; }

    /// <summary>Input channels C.</summary>
    public int InChannels => Weight.Value.Dim(1);

    /// <summary>Output channels O.</summary>
    public int OutChannels => Weight.Value.Dim(0);

    /// <summary>Kernel side k.</summary>
    public int KernelSize => Weight.Value.Dim(2);

    /// <summary>Step between windows.</summary>
    public int Stride { get; }

    /// <summary>Zeros added on each side.</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc/>
    protected override Variable<T> ForwardCore(Tape<T> tape, Variable<T> input) =>
        Ops.Conv2d(input, tape.Bind(Weight), Bias is null ? null : tape.Bind(Bias), Stride, Padding);

    /// <summary>This layer followed by <paramref name="pool"/>, fused.</summary>
    internal Variable<T> ForwardPooled(Tape<T> tape, Variable<T> input, MaxPool2d<T> pool)
    {
        if (!ReferenceEquals(input.Tape, tape)) throw Errors.Argument(nameof(input), $"{Name}: the input belongs to another tape");
        return Ops.Conv2dMaxPool2d(input, tape.Bind(Weight), Bias is null ? null : tape.Bind(Bias), Stride, Padding, pool.KernelSize, pool.Stride);
    }
}
