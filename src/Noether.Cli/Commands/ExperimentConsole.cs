namespace Noether.Cli.Commands;

/// <summary>
/// Runs a library experiment (Settings → Result, reporting <see cref="ExperimentProgress"/>) under a progress display:
/// a Spectre progress bar on a terminal, plain "… 40%" lines otherwise. Experiments may report from worker threads
/// (drift runs in parallel) while Spectre's progress is not thread-safe, so the bar is refreshed from one thread by
/// polling the latest report.
/// </summary>
internal static class ExperimentConsole
{
    public static T Run<T>(string description, Func<IProgress<ExperimentProgress>, CancellationToken, T> run, CancellationToken token)
    {
        var console = CliAction.Out;
        if (!console.Profile.Capabilities.Interactive)
        {
            var gate = new object();
            int lastDecile = -1;
            var plain = new InlineProgress<ExperimentProgress>(p =>
            {
                int decile = (int)Math.Floor(p.Fraction * 10 + 1e-9);
                lock (gate)
                {
                    if (decile <= lastDecile) return;
                    lastDecile = decile;
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{description}: {decile * 10}% ({p.Stage})"));
                }
            });
            return Cancellable(() => run(plain, token), token);
        }

        ExperimentProgress? latest = null;
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: 1);
                var work = Task.Run(() => run(new InlineProgress<ExperimentProgress>(p => Volatile.Write(ref latest, p)), token), token);
                while (!work.IsCompleted)
                {
                    token.ThrowIfCancellationRequested(); // see Cancellable
                    Refresh(task, Volatile.Read(ref latest), description);
                    Thread.Sleep(100);
                }
                Refresh(task, Volatile.Read(ref latest), description);
                result = work.GetAwaiter().GetResult(); // rethrows the experiment's own exception
                task.Value = 1;
                task.StopTask();
            });
        return result;
    }

    /// <summary>
    /// Runs <paramref name="run"/> on a worker and returns its result, or throws <see cref="OperationCanceledException"/> as
    /// soon as <paramref name="token"/> is cancelled. Experiments check the token between items, but one item can be a
    /// single long library call (an SVD of a 10⁴-column matrix in orbit takes seconds): the run stops waiting for it, the
    /// worker only computes (every write happens after this returns) and ends with the process.
    /// </summary>
    private static T Cancellable<T>(Func<T> run, CancellationToken token)
    {
        var work = Task.Run(run, token);
        Task.WaitAny([work], token);
        return work.GetAwaiter().GetResult(); // the experiment's own exception, unwrapped
    }

    private static void Refresh(ProgressTask task, ExperimentProgress? p, string description)
    {
        if (p is null) return;
        task.Value = p.Fraction;
        task.Description = Markup.Escape($"{description}: {p.Stage}");
    }

    /// <summary>Writes a table; when the output is not a terminal (a file, CI) it is rendered wide instead of wrapped at 80 columns.</summary>
    public static void Write(Table table)
    {
        Widen();
        CliAction.Out.Write(table);
    }

    /// <summary>
    /// Writes one line of plain text (no markup), unwrapped when the output is not a terminal. A run's staging folder in
    /// the text is shown as the --out it will replace ("wrote … to DIR").
    /// </summary>
    public static void Line(string text)
    {
        Widen();
        if (CliRun.Current is { } run) text = run.Show(text);
        CliAction.Out.MarkupLine(Markup.Escape(text));
    }

    private static void Widen()
    {
        var console = CliAction.Out;
        if (!console.Profile.Capabilities.Interactive && console.Profile.Width < 200) console.Profile.Width = 200;
    }

    /// <summary>"[green]pass[/]" or "[red]FAIL[/]".</summary>
    public static string Verdict(bool pass) => pass ? "[green]pass[/]" : "[red]FAIL[/]";

    /// <summary><see cref="Format.Sci"/>, for callers not yet switched to <see cref="Format"/>.</summary>
    public static string Sci(double v) => Format.Sci(v);

    /// <summary><see cref="Format.Fixed"/>, for callers not yet switched to <see cref="Format"/>.</summary>
    public static string Fixed(double v, int digits = 3) => Format.Fixed(v, digits);

    /// <summary>The claims of a run as a table: predicted vs measured and the verdict.</summary>
    public static void ClaimTable(IReadOnlyList<Claim> claims)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Claims: predicted vs measured")
            .AddColumn("claim").AddColumn("source").AddColumn("predicted").AddColumn("measured").AddColumn("verdict");
        foreach (var c in claims)
        {
            string verdict = c.Verdict switch
            {
                Noether.Experiments.Verdict.Reproduced => "[green]reproduced[/]",
                Noether.Experiments.Verdict.Corrected => "[green]corrected[/]",
                Noether.Experiments.Verdict.Partial => "[yellow]partial[/]",
                Noether.Experiments.Verdict.Measured => "measured",
                Noether.Experiments.Verdict.Passed => "[green]passed (own check)[/]",
                Noether.Experiments.Verdict.Failed => "[red]failed (own check)[/]",
                _ => "[red]not reproduced[/]",
            };
            table.AddRow(Markup.Escape(c.Id), Markup.Escape(c.Source), Markup.Escape(c.Predicted), Markup.Escape(c.Measured), verdict);
        }
        Write(table);
    }

    /// <summary>
    /// Runs a training loop under a per-epoch progress bar on a terminal; without one, only the line of each finished epoch.
    /// </summary>
    public static TResult Epochs<TResult>(Func<IProgress<EpochProgress>, TResult> run)
    {
        var console = CliAction.Out;
        if (!console.Profile.Capabilities.Interactive)
            return run(new InlineProgress<EpochProgress>(p =>
            {
                if (p.FinishedLine is { } line) console.WriteLine(line);
            }));
        TResult result = default!;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                ProgressTask? task = null;
                result = run(new InlineProgress<EpochProgress>(p =>
                {
                    task ??= ctx.AddTask($"epoch {p.Epoch}/{p.Epochs}", maxValue: p.Batches);
                    task.Description = p.Description;
                    task.Value = p.Batch;
                    if (p.FinishedLine is { } line)
                    {
                        task.StopTask();
                        console.MarkupLine(Markup.Escape(line));
                        task = null;
                    }
                }));
            });
        return result;
    }
}

/// <summary>One progress report of a training loop as <see cref="ExperimentConsole.Epochs"/> shows it.</summary>
/// <param name="Epoch">Current epoch (1-based).</param>
/// <param name="Epochs">Epochs in all.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Description">The bar's text.</param>
/// <param name="FinishedLine">The line of an epoch that has just finished, else null.</param>
internal readonly record struct EpochProgress(int Epoch, int Epochs, int Batch, int Batches, string Description, string? FinishedLine);
