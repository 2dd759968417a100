using Noether.Data;
using Noether.Graphs;
using Noether.Interop;
using Noether.Serialization;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>An imported image classifier (<see cref="ImportedModelData.Classifier"/>) with the batch it is measured on.</summary>
/// <param name="Onnx">The file as read.</param>
/// <param name="Graph">The model in float64, BatchNorm in inference mode.</param>
/// <param name="Values">Its recorded values per image and fixed (<see cref="MemoryEstimate.RecordedValues{T}"/>).</param>
/// <param name="Inputs">The first images of the split, [N, …sample shape].</param>
/// <param name="Labels">Their labels.</param>
/// <param name="Source">Where the images came from.</param>
public sealed record ImportedClassifier(OnnxModel Onnx, Graph<double> Graph, (long PerSample, long Fixed) Values, Tensor<double> Inputs, int[] Labels, string Source);

/// <summary>
/// The data an imported model is trained or checked on: a built-in image data set or the user's own tensor files (with a
/// held-out test part when no test file is given), and the batch a symmetry census is verified on. The messages name the
/// caller's inputs by the names it passes (the CLI passes its options).
/// </summary>
public static class ImportedModelData
{
    /// <summary>
    /// The training and test splits and the shape of one sample: <paramref name="dataset"/> (in <paramref name="dataDirectory"/>)
    /// when <paramref name="trainFile"/> is null, else the tensors of <paramref name="trainFile"/> (+ <paramref name="trainLabels"/>)
    /// tested on <paramref name="testFile"/> (+ <paramref name="testLabels"/>) or, without one, on the last 10% of the training
    /// samples, held out. The training split is cut to its first <paramref name="trainLimit"/> samples. A message that asks
    /// for a test file names it <paramref name="testFileName"/>.
    /// </summary>
    public static (ImageDataset Train, ImageDataset Test, int[] SampleShape) Load(string dataset, string? dataDirectory, int? trainLimit,
        string? trainFile, string? trainLabels, string? testFile, string? testLabels, string testFileName)
    {
        if (trainFile is null)
        {
            var (train, test) = CnnTraining.Load(new CnnTrainingSettings(dataset, dataDirectory));
            if (trainLimit is { } n && n < train.Count) train = train.Subset(0, n);
            return (train, test, train.SampleShape);
        }
        var own = TensorFileDataset.Load(trainFile, trainLabels);
        var trainData = own.Data;
        ImageDataset testData;
        if (testFile is not null)
        {
            var t = TensorFileDataset.Load(testFile, testLabels);
            if (!t.SampleShape.SequenceEqual(own.SampleShape))
                throw Errors.Argument(nameof(testFile), $"{testFile}: samples are {string.Join("×", t.SampleShape)}, the training samples of {trainFile} are {string.Join("×", own.SampleShape)}");
            testData = t.Data;
        }
        else
        {
            var (kept, held) = HoldOut(trainData.Count);
            if (kept < 1) throw Errors.Argument(nameof(trainFile), $"{trainFile}: {trainData.Count} samples are too few to hold out a test part; give {testFileName}");
            testData = trainData.Subset(kept, held);
            trainData = trainData.Subset(0, kept);
        }
        if (trainLimit is { } limit && limit < trainData.Count) trainData = trainData.Subset(0, limit);
        return (trainData, testData, own.SampleShape);
    }

