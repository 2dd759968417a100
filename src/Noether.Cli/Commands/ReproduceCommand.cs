using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text;
using Noether.Cli.Report;
using Noether.Experiments;
using Noether.Serialization;
using Spectre.Console;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether reproduce</c>: runs every step of <see cref="ReproducePlan"/> in-process, through the same parse/validate/invoke
/// path as a typed command (<c>noether STEP ARGS --out DIR/STEP --force</c>), then gathers each step's summary.json
/// (claims and figures, the report contract) into DIR/report.html and DIR/summary.json. A failing step is recorded and the
/// run goes on; the exit code is <see cref="StepFailedExitCode"/> when any step failed.
/// </summary>
internal static class ReproduceCommand
{
    /// <summary>Exit code when the run finished but at least one step failed (the report says which and why).</summary>
    public const int StepFailedExitCode = 3;

    public static Command Create()
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
            string outDir = ExperimentConsole.PrepareOutput(parse.GetValue(output)!, parse.GetValue(force), out bool created);
            return await RunPlan(outDir, created, profileName, steps, token);
        });
        return command;
    }

    /// <summary>Runs <paramref name="steps"/> into <paramref name="outDir"/> (prepared by the caller) and writes the report; the exit code of the run.</summary>
    internal static async Task<int> RunPlan(string outDir, bool created, string profile, IReadOnlyList<ReproduceStep> steps, CancellationToken token)
    {
        var console = CliAction.Out;
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var outcomes = new List<StepOutcome>();
        var newDirs = new List<string>();
        ExperimentConsole.Line($"noether reproduce, profile {profile}: {steps.Count} steps ({string.Join(", ", steps.Select(s => s.Name))}) into {outDir}");
        // Ctrl-C: System.CommandLine ends the process shortly after cancelling the token even while a step is still
        // running, so the clean-up runs from the cancellation itself, not only from the catch below.
        int cleaned = 0;
        void CleanUp()
        {
            if (Interlocked.Exchange(ref cleaned, 1) == 1) return;
            string[] dirs;
            lock (newDirs) dirs = [.. newDirs];
            foreach (var dir in dirs)
            {
                try
                {
                    if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A step may be writing into it as it dies; the catch below tries again.
                    Interlocked.Exchange(ref cleaned, 0);
                }
            }
            try
            {
                if (created && Directory.Exists(outDir) && !Directory.EnumerateFileSystemEntries(outDir).Any()) Directory.Delete(outDir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        using var onCancel = token.Register(CleanUp);
        try
        {
            for (int i = 0; i < steps.Count; i++)
            {
                var step = steps[i];
                string stepDir = Path.Combine(outDir, step.Name);
                if (!Directory.Exists(stepDir)) lock (newDirs) newDirs.Add(stepDir);
                console.Write(new Rule(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"step {i + 1} of {steps.Count}: {step.Name} · elapsed {ReportWriter.Duration(clock.Elapsed.TotalSeconds)}"))).LeftJustified());
                var outcome = await RunStep(step, profile, stepDir, token);
                outcomes.Add(outcome);
                // Every step runs in this process: return one step's garbage (datasets, Hessians, ensembles' logits) before
                // the next starts, so that the run's peak memory is the largest step's, not a sum of leftovers.
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                string verdicts = RunQuotes.VerdictCounts(outcome.Claims);
                ExperimentConsole.Line(outcome.Status == StepStatus.Ok
                    ? string.Create(CultureInfo.InvariantCulture, $"step {i + 1} of {steps.Count}: {step.Name} done in {ReportWriter.Duration(outcome.Seconds)}; claims: {(verdicts.Length == 0 ? "none" : verdicts)}")
                    : string.Create(CultureInfo.InvariantCulture, $"step {i + 1} of {steps.Count}: {step.Name} FAILED after {ReportWriter.Duration(outcome.Seconds)}: {FirstLine(outcome.Error)}"));
            }
        }
        catch (OperationCanceledException e)
        {
            // Remove what this run started (the step folders it created, the run folder if it created it); keep what was there before.
            Interlocked.Exchange(ref cleaned, 0);
            CleanUp();
            // A step that saw the cancellation has said so already: one line on stderr, not two.
            if (e is not StepCancelledException) CliAction.Error("cancelled; no report was written and the step folders this run created were removed");
            return ExitCodes.Cancelled;
        }
        onCancel.Dispose();

        var summary = new ReproduceSummary("reproduce", profile, started, MachineInfo.Current(), clock.Elapsed.TotalSeconds, MachineInfo.PeakMemoryBytes(),
            outcomes.All(o => o.Status == StepStatus.Ok), ReproduceSummary.CountVerdicts(outcomes), outcomes, SpecCorrections.All);
        ResultJson.Write(Path.Combine(outDir, "summary.json"), summary);
        string report = Path.Combine(outDir, "report.html");
        AtomicFile.WriteAllText(report, ReportWriter.Render(summary, outDir));

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"noether reproduce --profile {profile}"))
            .AddColumn("step").AddColumn("status").AddColumn(new TableColumn("seconds").RightAligned()).AddColumn("claims");
        foreach (var o in outcomes)
        {
            string claims = RunQuotes.VerdictCounts(o.Claims);
            table.AddRow(Markup.Escape(o.Name), o.Status == StepStatus.Ok ? "[green]ok[/]" : "[red]failed[/]", o.Seconds.ToString("F1", CultureInfo.InvariantCulture),
                Markup.Escape(o.Status == StepStatus.Ok ? claims : FirstLine(o.Error)));
        }
        ExperimentConsole.Write(table);
        var tally = ClaimTally.Of(summary.Verdicts);
        ExperimentConsole.Line(tally.PaperText);
        ExperimentConsole.Line($"{tally.OwnText} (never counted as reproduced); {tally.Measured} measurements (not judged)");
        // Recomputed after the writes: rendering embeds every PNG, which may itself raise the peak.
        long peak = MachineInfo.PeakMemoryBytes();
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"wall time {ReportWriter.Duration(clock.Elapsed.TotalSeconds)} ({clock.Elapsed.TotalSeconds:F1} s); peak memory {ReportWriter.Mib(peak)}; {outcomes.Count(o => o.Status == StepStatus.Ok)} of {outcomes.Count} steps succeeded"));
        ExperimentConsole.Line($"report: {report}");
        ExperimentConsole.Line($"summary: {Path.Combine(outDir, "summary.json")}");
        return summary.Succeeded ? ExitCodes.Ok : StepFailedExitCode;
    }

    private static string FirstLine(string? text) => text is null ? "" : text.Split('\n')[0].Trim();

    /// <summary>Runs one step through a fresh root command, capturing its stderr (kept on the terminal too) for the report.</summary>
    private static async Task<StepOutcome> RunStep(ReproduceStep step, string profile, string stepDir, CancellationToken token)
    {
        string[] args = step.CommandLine(profile, stepDir);
        var captured = new StringWriter(CultureInfo.InvariantCulture);
        var originalError = Console.Error;
        var tee = new TeeWriter(originalError, captured);
        var clock = Stopwatch.StartNew();
        int exit;
        Console.SetError(tee);
        try
        {
            var root = Program.BuildRoot();
            // No ProcessTerminationTimeout: the outer invocation already owns Ctrl-C and passes its token down.
            var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null, Error = tee };
            exit = await root.Parse(args).InvokeAsync(config, token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            exit = ExitCodes.Internal;
            tee.WriteLine($"noether: error: internal error ({e.GetType().Name}): {e.Message}");
        }
        finally
        {
            Console.SetError(originalError);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        if (exit == ExitCodes.Cancelled) throw new StepCancelledException();
        token.ThrowIfCancellationRequested();
        string stderr = captured.ToString().Trim();
        if (exit != ExitCodes.Ok)
            return new StepOutcome(step.Name, args, StepStatus.Failed, exit, seconds, stderr.Length > 0 ? stderr : $"exit code {exit}", [], []);
        try
        {
            var (claims, figures) = StepSummaryReader.Read(stepDir, step.Name);
            return new StepOutcome(step.Name, args, StepStatus.Ok, exit, seconds, null, claims, figures);
        }
        catch (InvalidDataException e)
        {
            return new StepOutcome(step.Name, args, StepStatus.Failed, exit, seconds, e.Message, [], []);
        }
    }

    /// <summary>A step ended by Ctrl-C, having reported it on stderr itself.</summary>
    private sealed class StepCancelledException : OperationCanceledException;

    /// <summary>Writes to two writers: the terminal's stderr and the capture for the report.</summary>
    private sealed class TeeWriter(TextWriter first, TextWriter second) : TextWriter
    {
        public override Encoding Encoding => first.Encoding;

        public override void Write(char value)
        {
            first.Write(value);
            second.Write(value);
        }

        public override void Write(string? value)
        {
            first.Write(value);
            second.Write(value);
        }

        public override void WriteLine(string? value)
        {
            first.WriteLine(value);
            second.WriteLine(value);
        }

        public override void Flush()
        {
            first.Flush();
            second.Flush();
        }
    }
}
