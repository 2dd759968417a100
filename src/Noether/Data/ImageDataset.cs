using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Data;

/// <summary>
/// A labelled image classification set held in memory: <see cref="Images"/> is an
/// [N, C, H, W] float32 tensor with every value in [0, 1] (raw pixel intensity / 255, no normalisation —
/// attacks work in this space; see <see cref="ChannelNormalization"/>), <see cref="Labels"/> the N class
/// indices in [0, <see cref="ClassCount"/>).
/// </summary>
/// <remarks>
/// Memory: 4 bytes per pixel value, e.g. 188 MB for Fashion-MNIST's 60,000 training images and 614 MB for
/// CIFAR-10's 50,000. <see cref="Subset"/> and <see cref="Take"/> copy the selected rows.
/// </remarks>
public sealed class ImageDataset
{
    /// <summary>Wraps <paramref name="images"/> and <paramref name="labels"/> (neither is copied) after validating them.</summary>
    /// <param name="images">[N, C, H, W] pixel values in [0, 1]; NaN, infinities and values outside [0, 1] are rejected.</param>
    /// <param name="labels">N class indices, each in [0, <paramref name="classCount"/>).</param>
    /// <param name="classCount">Number of classes (at least 1).</param>
    /// <param name="classNames">Optional human-readable class names; when given, exactly <paramref name="classCount"/> of them.</param>
    /// <param name="source">A description of where the data came from (files, split), for reports and error messages.</param>
    public ImageDataset(Tensor<float> images, int[] labels, int classCount, string[]? classNames, string source)
        : this(images, labels, classCount, classNames, source, unitRange: true)
    {
    }

    /// <summary>
    /// A labelled set of arbitrary finite float samples held as [N, C, H, W] (a user's own tensors: values need not lie
    /// in [0, 1]; lower-rank samples are stored with leading size-1 axes).
    /// </summary>
    public static ImageDataset FromTensors(Tensor<float> samples, int[] labels, int classCount, string source) =>
        new(samples, labels, classCount, null, source, unitRange: false);

