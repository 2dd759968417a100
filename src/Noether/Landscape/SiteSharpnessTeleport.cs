using Noether.Autodiff;
using Noether.Graphs;
using Noether.Symmetry.Census;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>Settings of a <see cref="SiteSharpnessTeleport"/>.</summary>
/// <param name="MaxPathParameter">The search stays in |t| ≤ this (5: scalings up to e^5 ≈ 148).</param>
/// <param name="Tolerance">The reached λ_max must be within Tolerance·target of the target.</param>
/// <param name="LanczosTolerance">Relative residual of each restarted Lanczos run (its Ritz value is within the residual of an eigenvalue).</param>
/// <param name="Seed">Seed of every Lanczos start vector (the same at every t, so λ_max(t) is a deterministic function).</param>
public sealed record SiteSharpnessOptions(double MaxPathParameter = 5, double Tolerance = 1e-8, double LanczosTolerance = 1e-10, int Seed = 0)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!(MaxPathParameter > 0) || double.IsInfinity(MaxPathParameter)) throw Errors.OutOfRange(nameof(MaxPathParameter), MaxPathParameter, "a positive finite bound on |t|");
        if (!(Tolerance > 0 && Tolerance < 1)) throw Errors.OutOfRange(nameof(Tolerance), Tolerance, "a relative tolerance in (0, 1)");
        if (!(LanczosTolerance > 0 && LanczosTolerance < Tolerance)) throw Errors.OutOfRange(nameof(LanczosTolerance), LanczosTolerance, $"a Lanczos residual in (0, {Tolerance}) (below the target tolerance)");
    }
}

/// <summary>One evaluation of λ_max along the path.</summary>
/// <param name="T">The path parameter.</param>
/// <param name="Sharpness">λ_max of the Hessian at exp(tM)·θ.</param>
/// <param name="Products">Hessian-vector products the Lanczos run took.</param>
public sealed record SharpnessSample(double T, double Sharpness, long Products);

/// <summary>The outcome of <see cref="SiteSharpnessTeleport.Teleport"/>.</summary>
/// <param name="Site">The site moved.</param>
/// <param name="Path">How the one-parameter path exp(tM) was chosen from the site's generators.</param>
/// <param name="T">The path parameter reached.</param>
/// <param name="Target">λ_max asked for.</param>
/// <param name="SharpnessBefore">λ_max at t = 0.</param>
/// <param name="SharpnessAfter">λ_max at the moved point (within <see cref="SiteSharpnessOptions.Tolerance"/>·target of the target).</param>
/// <param name="LossBefore">L on the batch before.</param>
/// <param name="LossAfter">L on the batch after (equal to rounding: the site is a symmetry).</param>
/// <param name="Samples">Every λ_max evaluated, in order (t = 0 first).</param>
public sealed record SiteSharpnessResult(CensusSite Site, string Path, double T, double Target, double SharpnessBefore, double SharpnessAfter,
    double LossBefore, double LossAfter, IReadOnlyList<SharpnessSample> Samples)
{
    /// <summary>|λ_after − target| / target.</summary>
    public double RelativeError => Math.Abs(SharpnessAfter - Target) / Target;

    /// <summary>Hessian-vector products over all evaluations.</summary>
    public long Products => Samples.Sum(s => s.Products);
}

/// <summary>
/// Teleportation of a graph classifier (float64, output 0 the logits, loss the mean cross-entropy on one batch) to a
/// chosen sharpness λ_max (the top eigenvalue of the Hessian) along one census site. A site of several dimensions is
/// moved along one path exp(tM)·θ: M = Σᵢ Mᵢ, the sum of its generators, for rescaling and normalisation-scale sites (every
/// unit or channel of the layer scaled by the same e^t) and translation sites (every generator shifted by the same t);
/// for a GL(d) site the scalar path g = e^t·I (the sum of its diagonal generators E_aa, as the two-layer teleport's
/// default path). M is diagonal (or a constant shift), so exp(tM) is applied entry by entry, exactly.
/// Since L(g·θ) = L(θ) for every θ, the Hessian transforms as H(g·θ) = g⁻ᵀ H(θ) g⁻¹: a congruence, so λ_max moves while
/// the loss and the function do not. λ_max(t) comes from restarted Lanczos on exact Hessian-vector products (double
/// backward) at the moved point. The root nearest t = 0 is bracketed on the grid ±0.05·2^k (up to ±T), then refined by the
/// Illinois method; when no grid point brackets it, the grid's extreme (minimum for a target below every value seen,
/// maximum above) is refined by golden-section search before the target is refused with the reachable range found.
/// </summary>
public static class SiteSharpnessTeleport
{
    private const double FirstStep = 0.05;

