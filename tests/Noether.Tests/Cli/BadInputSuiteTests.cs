using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Noether.Tests.Cli;

/// <summary>Malformed inputs written once for the whole suite: IDX and CIFAR files, safetensors files, folders.</summary>
public sealed class BadInputFiles : IDisposable
{
    public BadInputFiles()
    {
        Root = Directory.CreateTempSubdirectory("noether-bad-input-").FullName;
        // IDX: a header that promises more images than follow; a wrong magic number; a label outside the 10 classes; a
        // gzip file cut in the middle.
        TruncatedIdx = Idx("idx-truncated", images: 10, imageBytes: 500, labels: Enumerable.Repeat((byte)1, 10).ToArray());
        BadMagicIdx = Idx("idx-bad-magic", images: 2, imageBytes: 1568, labels: [1, 2], magic: 0x00000999);
        BadLabelIdx = Idx("idx-bad-label", images: 2, imageBytes: 1568, labels: [3, 12]);
        CutGzipIdx = Path.Combine(Root, "idx-cut-gzip");
        Directory.CreateDirectory(CutGzipIdx);
        var gz = new MemoryStream();
        using (var z = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            z.Write(IdxImages(10, 7840, 0x803));
        File.WriteAllBytes(Path.Combine(CutGzipIdx, "train-images-idx3-ubyte.gz"), gz.ToArray()[..(int)(gz.Length / 2)]);
        File.WriteAllBytes(Path.Combine(CutGzipIdx, "train-labels-idx1-ubyte"), IdxLabels(new byte[10]));
        // CIFAR-10: batches whose size is not a whole number of 3073-byte records.
        Cifar = Path.Combine(Root, "cifar");
        Directory.CreateDirectory(Path.Combine(Cifar, "cifar-10-batches-bin"));
        foreach (var name in new[] { "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch" })
            File.WriteAllBytes(Path.Combine(Cifar, "cifar-10-batches-bin", name + ".bin"), new byte[5000]);
        GoodIdx = AnalyzeFixtures.WriteIdx(Path.Combine(Root, "idx-good"), count: 12);

        var (header, data) = AnalyzeFixtures.SmallMlp();
        GoodWeights = Write("mlp.safetensors", AnalyzeFixtures.SafetensorsBytes(header, data));
        TruncatedWeights = Write("truncated.safetensors", AnalyzeFixtures.SafetensorsBytes(header, data)[..^40]);
        var nan = (byte[])data.Clone();
        BinaryPrimitives.WriteSingleLittleEndian(nan.AsSpan(4 * 5), float.NaN);
        NanWeights = Write("nan.safetensors", AnalyzeFixtures.SafetensorsBytes(header, nan));
        var narrow = AnalyzeFixtures.SmallMlp(firstShape: [2, 100]);
        NarrowWeights = Write("narrow.safetensors", AnalyzeFixtures.SafetensorsBytes(narrow.Header, narrow.Data));
        EmptyFile = Write("empty.safetensors", []);
        TextFile = Write("notes.txt", "not a directory"u8.ToArray());
        Full = Path.Combine(Root, "full");
        Directory.CreateDirectory(Full);
        File.WriteAllText(Path.Combine(Full, "earlier-result.csv"), "x\n1\n");
    }

    public string Root { get; }
    public string TruncatedIdx { get; }
    public string BadMagicIdx { get; }
    public string BadLabelIdx { get; }
    public string CutGzipIdx { get; }
    public string GoodIdx { get; }
    public string Cifar { get; }
    public string GoodWeights { get; }
    public string TruncatedWeights { get; }
    public string NanWeights { get; }
    public string NarrowWeights { get; }
    public string EmptyFile { get; }
    public string TextFile { get; }

    /// <summary>A non-empty folder holding an earlier result (earlier-result.csv).</summary>
    public string Full { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(Root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Idx(string name, int images, int imageBytes, byte[] labels, int magic = 0x803)
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        foreach (var split in new[] { "train", "t10k" })
        {
            File.WriteAllBytes(Path.Combine(dir, $"{split}-images-idx3-ubyte"), IdxImages(images, imageBytes, magic));
            File.WriteAllBytes(Path.Combine(dir, $"{split}-labels-idx1-ubyte"), IdxLabels(labels));
        }
        return dir;
    }

    private static byte[] IdxImages(int count, int pixelBytes, int magic)
    {
        var b = new byte[16 + pixelBytes];
        BinaryPrimitives.WriteInt32BigEndian(b, magic);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(12), 28);
        return b;
    }

    private static byte[] IdxLabels(byte[] labels)
    {
        var b = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(b, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4), labels.Length);
        labels.CopyTo(b, 8);
        return b;
    }
}

