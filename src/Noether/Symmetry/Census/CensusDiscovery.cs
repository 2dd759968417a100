using Noether.Autodiff;
using Noether.Graphs;
using Noether.Tensors;

namespace Noether.Symmetry.Census;

/// <summary>The numerically discovered dimension of a rescaling site's neighbourhood algebra, next to the census's.</summary>
/// <param name="Site">The site.</param>
/// <param name="CensusDimension">The census's dimension of the site.</param>
/// <param name="Discovered">Dimension of the null space found (the Lie algebra of invariant linear maps in the family).</param>
/// <param name="Unknowns">The family's dimension at θ: n·(rank Θ_producer + rank Θ_consumer) ≤ 2n².</param>
/// <param name="Constraints">Rows of the constraint matrix (samples × outputs).</param>
/// <param name="Gap">Smallest kept over largest dropped singular value.</param>
/// <param name="ClearGap">The gap is at least 1e4 (otherwise the decision is flagged).</param>
/// <param name="Samples">The random inputs used (to explain a difference, e.g. units that never change sign on them).</param>
public sealed record DiscoveryCheck(CensusSite Site, int CensusDimension, int Discovered, int Unknowns, int Constraints, double Gap, bool ClearGap, IReadOnlyList<Tensor<double>> Samples)
{
    /// <summary>The discovery agrees with the census.</summary>
    public bool Agrees => Discovered == CensusDimension;
}

/// <summary>
/// The completeness check of a rescaling site by numerical discovery — <c>noether discover</c> generalised to a graph.
/// The candidate family is every linear map that mixes the n units' producer slices among themselves (slice a +=
/// slice b: n² maps) and, independently, the consumer slices (n² more). A member M leaves the network's function
/// unchanged to first order on inputs x iff ⟨∇θ f_o(x), Mθ⟩ = 0 for every output o, which is one linear constraint per
/// (x, o) on the coefficients, read off one gradient. Maps that do not move θ (AΘ = 0, e.g. when a consumer slice is
/// shorter than n) are factored out first, so only directions that move the parameters are counted. Many seeded N(0, 1) inputs (more constraints than unknowns)
/// and an SVD give the dimension of the invariant subalgebra at θ, which must equal the census's n (the diagonal
/// producer +1 / consumer −1 pairs); a larger value is a finding (a symmetry the census misses, or one that holds at
/// these weights only, e.g. a dead unit).
/// </summary>
public static class CensusDiscovery
{
    private const double RankThreshold = 1e-9;

