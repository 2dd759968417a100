using System.Numerics;
using Noether.Autodiff;
using Noether.Data;
using Noether.Experiments;
using Noether.Graphs;
using Noether.Interop;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether model show FILE.onnx</c> (inputs, parameters, op counts, what was folded) and <c>noether model run FILE.onnx
/// --input x.npy [--input …] --out y.npy</c> (the imported graph on the user's own inputs: the one-line check that the
/// import is faithful). Every problem with the file or the inputs is one line naming the file (and the node), exit 2,
/// nothing written.
/// </summary>
internal static class ModelCommand
{
    public static Command Create()
    {
        var command = new Command("model", "Inspect or run an ONNX model (as written by torch.onnx.export).");
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Run());
        return command;
    }

    private static Argument<string> FileArgument() => new("file") { Description = "The .onnx file." };

    private static Command Show()
    {
        var file = FileArgument();
        var batch = new Option<int>("--batch") { Description = "The batch size put in for a dynamic first dimension when folding shape computations.", DefaultValueFactory = _ => 1 };
        var command = new Command("show", "Print an ONNX model's inputs, parameters (names and shapes), op counts and the shape computations folded at import.") { file, batch };
        CliAction.Set(command, parse =>
        {
            string path = parse.GetValue(file)!;
            int n = parse.GetValue(batch);
            if (n < 1) throw Errors.Argument("--batch", $"--batch {n}: expected a positive batch size");
            var model = OnnxModel.Load(path);
            var graph = model.ToGraph<float>();
            // A model with one input of fixed sample shape: the batch's values are known before the pass (--batch is a count).
            if (graph.Inputs is [{ } only] && only.Shape.Skip(1).All(d => d is not null))
                MemoryBudget.Check(FormattableString.Invariant($"--batch {n}"), MemoryEstimate.GraphForward(graph.Parameters.Sum(p => (long)p.Length),
                    MemoryEstimate.RecordedValues(graph, only.Shape.Skip(1).Select(d => d!.Value).ToArray()), n));
            // Fold on inputs of the declared shapes (the batch dimension set by --batch).
            var tape = new Tape<float>();
            GraphRun<float> run;
            using (tape.Pause())
            {
                var inputs = graph.Inputs.Select(i => Zeros(path, tape, i, n)).ToArray();
                run = Wrap(path, () => graph.Run(tape, inputs));
            }
            var console = CliAction.Out;
            console.WriteLine($"{path}: {model.Producer}, opset {model.Opset}, {graph.Nodes.Count} nodes");
            foreach (var i in graph.Inputs) console.WriteLine($"input  {i.Name}: {i.Type} {Graph<float>.DescribeShape(i)}");
            for (int o = 0; o < graph.Outputs.Count; o++)
                console.WriteLine($"output {graph.Outputs[o]}: {ShapeText(run.Outputs[o].Shape)} at batch {n}");
            var parameters = new Table().Border(TableBorder.Rounded).AddColumn("parameter").AddColumn("shape").AddColumn(new TableColumn("elements").RightAligned());
            foreach (var p in graph.Parameters) parameters.AddRow(Markup.Escape(p.Name), ShapeText(p.Value.Shape), p.Length.ToString(CultureInfo.InvariantCulture));
            console.Write(parameters);
            console.WriteLine($"{graph.Parameters.Count} parameters, {graph.Parameters.Sum(p => (long)p.Length)} elements; {graph.Constants.Count} constant initializers (running statistics, integer tensors, scalars)");
            var folded = run.Folded.GroupBy(f => f.OpType).ToDictionary(g => g.Key, g => g.Count());
            var ops = new Table().Border(TableBorder.Rounded).AddColumn("op").AddColumn(new TableColumn("nodes").RightAligned()).AddColumn(new TableColumn("folded").RightAligned());
            foreach (var g in graph.Nodes.GroupBy(x => x.OpType).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
                ops.AddRow(g.Key, g.Count().ToString(CultureInfo.InvariantCulture), folded.GetValueOrDefault(g.Key).ToString(CultureInfo.InvariantCulture));
            console.Write(ops);
            console.WriteLine($"{run.Folded.Count} of {graph.Nodes.Count} nodes folded (evaluated at import from constants and input shapes, never recorded)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Run()
    {
        var file = FileArgument();
        var inputs = new Option<string[]>("--input") { Description = "One input per graph input, in order: a .npy (float32/float64/integer) or an ONNX TensorProto .pb file.", Required = true, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
        var output = new Option<string>("--out") { Description = "Where to write the output as .npy (several outputs: y.npy, y.1.npy, …).", Required = true };
        var command = new Command("run", "Run an ONNX model on your own inputs and write its outputs as .npy (float32, or float64 when an input is float64).") { file, inputs, output };
        CliAction.Set(command, parse =>
        {
            string path = parse.GetValue(file)!;
            string outPath = parse.GetValue(output)!;
            var files = parse.GetValue(inputs)!;
            var model = OnnxModel.Load(path);
            var tensors = files.Select(ReadInput).ToArray();
            return tensors.Any(t => t.Type == ElementType.Double) ? Execute<double>(path, model, tensors, outPath) : Execute<float>(path, model, tensors, outPath);
        });
        return command;
    }

    private static int Execute<T>(string path, OnnxModel model, HostTensor[] tensors, string outPath) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var graph = model.ToGraph<T>();
        if (tensors.Length != graph.Inputs.Count)
            throw Errors.Argument("--input", $"{path}: {tensors.Length} --input files for {graph.Inputs.Count} graph inputs ({string.Join(", ", graph.Inputs.Select(i => i.Name))})");
        var tape = new Tape<T>();
        GraphRun<T> run;
        using (tape.Pause())
        {
            var values = tensors.Select((t, i) =>
            {
                if (t.IsReal && t.Rank > Tensors.Tensor<T>.MaxRank)
                    throw new DataFormatException(path, $"input '{graph.Inputs[i].Name}' is {ShapeText(t.Shape)}; Noether's runtime tensors stop at rank {Tensors.Tensor<T>.MaxRank}");
                return t.IsReal ? new GraphValue<T>(tape.Constant(t.ToTensor<T>())) : new GraphValue<T>(t);
            }).ToArray();
            run = Wrap(path, () => graph.Run(tape, values));
        }
        var type = typeof(T) == typeof(double) ? ElementType.Double : ElementType.Float;
        // Serialise every output first, then write: a failure leaves nothing behind.
        var files = run.Outputs.Select((o, i) => (Path: i == 0 ? outPath : Path.ChangeExtension(outPath, null) + $".{i}" + Path.GetExtension(outPath),
            Bytes: Npy.Serialize(o.Host is { IsReal: false } ? ElementType.Double : type, o.Shape, o.ToDoubles()))).ToArray();
        foreach (var (p, bytes) in files) AtomicFile.WriteAllBytes(p, bytes);
        foreach (var (p, _) in files) CliAction.Out.WriteLine($"wrote {p}");
        return ExitCodes.Ok;
    }

    private static HostTensor ReadInput(string file) =>
        file.EndsWith(".pb", StringComparison.OrdinalIgnoreCase) ? OnnxModel.ReadTensorFile(file) : Npy.Read(file);

    private static GraphValue<float> Zeros(string path, Tape<float> tape, GraphInput input, int batch)
    {
        var shape = new int[input.Shape.Length];
        for (int d = 0; d < shape.Length; d++)
            shape[d] = input.Shape[d] ?? (d == 0 ? batch : throw new DataFormatException(path,
                $"input '{input.Name}' has an unresolved dynamic dimension {d} ('{input.DimNames[d] ?? "?"}'); only the batch dimension (0) is set, by --batch"));
        if (input.Type is ElementType.Float or ElementType.Double) return new GraphValue<float>(tape.Constant(Tensors.Tensor<float>.Zeros(shape)));
        throw new DataFormatException(path, $"input '{input.Name}' is {input.Type}; show folds models whose inputs are float tensors");
    }

    private static GraphRun<T> Wrap<T>(string path, Func<GraphRun<T>> run) where T : unmanaged, IFloatingPointIeee754<T>
    {
        try
        {
            return run();
        }
        catch (GraphException e)
        {
            throw new DataFormatException(path, e.Message, e);
        }
    }

    private static string ShapeText(ReadOnlySpan<int> shape) => shape.Length == 0 ? "scalar" : string.Join("×", shape.ToArray());
}