    private ImageDataset(Tensor<float> images, int[] labels, int classCount, string[]? classNames, string source, bool unitRange)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(source);
        if (images.Rank != 4) throw Errors.BadShape("ImageDataset", nameof(images), images.Shape, "[N, C, H, W] (rank 4)");
        Errors.ThrowIfNotPositive(classCount, nameof(classCount));
        if (labels.Length != images.Dim(0))
            throw Errors.Argument(nameof(labels), $"ImageDataset: {images.Dim(0)} images but {labels.Length} labels");
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classCount)
                throw Errors.Argument(nameof(labels), $"ImageDataset: labels[{i}] = {labels[i]}, expected a class index in [0, {classCount})");
        if (images.Length > 0)
        {
            // Min/Max propagate NaN, so one pass over each catches NaN as well as the range.
            float min = TensorPrimitives.Min<float>(images.Data), max = TensorPrimitives.Max<float>(images.Data);
            if (!unitRange)
            {
                if (!float.IsFinite(min) || !float.IsFinite(max)) throw Errors.Argument(nameof(images), $"{source}: the samples contain NaN or ∞");
            }
            else if (!(min >= 0f && max <= 1f))
                throw Errors.Argument(nameof(images), $"ImageDataset: pixel values span [{min}, {max}], expected values in [0, 1] (and no NaN)");
        }
        if (classNames is not null && classNames.Length != classCount)
            throw Errors.Argument(nameof(classNames), $"ImageDataset: {classNames.Length} class names for {classCount} classes");
        (Images, Labels, ClassCount, ClassNames, Source) = (images, labels, classCount, classNames, source);
    }

    /// <summary>[N, C, H, W] pixel values in [0, 1].</summary>
    public Tensor<float> Images { get; }

    /// <summary>The N class indices, in [0, <see cref="ClassCount"/>).</summary>
    public int[] Labels { get; }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>Human-readable class names (index = label), or null when unknown.</summary>
    public string[]? ClassNames { get; }

    /// <summary>Where the data came from, e.g. "Fashion-MNIST test split (/usr/share/datasets/fashion-mnist/t10k-…)".</summary>
    public string Source { get; }

    /// <summary>Number of samples N.</summary>
    public int Count => Images.Dim(0);

    /// <summary>Channels per image C (1 for Fashion-MNIST, 3 for CIFAR-10).</summary>
    public int Channels => Images.Dim(1);

    /// <summary>Image height H in pixels.</summary>
    public int Height => Images.Dim(2);

    /// <summary>Image width W in pixels.</summary>
    public int Width => Images.Dim(3);

    /// <summary>Values per image, C·H·W.</summary>
    public int SampleSize => Channels * Height * Width;

    /// <summary>The per-image shape [C, H, W].</summary>
    public int[] SampleShape => [Channels, Height, Width];

    /// <summary>The samples start, …, start + count − 1 as a new data set (copied).</summary>
    public ImageDataset Subset(int start, int count)
    {
        if (start < 0 || start > Count) throw Errors.OutOfRange(nameof(start), start, $"an index in [0, {Count}]");
        if (count < 0 || count > Count - start) throw Errors.OutOfRange(nameof(count), count, $"a count in [0, {Count - start}] (the data set has {Count} samples, start = {start})");
        int size = SampleSize;
        var data = Images.Data.AsSpan(start * size, count * size).ToArray();
        var labels = Labels.AsSpan(start, count).ToArray();
        return new ImageDataset(new Tensor<float>(data, count, Channels, Height, Width), labels, ClassCount, ClassNames,
            $"{Source} [samples {start}..{start + count - 1}]");
    }

    /// <summary>The samples at <paramref name="indices"/>, in that order (repeats allowed), as a new data set (copied).</summary>
    public ImageDataset Take(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var (images, labels) = Gather<float>(indices);
        return new ImageDataset(images, labels, ClassCount, ClassNames, $"{Source} [{indices.Length} selected samples]");
    }

    /// <summary>
    /// Copies the samples at <paramref name="indices"/> into a new [indices.Length, C, H, W] tensor of
    /// <typeparamref name="T"/> (float32 is copied, float64 converted exactly) together with their labels.
    /// This is the building block of <see cref="Minibatches"/>.
    /// </summary>
    public (Tensor<T> Inputs, int[] Labels) Gather<T>(ReadOnlySpan<int> indices) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inputs = new Tensor<T>(new T[indices.Length * SampleSize], indices.Length, Channels, Height, Width);
        var labels = new int[indices.Length];
        GatherInto(indices, inputs, labels);
        return (inputs, labels);
    }

    /// <summary>
    /// <see cref="Gather{T}"/> into caller-owned buffers (no allocation): <paramref name="inputs"/> must be
    /// [indices.Length, C, H, W] and <paramref name="labels"/> hold indices.Length entries.
    /// </summary>
    public void GatherInto<T>(ReadOnlySpan<int> indices, Tensor<T> inputs, Span<int> labels) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (!inputs.HasShape(indices.Length, Channels, Height, Width))
            throw Errors.BadShape("ImageDataset.GatherInto", nameof(inputs), inputs.Shape, $"{indices.Length}×{Channels}×{Height}×{Width}");
        if (labels.Length != indices.Length)
            throw Errors.Argument(nameof(labels), $"ImageDataset.GatherInto: labels holds {labels.Length} entries, expected {indices.Length}");
        for (int i = 0; i < indices.Length; i++)
            if ((uint)indices[i] >= (uint)Count)
                throw Errors.OutOfRange($"indices[{i}]", indices[i], $"a sample index in [0, {Count})");
        int size = SampleSize;
        var source = Images.Data;
        var data = inputs.Data;
        for (int i = 0; i < indices.Length; i++)
        {
            var row = source.AsSpan(indices[i] * size, size);
            var dest = data.AsSpan(i * size, size);
            if (typeof(T) == typeof(float))
                row.CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(dest));
            else if (typeof(T) == typeof(double))
                TensorPrimitives.ConvertTruncating<float, double>(row, System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(dest));
            else
                for (int j = 0; j < size; j++) dest[j] = T.CreateTruncating(row[j]);
            labels[i] = Labels[indices[i]];
        }
    }

    /// <summary>The images converted to float64 (a new [N, C, H, W] tensor; every float32 value is represented exactly).</summary>
    public Tensor<double> ImagesAsDouble() => Images.Cast<double>();

    /// <summary>How many samples carry each label: element k counts label k.</summary>
    public int[] LabelHistogram()
    {
        var counts = new int[ClassCount];
        foreach (int label in Labels) counts[label]++;
        return counts;
    }

    /// <summary>The name of class <paramref name="label"/>, or its number when names are unknown.</summary>
    public string ClassName(int label)
    {
        if ((uint)label >= (uint)ClassCount) throw Errors.OutOfRange(nameof(label), label, $"a class index in [0, {ClassCount})");
        return ClassNames?[label] ?? label.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public override string ToString() => $"ImageDataset[{Count}×{Channels}×{Height}×{Width}, {ClassCount} classes] from {Source}";
}
