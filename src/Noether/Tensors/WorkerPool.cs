using System.Diagnostics;

namespace Noether.Tensors;

/// <summary>
/// The threads behind <see cref="Ranges"/>: ProcessorCount − 1 helpers that spin for a millisecond after each loop before
/// they sleep, so that the next loop starts on every core at once. A thread-pool worker woken for each loop started
/// ≈ 0.1 ms late, about a tenth of a typical layer's loop, and the caller then waited as long at the end. The caller
/// runs ranges too and ranges are claimed one at a time, so a helper that is late or descheduled is covered by the
/// others; range w still gets worker index w and the same bounds whoever runs it, so results do not change.
/// </summary>
internal static class WorkerPool
{
    /// <summary>How long a helper spins for the next loop before it sleeps (a training step leaves ≈ 0.1 ms between loops).</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000;

    private static readonly SemaphoreSlim Wake = new(0);
    private static Job? _job;
    private static int _busy, _sleepers;
    private static readonly int Helpers = StartHelpers();

    /// <summary>
    /// Runs body(w, start, end) for the <paramref name="workers"/> ranges of [0, <paramref name="count"/>) on the caller and
    /// the helpers; false, with nothing run, when there are no helpers or the pool is running another loop (a nested loop
    /// or a second calling thread). A range's exception is rethrown, wrapped as Parallel.For wraps it, after every range ends.
    /// </summary>
    public static bool TryRun(int count, int workers, Action<int, int, int> body)
    {
        if (Helpers == 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        try
        {
            var job = new Job(count, workers, body);
            Volatile.Write(ref _job, job);
            int sleeping = Volatile.Read(ref _sleepers);
            if (sleeping > 0) Wake.Release(Math.Min(sleeping, workers - 1));
            job.Work();
            var spin = new SpinWait();
            while (Volatile.Read(ref job.Finished) < workers) spin.SpinOnce(sleep1Threshold: -1);
            Volatile.Write(ref _job, null);
            if (job.Error is { } e) throw new AggregateException(e);
            return true;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private static int StartHelpers()
    {
        int n = Environment.ProcessorCount - 1;
        for (int i = 0; i < n; i++) new Thread(Help) { IsBackground = true, Name = $"Noether worker {i + 1}" }.Start();
        return n;
    }

    private static void Help()
    {
        Job? last = null;
        while (true)
        {
            if (Posted(last) is { } job)
            {
                last = job;
                job.Work();
                continue;
            }
            // Yielding now and then lets another thread that wants this core (a test runner's, a caller's) have it.
            long until = Stopwatch.GetTimestamp() + SpinTicks;
            for (int i = 1; Posted(last) is null && Stopwatch.GetTimestamp() < until; i++)
            {
                Thread.SpinWait(20);
                if (i % 8 == 0) Thread.Yield();
            }
            if (Posted(last) is not null) continue;
            // Counted as asleep before the last look, so a loop posted after it releases the semaphore.
            Interlocked.Increment(ref _sleepers);
            if (Posted(last) is null) Wake.Wait();
            Interlocked.Decrement(ref _sleepers);
        }
    }

    private static Job? Posted(Job? last) => Volatile.Read(ref _job) is { } job && job != last ? job : null;

    private sealed class Job(int count, int workers, Action<int, int, int> body)
    {
        public int Claimed = -1, Finished;
        public Exception? Error;

        /// <summary>Claims and runs ranges until none is left.</summary>
        public void Work()
        {
            int w;
            while ((w = Interlocked.Increment(ref Claimed)) < workers)
            {
                try
                {
                    body(w, (int)((long)count * w / workers), (int)((long)count * (w + 1) / workers));
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref Error, e, null);
                }
                Interlocked.Increment(ref Finished);
            }
        }
    }
}
