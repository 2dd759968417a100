using Noether.Autodiff;
using Noether.Graphs;
using Noether.Interop;
using Noether.Landscape;
using Noether.Symmetry;
using Noether.Symmetry.Census;
using Noether.Tensors;
using static Noether.Experiments.ClaimOutcomes;

namespace Noether.Experiments;

/// <summary>How the targets of a site teleport are given: each generator's Q times a factor, plus a shift, or one value for all.</summary>
public enum SiteTargetKind
{
    /// <summary>Target_i = Amount · Q_i.</summary>
    Scale,
    /// <summary>Target_i = Q_i + Amount.</summary>
    Shift,
    /// <summary>Target_i = Amount for every generator.</summary>
    Value,
}

/// <summary>Settings of teleporting one census site of an imported ONNX model.</summary>
/// <param name="Model">The .onnx file.</param>
/// <param name="Site">The site's index in the census (0-based, as `noether symmetries` lists them).</param>
/// <param name="Target">How the targets are given.</param>
/// <param name="Amount">The factor, shift or value of <paramref name="Target"/>.</param>
/// <param name="Seed">Seed of the Gaussian batch on which the function's invariance is checked when no inputs are given.</param>
public sealed record ModelTeleportSettings(string Model, int Site, SiteTargetKind Target, double Amount, int Seed = 0)
{
    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Model);
        if (Site < 0) throw Errors.OutOfRange(nameof(Site), Site, "a census site index ≥ 0");
        if (!double.IsFinite(Amount)) throw Errors.OutOfRange(nameof(Amount), Amount, "a finite number");
    }
}

/// <summary>The moved model and the checks of the move.</summary>
/// <param name="Model">The imported model (its <see cref="OnnxModel.Save{T}"/> writes the moved weights).</param>
/// <param name="Graph">The float64 graph, its parameters moved.</param>
/// <param name="Census">The census taken before the move.</param>
/// <param name="Teleport">The site, the group element's coordinates and every generator's Q before, target and after.</param>
/// <param name="ProbabilityChange">max |p_after − p_before| of the class probabilities on the check batch (float64).</param>
/// <param name="CheckBatch">Rows of the check batch.</param>
public sealed record ModelTeleportResult(OnnxModel Model, Graph<double> Graph, SymmetryCensus Census, SiteTeleportResult Teleport, double ProbabilityChange, int CheckBatch);

/// <summary>Settings of teleporting an imported ONNX model to a sharpness along one census site (<see cref="SiteSharpnessTeleport"/>).</summary>
/// <param name="Model">The .onnx file.</param>
/// <param name="Site">The site's index in the census (0-based, as `noether symmetries` lists them).</param>
/// <param name="Amount">The target λ_max, or the factor on λ_max at the given weights when <paramref name="Scale"/>.</param>
/// <param name="Scale">True: the target is <paramref name="Amount"/> × λ_max before the move.</param>
/// <param name="Options">Search bound, tolerances and the Lanczos seed.</param>
public sealed record ModelSharpnessTeleportSettings(string Model, int Site, double Amount, bool Scale = false, SiteSharpnessOptions? Options = null)
{
    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Model);
        if (Site < 0) throw Errors.OutOfRange(nameof(Site), Site, "a census site index ≥ 0");
        if (!(Amount > 0) || double.IsInfinity(Amount)) throw Errors.OutOfRange(nameof(Amount), Amount, Scale ? "a positive finite factor" : "a positive finite top Hessian eigenvalue");
        Options?.Validate();
    }
}

/// <summary>The model moved to a sharpness and the checks of the move.</summary>
/// <param name="Model">The imported model (its <see cref="OnnxModel.Save{T}"/> writes the moved weights).</param>
/// <param name="Graph">The float64 graph, its parameters moved.</param>
/// <param name="Census">The census taken before the move.</param>
/// <param name="Teleport">The path, t, λ_max before, target and after, every evaluation.</param>
/// <param name="ProbabilityChange">max |p_after − p_before| of the class probabilities on the batch (float64).</param>
/// <param name="Batch">Rows of the batch the Hessian and the check were taken on.</param>
public sealed record ModelSharpnessTeleportResult(OnnxModel Model, Graph<double> Graph, SymmetryCensus Census, SiteSharpnessResult Teleport, double ProbabilityChange, int Batch)
{
    /// <summary>|L_after − L_before| / |L_before| on the batch.</summary>
    public double RelativeLossChange => Math.Abs(Teleport.LossAfter - Teleport.LossBefore) / Math.Max(Math.Abs(Teleport.LossBefore), double.Epsilon);
}

