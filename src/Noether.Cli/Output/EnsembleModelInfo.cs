namespace Noether.Cli.Output;

/// <summary>What summary.json says about the SPEC CNN an ensemble or attack run used.</summary>
/// <param name="Origin">"trained", "cached FILE" or "weights FILE" (<see cref="LoadedModel.Origin"/>).</param>
/// <param name="Training">The training settings of a trained model.</param>
/// <param name="Classes">Output classes.</param>
/// <param name="Saved">model.safetensors was written into the output folder by this run.</param>
internal sealed record EnsembleModelInfo(string Origin, CnnTrainingSettings? Training, int Classes, bool Saved)
{
    /// <summary>The summary of a model as loaded or trained.</summary>
    public static EnsembleModelInfo Of(LoadedModel model) => new(model.Origin, model.Training, model.Model.Classes, model.NeedsSaving);

    /// <summary>summary.json's "model": where it came from, its size and its single-model test accuracy.</summary>
    public object Json(int hidden, double singleAccuracy) => new { origin = Origin, training = Training, hidden, classes = Classes, singleAccuracy };
}
