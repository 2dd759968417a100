using BenchmarkDotNet.Attributes;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Bench;

/// <summary>
/// Curvature of the SPEC CNN (28×28×1 → conv 16 → pool → 32 → 10; 100 874 parameters) in float64 over
/// <see cref="Batches"/> batches of 128 seeded Gaussian images: the top Hessian eigenvalue from 20 Lanczos steps
/// (20 Hessian-vector products of the whole-set mean operator) and a 100-probe Hutchinson trace — the two workloads of
/// issue 15's speed target (its ResNet-20 twin waits for the graph models).
/// </summary>
[MemoryDiagnoser]
public class CurvatureBenchmarks
{
    private MinibatchHessian _hessian = null!;

    /// <summary>Batches of 128 images in the loss (1: one batch; 4: 512 images, each product visits every batch).</summary>
    [Params(1, 4)]
    public int Batches { get; set; }

    /// <summary>The seeded model and data.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        var model = Models.SpecCnn<double>(rng);
        var batches = new List<(Tensor<double>, int[])>();
        for (int b = 0; b < Batches; b++)
            batches.Add((Init.Gaussian(Tensor<double>.Zeros(128, 1, 28, 28), 1, rng), Enumerable.Range(0, 128).Select(_ => rng.Next(10)).ToArray()));
        _hessian = MinibatchHessian.ForModel(model, batches);
    }

    /// <summary>λ_max estimate after 20 Lanczos steps (20 products) on the mean operator.</summary>
    [Benchmark(Baseline = true)]
    public double TopEigenvalue20Products() => Lanczos.Eigenvalues(_hessian.Mean(), 1, new Random(2), maxIterations: 20).Values[0];

    /// <summary>Tr H from 100 Rademacher probes (the probes × batches table: each batch's graph recorded once, probes in passes of 16).</summary>
    [Benchmark]
    public double Trace100Probes() => Curvature.Trace(Curvature.TraceSamples(_hessian, 100, 3)).Trace;
}
