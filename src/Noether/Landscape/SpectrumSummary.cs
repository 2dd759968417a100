namespace Noether.Landscape;

/// <summary>How a Hessian spectrum splits into flat and curved parts.</summary>
/// <param name="Flat">Eigenvalues with |λ| ≤ the threshold.</param>
/// <param name="Threshold">The threshold (the paper's 1e-3).</param>
/// <param name="Median">Median of the remaining eigenvalues (NaN if none).</param>
/// <param name="Mean">Mean of the remaining eigenvalues (NaN if none).</param>
/// <param name="Max">Largest eigenvalue.</param>
/// <param name="Min">Smallest eigenvalue (negative: not a minimum, or not converged).</param>
/// <param name="Trace">Sum of all eigenvalues.</param>
public sealed record SpectrumSummary(int Flat, double Threshold, double Median, double Mean, double Max, double Min, double Trace)
{
    /// <summary>Summarises <paramref name="eigenvalues"/> with flat threshold <paramref name="threshold"/>.</summary>
    public static SpectrumSummary Of(IReadOnlyList<double> eigenvalues, double threshold = 1e-3)
    {
        ArgumentNullException.ThrowIfNull(eigenvalues);
        if (eigenvalues.Count == 0) throw Errors.Argument(nameof(eigenvalues), "spectrum summary: no eigenvalues");
        if (!(threshold >= 0)) throw Errors.OutOfRange(nameof(threshold), threshold, "a non-negative threshold");
        var rest = eigenvalues.Where(l => Math.Abs(l) > threshold).Order().ToArray();
        double median = rest.Length == 0 ? double.NaN : rest.Length % 2 == 1 ? rest[rest.Length / 2] : 0.5 * (rest[rest.Length / 2 - 1] + rest[rest.Length / 2]);
        return new SpectrumSummary(eigenvalues.Count - rest.Length, threshold, median, rest.Length == 0 ? double.NaN : rest.Average(),
            eigenvalues.Max(), eigenvalues.Min(), eigenvalues.Sum());
    }
}
