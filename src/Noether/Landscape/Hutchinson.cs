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

/// <summary>A Hutch++ estimate of Tr A (<see cref="Hutchinson.HutchPlusPlus"/>).</summary>
/// <param name="Trace">Tr(QᵀAQ) + the Hutchinson estimate of the deflated remainder.</param>
/// <param name="StandardError">The remainder's standard error (the low-rank part is exact given Q).</param>
/// <param name="LowRankTrace">Tr(QᵀAQ).</param>
/// <param name="Rank">Columns of Q (the sketch's rank).</param>
/// <param name="Remainder">The Hutchinson estimate of Tr((I − QQᵀ)A(I − QQᵀ)).</param>
public sealed record HutchPlusPlusEstimate(double Trace, double StandardError, double LowRankTrace, int Rank, TraceEstimate Remainder);

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

    /// <summary>
    /// Hutch++ (Meyer, Musco, Musco and Woodruff 2021): with a budget of m products, s = ⌊m/3⌋ go to a sketch A·Ω
    /// (Ω Rademacher, n×s) whose orthonormal basis Q captures the top of the spectrum, s more give Tr(QᵀAQ) exactly, and
    /// the remaining m − 2s are Hutchinson probes of the deflated (I − QQᵀ)A(I − QQᵀ). The estimate is
    /// Tr(QᵀAQ) + their mean; its standard error is that of the Hutchinson part alone — given Q the first term is exact,
    /// so the interval holds conditionally on the sketch (and hence unconditionally). Error O(1/m) instead of O(1/√m)
    /// for a fast-decaying spectrum.
    /// </summary>
    /// <param name="op">The symmetric operator.</param>
    /// <param name="products">Budget m ≥ 4 (so that at least two probes remain for a standard error).</param>
    /// <param name="rng">Seeded generator.</param>
    /// <param name="cancellationToken">Checked between stages.</param>
    public static HutchPlusPlusEstimate HutchPlusPlus(SymmetricOperator op, int products, Random rng, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(rng);
        if (products < 4) throw Errors.OutOfRange(nameof(products), products, "a budget of at least 4 products (a third for the sketch, a third for its trace, at least two probes)");
        int n = op.Dimension;
        int s = Math.Min(products / 3, n);
        int probes = products - 2 * s;
        var omega = Tensor<double>.Zeros(s, n);
        for (int i = 0; i < omega.Length; i++) omega.Data[i] = Rademacher(rng);
        var sketch = op.MultiplyMany(omega);
        cancellationToken.ThrowIfCancellationRequested();
        var rows = new double[s][];
        for (int i = 0; i < s; i++) rows[i] = sketch.Data.AsSpan(i * n, n).ToArray();
        var q = SymmetricOperator.OrthonormalBasis(rows, n, "sketch");
        int r = q.Dim(0);
        var aq = op.MultiplyMany(q);
        double lowRank = 0;
        for (int i = 0; i < r; i++) lowRank += TensorPrimitives.Dot<double>(q.Data.AsSpan(i * n, n), aq.Data.AsSpan(i * n, n));
        cancellationToken.ThrowIfCancellationRequested();
        var z = Tensor<double>.Zeros(probes, n);
        for (int i = 0; i < z.Length; i++) z.Data[i] = Rademacher(rng);
        for (int p = 0; p < probes; p++)
        {
            var zp = z.Data.AsSpan(p * n, n);
            for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i < r; i++)
                {
                    var qi = q.Data.AsSpan(i * n, n);
                    TensorPrimitives.MultiplyAdd(qi, -TensorPrimitives.Dot<double>(qi, zp), zp, zp);
                }
        }
        var az = op.MultiplyMany(z);
        var samples = new double[probes];
        for (int p = 0; p < probes; p++) samples[p] = TensorPrimitives.Dot<double>(z.Data.AsSpan(p * n, n), az.Data.AsSpan(p * n, n));
        double mean = samples.Average();
        double se = Math.Sqrt(samples.Sum(x => (x - mean) * (x - mean)) / (probes - 1) / probes);
        return new HutchPlusPlusEstimate(lowRank + mean, se, lowRank, r, new TraceEstimate(mean, se, samples));
    }

    /// <summary>±1 with equal probability.</summary>
    internal static double Rademacher(Random rng) => rng.Next(2) == 0 ? -1.0 : 1.0;
}
