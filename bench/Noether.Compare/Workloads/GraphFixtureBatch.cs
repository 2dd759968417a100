using Noether.Autodiff;
using Noether.Data;
using Noether.Graphs;
using Noether.Interop;
using Noether.Landscape;
using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>
/// The setting of the imported-model Hessian rows: a model of tests/fixtures/onnx in float64 with BatchNorm on its running
/// statistics (PyTorch's <c>eval()</c>, as <c>noether curvature</c> runs it), the first <see cref="Batch"/> Fashion-MNIST
/// training images, and the batch's mean cross-entropy as a <see cref="MinibatchHessian"/> of one batch.
/// </summary>
internal sealed class GraphFixtureBatch
{
    /// <summary>Images in the batch.</summary>
    public const int Batch = 128;

    /// <summary>Loads <paramref name="file"/> from tests/fixtures/onnx and the batch.</summary>
    public GraphFixtureBatch(string file)
    {
        Path = Fixture(file);
        Graph = OnnxModel.Load(Path).ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
        var batch = FashionMnist.Load(train: true).Subset(0, Batch);
        Images = batch.ImagesAsDouble();
        Labels = batch.Labels;
    }

    /// <summary>The model file's path.</summary>
    public string Path { get; }

    /// <summary>The imported graph.</summary>
    public Graph<double> Graph { get; }

    /// <summary>The images [Batch, 1, 28, 28].</summary>
    public Tensor<double> Images { get; }

    /// <summary>Their labels.</summary>
    public int[] Labels { get; }

    /// <summary>The number of parameters.</summary>
    public int Dimension => Graph.Parameters.Sum(p => p.Value.Length);

    /// <summary>The path of a model of tests/fixtures/onnx.</summary>
    public static string Fixture(string file) =>
        Program.FindUp(System.IO.Path.Combine("tests", "fixtures", "onnx", file)) ?? throw new FileNotFoundException($"tests/fixtures/onnx/{file} not found above the working folder", file);

    /// <summary>Each parameter with its offset in the flat vector (the twin's state_dict names).</summary>
    public IEnumerable<(Parameter<double> Parameter, int Offset)> Blocks()
    {
        int offset = 0;
        foreach (var p in Graph.Parameters)
        {
            yield return (p, offset);
            offset += p.Value.Length;
        }
    }

    /// <summary>The batch's mean cross-entropy as a one-batch Hessian (the curvature command's path).</summary>
    public MinibatchHessian Hessian()
    {
        var parameters = Graph.Parameters;
        BatchLoss loss = (tape, leaves, _) =>
        {
            for (int i = 0; i < parameters.Count; i++) tape.BindTo(parameters[i], leaves[i]);
            var logits = Graph.Run(tape, [tape.Constant(Images)]).Output(tape, 0);
            return Ops.CrossEntropy(logits, Labels);
        };
        return new MinibatchHessian(loss, parameters.Select(p => p.Value).ToArray(), 1, parameters.Select(p => p.Name).ToArray());
    }
}
