using System.Diagnostics;

namespace Noether.Tests.Cli;

/// <summary>Runs the real <c>noether</c> command (Noether.Cli.dll next to the tests) in a child process.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Noether.Cli.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        info.Environment.Remove("NOETHER_DEBUG");
        if (environment is not null) foreach (var (k, v) in environment) info.Environment[k] = v;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"noether {string.Join(' ', args)} did not finish");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The failure contract: non-zero exit, a short stderr naming <paramref name="mentions"/>, no stack trace.</summary>
    public static void AssertCleanFailure(Result r, params string[] mentions)
    {
        Assert.NotEqual(0, r.ExitCode);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Exception:", r.Stderr);
        foreach (var m in mentions) Assert.Contains(m, r.Stderr + r.Stdout, StringComparison.OrdinalIgnoreCase);
    }
}
