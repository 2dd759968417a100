using Noether.Autodiff;
using Noether.Graphs;
using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Symmetry.Census;

/// <summary>The numerically discovered dimension of one site's candidate family of symmetries, next to the census's.</summary>
/// <param name="Site">The site.</param>
/// <param name="CensusDimension">The census's dimension in the site's family: its own generators and every combination of the
/// census's generators that lies in the family (<see cref="CensusSpan"/>; larger than the site's own dimension when another
/// site's directions reach into it, e.g. a LayerNorm's centring in its affine rescalings' family).</param>
/// <param name="Discovered">Dimension of the null space found (the invariant maps of the family); 0 when skipped.</param>
/// <param name="Unknowns">The family's dimension at θ (after factoring out maps that do not move θ).</param>
/// <param name="Constraints">Rows of the constraint matrix (inputs × classes; × (classes − 1) for the softmax translation).</param>
/// <param name="Gap">Smallest kept over largest dropped singular value (∞ when none is dropped).</param>
/// <param name="ClearGap">The gap is at least 1e4, and so is the gap of the census's own rank decision in the family (otherwise the decision is flagged).</param>
/// <param name="Family">The candidate family, e.g. "gl(16) × gl(16) on the unit slices".</param>
/// <param name="Samples">The random inputs used (to explain a difference, e.g. units that never change sign on them).</param>
/// <param name="History">(inputs, discovered) of every round: more inputs are drawn while the discovery exceeds the census.</param>
/// <param name="Skipped">Why the site was not checked (e.g. a family above the size limit), or null.</param>
/// <param name="Unconstrained">Family coordinates whose constraint is identically zero over every input used: no input moves the
/// output along them (a unit dead on these inputs gets no gradient on its slices; an input feature that is always 0 leaves
/// its weights free). Each is an invariant direction of these data, so they bound how much of a surplus dead units can
/// explain.</param>
public sealed record DiscoveryCheck(CensusSite Site, int CensusDimension, int Discovered, int Unknowns, int Constraints, double Gap, bool ClearGap,
    string Family, IReadOnlyList<Tensor<double>> Samples, IReadOnlyList<(int Inputs, int Discovered)> History, string? Skipped = null, int Unconstrained = 0)
{
    /// <summary>The site was checked.</summary>
    public bool Checked => Skipped is null;

    /// <summary>The discovery agrees with the census.</summary>
    public bool Agrees => Checked && Discovered == CensusDimension;

    private string Rounds => string.Join(", ", History.Select(h => $"{h.Discovered} at {h.Inputs} inputs"));

    /// <summary>The difference as a finding (null when the discovery agrees; the reason when the site was skipped).</summary>
    public string? Finding => !Checked ? $"{Site.Location}: not checked by discovery ({Skipped})"
        : Agrees ? null
        : Discovered > CensusDimension
            ? $"{Site.Location}: discovery finds {Discovered} invariant directions in its family ({Family}), the census {CensusDimension}: "
              + (History.Count > 1 && History[^1].Discovered < History[^2].Discovered
                  ? $"the surplus shrinks with more inputs ({Rounds}): it holds for these data only (dead or always-on units, too few activation patterns)"
                  : $"a symmetry the census does not list ({Rounds})")
              + (Unconstrained > 0
                  ? $"; {Unconstrained} of the family's coordinates get no gradient from any of these inputs (dead units), "
                    + (Discovered - CensusDimension <= Unconstrained ? "enough to hold the whole surplus" : $"at most {Unconstrained} of the surplus of {Discovered - CensusDimension}")
                  : "")
            : $"{Site.Location}: discovery finds only {Discovered} invariant directions in its family ({Family}), the census claims {CensusDimension}: a census generator is not a symmetry (or the rank decision is wrong, gap {Gap:E2})";
}

