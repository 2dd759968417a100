using System.Text.Json;
using Noether.Cli;
using Noether.Cli.Commands;
using Noether.Cli.Report;

namespace Noether.Tests.Cli.Report;

public sealed class ReproducePlanTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-reproduce-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EveryStep_ParsesCleanlyInEveryProfile()
    {
        Assert.Equal(ReproducePlan.Steps.Count, ReproducePlan.Steps.Select(s => s.Name).Distinct().Count());
        foreach (var step in ReproducePlan.Steps)
            foreach (var profile in ReproducePlan.Profiles)
            {
                var args = step.CommandLine(profile, Path.Combine(_dir, step.Name));
                var parse = Program.BuildRoot().Parse(args);
                Assert.True(parse.Errors.Count == 0, $"{string.Join(' ', args)}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
                Assert.Equal(step.Command, parse.CommandResult.Command.Name);
                Assert.Equal(["--out", Path.Combine(_dir, step.Name), "--force"], args[^3..]);
            }
    }

    [Fact]
    public void Profiled_PassesTheProfileThrough()
    {
        var step = ReproduceStep.Profiled("drift", "--seed", "3");
        Assert.Equal(["drift", "--profile", "full", "--seed", "3", "--out", "o", "--force"], step.CommandLine("full", "o"));
        Assert.Throws<ArgumentException>(() => step.ArgumentsFor("huge"));
    }

    [Fact]
    public void AReferenceToAnEarlierStepsFile_ResolvesWhenItExistsAndIsDroppedOtherwise()
    {
        var step = new ReproduceStep("ensemble", "ensemble", ["--weights", "@train/model.safetensors", "--seed", "1"], [], []);
        string stepDir = Path.Combine(_dir, "ensemble");
        Assert.Equal(["ensemble", "--seed", "1", "--out", stepDir, "--force"], step.CommandLine("quick", stepDir));

        Directory.CreateDirectory(Path.Combine(_dir, "train"));
        string weights = Path.Combine(_dir, "train", "model.safetensors");
        File.WriteAllBytes(weights, [0]);
        Assert.Equal(["ensemble", "--weights", weights, "--seed", "1", "--out", stepDir, "--force"], step.CommandLine("quick", stepDir));
    }

    [Fact]
    public async Task AFailingStep_IsRecordedAndTheRunGoesOn()
    {
        // In-process, as `noether reproduce` runs: an unknown option fails at parse time, the next step still runs.
        ReproduceStep[] steps =
        [
            new("broken", "orbit", ["--no-such-option"], ["--no-such-option"], ["--no-such-option"]),
            new("symmetry-check", "symmetry-check", ["--no-sweep", "--draws", "4"], [], []),
        ];
        // The parse error goes to this process's Console.Error: not while another test captures it.
        int exit;
        await CliRunner.InProcessGate.WaitAsync();
        try
        {
            exit = await ReproduceRunner.RunPlan(_dir, "quick", steps, Program.BuildRoot, CancellationToken.None);
        }
        finally
        {
            CliRunner.InProcessGate.Release();
        }
        Assert.Equal(ReproduceRunner.StepFailedExitCode, exit);

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "summary.json")));
        var recorded = doc.RootElement.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(["broken", "symmetry-check"], recorded.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("Failed", recorded[0].GetProperty("status").GetString());
        Assert.NotEqual(0, recorded[0].GetProperty("exitCode").GetInt32());
        Assert.Contains("--no-such-option", recorded[0].GetProperty("error").GetString());
        Assert.Equal("Ok", recorded[1].GetProperty("status").GetString());
        Assert.NotEmpty(recorded[1].GetProperty("claims").EnumerateArray());
        Assert.False(doc.RootElement.GetProperty("succeeded").GetBoolean());

        string html = File.ReadAllText(Path.Combine(_dir, "report.html"));
        Assert.Contains("broken <span class=\"fail\">failed</span>", html);
        Assert.Contains("--no-such-option", html);
        Assert.Contains("symmetry-check <span class=\"ok\">ok</span>", html);
    }
}
