using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Nn;

/// <summary>
/// A fully connected layer in PyTorch's layout: weight [out, in], input [N, in], y = x·Wᵀ + b. In the paper's
/// column convention (F(X) = U σ(V X), samples as columns) the weight is the matrix U or V itself.
/// </summary>
public sealed class Linear<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;

    /// <summary>
    /// A layer initialised as PyTorch's <c>nn.Linear</c>: Kaiming-uniform with a = √5, i.e. weight and bias
    /// ~ U(−1/√in, 1/√in).
    /// </summary>
    /// <param name="inFeatures">Input width, ≥ 1.</param>
    /// <param name="outFeatures">Output width, ≥ 1.</param>
    /// <param name="bias">Whether the layer adds a bias.</param>
    /// <param name="rng">The seeded generator the initial values are drawn from.</param>
    /// <param name="name">Prefix of the parameter names ("linear" → "linear.weight").</param>
    public Linear(int inFeatures, int outFeatures, bool bias, Random rng, string name = "linear")
        : this(InitialWeight(inFeatures, outFeatures, rng), bias ? InitialBias(inFeatures, outFeatures, rng) : null, name)
    {
    }

    /// <summary>A layer holding the given weight [out, in] and optional bias [out] (used, not copied).</summary>
    public Linear(Tensor<T> weight, Tensor<T>? bias, string name = "linear") : base(name)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2 || weight.Length == 0)
            throw Errors.BadShape("linear", nameof(weight), weight.Shape, "a non-empty matrix [out features, in features]");
        if (bias is not null && !bias.HasShape(weight.Dim(0)))
            throw Errors.ShapeMismatch("linear", nameof(bias), bias.Shape, nameof(weight), weight.Shape, $"bias must be [{weight.Dim(0)}]");
        Weight = new Parameter<T>($"{name}.weight", weight);
        Bias = bias is null ? null : new Parameter<T>($"{name}.bias", bias);
        _parameters = Bias is null ? [Weight] : [Weight, Bias];
    }

    /// <summary>Input width.</summary>
    public int InFeatures => Weight.Value.Dim(1);

    /// <summary>Output width.</summary>
    public int OutFeatures => Weight.Value.Dim(0);

    /// <summary>The weight [out, in].</summary>
    public Parameter<T> Weight { get; }

    /// <summary>The bias [out], or null.</summary>
    public Parameter<T>? Bias { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc/>
    protected override Variable<T> ForwardCore(Tape<T> tape, Variable<T> input)
    {
        if (input.Rank != 2 || input.Value.Dim(1) != InFeatures)
            throw Errors.ShapeMismatch($"linear '{Name}'", nameof(input), input.Shape, "weight", Weight.Value.Shape,
                $"expected input [N, {InFeatures}]");
        var y = Ops.MatMul(input, tape.Bind(Weight), transposeB: true);
        return Bias is null ? y : Ops.Add(y, tape.Bind(Bias));
    }

    private static Tensor<T> InitialWeight(int inFeatures, int outFeatures, Random rng)
    {
        Errors.ThrowIfNotPositive(inFeatures, nameof(inFeatures));
        Errors.ThrowIfNotPositive(outFeatures, nameof(outFeatures));
        ArgumentNullException.ThrowIfNull(rng);
        var w = Tensor<T>.Zeros(outFeatures, inFeatures);
        Init.KaimingUniformDefault(w, rng);
        return w;
    }

    private static Tensor<T> InitialBias(int inFeatures, int outFeatures, Random rng)
    {
        var b = Tensor<T>.Zeros(outFeatures);
        double bound = 1 / Math.Sqrt(inFeatures);
        Init.Uniform(b, -bound, bound, rng);
        return b;
    }
}
