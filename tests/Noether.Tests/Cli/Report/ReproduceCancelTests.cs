using System.Diagnostics;

namespace Noether.Tests.Cli.Report;

public sealed class ReproduceCancelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-reproduce-cancel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task CtrlC_RemovesTheStepFoldersItCreated_AndKeepsWhatWasThere()
    {
        // A folder with earlier results, run into with --force; SIGINT while the second step runs.
        string earlier = Path.Combine(_dir, "earlier");
        Directory.CreateDirectory(earlier);
        File.WriteAllText(Path.Combine(earlier, "result.txt"), "keep me");

        using var process = Process.Start(CliRunner.Interruptible(["reproduce", "--profile", "default", "--only", "xavier,orbit", "--out", _dir, "--force"]))!;
        var stderr = process.StandardError.ReadToEndAsync();
        // Wait until the second step (orbit: seconds) has started, then interrupt.
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync()) is not null && !line.Contains("step 2 of 2: orbit", StringComparison.Ordinal)) { }
        Assert.NotNull(line);
        Assert.True(Directory.Exists(Path.Combine(_dir, "xavier")), "the first step's folder should exist before the interrupt");
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        var rest = process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "reproduce did not stop after SIGINT");

        Assert.True(process.ExitCode == 130, $"exit code {process.ExitCode} after SIGINT, expected 130; stdout after the interrupt:\n{await rest}");
        var errors = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(errors);
        Assert.Contains("cancelled", errors[0]);
        Assert.Equal(["earlier"], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName));
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(earlier, "result.txt")));
    }
}
