using Noether.Landscape;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>
/// Whole-data curvature estimators checked against the dense Hessian of the same loss (exact trace, dense eigenvalues,
/// dense Rayleigh quotients), and their intervals' coverage checked over many seeds on cheap operators.
/// </summary>
public class CurvatureTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static double Trace(Tensor<double> a) => Enumerable.Range(0, a.Dim(0)).Sum(i => a[i, i]);

    [Fact]
    public void Trace_MlpOverBatches_WithinThreeStandardErrorsOfExactTraceAndPerBlock()
    {
        var (model, batches, _, _) = CurvatureFixtures.Mlp(7);
        var h = MinibatchHessian.ForModel(model, batches);
        var dense = CurvatureFixtures.Dense(h.Mean());
        var samples = Curvature.TraceSamples(h, probes: 64, seed: 8);
        var t = Curvature.Trace(samples);
        // |T̂ − Tr H| > 3 SE has probability ≈ 0.3% for a normal mean; the coverage test below shows the SE is calibrated,
        // so a seeded draw failing would be a 1-in-300 event, not a tuned pass.
        Assert.True(Math.Abs(t.Trace - Trace(dense)) <= 3 * t.StandardErrorProbes, $"trace {t.Trace} ± {t.StandardErrorProbes} vs exact {Trace(dense)}");
        Assert.Equal(4, t.Batches);
        for (int k = 0; k < h.Blocks.Count; k++)
        {
            var block = h.Blocks[k];
            double exact = Enumerable.Range(block.Offset, block.Length).Sum(i => dense[i, i]);
            var bt = Curvature.BlockTrace(samples, k);
            Assert.True(Math.Abs(bt.Trace - exact) <= 3 * bt.StandardErrorProbes + 1e-12, $"block {block.Name}: {bt.Trace} ± {bt.StandardErrorProbes} vs exact {exact}");
        }
        // The per-block tables add up to the whole (each z_pᵀH_b z_p splits over the blocks).
        double blockSum = Enumerable.Range(0, h.Blocks.Count).Sum(k => Curvature.BlockTrace(samples, k).Trace);
        Close.Assert(t.Trace, blockSum, 1e-12, 1e-12, "blocks sum to the trace");
    }

    [Fact]
    public void TraceSamples_ShardedAndMerged_EqualUnshardedBitForBit()
    {
        var (model, batches, _, _) = CurvatureFixtures.Mlp(9, batches: 5);
        var h = MinibatchHessian.ForModel(model, batches);
        var whole = Curvature.TraceSamples(h, probes: 20, seed: 3);
        var shards = Enumerable.Range(1, 3).Select(i => Curvature.TraceSamples(h, 20, 3, Curvature.ShardBatches(5, i, 3))).Reverse().ToArray();
        for (int i = 1; i <= 3; i++)
        {
            var range = new Noether.Experiments.Shard(i, 3).ItemsOf(5);
            Assert.Equal(Enumerable.Range(range.Start, range.Length), Curvature.ShardBatches(5, i, 3));
        }
        var merged = TraceShard.Merge(shards);
        Assert.Equal(whole.BatchIndices, merged.BatchIndices);
        Assert.Equal(whole.Samples, merged.Samples);
        for (int k = 0; k < h.Blocks.Count; k++) Assert.Equal(whole.BlockSamples[k], merged.BlockSamples[k]);
        var a = Curvature.Trace(whole);
        var b = Curvature.Trace(merged);
        Assert.Equal(BitConverter.DoubleToInt64Bits(a.Trace), BitConverter.DoubleToInt64Bits(b.Trace));
        Assert.Equal(BitConverter.DoubleToInt64Bits(a.StandardErrorPopulation), BitConverter.DoubleToInt64Bits(b.StandardErrorPopulation));
        Assert.Equal("shards", Assert.Throws<ArgumentException>(() => TraceShard.Merge([shards[0], shards[0]])).ParamName);
        Assert.Equal("shards", Assert.Throws<ArgumentException>(() => TraceShard.Merge([shards[0], Curvature.TraceSamples(h, 20, 4, [1])])).ParamName);
    }

    [Fact]
    public void TraceShard_CutIntoColumnsAndRebuilt_IsTheSameTable()
    {
        // The columns of the shards, concatenated in batch order, rebuild the unsharded table exactly (what noether merge does).
        var (model, batches, _, _) = CurvatureFixtures.Mlp(9, batches: 5);
        var h = MinibatchHessian.ForModel(model, batches);
        var whole = Curvature.TraceSamples(h, probes: 7, seed: 3);
        var columns = Enumerable.Range(1, 2).SelectMany(i => Curvature.TraceSamples(h, 7, 3, Curvature.ShardBatches(5, i, 2)).Columns()).ToArray();
        var rebuilt = TraceShard.FromColumns(3, 7, 5, columns, h.Blocks);
        Assert.Equal(whole.BatchIndices, rebuilt.BatchIndices);
        Assert.Equal(whole.Samples, rebuilt.Samples);
        for (int k = 0; k < h.Blocks.Count; k++) Assert.Equal(whole.BlockSamples[k], rebuilt.BlockSamples[k]);
        Assert.Equal(whole.Columns()[2].Total, Enumerable.Range(0, 7).Select(p => whole.Samples[p * 5 + 2]));
        // Out of order, out of range, or the wrong number of probes: refused.
        Assert.Equal("columns", Assert.Throws<ArgumentException>(() => TraceShard.FromColumns(3, 7, 5, [.. columns.Reverse()], h.Blocks)).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentException>(() => TraceShard.FromColumns(3, 7, 4, columns, h.Blocks)).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentException>(() => TraceShard.FromColumns(3, 8, 5, columns, h.Blocks)).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentException>(() => TraceShard.FromColumns(3, 7, 5, [], h.Blocks)).ParamName);
    }

    [Fact]
    public void TraceSamples_ProbeStandardError_CoversExactTraceAbout95PercentOverSeeds()
    {
        // Quadratic batch losses ½θᵀA_bθ: H = mean A_b exactly. 400 seeds × 3 batches × 40 probes of a 12×12 problem.
        var rng = new Random(21);
        var matrices = Enumerable.Range(0, 3).Select(_ => LanczosTests.RandomSymmetric(12, rng)).ToArray();
        double exact = matrices.Average(Trace);
        var h = CurvatureFixtures.Quadratic(matrices, Tensor<double>.Zeros(12, 1));
        int seeds = 400, covered = 0;
        for (int s = 0; s < seeds; s++)
        {
            var t = Curvature.Trace(Curvature.TraceSamples(h, 40, s));
            if (Math.Abs(t.Trace - exact) <= 1.96 * t.StandardErrorProbes) covered++;
        }
        // 40 probes: t₃₉ makes 1.96 SE a ≈ 94.3% interval; binomial sd over 400 seeds is 1.2%, so [0.90, 0.98] is ±3.5 sd.
        double rate = covered / (double)seeds;
        output.WriteLine($"coverage of Tr H by the probe SE: {rate:F3}");
        Assert.InRange(rate, 0.90, 0.98);
    }

    [Fact]
    public void TraceSamples_PopulationStandardError_CoversExpectedBatchTraceOverSeeds()
    {
        // Batches drawn at random: A_b = A + c_b·I + 0.1·E_b (c_b standard normal, E_b symmetric noise), so the drawn batches'
        // mean trace differs from the population E Tr A_b = Tr A by n·mean(c_b), sd n/√B ≈ 2, larger than the probe noise
        // (A scaled to 0.2). The population interval must cover Tr A; the probe-only one, made for the drawn batches, must not.
        int n = 10, batches = 24, probes = 16, seeds = 300, covered = 0, coveredByProbesOnly = 0;
        var a0 = LanczosTests.RandomSymmetric(n, new Random(31));
        var a = new Tensor<double>(a0.Data.Select(x => 0.2 * x).ToArray(), a0.ShapeArray);
        double exact = Enumerable.Range(0, n).Sum(i => a[i, i]);
        for (int s = 0; s < seeds; s++)
        {
            var rng = new Random(1000 + s);
            var matrices = Enumerable.Range(0, batches).Select(_ =>
            {
                var e = LanczosTests.RandomSymmetric(n, rng);
                double c = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                var m = new Tensor<double>(a.Data.Zip(e.Data, (x, y) => x + 0.1 * y).ToArray(), a.ShapeArray);
                for (int i = 0; i < n; i++) m[i, i] += c;
                return m;
            }).ToArray();
            var t = Curvature.Trace(Curvature.TraceSamples(CurvatureFixtures.Quadratic(matrices, Tensor<double>.Zeros(n, 1)), probes, s));
            if (Math.Abs(t.Trace - exact) <= 1.96 * t.StandardErrorPopulation) covered++;
            if (Math.Abs(t.Trace - exact) <= 1.96 * t.StandardErrorProbes) coveredByProbesOnly++;
        }
        output.WriteLine($"coverage of E Tr A_b: population SE {covered / (double)seeds:F3}, probe-only SE {coveredByProbesOnly / (double)seeds:F3}");
        // Normal-theory 95% dominated by the batch term (23 df: t₂₃ makes 1.96 SE a ≈ 93.8% interval); binomial sd over 300 seeds
        // is 1.4%, so [0.88, 0.985] is about ±4 sd around it. The probe-only SE ignores the batch sd (≈ 2 vs ≈ 0.4): it covers far less.
        Assert.InRange(covered / (double)seeds, 0.88, 0.985);
        Assert.True(coveredByProbesOnly / (double)seeds < 0.7, "the probe-only interval is not an interval for the population trace");
    }

    [Fact]
    public void TraceSamples_BadInput_RefusedNamingTheParameter()
    {
        var (model, batches, _, _) = CurvatureFixtures.Mlp(10);
        var h = MinibatchHessian.ForModel(model, batches);
        Assert.Equal("probes", Assert.Throws<ArgumentOutOfRangeException>(() => Curvature.TraceSamples(h, 0, 1)).ParamName);
        Assert.Equal("batches", Assert.ThrowsAny<ArgumentException>(() => Curvature.TraceSamples(h, 4, 1, [])).ParamName);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => Curvature.ShardBatches(4, 3, 2)).ParamName);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => Curvature.ShardBatches(4, 0, 2)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => Curvature.ShardBatches(4, 1, 5)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => Curvature.ShardBatches(4, 0, 0)).ParamName);
    }

    [Fact]
    public void TopEigenvalues_MlpOverBatches_MatchDenseWithQuotientsPerBatch()
    {
        var (model, batches, _, _) = CurvatureFixtures.Mlp(11);
        var h = MinibatchHessian.ForModel(model, batches);
        var dense = CurvatureFixtures.Dense(h.Mean());
        var (exact, _) = LinearAlgebra.SymmetricEigen(dense, vectors: false);
        var r = Curvature.TopEigenvalues(h, 2, new Random(12), basisSize: 12, tolerance: 1e-10);
        int n = h.Dimension;
        for (int i = 0; i < 2; i++)
        {
            double expected = exact[^(i + 1)];
            Assert.True(Math.Abs(r.Eigen.Values[i] - expected) <= 1e-8 * Math.Abs(expected), $"λ{i}: {r.Eigen.Values[i]:R} vs {expected:R}");
            var v = r.Eigen.Vectors.Data.AsSpan(i * n, n).ToArray();
            for (int b = 0; b < h.Batches; b++)
            {
                var hb = h.ForBatch(b).Full();
                double q = 0;
                for (int x = 0; x < n; x++)
                    for (int y = 0; y < n; y++) q += v[x] * hb[x, y] * v[y];
                Close.Assert(q, r.BatchQuotients[i][b], 1e-10, 1e-12, $"quotient {i}, batch {b}");
            }
            // The mean quotient is vᵀHv, within the Ritz residual of the Ritz value.
            Assert.True(Math.Abs(r.QuotientMeans[i] - r.Eigen.Values[i]) <= r.Eigen.Residuals[i] + 1e-12);
            Assert.True(r.QuotientStandardErrors[i] > 0);
        }
    }

    [Fact]
    public void SingleBatchTop_EachBatch_MatchesDenseTopEigenvalue()
    {
        var (model, batches, _, _) = CurvatureFixtures.Mlp(13);
        var h = MinibatchHessian.ForModel(model, batches);
        var spread = Curvature.SingleBatchTop(h, [0, 1, 2, 3], new Random(14));
        for (int b = 0; b < 4; b++)
        {
            double expected = LinearAlgebra.SymmetricEigen(h.ForBatch(b).Full(), vectors: false).Values[^1];
            Assert.True(Math.Abs(spread.TopEigenvalues[b] - expected) <= 1e-8 * Math.Abs(expected), $"batch {b}");
        }
        Assert.True(spread.Min <= spread.Median && spread.Median <= spread.Max);
    }

    [Fact]
    public void Orbit_LinearNetworkAtMinimum_TangentsAnnihilatedAndTraceAccounted()
    {
        var (h, u, v) = CurvatureFixtures.LinearNetwork(15);
        var op = h.Mean();
        var dense = CurvatureFixtures.Dense(op);
        var (exact, _) = LinearAlgebra.SymmetricEigen(dense, vectors: false);
        double norm = exact.Max(Math.Abs);
        var tangents = new List<double[]>();
        for (int i = 0; i < u.Dim(1); i++)
            for (int j = 0; j < u.Dim(1); j++) tangents.Add(CurvatureFixtures.RescalingTangent(u, v, i, j));
        var orbit = Curvature.Orbit(op, tangents, h.Gradient(), norm);
        // At a zero-loss minimum H t = 0 exactly; rounding of the products is ≈ 1e-16 relative.
        Assert.All(orbit.TangentResiduals, r => Assert.True(r <= 1e-12, $"‖Ht‖/(‖H‖‖t‖) = {r:E2}"));
        Assert.True(orbit.GradientNorm <= 1e-12);
        Assert.Equal(16, orbit.Rank); // GL(4) acts freely at full-rank U, V: 16 independent tangents.
        var (projected, _) = op.ProjectOut(tangents);
        var pDense = CurvatureFixtures.Dense(projected);
        // Tr H − Tr PHP = Tr QᵀHQ, which is ≈ 0 here since H vanishes on the orbit.
        Close.Assert(Trace(dense) - Trace(pDense), orbit.OrbitTrace, 0, 1e-10 * norm, "trace accounted for by the orbit");
        var pt = new double[h.Dimension];
        foreach (var t in tangents)
        {
            projected.Multiply(t, pt);
            Assert.True(Math.Sqrt(pt.Sum(x => x * x)) <= 1e-12 * norm * Math.Sqrt(t.Sum(x => x * x)));
        }
        // PHP has the same nonzero spectrum here (H is already zero on the orbit): compare the top 3.
        var (pExact, _) = LinearAlgebra.SymmetricEigen(pDense, vectors: false);
        Close.Assert(exact.Reverse().Take(3).ToArray(), pExact.Reverse().Take(3).ToArray(), 1e-10, 0, "top of spectrum modulo orbit");
    }

    [Fact]
    public void Orbit_LinearNetworkAwayFromMinimum_TangentResidualOfGradientSize()
    {
        var (h, u, v) = CurvatureFixtures.LinearNetwork(16, offset: 1.0);
        var op = h.Mean();
        var dense = CurvatureFixtures.Dense(op);
        double norm = LinearAlgebra.SymmetricEigen(dense, vectors: false).Values.Max(Math.Abs);
        var tangents = new List<double[]> { CurvatureFixtures.RescalingTangent(u, v, 0, 1), CurvatureFixtures.RescalingTangent(u, v, 2, 2) };
        var orbit = Curvature.Orbit(op, tangents, h.Gradient(), norm);
        // Differentiating ∇L(θ)·t(θ) = 0 gives H t = −(∂t/∂θ)ᵀ∇L: for the linear generator M, ‖∂t/∂θ‖ = ‖M‖ = 1, so ‖Ht‖ ≤ ‖g‖‖t‖/‖t‖·… ≤ ‖g‖.
        for (int i = 0; i < tangents.Count; i++)
        {
            double ht = orbit.TangentResiduals[i] * norm * Math.Sqrt(tangents[i].Sum(x => x * x));
            Assert.True(ht <= orbit.GradientNorm * (1 + 1e-10), $"‖Ht‖ = {ht:E3} vs ‖g‖ = {orbit.GradientNorm:E3}");
            Assert.True(ht > 1e-6 * orbit.GradientNorm, "not a minimum: H t is not zero");
        }
        // The orbit's trace share: Tr H − Tr PHP, dense.
        var pDense = CurvatureFixtures.Dense(op.ProjectOut(tangents).Projected);
        Close.Assert(Trace(dense) - Trace(pDense), orbit.OrbitTrace, 1e-10, 1e-12, "trace accounted for");
    }

    [Fact]
    public void Orbit_BadInput_RefusedNamingTheParameter()
    {
        var (h, u, v) = CurvatureFixtures.LinearNetwork(17);
        var op = h.Mean();
        var t = CurvatureFixtures.RescalingTangent(u, v, 0, 0);
        var g = new double[h.Dimension];
        var bad = (double[])t.Clone();
        bad[0] = double.PositiveInfinity;
        Assert.Equal("directions", Assert.Throws<ArgumentException>(() => op.ProjectOut([bad])).ParamName);
        Assert.Equal("directions", Assert.Throws<ArgumentException>(() => op.ProjectOut([])).ParamName);
        Assert.Equal("tangents", Assert.Throws<ArgumentException>(() => Curvature.Orbit(op, [bad], g, 1)).ParamName);
        var badG = (double[])g.Clone();
        badG[3] = double.NaN;
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(() => Curvature.Orbit(op, [t], badG, 1)).ParamName);
        Assert.Equal("spectralNorm", Assert.Throws<ArgumentOutOfRangeException>(() => Curvature.Orbit(op, [t], g, 0)).ParamName);
        Assert.Equal("length", Assert.Throws<ArgumentOutOfRangeException>(() => op.Block(0, 0)).ParamName);
    }

    [Fact]
    public void BlockSet_LayerWeightAndBias_TraceAndTopEigenvalueMatchDenseBlock()
    {
        var (model, batches, _, _) = CurvatureFixtures.Mlp(23);
        var h = MinibatchHessian.ForModel(model, batches);
        var dense = CurvatureFixtures.Dense(h.Mean());
        var (offset, length) = h.Range(["2.bias", "2.weight"]);
        Assert.Equal((h.Block("2.weight").Offset, 6 * 3 + 3), (offset, length));
        var sub = Tensor<double>.Zeros(length, length);
        for (int i = 0; i < length; i++)
            for (int j = 0; j < length; j++) sub[i, j] = dense[offset + i, offset + j];
        var (exact, _) = LinearAlgebra.SymmetricEigen(sub, vectors: false);
        var top = Lanczos.RestartedEigenvalues(h.Mean().Block(offset, length), 2, new Random(24), basisSize: 8, maxRestarts: 200);
        for (int i = 0; i < 2; i++)
            Assert.True(Math.Abs(top.Values[i] - exact[^(i + 1)]) <= 1e-8 * Math.Abs(exact[^(i + 1)]), $"λ{i} of the layer block");
        var table = Curvature.TraceSamples(h, 64, 25);
        var layer = Curvature.BlockTrace(table, [2, 3]);
        double exactTrace = Enumerable.Range(0, length).Sum(i => sub[i, i]);
        Assert.True(Math.Abs(layer.Trace - exactTrace) <= 3 * layer.StandardErrorProbes, $"{layer.Trace} ± {layer.StandardErrorProbes} vs {exactTrace}");
        Assert.Equal("names", Assert.Throws<ArgumentException>(() => h.Range(["0.weight", "2.weight"])).ParamName);
        Assert.Equal("names", Assert.Throws<ArgumentException>(() => h.Range(["nope"])).ParamName);
        Assert.Equal("blocks", Assert.Throws<ArgumentException>(() => Curvature.BlockTrace(table, [])).ParamName);
    }

    [Fact]
    public void Block_OfModelHessian_EqualsDenseDiagonalBlock()
    {
        var (model, batches, _, _) = CurvatureFixtures.Mlp(18);
        var h = MinibatchHessian.ForModel(model, batches);
        var dense = CurvatureFixtures.Dense(h.Mean());
        var block = h.Block("2.weight");
        var sub = CurvatureFixtures.Dense(h.Mean().Block(block.Offset, block.Length));
        for (int i = 0; i < block.Length; i++)
            for (int j = 0; j < block.Length; j++)
                Assert.Equal(dense[block.Offset + i, block.Offset + j], sub[i, j], 15);
    }
}

