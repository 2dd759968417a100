namespace Noether.Tests.Cli;

/// <summary>Bad --shard values: a parse error naming --shard and the value, nothing written.</summary>
public sealed class ShardCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("noether-shard-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("drift", "0/2")]
    [InlineData("xavier", "3/2")]
    [InlineData("orbit", "abc")]
    [InlineData("drift", "1/0")]
    [InlineData("sharpness", "3/2")]
    [InlineData("converge", "2/-1")]
    [InlineData("ensemble", "1/2/3")]
    [InlineData("attack", "3/2")]
    public void Sweep_BadShard_FailsCleanlyNamingTheOptionAndValue(string command, string shard)
    {
        string outDir = Path.Combine(_root, "out");
        var r = CliRunner.Run([command, "--shard", shard, "--out", outDir]);
        CliRunner.AssertCleanFailure(r, "--shard", $"'{shard}'", "1 ≤ i ≤ n");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Sharpness_ShardWithWeights_IsRejectedNamingShard()
    {
        // --weights estimates one model: nothing to shard. Refused before the weights are even read (a placeholder file: a
        // missing one is refused earlier, at parse time).
        string outDir = Path.Combine(_root, "out");
        string weights = Path.Combine(_root, "model.safetensors");
        File.WriteAllBytes(weights, [0]);
        var r = CliRunner.Run(["sharpness", "--weights", weights, "--shard", "1/2", "--out", outDir]);
        CliRunner.AssertCleanFailure(r, "--shard", "--weights");
        Assert.Equal(2, r.ExitCode);
        Assert.False(Directory.Exists(outDir));
    }

    [Theory]
    [InlineData("ellipse,radial,rate")]
    [InlineData("rate,ellipse")]
    [InlineData("radial")]
    public void Converge_ShardWithoutPartRateAlone_IsRejectedNamingShardAndPart(string parts)
    {
        // Only the Fig. 6 grid is sharded; a shard that also ran ellipse/radial could not be merged into an unsharded run's output.
        string outDir = Path.Combine(_root, "out");
        var r = CliRunner.Run(["converge", "--profile", "quick", "--part", parts, "--shard", "1/2", "--out", outDir]);
        CliRunner.AssertCleanFailure(r, "--shard", "--part rate");
        Assert.Equal(2, r.ExitCode);
        Assert.False(Directory.Exists(outDir));
    }

    // More shards than the grid has items: refused before any work (for ensemble and attack, before training).
    public static TheoryData<string[], string, string> TooManyShards => new()
    {
        // quick: 4 σ × 3 σ_U × 3 σ_V = 36 grid items.
        { new[] { "converge", "--profile", "quick", "--part", "rate", "--shard", "37/37" }, "37/37", "36 grid items" },
        // 2 builders × 2 ε = 4 points; checked before the data set is used to train anything.
        { new[] { "ensemble", "--profile", "quick", "--builders", "group,random", "--epsilons", "0,1", "--shard", "5/5" }, "5/5", "4 grid items" },
        // --epsilons 0,1/255: FGSM and PGD at each = 4 attacks (grid items); refused before any training.
        { new[] { "attack", "--profile", "quick", "--epsilons", "0,1/255", "--shard", "5/5" }, "5/5", "4 grid items" },
        // 2 shapes × 1 group = 2 grid items: a third shard would be empty.
        { new[] { "orbit", "--shapes", "3x2x4,4x4x4", "--groups", "gl", "--shard", "3/3" }, "3/3", "2 grid items" },
    };

    [Theory]
    [MemberData(nameof(TooManyShards))]
    public void MoreShardsThanGridItems_FailCleanlyAndLeaveNothing(string[] arguments, string shard, string gridItems)
    {
        string outDir = Path.Combine(_root, "out");
        var r = CliRunner.Run([.. arguments, "--out", outDir]);
        CliRunner.AssertCleanFailure(r, shard, gridItems);
        Assert.Equal(2, r.ExitCode);
        Assert.False(Directory.Exists(outDir));
    }

}
