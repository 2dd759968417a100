namespace Noether.Landscape;

/// <summary>
/// A spectral density estimate φ(λ) = (1/n) Σᵢ δ(λ − λᵢ) by stochastic Lanczos quadrature: for each probe, the nodes
/// θ_k and weights τ_k of the Gauss quadrature that Lanczos builds (the Ritz values and the squared first components
/// of their eigenvectors). Each probe's weights sum to 1 and its weighted mean is v̂ᵀAv̂ for the unit probe v̂, so the
/// density is normalised and its mean is an unbiased estimate of Tr A / n.
/// </summary>
/// <param name="Nodes">Per probe, the Ritz values θ_k (ascending).</param>
/// <param name="Weights">Per probe, τ_k = (first component of the k-th eigenvector of T)², summing to 1.</param>
/// <param name="Dimension">n, the operator's size.</param>
public sealed record SpectralDensity(double[][] Nodes, double[][] Weights, int Dimension)
{
    /// <summary>Number of probes.</summary>
    public int Probes => Nodes.Length;

    /// <summary>The density's mean Σ τθ / probes: an estimate of Tr A / n.</summary>
    public double Mean => Nodes.Select((nodes, p) => nodes.Zip(Weights[p], (t, w) => t * w).Sum()).Average();

    /// <summary>The smallest and largest node.</summary>
    public (double Min, double Max) Range => (Nodes.Min(n => n.Min()), Nodes.Max(n => n.Max()));

    /// <summary>
    /// The density broadened by a Gaussian of standard deviation <paramref name="sigma"/>:
    /// φ_σ(x) = (1/P) Σₚ Σ_k τ_k N(x; θ_k, σ²) at each point of <paramref name="grid"/>. It integrates to 1 over ℝ.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">sigma not positive.</exception>
    public double[] Evaluate(ReadOnlySpan<double> grid, double sigma)
    {
        Errors.ThrowIfNotPositive(sigma, nameof(sigma));
        var result = new double[grid.Length];
        double norm = 1 / (Math.Sqrt(2 * Math.PI) * sigma * Probes);
        for (int p = 0; p < Probes; p++)
            for (int k = 0; k < Nodes[p].Length; k++)
            {
                double theta = Nodes[p][k], w = Weights[p][k] * norm;
                for (int i = 0; i < grid.Length; i++)
                {
                    double z = (grid[i] - theta) / sigma;
                    result[i] += w * Math.Exp(-0.5 * z * z);
                }
            }
        return result;
    }

    /// <summary>
    /// φ_σ on <paramref name="points"/> evenly spaced points from min θ − 5σ to max θ + 5σ (5σ holds all but 3e-7 of each
    /// Gaussian's mass), with σ = <paramref name="relativeSigma"/>·(max θ − min θ) (or 1e-8 for a single point spectrum).
    /// </summary>
    public (double[] Grid, double[] Density, double Sigma) OnGrid(int points = 512, double relativeSigma = 0.01)
    {
        Errors.ThrowIfNotPositive(points - 1, nameof(points) + " − 1");
        Errors.ThrowIfNotPositive(relativeSigma, nameof(relativeSigma));
        var (min, max) = Range;
        double sigma = Math.Max(relativeSigma * (max - min), 1e-8 * Math.Max(1, Math.Abs(max)));
        double lo = min - 5 * sigma, hi = max + 5 * sigma;
        var grid = new double[points];
        for (int i = 0; i < points; i++) grid[i] = lo + (hi - lo) * i / (points - 1);
        return (grid, Evaluate(grid, sigma), sigma);
    }
}

/// <summary>
/// Stochastic Lanczos quadrature (Ubaru, Chen and Saad 2017; Ghorbani, Krishnan and Xiao 2019, PyHessian's density):
/// the spectral density of a symmetric operator from a few Lanczos runs on random probes, with no matrix formed.
/// </summary>
public static class StochasticLanczosQuadrature
{
    /// <summary>
    /// Runs <paramref name="steps"/> Lanczos steps (full reorthogonalisation) from each of <paramref name="probes"/>
    /// Rademacher probes and returns the quadrature nodes and weights.
    /// </summary>
    /// <param name="op">The symmetric operator.</param>
    /// <param name="probes">Number of probes ≥ 1.</param>
    /// <param name="steps">Lanczos steps per probe, 1 ≤ steps ≤ n (quadrature with m nodes is exact for polynomials of degree 2m − 1).</param>
    /// <param name="rng">Seeded generator.</param>
    /// <param name="cancellationToken">Checked every step.</param>
    public static SpectralDensity Estimate(SymmetricOperator op, int probes, int steps, Random rng, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(rng);
        Errors.ThrowIfNotPositive(probes, nameof(probes));
        int n = op.Dimension;
        if (steps < 1 || steps > n) throw Errors.OutOfRange(nameof(steps), steps, $"between 1 and the operator's dimension {n}");
        var nodes = new double[probes][];
        var weights = new double[probes][];
        var v = new double[n];
        for (int p = 0; p < probes; p++)
        {
            for (int i = 0; i < n; i++) v[i] = Hutchinson.Rademacher(rng);
            var t = Lanczos.Tridiagonalize(op, v, steps, rng, cancellationToken);
            var (theta, s) = Lanczos.TridiagonalEigen(t.Alpha, t.Beta, steps);
            nodes[p] = theta;
            weights[p] = new double[steps];
            for (int k = 0; k < steps; k++) weights[p][k] = s[0, k] * s[0, k];
        }
        return new SpectralDensity(nodes, weights, n);
    }