/// <summary>
/// The CLI bad-input suite (issue 6, item 5): malformed invocations and files across every command. Each case must end
/// with a non-zero exit code, exactly one line on stderr that names the bad input, no stack trace, no output folder
/// created, and an earlier result left untouched. Parse- and validation-time cases run in-process through the same
/// entry point (milliseconds each); the environment-variable cases, Ctrl-C and a crash-free subprocess check run the
/// real executable.
/// </summary>
public sealed class BadInputSuiteTests(BadInputFiles files) : IClassFixture<BadInputFiles>, IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("noether-bad-out-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    /// <summary>A case: the arguments (given the files and a fresh --out path that must not appear) and what stderr must name.</summary>
    private sealed record Case(Func<BadInputFiles, string, string[]> Args, Func<BadInputFiles, string[]> Mentions);

    private static Case C(Func<BadInputFiles, string, string[]> args, params string[] mentions) => new(args, _ => mentions);

    private static Case C(Func<BadInputFiles, string, string[]> args, Func<BadInputFiles, string[]> mentions) => new(args, mentions);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // Unknown commands and options.
        ["unknown-command"] = C((_, o) => ["frobnicate", "--out", o], "frobnicate"),
        ["info-unknown-option"] = C((_, _) => ["info", "--bogus"], "--bogus"),
        ["drift-unknown-option"] = C((_, o) => ["drift", "--frobnicate", "3", "--out", o], "--frobnicate"),
        ["drift-unknown-profile"] = C((_, o) => ["drift", "--profile", "huge", "--out", o], "huge", "quick"),
        // Negative or NaN sizes and rates.
        ["drift-negative-steps"] = C((_, o) => ["drift", "--steps", "-5", "--out", o], "--steps", "-5"),
        ["drift-nan-learning-rate"] = C((_, o) => ["drift", "--lr", "nan", "--out", o], "--lr", "nan"),
        ["drift-negative-rate-in-list"] = C((_, o) => ["drift", "--lr", "0.1,-1", "--out", o], "--lr", "-1"),
        ["drift-nan-init-std"] = C((_, o) => ["drift", "--init-std", "NaN", "--out", o], "--init-std", "NaN"),
        ["drift-unknown-activation"] = C((_, o) => ["drift", "--activations", "relu,swish", "--out", o], "--activations", "swish"),
        ["xavier-zero-draws"] = C((_, o) => ["xavier", "--draws", "0", "--out", o], "--draws", "0"),
        ["xavier-zero-width"] = C((_, o) => ["xavier", "--shapes", "10x0x5", "--out", o], "--shapes", "10x0x5"),
        ["xavier-malformed-shape"] = C((_, o) => ["xavier", "--shapes", "abc", "--out", o], "--shapes", "abc"),
        ["orbit-hidden-too-wide"] = C((_, o) => ["orbit", "--shapes", "5x200x5", "--out", o], "--shapes", "200"),
        ["orbit-tolerance-above-one"] = C((_, o) => ["orbit", "--tolerance", "2", "--out", o], "--tolerance", "2"),
        ["orbit-unknown-group"] = C((_, o) => ["orbit", "--groups", "gl,lorentz", "--out", o], "--groups", "lorentz"),
        ["discover-zero-width"] = C((_, o) => ["discover", "--widths", "0", "--out", o], "--widths", "0"),
        ["discover-too-few-samples"] = C((_, o) => ["discover", "--samples", "1", "--out", o], "--samples", "1"),
        ["symmetry-check-one-width"] = C((_, o) => ["symmetry-check", "--arch", "8", "--out", o], "--arch", "8"),
        ["symmetry-check-layer-out-of-range"] = C((_, o) => ["symmetry-check", "--layer", "9", "--out", o], "--layer", "9"),
        ["symmetry-check-nan-epsilon"] = C((_, o) => ["symmetry-check", "--epsilon", "nan", "--out", o], "--epsilon"),
        ["train-zero-epochs"] = C((_, o) => ["train", "--epochs", "0", "--out", o], "--epochs", "0"),
        ["train-negative-learning-rate"] = C((_, o) => ["train", "--lr", "-1", "--out", o], "--lr", "-1"),
        ["train-unknown-dataset"] = C((_, o) => ["train", "--data", "mnist", "--out", o], "mnist"),
        ["analyze-negative-samples"] = C((f, o) => ["analyze", "--weights", f.GoodWeights, "--arch", "mlp:784-2-2-10", "--samples", "-3", "--out", o], "--samples", "-3"),
        ["analyze-nan-epsilon"] = C((f, o) => ["analyze", "--weights", f.GoodWeights, "--arch", "mlp:784-2-2-10", "--epsilon", "NaN", "--out", o], "--epsilon", "NaN"),
        ["analyze-missing-required"] = C((_, o) => ["analyze", "--out", o], "--weights", "--arch"),
        ["analyze-malformed-arch"] = C((f, o) => ["analyze", "--weights", f.GoodWeights, "--arch", "mlp:784-x-10", "--out", o], "--arch", "mlp:784-x-10", "'x'"),
        ["analyze-unknown-family"] = C((f, o) => ["analyze", "--weights", f.GoodWeights, "--arch", "resnet:50", "--out", o], "--arch", "resnet"),
        ["analyze-unknown-activation"] = C((f, o) => ["analyze", "--weights", f.GoodWeights, "--arch", "mlp:784-2-2-10:gelu", "--out", o], "--arch", "gelu"),
        // Missing, corrupted or truncated data files.
        ["train-missing-data-dir"] = C((f, o) => ["train", "--data-dir", Path.Combine(f.Root, "no-such-dir"), "--out", o], f => [Path.Combine(f.Root, "no-such-dir")]),
        ["train-truncated-idx"] = C((f, o) => ["train", "--epochs", "1", "--data-dir", f.TruncatedIdx, "--out", o], f => [f.TruncatedIdx, "truncated"]),
        ["train-idx-bad-magic"] = C((f, o) => ["train", "--epochs", "1", "--data-dir", f.BadMagicIdx, "--out", o], f => [f.BadMagicIdx, "magic"]),
        ["train-idx-label-out-of-range"] = C((f, o) => ["train", "--epochs", "1", "--data-dir", f.BadLabelIdx, "--out", o], f => [f.BadLabelIdx, "label 12"]),
        ["train-idx-cut-gzip"] = C((f, o) => ["train", "--epochs", "1", "--data-dir", f.CutGzipIdx, "--out", o], f => [f.CutGzipIdx]),
        ["train-cifar-partial-record"] = C((f, o) => ["train", "--data", "cifar10", "--data-dir", f.Cifar, "--out", o], f => ["data_batch_1.bin", "3073"]),
        ["analyze-truncated-idx"] = C((f, o) => ["analyze", "--weights", f.GoodWeights, "--arch", "mlp:784-2-2-10", "--data-dir", f.TruncatedIdx, "--out", o], f => [f.TruncatedIdx, "truncated"]),
        ["analyze-cifar-partial-record"] = C((f, o) => ["analyze", "--weights", f.GoodWeights, "--arch", "mlp:784-2-2-10", "--data", "cifar10", "--data-dir", f.Cifar, "--out", o], f => ["data_batch_1.bin"]),
        // Weights: missing, empty, truncated, NaN, of the wrong shape, not matching the data.
        ["ensemble-mlp-weights"] = C((f, o) => ["ensemble", "--weights", f.GoodWeights, "--profile", "quick", "--out", o], f => [f.GoodWeights, "SPEC CNN weights", "missing"]),
        ["analyze-weights-missing"] = C((f, o) => ["analyze", "--weights", Path.Combine(f.Root, "absent.safetensors"), "--arch", "mlp:784-2-2-10", "--out", o], f => [Path.Combine(f.Root, "absent.safetensors"), "does not exist"]),
        ["analyze-weights-empty-file"] = C((f, o) => ["analyze", "--weights", f.EmptyFile, "--arch", "mlp:784-2-2-10", "--out", o], f => [f.EmptyFile, "truncated"]),
        ["analyze-weights-truncated"] = C((f, o) => ["analyze", "--weights", f.TruncatedWeights, "--arch", "mlp:784-2-2-10", "--out", o], f => [f.TruncatedWeights, "4.bias"]),
        ["analyze-weights-nan"] = C((f, o) => ["analyze", "--weights", f.NanWeights, "--arch", "mlp:784-2-2-10", "--out", o], f => [f.NanWeights, "0.weight", "NaN"]),
        ["analyze-weights-wrong-shape"] = C((f, o) => ["analyze", "--weights", f.NarrowWeights, "--arch", "mlp:784-2-2-10", "--out", o], f => [f.NarrowWeights, "0.weight", "[2, 100]"]),
        ["analyze-weights-not-a-cnn"] = C((f, o) => ["analyze", "--weights", f.GoodWeights, "--arch", "spec-cnn", "--out", o], f => [f.GoodWeights, "3.weight"]),
        ["analyze-input-width-vs-data"] = C((f, o) => ["analyze", "--weights", f.NarrowWeights, "--arch", "mlp:100-2-2-10", "--data-dir", f.GoodIdx, "--no-sharpness", "--out", o], "--arch", "100", "784"),
        // Output folders: a file, a path below a file, a non-empty folder without --force.
        ["out-is-a-file"] = C((f, _) => ["xavier", "--draws", "10", "--out", f.TextFile], f => ["--out", f.TextFile, "is a file"]),
        ["out-below-a-file"] = C((f, _) => ["orbit", "--out", Path.Combine(f.TextFile, "results")], f => ["--out", "cannot write"]),
        ["out-not-empty-without-force"] = C((f, _) => ["drift", "--profile", "quick", "--out", f.Full], f => ["--out", f.Full, "--force"]),
        ["analyze-out-not-empty-without-force"] = C((f, _) => ["analyze", "--weights", f.GoodWeights, "--arch", "mlp:784-2-2-10", "--data-dir", f.GoodIdx, "--out", f.Full], f => ["--out", f.Full, "--force"]),
        ["analyze-ensemble-out-not-empty"] = C((f, o) => ["analyze", "--weights", f.GoodWeights, "--arch", "mlp:784-2-2-10", "--data-dir", f.GoodIdx, "--ensemble", "2", "--ensemble-out", f.Full, "--out", o], f => ["--ensemble-out", f.Full, "--force"]),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void BadInput_FailsWithOneLineNamingTheInput(string name)
    {
        var c = Cases[name];
        string fresh = Path.Combine(_scratch, "out-" + name);
        var before = Snapshot(files.Full);
        var r = CliRunner.RunInProcess(c.Args(files, fresh));
        CliRunner.AssertOneLineFailure(r, c.Mentions(files));
        Assert.False(Directory.Exists(fresh), $"{name}: the rejected run left {fresh} behind");
        Assert.Equal(before, Snapshot(files.Full));
        Assert.False(Directory.Exists(Path.Combine(files.TextFile, "results")));
    }

    [Fact]
    public void Suite_HasAtLeastThirtyCasesAcrossEveryCommand()
    {
        Assert.True(Cases.Count >= 30, $"{Cases.Count} cases");
        var commands = Cases.Values.Select(c => c.Args(files, "x")[0]).ToHashSet();
        Assert.Superset(new HashSet<string> { "info", "train", "drift", "xavier", "orbit", "discover", "symmetry-check", "analyze" }, commands);
    }

    /// <summary>The environment variables that name the datasets, pointing at corrupt files (a real process: the environment is process-wide).</summary>
    [Theory]
    [InlineData("NOETHER_FASHION_MNIST", "fashion-mnist")]
    [InlineData("NOETHER_CIFAR10", "cifar10")]
    public void DatasetEnvironmentVariable_PointingAtCorruptFiles_FailsNamingTheFile(string variable, string dataset)
    {
        string dir = dataset == "cifar10" ? files.Cifar : files.TruncatedIdx;
        string fresh = Path.Combine(_scratch, "env-" + dataset);
        var r = CliRunner.Run(["train", "--data", dataset, "--epochs", "1", "--out", fresh], new Dictionary<string, string> { [variable] = dir });
        CliRunner.AssertOneLineFailure(r, dir);
        Assert.False(Directory.Exists(fresh));
    }

    /// <summary>
    /// Ctrl-C in the middle of a run: SIGINT once the run has printed its first progress, into a folder that holds an
    /// earlier result (--force). Exit 130 with one line, no new file, the earlier result untouched.
    /// </summary>
    [Fact]
    public async Task CtrlC_DuringARun_ExitsWith130AndLeavesEarlierResultsUntouched()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGINT needs a POSIX system");
        string outDir = Path.Combine(_scratch, "interrupted");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "earlier.csv"), "a,b\n1,2\n");
        var before = Snapshot(outDir);

        // The default profile runs for several seconds after its first progress line: long enough to be interrupted mid-way.
        using var process = Process.Start(CliRunner.Interruptible(["drift", "--profile", "default", "--out", outDir, "--force"]))!;
        var started = new TaskCompletionSource();
        var stdout = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stdout) stdout.AppendLine(e.Data);
            if (e.Data.StartsWith("drift:", StringComparison.Ordinal)) started.TrySetResult();
        };
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        var first = await Task.WhenAny(started.Task, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(first == started.Task, $"no progress line within 60 s: {stdout}");
        Assert.Equal(0, Kill(process.Id, 2)); // SIGINT
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            await process.WaitForExitAsync(timeout.Token); // throws if the run did not stop within 30 s of SIGINT
        var r = new CliRunner.Result(process.ExitCode, stdout.ToString(), await stderr);
        Assert.True(r.ExitCode == 130, $"exit code {r.ExitCode} after SIGINT, expected 130; stdout:\n{r.Stdout}");
        CliRunner.AssertOneLineFailure(r, "cancelled");
        Assert.Equal(before, Snapshot(outDir));
    }

    /// <summary>A subprocess case of the suite: the real executable keeps the one-line, trace-free contract (in-process runs cannot see a crash of the host).</summary>
    [Fact]
    public void Subprocess_TruncatedWeights_OneLineNoTrace()
    {
        string fresh = Path.Combine(_scratch, "sub");
        var r = CliRunner.Run(["analyze", "--weights", files.TruncatedWeights, "--arch", "mlp:784-2-2-10", "--out", fresh]);
        CliRunner.AssertOneLineFailure(r, files.TruncatedWeights);
        Assert.Equal(2, r.ExitCode);
        Assert.False(Directory.Exists(fresh));
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private static string[] Snapshot(string dir) =>
        [.. Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order()
            .Select(p => File.Exists(p) ? $"{p}:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(p)))}:{File.GetLastWriteTimeUtc(p).Ticks}" : p)];
}
