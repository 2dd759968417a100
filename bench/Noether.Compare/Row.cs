using System.Globalization;
using System.Text.Json.Nodes;

namespace Noether.Compare;

/// <summary>The measured outcome of one workload, both sides.</summary>
internal sealed class Row(IWorkload workload)
{
    /// <summary>Relative tolerance under which the two sides' results count as the same computation (float64 rounding
    /// in a different summation order gives ~1e-13; a real discrepancy is orders of magnitude larger).</summary>
    public const double AgreementTolerance = 1e-8;

    /// <summary>The workload.</summary>
    public IWorkload Workload { get; } = workload;

    /// <summary>Noether's per-unit times (ms), empty when not run.</summary>
    public List<double> NoetherMs { get; } = [];

    /// <summary>Why Noether has no number: "not yet implemented", an error, or null.</summary>
    public string? NoetherStatus { get; set; }

    /// <summary>Facts the Noether side reported (final loss, allocations, ...).</summary>
    public Dictionary<string, object?> NoetherFacts { get; } = [];

    /// <summary>MB allocated by each timed Noether run.</summary>
    public List<double> AllocatedMb { get; } = [];

    /// <summary>Gen0/gen1/gen2 collections during Noether's timed runs.</summary>
    public int[] Collections { get; } = new int[3];

    /// <summary>The twin's JSON result (pooled over rounds), or null.</summary>
    public JsonObject? PyTorch { get; set; }

    /// <summary>Why PyTorch has no number, or null.</summary>
    public string? PyTorchStatus { get; set; }

    /// <summary>Median of Noether's times.</summary>
    public double? NoetherMedian => NoetherMs.Count > 0 ? Stats.Median(NoetherMs) : null;

    /// <summary>Median of PyTorch's times.</summary>
    public double? PyTorchMedian => PyTorch?["median_ms"]?.GetValue<double>();

    /// <summary>Noether / PyTorch.</summary>
    public double? Ratio => NoetherMedian is { } a && PyTorchMedian is { } b && b > 0 ? a / b : null;

    /// <summary>True/false against the target; null without a target or a ratio.</summary>
    public bool? Pass => Ratio is { } r && Workload.Target is { } t ? r <= t : null;

    /// <summary>Max |PyTorch − Noether| of the compared results, if the twin compared.</summary>
    public double? CheckDifference => PyTorch?["check"]?["max_abs_diff"]?.GetValue<double>();

    /// <summary>Whether both sides computed the same numbers (null when not compared).</summary>
    public bool? Agree
    {
        get
        {
            if (CheckDifference is not { } d) return null;
            double scale = PyTorch?["check"]?["max_abs_value"]?.GetValue<double>() ?? 1.0;
            // A twin may state its own tolerance (e.g. float32 training, or the 1e-10 for float64 products).
            double tolerance = PyTorch?["check"]?["tolerance"]?.GetValue<double>() ?? AgreementTolerance;
            return d <= tolerance * Math.Max(1.0, scale);
        }
    }

    /// <summary>GFLOP/s of a median time (ms per unit), when the workload counts FLOPs.</summary>
    public double? GFlops(double? medianMs) => Workload.Flops is { } f && medianMs is { } ms && ms > 0 ? f / (ms * 1e6) : null;

    /// <summary>The "result" column: pass / MISS / info / not yet implemented / error.</summary>
    public string Verdict =>
        NoetherStatus is { } ns ? (ns.StartsWith("error", StringComparison.Ordinal) ? "error (Noether)" : ns)
        : PyTorchStatus is { } ps ? (ps.StartsWith("error", StringComparison.Ordinal) ? "error (PyTorch)" : "PyTorch " + ps)
        : Pass switch { true => "pass", false => "MISS", null => "info" };

    /// <summary>Full error messages of either side, for the lines under the table.</summary>
    public IEnumerable<string> Errors()
    {
        if (NoetherStatus?.StartsWith("error", StringComparison.Ordinal) == true) yield return $"{Workload.Name}, Noether: {NoetherStatus}";
        if (PyTorchStatus?.StartsWith("error", StringComparison.Ordinal) == true) yield return $"{Workload.Name}, PyTorch: {PyTorchStatus}";
    }

    /// <summary>Formats a number for tables (invariant culture).</summary>
    public static string F(double? x, string format = "F1") => x is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "—";
}

/// <summary>Small statistics.</summary>
internal static class Stats
{
    /// <summary>The median (mean of the middle two for an even count).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        var s = values.Order().ToArray();
        int m = s.Length / 2;
        return s.Length % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m]);
    }
}
