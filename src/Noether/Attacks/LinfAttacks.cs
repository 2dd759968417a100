using Noether.Data;
using Noether.Ensembles;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Attacks;

/// <summary>Progress of an attack over a data set: images done so far.</summary>
/// <param name="Done">Images perturbed so far.</param>
/// <param name="Total">Images in the data set.</param>
public readonly record struct AttackProgress(int Done, int Total);

/// <summary>FGSM and PGD under the L∞ norm on images in [0, 1] (see <see cref="LinfAttack"/> for the exact rules).</summary>
public static class LinfAttacks
{
    /// <summary>
    /// Adversarial examples for one batch: x' stays within ε of <paramref name="inputs"/> in every pixel and inside [0, 1].
    /// </summary>
    /// <param name="target">Whose input gradients are used (the threat model).</param>
    /// <param name="inputs">Clean images, every value in [0, 1] (not modified).</param>
    /// <param name="labels">True labels: the attack raises their cross-entropy.</param>
    /// <param name="attack">FGSM or PGD settings.</param>
    /// <param name="rng">Draws PGD's random start; may be null when the attack has none.</param>
    /// <exception cref="ArgumentException">Invalid settings (ε &lt; 0, …), inputs outside [0, 1], or labels not matching.</exception>
    public static Tensor<T> Perturb<T>(AttackTarget<T> target, Tensor<T> inputs, int[] labels, LinfAttack attack, Random? rng = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(attack);
        attack.Validate();
        if (inputs.Rank < 2 || inputs.Dim(0) < 1) throw Errors.BadShape("attack", nameof(inputs), inputs.Shape, "a batch [B, …] with B ≥ 1");
        if (labels.Length != inputs.Dim(0))
            throw Errors.Argument(nameof(labels), $"attack: {inputs.Dim(0)} images but {labels.Length} labels");
        for (int i = 0; i < inputs.Length; i++)
        {
            T v = inputs.Data[i];
            if (!(v >= T.Zero && v <= T.One))
                throw Errors.Argument(nameof(inputs), $"attack: inputs[{i}] = {v} is outside [0, 1]; attacks work on raw pixels in [0, 1] (normalise inside the model)");
        }
        if (attack.RandomStart && attack.Kind == AttackKind.Pgd && rng is null)
            throw Errors.Null(nameof(rng), "PGD with random start needs a seeded Random");
        return PerturbCore(target, inputs, labels, attack, rng);
    }

    /// <summary>FGSM: Π(x + ε·sign(∇ₓ loss)), one gradient.</summary>
    public static Tensor<T> Fgsm<T>(AttackTarget<T> target, Tensor<T> inputs, int[] labels, double epsilon)
        where T : unmanaged, IFloatingPointIeee754<T> => Perturb(target, inputs, labels, LinfAttack.Fgsm(epsilon));

    /// <summary>PGD with the given settings (defaults ε = 8/255, α = 2/255, 10 steps, random start).</summary>
    public static Tensor<T> Pgd<T>(AttackTarget<T> target, Tensor<T> inputs, int[] labels, Random? rng, double epsilon = LinfAttack.DefaultEpsilon,
        double stepSize = LinfAttack.DefaultStepSize, int steps = LinfAttack.DefaultSteps, bool randomStart = true)
        where T : unmanaged, IFloatingPointIeee754<T> => Perturb(target, inputs, labels, LinfAttack.Pgd(epsilon, stepSize, steps, randomStart), rng);

