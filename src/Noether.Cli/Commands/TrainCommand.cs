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
                var loaded = TrainModelCommand.Load(request); // the model, the data and the memory estimate, before --out is touched
                int code = OutputFolder.Run(parse.GetValue(output), parse.GetValue(force), token, modelOut => TrainModelCommand.Run(request, loaded, modelOut, checkpoints, token));
                if (code == ExitCodes.Ok && Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true);
                return Task.FromResult(code);
            }
            if (modelOptions.GivenWithoutModel(parse) is { } orphan) throw Errors.Argument(orphan, $"{orphan} needs --model (the SPEC CNN trains with Adam)");
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
                TrainingWriter.WriteCnn(outDir, settings, result, clock.Elapsed);
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
        CliAction.Out.MarkupLine($"Training the SPEC CNN on [bold]{settings.Dataset}[/]: {settings.Epochs} epochs, batch {settings.BatchSize}, Adam lr {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}, seed {settings.Seed}");
        return ExperimentConsole.Epochs(p => CnnTraining.Run(settings, new InlineProgress<CnnTrainingProgress>(q => p.Report(new EpochProgress(q.Epoch, q.Epochs, q.Batch, q.Batches,
            $"epoch {q.Epoch}/{q.Epochs}  loss {q.MeanLoss:F4}", q.Finished is { } e ? EpochLine(e) : null))), token));
    }

    private static string EpochLine(EpochRecord e) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {e.Epoch}: train loss {e.TrainLoss:F4}, test accuracy {e.TestAccuracy * 100:F2}% ({e.Seconds:F1} s)");
}
