using Noether.Autodiff;
using Noether.Data;
using Noether.Graphs;
using Noether.Interop;
using Noether.Landscape;
using Noether.Nn;
using Noether.Serialization;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>
/// The model a sharpness estimate is taken of, as the Hessian of its mean cross-entropy over named parameter tensors: a SPEC
/// CNN (<see cref="Of(SpecCnn{double})"/>) or an imported graph (<see cref="Of(Graph{double}, ValueTuple{long, long})"/>).
/// Both give the same operator (<see cref="ModelHessian"/>): every product is an exact double-backward pass.
/// </summary>
public sealed class SharpnessModel
{
    private readonly Func<Tensor<double>, int[], int?, HessianOperator<double>> _hessian;
    private readonly Func<string, int, SharpnessEstimateSettings, MemoryNeed> _memory;

    private SharpnessModel(string kind, IReadOnlyList<(string Name, int[] Shape)> tensors, Func<Tensor<double>, int[], int?, HessianOperator<double>> hessian,
        Func<string, int, SharpnessEstimateSettings, MemoryNeed> memory)
    {
        Kind = kind;
        Tensors = tensors;
        _hessian = hessian;
        _memory = memory;
    }

    /// <summary>"SPEC CNN" or "ONNX graph".</summary>
    public string Kind { get; }

    /// <summary>The parameter tensors (name, shape), in the model's order.</summary>
    public IReadOnlyList<(string Name, int[] Shape)> Tensors { get; }

    /// <summary>The number of parameters.</summary>
    public int Parameters => Tensors.Sum(t => t.Shape.Aggregate(1, (a, b) => a * b));

    /// <summary>The Hessian of the mean cross-entropy on (<paramref name="inputs"/>, <paramref name="labels"/>) over every tensor (null) or tensor <paramref name="tensor"/> alone, the others fixed.</summary>
    public HessianOperator<double> CrossEntropyHessian(Tensor<double> inputs, int[] labels, int? tensor) => _hessian(inputs, labels, tensor);

    /// <summary>The estimate's memory on <paramref name="samples"/> images of <paramref name="dataset"/> (<see cref="MemoryEstimate.Sharpness(long, long, string, int, SharpnessEstimateSettings)"/>).</summary>
    public MemoryNeed Memory(string dataset, int samples, SharpnessEstimateSettings settings) => _memory(dataset, samples, settings);

    /// <summary>A SPEC CNN; its activations per image (the convolution's output) size the Hessian graph.</summary>
    public static SharpnessModel Of(SpecCnn<double> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        long activations = (long)model.Conv.OutChannels * model.ImageSize * model.ImageSize;
        return new SharpnessModel("SPEC CNN", model.Parameters.Select(p => (p.Name, p.Value.ShapeArray)).ToArray(),
            (x, y, i) => ModelHessian.CrossEntropy(model, x, y, i is { } k ? [model.Parameters[k]] : null),
            (dataset, samples, s) => MemoryEstimate.Sharpness(model.Parameters.Sum(p => (long)p.Value.Length), activations, dataset, samples, s));
    }

    /// <summary>
    /// An imported graph (float64, output 0 the logits, one input); <paramref name="values"/> are its recorded values per sample
    /// and fixed (<see cref="MemoryEstimate.RecordedValues{T}"/>), which size the Hessian graph.
    /// </summary>
    /// <exception cref="ArgumentException">The graph has not exactly one input.</exception>
    public static SharpnessModel Of(Graph<double> graph, (long PerSample, long Fixed) values)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (graph.Inputs.Count != 1) throw Errors.Argument(nameof(graph), $"sharpness: the model has {graph.Inputs.Count} inputs, expected one (the images)");
        long n = graph.Parameters.Sum(p => (long)p.Length);
        return new SharpnessModel("ONNX graph", graph.Parameters.Select(p => (p.Name, p.Value.ShapeArray)).ToArray(),
            (x, y, i) => ModelHessian.CrossEntropy(graph, x, y, i is { } k ? [graph.Parameters[k]] : null),
            (dataset, samples, s) => MemoryEstimate.Sharpness(n, values, dataset, samples, s));
    }
}

