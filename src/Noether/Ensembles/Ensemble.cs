using Noether.Autodiff;
using Noether.Data;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Ensembles;

/// <summary>
/// One member of an ensemble: the model with its last two linear layers replaced. With A = <see cref="HiddenTransform"/>
/// (g, or P for perm.interp) the member's hidden layer has weight A V and bias A b, and its output layer weight
/// <see cref="OutputWeight"/> (U π, U g⁻¹, U g', U π' or U P⁻¹); the convolution and the output bias are the model's.
/// </summary>
/// <remarks>
/// Bias convention: the hidden layer is affine, H = V X + b 1ᵀ = [V b][X; 1ᵀ] (columns are samples), so the group acts
/// on the augmented matrix [V b] and the hidden bias is transformed with V (b ↦ A b). This keeps the pre-activation of
/// the member equal to A H, so π(g, H₀) = σ(H₀) σ(gH₀)⁺ makes U π σ(gH₀) = U σ(H₀) exact on the calibration batch, and
/// (U g⁻¹, gV, gb) is an exact symmetry for linear σ. The output bias is untouched.
/// </remarks>
/// <param name="HiddenTransform">A (h×h).</param>
/// <param name="OutputWeight">The member's output weight (classes × h). For the batch-dependent reading it is U
/// itself and π(g, H) is applied per prediction batch.</param>
/// <param name="ConditionNumber">Condition number of the matrix inverted for this member: σ(gH₀) (h×k) for group and
/// shuffle, g for g⁻¹, P for perm.interp; for random (nothing inverted) and the batch-dependent reading, that of g.</param>
/// <param name="Regularised">True when the damped inverse replaced an ill-conditioned one.</param>
/// <param name="CalibrationIndices">Indices into the calibration data set of H₀'s samples (group and shuffle; else empty).</param>
public sealed record EnsembleMember(Tensor<double> HiddenTransform, Tensor<double> OutputWeight, double ConditionNumber, bool Regularised, int[] CalibrationIndices);

