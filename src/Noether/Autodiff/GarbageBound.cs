namespace Noether.Autodiff;

/// <summary>
/// Keeps the garbage of recorded passes bounded: every tape operation checks how much the process has allocated, and
/// after each further <see cref="CollectEvery"/> bytes a full collection runs.
/// </summary>
/// <remarks>
/// Nearly every tensor is a large-object-heap array, which the workstation GC reclaims only in a full collection, and it
/// lets those pile up while memory is free: one ResNet-20 Hessian-vector product (batch 128, float64) allocated 3.2 GB
/// against a live set under 1.4 GB and its process peaked at 3.0 GB (1.8 GB with this bound; bench/README.md). A full
/// collection marks objects, not bytes, so it costs milliseconds per <see cref="CollectEvery"/> of work. Racing threads
/// can at worst collect twice.
/// </remarks>
internal static class GarbageBound
{
    /// <summary>Bytes allocated between two forced collections.</summary>
    public const long CollectEvery = 512L << 20;

    private static long s_collectAt = GC.GetTotalAllocatedBytes() + CollectEvery;

    /// <summary>Collects if the process has allocated <see cref="CollectEvery"/> bytes since the last forced collection.</summary>
    public static void Check()
    {
        long allocated = GC.GetTotalAllocatedBytes();
        if (allocated < Volatile.Read(ref s_collectAt)) return;
        Volatile.Write(ref s_collectAt, allocated + CollectEvery);
        GC.Collect();
    }
}
