using System.Security.Cryptography;
using Noether.Cli.Output;
using Noether.Serialization;

namespace Noether.Tests.Cli.Output;

/// <summary>
/// The output layer (issue 16): a run's result replaces --out in one step or not at all. These drive
/// <see cref="OutputFolder"/> directly, with bodies that fail the ways a real run fails (an exception, a full disk
/// injected as a stream that refuses writes after N bytes, a cancellation, an incomplete result).
/// </summary>
public sealed class OutputFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("noether-output-folder-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>--out holding an earlier result of three files (one in a sub-folder).</summary>
    private string Earlier(string name = "out")
    {
        string dir = Path.Combine(_root, name);
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        File.WriteAllText(Path.Combine(dir, "result.csv"), "a,b\n1,2\n");
        File.WriteAllBytes(Path.Combine(dir, "figure.png"), [1, 2, 3, 4]);
        File.WriteAllText(Path.Combine(dir, "sub", "model.safetensors"), "weights");
        return dir;
    }

    /// <summary>Every entry under <paramref name="dir"/> with its SHA-256 and modification time.</summary>
    private static string[] Snapshot(string dir) =>
        [.. Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(p => File.Exists(p) ? $"{p}:{Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)))}:{File.GetLastWriteTimeUtc(p).Ticks}" : p)];

    /// <summary>What lies beside --out: the lock file, never a staging or set-aside folder once a run is over.</summary>
    private string[] Beside() => [.. Directory.EnumerateFileSystemEntries(_root).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    [Fact]
    public void Run_ThatCompletes_ReplacesTheWholeEarlierResult()
    {
        string dir = Earlier();
        int exit = OutputFolder.Run(dir, force: true, CancellationToken.None, staging =>
        {
            Assert.NotEqual(dir, staging);
            Assert.Equal(Path.GetDirectoryName(dir), Path.GetDirectoryName(staging)); // same file system: a rename, not a copy
            AtomicFile.WriteAllText(Path.Combine(staging, "new.csv"), "x\n3\n");
            return 0;
        });
        Assert.Equal(0, exit);
        Assert.Equal(["new.csv"], Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName));
        Assert.Equal(".out.lock,out", string.Join(',', Beside()));
    }

    [Fact]
    public void Run_IntoAMissingFolder_CreatesItOnlyOnCompletion()
    {
        string dir = Path.Combine(_root, "a", "b", "out");
        Assert.Throws<InvalidOperationException>(() => OutputFolder.Run(dir, force: false, CancellationToken.None, staging =>
        {
            File.WriteAllText(Path.Combine(staging, "half.csv"), "x");
            throw new InvalidOperationException("the experiment failed");
        }));
        Assert.False(Directory.Exists(dir));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(_root, "a", "b")));

        OutputFolder.Run(dir, force: false, CancellationToken.None, staging => { File.WriteAllText(Path.Combine(staging, "r.csv"), "y"); return 0; });
        Assert.Equal("y", File.ReadAllText(Path.Combine(dir, "r.csv")));
    }

    [Fact]
    public void Failure_AfterSomeFilesWereWritten_LeavesTheEarlierResultByteIdentical()
    {
        string dir = Earlier();
        var before = Snapshot(dir);
        var e = Assert.Throws<InvalidDataException>(() => OutputFolder.Run(dir, force: true, CancellationToken.None, staging =>
        {
            AtomicFile.WriteAllText(Path.Combine(staging, "result.csv"), "a,b\nNaN,NaN\n");
            AtomicFile.WriteAllBytes(Path.Combine(staging, "figure.png"), [9]);
            throw new InvalidDataException("the loss is NaN");
        }));
        Assert.Equal("the loss is NaN", e.Message);
        Assert.Equal(before, Snapshot(dir));
        Assert.Equal(".out.lock,out", string.Join(',', Beside()));
    }

    /// <summary>A full disk, injected: the stream accepts <see cref="FullDisk.Capacity"/> bytes, then throws as ENOSPC does.</summary>
    private sealed class FullDisk(Stream inner, long capacity) : Stream
    {
        public const long Capacity = 1000;
        private long _written;

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > capacity) throw new IOException("No space left on device");
            _written += buffer.Length;
            inner.Write(buffer);
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    [Theory]
    [InlineData(0)]     // the first file does not fit
    [InlineData(1)]     // the second one does not
    [InlineData(2)]     // the last one (the figure summary.json lists) does not
    public void DiskFull_DuringTheWrites_LeavesTheEarlierResultByteIdenticalAndNoTemporaryFile(int failingFile)
    {
        string dir = Earlier();
        var before = Snapshot(dir);
        var e = Assert.Throws<IOException>(() => OutputFolder.Run(dir, force: true, CancellationToken.None, staging =>
        {
            var sizes = new[] { 500, 400, 2000 };
            var names = new[] { "result.csv", "summary.json", "figure.png" };
            for (int i = 0; i < names.Length; i++)
            {
                var bytes = new byte[sizes[i]];
                if (names[i] == "summary.json") bytes = System.Text.Encoding.UTF8.GetBytes("{\"figures\":[{\"file\":\"figure.png\"}]}".PadRight(sizes[i]));
                long capacity = i == failingFile ? 100 : FullDisk.Capacity * 10;
                AtomicFile.Write(Path.Combine(staging, names[i]), s => new FullDisk(s, capacity).Write(bytes));
            }
            return 0;
        }));
        Assert.Contains("No space left on device", e.Message);
        Assert.Equal(before, Snapshot(dir));
        Assert.Equal(".out.lock,out", string.Join(',', Beside()));
    }

    [Fact]
    public void Cancellation_BeforeTheCommit_KeepsTheEarlierResult()
    {
        string dir = Earlier();
        var before = Snapshot(dir);
        using var cancel = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => OutputFolder.Run(dir, force: true, cancel.Token, staging =>
        {
            File.WriteAllText(Path.Combine(staging, "result.csv"), "new");
            cancel.Cancel(); // the signal arrives after the last write, before the result replaces --out
            return 0;
        }));
        Assert.Equal(before, Snapshot(dir));
        Assert.Equal(".out.lock,out", string.Join(',', Beside()));
    }

    [Fact]
    public void Commit_OfAResultWhoseSummaryListsAMissingFigure_IsRefused()
    {
        string dir = Earlier();
        var before = Snapshot(dir);
        var e = Assert.Throws<IOException>(() => OutputFolder.Run(dir, force: true, CancellationToken.None, staging =>
        {
            File.WriteAllText(Path.Combine(staging, "summary.json"), "{\"figures\":[{\"file\":\"orbit.png\",\"caption\":\"c\"}]}");
            return 0;
        }));
        Assert.Contains("orbit.png", e.Message);
        Assert.Contains("left unchanged", e.Message);
        Assert.Equal(before, Snapshot(dir));
    }

    [Fact]
    public void Commit_WithALeftoverTemporaryFile_IsRefused()
    {
        string dir = Earlier();
        var before = Snapshot(dir);
        var e = Assert.Throws<IOException>(() => OutputFolder.Run(dir, force: true, CancellationToken.None, staging =>
        {
            File.WriteAllText(Path.Combine(staging, ".drift.csv.0123abcd.tmp"), "half");
            return 0;
        }));
        Assert.Contains(".drift.csv.0123abcd.tmp", e.Message);
        Assert.Equal(before, Snapshot(dir));
    }

    [Fact]
    public void SecondRun_IntoAFolderInUse_IsRefusedAtOnceNamingIt_AndTheFirstCompletes()
    {
        string dir = Earlier();
        using var first = OutputFolder.Begin(dir, force: true);
        File.WriteAllText(Path.Combine(first.Staging, "first.csv"), "1");

        var e = Assert.Throws<OutputFolderBusyException>(() => OutputFolder.Begin(dir, force: true));
        Assert.Contains(dir, e.Message);
        Assert.Contains("in use by another noether run", e.Message);
        // The refused run touched nothing: not --out, not the first run's staging folder.
        Assert.True(File.Exists(Path.Combine(first.Staging, "first.csv")));
        Assert.True(File.Exists(Path.Combine(dir, "result.csv")));

        first.Commit();
        Assert.Equal(["first.csv"], Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Lock_IsReleasedWhenARunEnds_SoTheNextRunProceeds()
    {
        string dir = Earlier();
        Assert.Throws<InvalidOperationException>(() => OutputFolder.Run(dir, force: true, CancellationToken.None, _ => throw new InvalidOperationException("x")));
        Assert.Equal(0, OutputFolder.Run(dir, force: true, CancellationToken.None, s => { File.WriteAllText(Path.Combine(s, "r"), "r"); return 0; }));
        Assert.Equal("r", File.ReadAllText(Path.Combine(dir, "r")));
    }

    [Fact]
    public void NestedFolder_InsideAStagingFolder_StagesWithoutALock_AndGoesWithItsParent()
    {
        string dir = Path.Combine(_root, "run");
        using (var outer = OutputFolder.Begin(dir, force: false))
        {
            string step = Path.Combine(outer.Staging, "train");
            using (var inner = OutputFolder.Begin(step, force: true))
            {
                File.WriteAllText(Path.Combine(inner.Staging, "model.safetensors"), "m");
                inner.Commit();
            }
            Assert.Equal(["train"], Directory.EnumerateFileSystemEntries(outer.Staging).Select(Path.GetFileName)); // no .train.lock in the result
            Assert.False(Directory.Exists(dir));
            outer.Commit();
        }
        Assert.Equal("m", File.ReadAllText(Path.Combine(dir, "train", "model.safetensors")));
    }

    [Fact]
    public void LeftoversOfAKilledRun_AreCleanedUnderTheLock_AndASetAsideResultIsPutBack()
    {
        // A run killed between the two renames of a fallback commit: --out is missing, the old result is set aside. A
        // process id that cannot be alive (above Linux's pid_max of 2²²) marks both folders as a dead run's.
        string dir = Path.Combine(_root, "out");
        string aside = Earlier(".out.old-99999999-abcdef12");
        var before = Snapshot(aside).Select(p => p.Replace(aside, dir, StringComparison.Ordinal)).ToArray();
        string staging = Path.Combine(_root, ".out.staging-99999999-0badc0de");
        Directory.CreateDirectory(staging);
        File.WriteAllText(Path.Combine(staging, "half.csv"), "half");

        // The next run into --out finds them under the lock: the set-aside result is --out again and the dead staging
        // folder is gone. A run without --force then sees a non-empty --out and is refused, exactly as if the killed run
        // had never happened.
        var e = Assert.Throws<ArgumentException>(() => OutputFolder.Begin(dir, force: false));
        Assert.Contains("--force", e.Message);
        Assert.Equal(before, Snapshot(dir));
        Assert.False(Directory.Exists(staging));
        Assert.False(Directory.Exists(aside));
        Assert.Equal(".out.lock,out", string.Join(',', Beside()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Begin_WithAnEmptyPath_NamesTheOption(string path)
    {
        var e = Assert.Throws<ArgumentException>(() => OutputFolder.Begin(path, force: false));
        Assert.StartsWith("--out:", e.Message);
    }

    [Fact]
    public void Begin_OnASymbolicLinkToAFolder_WritesIntoTheFolderItPointsTo()
    {
        string real = Earlier("real");
        string link = Path.Combine(_root, "link");
        Directory.CreateSymbolicLink(link, real);
        OutputFolder.Run(link, force: true, CancellationToken.None, s => { File.WriteAllText(Path.Combine(s, "n"), "n"); return 0; });
        Assert.Equal(["n"], Directory.EnumerateFileSystemEntries(real).Select(Path.GetFileName));
        Assert.NotNull(new DirectoryInfo(link).LinkTarget); // the link itself is kept
    }
}
