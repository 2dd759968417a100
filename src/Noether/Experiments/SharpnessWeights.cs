using Noether.Autodiff;
using Noether.Data;
using Noether.Landscape;
using Noether.Nn;
using Noether.Serialization;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>A saved SPEC CNN (in float64) with the batch its Hessian is taken on.</summary>
/// <param name="Model">The model, converted exactly from the file's precision to float64.</param>
/// <param name="Inputs">The batch [N, C, S, S].</param>
/// <param name="Labels">Its labels.</param>
/// <param name="Dataset">The dataset's name.</param>
/// <param name="DataSource">Where the images came from.</param>
/// <param name="LeakySlope">LeakyReLU's slope (from the file's architecture entry, 0.01 if absent).</param>
/// <param name="FileDType">The stored precision of the weights ("F32", or "F32/F64" when mixed).</param>
public sealed record SharpnessInput(SpecCnn<double> Model, Tensor<double> Inputs, int[] Labels, string Dataset, string DataSource, double LeakySlope, string FileDType)
{
    /// <summary>Images in the batch.</summary>
    public int Samples => Labels.Length;

    /// <summary>The model's parameter count.</summary>
    public int Parameters => Model.Parameters.Sum(p => p.Value.Length);
}

/// <summary>The matrix-free statistics of one Hessian (the whole model or one tensor's diagonal block).</summary>
/// <param name="Block">"model" or the tensor's name.</param>
/// <param name="Shape">The tensor's shape (empty for the model).</param>
/// <param name="Loss">Mean cross-entropy on the batch.</param>
/// <param name="GradientNorm">‖∇L‖ over the block's parameters.</param>
/// <param name="TopKUsed">Eigenvalues asked for (capped at the block's size per tensor).</param>
/// <param name="Result">What <see cref="SharpnessEstimate"/> measured.</param>
public sealed record SharpnessBlock(string Block, int[] Shape, double Loss, double GradientNorm, int TopKUsed, SharpnessEstimateResult Result);

/// <summary>
/// <c>noether sharpness --weights</c>: top eigenvalues (Lanczos), trace (Hutchinson) and spectral density (SLQ) of a saved
/// SPEC CNN's cross-entropy Hessian on the first images of a training split, for the whole model or per tensor.
/// </summary>
public static class SharpnessWeights
{
    /// <summary>
    /// The model of <paramref name="weights"/> and the first <paramref name="samples"/> training images of <paramref name="dataset"/>,
    /// checking that the model fits the data (image channels, image size, classes), with messages naming the file, the
    /// tensor, the expected and the found shape.
    /// </summary>
    /// <exception cref="ArgumentException">The tensors are not a SPEC CNN's, or the model does not fit the data (parameter name "weights").</exception>
    /// <exception cref="ArgumentOutOfRangeException">More samples than the split holds (parameter name "samples").</exception>
    public static SharpnessInput Load(ModelFile weights, string dataset, string? dataDirectory, int samples)
    {
        ArgumentNullException.ThrowIfNull(weights);
        double slope = weights.SpecCnnSlope ?? 0.01;
        SpecCnn<double> model;
        try
        {
            model = weights.SpecCnn<double>(slope);
        }
        catch (ArgumentException e)
        {
            throw Errors.Argument(nameof(weights), e.Message, e);
        }
        var train = dataset == "cifar10" ? Cifar10.Load(dataDirectory, train: true) : FashionMnist.Load(dataDirectory, train: true);
        int features = model.Hidden.InFeatures;
        if (model.InChannels != train.Channels)
            throw Errors.Argument(nameof(weights), $"{weights.Path}: tensor 0.weight has shape {Shape(model.Conv.Weight.Value.ShapeArray)}, i.e. {model.InChannels} image channel(s), but {dataset} images have {train.Channels}: expected [{model.Conv.OutChannels}, {train.Channels}, 3, 3]");
        int expectedFeatures = model.Conv.OutChannels * (train.Height / 2) * (train.Width / 2);
        if (model.ImageSize != train.Height || features != expectedFeatures)
            throw Errors.Argument(nameof(weights), $"{weights.Path}: tensor 3.weight has shape {Shape(model.Hidden.Weight.Value.ShapeArray)}, built for {model.ImageSize}×{model.ImageSize} images, but {dataset} images are {train.Height}×{train.Width}: expected [{model.Hidden.OutFeatures}, {expectedFeatures}]");
        if (model.Output.OutFeatures != train.ClassCount)
            throw Errors.Argument(nameof(weights), $"{weights.Path}: tensor 5.weight has shape {Shape(model.Output.Weight.Value.ShapeArray)}, i.e. {model.Output.OutFeatures} classes, but {dataset} has {train.ClassCount}: expected [{train.ClassCount}, {model.Output.InFeatures}]");
        if (samples > train.Count)
            throw Errors.ArgumentOutOfRange(nameof(samples), samples, $"samples = {samples}: the {dataset} training split has only {train.Count} images");
        var batch = train.Subset(0, samples);
        return new SharpnessInput(model, batch.ImagesAsDouble(), batch.Labels, dataset, train.Source, slope, weights.DTypes);
    }

    private static string Shape(int[] shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>The statistics of the whole Hessian, or of each tensor's diagonal block (the Hessian with respect to that tensor alone, the others fixed).</summary>
    /// <exception cref="ArgumentOutOfRangeException">More top eigenvalues than the model has parameters (parameter name "top k").</exception>
    public static IReadOnlyList<SharpnessBlock> Estimate(SharpnessInput input, bool perLayer, SharpnessEstimateSettings settings, IProgress<SweepProgress>? progress,
        CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(settings);
        var model = input.Model;
        IReadOnlyList<Parameter<double>>?[] scopes = perLayer ? model.Parameters.Select(p => (IReadOnlyList<Parameter<double>>?)[p]).ToArray() : [null];
        var blocks = new List<SharpnessBlock>();
        for (int b = 0; b < scopes.Length; b++)
        {
            var wrt = scopes[b];
            var hessian = ModelHessian.CrossEntropy(model, input.Inputs, input.Labels, wrt);
            // Per tensor a block may be smaller than k (a bias of 10 entries): ask for all of its eigenvalues then.
            var mine = perLayer ? settings with { TopK = Math.Min(settings.TopK, hessian.Dimension) } : settings;
            int done = b;
            var inner = progress is null ? null : new InlineProgress<SweepProgress>(p => progress.Report(new SweepProgress(
                $"{(wrt is null ? "model" : wrt[0].Name)}: {p.Label}", done * 3 + p.Done, scopes.Length * 3)));
            var result = SharpnessEstimate.Run(hessian, mine, inner, token);
            double gradient = Math.Sqrt(hessian.Gradient.Sum(g => TensorOps.Dot(g, g)));
            blocks.Add(new SharpnessBlock(wrt is null ? "model" : wrt[0].Name, wrt is null ? [] : wrt[0].Value.ShapeArray, hessian.Value, gradient, mine.TopK, result));
        }
        return blocks;
    }
}
