using System.CommandLine;
using System.Globalization;
using Noether.Cli.Figures;
using Noether.Graphs;
using Noether.Interop;
using Noether.Serialization;
using Noether.Symmetry.Census;
using Noether.Tensors;
using Spectre.Console;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether symmetries --model m.onnx [--input x.npy --labels y.npy] --out DIR</c>: the symmetry census of an imported
/// model (every site where a continuous group acts on the parameters, its dimension and conserved quantities), each site
/// verified in float64 at the model's weights on a batch (loss invariance under a random finite element, ⟨∇L, Mθ⟩ = 0),
/// and the orbit dimension as the rank of the tangent map. Writes census.csv, conserved.csv, summary.json and census.png.
/// </summary>
internal static class SymmetriesCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The .onnx model (float parameters; BatchNorm kept as nodes: see docs/onnx.md).", Required = true };
        var input = new Option<string?>("--input") { Description = "A batch of inputs (.npy, the model's input shape); default: a seeded N(0, 1) batch." };
        var labels = new Option<string?>("--labels") { Description = "Class labels for --input (.npy of integers); default: seeded random labels." };
        var batch = CommonOptions.PositiveInt("--batch", "Batch size used for the checks (the first rows of --input, or the synthetic batch).", 8);
        var batchNorm = new Option<string>("--batch-norm") { Description = "BatchNormalization semantics: model (as the node says), inference (running statistics) or training (batch statistics).", DefaultValueFactory = _ => "model" };
        batchNorm.AcceptOnlyFromAmong("model", "inference", "training");
        var seed = CommonOptions.Seed();
        var output = CommonOptions.Out("results/symmetries");
        var force = CommonOptions.Force();
        var command = new Command("symmetries", "The symmetry census of an ONNX model: sites, groups, dimensions and conserved quantities, verified numerically at its weights.")
        {
            model, input, labels, batch, batchNorm, seed, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            string path = parse.GetValue(model)!;
            var options = new GraphOptions
            {
                BatchNorm = parse.GetValue(batchNorm) switch { "inference" => BatchNormMode.Inference, "training" => BatchNormMode.Training, _ => BatchNormMode.FromModel },
            };
            var graph = OnnxModel.Load(path).ToGraph<double>(options);
            if (graph.Inputs.Count != 1) throw new ArgumentException($"--model {path}: the census needs a model with one input (it has {graph.Inputs.Count})");
            var rng = new Random(parse.GetValue(seed));
            var (x, y, synthetic) = Batch(graph, parse.GetValue(input), parse.GetValue(labels), parse.GetValue(batch), rng);
            return Task.FromResult(OutputFolder.Run(parse.GetValue(output), parse.GetValue(force), token, outDir =>
            {
                var census = SymmetryCensus.Take(graph);
                var check = CensusVerification.Verify(graph, census, x, y, rng);
                Print(path, census, check, synthetic, x.Dim(0));
                Write(outDir, path, census, check, synthetic, x.Dim(0), parse.GetValue(seed));
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    private static (Tensor<double> X, int[] Labels, bool Synthetic) Batch(Graph<double> graph, string? inputPath, string? labelsPath, int batch, Random rng)
    {
        if ((inputPath is null) != (labelsPath is null)) throw new ArgumentException("--input and --labels go together (give both or neither)");
        var declared = graph.Inputs[0];
        if (inputPath is not null)
        {
            var host = Npy.Read(inputPath);
            if (host.Rank == 0 || host.Shape[0] < 1) throw new ArgumentException($"--input {inputPath}: expected a batch (first dimension ≥ 1), got shape [{string.Join(", ", host.Shape)}]");
            int n = Math.Min(batch, host.Shape[0]), per = host.Length / host.Shape[0];
            var x = Tensor<double>.FromDoubles(host.Data.AsSpan(0, n * per).ToArray(), [n, .. host.Shape[1..]]);
            var l = Npy.Read(labelsPath!);
            if (l.Length < n) throw new ArgumentException($"--labels {labelsPath}: {l.Length} labels for {n} inputs");
            return (x, l.Data.Take(n).Select(v => (int)v).ToArray(), false);
        }
        var shape = declared.Shape.Select((d, i) => d ?? (i == 0 ? batch : throw new ArgumentException($"--model: input '{declared.Name}' has a dynamic dimension {i}; give --input"))).ToArray();
        var data = new double[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var xs = Tensor<double>.FromDoubles(data, shape);
        int classes = graph.Evaluate(xs)[0] is { Rank: 2 } logits ? logits.Dim(1) : throw new ArgumentException("--model: the first output is not logits [batch, classes]");
        return (xs, Enumerable.Range(0, shape[0]).Select(_ => rng.Next(classes)).ToArray(), true);
    }

    private static string Status(SiteCheck s) => s.Passed ? "verified" : s.Site.Exact ? "FAILED" : "approximate (failed as exact)";

    private static void Print(string path, SymmetryCensus census, CensusVerificationResult check, bool synthetic, int n)
    {
        ExperimentConsole.Line($"{path}: symmetry census ({census.Sites.Count} sites, dimension {census.Dimension}); checked in float64 on {(synthetic ? "a seeded synthetic" : "the given")} batch of {n}, loss {ExperimentConsole.Sci(check.Loss)}");
        if (census.IsEmpty) ExperimentConsole.Line("empty census: no continuous parameter symmetry found");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("#").AddColumn("kind").AddColumn("site").AddColumn("group").AddColumn(new TableColumn("dim").RightAligned())
            .AddColumn("conserved").AddColumn(new TableColumn("invariance").RightAligned()).AddColumn(new TableColumn("⟨∇L,Mθ⟩").RightAligned()).AddColumn("status");
        for (int i = 0; i < check.Sites.Count; i++)
        {
            var s = check.Sites[i];
            table.AddRow((i + 1).ToString(CultureInfo.InvariantCulture), s.Site.Kind.ToString(), Markup.Escape(s.Site.Location), Markup.Escape(s.Site.Group),
                s.Site.Dimension.ToString(CultureInfo.InvariantCulture), Markup.Escape(s.Site.Conserved), ExperimentConsole.Sci(s.Invariance), ExperimentConsole.Sci(s.Orthogonality),
                s.Passed ? "[green]verified[/]" : $"[red]{Markup.Escape(Status(s))}[/]");
        }
        if (check.Sites.Count > 0) ExperimentConsole.Write(table);
        var o = check.Orbit;
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"orbit dimension: rank {o.Rank} of the tangent map vs the census's {o.CensusDimension}; singular-value gap {ExperimentConsole.Sci(o.Gap)}{(o.ClearGap ? "" : " (NO CLEAR GAP: rank decision flagged)")}{(o.Rank == o.CensusDimension ? "" : " — MISMATCH")}"));
        foreach (var d in census.Discrete)
            ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture, $"discrete: permutations of {d.Count} {d.What} at {d.Location} (order {d.Count}! ≈ 10^{d.Log10Order:F1}; no conserved quantity)"));
        foreach (var note in census.Notes) ExperimentConsole.Line($"note: {note}");
    }

    private static void Write(string outDir, string path, SymmetryCensus census, CensusVerificationResult check, bool synthetic, int n, int seed)
    {
        var csv = new CsvTable("site", "kind", "location", "group", "dimension", "exact", "conserved", "q_min", "q_mean", "q_max", "invariance", "orthogonality", "status", "note");
        var qs = new CsvTable("site", "generator", "q");
        for (int i = 0; i < check.Sites.Count; i++)
        {
            var s = check.Sites[i];
            csv.AddRow(i + 1, s.Site.Kind.ToString(), s.Site.Location, s.Site.Group, s.Site.Dimension, s.Site.Exact, s.Site.Conserved,
                s.Conserved.Min(), s.Conserved.Average(), s.Conserved.Max(), s.Invariance, s.Orthogonality, Status(s), s.Site.Note ?? "");
            for (int g = 0; g < s.Conserved.Length; g++) qs.AddRow(i + 1, s.Site.Generators[g].Name, s.Conserved[g]);
        }
        csv.Save(Path.Combine(outDir, "census.csv"));
        qs.Save(Path.Combine(outDir, "conserved.csv"));

        var plot = Figure.Create($"Conserved quantities per site: {Path.GetFileName(path)}", "site (census.csv row)", "Q at the weights");
        for (int i = 0; i < check.Sites.Count; i++)
        {
            var q = check.Sites[i].Conserved;
            var xs = q.Select((_, k) => i + 1 + 0.6 * ((k + 0.5) / q.Length - 0.5)).ToArray();
            var sc = plot.Add.Scatter(xs, q, Panels.Palette[(int)check.Sites[i].Site.Kind % Panels.Palette.Length]);
            sc.LineWidth = 0;
            sc.MarkerSize = 3;
        }
        Figure.Save(plot, Path.Combine(outDir, "census.png"), 1000, 500);

        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "symmetries",
            model = path,
            batch = new { size = n, synthetic, seed },
            loss = check.Loss,
            empty = census.IsEmpty,
            dimension = census.Dimension,
            orbit = new { rank = check.Orbit.Rank, census_dimension = check.Orbit.CensusDimension, gap = check.Orbit.Gap, clear_gap = check.Orbit.ClearGap },
            tolerance = CensusVerification.DefaultTolerance,
            all_verified = check.AllPassed,
            sites = check.Sites.Select((s, i) => new
            {
                site = i + 1, kind = s.Site.Kind.ToString(), location = s.Site.Location, group = s.Site.Group, dimension = s.Site.Dimension,
                exact = s.Site.Exact, conserved = s.Site.Conserved, invariance = s.Invariance, orthogonality = s.Orthogonality, status = Status(s),
            }).ToArray(),
            discrete = census.Discrete.Select(d => new { location = d.Location, what = d.What, count = d.Count, log10_order = d.Log10Order }).ToArray(),
            notes = census.Notes,
            law_count = "not computed by this command (see docs/census.md)",
        });
    }
}
