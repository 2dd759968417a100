using Noether.Autodiff;
using Noether.Conservation;
using Noether.Graphs;
using Noether.Symmetry.Census;
using Noether.Tensors;
using static Noether.Experiments.ClaimOutcomes;

namespace Noether.Experiments;

/// <summary>What <see cref="ModelReportExperiment"/> computes for an imported model (<c>noether analyze --model</c>).</summary>
/// <param name="LinePoints">Points of each loss line (odd, so that t = 0 is one of them).</param>
/// <param name="Radius">The lines run over relative distances ‖θ(t) − θ‖ / ‖θ‖ in [−Radius, Radius].</param>
/// <param name="RandomDirections">Random filter-normalised directions (Li et al. 2018) drawn beside the symmetry directions.</param>
/// <param name="OrbitSites">Census sites whose orbit (and tangent line) is drawn: the largest curved ones first (a translation's orbit is a straight line).</param>
/// <param name="TopK">Top eigenvalues of the batch Hessian (restarted Lanczos); 0 skips the curvature.</param>
/// <param name="TraceProbes">Hutchinson probes of the trace.</param>
/// <param name="CurvatureBatches">Batches the analysis batch is split into for the curvature's batch-to-batch interval (at least 2).</param>
/// <param name="MaxTangentEntries">The curvature modulo the orbit needs the census's tangent vectors as a dense D × (census
/// dimension) matrix: it is computed only when that matrix has at most this many entries (2.5·10⁸ entries = 2 GB of float64).</param>
/// <param name="MaxOrbitTangents">The curvature modulo the orbit costs one Hessian pass per tangent and batch: it is computed
/// only for censuses of at most this many generators (<c>noether curvature --modulo-orbit</c> computes it for any size).</param>
/// <param name="MaxLawParameters">The law count of the data fields (the outputs' gradients on the batch) needs dense D × D work
/// per bracket level: it is computed only for models with at most this many parameters.</param>
/// <param name="Seed">Seed of every random draw (directions, group elements, probes).</param>
public sealed record ModelReportSettings(int LinePoints = 21, double Radius = 1, int RandomDirections = 2, int OrbitSites = 2, int TopK = 3,
    int TraceProbes = 20, int CurvatureBatches = 2, long MaxTangentEntries = 250_000_000, int MaxOrbitTangents = 128, int MaxLawParameters = 2_000, int Seed = 0)
{
    internal void Validate()
    {
        if (LinePoints < 3 || LinePoints % 2 == 0) throw Errors.OutOfRange(nameof(LinePoints), LinePoints, "an odd count ≥ 3 (t = 0 is a point)");
        Errors.ThrowIfNotPositive(Radius, nameof(Radius));
        if (RandomDirections < 0) throw Errors.OutOfRange(nameof(RandomDirections), RandomDirections, "≥ 0");
        if (OrbitSites < 0) throw Errors.OutOfRange(nameof(OrbitSites), OrbitSites, "≥ 0");
        if (TopK < 0) throw Errors.OutOfRange(nameof(TopK), TopK, "≥ 0");
        Errors.ThrowIfNotPositive(TraceProbes, nameof(TraceProbes));
        if (CurvatureBatches < 2) throw Errors.OutOfRange(nameof(CurvatureBatches), CurvatureBatches, "≥ 2 (an interval needs two batches)");
    }
}

/// <summary>The loss along one path through the weights.</summary>
/// <param name="Kind">"orbit" (exp(t·M)·θ for a generator mix M of one census site, t scaled on each side so that the end points lie at ± the radius), "tangent" (the straight line θ + t·Mθ) or "random" (a filter-normalised random direction).</param>
/// <param name="Label">The site or direction, for legends.</param>
/// <param name="Distance">Signed relative distance ‖θ(t) − θ‖ / ‖θ‖ of each point.</param>
/// <param name="Loss">Mean cross-entropy of the batch at each point.</param>
public sealed record LossLine(string Kind, string Label, double[] Distance, double[] Loss)
{
    /// <summary>max |L(t) − L(0)| / |L(0)| over the line.</summary>
    public double MaxRelativeChange
    {
        get
        {
            double l0 = Loss[Array.IndexOf(Distance, 0.0) is int i and >= 0 ? i : Loss.Length / 2];
            return Loss.Max(l => Math.Abs(l - l0)) / Math.Max(Math.Abs(l0), double.Epsilon);
        }
    }
}

