using Noether.Autodiff;
using Noether.Landscape;

namespace Noether.Experiments;

/// <summary>Settings of <see cref="SharpnessEstimate"/>: matrix-free Hessian statistics for models of any size.</summary>
/// <param name="TopK">Top eigenvalues wanted (Lanczos); 0 skips.</param>
/// <param name="LanczosIterations">Lanczos step limit (0: automatic).</param>
/// <param name="LanczosTolerance">Relative residual for convergence.</param>
/// <param name="TraceProbes">Hutchinson probes; 0 skips.</param>
/// <param name="DensityProbes">SLQ probes; 0 skips.</param>
/// <param name="DensitySteps">Lanczos steps per SLQ probe (capped at the dimension).</param>
/// <param name="Seed">Seeds every random vector.</param>
public sealed record SharpnessEstimateSettings(int TopK = 5, int LanczosIterations = 0, double LanczosTolerance = 1e-8, int TraceProbes = 100,
    int DensityProbes = 5, int DensitySteps = 80, int Seed = 0)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (TopK < 0) throw Errors.OutOfRange("top k", TopK, "0 (skip) or a positive count");
        if (LanczosIterations < 0) throw Errors.OutOfRange("lanczos iterations", LanczosIterations, "0 (automatic) or a positive limit");
        if (TraceProbes < 0) throw Errors.OutOfRange("trace probes", TraceProbes, "0 (skip) or a positive count");
        if (DensityProbes < 0) throw Errors.OutOfRange("density probes", DensityProbes, "0 (skip) or a positive count");
        Errors.ThrowIfNotPositive(DensitySteps, "density steps");
        if (!(LanczosTolerance > 0 && LanczosTolerance < 1)) throw Errors.OutOfRange("lanczos tolerance", LanczosTolerance, "a value in (0, 1)");
    }
}

/// <summary>What <see cref="SharpnessEstimate"/> measured.</summary>
/// <param name="Parameters">n, the Hessian's size.</param>
/// <param name="TopEigenvalues">The largest eigenvalues, descending (empty if skipped).</param>
/// <param name="Residuals">Their Ritz residuals.</param>
/// <param name="LanczosIterations">Lanczos steps taken.</param>
/// <param name="LanczosConverged">Whether every residual met the tolerance.</param>
/// <param name="Trace">Hutchinson's estimate, or null.</param>
/// <param name="Density">The SLQ spectral density, or null.</param>
/// <param name="HessianVectorProducts">Products computed in total.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record SharpnessEstimateResult(int Parameters, double[] TopEigenvalues, double[] Residuals, int LanczosIterations, bool LanczosConverged,
    TraceEstimate? Trace, SpectralDensity? Density, long HessianVectorProducts, double Seconds);

/// <summary>
/// Top-k eigenvalues (Lanczos with full reorthogonalisation), trace (Hutchinson, Rademacher probes) and spectral density
/// (stochastic Lanczos quadrature) of a Hessian given only through Hessian-vector products — for a whole model or a
/// subset of its layers (<see cref="ModelHessian"/>), at any size.
/// </summary>
public static class SharpnessEstimate
{
    /// <summary>Estimates the statistics of <paramref name="hessian"/>.</summary>
    public static SharpnessEstimateResult Run<T>(HessianOperator<T> hessian, SharpnessEstimateSettings settings, IProgress<SweepProgress>? progress = null,
        CancellationToken cancellationToken = default) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(hessian);
        return Run(SymmetricOperator.FromHessian(hessian), settings, progress, cancellationToken);
    }

    /// <summary>Estimates the statistics of a symmetric operator.</summary>
    /// <exception cref="ArgumentOutOfRangeException">More top eigenvalues than the operator's dimension, or an invalid setting.</exception>
    public static SharpnessEstimateResult Run(SymmetricOperator op, SharpnessEstimateSettings settings, IProgress<SweepProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (settings.TopK > op.Dimension)
            throw Errors.OutOfRange("top k", settings.TopK, $"at most the number of parameters, {op.Dimension}");
        var clock = Stopwatch.StartNew();
        double[] top = [], residuals = [];
        int iterations = 0;
        bool converged = true;
        if (settings.TopK > 0)
        {
            var r = Lanczos.Eigenvalues(op, settings.TopK, new Random(Seeds.Derive(settings.Seed, 1)), SpectrumEnd.Largest, settings.LanczosIterations,
                settings.LanczosTolerance, cancellationToken: cancellationToken);
            (top, residuals, iterations, converged) = (r.Values, r.Residuals, r.Iterations, r.Converged);
        }
        progress?.Report(new SweepProgress("top eigenvalues", 1, 3));
        var trace = settings.TraceProbes > 0 ? Hutchinson.Trace(op, settings.TraceProbes, new Random(Seeds.Derive(settings.Seed, 2)), cancellationToken: cancellationToken) : null;
        progress?.Report(new SweepProgress("trace", 2, 3));
        var density = settings.DensityProbes > 0
            ? StochasticLanczosQuadrature.Estimate(op, settings.DensityProbes, Math.Min(settings.DensitySteps, op.Dimension), new Random(Seeds.Derive(settings.Seed, 3)), cancellationToken)
            : null;
        progress?.Report(new SweepProgress("density", 3, 3));
        return new SharpnessEstimateResult(op.Dimension, top, residuals, iterations, converged, trace, density, op.Products, clock.Elapsed.TotalSeconds);
    }
}
