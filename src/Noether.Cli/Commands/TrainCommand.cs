using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Experiments;
using Noether.Serialization;
using Spectre.Console;

namespace Noether.Cli.Commands;

/// <summary><c>noether train</c>: trains the SPEC CNN (or, with --model, an imported ONNX model), prints test accuracy per epoch, saves the weights.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Dataset: fashion-mnist or cifar10.", DefaultValueFactory = _ => "fashion-mnist" };
        data.AcceptOnlyFromAmong("fashion-mnist", "cifar10");
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder with the dataset's files (default: the Debian package's folder for Fashion-MNIST)." }.ExistingDirectory();
        var epochs = CommonOptions.PositiveInt("--epochs", "Passes over the training split (the authors trained 10).", 10);
        var batch = CommonOptions.PositiveInt("--batch-size", "Minibatch size.", 128);
        var lr = CommonOptions.PositiveDouble("--lr", "Learning rate (Adam's for the SPEC CNN; the peak of the schedule with --model).", 1e-3);
        var hidden = CommonOptions.PositiveInt("--hidden", "Hidden width h of the layer the group acts on.", 32);
        var channels = CommonOptions.PositiveInt("--channels", "Convolution channels.", 16);
        var limit = new Option<int?>("--train-limit") { Description = "Train on the first N training images only." };
        limit.Validators.Add(r => { if (r.TryGet(out int? v) && v is <= 0) r.AddError("--train-limit must be a positive integer"); });
        var seed = CommonOptions.Seed();
        var output = CommonOptions.Out("results/train");
        var force = CommonOptions.Force();
        var model = new Option<string?>("--model") { Description = "Train this ONNX model (any imported classifier) instead of the SPEC CNN." };
        var modelOptions = new TrainModelCommand.Options();

        var command = new Command("train", "Train the SPEC CNN (conv 3×3 → max-pool 2 → linear h → LeakyReLU → linear) with Adam, or any ONNX classifier with --model; save weights as safetensors.")
        {
            data, dataDir, epochs, batch, lr, hidden, channels, limit, seed, output, force, model,
        };
        foreach (var o in modelOptions.All) command.Options.Add(o);
        CliAction.Set(command, (parse, token) =>
        {
            if (parse.GetValue(model) is { } modelPath)
            {
                var request = TrainModelCommand.Read(parse, modelOptions, modelPath, parse.GetValue(data)!, parse.GetValue(dataDir), parse.GetValue(epochs),
                    parse.GetValue(batch), parse.GetValue(lr), parse.GetValue(seed), parse.GetValue(limit));
                // The result is staged like every command's; checkpoints go beside --out (NAME.checkpoints) so that a failed or
                // cancelled run keeps the completed ones while --out stays as it was.
                string checkpoints = TrainModelCommand.CheckpointFolder(parse.GetValue(output) ?? "");
                int code = OutputFolder.Run(parse.GetValue(output), parse.GetValue(force), token, modelOut => TrainModelCommand.Run(request, modelOut, checkpoints, token));
                if (code == ExitCodes.Ok && Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true);
                return Task.FromResult(code);
            }
            if (modelOptions.GivenWithoutModel(parse) is { } orphan) throw new ArgumentException($"{orphan} needs --model (the SPEC CNN trains with Adam)");
            var settings = new CnnTrainingSettings(parse.GetValue(data)!, parse.GetValue(dataDir), parse.GetValue(epochs), parse.GetValue(batch),
                parse.GetValue(lr), parse.GetValue(seed), parse.GetValue(channels), parse.GetValue(hidden), TrainLimit: parse.GetValue(limit));
            settings.Validate();
            ModelSource.CheckTrainingMemory(settings);
            // Written into a staging folder: a run that fails (missing or corrupt data, Ctrl-C) leaves --out as it was.
            return Task.FromResult(OutputFolder.Run(parse.GetValue(output), parse.GetValue(force), token, outDir =>
            {
                var clock = Stopwatch.StartNew();
                var result = Run(settings, token);
                RequireFinite(result);
                Write(outDir, settings, result, clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    /// <summary>A diverged training (NaN or infinite loss, non-finite weights) fails naming the step; no model file with NaN losses is written.</summary>
    private static void RequireFinite(CnnTrainingResult result)
    {
        foreach (var e in result.Epochs)
            if (!double.IsFinite(e.TrainLoss))
                throw new ArithmeticException(string.Create(CultureInfo.InvariantCulture,
                    $"train: the training loss is {e.TrainLoss} after epoch {e.Epoch} (training diverged; try a smaller --lr); nothing was written"));
        foreach (var p in result.Model.Parameters)
            if (!p.Value.AllFinite())
                throw new ArithmeticException($"train: the trained weights '{p.Name}' have non-finite entries (training diverged; try a smaller --lr); nothing was written");
    }

    private static CnnTrainingResult Run(CnnTrainingSettings settings, CancellationToken token)
    {
        var console = CliAction.Out;
        console.MarkupLine($"Training the SPEC CNN on [bold]{settings.Dataset}[/]: {settings.Epochs} epochs, batch {settings.BatchSize}, Adam lr {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}, seed {settings.Seed}");
        if (!console.Profile.Capabilities.Interactive)
        {
            return CnnTraining.Run(settings, new InlineProgress<CnnTrainingProgress>(p =>
            {
                if (p.Finished is { } e) console.WriteLine(EpochLine(e));
            }), token);
        }
        CnnTrainingResult? result = null;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                ProgressTask? task = null;
                result = CnnTraining.Run(settings, new InlineProgress<CnnTrainingProgress>(p =>
                {
                    task ??= ctx.AddTask($"epoch {p.Epoch}/{p.Epochs}", maxValue: p.Batches);
                    task.Description = $"epoch {p.Epoch}/{p.Epochs}  loss {p.MeanLoss:F4}";
                    task.Value = p.Batch;
                    if (p.Finished is { } e)
                    {
                        task.StopTask();
                        console.MarkupLine(Markup.Escape(EpochLine(e)));
                        task = null;
                    }
                }), token);
            });
        return result!;
    }

    private static string EpochLine(EpochRecord e) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {e.Epoch}: train loss {e.TrainLoss:F4}, test accuracy {e.TestAccuracy * 100:F2}% ({e.Seconds:F1} s)");

    private static void Write(string outDir, CnnTrainingSettings settings, CnnTrainingResult result, TimeSpan elapsed)
    {
        var model = result.Model;
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["noether.arch"] = $"spec-cnn:in={model.InChannels},size={model.ImageSize},channels={settings.Channels},hidden={settings.Hidden},classes={model.Output.OutFeatures},slope={settings.LeakySlope.ToString(CultureInfo.InvariantCulture)}",
            ["noether.dataset"] = settings.Dataset,
            ["noether.test_accuracy"] = result.FinalTestAccuracy.ToString("R", CultureInfo.InvariantCulture),
        };
        string weights = Path.Combine(outDir, "model.safetensors");
        SafeTensors.Write(weights, model.Parameters.Select(p => (p.Name, p.Value)), metadata);

        var csv = new CsvTable("epoch", "train_loss", "test_accuracy", "seconds");
        foreach (var e in result.Epochs) csv.AddRow(e.Epoch, e.TrainLoss, e.TestAccuracy, e.Seconds);
        csv.Save(Path.Combine(outDir, "training.csv"));

        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "train",
            settings,
            trainImages = result.TrainCount,
            testImages = result.TestCount,
            trainSource = result.TrainSource,
            testSource = result.TestSource,
            epochs = result.Epochs,
            finalTestAccuracy = result.FinalTestAccuracy,
            wallSeconds = elapsed.TotalSeconds,
            peakWorkingSetMiB = peak / (1024.0 * 1024.0),
            claims = new[]
            {
                SymmetryClaims.TrainCnn.Measure(
                    string.Create(CultureInfo.InvariantCulture, $"test accuracy {result.FinalTestAccuracy * 100:F2}% on the {result.TestCount} {settings.Dataset} test images after {result.Epochs.Count} epoch{(result.Epochs.Count == 1 ? "" : "s")} (batch {settings.BatchSize}, h = {settings.Hidden}); {elapsed.TotalSeconds:F1} s"),
                    "the paper's CIFAR-10 cannot be downloaded here; Fashion-MNIST is the default data (see the corrections)"),
            },
            figures = new[]
            {
                new FigureRef("training.png", null, "Test accuracy (left axis) and mean training loss (right axis) after each epoch of the Appendix H CNN."),
            },
        });

        var plot = Figure.Create($"SPEC CNN on {settings.Dataset}", "epoch", "test accuracy (%)");
        var xs = result.Epochs.Select(e => (double)e.Epoch).ToArray();
        var acc = plot.Add.Scatter(xs, result.Epochs.Select(e => e.TestAccuracy * 100).ToArray());
        acc.LegendText = "test accuracy";
        var lossAxis = plot.Axes.Right;
        var loss = plot.Add.Scatter(xs, result.Epochs.Select(e => e.TrainLoss).ToArray());
        loss.Axes.YAxis = lossAxis;
        loss.LegendText = "train loss";
        lossAxis.Label.Text = "train loss (cross-entropy)";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.ShowLegend(ScottPlot.Alignment.MiddleRight);
        Figure.Save(plot, Path.Combine(outDir, "training.png"));

        CliAction.Out.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"[green]test accuracy {result.FinalTestAccuracy * 100:F2}%[/] after {result.Epochs.Count} epochs; wall {elapsed.TotalSeconds:F1} s; peak memory {peak / (1024.0 * 1024.0):F0} MiB"));
        ExperimentConsole.Line($"wrote {weights}, training.csv, summary.json, training.png");
    }
}
