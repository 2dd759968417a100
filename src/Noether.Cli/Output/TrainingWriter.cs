using System.Numerics;
using Noether.Autodiff;
using Noether.Conservation;
using Noether.Data;
using Noether.Graphs;
using Noether.Interop;

namespace Noether.Cli.Output;

/// <summary>What <c>noether train</c> leaves: the trained weights, training.csv, training.png and summary.json, for the SPEC CNN and for an imported model.</summary>
internal static class TrainingWriter
{
    /// <summary>The SPEC CNN's model.safetensors (with the noether.arch metadata), training.csv, training.png and summary.json.</summary>
    public static void WriteCnn(string outDir, CnnTrainingSettings settings, CnnTrainingResult result, TimeSpan elapsed)
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

        EpochsCsv(result.Epochs, Path.Combine(outDir, "training.csv"));

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

        TrainingFigures.Curve(result.Epochs, $"SPEC CNN on {settings.Dataset}", Path.Combine(outDir, "training.png"));

        CliAction.Out.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"[green]test accuracy {result.FinalTestAccuracy * 100:F2}%[/] after {result.Epochs.Count} epochs; wall {elapsed.TotalSeconds:F1} s; peak memory {peak / (1024.0 * 1024.0):F0} MiB"));
        ExperimentConsole.Line($"wrote {weights}, training.csv, summary.json, training.png");
    }

    /// <summary>
    /// An imported model after training: model.onnx (the graph with the trained initializers, running statistics included),
    /// model.safetensors under the state_dict names, training.csv, training.png and summary.json.
    /// </summary>
    public static void WriteModel<T>(string outDir, OnnxModel onnx, Graph<T> graph, TrainModelCommand.Request request, ImageDataset train, ImageDataset test,
        GraphTrainingResult result, TimeSpan elapsed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = request.Settings;
        string modelOut = ImportedModelTraining.SaveModel(onnx, graph, outDir);

        EpochsCsv(result.Epochs, Path.Combine(outDir, "training.csv"));
        var monitor = result.Monitored.Count == 0 ? null : SiteMonitorSummary.Of(result.Monitored);
        if (monitor is not null) MonitorCsv(result.Monitored, Path.Combine(outDir, "monitor.csv"));
        var teleports = result.Teleports is { } records && request.Teleport is { } teleport ? TeleportTrainingWriter.Summary(teleport, records) : null;
        if (teleports is not null) TeleportTrainingWriter.Csv(result.Teleports!, Path.Combine(outDir, "teleports.csv"));
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "train",
            model = Path.GetFullPath(request.ModelPath),
            precision = request.Float64 ? "float64" : "float32",
            settings = s,
            data = request.TrainFile is null ? request.Dataset : "files",
            trainSource = train.Source,
            testSource = test.Source,
            trainSamples = result.TrainCount,
            testSamples = result.TestCount,
            steps = result.Steps,
            epochs = result.Epochs,
            finalTestAccuracy = result.FinalTestAccuracy,
            checkpointEvery = request.CheckpointEvery,
            monitorEvery = request.Monitor,
            monitor,
            teleports,
            wallSeconds = elapsed.TotalSeconds,
            peakWorkingSetMiB = peak / (1024.0 * 1024.0),
            figures = monitor is null
                ? new[] { new FigureRef("training.png", null, "Test accuracy (left axis) and mean training loss (right axis) after each epoch.") }
                : [new FigureRef("training.png", null, "Test accuracy (left axis) and mean training loss (right axis) after each epoch."),
                    new FigureRef("monitor.png", null, "Median relative miss per kept step of the per-step identity and the modified-equation integral; one generator per site kind, measured against both predictions (docs/monitor.md).")],
        });
        TrainingFigures.Curve(result.Epochs, $"{Path.GetFileName(request.ModelPath)}: {s.Optimizer}", Path.Combine(outDir, "training.png"));
        if (monitor is not null) ModelReportFigures.Monitor(TrainingRunRecord.Of(outDir, result.Epochs, result.Monitored, null), Path.Combine(outDir, "monitor.png"));
        CliAction.Out.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"[green]test accuracy {result.FinalTestAccuracy * 100:F2}%[/] after {result.Epochs.Count} epochs ({result.Steps} steps); wall {elapsed.TotalSeconds:F1} s; peak memory {peak / (1024.0 * 1024.0):F0} MiB"));
        if (monitor is not null)
            ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                $"monitor: {monitor.Generators} generators over {monitor.Steps} kept steps; per-step identity median relative miss {monitor.MedianIdentityRelative:E2} (max {monitor.MaxIdentityRelative:E2}), modified-equation integral {monitor.MedianIntegralRelative:E2}, breaking term {monitor.MedianBreakingRelative:E2}"));
        if (teleports is not null) ExperimentConsole.Line(TeleportTrainingWriter.Line(result.Teleports!));
        ExperimentConsole.Line($"wrote {modelOut}, model.safetensors, training.csv{(monitor is null ? "" : ", monitor.csv")}{(teleports is null ? "" : ", teleports.csv")}, summary.json, training.png{(monitor is null ? "" : ", monitor.png")}");
    }

    /// <summary>monitor.csv: every kept step's conserved quantities, measured and predicted (docs/monitor.md).</summary>
    private static void MonitorCsv(IReadOnlyList<SiteStep> steps, string path) => MonitorLog.Table(steps).Save(path);

    /// <summary>training.csv: loss, test accuracy and seconds per epoch.</summary>
    private static void EpochsCsv(IReadOnlyList<EpochRecord> epochs, string path) => TrainingRunRecord.EpochTable(epochs).Save(path);
}
