using Noether.Autodiff;
using Noether.Graphs;
using Noether.Landscape;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>What <see cref="CurvatureExperiment"/> computes.</summary>
public sealed record CurvatureSettings
{
    /// <summary>Top eigenvalues k of the mean Hessian (restarted Lanczos).</summary>
    public int TopK { get; init; } = 5;

    /// <summary>Hutchinson probes P (each visits every batch); Hutch++ gets the same budget of products.</summary>
    public int Probes { get; init; } = 100;

    /// <summary>SLQ probes for the spectral density (0: no density).</summary>
    public int DensityProbes { get; init; } = 5;

    /// <summary>Lanczos steps per SLQ probe.</summary>
    public int DensitySteps { get; init; } = 30;

    /// <summary>Single-batch Hessians whose λ_max is compared with the whole-set value (the first ones; 0: none).</summary>
    public int SingleBatches { get; init; } = 10;

    /// <summary>Per-layer block traces (parameters grouped by name prefix) from the Hutchinson probes.</summary>
    public bool Layers { get; init; } = true;

    /// <summary>Seed of every random draw (probes, Lanczos starts).</summary>
    public int Seed { get; init; }

    /// <summary>Relative tolerance of the restarted Lanczos runs.</summary>
    public double Tolerance { get; init; } = 1e-8;

    /// <summary>Thick restarts allowed per Lanczos run.</summary>
    public int MaxRestarts { get; init; } = 50;

    /// <summary>
    /// The parameters the Hessian is taken over (graph parameter names; default all). The others are held fixed at their
    /// values, so the result is the diagonal block of the full Hessian for these parameters.
    /// </summary>
    public IReadOnlyList<string>? Parameters { get; init; }

    /// <summary>
    /// Orbit tangents (flat vectors over the selected parameters, in their order): with any, the curvature modulo the orbit
    /// is reported (the tangents' share and the top-k of PHP). The symmetry census provides them.
    /// </summary>
    public IReadOnlyList<double[]>? Tangents { get; init; }

    /// <summary>
    /// Shard i/n of a whole-data trace: only the Hutchinson table for this shard's batches is computed (the probes are the
    /// same in every shard; <see cref="TraceShard.Merge"/> joins the tables exactly). Null: everything, unsharded.
    /// </summary>
    public Shard? Shard { get; init; }
}

/// <summary>A per-layer (or per-block) trace.</summary>
/// <param name="Name">The layer (name prefix) or block.</param>
/// <param name="Parameters">Number of parameters in it.</param>
/// <param name="Trace">Tr H_LL by Hutchinson from the shared probes, with both standard errors.</param>
public sealed record LayerTrace(string Name, int Parameters, MinibatchTrace Trace);

/// <summary>Curvature modulo the symmetry orbit.</summary>
/// <param name="Orbit">How H acts on the tangents and the trace they carry.</param>
/// <param name="ProjectedTop">Top-k eigenvalues of PHP (P the projector onto the orthogonal complement of the tangents).</param>
public sealed record CurvatureModuloOrbit(OrbitCurvature Orbit, RestartedLanczosResult ProjectedTop);

