using Noether.Graphs;

namespace Noether.Symmetry.Census;

/// <summary>
/// The scale invariance of the weights feeding a LayerNormalization / RMSNormalization. The normalised value is a sum of
/// "writers" — a Gemm, Conv or MatMul with a weight tensor, a bias or another parameter added to it (a transformer's
/// residual stream: embedding + positions + every block's output projection) — and it may be read only by
/// normalisations and by the Adds that build it. Scaling every writer's parameters by e^t then scales the whole value,
/// which the normalisation removes, up to its ε: one approximate generator per such value (exact at ε = 0, where the
/// verification and the discovery check it). A writer parameter used anywhere else, or any other reader, blocks the site.
/// </summary>
internal sealed class NormalizationSites(Graph<double> graph, IReadOnlyDictionary<string, List<(GraphNode Node, int Input)>> consumers)
{
    private readonly Dictionary<string, GraphNode> _producer = graph.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).GroupBy(p => p.o).ToDictionary(g => g.Key, g => g.First().n);

    private static bool IsNormalization(GraphNode n) => n.OpType is "LayerNormalization" or "RMSNormalization";

    public (List<CensusSite> Sites, List<string> Notes) Find()
    {
        var sites = new List<CensusSite>();
        var notes = new List<string>();
        var seen = new HashSet<string>();
        foreach (var norm in graph.Nodes.Where(IsNormalization))
        {
            string v = norm.Inputs[0];
            if (seen.Contains(v)) continue;
            var (stream, writers, blocker) = Stream(v);
            foreach (var s in stream) seen.Add(s);
            if (blocker is not null)
            {
                notes.Add($"{norm.OpType} '{norm.Name}': the weights feeding it are not enumerated as scale invariant ({blocker})");
                continue;
            }
            var readers = stream.SelectMany(s => consumers.GetValueOrDefault(s) ?? []).Select(c => c.Node).Where(IsNormalization).Distinct().ToArray();
            double eps = readers.Max(r => r.Attributes.TryGetValue("epsilon", out var a) && a.Float is double e ? e : 1e-5);
            var entries = writers.Select(w => new ParameterEntries(w, Enumerable.Range(0, graph.Parameter(w)!.Length).ToArray(), Enumerable.Repeat(1.0, graph.Parameter(w)!.Length).ToArray())).ToArray();
            string names = string.Join(", ", readers.Select(r => r.Name));
            sites.Add(new CensusSite(SiteKind.NormalizationScale, $"{string.Join("/", writers)} → {names}", "R>0", "Σ ‖w‖² over the writers",
                [new CensusGenerator("scale", GeneratorKind.Scaling, entries)], exact: false,
                note: $"ε = {eps.ToString("G3", CultureInfo.InvariantCulture)} makes the invariance approximate; exact at ε = 0 ({readers.Length} normalisation(s) read the value)"));
        }
        return (sites, notes);
    }

    /// <summary>
    /// The rescalings across a LayerNorm/RMSNorm's affine output (normalised over the last axis): feature j's γ_j and β_j
    /// → e^t·, and the input column j of every consumer → e^{−t}·. The consumers may be several (a transformer's Q, K and
    /// V projections read one LayerNorm): each must be a MatMul or Gemm with its own weight on the last axis, possibly
    /// after a ReduceMean over other axes (the mean over tokens before a classification head). Exact.
    /// </summary>
    public (List<CensusSite> Sites, List<string> Notes) AffineRescalings()
    {
        var sites = new List<CensusSite>();
        var notes = new List<string>();
        foreach (var norm in graph.Nodes.Where(IsNormalization))
        {
            if (norm.Attributes.TryGetValue("axis", out var ax) && ax.Int is long a && a != -1) continue;
            if (norm.Inputs.Length < 2 || graph.Parameter(norm.Inputs[1]) is not { } gamma || gamma.Value.ShapeArray is not [var d]) continue;
            string? beta = norm.Inputs.Length > 2 && norm.Inputs[2].Length > 0 ? norm.Inputs[2] : null;
            if (beta is not null && (graph.Parameter(beta) is not { } bp || bp.Length != d)) continue;
            var columns = new List<Func<int, ParameterEntries>>();
            var names = new List<string>();
            var pending = new Queue<string>();
            pending.Enqueue(norm.Outputs[0]);
            string? blocker = null;
            while (pending.Count > 0 && blocker is null)
            {
                string v = pending.Dequeue();
                if (graph.Outputs.Contains(v)) { blocker = $"'{v}' is a graph output"; break; }
                foreach (var (node, input) in consumers.GetValueOrDefault(v) ?? [])
                {
                    if (node.OpType == "Shape") continue; // reads the shape only
                    if (input == 0 && node.OpType == "ReduceMean" && ReducesOnlyOtherAxes(node)) { pending.Enqueue(node.Outputs[0]); continue; }
                    if (input == 0 && Column(node, d) is { } column) { columns.Add(column); names.Add(node.Name); continue; }
                    blocker = $"{node.OpType} '{node.Name}' reads it";
                    break;
                }
            }
            if (blocker is not null || columns.Count == 0)
            {
                notes.Add($"{norm.OpType} '{norm.Name}': no rescaling across its affine output ({blocker ?? "no linear consumer"})");
                continue;
            }
            var gens = Enumerable.Range(0, d).Select(j =>
            {
                var entries = new List<ParameterEntries> { new(gamma.Name, [j], [1.0]) };
                if (beta is not null) entries.Add(new ParameterEntries(beta, [j], [1.0]));
                entries.AddRange(columns.Select(c => c(j)));
                return new CensusGenerator($"feature {j}", GeneratorKind.Scaling, entries);
            }).ToList();
            sites.Add(new CensusSite(SiteKind.Rescaling, $"{gamma.Name}{(beta is null ? "" : "/" + beta)} → {string.Join(", ", names)}", $"(R>0)^{d}",
                "Q_j = γ_j² + β_j² − Σ_consumers ‖W[:, j]‖²", gens));
        }
        return (sites, notes);
    }

    // A mean over axis 1 only (tokens of [N, T, D]): channel-wise linear in the last axis. (A 2-D input reduced over axis 1
    // would leave a vector no MatMul/Gemm consumer of width D accepts; a wrong site would fail the verification anyway.)
    private static bool ReducesOnlyOtherAxes(GraphNode n) =>
        n.Attributes.TryGetValue("axes", out var a) && a.Ints is [1] && n.Inputs.Length == 1;

    // Input column j (the entries multiplying input feature j) of a MatMul / Gemm consumer with its own weight, or null.
    private Func<int, ParameterEntries>? Column(GraphNode n, int d)
    {
        string w;
        bool outIn;
        if (n.OpType == "MatMul" && n.Inputs.Length == 2)
        {
            if (graph.Parameter(n.Inputs[1]) is not null) { w = n.Inputs[1]; outIn = false; }
            else if (_producer.TryGetValue(n.Inputs[1], out var t) && t.OpType == "Transpose" && graph.Parameter(t.Inputs[0]) is not null
                     && (consumers.GetValueOrDefault(n.Inputs[1])?.Count ?? 0) == 1
                     && !(t.Attributes.TryGetValue("perm", out var perm) && perm.Ints is { } pi && !(pi.Length == 2 && pi[0] == 1 && pi[1] == 0)))
            { w = t.Inputs[0]; outIn = true; }
            else return null;
        }
        else if (n.OpType == "Gemm" && !(n.Attributes.TryGetValue("transA", out var ta) && ta.Int is long tv && tv != 0) && graph.Parameter(n.Inputs[1]) is not null)
        {
            w = n.Inputs[1];
            outIn = n.Attributes.TryGetValue("transB", out var tb) && tb.Int is long bv && bv != 0;
        }
        else return null;
        if ((consumers.GetValueOrDefault(w)?.Count ?? 0) != 1 || graph.Parameter(w)!.Value.ShapeArray is not [var r0, var r1]) return null;
        int outs = outIn ? r0 : r1, ins = outIn ? r1 : r0;
        if (ins != d) return null;
        return j =>
        {
            var idx = Enumerable.Range(0, outs).Select(r => outIn ? r * ins + j : j * outs + r).ToArray();
            return new ParameterEntries(w, idx, Enumerable.Repeat(-1.0, outs).ToArray());
        };
    }

    // The closure of the normalised value under "built by Add" and "read by Add": its values, writer parameters, or why not.
    private (HashSet<string> Values, List<string> Writers, string? Blocker) Stream(string start)
    {
        var values = new HashSet<string>();
        var writers = new List<string>();
        var queue = new Queue<string>();
        queue.Enqueue(start);
        while (queue.Count > 0)
        {
            string v = queue.Dequeue();
            if (!values.Add(v)) continue;
            if (graph.Outputs.Contains(v)) return (values, writers, $"'{v}' is a graph output");
            foreach (var (node, input) in consumers.GetValueOrDefault(v) ?? [])
            {
                if ((IsNormalization(node) && input == 0) || node.OpType == "Shape") continue; // a Shape reads the shape only
                if (node.OpType == "Add") { queue.Enqueue(node.Outputs[0]); continue; }
                return (values, writers, $"'{v}' is read by {node.OpType} '{node.Name}'");
            }
            if (graph.Parameter(v) is not null)
            {
                writers.Add(v);
                continue;
            }
            if (!_producer.TryGetValue(v, out var p)) return (values, writers, $"'{v}' is a graph input");
            if (p.OpType == "Add")
            {
                foreach (var i in p.Inputs) queue.Enqueue(i);
                continue;
            }
            if (WriterParameters(p) is not { Count: > 0 } ws) return (values, writers, $"'{v}' comes from {p.OpType} '{p.Name}', not a linear map with its own weights");
            writers.AddRange(ws);
        }
        var distinct = writers.Distinct().ToList();
        foreach (var w in distinct)
        {
            int uses = consumers.GetValueOrDefault(w)?.Count ?? 0;
            if (uses != 1) return (values, distinct, $"the parameter '{w}' is used {uses} times");
        }
        return (values, distinct, null);
    }

    // The weight (and bias) of a Gemm / Conv / MatMul whose output is linear in them (weights given directly or through a Transpose).
    private List<string>? WriterParameters(GraphNode n)
    {
        string? Weight(string value)
        {
            if (graph.Parameter(value) is not null) return value;
            return _producer.TryGetValue(value, out var t) && t.OpType == "Transpose" && graph.Parameter(t.Inputs[0]) is not null
                && (consumers.GetValueOrDefault(value)?.Count ?? 0) == 1 ? t.Inputs[0] : null;
        }
        switch (n.OpType)
        {
            case "MatMul" when n.Inputs.Length == 2 && Weight(n.Inputs[1]) is { } w && Weight(n.Inputs[0]) is null:
                return [w];
            case "Gemm" or "Conv" when n.Inputs.Length >= 2 && graph.Parameter(n.Inputs[1]) is not null && graph.Parameter(n.Inputs[0]) is null:
            {
                var list = new List<string> { n.Inputs[1] };
                if (n.Inputs.Length > 2 && n.Inputs[2].Length > 0)
                {
                    if (graph.Parameter(n.Inputs[2]) is null) return null; // a constant bias would not scale
                    list.Add(n.Inputs[2]);
                }
                return list;
            }
            default:
                return null;
        }
    }
}