/// <summary>The result of <see cref="ModelReportExperiment.Run"/>.</summary>
/// <param name="Settings">The settings.</param>
/// <param name="Parameters">D.</param>
/// <param name="Samples">Images in the batch.</param>
/// <param name="Census">The symmetry census of the graph.</param>
/// <param name="Check">Its numerical verification at the weights (every site, the tangent map's rank).</param>
/// <param name="Lines">Loss along orbits, their tangent lines and random filter-normalised directions.</param>
/// <param name="Curvature">Top eigenvalues and trace of the batch Hessian with batch-to-batch intervals, and the curvature modulo the orbit (null when TopK = 0).</param>
/// <param name="CurvatureNote">Why a part of the curvature was not computed (null when all was).</param>
/// <param name="DataLaws">The law count of the data fields (null when not computed).</param>
/// <param name="LawsNote">Why the law count was not computed (null when it was).</param>
public sealed record ModelReportResult(ModelReportSettings Settings, int Parameters, int Samples, SymmetryCensus Census, CensusVerificationResult Check,
    IReadOnlyList<LossLine> Lines, CurvatureResult? Curvature, string? CurvatureNote, LawCountResult? DataLaws, string? LawsNote);

/// <summary>
/// <c>noether analyze --model</c>: the report of an imported model at its weights, on a labelled batch (loss: mean softmax
/// cross-entropy of output 0, float64): its symmetry census verified site by site with the conserved quantities, the
/// orbit dimension, the loss along group orbits against their tangent lines and random filter-normalised directions, the
/// curvature with batch-to-batch intervals (and modulo the orbit), and, for small models, the law count of the data fields.
/// The graph's parameters are restored on return.
/// </summary>
public static class ModelReportExperiment
{
    /// <summary>Runs the report's computations.</summary>
    /// <exception cref="ArgumentException">Bad settings, a batch of other size than its labels, or fewer images than curvature batches.</exception>
    public static ModelReportResult Run(Graph<double> graph, Tensor<double> inputs, int[] labels, ModelReportSettings settings,
        IProgress<ExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        int n = inputs.Dim(0);
        if (n != labels.Length) throw Errors.Argument(nameof(labels), $"model report: {n} inputs but {labels.Length} labels");
        if (settings.TopK > 0 && n < settings.CurvatureBatches)
            throw Errors.Argument(nameof(inputs), $"model report: {n} images cannot make {settings.CurvatureBatches} curvature batches");
        int d = graph.Parameters.Sum(p => p.Value.Length);
        var rng = new Random(settings.Seed);

        progress?.Report(new ExperimentProgress("symmetry census", 0, 4));
        var census = SymmetryCensus.Take(graph);
        var check = CensusVerification.Verify(graph, census, inputs, labels, rng);
        cancellationToken.ThrowIfCancellationRequested();

        progress?.Report(new ExperimentProgress("loss along orbits and random directions", 1, 4));
        var lines = Lines(graph, census, inputs, labels, settings, rng, cancellationToken);

        progress?.Report(new ExperimentProgress("curvature", 2, 4));
        var (curvature, curvatureNote) = settings.TopK == 0 ? (null, "not asked (top-k = 0)") : Curvature(graph, census, inputs, labels, settings, d, progress, cancellationToken);

        progress?.Report(new ExperimentProgress("law count", 3, 4));
        LawCountResult? laws = null;
        string? lawsNote = null;
        if (d > settings.MaxLawParameters)
            lawsNote = string.Create(CultureInfo.InvariantCulture,
                $"not computed: D = {d:N0} parameters > {settings.MaxLawParameters:N0} (each bracket level of the law count is dense D × D work)");
        else
            laws = LawCount.Count(DataFields(graph, inputs), graph.Parameters.Select(p => p.Value).ToArray(), new Random(settings.Seed + 1));
        progress?.Report(new ExperimentProgress("done", 4, 4));
        return new ModelReportResult(settings, d, n, census, check, lines, curvature, curvatureNote, laws, lawsNote);
    }

    /// <summary>The mean cross-entropy of the batch at the graph's current weights.</summary>
    public static double Loss(Graph<double> graph, Tensor<double> inputs, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var tape = new Tape<double>();
        var logits = graph.Run(tape, [tape.Constant(inputs)]).Output(tape, 0);
        return Ops.CrossEntropy(logits, labels).Value.Data[0];
    }