/// <summary>Settings of drawing random elements of an imported model's continuous symmetry group (members for an ensemble).</summary>
/// <param name="Model">The .onnx file.</param>
/// <param name="Members">How many elements to draw (1–100).</param>
/// <param name="Scale">Each generator's coordinate is drawn from U(−Scale, Scale) (GL(d) sites: divided by √d, as the census check does).</param>
/// <param name="Seed">Seed of the draws and of the Gaussian check batch.</param>
public sealed record ModelOrbitSampleSettings(string Model, int Members, double Scale = 1, int Seed = 0)
{
    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Model);
        if (Members is < 1 or > 100) throw Errors.OutOfRange(nameof(Members), Members, "1 to 100 members");
        if (!(Scale > 0) || double.IsInfinity(Scale)) throw Errors.OutOfRange(nameof(Scale), Scale, "a positive finite scale");
    }
}

/// <summary>One random element of the model's symmetry group applied to its weights.</summary>
/// <param name="Parameters">The moved weights (new tensors; the imported graph is left as it was).</param>
/// <param name="Distance">‖θ' − θ‖ / ‖θ‖ over every parameter: how far the member is from the model.</param>
/// <param name="ProbabilityChange">max |p' − p| of the class probabilities on the check batch (float64).</param>
/// <param name="SitesMoved">The exact census sites whose groups acted (every site with a conserved quantity).</param>
public sealed record OrbitMember(IReadOnlyList<Parameter<double>> Parameters, double Distance, double ProbabilityChange, int SitesMoved);

/// <summary>The drawn members and the batch they were checked on.</summary>
/// <param name="Model">The imported model (its <see cref="OnnxModel.Save{T}"/> writes a member's weights).</param>
/// <param name="Census">The census of the model.</param>
/// <param name="Members">The members, in draw order.</param>
/// <param name="CheckBatch">Rows of the check batch.</param>
public sealed record ModelOrbitSampleResult(OnnxModel Model, SymmetryCensus Census, IReadOnlyList<OrbitMember> Members, int CheckBatch);

/// <summary>
/// Teleports one census site of an imported model (<see cref="SiteTeleport"/>): the conserved quantity of each of its
/// generators is set to a target and the network function stays the same. The result carries the moved float64 graph;
/// the CLI exports it as ONNX and safetensors.
/// </summary>
public static class ModelTeleportExperiment
{
    /// <summary>Imports, takes the census, moves the site and checks the class probabilities on <paramref name="inputs"/>
    /// (or on a seeded Gaussian batch of 4 of the model's input shape).</summary>
    public static ModelTeleportResult Run(ModelTeleportSettings settings, Tensor<double>? inputs = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var (model, graph, census, site) = Import(settings.Model, settings.Site);
        cancellationToken.ThrowIfCancellationRequested();
        var x = inputs ?? GaussianBatch(graph, settings.Seed);
        var before = Probabilities(graph.Evaluate(x)[0]);
        if (!site.Conserves)
            throw Errors.Argument(nameof(settings.Site), $"{settings.Model}: site {settings.Site} ({site.Kind}) has no conserved quantity to teleport to");
        double[] Data(string name) => graph.Parameter(name)!.Value.Data;
        var q = site.Generators.Select(g => g.Conserved(Data)).ToArray();
        var targets = q.Select(v => settings.Target switch
        {
            SiteTargetKind.Scale => settings.Amount * v,
            SiteTargetKind.Shift => v + settings.Amount,
            _ => settings.Amount,
        }).ToArray();
        var moved = SiteTeleport.Teleport(site, Data, targets);
        return new ModelTeleportResult(model, graph, census, moved, Change(graph, x, before), x.Dim(0));
    }

