using Noether.Tensors;

namespace Noether.Data;

/// <summary>
/// CIFAR-10 in its "binary version" (the directory <c>cifar-10-batches-bin</c> of <c>cifar-10-binary.tar.gz</c>):
/// training batches <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> (10,000 images each) and
/// <c>test_batch.bin</c>. Each record is 3073 bytes: one label byte (0–9), then 1024 red, 1024 green and
/// 1024 blue bytes, each channel a row-major 32×32 image — exactly the [C, H, W] layout of
/// <see cref="ImageDataset.Images"/>. Class names come from <c>batches.meta.txt</c> when present.
/// </summary>
/// <remarks>
/// The data set cannot be installed from a package: the user downloads and unpacks it and passes the directory
/// (or its parent holding <c>cifar-10-batches-bin</c>), or sets <see cref="EnvironmentVariable"/>.
/// Malformed batches raise <see cref="DataFormatException"/> naming the file (size not a multiple of 3073,
/// a label ≥ 10, a malformed <c>batches.meta.txt</c>); missing batches raise <see cref="DatasetNotFoundException"/>
/// listing them. The 50,000 training images take 614 MB as float32.
/// </remarks>
public static class Cifar10
{
    /// <summary>Environment variable naming the CIFAR-10 directory when none is passed.</summary>
    public const string EnvironmentVariable = "NOETHER_CIFAR10";

    /// <summary>Image height and width in pixels.</summary>
    public const int ImageSize = 32;

    /// <summary>Colour channels (red, green, blue).</summary>
    public const int Channels = 3;

    /// <summary>Number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>Bytes per record: 1 label byte + 3·32·32 pixel bytes.</summary>
    public const int RecordSize = 1 + Channels * ImageSize * ImageSize;

    /// <summary>The subdirectory the official archive unpacks to.</summary>
    public const string ArchiveDirectory = "cifar-10-batches-bin";

    private const string MetaFile = "batches.meta.txt";

