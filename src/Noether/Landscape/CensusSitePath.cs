using Noether.Symmetry.Census;
using System.Numerics.Tensors;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>
/// exp(tM)·θ for a random mix M = Σ cᵢ Mᵢ of one census site's generators (a ReLU unit's rescaling, a softmax shift, a GL
/// of a linear pair, …) on a graph's parameters flattened in their order (<see cref="CensusSite.Apply"/> moves them: the
/// generators of a site commute, so s ↦ exp(sM)·θ is a one-parameter subgroup). The group acts exponentially, and a site
/// may hold a small part of θ* (a late layer's units), so a path at unit starting speed can run thousands of ‖θ*‖ away by
/// s = 1. As <c>analyze --model</c> does, each side is scaled instead: t ∈ [0, 1] runs s over [0, s₊] and t ∈ [−1, 0] over
/// [−s₋, 0], with s± found by bisection so that the end points lie at distance ‖θ*‖ from θ* (where a filter-normalised
/// line θ* + αd with ‖d‖ = ‖θ*‖ is at α = ±1). Every point is still g·θ* for a group element g.
/// </summary>
public sealed class CensusSitePath : ValleyPath
{
    private readonly CensusSite _site;
    private readonly (string Name, int Offset, int Length)[] _layout;
    private readonly double[] _theta;
    private readonly double[] _mix;

    /// <summary>Draws the mix (c ~ N(0, I), normalised so that ‖Mθ*‖ = ‖θ*‖) at <paramref name="theta"/> and scales each side of the path.</summary>
    /// <param name="site">The census site.</param>
    /// <param name="layout">The graph's parameters (name, entries) in the order of the flat vectors.</param>
    /// <param name="theta">θ*.</param>
    /// <param name="random">Draws the mix.</param>
    /// <exception cref="ArgumentException">The site moves a parameter outside the layout, the layout does not cover θ*, or the site does not move θ*.</exception>
    public CensusSitePath(CensusSite site, IReadOnlyList<(string Name, int Length)> layout, double[] theta, Random random)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(random);
        if (site.Dimension == 0) throw Errors.Argument(nameof(site), $"valley: census site '{site.Location}' has no generators");
        _site = site;
        int offset = 0;
        _layout = layout.Select(p => { var entry = (p.Name, offset, p.Length); offset += p.Length; return entry; }).ToArray();
        if (offset != theta.Length) throw Errors.Argument(nameof(layout), $"valley: the layout has {offset} entries, θ* has {theta.Length}");
        var names = _layout.Select(p => p.Name).ToHashSet();
        foreach (var g in site.Generators)
            foreach (var p in g.Parameters.Concat(g.Couplings.Select(c => c.Target)))
                if (!names.Contains(p)) throw Errors.Argument(nameof(site), $"valley: census site '{site.Location}' moves '{p}', which is not a parameter of the model");
        _theta = (double[])theta.Clone();
        var c = site.Generators.Select(_ => Gaussian.Next(random)).ToArray();
        double speed = TensorPrimitives.Norm<double>(Tangent(_theta, c)), norm = TensorPrimitives.Norm<double>(_theta);
        if (!(speed > 0) || !(norm > 0)) throw Errors.Argument(nameof(site), $"valley: census site '{site.Location}' does not move θ* (‖θ*‖ = {norm}, ‖Mθ*‖ = {speed})");
        _mix = c.Select(x => x * norm / speed).ToArray();
        Forward = Reach(1, norm);
        Backward = Reach(-1, norm);
    }

    /// <summary>s₊: t = 1 is exp(s₊M)·θ*, at distance ‖θ*‖ from θ*.</summary>
    public double Forward { get; }

    /// <summary>s₋: t = −1 is exp(−s₋M)·θ*, at distance ‖θ*‖ from θ*.</summary>
    public double Backward { get; }

    // The group parameter s > 0 at which exp(±sM)·θ* lies at distance radius from θ*: doubled until beyond it (at most 2⁶⁰),
    // then bisected 50 times (analyze --model's rule, ModelReportExperiment).
    private double Reach(double sign, double radius)
    {
        double DistanceAt(double s) => TensorPrimitives.Distance<double>(MoveBy(_theta, sign * s), _theta);
        double lo = 0, hi = 1;
        for (int i = 0; i < 60 && DistanceAt(hi) < radius; i++) (lo, hi) = (hi, 2 * hi);
        for (int i = 0; i < 50; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (DistanceAt(mid) < radius) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    // t of the path → s of exp(sM).
    private double Parameter(double t) => t * (t >= 0 ? Forward : Backward);

    /// <summary>The site.</summary>
    public CensusSite Site => _site;

    /// <inheritdoc/>
    public override double[] Move(double[] theta, double t)
    {
        ArgumentNullException.ThrowIfNull(theta);
        if (theta.Length != _theta.Length) throw Errors.Argument(nameof(theta), $"valley: θ has {theta.Length} entries, the model {_theta.Length}");
        return MoveBy(theta, Parameter(t));
    }

    /// <summary>The arc length ∫₀ˢ ‖M·exp(σM)θ*‖ dσ to s = s(t) (<see cref="Valley.ArcLength(Func{double, double}, double, int)"/>), signed like t.</summary>
    public override double Distance(double t) => Valley.ArcLength(sigma => TensorPrimitives.Norm<double>(Tangent(MoveBy(_theta, sigma), _mix)), Parameter(t));

    // exp(sM)·θ.
    private double[] MoveBy(double[] theta, double s)
    {
        var parts = Split(theta);
        _site.Apply(name => parts[name], _mix.Select(x => s * x).ToArray());
        return Join(parts);
    }

    // Σ cᵢ Mᵢθ as a flat vector.
    private double[] Tangent(double[] theta, double[] c)
    {
        var parts = Split(theta);
        var offsets = _layout.ToDictionary(p => p.Name, p => p.Offset);
        var tangent = new double[theta.Length];
        for (int i = 0; i < c.Length; i++)
            foreach (var (p, j, v) in _site.Generators[i].Tangent(name => parts[name])) tangent[offsets[p] + j] += c[i] * v;
        return tangent;
    }

    private Dictionary<string, double[]> Split(double[] theta) => _layout.ToDictionary(p => p.Name, p => theta.AsSpan(p.Offset, p.Length).ToArray());

    private double[] Join(Dictionary<string, double[]> parts)
    {
        var flat = new double[_theta.Length];
        foreach (var (name, offset, _) in _layout) parts[name].CopyTo(flat, offset);
        return flat;
    }
}