/// <summary>The result of <see cref="CurvatureExperiment.Run"/>; the unsharded parts are null in a shard run.</summary>
/// <param name="Settings">The settings.</param>
/// <param name="Blocks">The parameter blocks (selected parameters, flat order).</param>
/// <param name="Batches">B, the number of batches of the whole set.</param>
/// <param name="BatchSize">Images per batch (the first batch's).</param>
/// <param name="MeanLoss">The mean loss over the batches (null in a shard run).</param>
/// <param name="GradientNorm">‖∇L‖ of the mean loss (null in a shard run).</param>
/// <param name="Top">Top-k eigenpairs with residuals and per-batch Rayleigh quotients.</param>
/// <param name="SingleBatch">λ_max of single-batch Hessians.</param>
/// <param name="TraceSamples">The Hutchinson table (of the shard's batches in a shard run).</param>
/// <param name="Trace">The Hutchinson trace of the held batches.</param>
/// <param name="HutchPlusPlus">The Hutch++ trace of the mean Hessian.</param>
/// <param name="LayerTraces">Per-layer traces (empty when not asked).</param>
/// <param name="Density">SLQ density of the mean Hessian.</param>
/// <param name="ModuloOrbit">Curvature modulo the orbit, when tangents were given.</param>
/// <param name="HessianVectorProducts">Per-batch Hessian passes made (each one records a batch's graph).</param>
public sealed record CurvatureResult(CurvatureSettings Settings, IReadOnlyList<ParameterBlock> Blocks, int Batches, int BatchSize, double? MeanLoss,
    double? GradientNorm, MinibatchEigen? Top, SingleBatchSpread? SingleBatch, TraceShard TraceSamples, MinibatchTrace Trace,
    HutchPlusPlusEstimate? HutchPlusPlus, IReadOnlyList<LayerTrace> LayerTraces, SpectralDensity? Density, CurvatureModuloOrbit? ModuloOrbit,
    long HessianVectorProducts)
{
    /// <summary>n, the number of parameters the Hessian is over.</summary>
    public int Dimension => Blocks.Count == 0 ? 0 : Blocks[^1].Offset + Blocks[^1].Length;
}

