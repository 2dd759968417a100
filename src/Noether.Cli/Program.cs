using System.CommandLine.Help;

namespace Noether.Cli;

internal static class Program
{
    // Ctrl-C/SIGTERM are handled by CliAction (its own PosixSignal handlers cancel the action's token, so the action can
    // remove what it created); System.CommandLine's handler would force an exit after its timeout instead.
    private static async Task<int> Main(string[] args)
    {
        var root = BuildRoot();
        var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parse.Errors.Count > 0)
        {
            // One line on stderr, as for every other bad input (System.CommandLine would print each error on its own
            // lines, "Must be one of:" lists over several, and the whole help text after them).
            string problems = string.Join("; ", parse.Errors.Select(Describe));
            string help = parse.CommandResult.Command == root ? "noether --help" : $"noether {parse.CommandResult.Command.Name} --help";
            CliAction.Error($"{problems} (see '{help}')");
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
    }

    /// <summary>
    /// The root command with every sub-command. <c>noether reproduce</c> builds a fresh root per step and invokes it
    /// in-process, so a step runs through exactly the parse/validate/invoke path a user's command line takes.
    /// </summary>
    public static Command BuildRoot()
    {
        // A plain root named "noether" (RootCommand would take the assembly's name, Noether.Cli).
        var root = new Command("noether", "Noether: chart the flat minima of neural networks with the symmetries of their parameter space and the conserved quantities of gradient flow.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        foreach (var command in CommandCatalog.All(BuildRoot)) root.Subcommands.Add(command);
        return root;
    }

    /// <summary>A parse error on one line, prefixed with the option it concerns when the message does not name it.</summary>
    private static string Describe(System.CommandLine.Parsing.ParseError error)
    {
        string message = string.Join(' ', error.Message.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.');
        string? option = error.SymbolResult switch
        {
            System.CommandLine.Parsing.OptionResult o => o.Option.Name,
            System.CommandLine.Parsing.ArgumentResult { Parent: System.CommandLine.Parsing.OptionResult o } => o.Option.Name,
            _ => null,
        };
        return option is not null && !message.Contains(option, StringComparison.Ordinal) ? $"{option}: {message}" : message;
    }
}
