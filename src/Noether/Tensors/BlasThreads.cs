using System.Runtime.InteropServices;

namespace Noether.Tensors;

/// <summary>
/// OpenBLAS's thread count around kernels that already run one product per core. A product above OpenBLAS's threshold
/// (m·n·k &gt; 4·65536) would otherwise wake OpenBLAS's own threads, and products called from two threads at once queue
/// on its level-3 lock: for the ≈ 50 µs per-image products of a convolution the hand-off costs more than the product
/// (and under load OpenBLAS's spinning threads compete with the workers for the cores).
/// While a <see cref="Serial"/> scope is open OpenBLAS runs every product on the calling thread; the first scope saves
/// the count and the last one restores it. OpenBLAS's serial driver blocks the sum over k differently from its threaded
/// one, so a product with k above a few hundred can round differently than it would on two threads (products below the
/// threshold always run serially: the SPEC CNN's are all below it). The count is process-wide: a product that another
/// thread runs during the window also runs serially. Nothing in Noether multiplies on another thread while a
/// convolution runs (its own parallel loops contain no convolutions), so its results stay deterministic.
/// </summary>
internal static class BlasThreads
{
    private static readonly Lock Gate = new();
    private static int s_depth;
    private static int s_saved;

    /// <summary>Opens a scope in which OpenBLAS products run single-threaded (a no-op without OpenBLAS).</summary>
    public static Scope Serial()
    {
        if (!OpenBlasNative.Available) return new Scope(false);
        lock (Gate)
        {
            if (s_depth++ == 0)
            {
                s_saved = OpenBlasNative.openblas_get_num_threads();
                if (s_saved > 1) OpenBlasNative.openblas_set_num_threads(1);
            }
        }
        return new Scope(true);
    }

    private static void Leave()
    {
        lock (Gate)
        {
            if (--s_depth == 0 && s_saved > 1) OpenBlasNative.openblas_set_num_threads(s_saved);
        }
    }

    /// <summary>Restores OpenBLAS's thread count when the last open scope is disposed.</summary>
    public readonly struct Scope(bool entered) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose()
        {
            if (entered) Leave();
        }
    }
}

internal static partial class OpenBlasNative
{
    [LibraryImport(Lib)]
    public static partial void openblas_set_num_threads(int threads);
}