    private static readonly string[] DefaultClassNameList =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>The training batch file names, in load order.</summary>
    public static IReadOnlyList<string> TrainingFiles { get; } =
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];

    /// <summary>The test batch file name.</summary>
    public const string TestFile = "test_batch.bin";

    /// <summary>The standard class names (used when <c>batches.meta.txt</c> is absent): airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck.</summary>
    public static string[] DefaultClassNames => (string[])DefaultClassNameList.Clone();

    /// <summary>
    /// Resolves the directory — <paramref name="directory"/>, else <see cref="EnvironmentVariable"/> — descending into
    /// <see cref="ArchiveDirectory"/> when the batches are there, and reports which batch files exist.
    /// <see cref="DatasetLocation.Directory"/> is null when neither is set.
    /// </summary>
    public static DatasetLocation Locate(string? directory = null) => Locate(directory, Environment.GetEnvironmentVariable);

    internal static DatasetLocation Locate(string? directory, Func<string, string?> getEnvironment)
    {
        string chosenBy = "argument";
        if (string.IsNullOrWhiteSpace(directory))
        {
            directory = getEnvironment(EnvironmentVariable);
            chosenBy = EnvironmentVariable;
        }
        string[] all = [.. TrainingFiles, TestFile];
        if (string.IsNullOrWhiteSpace(directory))
            return new DatasetLocation("CIFAR-10", null, "none", [], all);
        directory = Path.GetFullPath(directory);
        var nested = Path.Combine(directory, ArchiveDirectory);
        if (!AnyBatch(directory) && AnyBatch(nested)) directory = nested;
        var files = new List<string>();
        var missing = new List<string>();
        foreach (var name in all)
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path)) files.Add(path);
            else missing.Add(name);
        }
        return new DatasetLocation("CIFAR-10", directory, chosenBy, files, missing);

        static bool AnyBatch(string dir) => File.Exists(Path.Combine(dir, TestFile)) || File.Exists(Path.Combine(dir, "data_batch_1.bin"));
    }

    /// <summary>
    /// Loads the training split (the five data batches, 50,000 images) or the test split (10,000) as
    /// [N, 3, 32, 32] float32 images in [0, 1] (byte / 255).
    /// </summary>
    /// <param name="directory">The <c>cifar-10-batches-bin</c> directory or its parent; null for <see cref="EnvironmentVariable"/>.</param>
    /// <param name="train">True for the training split, false for the test split.</param>
    /// <exception cref="DatasetNotFoundException">No directory was given, or a batch file of the split is missing.</exception>
    /// <exception cref="DataFormatException">A batch or <c>batches.meta.txt</c> is malformed.</exception>
    public static ImageDataset Load(string? directory = null, bool train = true)
    {
        var location = Locate(directory);
        if (location.Directory is null)
            throw new DatasetNotFoundException(
                $"CIFAR-10: no directory given. Pass the directory of the unpacked binary version (cifar-10-batches-bin from cifar-10-binary.tar.gz) or set {EnvironmentVariable}.",
                ArchiveDirectory, null);
        var names = train ? TrainingFiles : [TestFile];
        var missing = names.Where(n => !File.Exists(Path.Combine(location.Directory, n))).ToList();
        if (missing.Count > 0)
            throw new DatasetNotFoundException(
                $"CIFAR-10: {location.Directory} (chosen by {location.ChosenBy}) lacks the batch file{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)}" +
                (Directory.Exists(location.Directory) ? "" : " — the directory does not exist") +
                ". Expected the unpacked binary version: data_batch_1.bin … data_batch_5.bin and test_batch.bin.",
                Path.Combine(location.Directory, missing[0]), null);
        var paths = names.Select(n => Path.Combine(location.Directory, n)).ToList();
        var classNames = ReadClassNames(Path.Combine(location.Directory, MetaFile)) ?? DefaultClassNames;
        return ReadBatches(paths, classNames, $"CIFAR-10 {(train ? "training" : "test")} split");
    }

    /// <summary>
    /// Reads one or more batch files (records of <see cref="RecordSize"/> bytes) into one data set, in file order.
    /// </summary>
    /// <param name="paths">The batch files.</param>
    /// <param name="classNames">Class names to attach (10 of them), or null.</param>
    /// <param name="description">Text put before the file names in <see cref="ImageDataset.Source"/>.</param>
    /// <exception cref="DataFormatException">A file is empty, its size is not a multiple of 3073, or a label is ≥ 10.</exception>
    public static ImageDataset ReadBatches(IReadOnlyList<string> paths, string[]? classNames = null, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0) throw Errors.Argument(nameof(paths), "Cifar10.ReadBatches: no batch files given");
        // First pass: sizes only, so a bad last batch fails before 600 MB are allocated.
        var counts = new int[paths.Count];
        long total = 0;
        for (int f = 0; f < paths.Count; f++)
        {
            long length = new FileInfo(paths[f]).Length;
            if (length == 0 || length % RecordSize != 0) throw BadSize(paths[f], length);
            counts[f] = (int)(length / RecordSize);
            total += counts[f];
        }
        const int pixels = RecordSize - 1;
        if (total * pixels > Array.MaxLength)
            throw Errors.Argument(nameof(paths), $"Cifar10.ReadBatches: {total} images do not fit in one tensor");

        var images = GC.AllocateUninitializedArray<float>((int)(total * pixels), pinned: true); // see Idx.PixelsToUnitInterval
        var labels = new int[total];
        int n = 0;
        for (int f = 0; f < paths.Count; f++)
        {
            var bytes = File.ReadAllBytes(paths[f]);
            if (bytes.Length != (long)counts[f] * RecordSize) throw BadSize(paths[f], bytes.Length);
            for (int r = 0; r < counts[f]; r++, n++)
            {
                var record = bytes.AsSpan(r * RecordSize, RecordSize);
                if (record[0] >= ClassCount)
                    throw new DataFormatException(paths[f], $"record {r} (byte offset {r * RecordSize}) has label {record[0]}, expected 0–{ClassCount - 1}");
                labels[n] = record[0];
                // Record layout R(32×32) G(32×32) B(32×32), each row-major, is already [C, H, W].
                Idx.PixelsToUnitInterval(record[1..], images.AsSpan(n * pixels, pixels));
            }
        }
        var tensor = new Tensor<float>(images, (int)total, Channels, ImageSize, ImageSize);
        string source = $"{(description is null ? "" : description + ": ")}{string.Join(", ", paths)}";
        return new ImageDataset(tensor, labels, ClassCount, classNames, source);
    }

    private static DataFormatException BadSize(string path, long length) => new(path,
        $"size {length} bytes is not a positive multiple of the CIFAR-10 record size {RecordSize} (1 label byte + 3072 pixel bytes)" +
        (length >= RecordSize ? $": {length / RecordSize} whole records and {length % RecordSize} bytes left over" : ""));

    /// <summary>The class names of <c>batches.meta.txt</c> (one per non-empty line), or null when the file is absent.</summary>
    /// <exception cref="DataFormatException">The file does not hold exactly 10 non-empty lines.</exception>
    public static string[]? ReadClassNames(string metaPath)
    {
        ArgumentNullException.ThrowIfNull(metaPath);
        if (!File.Exists(metaPath)) return null;
        var names = File.ReadAllLines(metaPath).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (names.Length != ClassCount)
            throw new DataFormatException(metaPath, $"expected {ClassCount} class names, one per line, found {names.Length}");
        return names;
    }
}