    /// <summary>
    /// The imported model at <paramref name="path"/> (float64, BatchNorm in inference mode) and the first
    /// <paramref name="samples"/> images of <paramref name="dataset"/>'s training or test split, checking that the model
    /// takes them (one input whose shape fits the images', output 0 logits of the dataset's classes) with a message naming
    /// the file, the input and both shapes.
    /// </summary>
    /// <exception cref="ArgumentException">The model does not fit the data (parameter name "model").</exception>
    /// <exception cref="ArgumentOutOfRangeException">More samples than the split holds (parameter name "samples").</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="DataFormatException">The file is not an ONNX model Noether can import.</exception>
    public static ImportedClassifier Classifier(string path, string dataset, string? dataDirectory, bool train, int samples)
    {
        ArgumentNullException.ThrowIfNull(path);
        var onnx = OnnxModel.Load(path);
        var graph = onnx.ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
        if (graph.Inputs.Count != 1) throw Errors.Argument("model", $"{path}: the model has {graph.Inputs.Count} inputs; it must take one (the images)");
        var split = dataset == "cifar10" ? Cifar10.Load(dataDirectory, train) : FashionMnist.Load(dataDirectory, train);
        var input = graph.Inputs[0];
        if (input.Shape.Length != split.SampleShape.Length + 1 || !input.Shape.Skip(1).Zip(split.SampleShape).All(p => p.First is null || p.First == p.Second))
            throw Errors.Argument("model", $"{path}: input '{input.Name}' is {Graph<double>.DescribeShape(input)}, but {dataset} images are {Errors.Shape(split.SampleShape)} (expected [batch, {string.Join(", ", split.SampleShape)}])");
        if (samples > split.Count)
            throw Errors.ArgumentOutOfRange(nameof(samples), samples, $"samples = {samples}: the {dataset} {(train ? "training" : "test")} split has only {split.Count} images");
        (long PerSample, long Fixed) values;
        try
        {
            values = MemoryEstimate.RecordedValues(graph, split.SampleShape);
        }
        catch (GraphException e)
        {
            throw Errors.Argument("model", $"{path}: does not run on {dataset} images {Errors.Shape(split.SampleShape)}: {e.Message}", e);
        }
        // One forward pass on the first image (a fixed batch: on that batch) checks the outputs without recording the whole
        // batch: the caller checks the memory of its passes first.
        int probe = input.Shape[0] ?? 1;
        if (input.Shape[0] is int fixedBatch && samples != fixedBatch)
            throw Errors.Argument("model", $"{path}: input '{input.Name}' has a fixed batch of {fixedBatch} images, so the batch must hold exactly {fixedBatch} (got {samples})");
        Tensor<double> logits;
        try
        {
            logits = graph.Evaluate(split.Subset(0, probe).ImagesAsDouble())[0];
        }
        catch (GraphException e)
        {
            throw Errors.Argument("model", $"{path}: does not run on {dataset} images {Errors.Shape(split.SampleShape)}: {e.Message}", e);
        }
        if (logits.Rank != 2 || logits.Dim(0) != probe || logits.Dim(1) != split.ClassCount)
            throw Errors.Argument("model", $"{path}: output 0 is {Errors.Shape(logits.ShapeArray)} for {probe} image(s), expected logits {probe}×{split.ClassCount} for the {split.ClassCount} {dataset} classes");
        var batch = split.Subset(0, samples);
        return new ImportedClassifier(onnx, graph, values, batch.ImagesAsDouble(), batch.Labels, split.Source);
    }

    /// <summary>How <paramref name="count"/> samples split when no test file is given: the last 10% (at least one) held out for testing.</summary>
    public static (int Kept, int Held) HoldOut(int count)
    {
        int held = Math.Max(1, count / 10);
        return (count - held, held);
    }

    /// <summary>
    /// The batch a census is verified on: the first <paramref name="batch"/> rows of <paramref name="inputPath"/> with their
    /// labels from <paramref name="labelsPath"/> (.npy files), or, with neither, a seeded N(0, 1) batch of the model's declared
    /// input shape (its dynamic first dimension set to <paramref name="batch"/>) with random labels drawn from <paramref name="rng"/>.
    /// Messages name the inputs, labels and model <paramref name="inputName"/>, <paramref name="labelsName"/> and <paramref name="modelName"/>.
    /// </summary>
    public static (Tensor<double> X, int[] Labels, bool Synthetic) CensusBatch(Graph<double> graph, string? inputPath, string? labelsPath, int batch, Random rng,
        string inputName, string labelsName, string modelName)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(rng);
        if ((inputPath is null) != (labelsPath is null)) throw Errors.Argument(inputName, $"{inputName} and {labelsName} go together (give both or neither)");
        var declared = graph.Inputs[0];
        if (inputPath is not null)
        {
            var host = Npy.Read(inputPath);
            if (host.Rank == 0 || host.Shape[0] < 1) throw Errors.Argument(inputName, $"{inputName} {inputPath}: expected a batch (first dimension ≥ 1), got shape [{string.Join(", ", host.Shape)}]");
            int n = Math.Min(batch, host.Shape[0]), per = host.Length / host.Shape[0];
            var x = Tensor<double>.FromDoubles(host.Data.AsSpan(0, n * per).ToArray(), [n, .. host.Shape[1..]]);
            var l = Npy.Read(labelsPath!);
            if (l.Length < n) throw Errors.Argument(labelsName, $"{labelsName} {labelsPath}: {l.Length} labels for {n} inputs");
            return (x, l.Data.Take(n).Select(v => (int)v).ToArray(), false);
        }
        var shape = declared.Shape.Select((d, i) => d ?? (i == 0 ? batch : throw Errors.Argument(modelName, $"{modelName}: input '{declared.Name}' has a dynamic dimension {i}; give {inputName}"))).ToArray();
        var data = new double[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var xs = Tensor<double>.FromDoubles(data, shape);
        int classes = graph.Evaluate(xs)[0] is { Rank: 2 } logits ? logits.Dim(1) : throw Errors.Argument(modelName, $"{modelName}: the first output is not logits [batch, classes]");
        return (xs, Enumerable.Range(0, shape[0]).Select(_ => rng.Next(classes)).ToArray(), true);
    }
}
