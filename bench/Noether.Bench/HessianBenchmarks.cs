using BenchmarkDotNet.Attributes;
using Noether.Autodiff;
using Noether.Benchmarks;
using Noether.Tensors;

namespace Noether.Bench;

/// <summary>
/// Second-order work on the Fig. 8 network (U 10×50, V 50×5, X = I₅; 750 parameters, float64):
/// building the <see cref="HessianOperator{T}"/> (forward + gradient with its graph; baseline), one exact
/// Hessian-vector product, and the full 750×750 Hessian (750 products).
/// </summary>
[MemoryDiagnoser]
public class HessianBenchmarks
{
    private Tensor<double> _u = null!, _v = null!, _x = null!, _y = null!;
    private HessianOperator<double> _operator = null!;
    private double[] _direction = [];

    /// <summary>σ between the layers.</summary>
    [Params(Networks.Activation.Identity, Networks.Activation.Tanh)]
    public Networks.Activation Activation { get; set; }

    /// <summary>Seeded point and direction; one operator for the product benchmark.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (m, h, n) = Networks.Fig8;
        var random = new Random(1);
        _u = Networks.Gaussian(random, 0.3, m, h);
        _v = Networks.Gaussian(random, 0.3, h, n);
        _y = Networks.Gaussian(random, 1.0, m, n);
        _x = Tensor<double>.Identity(n);
        _operator = Build();
        _direction = Networks.Gaussian(random, 1.0, 1, _operator.Dimension).Data;
    }

    private Variable<double> Loss(Tape<double> tape, IReadOnlyList<Variable<double>> p) => Networks.Loss(p[0], p[1], _x, _y, Activation);

    /// <summary>Records the loss and its differentiable gradient.</summary>
    [Benchmark(Baseline = true)]
    public HessianOperator<double> Build() => new(Loss, [_u, _v]);

    /// <summary>One H·v on an already built operator.</summary>
    [Benchmark]
    public double[] VectorProduct() => _operator.Multiply(_direction);

    /// <summary>The full Hessian from scratch (build + 750 products + symmetrise), as the comparison runner times it.</summary>
    [Benchmark]
    public Tensor<double> Full() => Hessian.Full<double>(Loss, [_u, _v]);
}