/// <summary>A model (in float64) with the batch its Hessian is taken on.</summary>
/// <param name="Model">The model's cross-entropy Hessian over its parameter tensors.</param>
/// <param name="Inputs">The batch [N, C, S, S].</param>
/// <param name="Labels">Its labels.</param>
/// <param name="Dataset">The dataset's name.</param>
/// <param name="DataSource">Where the images came from.</param>
/// <param name="LeakySlope">A SPEC CNN's LeakyReLU slope (from the file's architecture entry, 0.01 if absent); null for a graph.</param>
/// <param name="FileDType">The stored precision of the weights ("F32", or "F32/F64" when mixed; "ONNX F32" or "ONNX F64" for a graph).</param>
public sealed record SharpnessInput(SharpnessModel Model, Tensor<double> Inputs, int[] Labels, string Dataset, string DataSource, double? LeakySlope, string FileDType)
{
    /// <summary>Images in the batch.</summary>
    public int Samples => Labels.Length;

    /// <summary>The model's parameter count.</summary>
    public int Parameters => Model.Parameters;
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
/// <c>noether sharpness --weights</c> and <c>--model</c>: top eigenvalues (Lanczos), trace (Hutchinson) and spectral density
/// (SLQ) of a saved SPEC CNN's or an imported graph's cross-entropy Hessian on the first images of a training split, for the
/// whole model or per tensor (one <see cref="Estimate"/> over a <see cref="SharpnessModel"/>).
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
        var (inputs, labels) = Batch(train, dataset, samples);
        return new SharpnessInput(SharpnessModel.Of(model), inputs, labels, dataset, train.Source, slope, weights.DTypes);
    }

    /// <summary>
    /// The imported model at <paramref name="path"/> (float64, BatchNorm in inference mode) and the first
    /// <paramref name="samples"/> training images of <paramref name="dataset"/>, checking that the model takes the images
    /// (one input whose shape fits theirs, output 0 logits of the dataset's classes) before any Hessian is recorded.
    /// </summary>
    /// <exception cref="ArgumentException">The model does not fit the data (parameter name "model").</exception>
    /// <exception cref="ArgumentOutOfRangeException">More samples than the split holds (parameter name "samples").</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="DataFormatException">The file is not an ONNX model Noether can import.</exception>
    public static SharpnessInput LoadModel(string path, string dataset, string? dataDirectory, int samples)
    {
        var c = ImportedModelData.Classifier(path, dataset, dataDirectory, train: true, samples);
        return new SharpnessInput(SharpnessModel.Of(c.Graph, c.Values), c.Inputs, c.Labels, dataset, c.Source, null, "ONNX " + (c.Onnx.UsesDouble ? "F64" : "F32"));
    }

    private static (Tensor<double> Inputs, int[] Labels) Batch(ImageDataset train, string dataset, int samples)
    {
        if (samples > train.Count)
            throw Errors.ArgumentOutOfRange(nameof(samples), samples, $"samples = {samples}: the {dataset} training split has only {train.Count} images");
        var batch = train.Subset(0, samples);
        return (batch.ImagesAsDouble(), batch.Labels);
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
        int?[] scopes = perLayer ? Enumerable.Range(0, model.Tensors.Count).Select(i => (int?)i).ToArray() : [null];
        var blocks = new List<SharpnessBlock>();
        for (int b = 0; b < scopes.Length; b++)
        {
            var wrt = scopes[b] is { } t ? model.Tensors[t] : ((string Name, int[] Shape)?)null;
            var hessian = model.CrossEntropyHessian(input.Inputs, input.Labels, scopes[b]);
            // Per tensor a block may be smaller than k (a bias of 10 entries): ask for all of its eigenvalues then.
            var mine = perLayer ? settings with { TopK = Math.Min(settings.TopK, hessian.Dimension) } : settings;
            int done = b;
            var inner = progress is null ? null : new InlineProgress<SweepProgress>(p => progress.Report(new SweepProgress(
                $"{(wrt is { } w ? w.Name : "model")}: {p.Label}", done * 3 + p.Done, scopes.Length * 3)));
            var result = SharpnessEstimate.Run(hessian, mine, inner, token);
            double gradient = Math.Sqrt(hessian.Gradient.Sum(g => TensorOps.Dot(g, g)));
            blocks.Add(new SharpnessBlock(wrt is { } x ? x.Name : "model", wrt is { } y ? y.Shape : [], hessian.Value, gradient, mine.TopK, result));
        }
        return blocks;
    }
}
