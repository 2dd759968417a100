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

    /// <summary>The report contract: per activation, the numerically found algebra against the groups of B.2–B.5 (Prop. 2).</summary>
    public static List<Claim> Claims(DiscoverResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var claims = new List<Claim>();
        foreach (var group in result.Algebras.GroupBy(a => a.Activation))
        {
            var algebras = group.ToArray();
            var a0 = algebras[0];
            bool known = algebras.All(a => a.KnownDimension is not null);
            var known0 = KnownAlgebra.Of(a0.Activation);
            string measured = "dimension for h = " + string.Join(", ", algebras.Select(a => a.Width)) + ": " + string.Join(", ", algebras.Select(a => a.Dimension)) +
                (known ? $" (known: {string.Join(", ", algebras.Select(a => a.KnownDimension))})" : "") + $"; basis: {algebras[^1].Structure()}";
            claims.Add(SymmetryClaims.DiscoverAlgebra.Make(algebras.Select(a => new double[] { a.KnownDimension is null ? 0 : 1, a.MatchesKnown() && a.IsInvariant() ? 1 : 0 }).ToArray(), measured,
                "found numerically as the null space of ⟨∇_U L, UA⟩ + ⟨∇_V L, BV⟩ = 0 over random (θ, X, Y); each basis element re-checked on fresh data (≤ 1e-9)",
                idPart: System.Text.RegularExpressions.Regex.Replace(a0.Activation.ToLowerInvariant(), "[^a-z0-9.]+", "-").Trim('-'),
                statement: $"σ = {a0.Activation}: {known0.Meaning}", predicted: known0.Answer) with { Source = known0.Source });
        }
        return claims;
    }
}

/// <summary>
/// What Appendix B derives by hand for a layer pair with activation σ (<see cref="SymmetryDiscovery"/>'s remarks): the
/// algebra of linear symmetries, what it means, and where the paper has it. One table for the claims, the table and summary.json.
/// </summary>
/// <param name="Answer">The algebra and its dimension, e.g. "gl(h): h², B = −A" ("–" where nothing is derived).</param>
/// <param name="Meaning">The group that acts and its algebra, in one sentence.</param>
/// <param name="Source">The section of Appendix B (with Prop. 2 where it applies).</param>
public sealed record KnownAlgebra(string Answer, string Meaning, string Source)
{
    /// <summary>The known answer for an activation as <see cref="DiscoveredAlgebra.Activation"/> names it.</summary>
    public static KnownAlgebra Of(string activation)
    {
        ArgumentNullException.ThrowIfNull(activation);
        return activation switch
        {
            "identity" => new("gl(h): h², B = −A", "GL(h) acts on a layer pair; its Lie algebra gl(h) has dimension h², generators (A, B) with B = −A.", "B.2, Prop. 2"),
            "relu" => new("diagonal: h", "positive diagonal scaling acts; the algebra is the diagonal matrices, dimension h.", "B.3, Prop. 2"),
            var s when s.StartsWith("leaky-relu", StringComparison.Ordinal) =>
                new("diagonal: h", "positive diagonal scaling acts (homogeneous of degree 1); the algebra is the diagonal matrices, dimension h.", "B.3, Prop. 2"),
            "sigmoid" or "tanh" => new("none: 0", "no continuous linear symmetry acts on a layer pair: dimension 0.", "B.5"),
            "radial 1/(1+r)" => new("so(h): h(h−1)/2", "O(h) acts (radial rescaling); the algebra is so(h), dimension h(h−1)/2.", "B.4, Prop. 2"),
            "radial 1/r²" => new("so(h) ⊕ ℝ: h(h−1)/2 + 1", "O(h) and a rescaling act; the algebra is so(h) ⊕ ℝ, dimension h(h−1)/2 + 1.", "B.4, Prop. 2"),
            var s => new("–", "the linear symmetries of a layer pair: –.", s.StartsWith("radial", StringComparison.Ordinal) ? "B.4, Prop. 2" : "B.5"),
        };
    }
}
