using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Noether.Autodiff;
using Noether.Graphs;
using Noether.Interop;
using Noether.Serialization;
using Noether.Tensors;

using Noether.Tests.Graphs;

namespace Noether.Tests.Interop;

/// <summary>
/// The model zoo of tests/fixtures/onnx (made by make_zoo.py with PyTorch 1.13): forward against PyTorch's own outputs
/// and against ONNX Runtime, exact derivatives against central differences, and a symmetry move exported and re-run.
/// </summary>
public sealed class OnnxZooTests
{
    internal static string Folder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Noether.slnx"))) return Path.Combine(dir.FullName, "tests", "fixtures", "onnx");
            throw new DirectoryNotFoundException("Noether.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    // (file, reference output stem or null)
    public static TheoryData<string, string?> Models => new()
    {
        { "mlp.onnx", "mlp" },
        { "spec_cnn.onnx", "spec_cnn" },
        { "resnet20.onnx", "resnet20" },
        { "resnet20.eval.onnx", null },
        { "vgg.onnx", "vgg" },
        { "transformer.onnx", "transformer" },
        { "transformer.opset13.onnx", "transformer" },
        { "transformer_mha.onnx", "transformer" },
    };

    public static TheoryData<string> Files => new(Models.Select(m => (string)m[0]));

    private static HostTensor Inputs => Npy.Read(Path.Combine(Folder, "inputs.npy"));

    private static Tensor<T> Batch<T>(HostTensor images, int count) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int per = images.Length / images.Shape[0];
        return Tensor<T>.FromDoubles(images.Data.AsSpan(0, count * per).ToArray(), [count, .. images.Shape[1..]]);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Float64_forward_equals_pytorch_float64(string file, string? reference)
    {
        if (reference is null) return; // the eval export has no PyTorch reference of its own; ONNX Runtime checks it below
        var graph = OnnxModel.Load(Path.Combine(Folder, file)).ToGraph<double>();
        var expected = Npy.Read(Path.Combine(Folder, reference + ".f64.npy"));
        var y = graph.Evaluate(Batch<double>(Inputs, expected.Shape[0]))[0];
        Assert.Equal(expected.Shape, y.ShapeArray);
        // PyTorch's float64 twin uses exact constants, while the file stores them (LeakyReLU's slope, GELU's √2,
        // LayerNorm's ε) as float32, which moves outputs by up to ~1e-8 relative (measured: 4.2e-9 for the transformer);
        // float32 arithmetic would be ~1e-6 off, so 1e-7 still tells float64 evaluation from float32.
        double err = Support.Close.RelativeError(y.Data, expected.Data);
        Assert.True(err <= 1e-7, $"{file}: relative error {err:E3} against PyTorch float64");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Float32_forward_equals_onnx_runtime(string file)
    {
        var path = Path.Combine(Folder, file);
        var graph = OnnxModel.Load(path).ToGraph<float>();
        var x = Batch<float>(Inputs, 16);
        var ours = graph.Evaluate(x)[0];
        var theirs = RunOrt(path, x);
        double err = Support.Close.RelativeError(ours.ToDoubles(), theirs.Select(v => (double)v).ToArray());
        Assert.True(err <= 1e-5, $"{file}: relative error {err:E3} against ONNX Runtime (float32)");
    }

    internal static float[] RunOrt(string path, Tensor<float> x)
    {
        using var session = new InferenceSession(path);
        var input = new DenseTensor(x.Data, x.ShapeArray);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.First(), input)]);
        return results.First().AsEnumerable<float>().ToArray();
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Float64_gradient_and_hessian_vector_product_match_central_differences(string file)
    {
        var graph = OnnxModel.Load(Path.Combine(Folder, file)).ToGraph<double>();
        int batch = graph.Inputs[0].Shape[0] ?? 2;
        if (batch > 2) return; // a fixed batch of 16 (the eval export) is covered by the forward checks
        // Fashion-MNIST's constant background makes exactly equal activations, and a max-pool over equal values is not
        // differentiable (its one-sided derivatives differ). A little noise on the pixels moves the point off those
        // ties. The step h = 1e-8 keeps the ±h points on the same side of every ReLU kink (a crossing would put a jump
        // into the difference quotient); rounding then costs ~ε·|∇f|/h ≈ 1e-8 relative, far below the 1e-6 tolerance.
        var x = Batch<double>(Inputs, batch);
        var rng = new Random(17);
        for (int i = 0; i < x.Length; i++) x.Data[i] += 0.01 * (rng.NextDouble() - 0.5);
        GraphDerivativeCheck.Check(graph, [x], seed: 3, H: 1e-8);
    }

