namespace Noether.Tensors;

/// <summary>
/// One contiguous range of [0, count) per core for loops over large tensors. Each range computes exactly what the serial
/// loop computes for it (a per-channel sum keeps its order), so splitting never changes a result.
/// </summary>
internal static class Ranges
{
    /// <summary>Below this many elements a loop stays on one thread: forking costs more than it saves.</summary>
    public const long ParallelElements = 1 << 16;

    /// <summary>body(start, end) over [0, count) cut into ranges that are multiples of <paramref name="granule"/> (but the last).</summary>
    public static void For(int count, long elements, Action<int, int> body, int granule = 1)
    {
        int pieces = (count + granule - 1) / granule;
        int workers = elements < ParallelElements ? 1 : Math.Min(Environment.ProcessorCount, pieces);
        if (workers <= 1)
        {
            body(0, count);
            return;
        }
        Parallel.For(0, workers, w => body(
            (int)Math.Min(count, (long)pieces * w / workers * granule),
            (int)Math.Min(count, (long)pieces * (w + 1) / workers * granule)));
    }
}
