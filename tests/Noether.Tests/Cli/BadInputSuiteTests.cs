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
        EmptyIdx = Idx("idx-empty", images: 0, imageBytes: 0, labels: []);

        var (header, data) = AnalyzeFixtures.SmallMlp();
        GoodWeights = Write("mlp.safetensors", AnalyzeFixtures.SafetensorsBytes(header, data));
        TruncatedWeights = Write("truncated.safetensors", AnalyzeFixtures.SafetensorsBytes(header, data)[..^40]);
        var nan = (byte[])data.Clone();
        BinaryPrimitives.WriteSingleLittleEndian(nan.AsSpan(4 * 5), float.NaN);
        NanWeights = Write("nan.safetensors", AnalyzeFixtures.SafetensorsBytes(header, nan));
        var narrow = AnalyzeFixtures.SmallMlp(firstShape: [2, 100]);
        NarrowWeights = Write("narrow.safetensors", AnalyzeFixtures.SafetensorsBytes(narrow.Header, narrow.Data));
        // An F64 first layer with one weight of 1e308: finite, but its square (in Q) is not.
        var (wideHeader, wideData) = AnalyzeFixtures.SmallMlp("F64");
        BinaryPrimitives.WriteDoubleLittleEndian(wideData.AsSpan(0), 1e308);
        HugeWeights = Write("huge.safetensors", AnalyzeFixtures.SafetensorsBytes(wideHeader, wideData));
        EmptyFile = Write("empty.safetensors", []);
        TextFile = Write("notes.txt", "not a directory"u8.ToArray());
        // Files that are not regular files, malformed encodings, integer weights, links, a folder another run holds.
        Fifo = Path.Combine(Root, "weights.fifo");
        Assert.Equal(0, MkFifo(Fifo, 0x1B6)); // 0666
        var (mlpHeader, mlpData) = AnalyzeFixtures.SmallMlp();
        var invalid = AnalyzeFixtures.SafetensorsBytes(mlpHeader, mlpData);
        invalid[8 + 2] = 0xFF; // inside the first tensor's name: never valid in UTF-8
        InvalidUtf8Weights = Write("invalid-utf8.safetensors", invalid);
        IntegerWeights = Write("integer.safetensors", AnalyzeFixtures.SafetensorsBytes("{\"0.weight\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", new byte[16]));
        DanglingLink = Path.Combine(Root, "dangling");
        File.CreateSymbolicLink(DanglingLink, Path.Combine(Root, "nowhere"));
        LinkToFile = Path.Combine(Root, "link-to-file");
        File.CreateSymbolicLink(LinkToFile, Path.Combine(Root, "notes.txt"));
        Locked = Path.Combine(Root, "locked");
        _lock = new FileStream(Path.Combine(Root, ".locked.lock"), FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        Full = Path.Combine(Root, "full");
        Directory.CreateDirectory(Full);
        // The zoo MLP with its input declared [batch, 1, 32, 32]: not Fashion-MNIST's 1×28×28.
        var proto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(Noether.Tests.Interop.OnnxZooTests.Folder, "mlp.onnx")));
        foreach (int axis in new[] { 2, 3 }) proto.Graph.Input[0].Type.TensorType.Shape.Dim[axis].DimValue = 32;
        WrongInputOnnx = Write("mlp-32x32.onnx", Google.Protobuf.MessageExtensions.ToByteArray(proto));
        File.WriteAllText(Path.Combine(Full, "earlier-result.csv"), "x\n1\n");
    }

    public string Root { get; }
    public string TruncatedIdx { get; }
    public string BadMagicIdx { get; }
    public string BadLabelIdx { get; }
    public string CutGzipIdx { get; }
    public string GoodIdx { get; }

    /// <summary>IDX files that are well formed but declare 0 images.</summary>
    public string EmptyIdx { get; }
    public string Cifar { get; }
    public string GoodWeights { get; }
    public string TruncatedWeights { get; }
    public string NanWeights { get; }
    public string NarrowWeights { get; }

    /// <summary>An MLP whose F64 first layer holds a weight of 1e308.</summary>
    public string HugeWeights { get; }
    public string EmptyFile { get; }
    public string TextFile { get; }

    /// <summary>A FIFO (named pipe): opening it for reading would block until a writer comes.</summary>
    public string Fifo { get; }

    /// <summary>A safetensors file whose JSON header holds a byte that is not UTF-8.</summary>
    public string InvalidUtf8Weights { get; }

    /// <summary>A safetensors file with an I64 tensor.</summary>
    public string IntegerWeights { get; }

    /// <summary>A symbolic link to nothing.</summary>
    public string DanglingLink { get; }

    /// <summary>A symbolic link to a regular file.</summary>
    public string LinkToFile { get; }

    /// <summary>An output folder whose lock (.locked.lock) this fixture holds, as a run in progress would.</summary>
    public string Locked { get; }

    private readonly FileStream _lock;

    /// <summary>The zoo MLP declaring a 1×32×32 input.</summary>
    public string WrongInputOnnx { get; }

    /// <summary>A non-empty folder holding an earlier result (earlier-result.csv).</summary>
    public string Full { get; }

    public void Dispose()
    {
        _lock.Dispose();
        Directory.Delete(Root, recursive: true);
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MkFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

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

    /// <summary>A model of the ONNX fixture zoo (tests/fixtures/onnx).</summary>
    private static string Onnx(string name) => Path.Combine(Noether.Tests.Interop.OnnxZooTests.Folder, name);

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
        // Input paths that are not regular files (issue 16): refused at parse time, before anything opens them — a FIFO
        // would block the read forever.
        ["analyze-weights-fifo"] = C((f, o) => ["analyze", "--weights", f.Fifo, "--arch", "mlp:784-2-2-10", "--out", o], f => ["--weights", f.Fifo, "FIFO"]),
        ["sharpness-weights-fifo"] = C((f, o) => ["sharpness", "--weights", f.Fifo, "--out", o], f => ["--weights", f.Fifo, "FIFO"]),
        ["ensemble-weights-fifo"] = C((f, o) => ["ensemble", "--weights", f.Fifo, "--out", o], f => ["--weights", f.Fifo, "FIFO"]),
        ["attack-weights-fifo"] = C((f, o) => ["attack", "--weights", f.Fifo, "--out", o], f => ["--weights", f.Fifo, "FIFO"]),
        ["teleport-weights-fifo"] = C((f, o) => ["teleport", "--weights", f.Fifo, "--out", o], f => ["--weights", f.Fifo, "FIFO"]),
        ["valley-cnn-fifo"] = C((f, o) => ["valley", "--cnn", f.Fifo, "--out", o], f => ["--cnn", f.Fifo, "FIFO"]),
        ["analyze-weights-directory"] = C((f, o) => ["analyze", "--weights", f.Root, "--arch", "mlp:784-2-2-10", "--out", o], f => ["--weights", f.Root, "is a directory"]),
        ["sharpness-weights-directory"] = C((f, o) => ["sharpness", "--weights", f.Root, "--out", o], f => ["--weights", f.Root, "is a directory"]),
        ["ensemble-weights-directory"] = C((f, o) => ["ensemble", "--weights", f.Root, "--out", o], f => ["--weights", f.Root, "is a directory"]),
        ["attack-weights-directory"] = C((f, o) => ["attack", "--weights", f.Root, "--out", o], f => ["--weights", f.Root, "is a directory"]),
        ["valley-weights-directory"] = C((f, o) => ["valley", "--weights", f.Root, "--out", o], f => ["--weights", f.Root, "is a directory"]),
        ["analyze-weights-device"] = C((_, o) => ["analyze", "--weights", "/dev/null", "--arch", "mlp:784-2-2-10", "--out", o], "--weights", "/dev/null", "character device"),
        ["ensemble-weights-device"] = C((_, o) => ["ensemble", "--weights", "/dev/zero", "--out", o], "--weights", "/dev/zero", "character device"),
        ["sharpness-weights-missing"] = C((f, o) => ["sharpness", "--weights", Path.Combine(f.Root, "absent.safetensors"), "--out", o], f => ["--weights", Path.Combine(f.Root, "absent.safetensors"), "does not exist"]),
        ["teleport-weights-missing"] = C((f, o) => ["teleport", "--weights", Path.Combine(f.Root, "absent.safetensors"), "--out", o], f => ["--weights", "does not exist"]),
        ["train-data-dir-is-a-file"] = C((f, o) => ["train", "--data-dir", f.TextFile, "--out", o], f => ["--data-dir", f.TextFile, "expected a folder"]),
        ["train-data-dir-fifo"] = C((f, o) => ["train", "--data-dir", f.Fifo, "--out", o], f => ["--data-dir", f.Fifo, "FIFO"]),
        ["analyze-data-dir-is-a-file"] = C((f, o) => ["analyze", "--weights", f.GoodWeights, "--arch", "mlp:784-2-2-10", "--data-dir", f.TextFile, "--out", o], f => ["--data-dir", "expected a folder"]),
        ["ensemble-data-dir-is-a-file"] = C((f, o) => ["ensemble", "--data-dir", f.TextFile, "--out", o], f => ["--data-dir", "expected a folder"]),
        ["sharpness-data-dir-missing"] = C((f, o) => ["sharpness", "--weights", f.GoodWeights, "--data-dir", Path.Combine(f.Root, "no-such-dir"), "--out", o], f => ["--data-dir", "does not exist"]),
        // Malformed encodings and weights of the wrong kind name the file.
        ["analyze-weights-invalid-utf8"] = C((f, o) => ["analyze", "--weights", f.InvalidUtf8Weights, "--arch", "mlp:784-2-2-10", "--out", o], f => [f.InvalidUtf8Weights, "UTF-8"]),
        ["ensemble-weights-invalid-utf8"] = C((f, o) => ["ensemble", "--weights", f.InvalidUtf8Weights, "--data-dir", f.GoodIdx, "--out", o], f => [f.InvalidUtf8Weights, "UTF-8"]),
        ["ensemble-weights-integer"] = C((f, o) => ["ensemble", "--weights", f.IntegerWeights, "--data-dir", f.GoodIdx, "--out", o], f => ["--weights", f.IntegerWeights, "I64"]),
        ["attack-weights-integer"] = C((f, o) => ["attack", "--weights", f.IntegerWeights, "--data-dir", f.GoodIdx, "--out", o], f => ["--weights", f.IntegerWeights, "I64"]),
        ["analyze-weights-integer"] = C((f, o) => ["analyze", "--weights", f.IntegerWeights, "--arch", "mlp:784-2-2-10", "--out", o], f => [f.IntegerWeights, "I64"]),
        // Extreme values that used to hang, overflow or surface an internal error: refused with the option and its range.
        ["symmetry-check-weight-scale-1e150"] = C((_, o) => ["symmetry-check", "--weight-scale", "1e150", "--out", o], "--weight-scale", "1E+150"),
        ["symmetry-check-weight-scale-1e308"] = C((_, o) => ["symmetry-check", "--weight-scale", "1e308", "--out", o], "--weight-scale", "1E+308"),
        ["symmetry-check-weight-scale-overflows-to-infinity"] = C((_, o) => ["symmetry-check", "--weight-scale", "1e309", "--out", o], "--weight-scale"),
        ["symmetry-check-negative-weight-scale"] = C((_, o) => ["symmetry-check", "--weight-scale", "-1", "--out", o], "--weight-scale", "-1"),
        ["symmetry-check-group-scale-1e308"] = C((_, o) => ["symmetry-check", "--group-scale", "1e308", "--out", o], "--group-scale", "1E+308"),
        ["symmetry-check-epsilon-1e300"] = C((_, o) => ["symmetry-check", "--epsilon", "1e300", "--out", o], "--epsilon", "1E+300"),
        ["symmetry-check-zero-draws"] = C((_, o) => ["symmetry-check", "--draws", "0", "--out", o], "--draws", "0"),
        ["drift-init-std-1e150"] = C((_, o) => ["drift", "--init-std", "1e150", "--out", o], "--init-std", "1E+150"),
        ["drift-infinite-init-std"] = C((_, o) => ["drift", "--init-std", "1e309", "--out", o], "--init-std"),
        ["analyze-rescale-std-1000"] = C((f, o) => ["analyze", "--weights", f.GoodWeights, "--arch", "mlp:784-2-2-10", "--rescale", "--rescale-std", "1000", "--out", o], "--rescale-std", "1000"),
        ["ensemble-negative-leaky-slope"] = C((_, o) => ["ensemble", "--leaky-slope", "-1", "--out", o], "--leaky-slope", "-1"),
        ["attack-nan-leaky-slope"] = C((_, o) => ["attack", "--leaky-slope", "nan", "--out", o], "--leaky-slope", "NaN"),
        // Counts whose memory the machine cannot hold: refused before anything is allocated, with the estimate and the limit.
        ["xavier-draws-1e9"] = C((_, o) => ["xavier", "--draws", "1000000000", "--out", o], "--draws 1000000000", "GiB", "NOETHER_MEMORY_LIMIT"),
        ["discover-samples-1e8"] = C((_, o) => ["discover", "--samples", "100000000", "--out", o], "--samples 100000000", "GiB", "NOETHER_MEMORY_LIMIT"),
        ["train-hidden-600000"] = C((_, o) => ["train", "--hidden", "600000", "--out", o], "--hidden 600000", "GiB", "NOETHER_MEMORY_LIMIT"),
        ["train-channels-100000"] = C((_, o) => ["train", "--channels", "100000", "--out", o], "--channels 100000", "GiB"),
        ["train-channels-and-hidden-overflow-a-tensor"] = C((_, o) => ["train", "--channels", "100000", "--hidden", "100000", "--out", o], "--channels 100000 --hidden 100000", "one tensor"),
        ["ensemble-members-1e9"] = C((f, o) => ["ensemble", "--data-dir", f.GoodIdx, "--members", "1000000000", "--out", o], "--members 1000000000", "GiB", "NOETHER_MEMORY_LIMIT"),
        ["attack-members-1e9"] = C((f, o) => ["attack", "--data-dir", f.GoodIdx, "--members", "1000000000", "--out", o], "--members 1000000000", "GiB"),
        ["train-model-resnet20-batch-size-1e9"] = C((_, o) => ["train", "--model", Onnx("resnet20.onnx"), "--batch-size", "1000000000", "--out", o], "--batch-size 1000000000", "GiB", "recorded values", "NOETHER_MEMORY_LIMIT"),
        ["train-model-transformer-float64-batch-size-60000"] = C((_, o) => ["train", "--model", Onnx("transformer.onnx"), "--float64", "--batch-size", "60000", "--out", o], "--batch-size 60000", "GiB", "float64"),
        ["train-model-monitor-batch-size-60000"] = C((_, o) => ["train", "--model", Onnx("resnet20.onnx"), "--monitor", "1", "--batch-size", "60000", "--out", o], "--batch-size 60000", "census monitor"),
        ["curvature-resnet20-batch-size-60000"] = C((_, o) => ["curvature", "--model", Onnx("resnet20.onnx"), "--images", "60000", "--batch-size", "60000", "--out", o], "--batch-size 60000", "GiB", "Hessian-vector products"),
        ["curvature-transformer-batch-size-30000"] = C((_, o) => ["curvature", "--model", Onnx("transformer.onnx"), "--images", "60000", "--batch-size", "30000", "--out", o], "--batch-size 30000", "GiB", "NOETHER_MEMORY_LIMIT"),
        ["analyze-trace-probes-1e8"] = C((f, o) => ["analyze", "--weights", f.GoodWeights, "--arch", "mlp:784-2-2-10", "--trace-probes", "100000000", "--out", o], "--trace-probes", "100000"),
        ["sharpness-probes-1e8"] = C((_, o) => ["sharpness", "--probes", "100000000", "--out", o], "--probes", "100000"),
        // Output folders: empty, a line break in the name, links, the file-system root, a folder another run holds.
        ["out-empty-string"] = C((_, _) => ["xavier", "--draws", "10", "--out", ""], "--out", "empty"),
        ["out-line-break-in-name"] = C((_, o) => ["orbit", "--out", o + "\nsecond-line"], "--out", "control character"),
        ["out-dangling-link"] = C((f, _) => ["xavier", "--draws", "10", "--out", f.DanglingLink], f => ["--out", f.DanglingLink, "symbolic link", "does not exist"]),
        ["out-link-to-a-file"] = C((f, _) => ["orbit", "--out", f.LinkToFile], f => ["--out", "is a file"]),
        ["out-is-the-root"] = C((_, _) => ["orbit", "--out", "/"], "--out", "root"),
        ["out-in-use-by-another-run"] = C((f, _) => ["xavier", "--draws", "10", "--out", f.Locked], f => ["--out", f.Locked, "in use by another noether run"]),
        ["train-out-in-use-by-another-run"] = C((f, _) => ["train", "--epochs", "1", "--data-dir", f.GoodIdx, "--out", f.Locked], f => ["--out", f.Locked, "in use"]),
        ["out-force-in-use-by-another-run"] = C((f, _) => ["orbit", "--out", f.Locked, "--force"], f => ["--out", f.Locked, "in use"]),
        // A dataset with no images names its files, not a reshape or an empty batch list.
        ["train-empty-dataset"] = C((f, o) => ["train", "--epochs", "1", "--data-dir", f.EmptyIdx, "--out", o], f => [f.EmptyIdx, "no images"]),
        ["ensemble-empty-dataset"] = C((f, o) => ["ensemble", "--data-dir", f.EmptyIdx, "--out", o], f => ["--data", f.EmptyIdx, "no images"]),
        // A finite input whose result is not: fails naming the file, writes nothing (no summary with Q = −∞).
        ["analyze-weight-1e308-overflows"] = C((f, o) => ["analyze", "--weights", f.HugeWeights, "--arch", "mlp:784-2-2-10", "--data-dir", f.GoodIdx, "--no-sharpness", "--out", o], f => [f.HugeWeights, "nothing was written"]),
        // Zero sizes elsewhere.
        ["train-zero-batch-size"] = C((_, o) => ["train", "--batch-size", "0", "--out", o], "--batch-size", "0"),
        ["train-zero-hidden"] = C((_, o) => ["train", "--hidden", "0", "--out", o], "--hidden", "0"),
        ["train-zero-channels"] = C((_, o) => ["train", "--channels", "0", "--out", o], "--channels", "0"),
        // --model on sharpness and valley: a missing file, a file that is not ONNX, an input that is not Fashion-MNIST's, two models.
        ["sharpness-model-missing"] = C((f, o) => ["sharpness", "--model", Path.Combine(f.Root, "absent.onnx"), "--out", o], f => ["--model", Path.Combine(f.Root, "absent.onnx"), "does not exist"]),
        ["valley-model-missing"] = C((f, o) => ["valley", "--model", Path.Combine(f.Root, "absent.onnx"), "--out", o], f => ["--model", Path.Combine(f.Root, "absent.onnx"), "does not exist"]),
        ["sharpness-model-not-onnx"] = C((f, o) => ["sharpness", "--model", f.GoodWeights, "--data-dir", f.GoodIdx, "--samples", "4", "--out", o], f => ["--model", f.GoodWeights, "ONNX"]),
        ["valley-model-not-onnx"] = C((f, o) => ["valley", "--model", f.GoodWeights, "--data", f.GoodIdx, "--samples", "4", "--out", o], f => ["--model", f.GoodWeights, "ONNX"]),
        ["sharpness-model-input-32x32"] = C((f, o) => ["sharpness", "--model", f.WrongInputOnnx, "--data-dir", f.GoodIdx, "--samples", "4", "--out", o], f => ["--model", f.WrongInputOnnx, "32", "1×28×28"]),
        ["valley-model-input-32x32"] = C((f, o) => ["valley", "--model", f.WrongInputOnnx, "--data", f.GoodIdx, "--samples", "4", "--out", o], f => ["--model", f.WrongInputOnnx, "32", "1×28×28"]),
        ["sharpness-model-and-weights"] = C((f, o) => ["sharpness", "--model", Onnx("mlp.onnx"), "--weights", f.GoodWeights, "--out", o], "--model", "--weights"),
        ["valley-model-and-cnn"] = C((f, o) => ["valley", "--model", Onnx("mlp.onnx"), "--cnn", f.GoodWeights, "--out", o], "--model", "--cnn"),
        ["valley-model-and-weights"] = C((f, o) => ["valley", "--model", Onnx("mlp.onnx"), "--weights", f.GoodWeights, "--out", o], "--model", "--weights"),
        ["sharpness-model-resnet20-samples-60000"] = C((_, o) => ["sharpness", "--model", Onnx("resnet20.onnx"), "--samples", "60000", "--out", o], "--samples 60000", "GiB", "Hessian graph"),
        ["valley-model-resnet20-samples-10000"] = C((_, o) => ["valley", "--model", Onnx("resnet20.onnx"), "--samples", "10000", "--out", o], "--samples 10000", "GiB", "loss passes"),
        ["sharpness-zero-top-k"] = C((_, o) => ["sharpness", "--top-k", "0", "--out", o], "--top-k", "0"),
        ["ensemble-zero-members"] = C((_, o) => ["ensemble", "--members", "0", "--out", o], "--members", "0"),
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
    public void Suite_HasAtLeastAHundredCasesAcrossEveryCommand()
    {
        Assert.True(Cases.Count >= 100, $"{Cases.Count} cases");
        var commands = Cases.Values.Select(c => c.Args(files, "x")[0]).ToHashSet();
        Assert.Superset(new HashSet<string> { "info", "train", "drift", "xavier", "orbit", "discover", "symmetry-check", "analyze", "sharpness", "ensemble", "attack", "teleport", "valley" }, commands);
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
