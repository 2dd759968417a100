using System.Diagnostics;
using System.Reflection;

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

    /// <summary>
    /// A start of the real <c>noether</c> for the Ctrl-C tests: through <c>env --default-signal=INT</c>, because a
    /// process started from a background job of a non-interactive shell inherits SIGINT as ignored, and .NET then (like
    /// every well-behaved Unix program) leaves it ignored: the run would finish and the test would fail for a reason
    /// that is not the CLI's. A terminal's foreground job has the default disposition, which this restores.
    /// </summary>
    public static ProcessStartInfo Interruptible(IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "Noether.Cli.dll") }) info.ArgumentList.Add(a);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        info.Environment.Remove("NOETHER_DEBUG");
        return info;
    }

    /// <summary>
    /// Held while a test runs <c>noether</c> code in this process: Console.Out and Console.Error are process-wide, so a
    /// run that writes to them (a parse error, a progress line) must not overlap another test's capture.
    /// </summary>
    public static readonly SemaphoreSlim InProcessGate = new(1, 1);

    /// <summary>
    /// Runs <c>noether</c> in this process through the same entry point (Noether.Cli's Main), capturing Console.Out and
    /// Console.Error: about a millisecond instead of a second per case, for suites of parse- and validation-time failures.
    /// Console redirection is process-wide, so runs are serialised; tables written through Spectre's console (created once
    /// per process) may not be captured in <see cref="Result.Stdout"/>. Cases that need a real process (signals,
    /// environment variables, the stack-trace check of an unhandled crash) use <see cref="Run"/>.
    /// </summary>
    public static Result RunInProcess(IReadOnlyList<string> args)
    {
        var entry = Assembly.Load("Noether.Cli").EntryPoint ?? throw new InvalidOperationException("Noether.Cli has no entry point");
        InProcessGate.Wait();
        try
        {
            var (oldOut, oldError) = (Console.Out, Console.Error);
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            Console.SetOut(stdout);
            Console.SetError(stderr);
            try
            {
                int code = (int)entry.Invoke(null, [args.ToArray()])!;
                return new Result(code, stdout.ToString(), stderr.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldError);
            }
        }
        finally
        {
            InProcessGate.Release();
        }
    }

    /// <summary>
    /// The strict failure contract of the bad-input suite: non-zero exit, exactly one non-empty line on stderr, naming
    /// every one of <paramref name="mentions"/>, no stack trace.
    /// </summary>
    public static void AssertOneLineFailure(Result r, params string[] mentions)
    {
        AssertCleanFailure(r);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got {lines.Length}:\n{r.Stderr}");
        Assert.DoesNotContain("(Parameter '", lines[0]); // .NET's suffix, also when a message wraps an inner one
        foreach (var m in mentions) Assert.Contains(m, lines[0], StringComparison.OrdinalIgnoreCase);
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
