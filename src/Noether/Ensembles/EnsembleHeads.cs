using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Ensembles;

/// <summary>
/// A <see cref="HeadedModel{T}"/> seen as a shared trunk x ↦ H = f(x)Vᵀ + b (its features, then the hidden linear layer;
/// rows are samples)
/// followed by N heads H ↦ σ(H Aᵢᵀ) Uᵢᵀ + c. The heads run in chunks of <see cref="MembersPerChunk"/> members: per chunk,
/// two matrix products on the stacked [B, k·h] hidden layer (a k-block diagonal of Uᵢᵀ), so an N-member ensemble costs one
/// trunk pass plus O(B·N·h·(h + k·classes)) and never holds a [B, N·h] tensor or an [N·h, N·classes] matrix.
/// </summary>
/// <remarks>
/// Row convention: for a batch the model computes H_row = f Vᵀ + 1 bᵀ (B × h), the transpose of the paper's
/// H = V fᵀ + b 1ᵀ (h × B). A member with hidden weight A V and hidden bias A b has H_row Aᵀ as its pre-activation,
/// which is why the trunk is shared. Weights are held as tape constants, so a backward pass computes only the
/// input gradient (no weight gradients are formed).
/// <para>Memory: a dense block diagonal of all N heads is [N·h, N·C] (51 MB per ensemble for N = 200, h = 32, C = 10,
/// float32) and a graph through all heads holds several [B, N·h] tensors; the chunks bound both by k instead of N.</para>
/// </remarks>
internal sealed class EnsembleHeads<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Members per chunk unless a test asks for another size: the block diagonal's wasted work grows with k,
    /// the per-operation overhead with N/k; 8 balances the two for h = 32.</summary>
    internal const int DefaultMembersPerChunk = 8;

    private readonly HeadedModel<T> _model;
    private readonly Tensor<T> _hiddenWeight;
    private readonly Tensor<T>? _hiddenBias;
    private readonly Activation<T> _activation;
    private readonly HeadChunk[] _chunks;

    /// <summary>Heads First … First + Count − 1.</summary>
    /// <param name="First">Index of the chunk's first head.</param>
    /// <param name="Count">Heads k in the chunk.</param>
    /// <param name="Transforms">[k·h, h] stacked Aᵢ, or null for the model's own single head (A = I).</param>
    /// <param name="OutputBlocks">[k·h, k·C] block diagonal of Uᵢᵀ.</param>
    /// <param name="OutputBias">[k·C]: c repeated.</param>
    /// <param name="Averaging">[k·C, C]: (1/N)[I; …; I] — this chunk's share of the mean over all N heads.</param>
    private sealed record HeadChunk(int First, int Count, Tensor<T>? Transforms, Tensor<T> OutputBlocks, Tensor<T> OutputBias, Tensor<T> Averaging);

    /// <summary>Heads (Aᵢ, Uᵢ) on the trunk of <paramref name="model"/> (trunk weights copied); null transforms mean one head (I, U).</summary>
    /// <param name="model">The trained model.</param>
    /// <param name="heads">The members' (A, U), or null for the model itself.</param>
    /// <param name="membersPerChunk">Heads evaluated together (tests vary it; results agree up to rounding).</param>
    public EnsembleHeads(HeadedModel<T> model, IReadOnlyList<(Tensor<double> A, Tensor<double> U)>? heads, int membersPerChunk = DefaultMembersPerChunk)
    {
        ArgumentNullException.ThrowIfNull(model);
        Errors.ThrowIfNotPositive(membersPerChunk, nameof(membersPerChunk));
        _model = model;
        Hidden = model.Hidden;
        Classes = model.Classes;
        _hiddenWeight = model.HiddenWeight;
        _hiddenBias = model.HiddenBias;
        _activation = model.Activation;
        MembersPerChunk = membersPerChunk;
        var outputBias = model.OutputBias ?? Tensor<T>.Zeros(Classes);

        int h = Hidden, c = Classes;
        if (heads is null)
        {
            Count = 1;
            _chunks = [new HeadChunk(0, 1, null, TensorOps.Transpose(model.OutputWeight), outputBias.Clone(), Averaging(1, 1))];
            return;
        }
        Count = heads.Count;
        _chunks = new HeadChunk[(Count + membersPerChunk - 1) / membersPerChunk];
        for (int chunk = 0; chunk < _chunks.Length; chunk++)
        {
            int first = chunk * membersPerChunk, k = Math.Min(membersPerChunk, Count - first), width = k * c;
            var transforms = Tensor<T>.Zeros(k * h, h);
            var blocks = Tensor<T>.Zeros(k * h, width);
            var bias = Tensor<T>.Zeros(width);
            for (int m = 0; m < k; m++)
            {
                var (a, u) = heads[first + m];
                for (int i = 0; i < h * h; i++) transforms.Data[m * h * h + i] = T.CreateTruncating(a.Data[i]);
                // Block m of the block diagonal holds Uᵀ of head first + m: rows m·h … m·h + h − 1, columns m·C … m·C + C − 1.
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < c; j++)
                        blocks.Data[(m * h + i) * width + m * c + j] = T.CreateTruncating(u.Data[j * h + i]);
                outputBias.Data.AsSpan().CopyTo(bias.Data.AsSpan(m * c, c));
            }
            _chunks[chunk] = new HeadChunk(first, k, transforms, blocks, bias, Averaging(k, Count));
        }
    }

    /// <summary>(1/n)[I; …; I] with k identity blocks of size C: [k·C, C].</summary>
    private Tensor<T> Averaging(int k, int n)
    {
        int c = Classes;
        var averaging = Tensor<T>.Zeros(k * c, c);
        T share = T.One / T.CreateChecked(n);
        for (int m = 0; m < k; m++)
            for (int j = 0; j < c; j++) averaging.Data[(m * c + j) * c + j] = share;
        return averaging;
    }

    public int Hidden { get; }

    public int Classes { get; }

    /// <summary>Number of heads N.</summary>
    public int Count { get; }

    /// <summary>Heads evaluated together (the last chunk may hold fewer).</summary>
    public int MembersPerChunk { get; }

    /// <summary>The hidden pre-activation H = f(x)Vᵀ + b, [B, h].</summary>
    public Variable<T> HiddenPreActivation(Tape<T> tape, Variable<T> inputs)
    {
        var hidden = Ops.MatMul(_model.Features(tape, inputs), tape.Constant(_hiddenWeight), transposeB: true);
        return _hiddenBias is null ? hidden : Ops.Add(hidden, tape.Constant(_hiddenBias));
    }

    /// <summary>
    /// The heads' logits from the hidden pre-activation, [B, N·C] with head m in columns m·C … m·C + C − 1, recorded on the
    /// tape. Only for heads that fit one chunk (the single model, small ensembles); see <see cref="MemberLogits"/>.
    /// </summary>
    public Variable<T> Logits(Tape<T> tape, Variable<T> hidden)
    {
        if (_chunks.Length != 1)
            throw new InvalidOperationException($"{Count} heads in {_chunks.Length} chunks: record the mean over heads (MeanOverHeads) or evaluate MemberLogits without a graph");
        return ChunkLogits(tape, hidden, _chunks[0]);
    }

    /// <summary>Every head's logits [B, N·C] (head m in columns m·C … m·C + C − 1), chunk by chunk, without a graph.</summary>
    public Tensor<T> MemberLogits(Tensor<T> hidden)
    {
        int b = hidden.Dim(0), width = Count * Classes;
        var tape = new Tape<T>();
        using var paused = tape.Pause();
        var h = tape.Constant(hidden);
        if (_chunks.Length == 1) return ChunkLogits(tape, h, _chunks[0]).Value;
        var logits = new Tensor<T>(GC.AllocateUninitializedArray<T>(b * width), b, width);
        foreach (var chunk in _chunks)
        {
            var part = ChunkLogits(tape, h, chunk).Value.Data;
            int w = chunk.Count * Classes;
            for (int i = 0; i < b; i++) part.AsSpan(i * w, w).CopyTo(logits.Data.AsSpan(i * width + chunk.First * Classes, w));
        }
        return logits;
    }

    /// <summary>
    /// The mean over heads of their logits (<paramref name="probabilities"/> false) or of their softmax probabilities (true),
    /// [B, C], recorded on the tape as a sum of per-chunk shares.
    /// </summary>
    public Variable<T> MeanOverHeads(Tape<T> tape, Variable<T> hidden, bool probabilities)
    {
        Variable<T>? sum = null;
        foreach (var chunk in _chunks)
        {
            var share = ChunkShare(tape, hidden, chunk, probabilities);
            sum = sum is null ? share : Ops.Add(sum, share);
        }
        return sum!;
    }

    /// <summary>
    /// log of the mean over heads of the softmax probabilities plus 1e-30 (so that a class every head gives probability 0
    /// stays finite), [B, C]. Cross-entropy on these "logits" is −log p̄[y]: the loss of the mean-softmax prediction rule.
    /// </summary>
    public static Variable<T> LogOfMean(Variable<T> meanProbabilities) => Ops.Log(Ops.AddScalar(meanProbabilities, T.CreateChecked(1e-30)));

    /// <summary>
    /// ∇ₓ of <paramref name="loss"/>(mean over heads) for a batch of images, without a graph through all heads at once.
    /// The loss depends on the heads only through their mean M (of logits or of probabilities), so
    /// ∂L/∂H = Σ_chunks J_chunk(H)ᵀ ∂L/∂M with J_chunk the Jacobian of the chunk's share of M: the chunks' forward pass
    /// gives M without a graph, one small graph gives ∂L/∂M, each chunk is then recorded again and back-propagated on its
    /// own into H, and the sum goes back through the trunk once. Exact up to the order of rounding.
    /// </summary>
    /// <param name="inputs">Images [B, C, S, S].</param>
    /// <param name="probabilities">Average probabilities (else logits).</param>
    /// <param name="loss">Records the scalar loss of the mean M on a tape (M is a leaf there).</param>
    /// <param name="seed">Multiplies the loss in the backward pass (the seed of its gradient).</param>
    public Tensor<T> InputGradientThroughMean(Tensor<T> inputs, bool probabilities, Func<Variable<T>, Variable<T>> loss, T seed)
    {
        var trunk = new Tape<T>();
        var x = trunk.Leaf(inputs);
        var hidden = HiddenPreActivation(trunk, x);

        var forward = new Tape<T>();
        Tensor<T> mean;
        using (forward.Pause()) mean = MeanOverHeads(forward, forward.Constant(hidden.Value), probabilities).Value;

        var outer = new Tape<T>();
        var m = outer.Leaf(mean);
        var dMean = outer.Gradient(loss(m), [m], outer.Constant(Tensor<T>.Scalar(seed)))[0].Value;

        var dHidden = Tensor<T>.Zeros(hidden.Value.ShapeArray);
        foreach (var chunk in _chunks)
        {
            var tape = new Tape<T>();
            var h = tape.Leaf(hidden.Value);
            var share = ChunkShare(tape, h, chunk, probabilities);
            var g = tape.Gradient(share, [h], tape.Constant(dMean))[0].Value;
            System.Numerics.Tensors.TensorPrimitives.Add(dHidden.Data, g.Data, dHidden.Data);
        }
        return trunk.Gradient(hidden, [x], trunk.Constant(dHidden))[0].Value;
    }

    /// <summary>A chunk's logits [B, k·C].</summary>
    private Variable<T> ChunkLogits(Tape<T> tape, Variable<T> hidden, HeadChunk chunk)
    {
        var z = chunk.Transforms is null ? hidden : Ops.MatMul(hidden, tape.Constant(chunk.Transforms), transposeB: true);
        return Ops.Add(Ops.MatMul(_activation.Apply(z), tape.Constant(chunk.OutputBlocks)), tape.Constant(chunk.OutputBias));
    }

    /// <summary>The chunk's share (1/N) Σ_{m ∈ chunk} of the heads' logits or softmax probabilities, [B, C].</summary>
    private Variable<T> ChunkShare(Tape<T> tape, Variable<T> hidden, HeadChunk chunk, bool probabilities)
    {
        var logits = ChunkLogits(tape, hidden, chunk);
        if (probabilities)
        {
            int b = logits.Value.Dim(0);
            logits = Ops.Reshape(Ops.Softmax(Ops.Reshape(logits, b * chunk.Count, Classes)), b, chunk.Count * Classes);
        }
        return Count == 1 ? logits : Ops.MatMul(logits, tape.Constant(chunk.Averaging));
    }

    /// <summary>Throws unless <paramref name="inputs"/> is a batch of the model's samples.</summary>
    public void CheckInputs(Tensor<T> inputs, string name) => _model.CheckInputs(inputs, name);
}
