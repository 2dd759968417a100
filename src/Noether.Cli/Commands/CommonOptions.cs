using System.CommandLine.Parsing;

namespace Noether.Cli.Commands;

/// <summary>Options several commands share, with their validation.</summary>
internal static class CommonOptions
{
    public static Option<string> Out(string defaultPath) => new("--out")
    {
        Description = "Directory for the results (created if missing).",
        DefaultValueFactory = _ => defaultPath,
    };

    /// <summary>The profiles every experiment command offers, fastest first.</summary>
    public static readonly string[] Profiles = ["quick", "default", "full"];

    /// <summary><c>--profile quick|default|full</c> (default: default), described by <paramref name="description"/>.</summary>
    public static Option<string> Profile(string description)
    {
        var profile = new Option<string>("--profile") { Description = description, DefaultValueFactory = _ => "default" };
        profile.AcceptOnlyFromAmong(Profiles);
        return profile;
    }

    public static Option<bool> Force() => new("--force") { Description = "Write into a non-empty --out directory." };

    public static Option<int> Seed() => new("--seed") { Description = "Seed of every random draw.", DefaultValueFactory = _ => 0 };

    public static Option<int> PositiveInt(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (r.TryGet(out int v) && v <= 0) r.AddError($"{name} must be a positive integer (got {v})");
        });
        return option;
    }

    public static Option<double> PositiveDouble(string name, string description, double defaultValue)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (r.TryGet(out double v) && (!(v > 0) || double.IsInfinity(v))) r.AddError($"{name} must be a positive finite number (got {v.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
        });
        return option;
    }

    /// <summary>
    /// <c>--shard i/n</c>: run only part i of n of a sweep's grid (contiguous blocks, sizes differing by at most one);
    /// <c>noether merge</c> joins the parts into exactly the unsharded output. Null when not given.
    /// </summary>
    public static Option<Noether.Experiments.Shard?> Shard()
    {
        var option = new Option<Noether.Experiments.Shard?>("--shard")
        {
            Description = "Run only part i of n of the sweep's grid (i/n, 1 ≤ i ≤ n, e.g. 2/4; for a Slurm array: ${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}); join the parts with `noether merge`.",
        };
        option.CustomParser = r =>
        {
            string text = string.Join(' ', r.Tokens.Select(t => t.Value));
            if (Noether.Experiments.Shard.TryParse(text, out var shard)) return shard;
            r.AddError($"--shard must be {Noether.Experiments.Shard.ExpectedForm}, e.g. 2/4 (got '{text}')");
            return null;
        };
        return option;
    }

    /// <summary>
    /// <c>--weights</c>, <c>--data-dir</c> and other input paths: checked at parse time, so that a FIFO (which would block
    /// the read forever), a device or a folder is refused at once with the option named.
    /// </summary>
    public static T ExistingFile<T>(this T option) where T : Option => option.ExistingPath(expectDirectory: false);

    /// <summary>A folder of input files (<c>--data-dir</c>): must exist and be a folder.</summary>
    public static T ExistingDirectory<T>(this T option) where T : Option => option.ExistingPath(expectDirectory: true);

    private static T ExistingPath<T>(this T option, bool expectDirectory) where T : Option
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            string path = r.Tokens[^1].Value;
            if (InputFiles.Problem(path, expectDirectory) is { } problem) r.AddError($"{option.Name} {InputFiles.Show(path)}: {problem}");
        });
        return option;
    }

    /// <summary>A finite number in [<paramref name="min"/>, <paramref name="max"/>] (NaN and ±∞ refused; min = double.Epsilon reads "(0, max]"), with the reason for the bound.</summary>
    public static Option<double> Bounded(this Option<double> option, double min, double max, string why)
    {
        option.Validators.Add(r =>
        {
            if (r.TryGet(out double v) && !(v >= min && v <= max))
                r.AddError(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{option.Name} must be a finite number in {(min == double.Epsilon ? "(0" : $"[{min:G}")}, {max:G}] ({why}); got {v:G}"));
        });
        return option;
    }

    /// <summary>A count at most <paramref name="max"/>, with its reason.</summary>
    public static Option<int> AtMost(this Option<int> option, int max, string why)
    {
        option.Validators.Add(r =>
        {
            if (r.TryGet(out int v) && v > max) r.AddError(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{option.Name} must be at most {max} ({why}); got {v}"));
        });
        return option;
    }

    /// <inheritdoc cref="AtMost(Option{int}, int, string)"/>
    public static Option<int?> AtMost(this Option<int?> option, int max, string why)
    {
        option.Validators.Add(r =>
        {
            if (r.TryGet(out int? v) && v > max) r.AddError(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{option.Name} must be at most {max} ({why}); got {v}"));
        });
        return option;
    }
}

/// <summary>What an input path is, before anything opens it.</summary>
internal static class InputFiles
{
    /// <summary>Null when <paramref name="path"/> is what is expected (a regular file, or a folder), else why not.</summary>
    public static string? Problem(string path, bool expectDirectory)
    {
        if (string.IsNullOrWhiteSpace(path)) return "an empty path";
        string kind = Kind(path);
        if (expectDirectory)
            return kind switch
            {
                "directory" => null,
                "missing" => "does not exist",
                _ => $"is a {kind}, expected a folder",
            };
        return kind switch
        {
            "file" => null,
            "missing" => "does not exist",
            _ => $"is a {kind}, expected a regular file",
        };
    }

    /// <summary>A path for a one-line message: control characters (a line break in a file name) escaped.</summary>
    public static string Show(string path) =>
        path.Any(char.IsControl) ? string.Concat(path.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) : path;

    /// <summary>"file", "directory", "missing", "FIFO (named pipe)", "character device", "block device", "socket".</summary>
    public static string Kind(string path)
    {
        if (Directory.Exists(path)) return "directory";
        if (!File.Exists(path)) return "missing";
        if (!OperatingSystem.IsLinux()) return "file";
        var buffer = new byte[256];
        try
        {
            // statx's struct is the same on every Linux architecture (stx_mode is the u16 at offset 28), unlike stat's.
            if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0) return "file";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return "file";
        }
        int mode = BitConverter.ToUInt16(buffer, 28) & 0xF000;
        return mode switch
        {
            0x8000 => "file",
            0x4000 => "directory",
            0x1000 => "FIFO (named pipe), which would block the read",
            0x2000 => "character device",
            0x6000 => "block device",
            0xC000 => "socket",
            _ => "special file",
        };
    }

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirFd, [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}

/// <summary>
/// The memory a run may take: estimated from its counts before anything is allocated and refused, with the estimate and
/// the limit, when above it. The limit is the memory .NET may use on this machine (physical memory or the container's
/// limit), or <c>NOETHER_MEMORY_LIMIT</c> (bytes, or with a K/M/G/T suffix).
/// </summary>
internal static class MemoryBudget
{
    public const string Variable = "NOETHER_MEMORY_LIMIT";

    /// <summary>The limit in bytes (<see cref="MemoryLimit.Resolve"/> of <see cref="Variable"/>).</summary>
    public static long Limit => MemoryLimit.Resolve(Environment.GetEnvironmentVariable(Variable), Variable);

    /// <summary>Refuses <paramref name="what"/> when the library's estimate <paramref name="need"/> (runtime included) exceeds <see cref="Limit"/>.</summary>
    public static void Check(string what, MemoryNeed need) => MemoryLimit.Check(what, need, Limit, Variable);
}