/// <summary>The discovery check of a whole census.</summary>
/// <param name="Sites">One check per census site, in the census's order.</param>
/// <param name="Inputs">The number of random inputs drawn (the largest any site used).</param>
public sealed record CensusDiscoveryResult(IReadOnlyList<DiscoveryCheck> Sites, int Inputs)
{
    /// <summary>Every difference between discovery and census (and every site not checked), one line each.</summary>
    public IReadOnlyList<string> Findings => Sites.Where(s => !s.Agrees).Select(s => s.Finding!).ToArray();

    /// <summary>Every site was checked and agrees, with a clear singular-value gap.</summary>
    public bool AllAgree => Sites.All(s => s.Agrees && s.ClearGap);
}

/// <summary>Limits of <see cref="CensusDiscovery.Run"/>.</summary>
public sealed record DiscoveryOptions
{
    /// <summary>A fixed number of random inputs per site (no escalation); null: enough for (unknowns + 64) constraints, escalated ×4 while the discovery exceeds the census.</summary>
    public int? Samples { get; init; }

    /// <summary>
    /// Sites whose family has more unknowns are skipped (and reported): the rank costs O(unknowns³) and the rows grow with
    /// the unknowns. The default checks every site of the zoo models (the largest: VGG's 64-unit layer, 4736).
    /// </summary>
    public int MaxUnknowns { get; init; } = 5000;

    /// <summary>The escalation stops at this many inputs.</summary>
    public int MaxSamples { get; init; } = 1024;
}

/// <summary>
/// The completeness check of a census by numerical discovery — <c>noether discover</c> generalised to any site of a graph.
/// Each site gets a candidate family of vector fields restricted to its own parameter entries, larger than the census's
/// algebra: for a site whose generators act on n units (rescalings: a unit's producer slice +1 and consumer slice −1;
/// GL(n): the diagonal E_aa gives the slices), every linear map that mixes the n producer slices among themselves (slice
/// a += Σ_b A_ab slice b: n² maps) and, independently, the n consumer slices (n² more); for translation sites, every
/// constant vector field on the site's entries. A member v leaves the class probabilities (what softmax cross-entropy
/// sees) unchanged to first order on an input x iff ⟨∇θ (f_o − f̄)(x), v⟩ = 0 for the centred logits, C − 1 linear
/// constraints per input read off one reverse pass (batched over the classes where the ops allow) — shared by all sites.
/// Maps that do not move θ (AΘ = 0) are factored out first, so the family is written in coordinates where its tangent
/// map is an isometry. Seeded N(0, 1) inputs and an SVD give the dimension of the invariant subalgebra at θ, which must
/// equal the census's dimension in that family (<see cref="CensusSpan"/>: the site's own generators, and every
/// combination of the census's generators that lies in the family — the consumer family of the last hidden layer holds
/// the softmax translation's W → W + 1cᵀ, a LayerNorm-affine family the centring): a larger value is a finding (a symmetry the census misses, or one of these data only, e.g. a
/// dead unit — more inputs are then drawn, and a surplus that shrinks is reported as data-dependent), a smaller one
/// means a census generator is not a symmetry. Sites the census marks approximate (a normalisation's ε) are checked on
/// a copy of the graph with ε = 0, where they are exact.
/// </summary>
public static class CensusDiscovery
{
    private const int Margin = 64;

    /// <summary>
    /// Runs the check on one site of <paramref name="graph"/>, compared with the span of <paramref name="census"/>'s
    /// generators in its family (the site's alone when null: then a family that holds another site's directions, e.g. the
    /// softmax translation in the last hidden layer's consumer family, shows them as a surplus).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="census"/> does not list <paramref name="site"/>.</exception>
    public static DiscoveryCheck Check(Graph<double> graph, CensusSite site, Random rng, int? samples = null, SymmetryCensus? census = null)
    {
        ArgumentNullException.ThrowIfNull(site);
        census ??= new SymmetryCensus([site], [], []);
        if (!census.Sites.Contains(site)) throw Errors.Argument(nameof(census), $"census discovery: the census does not list the site '{site.Location}'");
        return RunSelected(graph, census, rng, new DiscoveryOptions { Samples = samples }, s => ReferenceEquals(s, site)).Sites.Single();
    }

