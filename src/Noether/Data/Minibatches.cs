using Noether.Tensors;

namespace Noether.Data;

/// <summary>
/// Seeded minibatches over an <see cref="ImageDataset"/>: each epoch visits every sample exactly once,
/// in an order drawn from the caller's <see cref="Random"/> (Fisher–Yates), so the same seed gives the same batches.
/// </summary>
/// <remarks>
/// The order is drawn when <c>Create</c> is called (not when enumeration starts), so enumerating the result twice
/// yields the same batches; call <c>Create</c> once per epoch with the same <see cref="Random"/> to get a fresh
/// order each epoch. Each batch is a freshly allocated [B, C, H, W] tensor (B = batch size, smaller for a final
/// partial batch unless <c>dropLast</c>) that the caller may keep or modify.
/// </remarks>
public static class Minibatches
{
    /// <summary>Float32 minibatches (the pixels are copied, not converted); see <see cref="Create{T}"/>.</summary>
    public static IEnumerable<(Tensor<float> Inputs, int[] Labels)> Create(ImageDataset data, int batchSize, Random? rng, bool shuffle = true, bool dropLast = false) =>
        Create<float>(data, batchSize, rng, shuffle, dropLast);

    /// <summary>
    /// Minibatches of <typeparamref name="T"/> (float32 or float64; float64 holds every float32 pixel exactly).
    /// </summary>
    /// <param name="data">The data set.</param>
    /// <param name="batchSize">Samples per batch (positive).</param>
    /// <param name="rng">The seeded generator the order is drawn from; may be null only when <paramref name="shuffle"/> is false.</param>
    /// <param name="shuffle">True to visit samples in a random permutation, false for 0, 1, …, N − 1.</param>
    /// <param name="dropLast">True to omit a final batch smaller than <paramref name="batchSize"/>.</param>
    public static IEnumerable<(Tensor<T> Inputs, int[] Labels)> Create<T>(ImageDataset data, int batchSize, Random? rng, bool shuffle = true, bool dropLast = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        Errors.ThrowIfNotPositive(batchSize, nameof(batchSize));
        if (shuffle && rng is null) throw Errors.Null(nameof(rng), "Minibatches: shuffling needs a seeded Random (pass shuffle: false for a fixed order)");
        var order = Order(data.Count, rng, shuffle);
        return Enumerate<T>(data, order, batchSize, dropLast);
    }

    /// <summary>The order samples are visited in: a Fisher–Yates permutation drawn from <paramref name="rng"/>, or the identity.</summary>
    /// <param name="count">Number of samples.</param>
    /// <param name="rng">The seeded generator; may be null only when <paramref name="shuffle"/> is false.</param>
    /// <param name="shuffle">False for 0, 1, …, count − 1.</param>
    public static int[] Order(int count, Random? rng, bool shuffle = true)
    {
        if (count < 0) throw Errors.OutOfRange(nameof(count), count, "a non-negative count");
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        if (!shuffle) return order;
        ArgumentNullException.ThrowIfNull(rng);
        for (int i = count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>Number of batches an epoch of <paramref name="sampleCount"/> samples produces.</summary>
    public static int BatchCount(int sampleCount, int batchSize, bool dropLast = false)
    {
        if (sampleCount < 0) throw Errors.OutOfRange(nameof(sampleCount), sampleCount, "a non-negative count");
        Errors.ThrowIfNotPositive(batchSize, nameof(batchSize));
        return dropLast ? sampleCount / batchSize : (sampleCount + batchSize - 1) / batchSize;
    }

    private static IEnumerable<(Tensor<T> Inputs, int[] Labels)> Enumerate<T>(ImageDataset data, int[] order, int batchSize, bool dropLast)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int start = 0; start < order.Length; start += batchSize)
        {
            int size = Math.Min(batchSize, order.Length - start);
            if (size < batchSize && dropLast) yield break;
            yield return data.Gather<T>(order.AsSpan(start, size));
        }
    }
}