/// <summary>
/// Curvature of a graph model's loss (mean cross-entropy of output 0) over a set of labelled batches: top-k eigenvalues of
/// the mean Hessian with residuals and a batch-to-batch interval, the single-batch λ_max spread beside it, Hutchinson
/// and Hutch++ traces with intervals, per-layer traces, an SLQ density and, given orbit tangents, curvature modulo the
/// symmetry. Loads nothing: the caller gives the graph (e.g. <c>OnnxModel.ToGraph&lt;double&gt;</c> with BatchNorm in
/// inference mode) and the batches. Float64 throughout; memory is one batch's graph plus the Lanczos basis
/// (estimated by <see cref="MemoryEstimate.Curvature"/>).
/// </summary>
public static class CurvatureExperiment
{
    /// <summary>Runs the experiment.</summary>
    /// <param name="graph">The model (float64), output 0 the logits.</param>
    /// <param name="batches">The batches (inputs shaped as the graph's input 0, labels).</param>
    /// <param name="settings">What to compute.</param>
    /// <param name="progress">Per-batch Hessian passes so far, with the stage.</param>
    /// <param name="cancellationToken">Checked between batches and products.</param>
    /// <exception cref="ArgumentException">No batches, an unknown parameter name, bad counts, tangents of the wrong length.</exception>
    public static CurvatureResult Run(Graph<double> graph, IReadOnlyList<(Tensor<double> Inputs, int[] Labels)> batches, CurvatureSettings settings,
        IProgress<ExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(settings);
        Validate(settings, batches.Count);
        var selected = Select(graph, settings.Parameters);
        var selectedSet = selected.ToHashSet();
        BatchLoss loss = (tape, leaves, b) =>
        {
            for (int i = 0; i < selected.Length; i++) tape.BindTo(selected[i], leaves[i]);
            foreach (var p in graph.Parameters)
                if (!selectedSet.Contains(p)) tape.BindTo(p, tape.Constant(p.Value));
            var (x, y) = batches[b];
            var logits = graph.Run(tape, [tape.Constant(x)]).Output(tape, 0);
            return Ops.CrossEntropy(logits, y);
        };
        string stage = "";
        long total = EstimatePasses(settings, batches.Count);
        var passes = new InlineProgress<long>(n => progress?.Report(new ExperimentProgress(stage, n, Math.Max(total, n))));
        var hessian = new MinibatchHessian(loss, selected.Select(p => p.Value).ToArray(), batches.Count, selected.Select(p => p.Name).ToArray(), passes);
        int n = hessian.Dimension;
        if (settings.Tangents is { } tangents)
            for (int i = 0; i < tangents.Count; i++)
                if (tangents[i] is null || tangents[i].Length != n)
                    throw Errors.Argument(nameof(settings), $"curvature: tangent {i} has {tangents[i]?.Length ?? 0} entries, the selected parameters have {n}");

        var traceBatches = settings.Shard is { } shard ? Curvature.ShardBatches(batches.Count, shard.Index, shard.Count) : null;
        stage = "Hutchinson trace";
        var table = Curvature.TraceSamples(hessian, settings.Probes, settings.Seed, traceBatches, cancellationToken);
        int batchSize = batches[0].Labels.Length;
        if (settings.Shard is not null) return TraceOnly(settings, table, batchSize, hessian.Passes);
        var trace = Curvature.Trace(table);
        var layers = settings.Layers ? LayerTraces(table) : [];

        stage = "loss and gradient";
        double meanLoss = 0;
        for (int b = 0; b < batches.Count; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            meanLoss += hessian.Loss(b);
        }
        meanLoss /= batches.Count;
        var gradient = hessian.Gradient(cancellationToken: cancellationToken);
        double gradientNorm = Math.Sqrt(gradient.Sum(g => g * g));

        stage = "top eigenvalues";
        var top = Curvature.TopEigenvalues(hessian, Math.Min(settings.TopK, n), new Random(settings.Seed + 1), 0, settings.MaxRestarts, settings.Tolerance, cancellationToken);
        SingleBatchSpread? single = null;
        if (settings.SingleBatches > 0)
        {
            stage = "single-batch λ_max";
            single = Curvature.SingleBatchTop(hessian, Enumerable.Range(0, Math.Min(settings.SingleBatches, batches.Count)).ToArray(), new Random(settings.Seed + 2),
                settings.Tolerance, cancellationToken);
        }
        stage = "Hutch++ trace";
        var mean = hessian.Mean(cancellationToken: cancellationToken);
        var hpp = Hutchinson.HutchPlusPlus(mean, Math.Max(4, settings.Probes), new Random(settings.Seed + 3), cancellationToken);
        SpectralDensity? density = null;
        if (settings.DensityProbes > 0)
        {
            stage = "SLQ density";
            density = StochasticLanczosQuadrature.Merge([StochasticLanczosQuadrature.EstimateProbes(mean, settings.DensityProbes, Math.Min(settings.DensitySteps, n),
                settings.Seed + 4, cancellationToken: cancellationToken)]);
        }
        CurvatureModuloOrbit? modulo = null;
        if (settings.Tangents is { Count: > 0 } t)
        {
            stage = "curvature modulo the orbit";
            double norm = top.Eigen.Values.Max(Math.Abs);
            var orbit = Curvature.Orbit(mean, t, gradient, norm > 0 ? norm : 1);
            var (projected, _) = mean.ProjectOut(t);
            var projectedTop = Lanczos.RestartedEigenvalues(projected, Math.Min(settings.TopK, n), new Random(settings.Seed + 5), SpectrumEnd.Largest, 0,
                settings.MaxRestarts, settings.Tolerance, cancellationToken);
            modulo = new CurvatureModuloOrbit(orbit, projectedTop);
        }
        return new CurvatureResult(settings, hessian.Blocks, batches.Count, batchSize, meanLoss, gradientNorm, top, single, table, trace, hpp, layers, density,
            modulo, hessian.Passes);
    }

