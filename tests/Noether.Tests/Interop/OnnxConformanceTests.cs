using System.Numerics;
using System.Text;
using Noether.Autodiff;
using Noether.Data;
using Noether.Graphs;
using Noether.Interop;
using Xunit.Abstractions;

namespace Noether.Tests.Interop;

/// <summary>
/// ONNX's own node conformance tests (Debian's libonnx-testdata, ONNX 1.12): every test either runs and matches
/// ONNX's reference outputs within the ONNX backend-test tolerances (rtol 1e-3, atol 1e-7), or is refused with a
/// clear message (an unsupported op, attribute, element type, rank or opset) — never a wrong answer, never a crash.
/// </summary>
public sealed class OnnxConformanceTests(ITestOutputHelper output)
{
    /// <summary>Where Debian's libonnx-testdata puts the node tests.</summary>
    public const string DataDirectory = "/usr/share/libonnx-testdata/data/node";

    internal enum Outcome { Passed, Refused, Failed }

    internal sealed record Result(string Test, Outcome Outcome, IReadOnlyList<string> Ops, string Message);

    [Fact]
    public void Every_node_test_passes_or_is_refused_with_a_clear_message()
    {
        Assert.True(Directory.Exists(DataDirectory),
            $"ONNX's conformance data is missing ({DataDirectory}): run `apt-get install libonnx-testdata`");
        var folders = Directory.GetDirectories(DataDirectory, "test_*").Order(StringComparer.Ordinal).ToArray();
        Assert.True(folders.Length > 900, $"expected the ~932 node tests of ONNX 1.12 in {DataDirectory}, found {folders.Length}");
        var results = folders.Select(Run).ToArray();

        var table = Table(results);
        output.WriteLine(table);
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "noether-onnx-conformance.md"), table);
        File.WriteAllLines(Path.Combine(Path.GetTempPath(), "noether-onnx-conformance-refusals.txt"),
            results.Where(r => r.Outcome != Outcome.Passed).Select(r => $"{r.Test}\t{r.Outcome}\t{r.Message}"));

        var failed = results.Where(r => r.Outcome == Outcome.Failed).ToArray();
        Assert.True(failed.Length == 0, $"{failed.Length} tests failed:\n" + string.Join("\n", failed.Select(f => $"{f.Test}: {f.Message}")));
        foreach (var r in results.Where(r => r.Outcome == Outcome.Refused))
            Assert.False(string.IsNullOrWhiteSpace(r.Message), $"{r.Test} was refused without a message");
        // The ops the issue names are run, not refused, in their plain tests.
        foreach (var test in new[] { "test_relu", "test_conv_with_strides_padding", "test_batchnorm_example", "test_maxpool_2d_pads", "test_averagepool_2d_pads",
                     "test_globalaveragepool", "test_gemm_default_single_elem_vector_bias", "test_matmul_4d", "test_softmax_axis_1", "test_logsoftmax_axis_1",
                     "test_layer_normalization_2d_axis1", "test_reduce_mean_keepdims_example", "test_reduce_sum_keepdims_example", "test_transpose_all_permutations_0",
                     "test_reshape_negative_dim", "test_flatten_axis1", "test_squeeze", "test_unsqueeze_axis_0", "test_concat_2d_axis_0", "test_split_equal_parts_1d",
                     "test_slice", "test_erf", "test_leakyrelu", "test_sigmoid", "test_tanh", "test_pow", "test_sqrt", "test_add_bcast", "test_div_bcast", "test_dropout_default" })
        {
            var r = results.SingleOrDefault(x => x.Test == test);
            Assert.True(r is { Outcome: Outcome.Passed }, $"{test}: {(r is null ? "missing" : r.Outcome + " " + r.Message)}");
        }
    }

    internal static Result Run(string folder)
    {
        var name = Path.GetFileName(folder);
        OnnxModel model;
        try
        {
            model = OnnxModel.Load(Path.Combine(folder, "model.onnx"));
        }
        catch (DataFormatException e)
        {
            return new Result(name, Outcome.Refused, [], e.Message);
        }
        bool useDouble = model.UsesDouble;
        try
        {
            return useDouble ? Run<double>(name, folder, model) : Run<float>(name, folder, model);
        }
        catch (Exception e)
        {
            return new Result(name, Outcome.Failed, model.OpTypes, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static Result Run<T>(string name, string folder, OnnxModel model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ops = model.OpTypes;
        Graph<T> graph;
        try
        {
            graph = model.ToGraph<T>();
        }
        catch (DataFormatException e) when (e.InnerException is not GraphException { Unsupported: false })
        {
            return new Result(name, Outcome.Refused, ops, e.Message);
        }
        var sets = Directory.GetDirectories(folder, "test_data_set_*").Order(StringComparer.Ordinal).ToArray();
        if (sets.Length == 0) return new Result(name, Outcome.Failed, ops, "no test_data_set folder");
        foreach (var set in sets)
        {
            var inputFiles = Directory.GetFiles(set, "input_*.pb").OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)[6..])).ToArray();
            var outputFiles = Directory.GetFiles(set, "output_*.pb").OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)[7..])).ToArray();
            if (inputFiles.Length != graph.Inputs.Count) return new Result(name, Outcome.Failed, ops, $"{inputFiles.Length} input files for {graph.Inputs.Count} graph inputs");
            var tape = new Tape<T>();
            var inputs = new GraphValue<T>[inputFiles.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                var h = OnnxModel.ReadTensorFile(inputFiles[i]);
                if (h.Type is ElementType.Float16 or ElementType.BFloat16)
                    return new Result(name, Outcome.Refused, ops, $"input {i} is {h.Type}; Noether computes in float32 and float64");
                if (h.IsReal && h.Rank > Noether.Tensors.Tensor<T>.MaxRank)
                    return new Result(name, Outcome.Refused, ops, $"input {i} is {Errors.Shape(h.Shape)}; Noether's runtime tensors stop at rank {Noether.Tensors.Tensor<T>.MaxRank}");
                inputs[i] = h.IsReal ? new GraphValue<T>(tape.Leaf(h.ToTensor<T>())) : new GraphValue<T>(h);
            }
            GraphRun<T> run;
            try
            {
                run = graph.Run(tape, inputs);
            }
            catch (GraphException e) when (e.Unsupported)
            {
                return new Result(name, Outcome.Refused, ops, e.Message);
            }
            if (outputFiles.Length != run.Outputs.Count) return new Result(name, Outcome.Failed, ops, $"{outputFiles.Length} output files for {run.Outputs.Count} outputs");
            for (int o = 0; o < outputFiles.Length; o++)
            {
                var expected = OnnxModel.ReadTensorFile(outputFiles[o]);
                var actual = run.Outputs[o];
                if (expected.Type is ElementType.Float16 or ElementType.BFloat16 or ElementType.String)
                    return new Result(name, Outcome.Refused, ops, $"output {o} is {expected.Type}; Noether computes in float32 and float64");
                if (!actual.Shape.SequenceEqual(expected.Shape))
                    return new Result(name, Outcome.Failed, ops, $"{Path.GetFileName(set)} output {o}: shape {Errors.Shape(actual.Shape)}, expected {Errors.Shape(expected.Shape)}");
                var a = actual.ToDoubles();
                for (int i = 0; i < a.Length; i++)
                {
                    double e = expected.Data[i];
                    bool close = (double.IsNaN(e) && double.IsNaN(a[i])) || a[i] == e || Math.Abs(a[i] - e) <= 1e-7 + 1e-3 * Math.Abs(e);
                    if (!close) return new Result(name, Outcome.Failed, ops, $"{Path.GetFileName(set)} output {o}[{i}] = {a[i]:R}, expected {e:R}");
                }
            }
        }
        return new Result(name, Outcome.Passed, ops, "");
    }

    internal static string Table(IReadOnlyList<Result> results)
    {
        var sb = new StringBuilder();
        int passed = results.Count(r => r.Outcome == Outcome.Passed), refused = results.Count(r => r.Outcome == Outcome.Refused);
        sb.AppendLine($"{results.Count} node tests: {passed} passed, {refused} refused, {results.Count - passed - refused} failed.");
        sb.AppendLine();
        sb.AppendLine("| op | tests | passed | refused | failed |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        // Each test counts under the op its name starts with (test_conv_with_strides → Conv), so expanded tests count once.
        foreach (var group in results.GroupBy(r => MainOp(r)).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            int p = group.Count(r => r.Outcome == Outcome.Passed), f = group.Count(r => r.Outcome == Outcome.Failed);
            sb.AppendLine($"| {group.Key} | {group.Count()} | {p} | {group.Count() - p - f} | {f} |");
        }
        return sb.ToString();
    }

    private static string MainOp(Result r)
    {
        var stem = r.Test["test_".Length..].Replace("_", "", StringComparison.Ordinal);
        var best = r.Ops.Where(o => stem.StartsWith(o, StringComparison.OrdinalIgnoreCase)).OrderByDescending(o => o.Length).FirstOrDefault();
        return best ?? (r.Ops.Count == 1 ? r.Ops[0] : "(" + r.Test["test_".Length..].Split('_')[0] + ")");
    }
}
