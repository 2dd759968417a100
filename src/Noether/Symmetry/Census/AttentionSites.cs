using Noether.Autodiff;
using Noether.Graphs;
using Noether.Tensors;

namespace Noether.Symmetry.Census;

/// <summary>
/// Finds multi-head attention in a graph as PyTorch exports it — projections MatMul(x, Transpose(W)) + Add(b), heads split
/// by Reshape/Transpose, scores MatMul(Q, Kᵀ), a constant scale, Softmax, MatMul(·, V), heads merged by Transpose/Reshape
/// into the output projection — and lists per head h: GL(d_k) acting on (W_Q,h, b_Q,h) and (W_K,h, b_K,h) (B and B⁻ᵀ),
/// GL(d_v) acting on (W_V,h, b_V,h) and the columns of W_O for head h (B and B⁻¹), and the translation of the key bias
/// (softmax over keys ignores q·b_K). Heads and d come from the split Reshape's shape, folded by one run at batch 1.
/// Every value on the pattern must have a single consumer; anything else leaves the attention unmatched (and noted).
/// </summary>
internal sealed class AttentionSites(Graph<double> graph, IReadOnlyDictionary<string, List<(GraphNode Node, int Input)>> consumers)
{
    // A projection x ↦ x Wᵀ (+ b) with its own weight, or a piece of one (rows Offset … Offset + Out − 1 of a weight with
    // Total output rows: nn.MultiheadAttention's packed in-projection cut into Q, K and V).
    private sealed record Projection(GraphNode MatMul, string Input, string Output, string Weight, bool OutIn, string? Bias, int Out, int In, int Offset = 0, int Total = 0)
    {
        private int Rows => Total == 0 ? Out : Total;

        // Entry (row r of the output features, input feature j) of the weight tensor.
        public int Index(int r, int j) => OutIn ? (Offset + r) * In + j : j * Rows + Offset + r;

        // Entry of the bias for output feature r.
        public int BiasIndex(int r) => Offset + r;
    }

