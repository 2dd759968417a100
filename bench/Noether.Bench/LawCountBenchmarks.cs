using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Noether.Conservation;
using Noether.Tensors;

namespace Noether.Bench;

/// <summary>
/// The law count (<see cref="LawCount"/>) on the 100 random nets of Marcotte et al.'s check, drawn exactly as
/// tests/Noether.Tests/Conservation/LawCountTests.cs draws them: 50 linear (depth 2–4, widths 2–5) and 50 ReLU
/// (depth 2–4, widths 2–9), biases or not. One case per net; the target is a median ≤ 1 s per net.
/// Run: <c>dotnet run -c Release --project bench/Noether.Bench -- --filter '*LawCount*'</c>.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class LawCountBenchmarks
{
    private Reparametrization _phi = null!;
    private Tensor<double>[] _theta = [];
    private int _seed;

    /// <summary>"linear-s" or "relu-s" for seed s of the tests' draws.</summary>
    [ParamsSource(nameof(Nets))]
    public string Net { get; set; } = "";

    /// <summary>Every net of the check.</summary>
    public static IEnumerable<string> Nets() =>
        Enumerable.Range(0, 50).Select(s => $"linear-{s}").Concat(Enumerable.Range(0, 50).Select(s => $"relu-{s}"));

    /// <summary>Draws the net and its point as the tests do.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var parts = Net.Split('-');
        bool linear = parts[0] == "linear";
        _seed = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) + (linear ? 1000 : 2000);
        var random = new Random(_seed);
        var net = NetworkReparametrization.Draw(random, 2, 4, 2, linear ? 5 : 9, random.Next(2) == 1);
        _theta = net.RandomPoint(random);
        _phi = linear ? net.LinearProduct() : net.PathProducts();
        _seed = random.Next();
    }

    /// <summary>D − dim Lie(V)(θ) for this net.</summary>
    [Benchmark]
    public int Count() => LawCount.Count(_phi, _theta, new Random(_seed)).Laws;
}
