using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Landscape;

/// <summary>An estimate of Tr A from random probes.</summary>
/// <param name="Trace">The mean of zᵀAz over the probes.</param>
/// <param name="StandardError">The sample standard deviation of zᵀAz divided by √probes (0 for a single probe).</param>
/// <param name="Samples">zᵀAz for each probe, in order.</param>
public sealed record TraceEstimate(double Trace, double StandardError, double[] Samples)
{
    /// <summary>Number of probes.</summary>
    public int Probes => Samples.Length;
}

/// <summary>
/// Hutchinson's estimator Tr A ≈ (1/P) Σ zₚᵀ A zₚ with Rademacher probes (entries ±1): unbiased, with variance
/// 2(‖A‖²_F − Σ aᵢᵢ²)/P, the smallest of the usual probe distributions. For a Hessian each probe is one
/// Hessian-vector product; probes are batched through <see cref="SymmetricOperator.MultiplyMany"/>.
/// </summary>
public static class Hutchinson
{
    /// <summary>Estimates Tr A with <paramref name="probes"/> Rademacher vectors drawn from <paramref name="rng"/>.</summary>
    /// <param name="op">The symmetric operator.</param>
    /// <param name="probes">Number of probes ≥ 1.</param>
    /// <param name="rng">Seeded generator.</param>
    /// <param name="batch">Probes per batched product ≥ 1.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static TraceEstimate Trace(SymmetricOperator op, int probes, Random rng, int batch = 16, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(rng);
        Errors.ThrowIfNotPositive(probes, nameof(probes));
        Errors.ThrowIfNotPositive(batch, nameof(batch));
        int n = op.Dimension;
        var samples = new double[probes];
        for (int start = 0; start < probes; start += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int b = Math.Min(batch, probes - start);
            var z = Tensor<double>.Zeros(b, n);
            for (int i = 0; i < z.Length; i++) z.Data[i] = Rademacher(rng);
            var az = op.MultiplyMany(z);
            for (int k = 0; k < b; k++) samples[start + k] = TensorPrimitives.Dot<double>(z.Data.AsSpan(k * n, n), az.Data.AsSpan(k * n, n));
        }
        double mean = samples.Average();
        double se = probes > 1 ? Math.Sqrt(samples.Sum(s => (s - mean) * (s - mean)) / (probes - 1) / probes) : 0;
        return new TraceEstimate(mean, se, samples);
    }

    /// <summary>±1 with equal probability.</summary>
    internal static double Rademacher(Random rng) => rng.Next(2) == 0 ? -1.0 : 1.0;
}
