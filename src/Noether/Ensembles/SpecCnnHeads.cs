using System.Numerics;
using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Ensembles;

/// <summary>
/// A SPEC CNN seen as a shared trunk x ↦ H = f(x)Vᵀ + b (conv → pool → flatten → hidden linear, rows are samples)
/// followed by N heads H ↦ σ(H Aᵢᵀ) Uᵢᵀ + c. All heads run as two matrix products on the stacked [B, N·h] hidden
/// layer, so an N-member ensemble costs one trunk pass plus O(B·N·h·(h + classes)) — the trunk dominates.
/// </summary>
/// <remarks>
/// Row convention: for a batch the model computes H_row = f Vᵀ + 1 bᵀ (B × h), the transpose of the paper's
/// H = V fᵀ + b 1ᵀ (h × B). A member with hidden weight A V and hidden bias A b has H_row Aᵀ as its pre-activation,
/// which is why the trunk is shared. Weights are held as tape constants, so a backward pass computes only the
/// input gradient (no weight gradients are formed).
/// </remarks>
internal sealed class SpecCnnHeads<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> _convWeight;
    private readonly Tensor<T>? _convBias;
    private readonly Tensor<T> _hiddenWeight;
    private readonly Tensor<T>? _hiddenBias;
    private readonly int _stride, _padding, _poolKernel, _poolStride;
    private readonly Activation<T> _activation;
    private readonly Tensor<T>? _transforms;     // [N·h, h] stacked Aᵢ, or null when every Aᵢ = I and N = 1
    private readonly Tensor<T> _outputBlocks;    // [N·h, N·C] block diagonal of Uᵢᵀ
    private readonly Tensor<T> _outputBias;      // [N·C]: c repeated
    private readonly Tensor<T> _averaging;       // [N·C, C]: (1/N)[I; …; I]

    /// <summary>Heads (Aᵢ, Uᵢ) on the trunk of <paramref name="model"/> (trunk weights copied); null transforms mean one head (I, U).</summary>
    public SpecCnnHeads(SpecCnn<T> model, IReadOnlyList<(Tensor<double> A, Tensor<double> U)>? heads)
    {
        InChannels = model.InChannels;
        ImageSize = model.ImageSize;
        Hidden = model.Hidden.OutFeatures;
        Classes = model.Output.OutFeatures;
        _convWeight = model.Conv.Weight.Value.Clone();
        _convBias = model.Conv.Bias?.Value.Clone();
        _stride = model.Conv.Stride;
        _padding = model.Conv.Padding;
        var pool = (MaxPool2d<T>)model.Layers[1];
        _poolKernel = pool.KernelSize;
        _poolStride = pool.Stride;
        _hiddenWeight = model.Hidden.Weight.Value.Clone();
        _hiddenBias = model.Hidden.Bias?.Value.Clone();
        _activation = model.Activation;
        var outputBias = model.Output.Bias?.Value ?? Tensor<T>.Zeros(Classes);

        int h = Hidden, c = Classes;
        if (heads is null)
        {
            Count = 1;
            _outputBlocks = TensorOps.Transpose(model.Output.Weight.Value);
        }
        else
        {
            Count = heads.Count;
            _transforms = Tensor<T>.Zeros(Count * h, h);
            _outputBlocks = Tensor<T>.Zeros(Count * h, Count * c);
            int width = Count * c;
            for (int m = 0; m < Count; m++)
            {
                var (a, u) = heads[m];
                for (int i = 0; i < h * h; i++) _transforms.Data[m * h * h + i] = T.CreateTruncating(a.Data[i]);
                // Block m of the block diagonal holds Uₘᵀ: rows m·h … m·h + h − 1, columns m·C … m·C + C − 1.
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < c; j++)
                        _outputBlocks.Data[(m * h + i) * width + m * c + j] = T.CreateTruncating(u.Data[j * h + i]);
            }
        }
        _outputBias = Tensor<T>.Zeros(Count * c);
        for (int m = 0; m < Count; m++) outputBias.Data.AsSpan().CopyTo(_outputBias.Data.AsSpan(m * c, c));
        _averaging = Tensor<T>.Zeros(Count * c, c);
        T share = T.One / T.CreateChecked(Count);
        for (int m = 0; m < Count; m++)
            for (int j = 0; j < c; j++) _averaging.Data[(m * c + j) * c + j] = share;
    }

    public int InChannels { get; }

    public int ImageSize { get; }

    public int Hidden { get; }

    public int Classes { get; }

    /// <summary>Number of heads N.</summary>
    public int Count { get; }

    /// <summary>The hidden pre-activation H = f(x)Vᵀ + b, [B, h].</summary>
    public Variable<T> HiddenPreActivation(Tape<T> tape, Variable<T> inputs)
    {
        var pooled = Ops.Conv2dMaxPool2d(inputs, tape.Constant(_convWeight), _convBias is null ? null : tape.Constant(_convBias),
            _stride, _padding, _poolKernel, _poolStride);
        var hidden = Ops.MatMul(Ops.Flatten(pooled), tape.Constant(_hiddenWeight), transposeB: true);
        return _hiddenBias is null ? hidden : Ops.Add(hidden, tape.Constant(_hiddenBias));
    }

    /// <summary>All heads' logits from the hidden pre-activation: [B, N·C], head m in columns m·C … m·C + C − 1.</summary>
    public Variable<T> Logits(Tape<T> tape, Variable<T> hidden)
    {
        var z = _transforms is null ? hidden : Ops.MatMul(hidden, tape.Constant(_transforms), transposeB: true);
        return Ops.Add(Ops.MatMul(_activation.Apply(z), tape.Constant(_outputBlocks)), tape.Constant(_outputBias));
    }

    /// <summary>The mean over heads of the logits, [B, C].</summary>
    public Variable<T> AverageLogits(Tape<T> tape, Variable<T> logits) =>
        Count == 1 ? logits : Ops.MatMul(logits, tape.Constant(_averaging));

    /// <summary>
    /// log of the mean over heads of the softmax probabilities, [B, C] (plus 1e-30 inside the log so that a class every
    /// head gives probability 0 stays finite). Cross-entropy on these "logits" is −log p̄[y]: the loss of the
    /// mean-softmax prediction rule.
    /// </summary>
    public Variable<T> LogMeanSoftmax(Tape<T> tape, Variable<T> logits)
    {
        int b = logits.Value.Dim(0);
        var probabilities = Ops.Reshape(Ops.Softmax(Ops.Reshape(logits, b * Count, Classes)), b, Count * Classes);
        var mean = Count == 1 ? probabilities : Ops.MatMul(probabilities, tape.Constant(_averaging));
        return Ops.Log(Ops.AddScalar(mean, T.CreateChecked(1e-30)));
    }

    /// <summary>Throws unless <paramref name="inputs"/> is [B, C, S, S] with the model's channels and image side.</summary>
    public void CheckInputs(Tensor<T> inputs, string name)
    {
        ArgumentNullException.ThrowIfNull(inputs, name);
        if (inputs.Rank != 4 || inputs.Dim(0) < 1 || inputs.Dim(1) != InChannels || inputs.Dim(2) != ImageSize || inputs.Dim(3) != ImageSize)
            throw Errors.BadShape("ensemble", name, inputs.Shape, $"a batch of images [B, {InChannels}, {ImageSize}, {ImageSize}] (B ≥ 1) as the model expects");
    }
}
