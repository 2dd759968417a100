using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Landscape;

/// <summary>
/// The per-probe, per-batch quadratic forms S[p, b] = z_pᵀ H_b z_p of a Hutchinson trace over a minibatch Hessian, for the
/// batches of one shard (all batches when unsharded), and the same split per parameter block:
/// S_k[p, b] = (z_p)_Bₖᵀ (H_b z_p)_Bₖ, whose mean over probes is unbiased for Tr (H_b)_BₖBₖ. Probes are Rademacher
/// vectors drawn from <c>new Random(Seed)</c>, the same in every shard. Merge shards with <see cref="Merge"/>.
/// </summary>
/// <param name="Seed">The probes' seed.</param>
/// <param name="Probes">P.</param>
/// <param name="TotalBatches">B of the whole set.</param>
/// <param name="BatchIndices">The batches held, ascending.</param>
/// <param name="Samples">S[p, i] at p·|batches| + i for the i-th held batch.</param>
/// <param name="BlockSamples">Per block k, S_k laid out as <paramref name="Samples"/>.</param>
/// <param name="Blocks">The parameter blocks.</param>
public sealed record TraceShard(int Seed, int Probes, int TotalBatches, int[] BatchIndices, double[] Samples, double[][] BlockSamples,
    IReadOnlyList<ParameterBlock> Blocks)
{
    /// <summary>
    /// The shards' samples combined into one covering their union (checked: same seed, probes, batch count and blocks;
    /// no batch twice). Each entry is copied, not recomputed or summed, so estimates from the merged samples equal the
    /// unsharded ones bit for bit.
    /// </summary>
    /// <exception cref="ArgumentException">No shards, or shards from different runs, or a batch in two shards.</exception>
    public static TraceShard Merge(IReadOnlyList<TraceShard> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shards.Count == 0) throw Errors.Argument(nameof(shards), "trace merge: no shards");
        var first = shards[0];
        var owner = new Dictionary<int, (TraceShard Shard, int Column)>();
        foreach (var s in shards)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(shards));
            if (s.Seed != first.Seed || s.Probes != first.Probes || s.TotalBatches != first.TotalBatches || s.Blocks.Count != first.Blocks.Count
                || !s.Blocks.SequenceEqual(first.Blocks))
                throw Errors.Argument(nameof(shards), $"trace merge: shards from different runs (seed {s.Seed} vs {first.Seed}, probes {s.Probes} vs {first.Probes}, batches {s.TotalBatches} vs {first.TotalBatches}, or different blocks)");
            for (int i = 0; i < s.BatchIndices.Length; i++)
                if (!owner.TryAdd(s.BatchIndices[i], (s, i))) throw Errors.Argument(nameof(shards), $"trace merge: batch {s.BatchIndices[i]} is in two shards");
        }
        var batches = owner.Keys.Order().ToArray();
        int m = batches.Length, p = first.Probes, k = first.Blocks.Count;
        var samples = new double[p * m];
        var blocks = Enumerable.Range(0, k).Select(_ => new double[p * m]).ToArray();
        for (int j = 0; j < m; j++)
        {
            var (shard, column) = owner[batches[j]];
            int width = shard.BatchIndices.Length;
            for (int q = 0; q < p; q++)
            {
                samples[q * m + j] = shard.Samples[q * width + column];
                for (int b = 0; b < k; b++) blocks[b][q * m + j] = shard.BlockSamples[b][q * width + column];
            }
        }
        return new TraceShard(first.Seed, p, first.TotalBatches, batches, samples, blocks, first.Blocks);
    }

    /// <summary>The table cut into one column per held batch (the unit a sharded run hands to <c>noether merge</c>).</summary>
    public TraceColumn[] Columns()
    {
        int m = BatchIndices.Length;
        return BatchIndices.Select((batch, j) => new TraceColumn(batch,
            Enumerable.Range(0, Probes).Select(q => Samples[q * m + j]).ToArray(),
            BlockSamples.Select(block => Enumerable.Range(0, Probes).Select(q => block[q * m + j]).ToArray()).ToArray())).ToArray();
    }

    /// <summary>
    /// The table of <paramref name="columns"/> (batches ascending, each once; every column P probes for the total and for
    /// each of <paramref name="blocks"/>): the inverse of <see cref="Columns"/>, values copied, so a table cut into columns
    /// and rebuilt equals the original bit for bit.
    /// </summary>
    /// <exception cref="ArgumentException">No columns, a batch out of [0, <paramref name="totalBatches"/>) or not ascending, or a column of the wrong size.</exception>
    public static TraceShard FromColumns(int seed, int probes, int totalBatches, IReadOnlyList<TraceColumn> columns, IReadOnlyList<ParameterBlock> blocks)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(blocks);
        if (columns.Count == 0) throw Errors.Argument(nameof(columns), "trace table: no batch columns");
        int m = columns.Count;
        var samples = new double[probes * m];
        var blockSamples = blocks.Select(_ => new double[probes * m]).ToArray();
        for (int j = 0; j < m; j++)
        {
            var c = columns[j] ?? throw Errors.Argument(nameof(columns), $"trace table: column {j} is null");
            if (c.Batch < 0 || c.Batch >= totalBatches || (j > 0 && c.Batch <= columns[j - 1].Batch))
                throw Errors.Argument(nameof(columns), $"trace table: batch {c.Batch} at column {j} (expected ascending batches in [0, {totalBatches}))");
            if (c.Total is null || c.Total.Length != probes || c.Blocks is null || c.Blocks.Length != blocks.Count || c.Blocks.Any(b => b is null || b.Length != probes))
                throw Errors.Argument(nameof(columns), $"trace table: batch {c.Batch} has not {probes} probes for the total and each of the {blocks.Count} blocks");
            for (int q = 0; q < probes; q++)
            {
                samples[q * m + j] = c.Total[q];
                for (int k = 0; k < blocks.Count; k++) blockSamples[k][q * m + j] = c.Blocks[k][q];
            }
        }
        return new TraceShard(seed, probes, totalBatches, columns.Select(c => c.Batch).ToArray(), samples, blockSamples, blocks);
    }
}

