namespace Noether.Experiments;

/// <summary>
/// The memory a run may take: a limit given as text (bytes, or with a K/M/G/T suffix) or the memory .NET may use on this
/// machine (physical memory or the container's limit), and the refusal of a <see cref="MemoryNeed"/> above it, with the
/// estimate and the limit.
/// </summary>
public static class MemoryLimit
{
    /// <summary>
    /// The limit in bytes: <paramref name="text"/> when given, else the memory available to .NET. Text that is not a positive
    /// number of bytes (with an optional K, M, G or T suffix) is refused naming <paramref name="name"/>.
    /// </summary>
    public static long Resolve(string? text, string name)
    {
        if (string.IsNullOrWhiteSpace(text)) return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (TryParse(text, out long bytes)) return bytes;
        throw Errors.Argument(name, $"{name}={text}: expected a number of bytes, optionally with a K, M, G or T suffix (e.g. 8G)");
    }

    /// <summary>
    /// Refuses <paramref name="what"/> (its first word names the argument) when <paramref name="need"/> exceeds <paramref name="limit"/>
    /// bytes; the message says how to raise the limit through <paramref name="variable"/>.
    /// </summary>
    public static void Check(string what, MemoryNeed need, long limit, string variable)
    {
        ArgumentNullException.ThrowIfNull(what);
        ArgumentNullException.ThrowIfNull(need);
        if (need.Bytes > limit)
            throw Errors.Argument(what.Split(' ')[0], string.Create(CultureInfo.InvariantCulture,
                $"{what} needs an estimated {Show(need.Bytes)} of memory ({need.Breakdown}), more than the limit of {Show(limit)}; lower it, or raise the limit with {variable} (e.g. {variable}=64G)"));
    }

    /// <summary>Bytes as "1.5 GiB" from 1 GiB up, else "12.0 MiB".</summary>
    public static string Show(double bytes) => bytes >= 1 << 30
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 30):F1} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 20):F1} MiB");

    /// <summary>Parses "8G", "512M", "1e9": a positive number of bytes that fits a long.</summary>
    public static bool TryParse(string text, out long bytes)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        bytes = 0;
        if (text.Length == 0) return false;
        long unit = 1;
        int shift = char.ToUpperInvariant(text[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        if (shift > 0) { unit = 1L << shift; text = text[..^1]; }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v > 0) || v * unit > long.MaxValue) return false;
        bytes = (long)(v * unit);
        return true;
    }
}
