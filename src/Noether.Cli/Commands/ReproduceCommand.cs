namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether reproduce</c>: runs every step of <see cref="ReproducePlan"/> in-process, through the same parse/validate/invoke
/// path as a typed command (<c>noether STEP ARGS --out DIR/STEP --force</c>), then gathers each step's summary.json
/// (claims and figures, the report contract) into DIR/report.html and DIR/summary.json. A failing step is recorded and the
/// run goes on; the exit code is <see cref="ReproduceRunner.StepFailedExitCode"/> when any step failed.
/// </summary>
internal static class ReproduceCommand
{
    /// <param name="buildRoot">A fresh root command per step (Program.BuildRoot), passed in so that this command does not depend on the catalog that lists it.</param>
    public static Command Create(Func<Command> buildRoot)
    {
        var profile = CommonOptions.Profile("quick (about 20 s on 2 cores), default (about 3 minutes) or full (the paper's sizes everywhere; about 25 minutes, peak memory under 1 GB: docs/reproduce.md).");
        var output = CommonOptions.Out("results/reproduce");
        var force = CommonOptions.Force();
        var only = new Option<string?>("--only") { Description = $"Run only these steps, comma-separated ({string.Join(", ", ReproducePlan.Steps.Select(s => s.Name))})." };
        only.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            var names = r.Tokens[0].Value.Split(',', StringSplitOptions.TrimEntries);
            foreach (var name in names)
                if (!ReproducePlan.Steps.Any(s => s.Name == name))
                    r.AddError($"--only: unknown step '{name}' (expected a comma-separated list of: {string.Join(", ", ReproducePlan.Steps.Select(s => s.Name))})");
        });

        var command = new Command("reproduce", "Run every experiment of the paper (train, drift, xavier, orbit, …) and write report.html (figures next to the paper's claims, predicted vs measured) and summary.json.")
        {
            profile, output, force, only,
        };
        CliAction.Set(command, async (parse, token) =>
        {
            // Return to System.CommandLine at once: it hooks Ctrl-C/SIGTERM to the token only after the action's task is
            // handed back, and every step below runs synchronously.
            await Task.Yield();
            string profileName = parse.GetValue(profile)!;
            var selected = parse.GetValue(only) is { } list ? list.Split(',', StringSplitOptions.TrimEntries).ToHashSet() : null;
            var steps = ReproducePlan.Steps.Where(s => selected is null || selected.Contains(s.Name)).ToArray();
            // The whole run is staged: every step writes into the staging folder (DIR/STEP there), and the report and the
            // step folders replace --out together, only once the run has completed.
            using var folder = OutputFolder.Begin(parse.GetValue(output), parse.GetValue(force));
            int exit = await ReproduceRunner.RunPlan(folder.Staging, profileName, steps, buildRoot, token);
            if (exit == ExitCodes.Cancelled) return exit;
            folder.Commit(token);
            return exit;
        });
        return command;
    }
}
