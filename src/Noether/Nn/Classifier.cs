using Noether.Autodiff;
using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Nn;

/// <summary>Progress of a training epoch, reported after every step.</summary>
/// <param name="Step">Optimiser steps taken so far, this one included (counts across epochs).</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Samples">Samples seen in this epoch.</param>
/// <param name="Loss">This step's mean cross-entropy.</param>
/// <param name="MeanLoss">Mean cross-entropy over the epoch so far (weighted by batch size).</param>
public readonly record struct TrainingProgress(long Step, int Batch, long Samples, double Loss, double MeanLoss);

/// <summary>Thrown when a training step's loss or input is NaN or infinite: training stops at that step.</summary>
public sealed class NonFiniteLossException : ArithmeticException
{
    /// <summary>Creates the exception for optimiser step <paramref name="step"/>.</summary>
    public NonFiniteLossException(long step, double loss, string detail)
        : base($"training stopped at step {step}: {detail} (loss = {loss.ToString(System.Globalization.CultureInfo.InvariantCulture)}); " +
               "lower the learning rate or check the data for NaN/∞")
    {
        Step = step;
        Loss = loss;
    }

    /// <summary>The optimiser step (1-based, counted across epochs) at which training stopped.</summary>
    public long Step { get; }

    /// <summary>The offending loss value (NaN when the input was at fault).</summary>
    public double Loss { get; }
}

/// <summary>
/// Training and evaluation of a classifier with the mean cross-entropy loss on raw logits. Each step records on a
/// fresh tape; the library reports progress through <see cref="IProgress{T}"/> and never writes to the console.
/// </summary>
public static class Classifier
{
    /// <summary>
    /// One pass over <paramref name="batches"/>: forward, cross-entropy, backward, optimiser step per batch. Returns the
    /// mean loss over all samples. A NaN or infinite loss (or input) stops training with a
    /// <see cref="NonFiniteLossException"/> naming the step, before the parameters are touched.
    /// </summary>
    public static double TrainEpoch<T>(Module<T> model, Optimizer<T> optimizer, IEnumerable<(Tensor<T> Inputs, int[] Labels)> batches,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        return TrainEpoch(optimizer, batches, (inputs, labels) => TrainStep(model, optimizer, inputs, labels), progress, cancellationToken);
    }

    /// <summary>
    /// One pass over <paramref name="batches"/> with <paramref name="trainStep"/> (one optimiser step on a batch, returning
    /// its loss before the step): the epoch loop of <see cref="TrainEpoch{T}(Module{T}, Optimizer{T}, IEnumerable{ValueTuple{Tensor{T}, int[]}}, IProgress{TrainingProgress}?, CancellationToken)"/>
    /// for any model that steps <paramref name="optimizer"/>. Returns the mean loss over all samples, weighted by batch size.
    /// </summary>
    internal static double TrainEpoch<T>(Optimizer<T> optimizer, IEnumerable<(Tensor<T> Inputs, int[] Labels)> batches,
        Func<Tensor<T>, int[], double> trainStep, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(batches);
        double total = 0;
        long samples = 0;
        int batch = 0;
        foreach (var (inputs, labels) in batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double loss = trainStep(inputs, labels);
            batch++;
            samples += labels.Length;
            total += loss * labels.Length;
            progress?.Report(new TrainingProgress(optimizer.StepCount, batch, samples, loss, total / samples));
        }
        if (samples == 0) throw Errors.Argument(nameof(batches), "train epoch: there were no batches");
        return total / samples;
    }

    /// <summary>One optimiser step on one batch; returns the batch's mean cross-entropy before the step.</summary>
    public static double TrainStep<T>(Module<T> model, Optimizer<T> optimizer, Tensor<T> inputs, int[] labels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        long step = optimizer.StepCount + 1;
        if (!TensorPrimitives.IsFiniteAll<T>(inputs.Data)) throw new NonFiniteLossException(step, double.NaN, "the input batch contains NaN or ∞");
        var tape = new Tape<T>();
        var loss = Ops.CrossEntropy(model.Forward(tape, tape.Constant(inputs)), labels);
        double value = double.CreateTruncating(loss.Value.ScalarValue);
        if (!double.IsFinite(value)) throw new NonFiniteLossException(step, value, "the loss is not finite");
        optimizer.Step(tape.Gradient(loss, optimizer.Parameters));
        return value;
    }

    /// <summary>The predicted class (arg-max of the logits; the first on ties) for each row of <paramref name="inputs"/>.</summary>
    public static int[] Predict<T>(Module<T> model, Tensor<T> inputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var logits = model.Predict(inputs);
        if (logits.Rank != 2) throw Errors.BadShape("predict", "model output", logits.Shape, "logits [N, classes]");
        int n = logits.Dim(0), k = logits.Dim(1);
        var classes = new int[n];
        for (int i = 0; i < n; i++) classes[i] = TensorPrimitives.IndexOfMax<T>(logits.Data.AsSpan(i * k, k));
        return classes;
    }

    /// <summary>Fraction of samples whose predicted class equals the label, over all batches.</summary>
    public static double Evaluate<T>(Module<T> model, IEnumerable<(Tensor<T> Inputs, int[] Labels)> batches) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        long correct = 0, total = 0;
        foreach (var (inputs, labels) in batches)
        {
            ArgumentNullException.ThrowIfNull(labels);
            var predicted = Predict(model, inputs);
            if (predicted.Length != labels.Length)
                throw Errors.Argument(nameof(batches), $"evaluate: a batch has {predicted.Length} inputs but {labels.Length} labels");
            for (int i = 0; i < labels.Length; i++) if (predicted[i] == labels[i]) correct++;
            total += labels.Length;
        }
        if (total == 0) throw Errors.Argument(nameof(batches), "evaluate: there were no samples");
        return (double)correct / total;
    }
}