/// <summary>One batch's column of a <see cref="TraceShard"/>: z_pᵀH_b z_p for every probe p, in total and per block.</summary>
/// <param name="Batch">The batch b.</param>
/// <param name="Total">S[p, b] for p = 0 … P − 1.</param>
/// <param name="Blocks">Per block k, S_k[p, b].</param>
public sealed record TraceColumn(int Batch, double[] Total, double[][] Blocks);

/// <summary>A trace with its intervals' ingredients, from the probes × batches table of a <see cref="TraceShard"/>.</summary>
/// <param name="Trace">T̂ = (1/PB) Σ_p Σ_b S[p, b] (p outer, b inner): Hutchinson's estimate of Tr H for the mean Hessian of the B batches.</param>
/// <param name="StandardErrorProbes">√(MS_P/(PB)) = sd over probes of the row means / √P: the error of T̂ as an estimate of Tr H of
/// the loss over exactly these batches (the only randomness is the probes).</param>
/// <param name="StandardErrorPopulation">√((MS_P + MS_B − MS_E)/(PB)), clipped at 0: the error of T̂ as an estimate of E_b Tr H_b when
/// the B batches are an independent sample of batches from the data distribution (crossed two-way random-effects
/// ANOVA: probe, batch and interaction variance components).</param>
/// <param name="BatchTraces">Per batch, the mean over probes of S[p, b]: an estimate of Tr H_b.</param>
/// <param name="Probes">P.</param>
/// <param name="Batches">B.</param>
public sealed record MinibatchTrace(double Trace, double StandardErrorProbes, double StandardErrorPopulation, double[] BatchTraces, int Probes, int Batches)
{
    /// <summary>The estimate from a P×B table (row-major), p outer, b inner.</summary>
    internal static MinibatchTrace FromTable(double[] s, int p, int b)
    {
        double grand = 0;
        for (int i = 0; i < p; i++)
            for (int j = 0; j < b; j++) grand += s[i * b + j];
        grand /= (double)p * b;
        var rows = new double[p];
        var cols = new double[b];
        for (int i = 0; i < p; i++)
            for (int j = 0; j < b; j++)
            {
                rows[i] += s[i * b + j];
                cols[j] += s[i * b + j];
            }
        for (int i = 0; i < p; i++) rows[i] /= b;
        for (int j = 0; j < b; j++) cols[j] /= p;
        double ssP = 0, ssB = 0, ssE = 0;
        for (int i = 0; i < p; i++) ssP += b * (rows[i] - grand) * (rows[i] - grand);
        for (int j = 0; j < b; j++) ssB += p * (cols[j] - grand) * (cols[j] - grand);
        for (int i = 0; i < p; i++)
            for (int j = 0; j < b; j++)
            {
                double e = s[i * b + j] - rows[i] - cols[j] + grand;
                ssE += e * e;
            }
        double msP = p > 1 ? ssP / (p - 1) : double.NaN;
        double msB = b > 1 ? ssB / (b - 1) : double.NaN;
        double msE = p > 1 && b > 1 ? ssE / ((p - 1.0) * (b - 1.0)) : double.NaN;
        double seProbes = p > 1 ? Math.Sqrt(msP / ((double)p * b)) : double.NaN;
        double sePopulation = p > 1 && b > 1 ? Math.Sqrt(Math.Max(0, msP + msB - msE) / ((double)p * b)) : double.NaN;
        return new MinibatchTrace(grand, seProbes, sePopulation, cols, p, b);
    }
}

