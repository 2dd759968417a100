namespace Noether.Tensors;

/// <summary>
/// One contiguous range of [0, count) per worker: the batch loops of the convolution kernels and the per-channel loops
/// over large tensors. Each range computes exactly what the serial loop computes for it (a per-channel sum keeps its
/// order), and the cut depends only on the sizes, so splitting never changes a result from run to run.
/// </summary>
internal static class Ranges
{
    /// <summary>Below this many elements a loop stays on one thread: forking costs more than it saves.</summary>
    public const long ParallelElements = 1 << 16;

    /// <summary>
    /// Ranges for a loop whose items are independent: four per core, claimed as cores come free, so a core that falls
    /// behind (another process, a slower cache) hands its share over.
    /// </summary>
    public static int Balanced => 4 * Environment.ProcessorCount;

    /// <summary>
    /// body(start, end) over [0, count) cut into one range per core, each a multiple of <paramref name="granule"/> (but
    /// the last). These loops stream memory in long runs; four ranges per core (<see cref="Balanced"/>) made no
    /// difference that alternated ResNet-20 runs could tell from noise, so they keep the longer runs.
    /// </summary>
    public static void For(int count, long elements, Action<int, int> body, int granule = 1)
    {
        int pieces = (count + granule - 1) / granule;
        int workers = elements < ParallelElements ? 1 : Math.Min(Environment.ProcessorCount, pieces);
        if (workers <= 1)
        {
            body(0, count); // small loops (most elementwise ops of small models) skip the wrapper
            return;
        }
        For(pieces, workers, (_, start, end) => body(Math.Min(count, start * granule), Math.Min(count, end * granule)));
    }

    /// <summary>
    /// body(worker, start, end) for <paramref name="workers"/> ranges of [0, count): on the calling thread when one, else
    /// on <see cref="WorkerPool"/> (or Parallel.For when the pool is running another loop).
    /// </summary>
    public static void For(int count, int workers, Action<int, int, int> body)
    {
        if (workers <= 1)
        {
            body(0, 0, count);
            return;
        }
        if (!WorkerPool.TryRun(count, workers, body))
            Parallel.For(0, workers, w => body(w, (int)((long)count * w / workers), (int)((long)count * (w + 1) / workers)));
    }
}
