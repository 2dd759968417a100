using System.Collections.Concurrent;
using CsCheck;
using Noether.Tensors;

namespace Noether.Tests.Tensors;

/// <summary>
/// The pool behind <see cref="Ranges"/>: every range runs exactly once with the bounds the sizes give (the promise that
/// splitting never changes a result), ranges really run at the same time, an exception reaches the caller and leaves
/// the pool usable, and nested or concurrent loops (which the pool hands to Parallel.For) complete.
/// </summary>
public class WorkerPoolTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void EveryRange_RunsOnce_WithTheBoundsTheSizesGive() =>
        Gen.Select(Gen.Int[0, 5000], Gen.Int[2, 12]).Sample((count, workers) =>
        {
            var hits = new int[count];
            var seen = new ConcurrentDictionary<int, (int Start, int End)>();
            Ranges.For(count, workers, (w, start, end) =>
            {
                if (!seen.TryAdd(w, (start, end))) throw new InvalidOperationException($"range {w} ran twice");
                for (int i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
            });
            Assert.Equal(workers, seen.Count);
            for (int w = 0; w < workers; w++)
                Assert.Equal(((int)((long)count * w / workers), (int)((long)count * (w + 1) / workers)), seen[w]);
            Assert.All(hits, h => Assert.Equal(1, h));
        }, iter: 300, seed: "0N0XIDEW4Y50");

    [Fact]
    public void TwoRanges_RunAtTheSameTime()
    {
        if (Environment.ProcessorCount < 2) throw new InvalidOperationException("this test needs two cores; the CI machine has two");
        // Each range waits until the other has started: only two threads running at once get both past the wait.
        using var started = new CountdownEvent(2);
        var met = new bool[2];
        RunOnPool(2, 2, (w, _, _) =>
        {
            started.Signal();
            met[w] = started.Wait(Patience);
        });
        Assert.Equal([true, true], met);
    }

    [Fact]
    public void RangeException_ReachesTheCaller_AndThePoolStaysUsable()
    {
        var thrown = Assert.Throws<AggregateException>(() => RunOnPool(100, 2, (w, _, _) =>
        {
            if (w == 1) throw new ArgumentException("range 1 failed");
        }));
        Assert.Equal("range 1 failed", Assert.IsType<ArgumentException>(Assert.Single(thrown.InnerExceptions)).Message);
        long sum = 0;
        RunOnPool(100, 2, (_, start, end) =>
        {
            for (int i = start; i < end; i++) Interlocked.Add(ref sum, i);
        });
        Assert.Equal(99 * 100 / 2, sum);
    }

    [Fact]
    public void NestedLoop_IsRefusedByThePool_AndCompletesOnParallelFor()
    {
        var refused = new bool[2];
        long sum = 0;
        RunOnPool(2, 2, (w, _, _) =>
        {
            refused[w] = !WorkerPool.TryRun(1, 2, (_, _, _) => { });
            Ranges.For(1000, 3, (_, start, end) =>
            {
                for (int i = start; i < end; i++) Interlocked.Add(ref sum, i);
            });
        });
        Assert.Equal([true, true], refused);
        Assert.Equal(2L * 999 * 1000 / 2, sum);
    }

    [Fact]
    public void ConcurrentCallers_AllComplete()
    {
        const int Callers = 4, Loops = 200, Count = 1000;
        var sums = new long[Callers];
        var threads = Enumerable.Range(0, Callers).Select(c => new Thread(() =>
        {
            for (int l = 0; l < Loops; l++)
                Ranges.For(Count, 2, (_, start, end) =>
                {
                    long s = 0;
                    for (int i = start; i < end; i++) s += i;
                    Interlocked.Add(ref sums[c], s);
                });
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(Patience));
        Assert.All(sums, s => Assert.Equal((long)Loops * (Count - 1) * Count / 2, s));
    }

    /// <summary>Runs the loop on the pool itself, waiting while another test's loop holds it.</summary>
    private static void RunOnPool(int count, int workers, Action<int, int, int> body)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!WorkerPool.TryRun(count, workers, body))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the worker pool stayed busy");
            Thread.Sleep(1);
        }
    }
}
