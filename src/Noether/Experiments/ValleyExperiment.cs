using Noether.Data;
using Noether.Graphs;
using Noether.Landscape;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Symmetry.Census;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>
/// What <see cref="ValleyExperiment"/> charts: a point θ* (a flat parameter vector), its loss, the group paths through it and
/// how random directions are drawn. <see cref="TwoLayer"/> builds one for a two-layer network and its <see cref="MatrixGroup"/>
/// (also the SPEC CNN's head), <see cref="ValleyExperiment.GraphSubject"/> one for an imported graph and its symmetry census.
/// </summary>
/// <param name="Description">One line naming the model and the data.</param>
/// <param name="LossName">The loss's formula, for axis labels.</param>
/// <param name="GroupName">The symmetry group the paths come from.</param>
/// <param name="Theta">θ*.</param>
/// <param name="Loss">L(θ).</param>
/// <param name="Direction">Draws a filter-normalised random direction.</param>
/// <param name="Path">Draws a group path through θ* (called twice, before the directions).</param>
/// <param name="Source">Where θ* came from (written to summary.json as it is).</param>
public sealed record ValleySubject(string Description, string LossName, string GroupName, double[] Theta, Func<double[], double> Loss,
    Func<Random, double[]> Direction, Func<Random, ValleyPath> Path, object Source)
{
    /// <summary>‖v‖ for θ* and the directions (default: the Euclidean norm of the flat vector).</summary>
    public Func<double[], double> Norm { get; init; } = v => System.Numerics.Tensors.TensorPrimitives.Norm<double>(v);

    /// <summary>
    /// A two-layer network's (U, V) with its group: paths exp(tM)·θ* for random M ∈ 𝔤 at unit speed
    /// (<see cref="Valley.UnitSpeedGenerator"/>), norms as (U, V) computes them — the chart is the one computed on (U, V) directly.
    /// </summary>
    public static ValleySubject TwoLayer(string description, string lossName, MatrixGroup group, TwoLayerParameters theta, Func<TwoLayerParameters, double> loss,
        Func<Random, TwoLayerParameters> direction, object source)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(direction);
        return new ValleySubject(description, lossName, group.Name, MatrixGroupPath.Flat(theta), v => loss(MatrixGroupPath.Unflat(v, theta)),
            rng => MatrixGroupPath.Flat(direction(rng)), rng => new MatrixGroupPath(group, theta, Valley.UnitSpeedGenerator(group, theta, rng)), source)
        {
            Norm = v => MatrixGroupPath.Unflat(v, theta).Norm(),
        };
    }
}

/// <summary>Settings of <see cref="ValleyExperiment"/>.</summary>
/// <param name="Seed">Seeds the generators and the directions (their stream starts at seed + 1).</param>
/// <param name="Directions">Random directions in the 1-D slices (≥ 2: the 2-D slices use the first two).</param>
/// <param name="Points">Points per 1-D slice.</param>
/// <param name="Grid">Points per side of the 2-D slices.</param>
/// <param name="Extent">Slices run over α, t ∈ [−extent, extent].</param>
public sealed record ValleySettings(int Seed, int Directions, int Points, int Grid, double Extent);

/// <summary>The valley's slices and how flat the group slices are against the random ones.</summary>
/// <param name="Subject">What was charted.</param>
/// <param name="GroupLines">Two group paths exp(tMᵢ)·θ*.</param>
/// <param name="RandomLines">θ* + αd for each random direction.</param>
/// <param name="Random2D">Two random directions.</param>
/// <param name="Mixed2D">A group path × a random direction.</param>
/// <param name="Group2D">Two group paths.</param>
/// <param name="ThetaNorm">‖θ*‖.</param>
public sealed record ValleyResult(ValleySubject Subject, ValleyLine[] GroupLines, ValleyLine[] RandomLines, ValleyPlane Random2D, ValleyPlane Mixed2D,
    ValleyPlane Group2D, double ThetaNorm)
{
    /// <summary>L* = L(θ*).</summary>
    public double LStar { get; } = Subject.Loss(Subject.Theta);

    /// <summary>The group paths' largest |L − L*| / L*.</summary>
    public double GroupLineDeviation => GroupLines.Max(l => l.MaxDeviation) / LStar;

    /// <summary>The group plane's largest |L − L*| / L*.</summary>
    public double GroupPlaneDeviation => ValleyExperiment.MaxRelativeSpread(Group2D.Loss, LStar);

    /// <summary>The largest relative spread (max − min)/|max| along s of a row α of the mixed plane (each must be constant in s).</summary>
    public double MixedRowSpread
    {
        get
        {
            double spread = 0;
            for (int j = 0; j < Mixed2D.B.Length; j++)
            {
                double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
                for (int i = 0; i < Mixed2D.A.Length; i++) { lo = Math.Min(lo, Mixed2D.Loss[i, j]); hi = Math.Max(hi, Mixed2D.Loss[i, j]); }
                spread = Math.Max(spread, (hi - lo) / Math.Abs(hi));
            }
            return spread;
        }
    }

    /// <summary>The worst of the three flatness measures.</summary>
    public double FlatWorst => Math.Max(GroupLineDeviation, Math.Max(GroupPlaneDeviation, MixedRowSpread));

    /// <summary>The smallest of the random lines' largest rise, over L*.</summary>
    public double MinRise => RandomLines.Min(l => l.MaxRise) / LStar;

    /// <summary>The largest of the random lines' largest rise, over L*.</summary>
    public double MaxRise => RandomLines.Max(l => l.MaxRise) / LStar;

    /// <summary>The parameter distance every group path covers on both sides of θ*.</summary>
    public double GroupReach => GroupLines.Min(l => Math.Min(-l.Distance[0], l.Distance[^1]));
}

