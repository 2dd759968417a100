using System.Diagnostics;

namespace Noether.Tests.Cli.Report;

public sealed class ReproduceCancelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-reproduce-cancel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task CtrlC_LeavesTheEarlierResultAsItWas_AndRemovesItsStagingFolder()
    {
        // A folder with an earlier result, run into with --force; SIGINT while the second step runs.
        string run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(Path.Combine(run, "earlier"));
        File.WriteAllText(Path.Combine(run, "earlier", "result.txt"), "keep me");

        using var process = Process.Start(CliRunner.Interruptible(["reproduce", "--profile", "default", "--only", "xavier,orbit", "--out", run, "--force"]))!;
        var stderr = process.StandardError.ReadToEndAsync();
        // Wait until the second step (orbit: seconds) has started, then interrupt.
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync()) is not null && !line.Contains("step 2 of 2: orbit", StringComparison.Ordinal)) { }
        Assert.NotNull(line);
        // The first step's result is in the run's staging folder beside --out, not in --out.
        var staging = Assert.Single(Directory.EnumerateDirectories(_dir, ".run.staging-*"));
        Assert.True(Directory.Exists(Path.Combine(staging, "xavier")), "the first step's folder should be staged before the interrupt");
        Assert.False(Directory.Exists(Path.Combine(run, "xavier")));
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        var rest = process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "reproduce did not stop after SIGINT");

        Assert.True(process.ExitCode == 130, $"exit code {process.ExitCode} after SIGINT, expected 130; stdout after the interrupt:\n{await rest}");
        var errors = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(errors);
        Assert.Contains("cancelled", errors[0]);
        Assert.Contains($"--out {run} left unchanged", errors[0]);
        Assert.Equal([".run.lock", "run"], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["earlier"], Directory.EnumerateFileSystemEntries(run).Select(Path.GetFileName));
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(run, "earlier", "result.txt")));
    }
}
