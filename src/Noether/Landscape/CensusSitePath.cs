using Noether.Symmetry.Census;
using System.Numerics.Tensors;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>
/// exp(tM)·θ for a random mix M = Σ cᵢ Mᵢ of one census site's generators (a ReLU unit's rescaling, a softmax shift, a GL
/// of a linear pair, …) on a graph's parameters flattened in their order (<see cref="CensusSite.Apply"/> moves them: the
/// generators of a site commute, so t ↦ exp(tM)·θ is a one-parameter subgroup). The mix is scaled so that the path leaves
/// θ* at speed ‖Mθ*‖ = ‖θ*‖, as a filter-normalised line θ* + αd (‖d‖ = ‖θ*‖) does per unit α.
/// </summary>
public sealed class CensusSitePath : ValleyPath
{
    private readonly CensusSite _site;
    private readonly (string Name, int Offset, int Length)[] _layout;
    private readonly double[] _theta;
    private readonly double[] _mix;

    /// <summary>Draws the mix (c ~ N(0, I), rescaled to unit relative speed) at <paramref name="theta"/>.</summary>
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
    }

    /// <summary>The site.</summary>
    public CensusSite Site => _site;

    /// <inheritdoc/>
    public override double[] Move(double[] theta, double t)
    {
        ArgumentNullException.ThrowIfNull(theta);
        if (theta.Length != _theta.Length) throw Errors.Argument(nameof(theta), $"valley: θ has {theta.Length} entries, the model {_theta.Length}");
        var parts = Split(theta);
        _site.Apply(name => parts[name], _mix.Select(x => t * x).ToArray());
        return Join(parts);
    }

    /// <summary>The arc length ∫₀ᵗ ‖M·exp(τM)θ*‖ dτ (<see cref="Valley.ArcLength(Func{double, double}, double, int)"/>).</summary>
    public override double Distance(double t) => Valley.ArcLength(tau => TensorPrimitives.Norm<double>(Tangent(Move(_theta, tau), _mix)), t);

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