/// <summary>
/// Charts a minimum: the loss along paths generated by the symmetry group, θ(t) = exp(tM)·θ* (flat: L(g·θ) = L(θ), eq. 1),
/// against the loss along random filter-normalised directions θ* + αd (Li et al. 2018), on one axis of parameter-space
/// distance; and 2-D slices: two random directions, one group path × one random direction (a trough), two group paths.
/// </summary>
public static class ValleyExperiment
{
    /// <summary>The slices through <paramref name="subject"/>'s θ*.</summary>
    public static ValleyResult Run(ValleySubject subject, ValleySettings settings, IProgress<ExperimentProgress>? progress = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Directions < 2) throw Errors.OutOfRange(nameof(settings.Directions), settings.Directions, "at least 2 random directions (the 2-D slice uses two)");
        var theta = subject.Theta;
        var loss = subject.Loss;
        var rng = new Random(settings.Seed + 1);
        var p1 = subject.Path(rng);
        var p2 = subject.Path(rng);
        var line = Valley.Symmetric(settings.Extent, settings.Points);
        progress?.Report(new ExperimentProgress("1-D slices", 4, 8));
        var groupLines = new[] { Valley.GroupLine(loss, p1, theta, line, "group path exp(tM₁)·θ*"), Valley.GroupLine(loss, p2, theta, line, "group path exp(tM₂)·θ*") };
        var ds = Enumerable.Range(0, settings.Directions).Select(_ => subject.Direction(rng)).ToArray();
        var randomLines = ds.Select((d, i) => Valley.DirectionLine(loss, theta, d, subject.Norm(d), line, $"random direction d{i + 1}")).ToArray();
        token.ThrowIfCancellationRequested();
        progress?.Report(new ExperimentProgress("2-D slices", 5, 8));
        var plane = Valley.Symmetric(settings.Extent, settings.Grid);
        var random2D = Valley.DirectionPlane(loss, theta, ds[0], ds[1], plane, plane);
        progress?.Report(new ExperimentProgress("2-D slices", 6, 8));
        var mixed = Valley.MixedPlane(loss, p1, theta, ds[0], plane, plane);
        progress?.Report(new ExperimentProgress("2-D slices", 7, 8));
        var flat = Valley.GroupPlane(loss, p1, p2, theta, plane, plane);
        return new ValleyResult(subject, groupLines, randomLines, random2D, mixed, flat, subject.Norm(theta));
    }

    /// <summary>
    /// A SPEC CNN's last two linear layers (<see cref="SpecCnnHead"/>) on the first <paramref name="samples"/> test images of
    /// its dataset (pixels in [0, 1], as <c>noether train</c> used them): CIFAR-10 for a 3-channel model, else Fashion-MNIST.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="name">The model's file, for the description.</param>
    /// <param name="dataDirectory">The dataset's folder, or null for the default location.</param>
    /// <param name="samples">Test images in the loss (all of them if fewer).</param>
    /// <exception cref="ArgumentException">The test images do not fit the model (parameter name "model").</exception>
    public static ValleySubject SpecCnnSubject(SpecCnn<double> model, string name, string? dataDirectory, int samples)
    {
        ArgumentNullException.ThrowIfNull(model);
        var test = model.InChannels == 3 ? Cifar10.Load(dataDirectory, train: false) : FashionMnist.Load(dataDirectory, train: false);
        if (test.Channels != model.InChannels || test.Height != model.ImageSize)
            throw Errors.Argument(nameof(model), $"the model expects {model.InChannels}×{model.ImageSize}×{model.ImageSize} images, the test set ({test.Source}) has {test.Channels}×{test.Height}×{test.Width}");
        int n = Math.Min(samples, test.Count);
        var (images, labels) = test.Gather<double>(Enumerable.Range(0, n).ToArray());
        var head = new SpecCnnHead(model, images, labels);
        string description = string.Create(CultureInfo.InvariantCulture,
            $"SPEC CNN {name} (h = {head.Parameters.H}, {head.Parameters.U.Dim(0)} classes), its last two linear layers on the first {n} test images of {test.Source}; loss = mean cross-entropy, L* = {head.Loss(head.Parameters):G6}");
        return ValleySubject.TwoLayer(description, "mean cross-entropy", head.Group, head.Parameters, head.Loss, head.FilterNormalizedDirection, new { source = name });
    }

    /// <summary>
    /// An imported graph (float64, BatchNorm in inference mode, output 0 the logits) at its weights θ*, its loss the mean
    /// cross-entropy on (<paramref name="inputs"/>, <paramref name="labels"/>); the group paths come from its symmetry census:
    /// the first from the largest curved site (rescalings, GL; a translation's orbit is a straight line), the second from the
    /// next one (the same site again when there is only one), each a random mix of the site's generators with each side
    /// scaled so that t = ±1 ends at distance ‖θ*‖ (<see cref="CensusSitePath"/>). Random directions are filter-normalised as in <c>analyze --model</c> (each filter —
    /// a slice along a weight's first axis — rescaled to θ*'s; biases and other 1-D parameters 0). The graph's parameters
    /// are left at θ* after every loss.
    /// </summary>
    /// <param name="graph">The model.</param>
    /// <param name="name">The model's file, for the description.</param>
    /// <param name="census">Its census (<see cref="SymmetryCensus.Take"/>).</param>
    /// <param name="inputs">The batch.</param>
    /// <param name="labels">Its labels.</param>
    /// <param name="data">The batch's source, for the description.</param>
    /// <exception cref="ArgumentException">The census found no continuous symmetry (parameter name "model").</exception>
    public static ValleySubject GraphSubject(Graph<double> graph, string name, SymmetryCensus census, Tensor<double> inputs, int[] labels, string data)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(census);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        var used = census.Sites.Where(x => x.Dimension > 0).ToList();
        var curved = used.Where(x => x.Generators[0].Kind != GeneratorKind.Translation).OrderByDescending(x => x.Dimension).ThenBy(x => x.Location, StringComparer.Ordinal).ToList();
        var sites = curved.Count > 0 ? curved : used;
        if (sites.Count == 0) throw Errors.Argument("model", $"{name}: the symmetry census found no continuous symmetry, so there is no group path to chart");
        var layout = graph.Parameters.Select(p => (p.Name, p.Length)).ToArray();
        var theta = graph.Parameters.SelectMany(p => p.Value.Data).ToArray();
        double Loss(double[] v)
        {
            Write(graph, v);
            try
            {
                return ModelReportExperiment.Loss(graph, inputs, labels);
            }
            finally
            {
                Write(graph, theta);
            }
        }
        var saved = graph.Parameters.ToDictionary(p => p.Name, p => (double[])p.Value.Data.Clone());
        int drawn = 0;
        string group = sites.Count == 1 ? $"census site {sites[0].Location} ({sites[0].Group})"
            : $"census sites {sites[0].Location} ({sites[0].Group}) and {sites[1].Location} ({sites[1].Group})";
        string description = string.Create(CultureInfo.InvariantCulture,
            $"{name} ({theta.Length} parameters, census dimension {census.Dimension}), BatchNorm in inference mode, on the first {labels.Length} test images of {data}; loss = mean cross-entropy, L* = {Loss(theta):G6}");
        return new ValleySubject(description, "mean cross-entropy", group, theta, Loss,
            rng =>
            {
                var d = ModelReportExperiment.FilterNormalised(graph, saved, rng);
                return graph.Parameters.SelectMany(p => d[p.Name]).ToArray();
            },
            rng => new CensusSitePath(sites[drawn++ % Math.Min(2, sites.Count)], layout, theta, rng), new { source = name, census = census.Dimension });
    }

    // The flat vector v into the graph's parameters, in their order.
    private static void Write(Graph<double> graph, double[] v)
    {
        int offset = 0;
        foreach (var p in graph.Parameters)
        {
            v.AsSpan(offset, p.Length).CopyTo(p.Value.Data);
            offset += p.Length;
        }
    }

    /// <summary>max |L − reference| / reference over a grid.</summary>
    public static double MaxRelativeSpread(double[,] grid, double reference)
    {
        ArgumentNullException.ThrowIfNull(grid);
        double worst = 0;
        foreach (var l in grid) worst = Math.Max(worst, Math.Abs(l - reference));
        return worst / reference;
    }
}
