using BenchmarkDotNet.Attributes;
using Noether.Autodiff;
using Noether.Benchmarks;
using Noether.Tensors;

namespace Noether.Bench;

/// <summary>
/// One training step's autodiff work on the Fig. 3 network (U 5×50, V 50×10, X = I₁₀, float64):
/// recording the loss on the tape (baseline) and recording it plus the backward pass.
/// </summary>
[MemoryDiagnoser]
public class TapeBenchmarks
{
    private readonly Tape<double> _tape = new();
    private Parameter<double> _u = null!, _v = null!;
    private Parameter<double>[] _parameters = [];
    private Tensor<double> _x = null!, _y = null!;

    /// <summary>σ between the layers.</summary>
    [Params(Networks.Activation.Identity, Networks.Activation.Relu)]
    public Networks.Activation Activation { get; set; }

    /// <summary>Seeded parameters and targets.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (m, h, n) = Networks.Fig3;
        var random = new Random(1);
        _u = new Parameter<double>("U", Networks.Gaussian(random, 0.1, m, h));
        _v = new Parameter<double>("V", Networks.Gaussian(random, 0.1, h, n));
        _y = Networks.Gaussian(random, 1.0, m, n);
        _x = Tensor<double>.Identity(n);
        _parameters = [_u, _v];
    }

    /// <summary>Forward pass only (recorded, ready for a backward pass).</summary>
    [Benchmark(Baseline = true)]
    public double Forward()
    {
        _tape.Reset();
        return Networks.Loss(_tape.Bind(_u), _tape.Bind(_v), _x, _y, Activation).Value.ScalarValue;
    }

    /// <summary>Forward pass and gradients with respect to U and V.</summary>
    [Benchmark]
    public Tensor<double>[] ForwardBackward()
    {
        _tape.Reset();
        var loss = Networks.Loss(_tape.Bind(_u), _tape.Bind(_v), _x, _y, Activation);
        return _tape.Gradient(loss, _parameters);
    }
}
