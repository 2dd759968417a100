using Noether.Nn;
using Noether.Symmetry;

namespace Noether.Experiments;

/// <summary>Settings of the symmetry-discovery experiment.</summary>
public sealed record DiscoverSettings
{
    /// <summary>Activation names (<see cref="Activation.Parse"/>).</summary>
    public IReadOnlyList<string> Activations { get; init; } = ["identity", "relu", "leaky-relu:0.1", "radial", "radial-inverse-square", "tanh", "sigmoid"];

    /// <summary>Hidden widths h.</summary>
    public IReadOnlyList<int> Widths { get; init; } = [2, 3, 5, 8];

    /// <summary>Sampling options (sizes, number of constraints, rank tolerance).</summary>
    public DiscoveryOptions Options { get; init; } = new();

    /// <summary>Seed of the random (θ, X, Y).</summary>
    public int Seed { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Activations);
        ArgumentNullException.ThrowIfNull(Widths);
        ArgumentNullException.ThrowIfNull(Options);
        foreach (var h in Widths) Errors.ThrowIfNotPositive(h, nameof(Widths));
    }
}

/// <summary>The discovered algebras, one per (activation, h).</summary>
/// <param name="Settings">The settings it ran with.</param>
/// <param name="Algebras">Dimension, basis, singular values, residuals and the known dimension of each.</param>
public sealed record DiscoverResult(DiscoverSettings Settings, IReadOnlyList<DiscoveredAlgebra> Algebras)
{
    /// <summary>True when every algebra with a known dimension matched it.</summary>
    public bool AllMatchKnown => Algebras.All(a => a.KnownDimension is not { } k || k == a.Dimension);
}

/// <summary>Runs <see cref="SymmetryDiscovery.Discover"/> over activations and widths.</summary>
public static class DiscoverExperiment
{
    /// <summary>Discovers each algebra. Pure: the result depends only on the settings.</summary>
    public static DiscoverResult Run(DiscoverSettings settings, IProgress<ExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var activations = settings.Activations.Select(Activation.Parse).ToArray();
        var result = new List<DiscoveredAlgebra>();
        long total = (long)activations.Length * settings.Widths.Count, done = 0;
        for (int a = 0; a < activations.Length; a++)
            for (int w = 0; w < settings.Widths.Count; w++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new ExperimentProgress($"{activations[a].Name} h={settings.Widths[w]}", done, total));
                var random = new Random(unchecked((settings.Seed * 7919 + a) * 104729 + w));
                result.Add(SymmetryDiscovery.Discover(activations[a], settings.Widths[w], random, settings.Options));
                done++;
            }
        progress?.Report(new ExperimentProgress("done", total, total));
        return new DiscoverResult(settings, result);
    }
}
