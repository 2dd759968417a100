using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Noether.Tests.Cli;

/// <summary>
/// Nothing lost, nothing mixed, nothing hung (issue 16), on the real executable: signals during a run that replaces an
/// earlier result, a second signal during the clean-up, two runs into one folder, a FIFO given as input. Timeouts here are
/// hang guards only (generous); no assertion is about how fast something happened.
/// </summary>
public sealed class ReliabilityTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("noether-reliability-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(90);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MkFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    private static string[] Snapshot(string dir) =>
        [.. Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(p => File.Exists(p) ? $"{p}:{Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)))}:{File.GetLastWriteTimeUtc(p).Ticks}" : p)];

    /// <summary>An earlier result in <c>_root/out</c>: a real orbit run (CSV, summary.json, PNG).</summary>
    private string EarlierResult()
    {
        string dir = Path.Combine(_root, "out");
        var r = CliRunner.Run(["orbit", "--out", dir], timeout: HangGuard);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return dir;
    }

    /// <summary>Starts <c>noether ARGS</c> and waits for its first line of progress (the run holds its folder by then).</summary>
    private static async Task<(Process Process, Task<string> Stderr)> StartAndWaitForProgress(string[] args, string progressPrefix)
    {
        var process = Process.Start(CliRunner.Interruptible(args))!;
        var started = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith(progressPrefix, StringComparison.Ordinal) == true) started.TrySetResult();
        };
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        var first = await Task.WhenAny(started.Task, process.WaitForExitAsync(), Task.Delay(HangGuard));
        Assert.True(first == started.Task && !process.HasExited, $"noether {string.Join(' ', args)} ended or hung before its progress line: {(process.HasExited ? await stderr : "")}");
        return (process, stderr);
    }

    /// <summary>Nothing of a run is left beside --out once it is over: the lock file and the folder only.</summary>
    private void AssertOnlyLockAndFolderBeside(string dir)
    {
        var beside = Directory.EnumerateFileSystemEntries(_root).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal([$".{Path.GetFileName(dir)}.lock", Path.GetFileName(dir)], beside);
    }

    [Theory]
    [InlineData(15, "SIGTERM")]
    [InlineData(1, "SIGHUP")]
    [InlineData(2, "SIGINT")]
    public async Task Signal_DuringAForcedRun_KeepsTheEarlierResultByteIdentical(int signal, string name)
    {
        string dir = EarlierResult();
        var before = Snapshot(dir);
        // drift's default profile computes for several seconds after its first progress line.
        var (process, stderr) = await StartAndWaitForProgress(["drift", "--profile", "default", "--out", dir, "--force"], "drift:");
        using (process)
        {
            Assert.Equal(0, Kill(process.Id, signal));
            Assert.True(process.WaitForExit(HangGuard), $"drift did not stop after {name}");
            var r = new CliRunner.Result(process.ExitCode, "", await stderr);
            Assert.True(r.ExitCode == 130, $"exit {r.ExitCode} after {name}: {r.Stderr}");
            CliRunner.AssertOneLineFailure(r, "cancelled", $"--out {dir} left unchanged");
        }
        Assert.Equal(before, Snapshot(dir));
        AssertOnlyLockAndFolderBeside(dir);
    }

    [Fact]
    public async Task SecondSignal_DuringTheCleanUp_LeavesNoPartialFileAndTheEarlierResultIntact()
    {
        string dir = EarlierResult();
        var before = Snapshot(dir);
        var (process, stderr) = await StartAndWaitForProgress(["drift", "--profile", "default", "--out", dir, "--force"], "drift:");
        using (process)
        {
            // Two signals back to back, as Ctrl-C twice or `timeout` signalling the process group would send: the second
            // lands while the first one's cancellation is unwinding (or, if that was quicker, after the process ended).
            Assert.Equal(0, Kill(process.Id, 15));
            Kill(process.Id, 15);
            Assert.True(process.WaitForExit(HangGuard), "drift did not stop after two signals");
            string err = await stderr;
            Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}: {err}");
            Assert.DoesNotContain("   at ", err);
            Assert.Contains("left unchanged", err);
        }
        Assert.Equal(before, Snapshot(dir));
        AssertOnlyLockAndFolderBeside(dir);
    }

    [Fact]
    public async Task TwoRunsIntoOneFolder_TheSecondIsRefusedAtOnce_AndTheResultIsTheFirstRunsWhole()
    {
        string dir = Path.Combine(_root, "out");
        var (first, firstErr) = await StartAndWaitForProgress(["drift", "--profile", "quick", "--steps", "100000", "--out", dir], "Drift of Q");
        using (first)
        {
            // The first run holds the folder: a second run, with --force, is refused naming it, and touches nothing.
            var second = CliRunner.Run(["drift", "--profile", "quick", "--steps", "50", "--out", dir, "--force"], timeout: HangGuard);
            CliRunner.AssertOneLineFailure(second, "--out", dir, "in use by another noether run");
            Assert.True(first.WaitForExit(HangGuard), "the first run did not finish");
            Assert.True(first.ExitCode == 0, await firstErr);
        }
        // One complete result, the first run's: its settings (100 000 steps, not the refused run's 50) and every figure its
        // summary lists.
        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        Assert.Equal(100_000, summary.RootElement.GetProperty("settings").GetProperty("steps").GetInt64());
        foreach (var figure in summary.RootElement.GetProperty("figures").EnumerateArray())
            Assert.True(File.Exists(Path.Combine(dir, figure.GetProperty("file").GetString()!)));
        AssertOnlyLockAndFolderBeside(dir);
    }

    [Fact]
    public void Fifo_AsWeights_IsRefusedInsteadOfBlocking()
    {
        string fifo = Path.Combine(_root, "weights.fifo");
        Assert.Equal(0, MkFifo(fifo, 0x1B6));
        string fresh = Path.Combine(_root, "fresh");
        // No writer ever opens the FIFO: reading it would block forever; the hang guard turns that into a failure.
        foreach (var args in new[]
                 {
                     new[] { "analyze", "--weights", fifo, "--arch", "mlp:784-2-10", "--out", fresh },
                     ["sharpness", "--weights", fifo, "--out", fresh],
                     ["ensemble", "--weights", fifo, "--out", fresh],
                 })
        {
            var r = CliRunner.Run(args, timeout: HangGuard);
            CliRunner.AssertOneLineFailure(r, "--weights", fifo, "FIFO");
        }
        Assert.False(Directory.Exists(fresh));
    }
}