    /// <summary>The data fields φ(θ) = the model's outputs on the batch, as a function of every parameter (for <see cref="LawCount"/>).</summary>
    public static Reparametrization DataFields(Graph<double> graph, Tensor<double> inputs)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(inputs);
        return leaves =>
        {
            var tape = leaves[0].Tape;
            for (int i = 0; i < graph.Parameters.Count; i++) tape.BindTo(graph.Parameters[i], leaves[i]);
            return [graph.Run(tape, [tape.Constant(inputs)]).Output(tape, 0)];
        };
    }

    private static List<LossLine> Lines(Graph<double> graph, SymmetryCensus census, Tensor<double> inputs, int[] labels, ModelReportSettings s,
        Random rng, CancellationToken token)
    {
        var saved = graph.Parameters.ToDictionary(p => p.Name, p => (double[])p.Value.Data.Clone());
        double[] Data(string name) => graph.Parameter(name)!.Value.Data;
        void Restore() { foreach (var (name, data) in saved) data.CopyTo(Data(name), 0); }
        double thetaNorm = Math.Sqrt(saved.Values.Sum(v => v.Sum(x => x * x)));
        double Distance() => Math.Sqrt(graph.Parameters.Sum(p => p.Value.Data.Select((x, i) => (x - saved[p.Name][i]) * (x - saved[p.Name][i])).Sum())) / thetaNorm;
        var grid = Enumerable.Range(0, s.LinePoints).Select(i => s.Radius * (2.0 * i / (s.LinePoints - 1) - 1)).ToArray();
        grid[s.LinePoints / 2] = 0;
        var lines = new List<LossLine>();
        try
        {
            // A translation's orbit is its own tangent line, so only curved orbits (rescalings, GL) are drawn.
            foreach (var site in census.Sites.Where(x => x.Dimension > 0 && x.Generators[0].Kind != GeneratorKind.Translation).OrderByDescending(x => x.Dimension).ThenBy(x => x.Location).Take(s.OrbitSites))
            {
                // A random mix M = Σ cᵢ Mᵢ of the site's generators, scaled so that ‖Mθ‖ = ‖θ‖: the orbit then leaves θ at unit relative speed.
                var c = site.Generators.Select(_ => Gaussian.Next(rng)).ToArray();
                var tangent = new Dictionary<(string, int), double>();
                for (int i = 0; i < c.Length; i++)
                    foreach (var (p, j, v) in site.Generators[i].Tangent(Data))
                        tangent[(p, j)] = tangent.GetValueOrDefault((p, j)) + c[i] * v;
                double speed = Math.Sqrt(tangent.Values.Sum(v => v * v));
                if (!(speed > 0)) continue;
                for (int i = 0; i < c.Length; i++) c[i] *= thetaNorm / speed;
                // The group acts exponentially, so a group parameter t moves θ by far more than |t| on a small site (ResNet-20:
                // 300× the radius at t = 1). Each side's parameter is scaled so that the orbit's end point lies at the radius.
                double DistanceAt(double t)
                {
                    site.Apply(Data, c.Select(x => t * x).ToArray());
                    double distance = Distance();
                    Restore();
                    return distance;
                }
                double Reach(double sign)
                {
                    double lo = 0, hi = s.Radius;
                    for (int i = 0; i < 60 && DistanceAt(sign * hi) < s.Radius; i++) (lo, hi) = (hi, 2 * hi);
                    for (int i = 0; i < 50; i++)
                    {
                        double mid = 0.5 * (lo + hi);
                        if (DistanceAt(sign * mid) < s.Radius) lo = mid; else hi = mid;
                    }
                    return 0.5 * (lo + hi);
                }
                double forward = Reach(1), backward = Reach(-1);
                var orbit = new double[grid.Length];
                var orbitDistance = new double[grid.Length];
                var line = new double[grid.Length];
                for (int k = 0; k < grid.Length; k++)
                {
                    token.ThrowIfCancellationRequested();
                    double t = grid[k] / s.Radius * (grid[k] >= 0 ? forward : backward);
                    site.Apply(Data, c.Select(x => t * x).ToArray());
                    orbit[k] = Loss(graph, inputs, labels);
                    orbitDistance[k] = Math.Sign(grid[k]) * Distance();
                    Restore();
                    foreach (var ((p, j), v) in tangent) Data(p)[j] += grid[k] * v * thetaNorm / speed;
                    line[k] = Loss(graph, inputs, labels);
                    Restore();
                }
                lines.Add(new LossLine("orbit", site.Location, orbitDistance, orbit));
                lines.Add(new LossLine("tangent", site.Location, [.. grid], line));
            }
            for (int r = 0; r < s.RandomDirections; r++)
            {
                var direction = FilterNormalised(graph, saved, rng);
                double norm = Math.Sqrt(direction.Values.Sum(v => v.Sum(x => x * x)));
                var loss = new double[grid.Length];
                for (int k = 0; k < grid.Length; k++)
                {
                    token.ThrowIfCancellationRequested();
                    foreach (var (p, v) in direction)
                    {
                        var data = Data(p);
                        for (int j = 0; j < v.Length; j++) data[j] += grid[k] * v[j] * thetaNorm / norm;
                    }
                    loss[k] = Loss(graph, inputs, labels);
                    Restore();
                }
                lines.Add(new LossLine("random", string.Create(CultureInfo.InvariantCulture, $"random direction {r + 1}"), [.. grid], loss));
            }
        }
        finally
        {
            Restore();
        }
        return lines;
    }

    // Li et al. (2018): a Gaussian direction with each filter (a weight's slice along its first axis) rescaled to that
    // filter's norm at θ; biases and other 1-D parameters (BatchNorm's) get 0.
    internal static Dictionary<string, double[]> FilterNormalised(Graph<double> graph, Dictionary<string, double[]> theta, Random rng)
    {
        var direction = new Dictionary<string, double[]>();
        foreach (var p in graph.Parameters)
        {
            var v = new double[p.Value.Length];
            if (p.Value.Rank >= 2)
            {
                Gaussian.Fill(rng, v);
                int filters = p.Value.Dim(0), size = v.Length / filters;
                for (int f = 0; f < filters; f++)
                {
                    var dv = v.AsSpan(f * size, size);
                    var tv = theta[p.Name].AsSpan(f * size, size);
                    double dn = System.Numerics.Tensors.TensorPrimitives.Norm<double>(dv), tn = System.Numerics.Tensors.TensorPrimitives.Norm<double>(tv);
                    System.Numerics.Tensors.TensorPrimitives.Multiply(dv, dn > 0 ? tn / dn : 0, dv);
                }
            }
            direction[p.Name] = v;
        }
        return direction;
    }

    private static (CurvatureResult?, string?) Curvature(Graph<double> graph, SymmetryCensus census, Tensor<double> inputs, int[] labels,
        ModelReportSettings s, int d, IProgress<ExperimentProgress>? progress, CancellationToken token)
    {
        int n = inputs.Dim(0), per = n / s.CurvatureBatches;
        var batches = Enumerable.Range(0, s.CurvatureBatches).Select(b =>
        {
            int from = b * per, count = b == s.CurvatureBatches - 1 ? n - from : per;
            return (Rows(inputs, from, count), labels[from..(from + count)]);
        }).ToArray();
        int generators = census.Sites.Sum(x => x.Dimension);
        string? note = null;
        IReadOnlyList<double[]>? tangents = null;
        if (generators > s.MaxOrbitTangents)
            note = string.Create(CultureInfo.InvariantCulture,
                $"curvature modulo the orbit not computed: {generators:N0} tangents would cost {generators * s.CurvatureBatches:N0} Hessian passes (at most {s.MaxOrbitTangents} tangents here; `noether curvature --modulo-orbit` computes it)");
        else if ((long)generators * d > s.MaxTangentEntries)
            note = string.Create(CultureInfo.InvariantCulture,
                $"curvature modulo the orbit not computed: {generators:N0} tangents × {d:N0} parameters exceed {s.MaxTangentEntries:N0} entries");
        else if (generators > 0)
            tangents = census.Tangents(graph).Tangents;
        var settings = new CurvatureSettings
        {
            TopK = s.TopK, Probes = s.TraceProbes, DensityProbes = 0, SingleBatches = 0, Layers = true, Seed = s.Seed, Tangents = tangents,
        };
        // Every per-batch pass is reported (stage "curvature: …"): the caller can collect garbage between passes, as curvature does.
        var passes = progress is null ? null : new InlineProgress<ExperimentProgress>(e => progress.Report(e with { Stage = "curvature: " + e.Stage }));
        return (CurvatureExperiment.Run(graph, batches, settings, passes, token), note);
    }

    private static Tensor<double> Rows(Tensor<double> t, int from, int count)
    {
        int row = t.Length / t.Dim(0);
        var shape = t.ShapeArray;
        shape[0] = count;
        return new Tensor<double>(t.Data.AsSpan(from * row, count * row).ToArray(), shape);
    }

    // ---- Noether's own checks of the report (none of them a claim of the paper) ----

    /// <summary>Largest relative loss change along an orbit that still counts as flat (float64 rounding of a cross-entropy).</summary>
    public const double FlatOrbit = 1e-10;

    /// <summary>Every census site verified. One part: [sites, sites that passed].</summary>
    public static readonly ClaimRule SitesVerified = new("model-census-verified", ClaimOrigin.Own, "CENSUS.md (Noether's census)",
        "Every site of the symmetry census is a symmetry of this model at its weights: the loss is unchanged by a finite group element and ∇L is orthogonal to every generator.",
        $"every site passes (≤ {Text(CensusVerification.DefaultTolerance)} relative)", "[sites, passed]",
        p =>
        {
            var x = Single(p, 2);
            return If(x[0] > 0 && x[1] == x[0]);
        });

    /// <summary>The census's dimension equals the tangent map's rank. One part: [census dimension, rank, clear gap 0/1].</summary>
    public static readonly ClaimRule OrbitRank = new("model-orbit-rank", ClaimOrigin.Own, "CENSUS.md (orbit dimension)",
        "The census's generators are independent at the weights: the rank of the tangent map equals the census's dimension.",
        "rank = census dimension, with a clear singular-value gap", "[census dimension, rank, clear gap 0/1]",
        p =>
        {
            var x = Single(p, 3);
            return If(x[0] > 0 && x[1] == x[0] && x[2] == 1);
        });

    /// <summary>Flat along the orbit, curved off it. Per drawn site: [max relative loss change along the orbit, along its tangent line].</summary>
    public static readonly ClaimRule OrbitFlat = new("model-orbit-flat", ClaimOrigin.Own, "eq. 1 along a finite orbit",
        "The loss is constant along a group orbit through the weights but not along the orbit's tangent line (the flat valley is curved).",
        $"for every drawn site: orbit change ≤ {Text(FlatOrbit)} relative, tangent-line change above it", "per site: [orbit change, tangent-line change]",
        p => PerPart(p, x => x.Length == 2 && x[0] <= FlatOrbit && x[1] > FlatOrbit));

    /// <summary>The rules of the report.</summary>
    public static IReadOnlyList<ClaimRule> All { get; } = [SitesVerified, OrbitRank, OrbitFlat];

    /// <summary>The report's checks, judged.</summary>
    public static IReadOnlyList<Claim> Claims(ModelReportResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var orbit = r.Check.Orbit;
        var lines = r.Lines.Where(l => l.Kind == "orbit")
            .Select(o => new[] { o.MaxRelativeChange, r.Lines.First(t => t.Kind == "tangent" && t.Label == o.Label).MaxRelativeChange }).ToArray();
        var claims = new List<Claim>
        {
            SitesVerified.Make([[r.Check.Sites.Count, r.Check.Sites.Count(x => x.Passed)]],
                string.Create(CultureInfo.InvariantCulture, $"{r.Check.Sites.Count(x => x.Passed)} of {r.Check.Sites.Count} sites pass")),
            OrbitRank.Make([[orbit.CensusDimension, orbit.Rank, orbit.ClearGap ? 1 : 0]],
                string.Create(CultureInfo.InvariantCulture, $"rank {orbit.Rank} of {orbit.CensusDimension}{(orbit.ClearGap ? "" : " (no clear gap)")}")),
        };
        if (lines.Length > 0)
            claims.Add(OrbitFlat.Make(lines, string.Join("; ", lines.Select(x => string.Create(CultureInfo.InvariantCulture, $"orbit {x[0]:G2}, tangent line {x[1]:G2}")))));
        return claims;
    }
}