    /// <summary>
    /// Imports, takes the census and moves site <see cref="ModelSharpnessTeleportSettings.Site"/> along its one-parameter
    /// path until λ_max of the mean cross-entropy on the batch equals the target (<see cref="SiteSharpnessTeleport"/>), then
    /// checks the class probabilities on the same batch.
    /// </summary>
    /// <param name="settings">The model, site and target.</param>
    /// <param name="batch">The labelled batch, drawn from the imported graph (e.g. <see cref="ImportedModelData.CensusBatch"/>).</param>
    /// <param name="cancellationToken">Checked between Lanczos products.</param>
    /// <exception cref="ArgumentException">A missing site, a target outside the range the path reaches (named "target", with the range).</exception>
    public static ModelSharpnessTeleportResult RunSharpness(ModelSharpnessTeleportSettings settings, Func<Graph<double>, (Tensor<double> X, int[] Labels)> batch,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(batch);
        settings.Validate();
        var (model, graph, census, site) = Import(settings.Model, settings.Site);
        var (x, labels) = batch(graph);
        var before = Probabilities(graph.Evaluate(x)[0]);
        var options = settings.Options ?? new SiteSharpnessOptions();
        double target = settings.Amount;
        if (settings.Scale)
        {
            var (now, _) = SiteSharpnessTeleport.TopEigenvalue(graph, graph.Parameters, x, labels, options, cancellationToken);
            target = settings.Amount * now;
        }
        var moved = SiteSharpnessTeleport.Teleport(graph, site, x, labels, target, options, cancellationToken);
        return new ModelSharpnessTeleportResult(model, graph, census, moved, Change(graph, x, before), x.Dim(0));
    }

    /// <summary>
    /// Draws <see cref="ModelOrbitSampleSettings.Members"/> random elements of the group the census's exact sites generate
    /// (every site with a conserved quantity except the softmax translation, whose logits shift; one after another, each as
    /// <see cref="CensusSite.Apply"/> does it with coordinates from U(−s, s)) and applies each to a copy of the weights;
    /// every member computes the model's outputs, which is checked (as class probabilities) on <paramref name="inputs"/>
    /// (or a seeded Gaussian batch of 4).
    /// </summary>
    public static ModelOrbitSampleResult RunRandom(ModelOrbitSampleSettings settings, Tensor<double>? inputs = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var model = OnnxModel.Load(settings.Model);
        var graph = model.ToGraph<double>();
        var census = SymmetryCensus.Take(graph);
        // The softmax translation keeps the class probabilities but shifts every logit of a sample by the same amount: left
        // out, so that a member's outputs (what the ONNX file computes) are the model's.
        var sites = census.Sites.Where(site => site.Exact && site.Conserves && site.Kind != SiteKind.SoftmaxTranslation).ToArray();
        if (sites.Length == 0) throw Errors.Argument("Model", $"{settings.Model}: the census found no exact continuous symmetry to draw elements of");
        var rng = new Random(settings.Seed);
        var x = inputs ?? GaussianBatch(graph, settings.Seed);
        var before = Probabilities(graph.Evaluate(x)[0]);
        var original = graph.Parameters.ToDictionary(p => p.Name, p => (double[])p.Value.Data.Clone());
        double norm = Math.Sqrt(original.Values.Sum(v => v.Sum(a => a * a)));
        var members = new List<OrbitMember>(settings.Members);
        double[] Data(string name) => graph.Parameter(name)!.Value.Data;
        try
        {
            for (int m = 0; m < settings.Members; m++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var site in sites)
                {
                    double spread = settings.Scale * (site.Generators[0].Kind == GeneratorKind.Linear ? 1 / Math.Sqrt(site.Dimension) : 1);
                    site.Apply(Data, site.Generators.Select(_ => spread * (2 * rng.NextDouble() - 1)).ToArray());
                }
                double change = Change(graph, x, before);
                double distance = Math.Sqrt(graph.Parameters.Sum(p => p.Value.Data.Select((v, i) => (v - original[p.Name][i]) * (v - original[p.Name][i])).Sum())) / norm;
                var moved = graph.Parameters.Select(p => new Parameter<double>(p.Name, new Tensor<double>((double[])p.Value.Data.Clone(), p.Value.ShapeArray))).ToArray();
                members.Add(new OrbitMember(moved, distance, change, sites.Length));
                foreach (var (name, values) in original) values.CopyTo(Data(name), 0);
            }
        }
        finally
        {
            foreach (var (name, values) in original) values.CopyTo(Data(name), 0);
        }
        return new ModelOrbitSampleResult(model, census, members, x.Dim(0));
    }

    private static (OnnxModel Model, Graph<double> Graph, SymmetryCensus Census, CensusSite Site) Import(string path, int index)
    {
        var model = OnnxModel.Load(path);
        var graph = model.ToGraph<double>();
        var census = SymmetryCensus.Take(graph);
        if (census.IsEmpty) throw Errors.Argument("Model", $"{path}: the census found no continuous symmetry to teleport along");
        if (index >= census.Sites.Count)
            throw Errors.Argument("Site", $"{path}: site {index} does not exist; the census has sites 0–{census.Sites.Count - 1}");
        return (model, graph, census, census.Sites[index]);
    }

    // max |p_after − p_before| over the batch.
    private static double Change(Graph<double> graph, Tensor<double> x, double[] before)
    {
        var after = Probabilities(graph.Evaluate(x)[0]);
        return before.Zip(after, (a, b) => Math.Abs(a - b)).DefaultIfEmpty(0).Max();
    }

    private static Tensor<double> GaussianBatch(Graph<double> graph, int seed)
    {
        if (graph.Inputs.Count != 1) throw Errors.Argument("model", $"teleport checks models with one input (this one has {graph.Inputs.Count}); give the inputs");
        var shape = graph.Inputs[0].Shape.Select((d, i) => d ?? (i == 0 ? 4 : throw Errors.Argument("model",
            $"input '{graph.Inputs[0].Name}' has a dynamic dimension {i}; give the inputs"))).ToArray();
        var draws = Gaussian.Matrix(new Random(seed), 1, shape.Aggregate(1, (a, b) => a * b));
        return Tensor<double>.FromDoubles(draws.Data, shape);
    }

    // The class probabilities (softmax of [batch, classes] logits): what every census site leaves unchanged.
    private static double[] Probabilities(Tensor<double> logits)
    {
        if (logits.Rank != 2) throw Errors.BadShape("teleport", "logits", logits.Shape, "[batch, classes]");
        var tape = new Tape<double>();
        using var pause = tape.Pause();
        return Ops.Softmax(tape.Constant(logits)).Value.Data;
    }
}

