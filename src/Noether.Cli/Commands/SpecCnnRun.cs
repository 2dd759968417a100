using Noether.Data;

namespace Noether.Cli.Commands;

/// <summary>
/// One run of <c>noether ensemble</c> or <c>noether attack</c>: the model (the SPEC CNN from --weights, the cache in --out or
/// a training run; or an imported graph from --model), its data, and the staged output folder.
/// </summary>
/// <param name="OutDir">The staging folder of --out.</param>
/// <param name="Model">The model and where it came from.</param>
/// <param name="Train">The training split.</param>
/// <param name="Test">The test split.</param>
/// <param name="Hidden">The model's hidden width h.</param>
/// <param name="Clock">Started when the output folder was taken.</param>
internal sealed record SpecCnnRun(string OutDir, LoadedModel Model, ImageDataset Train, ImageDataset Test, int Hidden, Stopwatch Clock)
{
    /// <summary>
    /// Checks everything that can be refused before --out is touched — the data and --weights, <paramref name="validate"/>
    /// with the model's hidden width h, the member count, a shard beyond the grid — then, in the staged --out, takes the model
    /// and runs <paramref name="experiment"/>.
    /// </summary>
    public static Task<int> Start(ParseResult parse, RunOptions run, CancellationToken token, CnnTrainingSettings training, string? weightsPath, double? slope,
        Action<int> validate, int members, Shard? shard, Func<int> gridSize, Func<SpecCnnRun, int> experiment)
    {
        var (train, test, fromWeights, hidden) = ModelSource.Prepare(training, weightsPath, slope);
        validate(hidden);
        ModelSource.CheckMembers(members, hidden, fromWeights?.Conv.OutChannels ?? training.Channels, test, training.Dataset);
        shard?.ItemsOf(gridSize()); // more shards than grid items: refused before training
        return run.Write(parse, token, outDir =>
        {
            var clock = Stopwatch.StartNew();
            var model = ModelSource.Resolve(fromWeights, weightsPath, outDir, training, train, test, token);
            return experiment(new SpecCnnRun(outDir, model, train, test, hidden, clock));
        });
    }

    /// <summary>
    /// The same for an imported model (--model): checks the data, the graph's head and input shape, <paramref name="validate"/>
    /// with its hidden width, the member count and a shard beyond the grid before --out is touched; nothing is trained or saved.
    /// </summary>
    public static Task<int> StartImported(ParseResult parse, RunOptions run, CancellationToken token, CnnTrainingSettings training, string modelPath,
        Action<int> validate, int members, Shard? shard, Func<int> gridSize, Func<SpecCnnRun, int> experiment)
    {
        var (train, test) = SpecCnnSource.LoadData(training.Dataset, training.DataDirectory, "--data");
        var (model, graph) = ModelSource.Imported(modelPath, test, $"--data {training.Dataset}");
        validate(model.Hidden);
        ModelSource.CheckMembers(members, model, graph, test, training.Dataset);
        shard?.ItemsOf(gridSize());
        return run.Write(parse, token, outDir => experiment(new SpecCnnRun(outDir, new LoadedModel(model, $"model {modelPath}", null, false),
            train, test, model.Hidden, Stopwatch.StartNew())));
    }

    /// <summary>Saves a freshly trained model into --out (the next run's cache) and says what summary.json reports of it.</summary>
    public EnsembleModelInfo SaveModel()
    {
        if (Model.NeedsSaving) SpecCnnSource.Save(OutDir, Model.Model.Network!, Model.Training!);
        return EnsembleModelInfo.Of(Model);
    }

    /// <summary>The model as every shard reports it: a shard rerun on its cached model has the model every other shard trained, "trained" for all.</summary>
    public EnsembleModelInfo ForShards(EnsembleModelInfo info) => info with { Saved = false, Origin = Model.Training is null ? info.Origin : "trained" };
}