    /// <summary>
    /// The unknowns of every site family <see cref="Run"/> would check under <paramref name="options"/> (sites above
    /// <see cref="DiscoveryOptions.MaxUnknowns"/> or without a family are skipped there and left out here): what its memory
    /// grows with, each site's constraint rows being that long.
    /// </summary>
    public static int[] CheckedFamilySizes(Graph<double> graph, SymmetryCensus census, DiscoveryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(census);
        options ??= new DiscoveryOptions();
        Errors.ThrowIfNotPositive(options.MaxUnknowns, nameof(options));
        double[] Data(string name) => (graph.Parameter(name) ?? throw Errors.Argument(nameof(census), $"census discovery: the graph has no parameter '{name}'")).Value.Data;
        return census.Sites.Select(site => CandidateFamily.Of(site, Data).Family)
            .Where(f => f is not null && f.Unknowns <= options.MaxUnknowns).Select(f => f!.Unknowns).ToArray();
    }

    /// <summary>Runs the check on every site of <paramref name="census"/>; the graph's parameters are not changed.</summary>
    public static CensusDiscoveryResult Run(Graph<double> graph, SymmetryCensus census, Random rng, DiscoveryOptions? options = null) =>
        RunSelected(graph, census, rng, options, _ => true);

    // The check of the census's sites that `checks` selects, each against the whole census's span in its family.
    private static CensusDiscoveryResult RunSelected(Graph<double> graph, SymmetryCensus census, Random rng, DiscoveryOptions? options, Func<CensusSite, bool> checks)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(census);
        ArgumentNullException.ThrowIfNull(rng);
        options ??= new DiscoveryOptions();
        if (options.Samples is int s0) Errors.ThrowIfNotPositive(s0, nameof(options));
        Errors.ThrowIfNotPositive(options.MaxUnknowns, nameof(options));
        Errors.ThrowIfNotPositive(options.MaxSamples, nameof(options));
        if (graph.Inputs.Count != 1) throw Errors.Argument(nameof(graph), "census discovery: the graph must have one input");