/// <summary>
/// An ensemble of transformed copies of one trained model's head (paper Appendix H: the SPEC CNN, or an imported graph's
/// last two fully connected layers), built by
/// <see cref="EnsembleBuilder.Build{T}(HeadedModel{T}, Data.ImageDataset, EnsembleOptions, CancellationToken)"/>. Members
/// share the features and the hidden pre-activation H = f(x)Vᵀ + b, so evaluating all N members costs about one forward
/// pass of the model.
/// </summary>
public sealed class Ensemble<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly EnsembleHeads<T> _heads;
    private readonly EnsembleHeads<T>? _trunk; // batch-dependent reading: the trunk with the model's own head
    private readonly EnsembleMember[] _members;
    private readonly Activation _sigma;
    private readonly double[] _outputBias;

    internal Ensemble(HeadedModel<T> model, EnsembleOptions options, EnsembleMember[] members, int rejected, Activation sigma,
        int membersPerChunk = EnsembleHeads<T>.DefaultMembersPerChunk)
    {
        (Model, Options, _members, Rejected, _sigma) = (model, options, members, rejected, sigma);
        Regularised = members.Count(m => m.Regularised);
        _outputBias = (model.OutputBias ?? Tensor<T>.Zeros(model.Classes)).ToDoubles();
        if (options.Reading == GroupActionReading.BatchDependent)
        {
            _trunk = new EnsembleHeads<T>(model, null);
            _heads = _trunk;
        }
        else _heads = new EnsembleHeads<T>(model, members.Select(m => (m.HiddenTransform, m.OutputWeight)).ToArray(), membersPerChunk);
    }

    /// <summary>The same ensemble with its heads evaluated <paramref name="membersPerChunk"/> at a time (results agree up to rounding).</summary>
    internal Ensemble<T> WithMembersPerChunk(int membersPerChunk) => new(Model, Options, _members, Rejected, _sigma, membersPerChunk);

    /// <summary>The single model the ensemble was built from (its head's weights were copied at build time).</summary>
    public HeadedModel<T> Model { get; }

    /// <summary>The settings it was built with.</summary>
    public EnsembleOptions Options { get; }

    /// <summary>The members kept (at most <see cref="EnsembleOptions.Members"/>).</summary>
    public IReadOnlyList<EnsembleMember> Members => _members;

    /// <summary>Number of members kept.</summary>
    public int Count => _members.Length;

    /// <summary>Members left out because their inverted matrix was ill-conditioned (policy <see cref="IllConditionedPolicy.Reject"/>).</summary>
    public int Rejected { get; }

    /// <summary>Members kept with a damped inverse (policy <see cref="IllConditionedPolicy.Regularise"/>).</summary>
    public int Regularised { get; }

    /// <summary>Number of classes.</summary>
    public int Classes => _heads.Classes;

    /// <summary>Hidden width h.</summary>
    public int Hidden => _heads.Hidden;

    /// <summary>A short label such as "group ε=0.1 (10 members)".</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{EnsembleOptions.Name(Options.Builder)} ε={Options.Epsilon:G4} ({Count} members, {Rejected} rejected)");

    /// <summary>The shared hidden pre-activation H = f(x)Vᵀ + b of a batch [B, …] of the model's samples: [B, h] (rows are samples).</summary>
    public Tensor<T> HiddenPreActivations(Tensor<T> inputs)
    {
        _heads.CheckInputs(inputs, nameof(inputs));
        var tape = new Tape<T>();
        using (tape.Pause()) return _heads.HiddenPreActivation(tape, tape.Constant(inputs)).Value;
    }

    /// <summary>Every member's logits for a batch of images: [B, N, classes].</summary>
    public Tensor<T> MemberLogits(Tensor<T> inputs) => MemberLogitsFromHidden(HiddenPreActivations(inputs));

    /// <summary>
    /// Every member's logits from precomputed hidden pre-activations [B, h] (see <see cref="HiddenPreActivations"/>):
    /// [B, N, classes]. Evaluating several ensembles of one model on one data set needs the trunk only once.
    /// </summary>
    /// <remarks>
    /// For the batch-dependent reading the rows are split into consecutive batches of
    /// <see cref="EnsembleOptions.PredictionBatchSize"/> (the last may be smaller) and each member's output on a batch H
    /// is U π(g, H) σ(gH) + c = U σ(H) σ(gH)⁺σ(gH) + c, i.e. in rows Q Qᵀ σ(H_row) Uᵀ + c with Q an orthonormal basis of
    /// the column space of σ(H_row gᵀ) (numerical rank at 1e-12·s_max).
    /// </remarks>
    public Tensor<T> MemberLogitsFromHidden(Tensor<T> hidden)
    {
        CheckHidden(hidden);
        ThrowIfEmpty();
        int b = hidden.Dim(0);
        if (Options.Reading == GroupActionReading.BatchDependent) return BatchDependentLogits(hidden);
        if (b <= RowsPerBlock) return HeadLogits(hidden).Reshape(b, Count, Classes);
        // In blocks of rows, so the heads' temporaries stay [rows, k·h] (k members per chunk) however large B is.
        var logits = new T[(long)b * Count * Classes];
        int width = Count * Classes;
        ForEachRowBlock(hidden, (start, block) => HeadLogits(block).Data.AsSpan().CopyTo(logits.AsSpan(start * width, block.Dim(0) * width)));
        return new Tensor<T>(logits, b, Count, Classes);
    }

    private void CheckHidden(Tensor<T> hidden)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        if (hidden.Rank != 2 || hidden.Dim(0) < 1 || hidden.Dim(1) != Hidden)
            throw Errors.BadShape("ensemble", nameof(hidden), hidden.Shape, $"hidden pre-activations [B, {Hidden}] (B ≥ 1)");
    }

    /// <summary>Calls <paramref name="body"/> with (first row, the block's rows as a tensor) for consecutive blocks of at most <see cref="RowsPerBlock"/> rows.</summary>
    private void ForEachRowBlock(Tensor<T> hidden, Action<int, Tensor<T>> body)
    {
        int b = hidden.Dim(0), h = Hidden;
        for (int start = 0; start < b; start += RowsPerBlock)
        {
            int rows = Math.Min(RowsPerBlock, b - start);
            body(start, new Tensor<T>(hidden.Data.AsSpan(start * h, rows * h).ToArray(), rows, h));
        }
    }

    /// <summary>Rows of hidden pre-activations the calibrated heads evaluate at once (see <see cref="MemberLogitsFromHidden"/>).</summary>
    internal const int RowsPerBlock = 1024;

    private Tensor<T> HeadLogits(Tensor<T> hidden) => _heads.MemberLogits(hidden);

    /// <summary>
    /// The ensemble's class for each row of precomputed hidden pre-activations [B, h], combined by <paramref name="vote"/>:
    /// equal to <c>EnsembleVoting.Combine(MemberLogitsFromHidden(hidden), vote)</c>, but evaluated in blocks of
    /// <see cref="RowsPerBlock"/> rows so that the [B, N, classes] member logits are never held at once.
    /// </summary>
    internal int[] PredictFromHidden(Tensor<T> hidden, EnsembleVote vote)
    {
        CheckHidden(hidden);
        int b = hidden.Dim(0);
        // The batch-dependent reading's prediction batches depend on the rows handed over together: keep them whole.
        if (b <= RowsPerBlock || Options.Reading == GroupActionReading.BatchDependent) return EnsembleVoting.Combine(MemberLogitsFromHidden(hidden), vote);
        var predicted = new int[b];
        ForEachRowBlock(hidden, (start, block) => EnsembleVoting.Combine(MemberLogitsFromHidden(block), vote).CopyTo(predicted, start));
        return predicted;
    }

    /// <summary>
    /// ∇ₓ Σᵢ CE(mᵢ, yᵢ) with m the averaged logits, or the log of the mean softmax when
    /// <paramref name="meanSoftmax"/>: the same gradient as a graph through <see cref="AverageLogits"/> or <see cref="LogMeanProbabilities"/>,
    /// computed chunk of members by chunk (see <see cref="EnsembleHeads{T}.InputGradientThroughMean"/>) so that memory does
    /// not grow with the number of members.
    /// </summary>
    internal Tensor<T> LossGradient(Tensor<T> inputs, int[] labels, bool meanSoftmax)
    {
        _heads.CheckInputs(inputs, nameof(inputs));
        ThrowIfEmpty();
        ThrowIfBatchDependent();
        return _heads.InputGradientThroughMean(inputs, meanSoftmax,
            mean => Ops.CrossEntropy(meanSoftmax ? EnsembleHeads<T>.LogOfMean(mean) : mean, labels), T.CreateChecked(labels.Length));
    }

    /// <summary>The ensemble's predicted class for each image of a batch, combined by <paramref name="vote"/>.</summary>
    public int[] Predict(Tensor<T> inputs, EnsembleVote vote = EnsembleVote.Mode) => EnsembleVoting.Combine(MemberLogits(inputs), vote);

    /// <summary>Fraction of <paramref name="data"/> the ensemble classifies correctly, in batches of <paramref name="batchSize"/>.</summary>
    /// <remarks>For the batch-dependent reading the prediction batches restart at every batch of <paramref name="batchSize"/>
    /// images, so the result depends on both sizes.</remarks>
    public double Accuracy(ImageDataset data, EnsembleVote vote = EnsembleVote.Mode, int batchSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(data);
        Errors.ThrowIfNotPositive(batchSize, nameof(batchSize));
        if (data.Count == 0) throw Errors.Argument(nameof(data), "ensemble accuracy: the data set is empty");
        long correct = 0;
        foreach (var (inputs, labels) in Minibatches.Create<T>(data, batchSize, null, shuffle: false))
        {
            var predicted = Predict(inputs, vote);
            for (int i = 0; i < labels.Length; i++) if (predicted[i] == labels[i]) correct++;
        }
        return (double)correct / data.Count;
    }

    /// <summary>
    /// The mean over members of the logits, recorded on <paramref name="inputs"/>' tape ([B, classes]): what an adaptive
    /// attack differentiates. Not available for the batch-dependent reading.
    /// </summary>
    public Variable<T> AverageLogits(Tape<T> tape, Variable<T> inputs)
        => _heads.MeanOverHeads(tape, DifferentiableHidden(tape, inputs), probabilities: false);

    /// <summary>
    /// log of the members' mean softmax probabilities ([B, classes], recorded on the tape): cross-entropy on it is
    /// −log p̄[y], the loss of the mean-softmax rule — an adaptive attack objective that, unlike the averaged logits, is not
    /// dominated by the few members with large logits. Not available for the batch-dependent reading.
    /// </summary>
    public Variable<T> LogMeanProbabilities(Tape<T> tape, Variable<T> inputs)
        => EnsembleHeads<T>.LogOfMean(_heads.MeanOverHeads(tape, DifferentiableHidden(tape, inputs), probabilities: true));

    /// <summary>The hidden pre-activations of <paramref name="inputs"/> recorded on <paramref name="tape"/>, once the
    /// inputs are checked and the reading is one the tape can differentiate.</summary>
    private Variable<T> DifferentiableHidden(Tape<T> tape, Variable<T> inputs)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(inputs);
        if (!ReferenceEquals(inputs.Tape, tape)) throw Errors.Argument(nameof(inputs), "ensemble: the inputs belong to another tape");
        _heads.CheckInputs(inputs.Value, nameof(inputs));
        ThrowIfEmpty();
        ThrowIfBatchDependent();
        return _heads.HiddenPreActivation(tape, inputs);
    }

    private void ThrowIfBatchDependent()
    {
        if (Options.Reading == GroupActionReading.BatchDependent)
            throw new NotSupportedException("the batch-dependent reading of the group action is not differentiable here (π(g, H) depends on the batch through a pseudoinverse); use the calibrated reading for adaptive attacks");
    }

    /// <summary>
    /// Member <paramref name="index"/> as a stand-alone SPEC CNN with fixed weights (conv copied, hidden weight A V and
    /// bias A b, output weight U', output bias c), e.g. to save it as safetensors. Not available for the batch-dependent reading.
    /// </summary>
    public SpecCnn<T> MemberModel(int index)
    {
        if ((uint)index >= (uint)Count) throw Errors.OutOfRange(nameof(index), index, $"a member index in [0, {Count})");
        if (Options.Reading == GroupActionReading.BatchDependent)
            throw new NotSupportedException("a batch-dependent member has no fixed weights");
        var network = Model.Network ?? throw new NotSupportedException($"member models are SPEC CNNs; this ensemble was built on the {Model}");
        var member = _members[index];
        var copy = SpecCnnCopy.Convert<T, T>(network);
        var v = network.Hidden.Weight.Value.Cast<double>();
        copy.Hidden.Weight.Value.CopyFrom(TensorOps.MatMul(member.HiddenTransform, v).Cast<T>());
        if (network.Hidden.Bias is { } bias)
        {
            var b = bias.Value.Cast<double>().Reshape(Hidden, 1);
            copy.Hidden.Bias!.Value.CopyFrom(TensorOps.MatMul(member.HiddenTransform, b).Reshape(Hidden).Cast<T>());
        }
        copy.Output.Weight.Value.CopyFrom(member.OutputWeight.Cast<T>());
        return copy;
    }

    private void ThrowIfEmpty()
    {
        if (Count == 0)
            throw new InvalidOperationException($"the ensemble has no members: all {Rejected} were rejected as ill-conditioned (condition limit {Options.ConditionLimit:G3}); lower ε, raise the limit or use IllConditionedPolicy.Regularise");
    }

    private Tensor<T> BatchDependentLogits(Tensor<T> hidden)
    {
        int b = hidden.Dim(0), h = Hidden, c = Classes, n = Count;
        var result = Tensor<T>.Zeros(b, n, c);
        int chunk = Options.PredictionBatchSize;
        for (int start = 0; start < b; start += chunk)
        {
            int k = Math.Min(chunk, b - start);
            var hRows = new Tensor<double>(new double[k * h], k, h);
            for (int i = 0; i < k * h; i++) hRows.Data[i] = double.CreateTruncating(hidden.Data[start * h + i]);
            var s = Map(hRows);
            for (int m = 0; m < n; m++)
            {
                var member = _members[m];
                var sg = Map(TensorOps.MatMul(hRows, member.HiddenTransform, transposeB: true));
                // Output rows: Q Qᵀ σ(H) Uᵀ + c, Q spanning the columns of σ(H gᵀ) (k×h).
                var projected = ProjectOntoColumns(sg, TensorOps.MatMul(s, member.OutputWeight, transposeB: true));
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < c; j++)
                        result.Data[((start + i) * n + m) * c + j] = T.CreateTruncating(projected.Data[i * c + j] + _outputBias[j]);
            }
        }
        return result;
    }

    private Tensor<double> Map(Tensor<double> z)
    {
        var r = Tensor<double>.Zeros(z.ShapeArray);
        for (int i = 0; i < z.Length; i++) r.Data[i] = _sigma.Value(z.Data[i]);
        return r;
    }

    /// <summary>Q Qᵀ y with Q an orthonormal basis of the column space of <paramref name="a"/> (k×h).</summary>
    private static Tensor<double> ProjectOntoColumns(Tensor<double> a, Tensor<double> y)
    {
        if (!a.AllFinite()) return Tensor<double>.Full(double.NaN, y.ShapeArray);
        var (s, u, _) = LinearAlgebra.Svd(a, vectors: true);
        int rank = s.Length == 0 || s[0] == 0 ? 0 : s.Count(x => x > 1e-12 * s[0]);
        int k = a.Dim(0), r = s.Length;
        var q = Tensor<double>.Zeros(k, rank);
        for (int i = 0; i < k; i++)
            for (int j = 0; j < rank; j++) q.Data[i * rank + j] = u!.Data[i * r + j];
        if (rank == 0) return Tensor<double>.Zeros(y.ShapeArray);
        return TensorOps.MatMul(q, TensorOps.MatMul(q, y, transposeA: true));
    }
}