    /// <summary>
    /// Perturbs a whole data set in batches of <paramref name="batchSize"/> consecutive images; batch j's random start is
    /// drawn from a generator seeded by (<paramref name="seed"/>, j), so the result depends on the seed and the batch size only.
    /// </summary>
    public static ImageDataset Perturb(AttackTarget<float> target, ImageDataset data, LinfAttack attack, int seed, int batchSize = 500,
        IProgress<AttackProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(attack);
        attack.Validate();
        Errors.ThrowIfNotPositive(batchSize, nameof(batchSize));
        if (data.Count == 0) throw Errors.Argument(nameof(data), "attack: the data set is empty");
        var adversarial = new float[data.Images.Length];
        int size = data.SampleSize, batch = 0;
        // ε = 0 (or nothing to do) leaves every image where it is: the projection onto [x, x] is x. Skip the gradients.
        if (attack.Epsilon == 0 || (attack.Steps == 0 && !(attack.Kind == AttackKind.Pgd && attack.RandomStart)))
        {
            data.Images.Data.AsSpan().CopyTo(adversarial);
            progress?.Report(new AttackProgress(data.Count, data.Count));
            return new ImageDataset(new Tensor<float>(adversarial, data.Count, data.Channels, data.Height, data.Width), data.Labels, data.ClassCount,
                data.ClassNames, $"{data.Source} under {attack.Label} on {target.Name}");
        }
        var indices = new int[batchSize];
        for (int start = 0; start < data.Count; start += batchSize, batch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(batchSize, data.Count - start);
            for (int i = 0; i < count; i++) indices[i] = start + i;
            var (inputs, labels) = data.Gather<float>(indices.AsSpan(0, count));
            var rng = new Random(EnsembleBuilder.StreamSeed(seed, batch, 3));
            var perturbed = PerturbCore(target, inputs, labels, attack, rng);
            perturbed.Data.AsSpan().CopyTo(adversarial.AsSpan(start * size, count * size));
            progress?.Report(new AttackProgress(start + count, data.Count));
        }
        return new ImageDataset(new Tensor<float>(adversarial, data.Count, data.Channels, data.Height, data.Width), data.Labels, data.ClassCount,
            data.ClassNames, $"{data.Source} under {attack.Label} on {target.Name}");
    }

    private static Tensor<T> PerturbCore<T>(AttackTarget<T> target, Tensor<T> inputs, int[] labels, LinfAttack attack, Random? rng)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (lower, upper) = Box(inputs.Data, attack.Epsilon);
        var x = inputs.Clone();
        if (attack.Kind == AttackKind.Pgd && attack.RandomStart)
        {
            double eps = attack.Epsilon;
            for (int i = 0; i < x.Length; i++) x.Data[i] += T.CreateTruncating((2 * rng!.NextDouble() - 1) * eps);
            Clamp(x.Data, lower, upper);
        }
        T alpha = T.CreateTruncating(attack.StepSize);
        for (int step = 0; step < attack.Steps; step++)
        {
            var gradient = target.LossGradient(x, labels);
            var g = gradient.Data;
            var d = x.Data;
            for (int i = 0; i < d.Length; i++)
            {
                T gi = g[i];
                if (T.IsNaN(gi)) throw new ArithmeticException($"attack on {target.Name}: the input gradient is NaN at element {i} (step {step + 1}); the model's outputs are not finite");
                if (gi > T.Zero) d[i] += alpha;
                else if (gi < T.Zero) d[i] -= alpha;
            }
            Clamp(d, lower, upper);
        }
        return x;
    }

    /// <summary>
    /// Per pixel, the representable interval [lo, hi] ⊆ [max(0, x − ε), min(1, x + ε)] (bounds computed in float64 and
    /// rounded inwards), which contains x itself.
    /// </summary>
    private static (T[] Lower, T[] Upper) Box<T>(T[] clean, double epsilon) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var lower = GC.AllocateUninitializedArray<T>(clean.Length);
        var upper = GC.AllocateUninitializedArray<T>(clean.Length);
        for (int i = 0; i < clean.Length; i++)
        {
            double x = double.CreateTruncating(clean[i]);
            double lo = Math.Max(0, x - epsilon), hi = Math.Min(1, x + epsilon);
            T l = T.CreateTruncating(lo), u = T.CreateTruncating(hi);
            if (double.CreateTruncating(l) < lo) l = T.BitIncrement(l);
            if (double.CreateTruncating(u) > hi) u = T.BitDecrement(u);
            lower[i] = l;
            upper[i] = u;
        }
        return (lower, upper);
    }

    private static void Clamp<T>(Span<T> x, T[] lower, T[] upper) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++)
        {
            T v = x[i];
            if (v < lower[i]) x[i] = lower[i];
            else if (v > upper[i]) x[i] = upper[i];
        }
    }
}
