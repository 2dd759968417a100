using Noether.Nn;

namespace Noether.Experiments;

/// <summary>
/// How numbers and names appear in claims, tables, captions, CSVs and summary.json: invariant culture everywhere, one spelling
/// per helper so that every command writes a number the same way.
/// </summary>
public static class Format
{
    /// <summary>General format with <paramref name="digits"/> significant digits ("NaN" kept).</summary>
    public static string G(double v, int digits = 3) => double.IsNaN(v) ? "NaN" : v.ToString("G" + digits, CultureInfo.InvariantCulture);

    /// <summary>Scientific notation with two decimals, "1.23e-04" ("NaN" kept).</summary>
    public static string Sci(double v) => double.IsNaN(v) ? "NaN" : v.ToString("0.00e+00", CultureInfo.InvariantCulture);

    /// <summary>A number with <paramref name="digits"/> decimals.</summary>
    public static string Fixed(double v, int digits = 3) => v.ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>An interpolated string formatted in the invariant culture.</summary>
    public static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>A fraction as a percentage with two decimals, "12.34%" ("–" for NaN).</summary>
    public static string Pct(double v) => double.IsNaN(v) ? "–" : (v * 100).ToString("F2", CultureInfo.InvariantCulture) + "%";

    /// <summary>A difference of fractions in signed percentage points, "+1.20" or "−0.35" ("–" for NaN).</summary>
    public static string Points(double v) => double.IsNaN(v) ? "–" : (v >= 0 ? "+" : "−") + Math.Abs(v * 100).ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>The stored name of an activation (CSV columns, summary.json, the CLI's --activation values).</summary>
    public static string Name(ActivationKind a) => Activation.FamilyName(a);
}
