using Noether.Autodiff;
using Noether.Ensembles;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Attacks;

/// <summary>What an adaptive attack on an ensemble differentiates.</summary>
public enum EnsembleAttackLoss
{
    /// <summary>
    /// Cross-entropy of the members' averaged logits (the definition of the adaptive threat model). Caveat: the
    /// ensemble predicts by the mode of its members' classes, and averaged logits can be dominated by a few members
    /// with large logits, so this objective can be a weak surrogate (measured: see the attack experiment's remarks).
    /// </summary>
    AveragedLogits,

    /// <summary>−log of the members' mean softmax probability of the true class: the loss of the mean-softmax rule.</summary>
    AveragedProbabilities,
}

/// <summary>
/// A differentiable classifier an attack takes input gradients from: logits recorded on a tape, whose cross-entropy is
/// differentiated with respect to the input images (tape.Leaf(inputs) → logits → Ops.CrossEntropy → Gradient).
/// </summary>
public sealed class AttackTarget<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Func<Tape<T>, Variable<T>, Variable<T>> _logits;
    private readonly Func<Tensor<T>, int[], Tensor<T>>? _lossGradient;

    /// <summary>A target from any differentiable map images [B, …] → logits [B, classes].</summary>
    /// <param name="name">Shown in results ("single model", "group ensemble", …).</param>
    /// <param name="logits">Records the logits of the input variable on its tape.</param>
    public AttackTarget(string name, Func<Tape<T>, Variable<T>, Variable<T>> logits)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(logits);
        Name = name;
        _logits = logits;
    }

    /// <summary>A target whose input gradient is computed by <paramref name="lossGradient"/> (the same function's
    /// gradient as a graph through <paramref name="logits"/>, but without holding that graph).</summary>
    private AttackTarget(string name, Func<Tape<T>, Variable<T>, Variable<T>> logits, Func<Tensor<T>, int[], Tensor<T>> lossGradient)
        : this(name, logits) => _lossGradient = lossGradient;

    /// <summary>What is attacked.</summary>
    public string Name { get; }

    /// <summary>
    /// The single SPEC CNN. Its weights are held as tape constants (copied now), so a backward pass forms the input
    /// gradient only — no weight gradients.
    /// </summary>
    public static AttackTarget<T> Model(SpecCnn<T> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Model(HeadedModel<T>.Of(model));
    }

    /// <summary>
    /// The single model of features and head (the SPEC CNN, or an imported graph: its input gradient goes back through the
    /// whole graph, the features' nodes too). The head's weights are tape constants; a graph's parameters are bound to the tape.
    /// </summary>
    public static AttackTarget<T> Model(HeadedModel<T> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var heads = new EnsembleHeads<T>(model, null);
        return new AttackTarget<T>("single model", (tape, x) =>
        {
            heads.CheckInputs(x.Value, "inputs");
            return heads.Logits(tape, heads.HiddenPreActivation(tape, x));
        });
    }

    /// <summary>The ensemble under the adaptive threat model: cross-entropy of its averaged logits (default) or of its mean softmax.</summary>
    public static AttackTarget<T> Ensemble(Ensemble<T> ensemble, EnsembleAttackLoss loss = EnsembleAttackLoss.AveragedLogits)
    {
        if (!Enum.IsDefined(loss)) throw Errors.OutOfRange(nameof(loss), loss, "a defined EnsembleAttackLoss");
        ArgumentNullException.ThrowIfNull(ensemble);
        if (ensemble.Options.Reading == GroupActionReading.BatchDependent)
            throw Errors.Argument(nameof(ensemble), "an adaptive attack needs gradients through the ensemble; the batch-dependent reading of the group action has none here (use the calibrated reading)");
        if (ensemble.Count == 0) throw Errors.Argument(nameof(ensemble), $"the ensemble has no members ({ensemble.Rejected} rejected as ill-conditioned)");
        // The gradient goes member chunk by member chunk through the mean (exact up to rounding order): a graph through
        // all members at once holds several [B, N·h] tensors.
        return loss == EnsembleAttackLoss.AveragedLogits
            ? new AttackTarget<T>($"{ensemble} averaged logits", ensemble.AverageLogits, (x, y) => ensemble.LossGradient(x, y, meanSoftmax: false))
            : new AttackTarget<T>($"{ensemble} mean softmax", ensemble.LogMeanProbabilities, (x, y) => ensemble.LossGradient(x, y, meanSoftmax: true));
    }

    /// <summary>The logits for a batch (no gradient).</summary>
    public Tensor<T> Logits(Tensor<T> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var tape = new Tape<T>();
        using (tape.Pause()) return _logits(tape, tape.Constant(inputs)).Value;
    }

    /// <summary>
    /// ∇ₓ Σᵢ CE(logits(xᵢ), yᵢ): the gradient of the summed cross-entropy with respect to the images (the summed loss
    /// avoids shrinking small gradients by 1/B in float32; the sign — all an L∞ attack uses — is that of the mean).
    /// For <see cref="Ensemble"/> targets the same gradient is formed member chunk by member chunk through the mean, so
    /// memory does not grow with the number of members (equal to the full graph's up to rounding order).
    /// </summary>
    public Tensor<T> LossGradient(Tensor<T> inputs, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        if (_lossGradient is not null) return _lossGradient(inputs, labels);
        var tape = new Tape<T>();
        var x = tape.Leaf(inputs);
        var logits = _logits(tape, x);
        var loss = Ops.CrossEntropy(logits, labels);
        var seed = tape.Constant(Tensor<T>.Scalar(T.CreateChecked(labels.Length)));
        return tape.Gradient(loss, [x], seed)[0].Value;
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
