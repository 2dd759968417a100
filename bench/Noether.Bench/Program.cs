using BenchmarkDotNet.Running;

namespace Noether.Bench;

/// <summary>Entry point: BenchmarkDotNet's switcher (pick suites interactively, or with --filter).</summary>
public static class Program
{
    /// <summary>Runs the selected benchmarks, e.g. <c>--filter '*Gemm*'</c>, or <c>--list flat</c>.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