    /// <summary>
    /// The result of the Hutchinson table alone — what a <c>--shard</c> run reports for its batches, and what <c>noether
    /// merge</c> reports for the shards' tables joined (<see cref="TraceShard.Merge"/>): the trace with both intervals and the
    /// per-layer traces; nothing that needs the whole set's Hessian (eigenvalues, Hutch++, density) is in it.
    /// </summary>
    /// <param name="settings">The run's settings (their shard says which part; null for a joined table).</param>
    /// <param name="table">The Hutchinson table.</param>
    /// <param name="batchSize">Images per batch.</param>
    /// <param name="products">Hessian-vector products spent (the sum over shards for a joined table).</param>
    public static CurvatureResult TraceOnly(CurvatureSettings settings, TraceShard table, int batchSize, long products)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(table);
        var layers = settings.Layers ? LayerTraces(table) : [];
        return new CurvatureResult(settings, table.Blocks, table.TotalBatches, batchSize, null, null, null, null, table, Curvature.Trace(table), null, layers, null, null, products);
    }

    /// <summary>
    /// The layer a parameter belongs to: its name without the last dot-separated part ("layer1.0.conv1.weight" →
    /// "layer1.0.conv1"); a name without a dot is its own layer.
    /// </summary>
    public static string LayerOf(string parameterName)
    {
        ArgumentNullException.ThrowIfNull(parameterName);
        int dot = parameterName.LastIndexOf('.');
        return dot > 0 ? parameterName[..dot] : parameterName;
    }

    /// <summary>Per-layer traces from one table: blocks grouped by <see cref="LayerOf"/>, in order of first appearance.</summary>
    public static IReadOnlyList<LayerTrace> LayerTraces(TraceShard table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return table.Blocks.Select((b, i) => (Layer: LayerOf(b.Name), Index: i, b.Length))
            .GroupBy(x => x.Layer)
            .Select(g => new LayerTrace(g.Key, g.Sum(x => x.Length), Curvature.BlockTrace(table, g.Select(x => x.Index).ToArray())))
            .ToArray();
    }

    /// <summary>A rough count of per-batch Hessian passes, for progress (Lanczos may converge sooner or restart more).</summary>
    public static long EstimatePasses(CurvatureSettings settings, int batches)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Shard is not null) return batches;
        int basis = Math.Max(2 * settings.TopK + 10, 20);
        long lanczos = (long)batches * (basis + settings.TopK + 1);
        return batches // trace table
            + 2L * batches // loss and gradient
            + lanczos + batches // top-k and per-batch quotients
            + (long)Math.Min(settings.SingleBatches, batches) * 1 // one graph per single batch
            + 3L * batches // Hutch++: three block products
            + (long)settings.DensityProbes * settings.DensitySteps * batches;
    }

    private static Parameter<double>[] Select(Graph<double> graph, IReadOnlyList<string>? names)
    {
        if (names is null) return graph.Parameters.ToArray();
        if (names.Count == 0) throw Errors.Argument(nameof(names), "curvature: the parameter list is empty");
        var set = new HashSet<string>(names);
        foreach (var name in names)
            if (graph.Parameter(name) is null)
                throw Errors.Argument(nameof(names), $"curvature: the model has no parameter '{name}' (parameters: {string.Join(", ", graph.Parameters.Select(p => p.Name))})");
        if (set.Count != names.Count) throw Errors.Argument(nameof(names), "curvature: a parameter is listed twice");
        return graph.Parameters.Where(p => set.Contains(p.Name)).ToArray();
    }

    private static void Validate(CurvatureSettings s, int batches)
    {
        if (batches < 1) throw Errors.OutOfRange(nameof(batches), batches, "at least one batch");
        if (s.TopK < 1) throw Errors.OutOfRange(nameof(s.TopK), s.TopK, "at least one eigenvalue");
        if (s.Probes < 2) throw Errors.OutOfRange(nameof(s.Probes), s.Probes, "at least two probes (for a standard error)");
        if (s.DensityProbes < 0) throw Errors.OutOfRange(nameof(s.DensityProbes), s.DensityProbes, "zero or more density probes");
        if (s.DensitySteps < 1) throw Errors.OutOfRange(nameof(s.DensitySteps), s.DensitySteps, "at least one Lanczos step per density probe");
        if (s.SingleBatches < 0) throw Errors.OutOfRange(nameof(s.SingleBatches), s.SingleBatches, "zero or more single batches");
        if (!(s.Tolerance > 0) || !double.IsFinite(s.Tolerance)) throw Errors.OutOfRange(nameof(s.Tolerance), s.Tolerance, "a positive tolerance");
        if (s.MaxRestarts < 0) throw Errors.OutOfRange(nameof(s.MaxRestarts), s.MaxRestarts, "zero or more restarts");
        if (s.Shard is { } shard && shard.Count > batches)
            throw Errors.OutOfRange(nameof(s.Shard), shard.Count, $"at most {batches} shards (one batch each at least)");
    }
}