/// <summary>Top eigenpairs of a minibatch Hessian with per-batch Rayleigh quotients.</summary>
/// <param name="Eigen">The restarted-Lanczos result on the mean operator (values, vectors, measured residuals).</param>
/// <param name="BatchQuotients">[k][b] = vₖᵀ H_b vₖ.</param>
/// <param name="QuotientMeans">Per pair, the mean over batches of the quotients: vₖᵀ H vₖ (≈ λₖ, within its residual).</param>
/// <param name="QuotientStandardErrors">Per pair, sd over batches / √B: the CLT standard error of the mean quotient as an estimate of
/// vₖᵀ E[H_b] vₖ (the population curvature along the fixed vₖ) when batches are an independent sample; it does not
/// include the error of vₖ itself, and since λ_max ≥ vᵀMv for any unit v, the interval bounds the population λ_max from below.</param>
public sealed record MinibatchEigen(RestartedLanczosResult Eigen, double[][] BatchQuotients, double[] QuotientMeans, double[] QuotientStandardErrors);

/// <summary>The top eigenvalue of each single-batch Hessian H_b (what one 128-image batch gives), and its spread.</summary>
/// <param name="Batches">The batch indices.</param>
/// <param name="TopEigenvalues">λ_max(H_b) per batch.</param>
public sealed record SingleBatchSpread(int[] Batches, double[] TopEigenvalues)
{
    /// <summary>The smallest.</summary>
    public double Min => TopEigenvalues.Min();

    /// <summary>The median (mean of the two middle values for an even count).</summary>
    public double Median
    {
        get
        {
            var s = TopEigenvalues.Order().ToArray();
            return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
        }
    }

    /// <summary>The largest.</summary>
    public double Max => TopEigenvalues.Max();
}

