using System.Runtime;
using System.Text;

namespace Noether.Cli.Report;

/// <summary>
/// Runs the steps of a reproduce plan in-process, one folder per step, and writes report.html and summary.json from
/// what the steps' summaries say. A failing step is recorded and the run goes on.
/// </summary>
internal static class ReproduceRunner
{
    /// <summary>Exit code when the run finished but at least one step failed (the report says which and why).</summary>
    public const int StepFailedExitCode = 3;

    /// <summary>
    /// Runs <paramref name="steps"/> (each through a fresh root from <paramref name="buildRoot"/>) into <paramref name="outDir"/> (the caller's staging folder, or any folder it owns) and
    /// writes the report; the exit code of the run (<see cref="ExitCodes.Cancelled"/> when a step was cancelled and said so).
    /// </summary>
    internal static async Task<int> RunPlan(string outDir, string profile, IReadOnlyList<ReproduceStep> steps, Func<Command> buildRoot, CancellationToken token)
    {
        var console = CliAction.Out;
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var outcomes = new List<StepOutcome>();
        ExperimentConsole.Line($"noether reproduce, profile {profile}: {steps.Count} steps ({string.Join(", ", steps.Select(s => s.Name))}) into {outDir}");
        try
        {
            for (int i = 0; i < steps.Count; i++)
            {
                var step = steps[i];
                string stepDir = Path.Combine(outDir, step.Name);
                console.Write(new Rule(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"step {i + 1} of {steps.Count}: {step.Name} · elapsed {ReportWriter.Duration(clock.Elapsed.TotalSeconds)}"))).LeftJustified());
                var outcome = await RunStep(step, profile, stepDir, buildRoot, token);
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
        catch (StepCancelledException)
        {
            // The step has said so on stderr (naming what happened to --out): one line, not two. Any other cancellation
            // propagates to CliAction, which says it.
            return ExitCodes.Cancelled;
        }

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
    private static async Task<StepOutcome> RunStep(ReproduceStep step, string profile, string stepDir, Func<Command> buildRoot, CancellationToken token)
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
            var root = buildRoot();
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
        // The step ran in the staging folder; the report records the command line as it reads for --out.
        if (CliRun.Current is { } run) args = [.. args.Select(run.Show)];
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
