using System.CommandLine;
using Spectre.Console;

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
    // Ctrl-C (SIGINT) and SIGTERM cancel the body's token through handlers installed here, for as long as the body runs:
    // the body computes synchronously inside the action, before System.CommandLine would install its own handler, so
    // without these the default signal handling killed the process with no "cancelled" line and left behind the folder
    // the run had created. A second signal terminates at once (a body that does not check its token can still be stopped).
    public static void Set(Command command, Func<ParseResult, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, token) =>
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(token);
            void OnSignal(System.Runtime.InteropServices.PosixSignalContext context)
            {
                if (cancel.IsCancellationRequested) return;
                context.Cancel = true;
                cancel.Cancel();
            }
            using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, OnSignal);
            using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, OnSignal);
            return await Run(() => body(parse, cancel.Token));
        });

    public static void Set(Command command, Func<ParseResult, int> body) =>
        command.SetAction((parse, _) => Run(() => Task.FromResult(body(parse))));

    private static async Task<int> Run(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (OperationCanceledException)
        {
            Error("cancelled; no partial results were written");
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or FormatException
                                       or InvalidDataException or InvalidOperationException or ArithmeticException)
        {
            // ArgumentException appends " (Parameter 'name')" and ArgumentOutOfRangeException a line "Actual value was …" to its
            // message: noise next to a message that already names the input and its value.
            Error(e is ArgumentException ? OneLine(e) : e.Message);
            return ExitCodes.BadInput;
        }
        catch (Exception e)
        {
            Error($"internal error ({e.GetType().Name}): {e.Message}");
            if (Environment.GetEnvironmentVariable("NOETHER_DEBUG") == "1") Console.Error.WriteLine(e);
            else Console.Error.WriteLine("(set NOETHER_DEBUG=1 for details)");
            return ExitCodes.Internal;
        }
    }

    private static string OneLine(Exception e)
    {
        string line = e.Message.Split('\n')[0].TrimEnd('\r');
        // A message that wraps an inner one ("--weights F: …") carries the inner exceptions' suffixes too.
        for (var x = e; x is not null; x = x.InnerException)
            if (x is ArgumentException { ParamName: { } name }) line = line.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        return line;
    }

    public static void Error(string message) => Console.Error.WriteLine($"noether: error: {message}");

    /// <summary>The console for tables and progress (plain text when not a terminal).</summary>
    public static IAnsiConsole Out { get; } = CreateConsole();

    private static IAnsiConsole CreateConsole()
    {
        var console = AnsiConsole.Console;
        // Redirected output (logs, CI) would otherwise be wrapped at Spectre's default of 80 columns.
        if (Console.IsOutputRedirected) console.Profile.Width = 160;
        return console;
    }
}
