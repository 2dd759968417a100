using Noether.Autodiff;
using Noether.Graphs;
using Noether.Tensors;

namespace Noether.Symmetry.Census;

/// <summary>The numerical check of one site at the given weights.</summary>
/// <param name="Site">The site.</param>
/// <param name="Invariance">|L(g·θ) − L(θ)| / |L(θ)| for a random finite group element g = exp(Σ t_i M_i), t_i ~ U(−1, 1) (divided by d for GL(d)).</param>
/// <param name="Orthogonality">max over generators of |⟨∇L, M_i θ⟩| / (‖∇L‖ ‖M_i θ‖).</param>
/// <param name="Passed">Both at most the tolerance; for an approximate site (a normalisation's ε), both measured on the ε = 0 copy of the graph.</param>
/// <param name="Conserved">Each generator's conserved quantity at θ (empty for a site that conserves nothing, <see cref="CensusSite.Conserves"/>).</param>
/// <param name="InvarianceWithoutEpsilon">For an approximate site, the invariance on the graph with every normalisation's ε = 0 (same g); null otherwise.</param>
/// <param name="OrthogonalityWithoutEpsilon">For an approximate site, the orthogonality on the ε = 0 graph; null otherwise.</param>
public sealed record SiteCheck(CensusSite Site, double Invariance, double Orthogonality, bool Passed, double[] Conserved,
    double? InvarianceWithoutEpsilon = null, double? OrthogonalityWithoutEpsilon = null);

/// <summary>The orbit dimension: the numerical rank of the tangent map (all generators' tangent vectors at θ) against the census's sum.</summary>
/// <param name="CensusDimension">Σ of the sites' dimensions.</param>
/// <param name="Rank">The numerical rank.</param>
/// <param name="SingularValues">Singular values of the matrix of unit-normalised tangent vectors, descending.</param>
/// <param name="Gap">Smallest kept over largest dropped singular value (∞ when none is dropped).</param>
/// <param name="ClearGap">False when the smallest kept singular value is within 1e-4 of the largest's scale or the gap is below 1e4: the rank decision is then flagged.</param>
public sealed record OrbitCheck(int CensusDimension, int Rank, double[] SingularValues, double Gap, bool ClearGap);

/// <summary>The verification of a whole census.</summary>
public sealed record CensusVerificationResult(IReadOnlyList<SiteCheck> Sites, OrbitCheck Orbit, double Loss)
{
    /// <summary>True when every site passed and the rank equals the census's dimension with a clear gap.</summary>
    public bool AllPassed => Sites.All(s => s.Passed) && Orbit.Rank == Orbit.CensusDimension && Orbit.ClearGap;
}

/// <summary>
/// Verifies a census numerically in float64 at the graph's current weights on a batch with labels, the loss being mean
/// softmax cross-entropy of the first output: invariance of the loss under a finite random group element per site,
/// orthogonality of every generator's tangent to ∇L, and the rank of the tangent map.
/// </summary>
public static class CensusVerification
{
    /// <summary>Default tolerance (relative) of both checks: float64 rounding of a loss and a gradient over ~10⁵ terms stays below 1e-13.</summary>
    public const double DefaultTolerance = 1e-12;

    // Singular values come from the eigenvalues of the Gram matrix, exact to ~1e-16 of the largest eigenvalue, i.e. ~1e-8
    // of the largest singular value: the rank threshold sits two orders above that floor.
    private const double RankThreshold = 1e-6;

    /// <summary>Runs the checks. The graph's parameters are restored on return.</summary>
    public static CensusVerificationResult Verify(Graph<double> graph, SymmetryCensus census, Tensor<double> inputs, int[] labels, Random rng, double tolerance = DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(census);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(rng);
        if (inputs.Dim(0) != labels.Length)
            throw Errors.Argument(nameof(labels), $"census verification: {inputs.Dim(0)} inputs but {labels.Length} labels");
        Errors.ThrowIfNotPositive(tolerance, nameof(tolerance));

        double[] Data(string name) => (graph.Parameter(name) ?? throw Errors.Argument(nameof(census), $"census verification: the graph has no parameter '{name}'")).Value.Data;

        var model = Measurement.Of(graph, inputs, labels);
        var free = census.Sites.Any(s => !s.Exact) ? Measurement.Of(WithoutEpsilon(graph), inputs, labels) : null;
        var checks = new List<SiteCheck>();
        foreach (var site in census.Sites)
        {
            var q = site.Conserves ? site.Generators.Select(g => g.Conserved(Data)).ToArray() : [];
            // t_i ~ U(−1, 1); for a GL(d) site scaled by 1/d so that ‖Σ t_i E_i‖ stays O(1) (a well-conditioned element).
            double spread = site.Generators[0].Kind == GeneratorKind.Linear ? 1 / Math.Sqrt(site.Dimension) : 1;
            var t = site.Generators.Select(_ => spread * (2 * rng.NextDouble() - 1)).ToArray();
            var (inv, orth) = model.Check(site, t, Data);
            if (free is null || site.Exact)
            {
                checks.Add(new SiteCheck(site, inv, orth, inv <= tolerance && orth <= tolerance, q));
                continue;
            }
            var (inv0, orth0) = free.Check(site, t, Data);
            checks.Add(new SiteCheck(site, inv, orth, inv0 <= tolerance && orth0 <= tolerance, q, inv0, orth0));
        }
        return new CensusVerificationResult(checks, Orbit(graph, census, Data), model.Loss);
    }

