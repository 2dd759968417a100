using System.CommandLine;
using System.CommandLine.Help;
using Noether.Cli.Commands;

namespace Noether.Cli;

internal static class Program
{
    // InvokeAsync: the synchronous Invoke never hooks Ctrl-C/SIGTERM to the actions' cancellation token.
    private static Task<int> Main(string[] args) =>
        BuildRoot().Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromSeconds(2) });

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
        foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
        return root;
    }
}
