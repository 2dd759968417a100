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
            if (readers.All(r => r.OpType == "LayerNormalization" && !(r.Attributes.TryGetValue("axis", out var ra) && ra.Int is long rv && rv != -1)))
            {
                if (StreamCentring(writers, names) is { } centring) sites.Add(centring);
                else notes.Add($"{names}: the value they normalise is not centred as a site (a writer is not a MatMul/Gemm weight or an added parameter)");
            }
        }
        return (sites, notes);
    }

    /// <summary>
    /// The centring of a value read only by LayerNorms over its last axis (and the Adds that build it): they remove its mean
    /// over the features, so every writer may add a multiple of 1 along that axis — a MatMul/Gemm weight W → W + 1 uᵀ (one
    /// generator per input j: the whole output column of input j), a bias or an added parameter (positions) → + s 1 (one
    /// generator per leading index). Constant translations, exact whatever ε: each conserves ⟨c, θ⟩ (a column sum of W
    /// over the features, the sum of a bias). Null when a writer is of another kind (a Conv).
    /// </summary>
    private CensusSite? StreamCentring(List<string> writers, string readers)
    {
        var gens = new List<CensusGenerator>();
        foreach (var w in writers)
        {
            var shape = graph.Parameter(w)!.Value.ShapeArray;
            var use = consumers.GetValueOrDefault(w) is [var only] ? only : default;
            if (use.Node is null) return null;
            int rows, width; // generator per row of `width` entries, entries of a row `stride` apart
            int stride;
            var node = use.Node;
            if (node.OpType == "Transpose" && shape is [var o, var i]) { rows = i; width = o; stride = i; } // W [out, in], used as Wᵀ
            else if (node.OpType == "MatMul" && use.Input == 1 && shape is [var i2, var o2]) { rows = i2; width = o2; stride = 1; }
            else if (node.OpType == "Gemm" && use.Input == 1 && shape is [var a0, var a1])
            {
                bool transB = node.Attributes.TryGetValue("transB", out var tb) && tb.Int is long bv && bv != 0;
                if (transB) { rows = a1; width = a0; stride = a1; } else { rows = a0; width = a1; stride = 1; }
            }
            else if (node.OpType is "Add" || (node.OpType == "Gemm" && use.Input == 2)) { width = shape[^1]; rows = shape.Aggregate(1, (x, y) => x * y) / width; stride = 1; }
            else return null;
            for (int r = 0; r < rows; r++)
            {
                int row = r;
                var idx = Enumerable.Range(0, width).Select(k => stride == 1 ? row * width + k : k * stride + row).ToArray();
                gens.Add(new CensusGenerator(rows == 1 ? w : $"{w}[{r}]", GeneratorKind.Translation, [new ParameterEntries(w, idx, Enumerable.Repeat(1.0, width).ToArray())]));
            }
        }
        return gens.Count == 0 ? null : new CensusSite(SiteKind.StreamCentring, $"{string.Join("/", writers)} → {readers} (centring)", $"R^{gens.Count}",
            "⟨1, column⟩ of each writer weight, ⟨1, b⟩ of each bias", gens, note: "the LayerNorms reading the value remove its mean over the features: every writer may add s·1");
    }

    /// <summary>
    /// The sites across a LayerNorm/RMSNorm's affine output y = γ ⊙ x̂ + β (normalised over the last axis), read only by
    /// MatMul/Gemm consumers with their own weights z_k = W_k y + b_k (a transformer's Q, K and V projections read one
    /// LayerNorm; possibly through a mean over tokens or a Transpose that keeps the last axis):
    /// <list type="bullet">
    /// <item>rescalings: feature j's γ_j and β_j → e^t·, the input column j of every consumer → e^{−t}· (exact);</item>
    /// <item>centring (LayerNormalization only: x̂ has zero mean over the features whatever the input and ε): consumer k's
    /// output row r → W_k[r, :] + s (1/γ)ᵀ, b_k[r] → b_k[r] − s ⟨β, 1/γ⟩ — one generator per consumer output row (the
    /// logits layer's last row is left out: the softmax translation spans it with the other rows); needs every consumer's
    /// bias when β ≠ 0;</item>
    /// <item>β transfer: β_j → β_j + s, b_k → b_k − s W_k[:, j] for every consumer (y's constant part moved into the
    /// consumers' biases); needs β and every consumer's bias.</item>
    /// </list>
    /// Centring and β transfer are translations whose direction depends on parameters they do not move (γ, β; W): their
    /// generators are listed with the coefficients at the given weights, and they conserve nothing (<see cref="NoConservedQuantity"/>).
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
            var readers = new List<Consumer>();
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
                    if (input == 0 && KeepsLastAxis(node)) { pending.Enqueue(node.Outputs[0]); continue; }
                    if (input == 0 && AsConsumer(node, d) is { } consumer) { readers.Add(consumer); continue; }
                    blocker = $"{node.OpType} '{node.Name}' reads it";
                    break;
                }
            }
            if (blocker is not null || readers.Count == 0)
            {
                notes.Add($"{norm.OpType} '{norm.Name}': no rescaling across its affine output ({blocker ?? "no linear consumer"})");
                continue;
            }
            string names = string.Join(", ", readers.Select(c => c.Node.Name));
            string affine = $"{gamma.Name}{(beta is null ? "" : "/" + beta)}";
            var gens = Enumerable.Range(0, d).Select(j =>
            {
                var entries = new List<ParameterEntries> { new(gamma.Name, [j], [1.0]) };
                if (beta is not null) entries.Add(new ParameterEntries(beta, [j], [1.0]));
                entries.AddRange(readers.Select(c => c.Column(j, -1.0)));
                return new CensusGenerator($"feature {j}", GeneratorKind.Scaling, entries);
            }).ToList();
            sites.Add(new CensusSite(SiteKind.Rescaling, $"{affine} → {names}", $"(R>0)^{d}", "Q_j = γ_j² + β_j² − Σ_consumers ‖W[:, j]‖²", gens));
            var g = gamma.Value.Data;
            var b = beta is null ? null : graph.Parameter(beta)!.Value.Data;
            bool biases = readers.All(c => c.Bias is not null);
            if (norm.OpType == "LayerNormalization")
            {
                if (g.Any(x => x == 0)) notes.Add($"{norm.Name}: a γ_j is 0, so its centring is not listed (its direction 1/γ is undefined)");
                else if (b is not null && !biases) notes.Add($"{norm.Name}: a consumer has no bias to absorb β's part of the centring; not listed");
                else sites.Add(Centring(affine, names, readers, g, b));
            }
            if (b is not null && biases)
            {
                var transfer = Enumerable.Range(0, d).Select(j => new CensusGenerator($"β[{j}]", GeneratorKind.Translation,
                    [new ParameterEntries(beta!, [j], [1.0]), .. readers.Select(c => c.BiasEntries(j, graph.Parameter(c.Weight)!.Value.Data))])).ToList();
                sites.Add(new CensusSite(SiteKind.BetaTransfer, $"{beta} → biases of {names}", $"R^{d}", NoConservedQuantity, transfer,
                    note: "β_j → β_j + s, b → b − s W[:, j]: a direction that depends on W; no conserved quantity"));
            }
        }
        return (sites, notes);
    }

    /// <summary>The conserved-quantity text of a site whose generators' directions depend on parameters they do not move.</summary>
    public const string NoConservedQuantity = "no Q";

    private CensusSite Centring(string affine, string names, List<Consumer> readers, double[] gamma, double[]? beta)
    {
        var inverse = gamma.Select(x => 1 / x).ToArray();
        double c = beta is null ? 0 : beta.Select((x, j) => x * inverse[j]).Sum();
        var gens = new List<CensusGenerator>();
        foreach (var k in readers)
        {
            // The logits layer's rows: their sum is a softmax translation (W + 1 (1/γ)ᵀ, b − c 1), already listed.
            int rows = k.Node.Outputs[0] == graph.Outputs.FirstOrDefault() ? k.Outs - 1 : k.Outs;
            for (int r = 0; r < rows; r++)
            {
                var entries = new List<ParameterEntries> { k.Row(r, inverse) };
                if (k.Bias is not null && beta is not null) entries.Add(new ParameterEntries(k.Bias, [r], [-c]));
                gens.Add(new CensusGenerator($"{k.Node.Name} row {r}", GeneratorKind.Translation, entries));
            }
        }
        return new CensusSite(SiteKind.Centring, $"{affine} → {names} (centring)", $"R^{gens.Count}", NoConservedQuantity, gens,
            note: "W[r, :] → W[r, :] + s/γ, b[r] → b[r] − s⟨β, 1/γ⟩ (x̂ has zero mean): a direction that depends on γ and β; no conserved quantity");
    }

    // A MatMul / Gemm reading the normalised value with its own weight (input width d), and its bias if it has one.
    private sealed record Consumer(GraphNode Node, string Weight, bool OutIn, int Outs, int Ins, string? Bias)
    {
        private int Index(int r, int j) => OutIn ? r * Ins + j : j * Outs + r;

        // Input column j (the entries multiplying input feature j).
        public ParameterEntries Column(int j, double coefficient) =>
            new(Weight, Enumerable.Range(0, Outs).Select(r => Index(r, j)).ToArray(), Enumerable.Repeat(coefficient, Outs).ToArray());

        // Output row r, entry j with coefficient[j].
        public ParameterEntries Row(int r, double[] coefficients) =>
            new(Weight, Enumerable.Range(0, Ins).Select(j => Index(r, j)).ToArray(), coefficients);

        // The bias's share of the β transfer of feature j: b → b − W[:, j] (coefficients at the current weights).
        public ParameterEntries BiasEntries(int j, double[] weight) =>
            new(Bias!, Enumerable.Range(0, Outs).ToArray(), Enumerable.Range(0, Outs).Select(r => -weight[Index(r, j)]).ToArray());
    }

    // A Transpose that leaves the last axis last (nn.MultiheadAttention's [N, T, D] → [T, N, D]): channel-wise in it.
    private static bool KeepsLastAxis(GraphNode n) =>
        n.OpType == "Transpose" && n.Attributes.TryGetValue("perm", out var p) && p.Ints is { Length: > 0 } perm && perm[^1] == perm.Length - 1;

    // A mean over axis 1 only (tokens of [N, T, D]): channel-wise linear in the last axis. (A 2-D input reduced over axis 1
    // would leave a vector no MatMul/Gemm consumer of width D accepts; a wrong site would fail the verification anyway.)
    private static bool ReducesOnlyOtherAxes(GraphNode n) =>
        n.Attributes.TryGetValue("axes", out var a) && a.Ints is [1] && n.Inputs.Length == 1;

    // A MatMul / Gemm consumer with its own weight of input width d (and its bias: Gemm's third input, or a parameter
    // Add after the MatMul), or null.
    private Consumer? AsConsumer(GraphNode n, int d)
    {
        string w;
        bool outIn;
        string? bias = null;
        if (n.OpType == "MatMul" && n.Inputs.Length == 2)
        {
            if (graph.Parameter(n.Inputs[1]) is not null) { w = n.Inputs[1]; outIn = false; }
            else if (_producer.TryGetValue(n.Inputs[1], out var t) && t.OpType == "Transpose" && graph.Parameter(t.Inputs[0]) is not null
                     && (consumers.GetValueOrDefault(n.Inputs[1])?.Count ?? 0) == 1
                     && !(t.Attributes.TryGetValue("perm", out var perm) && perm.Ints is { } pi && !(pi.Length == 2 && pi[0] == 1 && pi[1] == 0)))
            { w = t.Inputs[0]; outIn = true; }
            else return null;
            var readers = (consumers.GetValueOrDefault(n.Outputs[0]) ?? []).Where(c => c.Node.OpType != "Shape").ToArray();
            if (readers is [{ Node.OpType: "Add" } add] && !graph.Outputs.Contains(n.Outputs[0]))
                bias = add.Node.Inputs.FirstOrDefault(i => i != n.Outputs[0] && graph.Parameter(i) is not null);
        }
        else if (n.OpType == "Gemm" && !(n.Attributes.TryGetValue("transA", out var ta) && ta.Int is long tv && tv != 0) && graph.Parameter(n.Inputs[1]) is not null)
        {
            w = n.Inputs[1];
            outIn = n.Attributes.TryGetValue("transB", out var tb) && tb.Int is long bv && bv != 0;
            bias = n.Inputs.Length > 2 && n.Inputs[2].Length > 0 && graph.Parameter(n.Inputs[2]) is not null ? n.Inputs[2] : null;
        }
        else return null;
        if ((consumers.GetValueOrDefault(w)?.Count ?? 0) != 1 || graph.Parameter(w)!.Value.ShapeArray is not [var r0, var r1]) return null;
        int outs = outIn ? r0 : r1, ins = outIn ? r1 : r0;
        if (ins != d) return null;
        if (bias is not null && (graph.Parameter(bias)!.Value.ShapeArray is not [var bn] || bn != outs || (consumers.GetValueOrDefault(bias)?.Count ?? 0) != 1)) bias = null;
        return new Consumer(n, w, outIn, outs, ins, bias);
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
                // Scaling the whole value commutes with any Add, Reshape or Transpose of it (nn.MultiheadAttention's output
                // reaches the stream through Reshape/Transpose).
                if (node.OpType == "Add" || (node.OpType is "Reshape" or "Transpose" && input == 0)) { queue.Enqueue(node.Outputs[0]); continue; }
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
            if (p.OpType is "Reshape" or "Transpose")
            {
                queue.Enqueue(p.Inputs[0]);
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