    /// <summary>
    /// Probes [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) of an SLQ run of
    /// <paramref name="probes"/> probes in which probe p draws its Rademacher vector (and any breakdown direction) from its own
    /// generator seeded from (<paramref name="seed"/>, p). Runs over disjoint probe ranges merge exactly
    /// (<see cref="Merge"/>): the merged density equals the one-piece run node for node. (SLQ cannot be split over data
    /// shards: every Lanczos step needs the whole operator; split over probes instead.)
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">probes &lt; 1, steps not in [1, n], or a range outside [0, probes) or empty.</exception>
    public static SpectralDensityShard EstimateProbes(SymmetricOperator op, int probes, int steps, int seed, int first = 0, int count = -1,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        Errors.ThrowIfNotPositive(probes, nameof(probes));
        int n = op.Dimension;
        if (steps < 1 || steps > n) throw Errors.OutOfRange(nameof(steps), steps, $"between 1 and the operator's dimension {n}");
        if (count == -1) count = probes - first;
        if (first < 0 || first >= probes) throw Errors.OutOfRange(nameof(first), first, $"a probe index in [0, {probes})");
        if (count < 1 || count > probes - first) throw Errors.OutOfRange(nameof(count), count, $"between 1 and {probes - first} probes");
        var nodes = new double[count][];
        var weights = new double[count][];
        var v = new double[n];
        for (int i = 0; i < count; i++)
        {
            var rng = new Random(ProbeSeed(seed, first + i));
            for (int j = 0; j < n; j++) v[j] = Hutchinson.Rademacher(rng);
            var t = Lanczos.Tridiagonalize(op, v, steps, rng, cancellationToken);
            var (theta, s) = Lanczos.TridiagonalEigen(t.Alpha, t.Beta, steps);
            nodes[i] = theta;
            weights[i] = new double[steps];
            for (int k = 0; k < steps; k++) weights[i][k] = s[0, k] * s[0, k];
        }
        return new SpectralDensityShard(seed, probes, first, new SpectralDensity(nodes, weights, n));
    }

    /// <summary>Shards of one <see cref="EstimateProbes"/> run joined in probe order; together they must cover every probe once.</summary>
    /// <exception cref="ArgumentException">No shards, shards of different runs, or a probe missing or covered twice.</exception>
    public static SpectralDensity Merge(IReadOnlyList<SpectralDensityShard> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shards.Count == 0) throw Errors.Argument(nameof(shards), "density merge: no shards");
        var first = shards[0];
        var ordered = shards.OrderBy(s => s.FirstProbe).ToArray();
        int next = 0;
        foreach (var s in ordered)
        {
            if (s.Seed != first.Seed || s.Probes != first.Probes || s.Density.Dimension != first.Density.Dimension)
                throw Errors.Argument(nameof(shards), $"density merge: shards of different runs (seed {s.Seed} vs {first.Seed}, probes {s.Probes} vs {first.Probes})");
            if (s.FirstProbe != next) throw Errors.Argument(nameof(shards), $"density merge: probes from {next} to {s.FirstProbe - 1} are {(s.FirstProbe > next ? "missing" : "covered twice")}");
            next += s.Density.Probes;
        }
        if (next != first.Probes) throw Errors.Argument(nameof(shards), $"density merge: probes {next} to {first.Probes - 1} are missing");
        return new SpectralDensity(ordered.SelectMany(s => s.Density.Nodes).ToArray(), ordered.SelectMany(s => s.Density.Weights).ToArray(), first.Density.Dimension);
    }

    /// <summary>A generator seed for probe p of a run seeded <paramref name="seed"/> (SplitMix64 finaliser).</summary>
    internal static int ProbeSeed(int seed, int probe)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)probe * 0xBF58476D1CE4E5B9UL + 0x2545F4914F6CDD1DUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}

/// <summary>Probes [FirstProbe, FirstProbe + Density.Probes) of an SLQ run of <see cref="Probes"/> probes seeded <see cref="Seed"/>.</summary>
/// <param name="Seed">The run's seed.</param>
/// <param name="Probes">The run's total probe count.</param>
/// <param name="FirstProbe">Index of this shard's first probe.</param>
/// <param name="Density">This shard's nodes and weights.</param>
public sealed record SpectralDensityShard(int Seed, int Probes, int FirstProbe, SpectralDensity Density);