/// <summary>Spectral density (SLQ) on the minibatch operator, split over probe shards.</summary>
public class MinibatchDensityTests
{
    [Fact]
    public void EstimateProbes_OnMinibatchMean_ShardsMergeExactlyAndFullStepsFindTheSpectrumEnds()
    {
        var (model, batches, _, _) = CurvatureFixtures.Mlp(22);
        var h = MinibatchHessian.ForModel(model, batches);
        var dense = CurvatureFixtures.Dense(h.Mean());
        var (exact, _) = LinearAlgebra.SymmetricEigen(dense, vectors: false);
        int n = h.Dimension;
        var whole = StochasticLanczosQuadrature.EstimateProbes(h.Mean(), 6, n, seed: 5);
        var parts = new[]
        {
            StochasticLanczosQuadrature.EstimateProbes(h.Mean(), 6, n, 5, first: 4, count: 2),
            StochasticLanczosQuadrature.EstimateProbes(h.Mean(), 6, n, 5, first: 0, count: 4),
        };
        var merged = StochasticLanczosQuadrature.Merge(parts);
        for (int p = 0; p < 6; p++)
        {
            Assert.Equal(whole.Density.Nodes[p], merged.Nodes[p]);
            Assert.Equal(whole.Density.Weights[p], merged.Weights[p]);
        }
        // n steps: T is similar to H on the Krylov space of a generic probe, so its extreme nodes are H's extreme eigenvalues.
        double scale = exact.Max(Math.Abs);
        Close.Assert(exact[^1], merged.Range.Max, 0, 1e-8 * scale, "largest node");
        Close.Assert(exact[0], merged.Range.Min, 0, 1e-8 * scale, "smallest node");
        Assert.Equal("shards", Assert.Throws<ArgumentException>(() => StochasticLanczosQuadrature.Merge([parts[0]])).ParamName);
        Assert.Equal("shards", Assert.Throws<ArgumentException>(() => StochasticLanczosQuadrature.Merge([parts[1], parts[1], parts[0]])).ParamName);
        Assert.Equal("probes", Assert.Throws<ArgumentOutOfRangeException>(() => StochasticLanczosQuadrature.EstimateProbes(h.Mean(), 0, 3, 1)).ParamName);
    }
}
