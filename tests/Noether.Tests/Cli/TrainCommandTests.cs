using Noether.Serialization;

namespace Noether.Tests.Cli;

public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("--epochs", "0")]
    [InlineData("--epochs", "-3")]
    [InlineData("--batch-size", "0")]
    [InlineData("--lr", "-0.1")]
    [InlineData("--lr", "0")]
    [InlineData("--lr", "NaN")]
    [InlineData("--lr", "Infinity")]
    [InlineData("--hidden", "0")]
    [InlineData("--train-limit", "-5")]
    [InlineData("--data", "mnist-digits")]
    public void Train_BadNumberOrChoice_FailsNamingTheOption(string option, string value)
    {
        string outDir = Path.Combine(_dir, "out");
        var r = CliRunner.Run(["train", option, value, "--out", outDir]);
        CliRunner.AssertCleanFailure(r, option.TrimStart('-'));
        Assert.False(Directory.Exists(outDir), "nothing may be written for a rejected invocation");
    }

    [Fact]
    public void Train_UnknownOption_Fails()
    {
        var r = CliRunner.Run(["train", "--epoch", "3"]);
        CliRunner.AssertCleanFailure(r, "--epoch");
    }

    [Fact]
    public void Train_MissingDataset_GivesTheInstallCommand()
    {
        var r = CliRunner.Run(["train", "--out", Path.Combine(_dir, "o")], new Dictionary<string, string> { ["NOETHER_FASHION_MNIST"] = Path.Combine(_dir, "nowhere") });
        CliRunner.AssertCleanFailure(r, "apt-get install -y dataset-fashion-mnist", "nowhere");
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Train_NonEmptyOutputWithoutForce_FailsAndLeavesEarlierResults()
    {
        string earlier = Path.Combine(_dir, "summary.json");
        File.WriteAllText(earlier, "{\"earlier\": true}");
        var r = CliRunner.Run(["train", "--out", _dir]);
        CliRunner.AssertCleanFailure(r, "--force", _dir);
        Assert.Equal("{\"earlier\": true}", File.ReadAllText(earlier));
    }

    [Fact]
    public void Train_OutputUnderAFile_FailsNamingThePath()
    {
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        var r = CliRunner.Run(["train", "--out", Path.Combine(file, "sub")]);
        CliRunner.AssertCleanFailure(r, "a-file");
    }

    [Fact]
    public void Train_DivergingLearningRate_StopsNamingTheStepAndWritesNothing()
    {
        string outDir = Path.Combine(_dir, "diverge");
        var r = CliRunner.Run(["train", "--lr", "1e30", "--epochs", "1", "--train-limit", "1024", "--out", outDir]);
        CliRunner.AssertCleanFailure(r, "step");
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFiles(outDir).Any(), "a failed run must leave no files");
    }

    [Fact]
    public void Train_SmallRun_WritesLoadableWeightsAndSummary()
    {
        var r = CliRunner.Run(["train", "--epochs", "1", "--train-limit", "2048", "--out", _dir, "--force"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var weights = SafeTensors.Read(Path.Combine(_dir, "model.safetensors"));
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias", "5.weight", "5.bias"], weights.Names);
        Assert.Equal([16, 1, 3, 3], weights["0.weight"].Shape);
        Assert.Equal([10, 32], weights["5.weight"].Shape);
        var png = File.ReadAllBytes(Path.Combine(_dir, "training.png"));
        Assert.True(png.Length > 1000 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G');
        Assert.Contains("test accuracy", r.Stdout);
        Assert.Empty(Directory.EnumerateFiles(_dir, ".*"));
    }

    [Fact]
    public void Info_ReportsBlasAndDatasets()
    {
        var r = CliRunner.Run(["info"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("BLAS", r.Stdout);
        Assert.Contains("Fashion-MNIST", r.Stdout);
    }
}
