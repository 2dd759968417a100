namespace Noether.Tests.Cli;

/// <summary>Bad invocations of drift, xavier, orbit, discover and symmetry-check: each fails with a message naming the problem and writes nothing.</summary>
public sealed class SymmetryCommandValidationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-badargs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("drift --lr 0.1,-0.01", "--lr", "-0.01")]
    [InlineData("drift --lr NaN", "--lr", "NaN")]
    [InlineData("drift --lr 0", "--lr", "positive")]
    [InlineData("drift --activations relu,swish", "--activations", "swish", "sigmoid")]
    [InlineData("drift --activations radial", "--activations", "elementwise")]
    [InlineData("drift --steps 0", "--steps", "positive")]
    [InlineData("drift --steps many", "--steps", "many")]
    [InlineData("drift --profile slow", "slow", "quick")]
    [InlineData("drift --init-std -1", "--init-std")]
    [InlineData("xavier --draws 1", "--draws")]
    [InlineData("xavier --draws abc", "--draws", "abc")]
    [InlineData("xavier --shapes 10x0x5", "--shapes", "10x0x5")]
    [InlineData("xavier --shapes 10x5", "--shapes", "m×h×n")]
    [InlineData("xavier --integral-shape 5xAx5", "--integral-shape", "A")]
    [InlineData("orbit --groups gl,lorentz", "--groups", "lorentz", "orthogonal")]
    [InlineData("orbit --tolerance 1.5", "--tolerance", "1.5")]
    [InlineData("orbit --shapes 3x300x2", "--shapes", "300")]
    [InlineData("discover --activation swish", "--activation", "swish", "radial-inverse-square")]
    [InlineData("discover --widths 2,0", "--widths", "0")]
    [InlineData("discover --widths 3 --samples 5", "--samples", "18")]
    [InlineData("symmetry-check --arch 8,x,3", "--arch", "8,x,3")]
    [InlineData("symmetry-check --arch 8,3", "--arch", "at least")]
    [InlineData("symmetry-check --arch 8,-6,3", "--arch", "-6")]
    [InlineData("symmetry-check --batch-size 9", "--batch-size", "k ≤ 5")]
    [InlineData("symmetry-check --layer 3", "--layer", "between 1 and 2")]
    [InlineData("symmetry-check --epsilon -1", "--epsilon")]
    [InlineData("symmetry-check --activation softplus", "--activation", "softplus", "tanh")]
    public void Command_BadValue_FailsNamingTheOptionAndWritesNothing(string arguments, params string[] mentions)
    {
        string outDir = Path.Combine(_dir, "out");
        var r = CliRunner.Run([.. arguments.Split(' '), "--out", outDir]);
        CliRunner.AssertCleanFailure(r, mentions);
        Assert.False(Directory.Exists(outDir), "nothing may be written for a rejected invocation");
    }
}