/// <summary>Combining members' logits into one prediction per sample.</summary>
public static class EnsembleVoting
{
    /// <summary>
    /// The ensemble's class for each row of <paramref name="memberLogits"/> [B, N, classes]. <see cref="EnsembleVote.Mode"/>:
    /// each member votes for its arg-max class (first index on equal logits), the most-voted class wins and ties go to
    /// the smallest class index. <see cref="EnsembleVote.MeanSoftmax"/>: arg-max of the mean softmax (first on ties).
    /// Members whose logits contain NaN vote for nothing (mode) or are skipped (mean-softmax); a row no member can vote
    /// on gets class −1 (never correct).
    /// </summary>
    public static int[] Combine<T>(Tensor<T> memberLogits, EnsembleVote vote) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(memberLogits);
        if (memberLogits.Rank != 3 || memberLogits.Dim(1) < 1 || memberLogits.Dim(2) < 1)
            throw Errors.BadShape("ensemble vote", nameof(memberLogits), memberLogits.Shape, "member logits [B, N, classes] with N, classes ≥ 1");
        if (!Enum.IsDefined(vote)) throw Errors.OutOfRange(nameof(vote), vote, "a defined EnsembleVote");
        int b = memberLogits.Dim(0), n = memberLogits.Dim(1), c = memberLogits.Dim(2);
        var result = new int[b];
        var tally = new double[c];
        var p = new double[c];
        var data = memberLogits.Data;
        for (int i = 0; i < b; i++)
        {
            Array.Clear(tally);
            bool any = false;
            for (int m = 0; m < n; m++)
            {
                var row = data.AsSpan((i * n + m) * c, c);
                if (vote == EnsembleVote.Mode)
                {
                    int best = ArgMax(row);
                    if (best >= 0) { tally[best] += 1; any = true; }
                }
                else if (Softmax(row, p))
                {
                    for (int j = 0; j < c; j++) tally[j] += p[j];
                    any = true;
                }
            }
            result[i] = any ? ArgMax<double>(tally) : -1;
        }
        return result;
    }

    /// <summary>Each member's arg-max class (first index on ties; −1 for a row with NaN): [B, N].</summary>
    public static int[,] MemberPredictions<T>(Tensor<T> memberLogits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(memberLogits);
        if (memberLogits.Rank != 3) throw Errors.BadShape("ensemble", nameof(memberLogits), memberLogits.Shape, "member logits [B, N, classes]");
        int b = memberLogits.Dim(0), n = memberLogits.Dim(1), c = memberLogits.Dim(2);
        var result = new int[b, n];
        for (int i = 0; i < b; i++)
            for (int m = 0; m < n; m++) result[i, m] = ArgMax(memberLogits.Data.AsSpan((i * n + m) * c, c));
        return result;
    }

    /// <summary>First index of the largest value; −1 when the row holds a NaN.</summary>
    private static int ArgMax<TValue>(ReadOnlySpan<TValue> row) where TValue : unmanaged, IFloatingPointIeee754<TValue>
    {
        int best = 0;
        for (int j = 0; j < row.Length; j++)
        {
            if (TValue.IsNaN(row[j])) return -1;
            if (row[j] > row[best]) best = j;
        }
        return best;
    }

    private static bool Softmax<T>(ReadOnlySpan<T> row, double[] p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double max = double.NegativeInfinity;
        foreach (var v in row)
        {
            double d = double.CreateTruncating(v);
            if (double.IsNaN(d)) return false;
            max = Math.Max(max, d);
        }
        if (!double.IsFinite(max)) return false;
        double sum = 0;
        for (int j = 0; j < row.Length; j++) sum += p[j] = Math.Exp(double.CreateTruncating(row[j]) - max);
        for (int j = 0; j < row.Length; j++) p[j] /= sum;
        return true;
    }
}