/// <summary>The checks of a census-site teleport (Noether's own: the paper teleports two-layer nets only).</summary>
public static class ModelTeleportClaims
{
    /// <summary>Largest relative error of a reached Q (the solve is closed-form or bisected to the last bit).</summary>
    public const double TargetTolerance = 1e-8;

    /// <summary>Largest change of a class probability (float64 rounding through the network).</summary>
    public const double FunctionTolerance = 1e-10;

    /// <summary>Every Q hits its target. One part: [max relative error].</summary>
    public static readonly ClaimRule SiteTargetReached = new("site-teleport-target-reached", ClaimOrigin.Own, "census site teleport (Noether)",
        "A group element of the census site sets every generator's conserved quantity to its target.",
        $"max relative error ≤ {Text(TargetTolerance)}", "[max relative error]",
        p => If(Single(p, 1)[0] <= TargetTolerance));

    /// <summary>The network function is unchanged. One part: [max |Δp|].</summary>
    public static readonly ClaimRule SiteFunctionUnchanged = new("site-teleport-function-unchanged", ClaimOrigin.Own, "eq. 1 for the census site (Noether)",
        "The teleported model computes the same class probabilities.",
        $"max |Δp| ≤ {Text(FunctionTolerance)} on the check batch", "[max |Δp|]",
        p => If(Single(p, 1)[0] <= FunctionTolerance));

    /// <summary>Largest relative error of a reached λ_max (<see cref="SiteSharpnessOptions.Tolerance"/>'s default).</summary>
    public const double SharpnessTolerance = 1e-8;

    /// <summary>λ_max hits its target. One part: [relative error].</summary>
    public static readonly ClaimRule SiteSharpnessReached = new("site-sharpness-target-reached", ClaimOrigin.Own, "census site teleport to a sharpness (Noether)",
        "An element of the census site's one-parameter path sets the top Hessian eigenvalue of the batch's loss to the target.",
        $"|λ_max − target| / target ≤ {Text(SharpnessTolerance)}", "[relative error]",
        p => If(Single(p, 1)[0] <= SharpnessTolerance));

    /// <summary>All rules.</summary>
    public static IReadOnlyList<ClaimRule> All { get; } = [SiteTargetReached, SiteFunctionUnchanged, SiteSharpnessReached];
}
