namespace Noether.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul &amp; Vollgraf 2017): 70,000 grey 28×28 images of clothing in 10 classes,
/// 60,000 for training and 10,000 for testing, stored as IDX files. Noether's default data set; Debian ships it
/// in the package <c>dataset-fashion-mnist</c> under <see cref="DefaultDirectory"/>.
/// </summary>
/// <remarks>
/// The directory is, in order of precedence: the <c>directory</c> argument; else the environment variable
/// <see cref="EnvironmentVariable"/> when set; else <see cref="DefaultDirectory"/>. Only that one directory is
/// searched (a mistyped override fails loudly instead of silently falling back). Each file may be gzip-compressed
/// (<c>….gz</c>, as Debian ships them) or raw (same name without <c>.gz</c>).
/// </remarks>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Environment variable that overrides <see cref="DefaultDirectory"/>.</summary>
    public const string EnvironmentVariable = "NOETHER_FASHION_MNIST";

    /// <summary>The shell command that installs the data set on Debian (run as root).</summary>
    public const string InstallCommand = "apt-get install -y dataset-fashion-mnist";

    /// <summary>Image height and width in pixels.</summary>
    public const int ImageSize = 28;

    /// <summary>Number of classes.</summary>
    public const int ClassCount = 10;

    private static readonly string[] ClassNameList =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private static readonly string[] FileStems =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>The 10 class names, index = label: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.</summary>
    public static string[] ClassNames => (string[])ClassNameList.Clone();

    /// <summary>Finds the directory to use (see the type's remarks) and reports which of the four files exist there.</summary>
    /// <param name="directory">An explicit directory, or null for the environment variable / default.</param>
    public static DatasetLocation Locate(string? directory = null) => Locate(directory, Environment.GetEnvironmentVariable);

    /// <summary><see cref="Locate(string?)"/> with the environment read through <paramref name="getEnvironment"/> (testable without touching the process environment).</summary>
    internal static DatasetLocation Locate(string? directory, Func<string, string?> getEnvironment)
    {
        string chosenBy;
        if (!string.IsNullOrWhiteSpace(directory)) chosenBy = "argument";
        else if (getEnvironment(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            directory = fromEnvironment;
            chosenBy = EnvironmentVariable;
        }
        else
        {
            directory = DefaultDirectory;
            chosenBy = "default";
        }
        directory = Path.GetFullPath(directory);
        var files = new List<string>();
        var missing = new List<string>();
        foreach (var stem in FileStems)
        {
            if (FindFile(directory, stem) is string path) files.Add(path);
            else missing.Add(stem + ".gz");
        }
        return new DatasetLocation("Fashion-MNIST", directory, chosenBy, files, missing);
    }

    /// <summary>
    /// Loads the training split (60,000 images) or the test split (10,000) as [N, 1, 28, 28] float32 images in
    /// [0, 1] with their labels and <see cref="ClassNames"/>.
    /// </summary>
    /// <param name="directory">Directory holding the IDX files; null for <see cref="EnvironmentVariable"/> or <see cref="DefaultDirectory"/>.</param>
    /// <param name="train">True for the training split, false for the test split.</param>
    /// <exception cref="DatasetNotFoundException">A file of the split is missing; the message names the directory, how it was chosen, and <see cref="InstallCommand"/>.</exception>
    /// <exception cref="DataFormatException">A file is malformed or not 28×28 images.</exception>
    public static ImageDataset Load(string? directory = null, bool train = true) =>
        Load(Locate(directory), train);

    internal static ImageDataset Load(DatasetLocation location, bool train)
    {
        string prefix = train ? "train" : "t10k";
        string dir = location.Directory!;
        string? images = FindFile(dir, prefix + "-images-idx3-ubyte");
        string? labels = FindFile(dir, prefix + "-labels-idx1-ubyte");
        if (images is null || labels is null)
        {
            var missing = new List<string>();
            if (images is null) missing.Add(prefix + "-images-idx3-ubyte.gz");
            if (labels is null) missing.Add(prefix + "-labels-idx1-ubyte.gz");
            string where = location.ChosenBy switch
            {
                "argument" => "the directory given",
                "default" => $"the default directory (set {EnvironmentVariable} or pass a directory to use another)",
                _ => $"the directory named by {location.ChosenBy}",
            };
            string message = $"Fashion-MNIST not found: {dir} ({where}) lacks {string.Join(" and ", missing)}" +
                (Directory.Exists(dir) ? "" : " — the directory does not exist") +
                $". Install it with `{InstallCommand}` (as root), or point {EnvironmentVariable} at a directory holding the IDX files.";
            throw new DatasetNotFoundException(message, Path.Combine(dir, missing[0]), InstallCommand);
        }
        return Idx.Load(images, labels, ClassCount, ClassNames, ImageSize, ImageSize,
            $"Fashion-MNIST {(train ? "training" : "test")} split");
    }

    /// <summary>The gzip file if present, else the raw one, else null.</summary>
    private static string? FindFile(string directory, string stem)
    {
        foreach (var name in (ReadOnlySpan<string>)[stem + ".gz", stem])
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path)) return path;
        }
        return null;
    }
}