    [Theory]
    [InlineData("mlp.onnx", "1.weight", "1.bias", "3.weight")]
    [InlineData("resnet20.onnx", "layer1.0.bn1.weight", "layer1.0.bn1.bias", "layer1.0.conv2.weight")]
    public void Rescaling_across_a_relu_then_export_leaves_onnx_runtime_outputs_unchanged(string file, string rowsWeight, string rowsBias, string columnsWeight)
    {
        var path = Path.Combine(Folder, file);
        var model = OnnxModel.Load(path);
        var graph = model.ToGraph<float>();
        var w1 = graph.Parameter(rowsWeight) ?? throw new InvalidOperationException($"{file} has no {rowsWeight}; parameters: {string.Join(", ", graph.Parameters.Select(p => p.Name))}");
        var b1 = graph.Parameter(rowsBias)!;
        var w2 = graph.Parameter(columnsWeight)!;
        var x = Batch<float>(Inputs, 16);
        var before = RunOrt(path, x);

        // Unit (channel) c of the first layer scaled by α_c > 0 and its outgoing weights by 1/α_c: relu(αz)/α = relu(z).
        var rng = new Random(11);
        int units = b1.Value.Length;
        var alpha = Enumerable.Range(0, units).Select(_ => (float)Math.Exp(rng.NextDouble() * 2 - 1)).ToArray();
        int rowSize = w1.Value.Length / units;
        for (int cIndex = 0; cIndex < units; cIndex++)
        {
            for (int i = 0; i < rowSize; i++) w1.Value.Data[cIndex * rowSize + i] *= alpha[cIndex];
            b1.Value.Data[cIndex] *= alpha[cIndex];
        }
        int outer = w2.Value.Dim(0), inner = w2.Value.Length / (outer * units);
        for (int o = 0; o < outer; o++)
            for (int cIndex = 0; cIndex < units; cIndex++)
                for (int i = 0; i < inner; i++) w2.Value.Data[(o * units + cIndex) * inner + i] /= alpha[cIndex];

        var moved = Path.Combine(Path.GetTempPath(), $"noether-moved-{Guid.NewGuid():N}.onnx");
        var tensors = Path.ChangeExtension(moved, ".safetensors");
        try
        {
            model.Save(moved, graph.Parameters);
            var after = RunOrt(moved, x);
            double err = Support.Close.RelativeError(after.Select(v => (double)v).ToArray(), before.Select(v => (double)v).ToArray());
            Assert.True(err <= 1e-5, $"{file}: outputs moved by {err:E3} relative after the rescaling");
            // The move is real: the exported weights differ from the original ones.
            var reloaded = OnnxModel.Load(moved).ToGraph<float>();
            Assert.NotEqual(OnnxModel.Load(path).ToGraph<float>().Parameter(rowsWeight)!.Value.Data, reloaded.Parameter(rowsWeight)!.Value.Data);
            Assert.Equal(w1.Value.Data, reloaded.Parameter(rowsWeight)!.Value.Data);

            // The state_dict as safetensors: the initializer names, the new values.
            OnnxModel.SaveSafeTensors(tensors, graph.Parameters);
            var file2 = SafeTensors.Read(tensors);
            Assert.Equal(graph.Parameters.Select(p => p.Name).Order(), file2.Names.Order());
            Assert.Equal(w2.Value.Data, file2.GetTensor<float>(columnsWeight).Data);
        }
        finally
        {
            File.Delete(moved);
            File.Delete(tensors);
        }
    }
}