    /// <summary>
    /// Moves <paramref name="graph"/>'s parameters in place along <paramref name="site"/> so that λ_max of the mean
    /// cross-entropy on (<paramref name="inputs"/>, <paramref name="labels"/>) equals <paramref name="target"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A target that is not positive and finite; an approximate site or one with no
    /// diagonal path; a target outside the range λ_max takes over |t| ≤ T (named "target", with the range, where its
    /// minimum and maximum lie and the evaluations made). The parameters are restored on every failure.</exception>
    public static SiteSharpnessResult Teleport(Graph<double> graph, CensusSite site, Tensor<double> inputs, int[] labels, double target,
        SiteSharpnessOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        options ??= new SiteSharpnessOptions();
        options.Validate();
        if (!(target > 0) || double.IsInfinity(target)) throw Errors.OutOfRange(nameof(target), target, "a positive finite top Hessian eigenvalue");
        if (inputs.Rank == 0 || inputs.Dim(0) != labels.Length)
            throw Errors.Argument(nameof(labels), $"sharpness teleport: {labels.Length} labels for a batch of shape {Errors.Shape(inputs.ShapeArray)}");
        var (path, scaling, description) = Path(site);
        foreach (var name in path.Select(p => p.Parameter).Distinct())
            if (graph.Parameter(name) is null) throw Errors.Argument(nameof(site), $"sharpness teleport: site '{site.Location}' moves '{name}', which is not a parameter of the graph");

        var parameters = graph.Parameters.ToArray();
        var saved = parameters.Select(p => p.Value.Data.ToArray()).ToArray();
        var samples = new List<SharpnessSample>();
        var byT = new Dictionary<double, double>();
        double Lambda(double t)
        {
            if (byT.TryGetValue(t, out double known)) return known;
            cancellationToken.ThrowIfCancellationRequested();
            MoveTo(t);
            var (value, products) = TopEigenvalue(graph, parameters, inputs, labels, options, cancellationToken);
            samples.Add(new SharpnessSample(t, value, products));
            byT[t] = value;
            return value;
        }
        void MoveTo(double t)
        {
            for (int i = 0; i < parameters.Length; i++) saved[i].CopyTo(parameters[i].Value.Data, 0);
            foreach (var (name, index, a) in path)
            {
                var data = graph.Parameter(name)!.Value.Data;
                data[index] = scaling ? data[index] * Math.Exp(t * a) : data[index] + t * a;
            }
        }

        try
        {
            double lossBefore = Loss(graph, inputs, labels);
            double tol = options.Tolerance * target;
            double before = Lambda(0);
            double reached = Math.Abs(before - target) <= tol ? 0 : Search(Lambda, target, tol, options.MaxPathParameter, samples);
            double after = Lambda(reached);
            MoveTo(reached);
            double lossAfter = Loss(graph, inputs, labels);
            if (!(Math.Abs(after - target) <= tol))
                throw Errors.Argument(nameof(target), string.Create(CultureInfo.InvariantCulture,
                    $"sharpness teleport: the search along site '{site.Location}' stopped at t = {reached:G6} with λ_max = {after:G10}, {Math.Abs(after - target) / target:E2} from the target {target:G6} (tolerance {options.Tolerance:E0}; λ_max(t) is not continuous enough here)"));
            return new SiteSharpnessResult(site, description, reached, target, before, after, lossBefore, lossAfter, samples);
        }
        catch
        {
            for (int i = 0; i < parameters.Length; i++) saved[i].CopyTo(parameters[i].Value.Data, 0);
            throw;
        }
    }

