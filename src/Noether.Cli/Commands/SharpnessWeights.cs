using System.Globalization;
using Noether.Autodiff;
using Noether.Data;
using Noether.Ensembles;
using Noether.Experiments;
using Noether.Landscape;
using Noether.Nn;
using Noether.Serialization;
using Noether.Tensors;

namespace Noether.Cli.Commands;

/// <summary>A saved SPEC CNN (in float64) with the batch its Hessian is taken on.</summary>
/// <param name="Model">The model, converted exactly from the file's precision to float64.</param>
/// <param name="Inputs">The batch [N, C, S, S].</param>
/// <param name="Labels">Its labels.</param>
/// <param name="Dataset">The dataset's name.</param>
/// <param name="DataSource">Where the images came from.</param>
/// <param name="LeakySlope">LeakyReLU's slope (from the file's metadata, 0.01 if absent).</param>
/// <param name="FileDType">The stored precision of the weights.</param>
internal sealed record SharpnessInput(SpecCnn<double> Model, Tensor<double> Inputs, int[] Labels, string Dataset, string DataSource, double LeakySlope, string FileDType)
{
    public int Samples => Labels.Length;

    public int Parameters => Model.Parameters.Sum(p => p.Value.Length);
}

/// <summary>The matrix-free statistics of one Hessian (the whole model or one tensor's diagonal block).</summary>
/// <param name="Block">"model" or the tensor's name.</param>
/// <param name="Shape">The tensor's shape (empty for the model).</param>
/// <param name="Loss">Mean cross-entropy on the batch.</param>
/// <param name="GradientNorm">‖∇L‖ over the block's parameters.</param>
/// <param name="TopKUsed">Eigenvalues asked for (capped at the block's size per tensor).</param>
/// <param name="Result">What <see cref="SharpnessEstimate"/> measured.</param>
internal sealed record SharpnessBlock(string Block, int[] Shape, double Loss, double GradientNorm, int TopKUsed, SharpnessEstimateResult Result);

/// <summary>Loading a saved SPEC CNN and estimating its Hessian statistics for <c>noether sharpness --weights</c>.</summary>
internal static class SharpnessWeights
{
    /// <summary>
    /// Reads the weights and the first <paramref name="samples"/> training images, checking that the model fits the data
    /// (image channels, image size, classes), with messages naming the tensor, the expected and the found shape.
    /// </summary>
    public static SharpnessInput Load(string path, string dataset, string? dataDir, int samples)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"--weights: '{path}' does not exist (write one with `noether train --out DIR`, which saves DIR/model.safetensors)", path);
        var file = SafeTensors.Read(path);
        double slope = 0.01;
        if (file.Metadata.TryGetValue("noether.arch", out var arch))
            foreach (var part in arch.Split([':', ','], StringSplitOptions.TrimEntries))
                if (part.StartsWith("slope=", StringComparison.Ordinal) && double.TryParse(part[6..], NumberStyles.Float, CultureInfo.InvariantCulture, out double s)) slope = s;
        string dtype = string.Join("/", file.Tensors.Select(t => SafeTensors.DTypeName(t.DType)).Distinct());
        var tensors = file.Tensors.Select(t => (t.Name, t.ToTensor<double>())).ToArray();
        SpecCnn<double> model;
        try
        {
            model = SpecCnnCopy.FromTensors<double>(tensors, slope);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--weights {path}: {e.Message}", e);
        }
        var train = dataset == "cifar10" ? Cifar10.Load(dataDir, train: true) : FashionMnist.Load(dataDir, train: true);
        int features = model.Hidden.InFeatures;
        if (model.InChannels != train.Channels)
            throw new ArgumentException($"--weights {path}: tensor 0.weight has shape {Shape(model.Conv.Weight.Value.ShapeArray)}, i.e. {model.InChannels} image channel(s), but {dataset} images have {train.Channels}: expected [{model.Conv.OutChannels}, {train.Channels}, 3, 3]");
        int expectedFeatures = model.Conv.OutChannels * (train.Height / 2) * (train.Width / 2);
        if (model.ImageSize != train.Height || features != expectedFeatures)
            throw new ArgumentException($"--weights {path}: tensor 3.weight has shape {Shape(model.Hidden.Weight.Value.ShapeArray)}, built for {model.ImageSize}×{model.ImageSize} images, but {dataset} images are {train.Height}×{train.Width}: expected [{model.Hidden.OutFeatures}, {expectedFeatures}]");
        if (model.Output.OutFeatures != train.ClassCount)
            throw new ArgumentException($"--weights {path}: tensor 5.weight has shape {Shape(model.Output.Weight.Value.ShapeArray)}, i.e. {model.Output.OutFeatures} classes, but {dataset} has {train.ClassCount}: expected [{train.ClassCount}, {model.Output.InFeatures}]");
        if (samples > train.Count)
            throw new ArgumentOutOfRangeException("--samples", samples, $"--samples = {samples}: the {dataset} training split has only {train.Count} images");
        var batch = train.Subset(0, samples);
        return new SharpnessInput(model, batch.ImagesAsDouble(), batch.Labels, dataset, train.Source, slope, dtype);
    }

    private static string Shape(int[] shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>The statistics of the whole Hessian, or of each tensor's diagonal block (the Hessian with respect to that tensor alone, the others fixed).</summary>
    public static IReadOnlyList<SharpnessBlock> Estimate(SharpnessInput input, bool perLayer, SharpnessEstimateSettings settings, IProgress<SweepProgress>? progress,
        CancellationToken token)
    {
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
            SharpnessEstimateResult result;
            try
            {
                result = SharpnessEstimate.Run(hessian, mine, inner, token);
            }
            catch (ArgumentOutOfRangeException e) when (e.ParamName == "top k")
            {
                // The library's message names k and n; ArgumentOutOfRangeException.Message adds two more lines, one is enough here.
                throw new ArgumentException($"--top-k: {e.Message.Split('\n')[0].Replace(" (Parameter 'top k')", "")}", e);
            }
            double gradient = Math.Sqrt(hessian.Gradient.Sum(g => TensorOps.Dot(g, g)));
            blocks.Add(new SharpnessBlock(wrt is null ? "model" : wrt[0].Name, wrt is null ? [] : wrt[0].Value.ShapeArray, hessian.Value, gradient, mine.TopK, result));
        }
        return blocks;
    }
}
