using System.Runtime.InteropServices;

namespace Noether.Cli.Commands;

/// <summary>Exit codes of the <c>noether</c> command.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Usage = 1;
    public const int BadInput = 2;
    public const int Internal = 70;
    public const int Cancelled = 130;
}

/// <summary>
/// Runs a command body so that a user never sees a stack trace: bad input becomes one line on stderr
/// naming the problem and a non-zero exit code; Ctrl-C cancels cleanly.
/// </summary>
internal static class CliAction
{
    // SIGINT (Ctrl-C), SIGTERM and SIGHUP cancel the body's token through handlers installed here, for as long as the
    // body runs: the body computes synchronously inside the action, before System.CommandLine would install its own
    // handler. Results are staged (OutputFolder), so cancelling is removing the staging folder and --out is never touched.
    // A second signal (Ctrl-C twice, `timeout` signalling the process group after the run's own TERM) does not wait for the
    // body: it removes the open staging folders and exits at once with the same message. A command run in-process by
    // another (a step of reproduce) shares the outer run: its token, its handlers, its output folders.
    public static void Set(Command command, Func<ParseResult, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, token) =>
        {
            var run = CliRun.Start(out bool outermost);
            if (!outermost) return await Run(run, nested: true, () => body(parse, token));
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(token);
            int signals = 0;
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                if (Interlocked.Increment(ref signals) == 1)
                {
                    cancel.Cancel();
                    return;
                }
                if (Volatile.Read(ref signals) != 2) return; // a third signal while the second one is cleaning up
                foreach (var folder in run.Open()) folder.Abandon();
                Error($"interrupted again; stopped at once: {run.Outcome() ?? "nothing was written"}");
                Environment.Exit(ExitCodes.Cancelled);
            }
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            using var hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);
            try
            {
                return await Run(run, nested: false, () => body(parse, cancel.Token));
            }
            finally
            {
                CliRun.End();
            }
        });

    public static void Set(Command command, Func<ParseResult, int> body) =>
        command.SetAction((parse, _) => Run(CliRun.Current, nested: true, () => Task.FromResult(body(parse))));

    private static async Task<int> Run(CliRun? run, bool nested, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception raw)
        {
            return Report(run, nested, Unwrap(raw));
        }
    }

    /// <summary>A parallel loop's AggregateException stands for its first inner exception (the one the user's input caused).</summary>
    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException a && a.Flatten().InnerExceptions is { Count: > 0 } inner)
            e = inner.FirstOrDefault(x => x is OperationCanceledException) ?? inner[0];
        return e;
    }

    private static int Report(CliRun? run, bool nested, Exception e)
    {
        if (e is OperationCanceledException)
        {
            Error($"cancelled; {run?.Outcome() ?? "nothing was written"}");
            return ExitCodes.Cancelled;
        }
        if (e is ArgumentException or IOException or UnauthorizedAccessException or FormatException
                 or InvalidDataException or InvalidOperationException or ArithmeticException)
        {
            // ArgumentException appends " (Parameter 'name')" and ArgumentOutOfRangeException a line "Actual value was …" to its
            // message: noise next to a message that already names the input and its value. A message may name a file inside
            // the staging folder: name it inside --out, where the user looks. The outermost run says what became of --out
            // (a step of reproduce does not: the run goes on).
            string message = e is ArgumentException ? Errors.Plain(e) : e.Message;
            if (run is not null) message = run.Show(message);
            if (!nested && run?.Outcome() is { } outcome && !message.Contains(outcome, StringComparison.Ordinal)) message += $" ({outcome})";
            Error(message);
            return ExitCodes.BadInput;
        }
        Error($"internal error ({e.GetType().Name}): {(run is null ? e.Message : run.Show(e.Message))}{(!nested && run?.Outcome() is { } o ? $" ({o})" : "")}");
        if (Environment.GetEnvironmentVariable("NOETHER_DEBUG") == "1") Console.Error.WriteLine(e);
        else Console.Error.WriteLine("(set NOETHER_DEBUG=1 for details)");
        return ExitCodes.Internal;
    }

    /// <summary>One line on stderr: a line break or other control character in the message (a file name) is escaped, not printed.</summary>
    public static void Error(string message) =>
        Console.Error.WriteLine($"noether: error: {(message.Any(char.IsControl) ? string.Concat(message.TrimEnd().Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) : message)}");

    /// <summary>
    /// The console for tables and progress (plain text when not a terminal), writing to the current <see cref="Console.Out"/>:
    /// made again when Console.Out is replaced (the tests run the CLI in-process with their own writer), where Spectre's
    /// shared console would keep writing to the first writer it saw.
    /// </summary>
    public static IAnsiConsole Out
    {
        get
        {
            var writer = Console.Out;
            if (s_out is null || !ReferenceEquals(s_outWriter, writer)) (s_out, s_outWriter) = (CreateConsole(writer), writer);
            return s_out;
        }
    }

    private static IAnsiConsole? s_out;
    private static TextWriter? s_outWriter;

    private static IAnsiConsole CreateConsole(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        // Redirected output (logs, CI) would otherwise be wrapped at Spectre's default of 80 columns.
        if (Console.IsOutputRedirected) console.Profile.Width = 160;
        return console;
    }
}