    /// <summary>Runs the check on a <see cref="SiteKind.Rescaling"/> site of <paramref name="graph"/>.</summary>
    public static DiscoveryCheck Check(Graph<double> graph, CensusSite site, Random rng, int? samples = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(rng);
        if (site.Kind != SiteKind.Rescaling) throw Errors.Argument(nameof(site), $"census discovery: site '{site.Location}' is {site.Kind}; only rescaling sites are checked");
        if (graph.Inputs.Count != 1) throw Errors.Argument(nameof(graph), "census discovery: the graph must have one input");
        int n = site.Dimension;
        // Unit u's producer entries (coefficient +1) and consumer entries (−1), flattened in a fixed parameter order.
        var producer = site.Generators.Select(g => g.Entries.Select(e => (e.Parameter, Indices: e.Indices.Where((_, i) => e.Coefficients[i] > 0).ToArray())).ToArray()).ToArray();
        var consumer = site.Generators.Select(g => g.Entries.Select(e => (e.Parameter, Indices: e.Indices.Where((_, i) => e.Coefficients[i] < 0).ToArray())).ToArray()).ToArray();
        var names = site.Generators[0].Entries.Select(e => e.Parameter).Distinct().ToArray();
        var parameters = names.Select(nm => graph.Parameter(nm) ?? throw Errors.Argument(nameof(site), $"census discovery: no parameter '{nm}'")).ToArray();
        var theta = parameters.ToDictionary(p => p.Name, p => p.Value.Data);

        static double[][] Gather(Func<string, double[]> data, (string Parameter, int[] Indices)[][] slices) =>
            slices.Select(u => u.SelectMany(s => s.Indices.Select(i => data(s.Parameter)[i])).ToArray()).ToArray();
        // The family's tangent at θ for slice a is Σ_b A_ab θ_b = (AΘ)_a: maps with AΘ = 0 do not move θ at all and
        // must not count. Coordinates in which the tangent map is an isometry: AΘ = C W_rᵀ with W_r the right
        // singular vectors of Θ (n × k) above rounding, so the unknowns are C (n × r) and a constraint reads ⟨g_a, w_j⟩.
        var basisP = RowSpace(Gather(nm => theta[nm], producer));
        var basisC = RowSpace(Gather(nm => theta[nm], consumer));

        var shape = graph.Inputs[0].Shape.Select((d, i) => d ?? 1).ToArray();
        int rP = basisP.Length, rC = basisC.Length, unknowns = n * (rP + rC);
        var rows = new List<double[]>();
        var used = new List<Tensor<double>>();
        int count = samples ?? 0;
        for (int s = 0; count == 0 ? rows.Count < unknowns + 64 : s < count; s++)
        {
            var x = Tensor<double>.Zeros(shape);
            for (int i = 0; i < x.Length; i++) x.Data[i] = Gaussian.Next(rng);
            used.Add(x);
            int outputs = graph.Evaluate(x)[0].Length;
            for (int o = 0; o < outputs; o++)
            {
                var tape = new Tape<double>();
                var y = graph.Run(tape, [tape.Constant(x)]).Output(tape, 0);
                var seed = Tensor<double>.Zeros(y.Value.ShapeArray);
                seed.Data[o] = 1;
                var f = Ops.Sum(Ops.Multiply(y, tape.Constant(seed)));
                var g = tape.Gradient(f, parameters);
                var grad = parameters.Select((p, i) => (p.Name, g[i].Data)).ToDictionary(t => t.Name, t => t.Data);
                var gP = Gather(nm => grad[nm], producer);
                var gC = Gather(nm => grad[nm], consumer);
                var row = new double[unknowns];
                for (int a = 0; a < n; a++)
                {
                    for (int j = 0; j < rP; j++) row[a * rP + j] = Dot(gP[a], basisP[j]);
                    for (int j = 0; j < rC; j++) row[n * rP + a * rC + j] = Dot(gC[a], basisC[j]);
                }
                rows.Add(row);
            }
            if (count == 0 && s > 100 * unknowns) break;
        }
        var sv = LinearAlgebra.Svd(FromRows(rows), vectors: false, BlasProvider.Managed).Values;
        double max = sv.Length > 0 ? sv[0] : 0;
        int rank = sv.Count(v => v > RankThreshold * max);
        double kept = rank > 0 ? sv[rank - 1] : 0, dropped = rank < sv.Length ? sv[rank] : 0;
        double gap = dropped > 0 ? kept / dropped : double.PositiveInfinity;
        return new DiscoveryCheck(site, n, unknowns - rank, unknowns, rows.Count, gap, gap >= 1e4, used);
    }

    private static double[][] RowSpace(double[][] rows)
    {
        var (s, _, vt) = LinearAlgebra.Svd(FromRows(rows), vectors: true, BlasProvider.Managed);
        double max = s.Length > 0 ? s[0] : 0;
        int r = s.Count(v => v > 1e-12 * max);
        int n = vt!.Dim(1);
        return Enumerable.Range(0, r).Select(j => vt.Data.AsSpan(j * n, n).ToArray()).ToArray();
    }

    /// <summary>The matrix whose rows are <paramref name="rows"/> (all of one length).</summary>
    private static Tensor<double> FromRows(IReadOnlyList<double[]> rows)
    {
        int n = rows.Count > 0 ? rows[0].Length : 0;
        var m = Tensor<double>.Zeros(rows.Count, n);
        for (int i = 0; i < rows.Count; i++) rows[i].AsSpan().CopyTo(m.Data.AsSpan(i * n, n));
        return m;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
