using System.Globalization;
using Noether.Experiments;
using Noether.Graphs;
using Noether.Interop;
using Noether.Tests.Interop;

namespace Noether.Tests.Cli;

/// <summary>
/// <c>train --model</c> and <c>curvature --model</c> check the library's memory estimate before they run: with
/// NOETHER_MEMORY_LIMIT between the estimates of a small and a large batch, the small run completes and the large one is
/// refused in one line naming --batch-size, with nothing written.
/// </summary>
public sealed class GraphMemoryCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-graph-memory-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Mlp => Path.Combine(OnnxZooTests.Folder, "mlp.onnx");

    /// <summary>A limit halfway (geometrically) between two estimates, as NOETHER_MEMORY_LIMIT's text.</summary>
    private static Dictionary<string, string> LimitBetween(MemoryNeed small, MemoryNeed large)
    {
        Assert.True(large.Bytes > 1.2 * small.Bytes, $"{large.Bytes} vs {small.Bytes}: too close to separate");
        return new() { ["NOETHER_MEMORY_LIMIT"] = ((long)Math.Sqrt(small.Bytes * large.Bytes)).ToString(CultureInfo.InvariantCulture) };
    }

    [Fact]
    public void TrainModel_RefusesTheBatchAboveTheLimit_AndRunsTheOneBelow()
    {
        // The estimate as TrainModelCommand.Load makes it: the float32 training graph's recorded values, Fashion-MNIST loaded.
        var graph = OnnxModel.Load(Mlp).ToGraph<float>(new GraphOptions { BatchNorm = BatchNormMode.Training });
        var values = MemoryEstimate.RecordedValues(graph, [1, 28, 28]);
        long n = graph.Parameters.Sum(p => (long)p.Length);
        var small = MemoryEstimate.GraphTraining(new GraphTrainingSettings(BatchSize: 64), n, values, false, false, 128, MemoryEstimate.ImageData("fashion-mnist", 128));
        var large = MemoryEstimate.GraphTraining(new GraphTrainingSettings(BatchSize: 60_000), n, values, false, false, 60_000, MemoryEstimate.ImageData("fashion-mnist", null));
        var limit = LimitBetween(small, large);

        string refused = Path.Combine(_dir, "refused");
        var r = CliRunner.Run(["train", "--model", Mlp, "--epochs", "1", "--batch-size", "60000", "--out", refused], limit);
        CliRunner.AssertOneLineFailure(r, "--batch-size 60000", "recorded values", "NOETHER_MEMORY_LIMIT");
        Assert.False(Directory.Exists(refused), "a refused run wrote --out");

        string accepted = Path.Combine(_dir, "accepted");
        var ok = CliRunner.Run(["train", "--model", Mlp, "--epochs", "1", "--batch-size", "64", "--train-limit", "128", "--out", accepted], limit);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.True(File.Exists(Path.Combine(accepted, "model.onnx")));
    }

    [Fact]
    public void Curvature_RefusesTheBatchAboveTheLimit_AndRunsTheOneBelow()
    {
        // The estimate as CurvatureCommand makes it: the float64 inference graph's recorded values, all parameters.
        var graph = OnnxModel.Load(Mlp).ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
        var values = MemoryEstimate.RecordedValues(graph, [1, 28, 28]);
        long n = graph.Parameters.Sum(p => (long)p.Length);
        var limit = LimitBetween(MemoryEstimate.Curvature(n, values, n, 16, 16, 1), MemoryEstimate.Curvature(n, values, n, 60_000, 60_000, 1));

        string refused = Path.Combine(_dir, "refused");
        var r = CliRunner.Run(["curvature", "--model", Mlp, "--images", "60000", "--batch-size", "60000", "--top-k", "1", "--out", refused], limit);
        CliRunner.AssertOneLineFailure(r, "--batch-size 60000", "Hessian-vector products", "NOETHER_MEMORY_LIMIT");
        Assert.False(Directory.Exists(refused), "a refused run wrote --out");

        string accepted = Path.Combine(_dir, "accepted");
        var ok = CliRunner.Run(["curvature", "--model", Mlp, "--images", "16", "--batch-size", "16", "--top-k", "1", "--probes", "2", "--density-probes", "0",
            "--single-batches", "0", "--out", accepted], limit);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.True(File.Exists(Path.Combine(accepted, "summary.json")));
    }

    [Fact]
    public void Symmetries_RefusesTheBatchAboveTheLimit_AndRunsTheOneBelow()
    {
        // The estimate as SymmetriesCommand makes it: the float64 graph as the model says, its census, no discovery.
        var graph = OnnxModel.Load(Mlp).ToGraph<double>(new GraphOptions());
        var values = MemoryEstimate.RecordedValues(graph, [1, 28, 28]);
        long n = graph.Parameters.Sum(p => (long)p.Length);
        var limit = LimitBetween(MemoryEstimate.Census(n, values, 8, 784, null, 10, 1024), MemoryEstimate.Census(n, values, 2_000_000, 784, null, 10, 1024));

        string refused = Path.Combine(_dir, "refused");
        var r = CliRunner.Run(["symmetries", "--model", Mlp, "--batch", "2000000", "--out", refused], limit);
        CliRunner.AssertOneLineFailure(r, "--batch 2000000", "recorded values", "NOETHER_MEMORY_LIMIT");
        Assert.False(Directory.Exists(refused), "a refused run wrote --out");

        string accepted = Path.Combine(_dir, "accepted");
        var ok = CliRunner.Run(["symmetries", "--model", Mlp, "--batch", "8", "--out", accepted], limit);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.True(File.Exists(Path.Combine(accepted, "summary.json")));
    }

    [Fact]
    public void SymmetriesDiscover_CountsOnlyTheSitesItWillCheck()
    {
        // The discovery term grows with the families that will be checked: a limit below the MLP's largest family leaves
        // fewer sites (and a smaller bound); one that admits none leaves no discovery term at all.
        var graph = OnnxModel.Load(Mlp).ToGraph<double>(new GraphOptions());
        var census = Noether.Symmetry.Census.SymmetryCensus.Take(graph);
        var all = Noether.Symmetry.Census.CensusDiscovery.CheckedFamilySizes(graph, census, new() { MaxUnknowns = 1_000_000 });
        Assert.NotEmpty(all);
        var some = Noether.Symmetry.Census.CensusDiscovery.CheckedFamilySizes(graph, census, new() { MaxUnknowns = all.Max() - 1 });
        Assert.Equal(all.Count(u => u < all.Max()), some.Length);
        var none = Noether.Symmetry.Census.CensusDiscovery.CheckedFamilySizes(graph, census, new() { MaxUnknowns = all.Min() - 1 });
        Assert.Empty(none);
        var values = MemoryEstimate.RecordedValues(graph, [1, 28, 28]);
        long n = graph.Parameters.Sum(p => (long)p.Length);
        double without = MemoryEstimate.Census(n, values, 8, 784, null, 10, 1024).Bytes;
        Assert.Equal(without, MemoryEstimate.Census(n, values, 8, 784, none, 10, 1024).Bytes);
        // The bound: 1024 inputs × 10 classes rows of each family's length, two SVD copies of the largest, the measured garbage.
        Assert.Equal(without + 8.0 * 10_240 * (all.Sum(u => (double)u) + 2.0 * all.Max()) + MemoryEstimate.DiscoveryGarbageBytes, MemoryEstimate.Census(n, values, 8, 784, all, 10, 1024).Bytes, 1e-9 * without);
    }

    [Fact]
    public void ModelShow_RefusesTheBatchAboveTheLimit_AndShowsTheOneBelow()
    {
        var graph = OnnxModel.Load(Mlp).ToGraph<float>();
        var values = MemoryEstimate.RecordedValues(graph, [1, 28, 28]);
        long n = graph.Parameters.Sum(p => (long)p.Length);
        var limit = LimitBetween(MemoryEstimate.GraphForward(n, values, 1), MemoryEstimate.GraphForward(n, values, 50_000_000));
        var r = CliRunner.Run(["model", "show", Mlp, "--batch", "50000000"], limit);
        CliRunner.AssertOneLineFailure(r, "--batch 50000000", "forward values", "NOETHER_MEMORY_LIMIT");
        var ok = CliRunner.Run(["model", "show", Mlp, "--batch", "4"], limit);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Contains("at batch 4", ok.Stdout);
    }
}