        double[] Data(string name) => (graph.Parameter(name) ?? throw Errors.Argument(nameof(census), $"census discovery: the graph has no parameter '{name}'")).Value.Data;
        var results = new DiscoveryCheck?[census.Sites.Count];
        var jobs = new List<Job>();
        CensusSpan? exactSpan = null, fullSpan = null;
        for (int i = 0; i < census.Sites.Count; i++)
        {
            var site = census.Sites[i];
            if (!checks(site)) continue;
            var (family, reason) = CandidateFamily.Of(site, Data);
            if (family is null || family.Unknowns > options.MaxUnknowns)
            {
                string why = reason ?? $"its family ({family!.Description}) has {family.Unknowns} unknowns, above the limit of {options.MaxUnknowns}";
                results[i] = new DiscoveryCheck(site, site.Dimension, 0, family?.Unknowns ?? 0, 0, double.NaN, false, family?.Description ?? "", [], [], why);
                continue;
            }
            // A site checked on the model sees only the exact sites' directions; one checked on the ε = 0 copy all of them.
            var span = site.Exact ? exactSpan ??= new CensusSpan(census, Data, exactOnly: true) : fullSpan ??= new CensusSpan(census, Data, exactOnly: false);
            var (expected, censusGap) = span.DimensionIn(family);
            jobs.Add(new Job(i, site, family) { Expected = expected, CensusGap = censusGap });
        }
        int drawn = 0;
        // Exact sites on the model; approximate ones (a normalisation's ε) on its ε = 0 copy, each group with its own inputs.
        foreach (var group in jobs.GroupBy(j => j.Site.Exact))
        {
            var g = group.Key ? graph : CensusVerification.WithoutEpsilon(graph);
            var sampler = new Sampler(g, group.SelectMany(j => j.Family.Parameters).Distinct().ToArray(), rng);
            var active = group.ToList();
            foreach (var j in active) j.Target = options.Samples ?? 0;
            while (active.Count > 0)
            {
                foreach (var j in active.Where(j => j.Target == 0))
                {
                    int per = sampler.RowsPerInput;
                    j.Target = Math.Min(options.MaxSamples, Math.Max(1, (j.Family.Unknowns + Margin + per - 1) / per));
                }
                // Every site uses the inputs 0, 1, 2, … in order (shared: one reverse pass per input and class serves all
                // sites that need it; a site escalated later recomputes the gradients of inputs drawn meanwhile).
                for (int k = active.Min(j => j.Used.Count); k < active.Max(j => j.Target); k++)
                {
                    var needing = active.Where(j => j.Used.Count == k && k < j.Target).ToArray();
                    if (needing.Length == 0) continue;
                    var rows = sampler.RowsOf(k);
                    foreach (var j in needing)
                    {
                        j.Used.Add(k);
                        foreach (var (grad, squares) in rows)
                        {
                            j.Constraints.Add(j.Family.Row(grad));
                            j.GradientSquares += squares;
                        }
                    }
                }
                var next = new List<Job>();
                foreach (var j in active)
                {
                    var (discovered, gap) = j.Constraints.NullDimension(Math.Sqrt(j.GradientSquares));
                    j.History.Add((j.Used.Count, discovered));
                    int more = Math.Min(options.MaxSamples, j.Target * 4);
                    // Escalate while the discovery exceeds the census and the surplus still shrinks (a surplus that
                    // survives 4× the inputs unchanged is structural, not a lack of data).
                    bool shrinking = j.History.Count < 2 || j.History[^1].Item2 < j.History[^2].Item2;
                    if (options.Samples is null && discovered > j.Expected && shrinking && more > j.Target)
                    {
                        j.Target = more;
                        next.Add(j);
                        continue;
                    }
                    results[j.Index] = new DiscoveryCheck(j.Site, j.Expected, discovered, j.Family.Unknowns, j.Constraints.Count, gap, gap >= 1e4 && j.CensusGap >= 1e4,
                        j.Family.Description, j.Used.Select(k => sampler.Samples[k]).ToArray(), j.History, double.IsNaN(gap) ? "non-finite gradients" : null,
                        j.Constraints.Unconstrained);
                    j.Constraints.Release(); // a finished site's rows are garbage: the largest families' would otherwise add up
                }
                active = next;
            }
            drawn = Math.Max(drawn, sampler.Count);
        }
        return new CensusDiscoveryResult(results.OfType<DiscoveryCheck>().ToArray(), drawn);
    }

    private sealed class Job(int index, CensusSite site, CandidateFamily family)
    {
        public int Index { get; } = index;
        public CensusSite Site { get; } = site;
        public CandidateFamily Family { get; } = family;
        public Constraints Constraints { get; } = new(family.Unknowns);
        public double GradientSquares { get; set; }
        public List<(int, int)> History { get; } = [];
        public List<int> Used { get; } = [];
        public int Target { get; set; }
        public int Expected { get; init; }
        public double CensusGap { get; init; }
    }

    /// <summary>
    /// A site's constraint rows and the dimension of their null space. Families up to <see cref="DirectLimit"/> unknowns
    /// keep the rows and take their singular values directly (resolved to ~1e-16 of the largest). Larger ones (VGG's and
    /// ResNet-20's widest layers: 4736 and 4224 unknowns) accumulate the Gram matrix AᵀA block by block (BLAS, unknowns²
    /// memory however many rows, escalation included) and take the singular values from its eigenvalues: ~2× less work
    /// than the SVD of A, but resolved only to ~1e-8 of the largest, so the rank threshold there is 1e-6 (as for the orbit
    /// check's Gram matrix) and the dropped values are reported as measured (|λ|^½), never clamped to 0. The limit is 3500
    /// so that the transformer's Q, K, V centring (3168 unknowns) keeps full resolution: through the Gram matrix its gap
    /// measured 9.4e3, below the 1e4 a clear rank needs (2026-12-06).
    /// </summary>
    internal sealed class Constraints(int unknowns, int directLimit = Constraints.DirectLimit)
    {
        /// <summary>Families with more unknowns go through the Gram matrix.</summary>
        public const int DirectLimit = 3500;

        private const double RankThreshold = 1e-9, GramRankThreshold = 1e-6, NoiseFloor = 1e-12;
        private const int Block = 256;

        private List<double[]> _rows = [];
        // Σ over rows of each coordinate's squared constraint: exactly 0 when no row ever involved it.
        private readonly double[] _columnSquares = new double[unknowns];
        private Tensor<double>? _gram = unknowns > directLimit ? Tensor<double>.Zeros(unknowns, unknowns) : null;
        private bool _finite = true;

        public int Count { get; private set; }

        /// <summary>Coordinates no row constrains (their column is exactly zero).</summary>
        public int Unconstrained => _columnSquares.Count(v => v == 0);

        public void Add(double[] row)
        {
            if (_finite && row.Any(v => !double.IsFinite(v))) _finite = false;
            for (int j = 0; j < row.Length; j++) _columnSquares[j] += row[j] * row[j];
            _rows.Add(row);
            Count++;
            if (_gram is not null && _rows.Count == Block) Flush();
        }

        // G += BᵀB for the pending rows B.
        private void Flush()
        {
            if (_gram is null || _rows.Count == 0 || !_finite) return;
            var b = FromRows(_rows);
            Blas.Gemm(true, false, unknowns, unknowns, _rows.Count, 1.0, b.Data, unknowns, b.Data, unknowns, 1.0, _gram.Data, unknowns, BlasProvider.Auto);
            _rows.Clear();
        }

        public void Release()
        {
            _rows = [];
            _gram = null;
        }

        // Dimension of the null space and the gap. A singular value counts when it exceeds the rank threshold of the largest
        // AND NoiseFloor of the whole gradients' norm (Frobenius, over every parameter the sites touch): a site whose
        // constraints are all rounding (the key bias: its gradient vanishes identically) must come out fully invariant.
        public (int Dimension, double Gap) NullDimension(double gradientNorm)
        {
            if (!_finite) return (0, double.NaN);
            double[] sv;
            double threshold;
            if (_gram is null)
            {
                sv = LinearAlgebra.SingularValues(FromRows(_rows));
                threshold = RankThreshold;
            }
            else
            {
                Flush();
                var g = _gram.Data;
                for (int i = 0; i < unknowns; i++)
                    for (int k = i + 1; k < unknowns; k++) g[i * unknowns + k] = g[k * unknowns + i] = 0.5 * (g[i * unknowns + k] + g[k * unknowns + i]);
                sv = LinearAlgebra.SymmetricEigen(_gram, vectors: false).Values.Select(v => Math.Sqrt(Math.Abs(v))).OrderDescending().ToArray();
                sv = sv.Take(Math.Min(Count, unknowns)).ToArray(); // as many as the SVD of the rows would give
                threshold = GramRankThreshold;
            }
            double max = sv.Length > 0 ? sv[0] : 0;
            double cut = Math.Max(threshold * max, NoiseFloor * gradientNorm);
            int rank = sv.Count(v => v > cut);
            // With nothing kept (every direction invariant) the gap is measured from the gradients' own norm.
            double kept = rank > 0 ? sv[rank - 1] : gradientNorm, dropped = rank < sv.Length ? sv[rank] : 0;
            double gap = dropped > 0 ? kept / dropped : double.PositiveInfinity;
            return (unknowns - rank, gap);
        }
    }

    /// <summary>The matrix whose rows are <paramref name="rows"/> (all of one length).</summary>
    private static Tensor<double> FromRows(IReadOnlyList<double[]> rows)
    {
        int n = rows.Count > 0 ? rows[0].Length : 0;
        var m = Tensor<double>.Zeros(rows.Count, n);
        for (int i = 0; i < rows.Count; i++) rows[i].AsSpan().CopyTo(m.Data.AsSpan(i * n, n));
        return m;
    }

    /// <summary>
    /// Draws seeded N(0, 1) inputs one at a time and returns, per input, the gradients of the centred logits
    /// f_o − f̄ (o = 0 … C − 2; the last is minus their sum) with respect to the parameters the sites touch.
    /// </summary>
    private sealed class Sampler(Graph<double> graph, string[] names, Random rng)
    {
        private readonly Parameter<double>[] _parameters = names.Select(n => graph.Parameter(n)!).ToArray();
        private readonly HashSet<string> _tracked = [.. names];
        private readonly int[] _shape = graph.Inputs[0].Shape.Select(d => d ?? 1).ToArray();

        public List<Tensor<double>> Samples { get; } = [];

        public int Count => Samples.Count;

        private readonly int _classes = graph.Evaluate(Tensor<double>.Zeros(graph.Inputs[0].Shape.Select(d => d ?? 1).ToArray()))[0].Length;

        /// <summary>Constraints per input: C − 1 independent ones for the centred logits (1 for a single output).</summary>
        public int RowsPerInput => Math.Max(1, _classes - 1);

        /// <summary>
        /// The centred logits' gradients of input <paramref name="k"/> (drawn now if k is the next one; the logit's own for a
        /// single output), each with its squared norm over all the tracked parameters.
        /// </summary>
        public List<(Func<string, double[]>, double)> RowsOf(int k)
        {
            if (k == Samples.Count)
            {
                var fresh = Tensor<double>.Zeros(_shape);
                Gaussian.Fill(rng, fresh.Data);
                Samples.Add(fresh);
            }
            var x = Samples[k];
            var tape = new Tape<double>();
            // Parameters no site touches are constants: their weight gradients (a conv's costliest part) are not computed.
            foreach (var p in graph.Parameters)
                if (!_tracked.Contains(p.Name)) tape.BindTo(p, tape.Constant(p.Value));
            var y = graph.Run(tape, [tape.Constant(x)]).Output(tape, 0);
            int classes = y.Value.Length;
            var grads = new Dictionary<string, double[]>[classes];
            var wrt = _parameters.Select(tape.Bind).ToArray();
            // All classes in one batched reverse pass where every op on the way has a batched rule (rank ≤ 3: MLPs,
            // transformers), else one reverse pass per class (convolutions).
            var seeds = Tensor<double>.Zeros([classes, .. y.Value.ShapeArray]);
            for (int o = 0; o < classes; o++) seeds.Data[o * classes + o] = 1;
            if (tape.BatchedGradient([y], [seeds], wrt, classes) is { } batched)
            {
                for (int o = 0; o < classes; o++)
                    grads[o] = _parameters.Select((p, i) => (p.Name, Data: batched[i].Data.AsSpan(o * p.Length, p.Length).ToArray())).ToDictionary(t => t.Name, t => t.Data);
            }
            else
            {
                for (int o = 0; o < classes; o++)
                {
                    var seed = Tensor<double>.Zeros(y.Value.ShapeArray);
                    seed.Data[o] = 1;
                    var g = tape.Gradient(y, wrt, tape.Constant(seed));
                    grads[o] = _parameters.Select((p, i) => (p.Name, g[i].Value.Data)).ToDictionary(t => t.Name, t => t.Data);
                }
            }
            static double Squares(Dictionary<string, double[]> g) => g.Values.Sum(a => TensorPrimitives.Dot<double>(a, a));
            if (classes == 1) return [(n => grads[0][n], Squares(grads[0]))];
            var mean = names.ToDictionary(n => n, n =>
            {
                var m = new double[grads[0][n].Length];
                foreach (var g in grads) for (int i = 0; i < m.Length; i++) m[i] += g[n][i] / classes;
                return m;
            });
            var centred = new List<(Func<string, double[]>, double)>();
            for (int o = 0; o < classes - 1; o++)
            {
                var row = names.ToDictionary(n => n, n =>
                {
                    var g = grads[o][n];
                    var c = new double[g.Length];
                    TensorPrimitives.Subtract<double>(g, mean[n], c);
                    return c;
                });
                centred.Add((n => row[n], Squares(row)));
            }
            return centred;
        }
    }
}
