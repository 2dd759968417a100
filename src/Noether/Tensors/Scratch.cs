namespace Noether.Tensors;

/// <summary>
/// Recycled buffers for a burst of temporary tensors on one thread (the batched backward passes of a full Hessian
/// allocate tens of megabytes of short-lived [B, …] tensors; reusing them spares the allocator's zeroing and the GC).
/// While a pool is <see cref="Scratch{T}.Enter">entered</see> on a thread, kernels that overwrite every element take
/// their result buffers from it; <see cref="ReleaseAll"/> hands every buffer back. Nothing allocated inside the scope
/// may be used after the release: callers copy what they keep.
/// </summary>
internal sealed class Scratch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [ThreadStatic] private static Scratch<T>? t_current;

    private readonly Dictionary<int, Stack<T[]>> _free = [];
    private readonly List<T[]> _rented = [];

    /// <summary>A buffer of exactly <paramref name="length"/> elements with arbitrary contents: from the thread's pool when one is entered.</summary>
    public static T[] Uninitialized(int length)
    {
        var pool = t_current;
        if (pool is null || length < 64) return GC.AllocateUninitializedArray<T>(length);
        if (!pool._free.TryGetValue(length, out var stack) || !stack.TryPop(out var buffer)) buffer = GC.AllocateUninitializedArray<T>(length);
        pool._rented.Add(buffer);
        return buffer;
    }

    /// <summary>Makes this pool the thread's current one until the returned scope is disposed.</summary>
    public Scope Enter()
    {
        var previous = t_current;
        t_current = this;
        return new Scope(previous);
    }

    /// <summary>Returns every buffer handed out since the last release to the pool.</summary>
    public void ReleaseAll()
    {
        foreach (var buffer in _rented)
        {
            if (!_free.TryGetValue(buffer.Length, out var stack)) _free[buffer.Length] = stack = new Stack<T[]>();
            stack.Push(buffer);
        }
        _rented.Clear();
    }

    /// <summary>Restores the previous pool when disposed.</summary>
    public readonly struct Scope(Scratch<T>? previous) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose() => t_current = previous;
    }
}
