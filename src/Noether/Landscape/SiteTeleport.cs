using Noether.Symmetry.Census;

namespace Noether.Landscape;

/// <summary>The outcome of moving one census site to target conserved quantities.</summary>
/// <param name="Site">The site moved.</param>
/// <param name="Coordinates">t_i of the group element exp(Σ t_i M_i) applied.</param>
/// <param name="Before">Each generator's Q before the move.</param>
/// <param name="Target">The Q asked for.</param>
/// <param name="After">Each generator's Q after the move (equal to <paramref name="Target"/> up to rounding).</param>
public sealed record SiteTeleportResult(CensusSite Site, double[] Coordinates, double[] Before, double[] Target, double[] After)
{
    /// <summary>max_i |After_i − Target_i| / max(|Target_i|, 1e-300).</summary>
    public double MaxRelativeError => After.Zip(Target, (a, t) => Math.Abs(a - t) / Math.Max(Math.Abs(t), 1e-300)).DefaultIfEmpty(0).Max();
}

/// <summary>
/// Teleportation along a census site of any graph: the group element of the site that sets each generator's conserved
/// quantity to a target, found generator by generator (a site's generators act on disjoint entries, so each Q moves
/// only under its own t) and applied in place. The network function is unchanged (the site is a symmetry); the other
/// sites' quantities may move where they share entries (e.g. a rescaling of the last hidden units and the softmax
/// translation of the same weight columns).
/// <list type="bullet">
/// <item>scaling generators (rescalings: Q = ‖w_in‖² + b² − ‖w_out‖²; normalisation scales: Q = ‖w‖²):
/// Q(t) = Σ_k a_k e^{2 a_k t} θ_k² is strictly increasing in t, so the target is reached for exactly one t when it lies
/// in the range of Q(t); for a_k ∈ {+1, −1}, Q(t) = A e^{2t} − B e^{−2t} and e^{2t} solves A u² − Q u − B = 0;</item>
/// <item>translations (Q = ⟨c, θ⟩): Q(t) = Q + t‖c‖².</item>
/// </list>
/// GL(d) sites (a matrix of quantities per site) are not moved here: their targets are matrices (the two-layer
/// teleport of <c>Teleport</c> solves that case).
/// </summary>
public static class SiteTeleport
{
    /// <summary>Moves <paramref name="site"/> so that generator i's Q equals <paramref name="targets"/>[i]; the parameters change in place.</summary>
    /// <exception cref="ArgumentException">A target is not finite or not reachable (named, with the reachable range), the
    /// site is a GL(d) site, or its generators share entries.</exception>
    public static SiteTeleportResult Teleport(CensusSite site, Func<string, double[]> parameters, IReadOnlyList<double> targets)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count != site.Generators.Count)
            throw Errors.Argument(nameof(targets), $"site '{site.Location}' has {site.Generators.Count} generators, {targets.Count} targets given");
        if (!site.Conserves)
            throw Errors.Argument(nameof(site), $"site '{site.Location}' ({site.Kind}) conserves nothing, so there is no Q to teleport to");
        if (site.Generators.Any(g => g.Kind == GeneratorKind.Linear))
            throw Errors.Argument(nameof(site), $"site '{site.Location}' is a {site.Group} site: its conserved quantity is a matrix; teleport moves rescaling, normalisation-scale and translation sites");
        var seen = new HashSet<(string, int)>();
        foreach (var g in site.Generators)
            foreach (var e in g.Entries)
                foreach (int i in e.Indices)
                    if (!seen.Add((e.Parameter, i)))
                        throw Errors.Argument(nameof(site), $"site '{site.Location}': generators share the entry {e.Parameter}[{i}], so their quantities cannot be set one by one");
        var before = site.Generators.Select(g => g.Conserved(parameters)).ToArray();
        var t = new double[site.Generators.Count];
        for (int i = 0; i < t.Length; i++) t[i] = Solve(site.Generators[i], parameters, targets[i]);
        site.Apply(parameters, t);
        var after = site.Generators.Select(g => g.Conserved(parameters)).ToArray();
        return new SiteTeleportResult(site, t, before, targets.ToArray(), after);
    }

    /// <summary>The t with Q(exp(tM)θ) = <paramref name="target"/> for one scaling or translation generator.</summary>
    public static double Solve(CensusGenerator generator, Func<string, double[]> parameters, double target)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(parameters);
        if (!double.IsFinite(target)) throw Errors.Argument(nameof(target), $"generator '{generator.Name}': target Q = {target} is not a finite number");
        double q = generator.Conserved(parameters);
        if (generator.Kind == GeneratorKind.Translation)
        {
            double norm = generator.Entries.Sum(e => e.Coefficients.Sum(c => c * c));
            if (norm == 0) throw Errors.Argument(nameof(generator), $"generator '{generator.Name}' moves nothing");
            return (target - q) / norm;
        }
        if (generator.Kind != GeneratorKind.Scaling) throw Errors.Argument(nameof(generator), $"generator '{generator.Name}' is a {generator.Kind} generator; only scalings and translations are solved here");

        // Q(t) = Σ_groups S_a e^{2at} with S_a = Σ_{k: a_k = a} a θ_k² (the sign of a is in S_a).
        var groups = new SortedDictionary<double, double>();
        foreach (var e in generator.Entries)
        {
            var data = parameters(e.Parameter);
            for (int i = 0; i < e.Indices.Length; i++)
            {
                double a = e.Coefficients[i], x = data[e.Indices[i]];
                if (a != 0 && x != 0) groups[a] = groups.GetValueOrDefault(a) + a * x * x;
            }
        }
        bool up = groups.Keys.Any(a => a > 0), down = groups.Keys.Any(a => a < 0);
        string range = up && down ? "(−∞, ∞)" : up ? "(0, ∞)" : down ? "(−∞, 0)" : "{0}";
        bool reachable = up && down || (up ? target > 0 : down ? target < 0 : target == q);
        if (!reachable)
            throw Errors.Argument(nameof(target), string.Create(CultureInfo.InvariantCulture,
                $"generator '{generator.Name}': target Q = {target:G6} is not reachable from Q = {q:G6} along its orbit (Q(t) ranges over {range})"));
        if (target == q) return 0;
        if (groups.Count <= 2 && groups.Keys.All(a => a is 1 or -1))
        {
            // A e^{2t} − B e^{−2t} = T: u = e^{2t} > 0 solves A u² − T u − B = 0 (the root without cancellation).
            double bigA = groups.GetValueOrDefault(1), bigB = -groups.GetValueOrDefault(-1);
            double u;
            if (bigA == 0) u = -bigB / target;
            else if (bigB == 0) u = target / bigA;
            else
            {
                double root = Math.Sqrt(target * target + 4 * bigA * bigB);
                u = target >= 0 ? (target + root) / (2 * bigA) : 2 * bigB / (root - target);
            }
            return 0.5 * Math.Log(u);
        }
        // General coefficients: Q(t) is increasing; bracket the root, then bisect to the last representable t.
        double Q(double s) => groups.Sum(p => p.Value * Math.Exp(2 * p.Key * s));
        double lo = 0, hi = 0, step = target > q ? 1 : -1;
        while (Math.Abs(step) < 1e6 && (target > q ? Q(hi + step) < target : Q(lo + step) > target))
        {
            if (target > q) hi += step; else lo += step;
            step *= 2;
        }
        if (target > q) hi += step; else lo += step;
        for (int k = 0; k < 400; k++)
        {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) break;
            if (Q(mid) < target) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }
}