    /// <summary>
    /// The one-parameter path of <paramref name="site"/>: entries (parameter, index, a) moved as θ·e^{ta} (scaling) or θ + ta
    /// (translation), and what the path is.
    /// </summary>
    /// <exception cref="ArgumentException">An approximate site, or a site whose generators give no diagonal path.</exception>
    public static (IReadOnlyList<(string Parameter, int Index, double A)> Entries, bool Scaling, string Description) Path(CensusSite site)
    {
        ArgumentNullException.ThrowIfNull(site);
        if (!site.Exact) throw Errors.Argument(nameof(site), $"sharpness teleport: site '{site.Location}' is approximate ({site.Note}); its group changes the loss");
        var kind = site.Generators[0].Kind;
        IEnumerable<CensusGenerator> used = site.Generators;
        string description = kind == GeneratorKind.Scaling
            ? $"every generator of {site.Group} with the same t (the whole layer scaled by e^t)"
            : $"every generator of {site.Group} with the same t (M = the sum of its {site.Dimension} translations)";
        if (kind == GeneratorKind.Linear)
        {
            used = site.Generators.Where(g => g.Couplings.Count > 0 && g.Couplings.All(c => c.Source == c.Target && c.SourceIndex == c.TargetIndex)).ToArray();
            if (!used.Any())
                throw Errors.Argument(nameof(site), $"sharpness teleport: site '{site.Location}' ({site.Kind}) has no diagonal generator, so no scalar path to move along");
            description = $"the scalar path e^t·I of {site.Group} (the sum of its {used.Count()} diagonal generators)";
        }
        var sum = new Dictionary<(string, int), double>();
        foreach (var g in used)
            foreach (var e in g.Entries)
                for (int i = 0; i < e.Indices.Length; i++)
                    sum[(e.Parameter, e.Indices[i])] = sum.GetValueOrDefault((e.Parameter, e.Indices[i])) + e.Coefficients[i];
        var entries = sum.Where(p => p.Value != 0).Select(p => (p.Key.Item1, p.Key.Item2, p.Value)).ToArray();
        if (entries.Length == 0) throw Errors.Argument(nameof(site), $"sharpness teleport: the path of site '{site.Location}' moves nothing");
        return (entries, kind != GeneratorKind.Translation, description);
    }

    /// <summary>λ_max of the mean cross-entropy's Hessian on the batch at the graph's current parameters (restarted Lanczos, one eigenvalue).</summary>
    public static (double Value, long Products) TopEigenvalue(Graph<double> graph, IReadOnlyList<Parameter<double>> parameters, Tensor<double> inputs, int[] labels,
        SiteSharpnessOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(options);
        var hessian = ModelHessian.CrossEntropy(graph, inputs, labels, parameters);
        var top = Lanczos.RestartedEigenvalues(SymmetricOperator.FromHessian(hessian), 1, new Random(options.Seed), SpectrumEnd.Largest,
            tolerance: options.LanczosTolerance, cancellationToken: cancellationToken);
        if (!top.Converged || !double.IsFinite(top.Values[0]))
            throw new ArithmeticException(string.Create(CultureInfo.InvariantCulture, $"sharpness teleport: Lanczos did not converge (λ_max ≈ {top.Values[0]:G6}, residual {top.Residuals[0]:G3})"));
        return (top.Values[0], top.Products);
    }

    /// <summary>The mean cross-entropy of output 0 on the batch (float64, no gradient).</summary>
    public static double Loss(Graph<double> graph, Tensor<double> inputs, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var tape = new Tape<double>();
        using var pause = tape.Pause();
        return CrossEntropy(graph, tape, inputs, labels).Value.ScalarValue;
    }