    private readonly Dictionary<string, GraphNode> _producer = graph.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).GroupBy(p => p.o).ToDictionary(g => g.Key, g => g.First().n);

    public (List<CensusSite> Sites, List<string> Notes) Find()
    {
        var sites = new List<CensusSite>();
        var notes = new List<string>();
        var projections = FindProjections();
        projections.AddRange(Pieces(projections, notes));
        var byOutput = projections.ToDictionary(p => p.Output);
        var byInput = projections.GroupBy(p => p.Input).ToDictionary(g => g.Key, g => g.ToList());
        var pending = new List<(Projection Q, Projection K, Projection V, Projection O, string QShape, string VShape, GraphNode Scores)>();
        foreach (var s in graph.Nodes.Where(n => n.OpType == "MatMul" && n.Inputs.Length == 2 && !IsWeight(n.Inputs[1])))
        {
            if (TraceToProjection(s.Inputs[0], byOutput) is not { } q || TraceToProjection(s.Inputs[1], byOutput) is not { } k) continue;
            string v = s.Outputs[0];
            GraphNode? next;
            while ((next = Single(v)) is { OpType: "Div" or "Mul" } scale && scale.Inputs.Skip(1).All(i => graph.Constants.ContainsKey(i) || IsFoldedConstant(i)))
                v = scale.Outputs[0];
            if (next is not { OpType: "Softmax" } softmax || (softmax.Attributes.TryGetValue("axis", out var ax) && ax.Int is long a && a != -1 && a != 3))
            {
                notes.Add($"attention scores '{s.Name}': no Softmax over keys follows; its heads are not enumerated");
                continue;
            }
            if (Single(softmax.Outputs[0]) is not { OpType: "MatMul" } mix || mix.Inputs[0] != softmax.Outputs[0] || TraceToProjection(mix.Inputs[1], byOutput) is not { } vp)
            {
                notes.Add($"attention '{s.Name}': the softmax is not applied to a projected V; its heads are not enumerated");
                continue;
            }
            string merged = mix.Outputs[0];
            while (Single(merged) is { OpType: "Transpose" or "Reshape" } m && m.Inputs[0] == merged) merged = m.Outputs[0];
            if (!byInput.TryGetValue(merged, out var os) || os.Count != 1 || consumers[merged].Count != 1)
            {
                notes.Add($"attention '{s.Name}': the merged heads do not feed a single output projection; W_V/W_O is not enumerated");
                continue;
            }
            pending.Add((q.P, k.P, vp.P, os[0], q.Shape, vp.Shape, s));
        }
        if (pending.Count == 0)
        {
            if (notes.Count == 0 && graph.Nodes.Any(n => n.OpType == "MatMul" && n.Inputs.Length == 2 && !IsWeight(n.Inputs[0]) && !IsWeight(n.Inputs[1])))
                notes.Add("MatMul of two activations (attention?) not matched to per-head projections (e.g. nn.MultiheadAttention's packed in-projection): its GL(d_k)/GL(d_v) symmetries are not enumerated");
            return (sites, notes);
        }
        var shapes = FoldShapes(pending.SelectMany(p => new[] { p.QShape, p.VShape }).Distinct().ToArray(), notes);
        if (shapes is null) return (sites, notes);
        foreach (var (q, k, v, o, qs, vs, s) in pending)
        {
            var qShape = shapes[qs];
            var vShape = shapes[vs];
            if (qShape.Length < 2 || vShape.Length < 2) continue;
            int heads = qShape[^2], dk = qShape[^1], dv = vShape[^1];
            if (heads * dk != q.Out || k.Out != q.Out || vShape[^2] != heads || heads * dv != v.Out || o.In != v.Out || (q.Bias is null) != (k.Bias is null))
            {
                notes.Add($"attention '{s.Name}': head split {string.Join("×", qShape)} does not match the projections ({q.Out}, {k.Out}, {v.Out} → {o.In}); not enumerated");
                continue;
            }
            for (int h = 0; h < heads; h++)
                sites.Add(new CensusSite(SiteKind.GeneralLinear, $"{q.Weight} ↔ {k.Weight}, head {h}", $"GL({dk})",
                    "Ŵ_Q,h Ŵ_Q,hᵀ − Ŵ_K,h Ŵ_K,hᵀ (Ŵ = [W | b], d_k × d_k)", GlPair(q, k, h, dk, keyColumns: false)));
            for (int h = 0; h < heads; h++)
                sites.Add(new CensusSite(SiteKind.GeneralLinear, $"{v.Weight} ↔ {o.Weight}, head {h}", $"GL({dv})",
                    "Ŵ_V,h Ŵ_V,hᵀ − W_O,hᵀ W_O,h (d_v × d_v)", GlPair(v, o, h, dv, keyColumns: true)));
            // Softmax's weights over the keys sum to 1, so the value bias reaches the output projection as a constant: it can
            // move into the output bias, b_V → b_V + s e_j, b_O → b_O − s W_O[:, j] (a direction that depends on W_O: no Q).
            if (v.Bias is { } vb && o.Bias is { } ob && v.Out == o.In)
            {
                var weight = graph.Parameter(o.Weight)!.Value.Data;
                sites.Add(new CensusSite(SiteKind.BetaTransfer, $"{vb} (value bias) → {ob}", $"R^{v.Out}", NormalizationSites.NoConservedQuantity,
                    Enumerable.Range(0, v.Out).Select(j => new CensusGenerator($"b_V[{j}]", GeneratorKind.Translation,
                        [new ParameterEntries(vb, [v.BiasIndex(j)], [1.0]),
                         new ParameterEntries(ob, Enumerable.Range(0, o.Out).Select(o.BiasIndex).ToArray(), Enumerable.Range(0, o.Out).Select(r => -weight[o.Index(r, j)]).ToArray())])).ToList(),
                    note: "b_V + s e_j, b_O − s W_O[:, j] (the attention weights sum to 1): a direction that depends on W_O; no conserved quantity"));
            }
            if (k.Bias is { } kb)
                sites.Add(new CensusSite(SiteKind.Translation, $"{kb} (key bias) under softmax over keys", $"R^{k.Out}", "b_K itself (its gradient is zero)",
                    Enumerable.Range(0, k.Out).Select(i => new CensusGenerator($"b_K[{i}]", GeneratorKind.Translation, [new ParameterEntries(kb, [k.BiasIndex(i)], [1.0])])).ToList()));
        }
        return (sites, notes);
    }

    // GL(d) of head h: the first map's rows h·d + a (and bias) are P's unit slices; the second map's rows (Q/K) or the
    // output projection's columns (V/O) for head h are the other side (CensusWalker.GeneralLinearGenerators).
    private static List<CensusGenerator> GlPair(Projection first, Projection second, int h, int d, bool keyColumns)
    {
        static IReadOnlyList<ParameterEntries> Rows(Projection p, int r)
        {
            var list = new List<ParameterEntries> { Entries(p.Weight, Enumerable.Range(0, p.In).Select(j => p.Index(r, j))) };
            if (p.Bias is { } b) list.Add(Entries(b, [p.BiasIndex(r)]));
            return list;
        }
        return CensusWalker.GeneralLinearGenerators(d, a => Rows(first, h * d + a),
            a => keyColumns ? [Entries(second.Weight, Enumerable.Range(0, second.Out).Select(r => second.Index(r, h * d + a)))] : Rows(second, h * d + a));
    }

    private static ParameterEntries Entries(string parameter, IEnumerable<int> indices)
    {
        var idx = indices.ToArray();
        return new ParameterEntries(parameter, idx, Enumerable.Repeat(1.0, idx.Length).ToArray());
    }

    private bool IsWeight(string value) =>
        graph.Parameter(value) is not null
        || (_producer.TryGetValue(value, out var t) && t.OpType == "Transpose" && graph.Parameter(t.Inputs[0]) is not null);

    private bool IsFoldedConstant(string value) => _producer.TryGetValue(value, out var n) && n.OpType == "Constant";

    // The one node that reads the value (a Shape node reads only its shape and does not count), or null.
    private GraphNode? Single(string value) => Readers(value) is [var only] && !graph.Outputs.Contains(value) ? only : null;

    private List<GraphNode> Readers(string value) =>
        consumers.TryGetValue(value, out var c) ? c.Where(x => x.Node.OpType != "Shape").Select(x => x.Node).ToList() : [];

    private bool IsConstant(string value) => graph.Constants.ContainsKey(value) || IsFoldedConstant(value);

    private List<Projection> FindProjections()
    {
        var list = new List<Projection>();
        foreach (var n in graph.Nodes.Where(n => n.OpType == "Gemm" && n.Inputs.Length >= 2 && graph.Parameter(n.Inputs[0]) is null))
        {
            // Gemm(x, W, b) as PyTorch exports a Linear on a 2-D input (nn.MultiheadAttention's output projection).
            if (n.Attributes.TryGetValue("transA", out var ta) && ta.Int is long tv && tv != 0) continue;
            if (graph.Parameter(n.Inputs[1]) is not { } wp || wp.Value.ShapeArray is not [var r0, var r1]) continue;
            bool transB = n.Attributes.TryGetValue("transB", out var tb) && tb.Int is long bv && bv != 0;
            int gOut = transB ? r0 : r1, gIn = transB ? r1 : r0;
            string? gBias = n.Inputs.Length > 2 && n.Inputs[2].Length > 0 ? n.Inputs[2] : null;
            if (gBias is not null && (graph.Parameter(gBias) is not { } gb || gb.Value.ShapeArray is not [var gn] || gn != gOut)) continue;
            list.Add(new Projection(n, n.Inputs[0], n.Outputs[0], n.Inputs[1], transB, gBias, gOut, gIn));
        }
        foreach (var n in graph.Nodes.Where(n => n.OpType == "MatMul" && n.Inputs.Length == 2))
        {
            string w = n.Inputs[1];
            bool outIn = false;
            if (graph.Parameter(w) is null)
            {
                if (!_producer.TryGetValue(w, out var t) || t.OpType != "Transpose" || graph.Parameter(t.Inputs[0]) is null) continue;
                if (t.Attributes.TryGetValue("perm", out var perm) && perm.Ints is { } pi && !(pi.Length == 2 && pi[0] == 1 && pi[1] == 0)) continue;
                w = t.Inputs[0];
                outIn = true;
            }
            var shape = graph.Parameter(w)!.Value.ShapeArray;
            if (shape.Length != 2) continue;
            int outs = outIn ? shape[0] : shape[1], ins = outIn ? shape[1] : shape[0];
            string output = n.Outputs[0];
            string? bias = null;
            if (Single(output) is { OpType: "Add" } add)
            {
                string other = add.Inputs[0] == output ? add.Inputs[1] : add.Inputs[0];
                if (graph.Parameter(other) is { } b && b.Value.ShapeArray is [var bn] && bn == outs)
                {
                    bias = other;
                    output = add.Outputs[0];
                }
            }
            list.Add(new Projection(n, n.Inputs[0], output, w, outIn, bias, outs, ins));
        }
        return list;
    }

    // Back from a MatMul operand through Transpose/Reshape (each value used once) to a projection; the last Reshape met
    // (the one nearest the projection) is the head split.
    private (Projection P, string Shape)? TraceToProjection(string value, Dictionary<string, Projection> byOutput)
    {
        string? shape = null;
        string v = value;
        for (int guard = 0; guard < 8; guard++)
        {
            if (byOutput.TryGetValue(v, out var p)) return shape is null || Single(v) is null ? null : (p, shape);
            if (!_producer.TryGetValue(v, out var n) || Single(n.Inputs[0]) is null) return null;
            // A constant scale on the way (nn.MultiheadAttention scales Q by 1/√d before the scores) commutes with GL(d).
            bool scale = n.OpType is "Div" or "Mul" && n.Inputs.Length == 2 && IsConstant(n.Inputs[1]);
            if (n.OpType is not ("Transpose" or "Reshape") && !scale) return null;
            if (n.OpType == "Reshape") shape = n.Inputs[1];
            v = n.Inputs[0];
        }
        return null;
    }

    // The shape tensors of the head splits, folded on the host (null when one is not).
    private Dictionary<string, int[]>? FoldShapes(string[] names, List<string> notes)
    {
        var values = Probe(names, notes, "the head split's shape");
        if (values is null || names.Any(n => values[n].Host is null)) return null;
        return names.ToDictionary(n => n, n => values[n].Host!.ToInts());
    }

    // One run at batch 1 with the named values as extra outputs (shape tensors are folded on the host while the graph runs).
    private Dictionary<string, GraphValue<double>>? Probe(string[] names, List<string> notes, string what)
    {
        try
        {
            var fromGraph = names.Where(n => !graph.Constants.ContainsKey(n)).ToArray();
            var probe = new Graph<double>(graph.Nodes, graph.Inputs, [.. graph.Outputs, .. fromGraph], graph.Parameters, graph.Constants, graph.Opset, graph.Options);
            var tape = new Tape<double>();
            using var pause = tape.Pause();
            var inputs = graph.Inputs.Select(i => tape.Constant(Tensor<double>.Zeros(i.Shape.Select(d => d ?? 1).ToArray()))).ToArray();
            var run = probe.Run(tape, inputs);
            var result = names.Where(graph.Constants.ContainsKey).ToDictionary(n => n, n => new GraphValue<double>(graph.Constants[n]));
            for (int i = 0; i < fromGraph.Length; i++) result[fromGraph[i]] = run.Outputs[graph.Outputs.Count + i];
            return result;
        }
        catch (Exception e) when (e is GraphException or ArgumentException)
        {
            notes.Add($"attention: {what} could not be folded ({e.Message}); heads not enumerated");
            return null;
        }
    }

    /// <summary>
    /// The pieces of packed projections: nn.MultiheadAttention exports its in-projection as one MatMul with the [3E, E]
    /// in_proj weight (and Add of the [3E] bias), cut along the last axis into Q, K and V by Slice nodes (PyTorch 1.13:
    /// bounds computed from the shape) or one Split. Each piece becomes a projection of its own: rows Offset … Offset +
    /// size − 1 of the packed weight and bias. The bounds are folded by one run at batch 1.
    /// </summary>
    private List<Projection> Pieces(List<Projection> projections, List<string> notes)
    {
        var cuts = new List<(Projection P, GraphNode Node)>();
        foreach (var p in projections)
        {
            var readers = Readers(p.Output);
            if (graph.Outputs.Contains(p.Output) || readers.Count == 0 || readers.Any(r => r.Inputs[0] != p.Output)) continue;
            if (readers.All(r => r.OpType == "Slice") || readers is [{ OpType: "Split" }]) cuts.AddRange(readers.Select(r => (p, r)));
        }
        if (cuts.Count == 0) return [];
        var names = cuts.SelectMany(c => c.Node.Inputs.Skip(1).Where(i => i.Length > 0)).Concat(cuts.Select(c => c.P.Output)).Distinct().ToArray();
        var values = Probe(names, notes, "the bounds of a packed projection's Slice/Split");
        if (values is null) return [];
        int[]? Ints(GraphNode n, int input) => input < n.Inputs.Length && n.Inputs[input].Length > 0 ? values[n.Inputs[input]].Host?.ToInts() : null;
        var pieces = new List<Projection>();
        foreach (var (p, n) in cuts)
        {
            int rank = values[p.Output].Shape.Length, total = p.Out;
            bool Last(long axis) => axis == -1 || axis == rank - 1;
            if (n.OpType == "Slice")
            {
                int[]? starts = Ints(n, 1), ends = Ints(n, 2), axes = Ints(n, 3) ?? (n.Inputs.Length > 3 && n.Inputs[3].Length > 0 ? null : [0]), steps = Ints(n, 4) ?? [1];
                if (starts is not [var s0] || ends is not [var e0] || axes is not [var a0] || steps is not [1] || !Last(a0))
                {
                    notes.Add($"attention: Slice '{n.Name}' of the projection '{p.Weight}' is not one unit-step cut of its last axis; not enumerated");
                    continue;
                }
                int start = Math.Clamp(s0 < 0 ? s0 + total : s0, 0, total), end = Math.Clamp(e0 < 0 ? e0 + total : e0, 0, total);
                if (end > start) pieces.Add(p with { Output = n.Outputs[0], Offset = p.Offset + start, Out = end - start, Total = p.Total == 0 ? p.Out : p.Total });
                continue;
            }
            long axis = n.Attributes.TryGetValue("axis", out var ax) && ax.Int is long av ? av : 0;
            int[]? sizes = Ints(n, 1) ?? (n.Attributes.TryGetValue("split", out var sa) && sa.Ints is { } si ? si.Select(v => (int)v).ToArray() : null);
            sizes ??= n.Outputs.Length > 0 && total % n.Outputs.Length == 0 ? Enumerable.Repeat(total / n.Outputs.Length, n.Outputs.Length).ToArray() : null;
            if (!Last(axis) || sizes is null || sizes.Length != n.Outputs.Length || sizes.Sum() != total)
            {
                notes.Add($"attention: Split '{n.Name}' of the projection '{p.Weight}' is not a cut of its last axis into known sizes; not enumerated");
                continue;
            }
            for (int i = 0, offset = 0; i < sizes.Length; offset += sizes[i], i++)
                pieces.Add(p with { Output = n.Outputs[i], Offset = p.Offset + offset, Out = sizes[i], Total = p.Total == 0 ? p.Out : p.Total });
        }
        return pieces;
    }
}
