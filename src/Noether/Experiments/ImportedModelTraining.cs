using Noether.Autodiff;
using Noether.Data;
using Noether.Graphs;
using Noether.Interop;
using Noether.Nn;
using Noether.Symmetry.Census;

namespace Noether.Experiments;

/// <summary>
/// Training an imported ONNX model (<see cref="GraphTraining"/>) with checkpoints written as .onnx and .safetensors every
/// few epochs, so that they outlive a failed run, and optionally every census site's conserved quantity followed.
/// </summary>
public static class ImportedModelTraining
{
    /// <summary>
    /// The census sites to follow when <paramref name="monitorEvery"/> &gt; 0 (of the training graph: batch-statistics
    /// BatchNorm, its scale sites listed, approximate up to ε), else null. A model without a continuous symmetry is refused,
    /// the message starting with <paramref name="monitorName"/>.
    /// </summary>
    public static IReadOnlyList<CensusSite>? MonitorSites(OnnxModel onnx, string modelPath, int monitorEvery, string monitorName)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        var sites = monitorEvery == 0 ? null : SymmetryCensus.Take(onnx.ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Training })).Sites;
        if (sites is { Count: 0 })
            throw Errors.Argument(monitorName, $"{monitorName}: the census of {modelPath} found no continuous symmetry, so there is no conserved quantity to follow");
        return sites;
    }

    /// <summary>
    /// The float64 twin of the model and the exact census sites of its training graph, for teleports inside training
    /// (<see cref="TrainingTeleport{T}"/>). A model with no exact continuous symmetry cannot be teleported: refused, the
    /// message starting with <paramref name="optionName"/> and naming the approximate sites left out, if any.
    /// </summary>
    public static (Graph<double> Twin, IReadOnlyList<CensusSite> Sites) TeleportSites(OnnxModel onnx, string modelPath, string optionName)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        var twin = onnx.ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Training });
        var census = SymmetryCensus.Take(twin);
        var sites = Landscape.GradientNormTeleport.ExactSites(census);
        if (sites.Count == 0)
        {
            string approximate = census.Sites.Count == 0 ? "found no continuous symmetry" :
                $"found only approximate sites ({string.Join("; ", census.Sites.Select(s => $"{s.Location}: {s.Note}"))}), whose groups change the loss";
            throw Errors.Argument(optionName, $"{optionName}: no teleport target is reachable: the census of {modelPath} {approximate}, so there is no group to move along");
        }
        return (twin, sites);
    }

    /// <summary>
    /// The float64 twin of the model and the one census site (index <paramref name="site"/> of its training graph's census)
    /// that teleports to a sharpness move along: it must exist, be exact and have a one-parameter path
    /// (<see cref="Landscape.SiteSharpnessTeleport.Path"/>). Refusals start with <paramref name="optionName"/>.
    /// </summary>
    public static (Graph<double> Twin, IReadOnlyList<CensusSite> Sites) SharpnessTeleportSite(OnnxModel onnx, string modelPath, int site, string optionName)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        var twin = onnx.ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Training });
        var census = SymmetryCensus.Take(twin);
        if (site < 0 || site >= census.Sites.Count)
            throw Errors.Argument(optionName, census.Sites.Count == 0 ? $"{optionName}: the census of {modelPath} found no continuous symmetry to teleport along"
                : $"{optionName} {site} does not exist: the census of {modelPath} has sites 0–{census.Sites.Count - 1}");
        try
        {
            Landscape.SiteSharpnessTeleport.Path(census.Sites[site]);
        }
        catch (ArgumentException e)
        {
            throw Errors.Argument(optionName, $"{optionName} {site}: {Errors.Plain(e)}", e);
        }
        return (twin, [census.Sites[site]]);
    }

    /// <summary>
    /// Trains <paramref name="graph"/> (built from <paramref name="onnx"/>), writing <c>epoch-N.onnx</c> and <c>epoch-N.safetensors</c>
    /// into <paramref name="checkpointDir"/> every <paramref name="checkpointEvery"/> epochs (0: none). A non-finite loss is
    /// reported with the last good checkpoint. With <paramref name="teleport"/> the run teleports inside training. Returns the
    /// result and the last checkpoint written (null when none).
    /// </summary>
    public static (GraphTrainingResult Result, string? LastCheckpoint) Run<T>(OnnxModel onnx, Graph<T> graph, GraphTrainingSettings settings,
        ImageDataset train, ImageDataset test, int[] sampleShape, int checkpointEvery, string checkpointDir, IReadOnlyList<CensusSite>? sites, int monitorEvery,
        IProgress<GraphTrainingProgress>? progress, CancellationToken cancellationToken = default, TrainingTeleport<T>? teleport = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(onnx);
        string? lastCheckpoint = null;
        void EpochDone(EpochRecord e, GraphTrainer<T> trainer)
        {
            if (checkpointEvery > 0 && e.Epoch % checkpointEvery == 0)
            {
                string dir = Directory.CreateDirectory(checkpointDir).FullName;
                string stem = Path.Combine(dir, $"epoch-{e.Epoch}");
                onnx.Save(stem + ".onnx", trainer.State);
                OnnxModel.SaveSafeTensors(stem + ".safetensors", trainer.State);
                lastCheckpoint = stem + ".onnx";
            }
        }
        try
        {
            return (GraphTraining.Run(graph, settings, train, test, sampleShape, EpochDone, progress, cancellationToken, sites, Math.Max(1, monitorEvery), teleport), lastCheckpoint);
        }
        catch (NonFiniteLossException e)
        {
            throw new ArithmeticException($"{e.Message}; {Kept(lastCheckpoint)}", e);
        }
        catch (ArgumentException e) when (e.ParamName == TrainingTeleport<T>.TargetName)
        {
            // A sharpness target a teleport cannot reach stops the run where it stands, as a non-finite loss does.
            throw Errors.Argument(TrainingTeleport<T>.TargetName, $"{Errors.Plain(e)}; {Kept(lastCheckpoint)}", e);
        }
    }

    private static string Kept(string? lastCheckpoint) => lastCheckpoint is null ? "no checkpoint was completed" : "last good checkpoint: " + lastCheckpoint;

    /// <summary>
    /// Saves the trained model into <paramref name="folder"/>: model.onnx (the graph with the trained initializers, BatchNorm
    /// running statistics included) and model.safetensors under the state_dict names. Returns model.onnx's path.
    /// </summary>
    public static string SaveModel<T>(OnnxModel onnx, Graph<T> graph, string folder) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(onnx);
        var state = graph.Parameters.Concat(RunningState(graph)).ToArray();
        string modelOut = Path.Combine(folder, "model.onnx");
        onnx.Save(modelOut, state);
        OnnxModel.SaveSafeTensors(Path.Combine(folder, "model.safetensors"), state);
        return modelOut;
    }

    /// <summary>The running mean and variance of every BatchNormalization node held as real constants, as parameters.</summary>
    internal static IEnumerable<Parameter<T>> RunningState<T>(Graph<T> graph) where T : unmanaged, IFloatingPointIeee754<T> =>
        graph.Nodes.Where(n => n.OpType == "BatchNormalization")
            .SelectMany(n => n.Inputs.Skip(3).Take(2))
            .Distinct()
            .Where(name => graph.Constants.TryGetValue(name, out var c) && c.IsReal)
            .Select(name => new Parameter<T>(name, graph.Constants[name].ToTensor<T>()));

    /// <summary>Copies the checkpoints of <paramref name="checkpointDir"/> into <paramref name="outDir"/>/checkpoints (a completed run's result carries them).</summary>
    public static void CopyCheckpoints(string checkpointDir, string outDir)
    {
        string inResult = Directory.CreateDirectory(Path.Combine(outDir, "checkpoints")).FullName;
        foreach (var f in Directory.EnumerateFiles(checkpointDir, "epoch-*")) File.Copy(f, Path.Combine(inResult, Path.GetFileName(f)));
    }
}
