using Google.Protobuf;
using Noether.Graphs;
using Noether.Interop;
using Noether.Serialization;
using Noether.Tests.Interop;
using Onnx;

namespace Noether.Tests.Cli;

/// <summary><c>noether model show</c> and <c>noether model run</c>: a real model in and out, and each bad input refused in one line.</summary>
public sealed class ModelCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-model-cli-").FullName;
    private static string Mlp => Path.Combine(OnnxZooTests.Folder, "mlp.onnx");
    private static string Images => Path.Combine(OnnxZooTests.Folder, "inputs.npy");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Show_lists_parameters_op_counts_and_folded_nodes()
    {
        var r = CliRunner.Run(["model", "show", Path.Combine(OnnxZooTests.Folder, "transformer.onnx")]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("layers.1.fc2.weight", r.Stdout);
        Assert.Contains("32×64", r.Stdout);
        Assert.Contains("LayerNormalization", r.Stdout);
        // Every Shape/Gather/Unsqueeze/Concat/Constant node of the export is a shape computation, all folded.
        var graph = OnnxModel.Load(Path.Combine(OnnxZooTests.Folder, "transformer.onnx")).ToGraph<float>();
        int shapeNodes = graph.Nodes.Count(n => n.OpType is "Shape" or "Gather" or "Unsqueeze" or "Concat" or "Constant");
        Assert.Contains($"{shapeNodes} of {graph.Nodes.Count} nodes folded", r.Stdout);
    }

    [Fact]
    public void Run_writes_the_outputs_pytorch_computed_for_npy_and_tensorproto_inputs()
    {
        var outNpy = Path.Combine(_dir, "y.npy");
        var r = CliRunner.RunInProcess(["model", "run", Mlp, "--input", Images, "--out", outNpy]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var y = Npy.Read(outNpy);
        var expected = Npy.Read(Path.Combine(OnnxZooTests.Folder, "mlp.f32.npy"));
        Assert.Equal(expected.Shape, y.Shape);
        Assert.True(Support.Close.RelativeError(y.Data, expected.Data) <= 1e-5);

        // The same images as an ONNX TensorProto (.pb), as in ONNX's test data.
        var images = Npy.Read(Images);
        var proto = new TensorProto { DataType = (int)ElementType.Float };
        proto.Dims.AddRange(images.Shape.Select(d => (long)d));
        proto.FloatData.AddRange(images.Data.Select(v => (float)v));
        var pb = Path.Combine(_dir, "input_0.pb");
        File.WriteAllBytes(pb, proto.ToByteArray());
        var outPb = Path.Combine(_dir, "y-pb.npy");
        r = CliRunner.RunInProcess(["model", "run", Mlp, "--input", pb, "--out", outPb]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(y.Data, Npy.Read(outPb).Data);
    }

    private string Variant(string name, Action<ModelProto> change)
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Mlp));
        change(proto);
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, proto.ToByteArray());
        return path;
    }

    private void AssertRefused(string model, string[] mentions, string? input = null, bool show = false)
    {
        var outPath = Path.Combine(_dir, "never.npy");
        string[] args = show ? ["model", "show", model] : ["model", "run", model, "--input", input ?? Images, "--out", outPath];
        var r = CliRunner.RunInProcess(args);
        Assert.Equal(2, r.ExitCode);
        CliRunner.AssertOneLineFailure(r, [model, .. mentions]);
        Assert.False(File.Exists(outPath), "a failed run wrote its output");
    }

    [Fact]
    public void A_truncated_file_is_refused()
    {
        var path = Path.Combine(_dir, "truncated.onnx");
        var bytes = File.ReadAllBytes(Mlp);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        AssertRefused(path, ["not an ONNX model"]);
    }

    [Fact]
    public void A_file_that_is_not_onnx_is_refused()
    {
        var path = Path.Combine(_dir, "notes.onnx");
        File.WriteAllText(path, "these are my notes, not a model\n");
        AssertRefused(path, ["not an ONNX model"]);
        AssertRefused(path, ["not an ONNX model"], show: true);
    }

    [Fact]
    public void An_unsupported_op_is_refused_with_the_node_its_op_and_the_supported_list()
    {
        var path = Variant("celu.onnx", p => p.Graph.Node.First(n => n.OpType == "Relu").OpType = "Celu");
        var node = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Node.First(n => n.OpType == "Celu").Name;
        AssertRefused(path, [node, "Celu", "supported:", "Conv", "LayerNormalization"]);
    }

    [Fact]
    public void An_opset_out_of_range_is_refused()
    {
        var path = Variant("opset18.onnx", p => p.OpsetImport.First(o => o.Domain == "").Version = 18);
        AssertRefused(path, ["opset 18", "1–17"]);
    }

    [Fact]
    public void A_missing_external_data_file_is_refused()
    {
        var path = Variant("external.onnx", p =>
        {
            var t = p.Graph.Initializer[0];
            t.RawData = ByteString.Empty;
            t.FloatData.Clear();
            t.DataLocation = TensorProto.Types.DataLocation.External;
            t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        });
        var name = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Initializer[0].Name;
        AssertRefused(path, [name, "weights.bin", "missing"]);
    }

    [Fact]
    public void An_unresolved_dynamic_dimension_is_refused()
    {
        var path = Variant("height.onnx", p =>
        {
            var dim = p.Graph.Input[0].Type.TensorType.Shape.Dim[2];
            dim.DimParam = "height";
        });
        AssertRefused(path, ["height", "dynamic", "--batch"], show: true);
    }

    [Fact]
    public void An_input_of_the_wrong_shape_is_refused()
    {
        var images = Npy.Read(Images);
        var wrong = Path.Combine(_dir, "wrong.npy");
        Npy.Write(wrong, ElementType.Float, [images.Shape[0], 1, 28 * 28], images.Data);
        var input = OnnxModel.Load(Mlp).ToGraph<float>().Inputs[0].Name;
        AssertRefused(Mlp, [input, "16×1×784", "expects"], input: wrong);
    }

    [Fact]
    public void A_missing_input_is_refused()
    {
        var path = Path.Combine(_dir, "absent.npy");
        var r = CliRunner.RunInProcess(["model", "run", Mlp, "--input", path, "--out", Path.Combine(_dir, "never.npy")]);
        CliRunner.AssertOneLineFailure(r, path);
        Assert.False(File.Exists(Path.Combine(_dir, "never.npy")));
    }
}