/// <summary>How a Hessian acts on given symmetry directions (tangents tᵢ of an orbit) and what they account for.</summary>
/// <param name="TangentResiduals">‖H tᵢ‖ / (‖H‖ ‖tᵢ‖) per tangent, with ‖H‖ the given spectral-norm estimate: ≈ 0 at a minimum; away
/// from one, differentiating L(g·θ) = L(θ) gives H t = −(∂t/∂θ)ᵀ ∇L, so it is of the gradient's size.</param>
/// <param name="GradientNorm">‖∇L‖ at the point (the scale the residuals are compared with).</param>
/// <param name="Rank">Dimension r of span{tᵢ} (dependent tangents dropped).</param>
/// <param name="OrbitTrace">Tr(QᵀHQ) = Tr H − Tr PHP: the trace the orbit directions account for (exact, r products).</param>
/// <param name="OrbitEigenvalues">Eigenvalues of the r×r QᵀHQ (ascending): the curvature within the tangent space.</param>
/// <param name="Basis">Q, orthonormal rows spanning the tangents.</param>
public sealed record OrbitCurvature(double[] TangentResiduals, double GradientNorm, int Rank, double OrbitTrace, double[] OrbitEigenvalues, Tensor<double> Basis);

/// <summary>
/// Curvature of the loss over a whole data set (or a stated subset) from a <see cref="MinibatchHessian"/>: top
/// eigenvalues with batch-to-batch intervals, Hutchinson traces split by data shard and per parameter block, the
/// single-batch comparison, and curvature modulo a symmetry orbit. Spectral densities: run
/// <see cref="StochasticLanczosQuadrature"/> on <see cref="MinibatchHessian.Mean"/> (or its <see cref="SymmetricOperator.Block"/>
/// or <see cref="SymmetricOperator.ProjectOut"/> view).
/// </summary>
public static class Curvature
{
    /// <summary>
    /// The batches of shard <paramref name="index"/>/<paramref name="count"/> (1-based, as <c>--shard i/n</c>): contiguous
    /// blocks, the first B mod n shards one batch longer — the split <see cref="Experiments.Shard.ItemsOf(int)"/> makes of a grid.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">count &lt; 1, index outside [1, count], or more shards than batches.</exception>
    public static int[] ShardBatches(int batches, int index, int count)
    {
        Errors.ThrowIfNotPositive(batches, nameof(batches));
        Errors.ThrowIfNotPositive(count, nameof(count));
        if (index < 1 || index > count) throw Errors.OutOfRange(nameof(index), index, $"a shard index in [1, {count}]");
        if (count > batches) throw Errors.OutOfRange(nameof(count), count, $"at most {batches} shards (one batch each at least)");
        int q = batches / count, r = batches % count;
        int start = (index - 1) * q + Math.Min(index - 1, r);
        return Enumerable.Range(start, q + (index <= r ? 1 : 0)).ToArray();
    }

