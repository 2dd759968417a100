using Noether.Tensors;

namespace Noether.Tests.Support;

/// <summary>The one numeric assertion helper: |actual − expected| ≤ atol + rtol·|expected|, elementwise.</summary>
public static class Close
{
    public static void Assert(double expected, double actual, double rtol, double atol = 0, string? what = null)
    {
        double err = Math.Abs(actual - expected);
        if (!(err <= atol + rtol * Math.Abs(expected)))
            throw new Xunit.Sdk.XunitException($"{what ?? "value"}: expected {expected:R}, got {actual:R} (|Δ| = {err:E3}, allowed {atol + rtol * Math.Abs(expected):E3})");
    }

    public static void Assert(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double rtol, double atol = 0, string? what = null)
    {
        if (expected.Length != actual.Length)
            throw new Xunit.Sdk.XunitException($"{what ?? "values"}: lengths differ ({expected.Length} vs {actual.Length})");
        for (int i = 0; i < expected.Length; i++) Assert(expected[i], actual[i], rtol, atol, $"{what ?? "values"}[{i}]");
    }

    public static void Assert(Tensor<double> expected, Tensor<double> actual, double rtol, double atol = 0, string? what = null)
    {
        if (!expected.SameShape(actual))
            throw new Xunit.Sdk.XunitException($"{what ?? "tensor"}: shapes differ ({expected} vs {actual})");
        Assert(expected.Data, actual.Data, rtol, atol, what);
    }

    /// <summary>‖a − b‖ / max(‖a‖, ‖b‖, floor): the relative error of a whole vector.</summary>
    public static double RelativeError(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double floor = 1e-12)
    {
        double diff = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff += (a[i] - b[i]) * (a[i] - b[i]);
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return Math.Sqrt(diff) / Math.Max(Math.Max(Math.Sqrt(na), Math.Sqrt(nb)), floor);
    }
}
