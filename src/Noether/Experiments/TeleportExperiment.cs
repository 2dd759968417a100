using Noether.Conservation;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>Where <see cref="TeleportExperiment"/> moves the trained point (one of four kinds).</summary>
public abstract record TeleportTarget
{
    private TeleportTarget() { }

    /// <summary>Tr Q = Tr[UᵀU − VVᵀ] = <paramref name="Value"/>, along the scalar path e^τ·I in closed form.</summary>
    public sealed record Trace(double Value) : TeleportTarget;

    /// <summary>λ_max = <paramref name="Value"/> (&gt; 0), found along the scalar path e^t·I.</summary>
    public sealed record Sharpness(double Value) : TeleportTarget;

    /// <summary>The whole h×h matrix Q = UᵀU − VVᵀ (identity σ, group GL_h; Ex. 7).</summary>
    public sealed record ImbalanceMatrix(Tensor<double> Q) : TeleportTarget;

    /// <summary>diag(UᵀU − VVᵀ), h values (ReLU and LeakyReLU: positive scaling; Ex. 9).</summary>
    public sealed record ImbalanceDiagonal(double[] Q) : TeleportTarget;
}

/// <summary>Settings of the teleport experiment (Appendix G, Fig. 8).</summary>
/// <param name="Network">The regression network to train (or load) first.</param>
/// <param name="Target">Where to move it.</param>
/// <param name="PathPoints">Points of the recorded scalar path e^t·I·θ (over |t| ≤ max(0.5, 1.25|t_teleport|)).</param>
public sealed record TeleportExperimentSettings(TwoLayerRegressionSettings Network, TeleportTarget Target, int PathPoints);

/// <summary>A point of the scalar path e^t·I·θ through the trained point.</summary>
/// <param name="T">t.</param>
/// <param name="Distance">Arc length from θ along the path.</param>
/// <param name="TraceQ">Tr[UᵀU − VVᵀ] there.</param>
/// <param name="Sharpness">λ_max of the Hessian there.</param>
/// <param name="Loss">L there (constant up to rounding: the path stays on the orbit).</param>
public sealed record ScalarPathPoint(double T, double Distance, double TraceQ, double Sharpness, double Loss);

/// <summary>What the teleport experiment measured.</summary>
/// <param name="Settings">The settings it ran with.</param>
/// <param name="Trained">The trained (or loaded) network.</param>
/// <param name="Teleport">The teleport: group element, both points, loss, target error, λ_max before and after.</param>
/// <param name="Path">λ_max, Tr Q and L along e^t·I·θ.</param>
/// <param name="SpectrumBefore">All Hessian eigenvalues at θ, ascending.</param>
/// <param name="SpectrumAfter">All Hessian eigenvalues at g·θ, ascending.</param>
public sealed record TeleportExperimentResult(TeleportExperimentSettings Settings, TrainedTwoLayer Trained, TeleportResult Teleport,
    IReadOnlyList<ScalarPathPoint> Path, double[] SpectrumBefore, double[] SpectrumAfter)
{
    /// <summary>Tr[UᵀU − VVᵀ] at θ.</summary>
    public double TraceQBefore => ConservedQuantity.ImbalanceTraceAt(Teleport.Before.U, Teleport.Before.V);

    /// <summary>Tr[UᵀU − VVᵀ] at g·θ.</summary>
    public double TraceQAfter => ConservedQuantity.ImbalanceTraceAt(Teleport.After.U, Teleport.After.V);

    /// <summary>The whole matrix UᵀU − VVᵀ at θ, row-major (also for scaling groups, which conserve only its diagonal).</summary>
    public double[] ImbalanceBefore => ConservedQuantity.ImbalanceMatrixAt(Teleport.Before.U, Teleport.Before.V).Data;

    /// <summary>The whole matrix UᵀU − VVᵀ at g·θ, row-major.</summary>
    public double[] ImbalanceAfter => ConservedQuantity.ImbalanceMatrixAt(Teleport.After.U, Teleport.After.V).Data;

    /// <summary>The spectrum at θ summarised (flat eigenvalues: |λ| ≤ 1e-3).</summary>
    public SpectrumSummary SummaryBefore => SpectrumSummary.Of(SpectrumBefore);

    /// <summary>The spectrum at g·θ summarised.</summary>
    public SpectrumSummary SummaryAfter => SpectrumSummary.Of(SpectrumAfter);

    /// <summary>The largest relative change of the loss along the recorded path (0 for a flat orbit; NaN without points).</summary>
    public double PathLossSpread
    {
        get
        {
            if (Path.Count == 0) return double.NaN;
            double start = Path[0].Loss;
            return Path.Max(p => Math.Abs(p.Loss - start)) / Math.Max(Math.Abs(start), double.Epsilon);
        }
    }
}

/// <summary>
/// Symmetry teleportation of a trained two-layer network (Appendix G): train (or load) it, move it with a group element to
/// the target, and measure what changed — the loss (it must not), Q, the Hessian spectrum and λ_max — plus λ_max, Tr Q and L
/// along the scalar path e^t·I through the trained point.
/// </summary>
public static class TeleportExperiment
{
    /// <summary>Trains, teleports and measures. Pure: a function of the settings (seed included) and, when given, the weights file.</summary>
    /// <exception cref="ArgumentException">A target the network cannot reach (from <see cref="Landscape.Teleport"/>).</exception>
    public static TeleportExperimentResult Run(TeleportExperimentSettings settings, IProgress<ExperimentProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(settings.Target);
        Errors.ThrowIfNotPositive(settings.PathPoints, "path points");
        var trained = TwoLayerRegression.Build(settings.Network, progress, cancellationToken);
        progress?.Report(new ExperimentProgress("teleporting", 1, 2));
        var problem = trained.Problem;
        var theta = trained.Theta;
        var teleport = settings.Target switch
        {
            TeleportTarget.ImbalanceMatrix q => Landscape.Teleport.ToImbalance(problem, theta, q.Q),
            TeleportTarget.ImbalanceDiagonal q => Landscape.Teleport.ToImbalanceDiagonal(problem, theta, q.Q),
            TeleportTarget.Sharpness s => Landscape.Teleport.ToSharpness(problem, theta, s.Value),
            TeleportTarget.Trace t => Landscape.Teleport.ToTrace(problem, theta, t.Value),
            _ => throw Errors.Argument(nameof(settings), $"teleport: unknown target {settings.Target}"),
        };
        progress?.Report(new ExperimentProgress("Hessian spectra and the path", 3, 4));
        var path = ScalarPath(problem, theta, teleport.PathParameter, settings.PathPoints);
        return new TeleportExperimentResult(settings, trained, teleport, path, TwoLayerHessian.Spectrum(problem, theta), TwoLayerHessian.Spectrum(problem, teleport.After));
    }

    // λ_max, Tr Q and L along e^t·I·θ over a range that covers the teleport's t.
    private static ScalarPathPoint[] ScalarPath(TwoLayerProblem problem, TwoLayerParameters theta, double? t, int points)
    {
        double extent = Math.Max(0.5, 1.25 * Math.Abs(t ?? 0));
        var group = Landscape.Teleport.GroupFor(problem);
        var identity = Tensor<double>.Identity(problem.Hidden);
        return Valley.Symmetric(extent, points).Select(x =>
        {
            var p = group.Apply(group.Exp(identity, x), theta);
            return new ScalarPathPoint(x, Valley.ArcLength(group, theta, identity, x), ConservedQuantity.ImbalanceTraceAt(p.U, p.V),
                TwoLayerHessian.Sharpness(problem, p), problem.Loss(p.U, p.V));
        }).ToArray();
    }
}