    /// <summary>
    /// The table S[p, b] = z_pᵀ H_b z_p (and per block) for the batches <paramref name="batches"/> (default all): each batch's
    /// graph is recorded once and all probes go through it in passes of 16, the probes regenerated from
    /// <paramref name="seed"/> for every batch, so memory is one batch's graph plus 16 probes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">probes &lt; 1.</exception>
    public static TraceShard TraceSamples(MinibatchHessian hessian, int probes, int seed, IReadOnlyList<int>? batches = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hessian);
        if (probes < 1) throw Errors.OutOfRange(nameof(probes), probes, "at least one probe");
        var list = hessian.CheckBatches(batches, nameof(batches)).Order().ToArray();
        int n = hessian.Dimension, m = list.Length, k = hessian.Blocks.Count;
        const int chunk = 16;
        var samples = new double[probes * m];
        var blocks = Enumerable.Range(0, k).Select(_ => new double[probes * m]).ToArray();
        for (int j = 0; j < m; j++)
        {
            var h = hessian.ForBatch(list[j]);
            var rng = new Random(seed);
            for (int start = 0; start < probes; start += chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int c = Math.Min(chunk, probes - start);
                var z = Tensor<double>.Zeros(c, n);
                for (int i = 0; i < z.Length; i++) z.Data[i] = Hutchinson.Rademacher(rng);
                var hz = h.MultiplyMany(z);
                for (int r = 0; r < c; r++)
                {
                    var zr = z.Data.AsSpan(r * n, n);
                    var hr = hz.Data.AsSpan(r * n, n);
                    samples[(start + r) * m + j] = TensorPrimitives.Dot<double>(zr, hr);
                    for (int b = 0; b < k; b++)
                    {
                        var block = hessian.Blocks[b];
                        blocks[b][(start + r) * m + j] = TensorPrimitives.Dot<double>(zr.Slice(block.Offset, block.Length), hr.Slice(block.Offset, block.Length));
                    }
                }
            }
        }
        return new TraceShard(seed, probes, hessian.Batches, list, samples, blocks, hessian.Blocks);
    }

    /// <summary>The trace estimate of the mean Hessian over the shard's batches (complete: all B after a merge).</summary>
    public static MinibatchTrace Trace(TraceShard samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return MinibatchTrace.FromTable(samples.Samples, samples.Probes, samples.BatchIndices.Length);
    }

    /// <summary>The trace of the block-diagonal part H_BB for block <paramref name="block"/>, from the same probes.</summary>
    public static MinibatchTrace BlockTrace(TraceShard samples, int block)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (block < 0 || block >= samples.Blocks.Count) throw Errors.OutOfRange(nameof(block), block, $"a block index in [0, {samples.Blocks.Count})");
        return MinibatchTrace.FromTable(samples.BlockSamples[block], samples.Probes, samples.BatchIndices.Length);
    }

    /// <summary>The trace of the block-diagonal part for a set of blocks (e.g. a layer's weight and bias), from the same probes: the sum of their tables.</summary>
    /// <exception cref="ArgumentException">No blocks, or a repeated one.</exception>
    public static MinibatchTrace BlockTrace(TraceShard samples, IReadOnlyList<int> blocks)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count == 0) throw Errors.Argument(nameof(blocks), "block trace: no blocks");
        if (blocks.Distinct().Count() != blocks.Count) throw Errors.Argument(nameof(blocks), "block trace: a block is listed twice");
        var sum = new double[samples.Samples.Length];
        foreach (int k in blocks)
        {
            if (k < 0 || k >= samples.Blocks.Count) throw Errors.OutOfRange(nameof(blocks), k, $"block indices in [0, {samples.Blocks.Count})");
            TensorPrimitives.Add(sum, samples.BlockSamples[k], sum);
        }
        return MinibatchTrace.FromTable(sum, samples.Probes, samples.BatchIndices.Length);
    }

    /// <summary>
    /// The top <paramref name="count"/> eigenpairs of the mean Hessian by restarted Lanczos, then vₖᵀ H_b vₖ for every batch
    /// (one more pass per batch for all k vectors) for a batch-to-batch interval.
    /// </summary>
    public static MinibatchEigen TopEigenvalues(MinibatchHessian hessian, int count, Random rng, int basisSize = 0, int maxRestarts = 50,
        double tolerance = 1e-8, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hessian);
        var eigen = Lanczos.RestartedEigenvalues(hessian.Mean(cancellationToken: cancellationToken), count, rng, SpectrumEnd.Largest, basisSize, maxRestarts, tolerance, cancellationToken);
        int k = eigen.Values.Length, n = hessian.Dimension, b = hessian.Batches;
        var quotients = Enumerable.Range(0, k).Select(_ => new double[b]).ToArray();
        for (int j = 0; j < b; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var hv = hessian.ForBatch(j).MultiplyMany(eigen.Vectors);
            for (int i = 0; i < k; i++) quotients[i][j] = TensorPrimitives.Dot<double>(eigen.Vectors.Data.AsSpan(i * n, n), hv.Data.AsSpan(i * n, n));
        }
        var means = quotients.Select(q => q.Average()).ToArray();
        var ses = quotients.Select((q, i) => b > 1 ? Math.Sqrt(q.Sum(x => (x - means[i]) * (x - means[i])) / (b - 1) / b) : double.NaN).ToArray();
        return new MinibatchEigen(eigen, quotients, means, ses);
    }

    /// <summary>λ_max of each single-batch Hessian H_b for <paramref name="batches"/> (restarted Lanczos on each).</summary>
    public static SingleBatchSpread SingleBatchTop(MinibatchHessian hessian, IReadOnlyList<int> batches, Random rng, double tolerance = 1e-8,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hessian);
        ArgumentNullException.ThrowIfNull(batches);
        var list = hessian.CheckBatches(batches, nameof(batches));
        var top = new double[list.Length];
        for (int i = 0; i < list.Length; i++)
            top[i] = Lanczos.RestartedEigenvalues(hessian.Batch(list[i]), 1, rng, tolerance: tolerance, cancellationToken: cancellationToken).Values[0];
        return new SingleBatchSpread(list, top);
    }

    /// <summary>
    /// How the operator <paramref name="hessian"/> acts on the orbit tangents <paramref name="tangents"/>: ‖H t‖/(‖H‖‖t‖) per
    /// tangent, Tr(QᵀHQ) and the eigenvalues of QᵀHQ. Use <see cref="SymmetricOperator.ProjectOut"/> for PHP's spectrum,
    /// trace and density.
    /// </summary>
    /// <param name="hessian">H.</param>
    /// <param name="tangents">The tangents (n entries each, finite).</param>
    /// <param name="gradient">∇L at the point (n entries, finite).</param>
    /// <param name="spectralNorm">‖H‖ (e.g. the largest |eigenvalue| from Lanczos), positive.</param>
    public static OrbitCurvature Orbit(SymmetricOperator hessian, IReadOnlyList<double[]> tangents, ReadOnlySpan<double> gradient, double spectralNorm)
    {
        ArgumentNullException.ThrowIfNull(hessian);
        int n = hessian.Dimension;
        if (gradient.Length != n) throw Errors.Argument(nameof(gradient), $"orbit curvature: gradient has {gradient.Length} entries, expected {n}");
        foreach (double g in gradient)
            if (!double.IsFinite(g)) throw Errors.Argument(nameof(gradient), $"orbit curvature: gradient has a non-finite entry {g}");
        if (!(spectralNorm > 0) || !double.IsFinite(spectralNorm)) throw Errors.OutOfRange(nameof(spectralNorm), spectralNorm, "a positive finite ‖H‖");
        var q = SymmetricOperator.OrthonormalBasis(tangents, n, nameof(tangents));
        var t = Tensor<double>.Zeros(tangents.Count, n);
        for (int i = 0; i < tangents.Count; i++) tangents[i].CopyTo(t.Data, i * n);
        var ht = hessian.MultiplyMany(t);
        var residuals = new double[tangents.Count];
        for (int i = 0; i < residuals.Length; i++)
        {
            double tn = TensorPrimitives.Norm<double>(t.Data.AsSpan(i * n, n));
            residuals[i] = tn > 0 ? TensorPrimitives.Norm<double>(ht.Data.AsSpan(i * n, n)) / (spectralNorm * tn) : 0;
        }
        int r = q.Dim(0);
        var hq = hessian.MultiplyMany(q);
        var small = Tensor<double>.Zeros(r, r);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++) small[i, j] = TensorPrimitives.Dot<double>(q.Data.AsSpan(i * n, n), hq.Data.AsSpan(j * n, n));
        for (int i = 0; i < r; i++)
            for (int j = 0; j < i; j++) small[i, j] = small[j, i] = 0.5 * (small[i, j] + small[j, i]);
        double trace = 0;
        for (int i = 0; i < r; i++) trace += small[i, i];
        var (values, _) = LinearAlgebra.SymmetricEigen(small, vectors: false);
        return new OrbitCurvature(residuals, TensorPrimitives.Norm(gradient), r, trace, values, q);
    }
}