    /// <summary>The graph with every normalisation's ε set to 0 (the limit in which their scale invariances are exact); the parameters are shared.</summary>
    internal static Graph<double> WithoutEpsilon(Graph<double> graph)
    {
        var nodes = graph.Nodes.Select(n => n.OpType is "BatchNormalization" or "LayerNormalization" or "RMSNormalization" or "InstanceNormalization"
            ? new GraphNode(n.Name, n.OpType, n.Inputs, n.Outputs,
                new Dictionary<string, GraphAttribute>(n.Attributes) { ["epsilon"] = new GraphAttribute { Float = 0 } }, n.Domain)
            : n).ToArray();
        return new Graph<double>(nodes, graph.Inputs, graph.Outputs, graph.Parameters, graph.Constants, graph.Opset, graph.Options);
    }

    // The loss and its gradient at θ on one graph, and a site's two checks against them.
    private sealed record Measurement(Graph<double> Graph, Tensor<double> Inputs, int[] Labels, double Loss, Dictionary<string, double[]> Gradient, double GradientNorm)
    {
        public static Measurement Of(Graph<double> graph, Tensor<double> inputs, int[] labels)
        {
            var (loss, grads) = LossAndGradient(graph, inputs, labels);
            return new Measurement(graph, inputs, labels, loss, grads, Math.Sqrt(grads.Values.Sum(g => g.Sum(x => x * x))));
        }

        public (double Invariance, double Orthogonality) Check(CensusSite site, double[] t, Func<string, double[]> data)
        {
            double orth = 0;
            foreach (var gen in site.Generators)
            {
                double dot = 0, vv = 0;
                foreach (var (p, i, v) in gen.Tangent(data))
                {
                    dot += Gradient[p][i] * v;
                    vv += v * v;
                }
                // Relative to ‖∇L‖ ‖Mθ‖ (the whole gradient: on a site's own support it can vanish identically, e.g. the key
                // bias, and a ratio of two rounding errors says nothing).
                double scale = GradientNorm * Math.Sqrt(vv);
                orth = Math.Max(orth, scale > 0 ? Math.Abs(dot) / scale : 0);
            }
            var touched = site.Generators.SelectMany(g => g.Parameters).Distinct().ToArray();
            var saved = touched.ToDictionary(n => n, n => (double[])data(n).Clone());
            site.Apply(data, t);
            double moved = LossAndGradient(Graph, Inputs, Labels, gradient: false).Loss;
            foreach (var (n, d) in saved) d.CopyTo(data(n), 0);
            return (Math.Abs(moved - Loss) / Math.Max(Math.Abs(Loss), double.Epsilon), orth);
        }
    }

    private static (double Loss, Dictionary<string, double[]> Gradient) LossAndGradient(Graph<double> graph, Tensor<double> inputs, int[] labels, bool gradient = true)
    {
        var tape = new Tape<double>();
        var run = graph.Run(tape, [tape.Constant(inputs)]);
        var logits = run.Output(tape, 0);
        if (logits.Value.Rank != 2)
            throw Errors.Argument(nameof(graph), $"census verification: the first output is {Errors.Shape(logits.Shape)}; softmax cross-entropy needs logits [batch, classes]");
        var loss = Ops.CrossEntropy(logits, labels);
        if (!gradient) return (loss.Value.Data[0], []);
        var g = tape.Gradient(loss, graph.Parameters);
        var map = new Dictionary<string, double[]>();
        for (int i = 0; i < g.Length; i++) map[graph.Parameters[i].Name] = g[i].Data;
        return (loss.Value.Data[0], map);
    }

    private static OrbitCheck Orbit(Graph<double> graph, SymmetryCensus census, Func<string, double[]> data)
    {
        var offsets = new Dictionary<string, int>();
        int total = 0;
        foreach (var p in graph.Parameters)
        {
            offsets[p.Name] = total;
            total += p.Length;
        }
        var vectors = new List<(int[] Index, double[] Value)>();
        foreach (var gen in census.Sites.SelectMany(s => s.Generators))
        {
            var entries = gen.Tangent(data).Select(e => (offsets[e.Parameter] + e.Index, e.Value)).ToArray();
            double norm = Math.Sqrt(entries.Sum(e => e.Value * e.Value));
            if (norm > 0) for (int i = 0; i < entries.Length; i++) entries[i].Value /= norm;
            vectors.Add((entries.Select(e => e.Item1).ToArray(), entries.Select(e => e.Value).ToArray()));
        }
        int n = vectors.Count;
        if (n == 0) return new OrbitCheck(0, 0, [], double.PositiveInfinity, true);
        var gram = Tensor<double>.Zeros(n, n);
        var dense = new double[total];
        for (int i = 0; i < n; i++)
        {
            var (ii, iv) = vectors[i];
            for (int k = 0; k < ii.Length; k++) dense[ii[k]] += iv[k];
            for (int j = i; j < n; j++)
            {
                var (ji, jv) = vectors[j];
                double s = 0;
                for (int k = 0; k < ji.Length; k++) s += dense[ji[k]] * jv[k];
                gram[i, j] = gram[j, i] = s;
            }
            for (int k = 0; k < ii.Length; k++) dense[ii[k]] = 0;
        }
        // MathNet's managed decomposition (its eigenvalues come with the vectors), as when the stored results were made.
        var sv = LinearAlgebra.SymmetricEigen(gram, vectors: true, BlasProvider.Managed).Values.Select(c => Math.Sqrt(Math.Max(c, 0))).OrderDescending().ToArray();
        double max = sv[0];
        int rank = sv.Count(s => s > RankThreshold * max);
        double smallestKept = rank > 0 ? sv[rank - 1] : 0, largestDropped = rank < n ? sv[rank] : 0;
        double gap = largestDropped > 0 ? smallestKept / largestDropped : double.PositiveInfinity;
        bool clear = rank == 0 || (smallestKept >= 1e-4 * max && gap >= 1e4);
        return new OrbitCheck(census.Dimension, rank, sv, gap, clear);
    }
}