    private static Variable<double> CrossEntropy(Graph<double> graph, Tape<double> tape, Tensor<double> inputs, int[] labels) =>
        Ops.CrossEntropy(graph.Run(tape, [tape.Constant(inputs)]).Output(tape, 0), labels);

    // The bracket nearest t = 0 on the grid ±FirstStep·2^k, else the refined extreme; refused with the range when unreachable.
    private static double Search(Func<double, double> lambda, double target, double tol, double bound, List<SharpnessSample> samples)
    {
        double F(double t) => lambda(t) - target;
        var grid = new List<double> { 0 };
        for (double s = FirstStep; ; s = Math.Min(2 * s, bound))
        {
            grid.Add(s);
            grid.Add(-s);
            if (s >= bound) break;
        }
        var last = new Dictionary<int, (double T, double F)> { [1] = (0, F(0)), [-1] = (0, F(0)) };
        foreach (double t in grid.Skip(1))
        {
            int side = Math.Sign(t);
            double ft = F(t);
            if (Math.Abs(ft) <= tol) return t;
            if (Math.Sign(ft) != Math.Sign(last[side].F)) return PathRootFinder.Refine(F, last[side], (t, ft), tol);
            last[side] = (t, ft);
        }
        // No sign change on the grid: every value seen is above (or below) the target. Refine the extreme between its grid
        // neighbours; a root may hide in a dip (or bump) narrower than the grid.
        bool below = F(0) > 0;
        var sorted = grid.Order().ToArray();
        int k = Array.IndexOf(sorted, below ? sorted.MinBy(lambda) : sorted.MaxBy(lambda));
        double lo = sorted[Math.Max(0, k - 1)], hi = sorted[Math.Min(sorted.Length - 1, k + 1)];
        double extreme = GoldenSection(t => below ? lambda(t) : -lambda(t), lo, hi, 15);
        double fe = F(extreme);
        if (Math.Abs(fe) <= tol) return extreme;
        if (Math.Sign(fe) != Math.Sign(F(0)))
        {
            // The grid's extreme (where λ − target still has F(0)'s sign) and the refined extreme bracket a root.
            double other = sorted[k];
            return PathRootFinder.Refine(F, (other, F(other)), (extreme, fe), tol);
        }
        var min = samples.MinBy(s => s.Sharpness)!;
        var max = samples.MaxBy(s => s.Sharpness)!;
        if (max.Sharpness - min.Sharpness <= 1e-9 * max.Sharpness)
            throw Errors.Argument(nameof(target), string.Create(CultureInfo.InvariantCulture,
                $"target sharpness {target:G6} is unreachable along this site: λ_max = {min.Sharpness:G6} does not change along its path for |t| ≤ {bound:G3} (spread {max.Sharpness - min.Sharpness:G2} over {samples.Count} Lanczos runs; e.g. a translation of the logits leaves the Hessian as it is)"));
        throw Errors.Argument(nameof(target), string.Create(CultureInfo.InvariantCulture,
            $"target sharpness {target:G6} is unreachable along this site for |t| ≤ {bound:G3}: λ_max stays in [{min.Sharpness:G6}, {max.Sharpness:G6}] there (minimum at t = {min.T:G4}, maximum at t = {max.T:G4}; {samples.Count} Lanczos runs)"));
    }

    // The minimiser of f on [a, b] by golden-section search (f unimodal there), ending points included.
    private static double GoldenSection(Func<double, double> f, double a, double b, int steps)
    {
        double r = (Math.Sqrt(5) - 1) / 2;
        double c = b - r * (b - a), d = a + r * (b - a);
        double fc = f(c), fd = f(d);
        for (int i = 0; i < steps && b - a > 1e-9; i++)
        {
            if (fc < fd)
            {
                (b, d, fd) = (d, c, fc);
                c = b - r * (b - a);
                fc = f(c);
            }
            else
            {
                (a, c, fc) = (c, d, fd);
                d = a + r * (b - a);
                fd = f(d);
            }
        }
        var candidates = new[] { a, b, c, d };
        return candidates.MinBy(f);
    }
}
