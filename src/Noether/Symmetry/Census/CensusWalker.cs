using Noether.Graphs;

namespace Noether.Symmetry.Census;

/// <summary>
/// Walks a graph's structure for <see cref="SymmetryCensus.Take"/>. A "producer" is a node whose output channel c is a
/// positively homogeneous function of its own parameter slices (Gemm's row c and bias c, Conv's output channel c and
/// bias c, an inference-mode BatchNormalization's γ_c and β_c). From its output the walker follows the only consumer
/// through channel-wise positively homogeneous ops (ReLU, LeakyReLU, max/average pooling, Flatten, Identity) to a
/// consuming Gemm or Conv, whose input slices for channel c carry the inverse scale. A value with more than one consumer
/// (a skip connection) or any other op on the way blocks the site: conservative, never wrong.
/// </summary>
internal sealed class CensusWalker(Graph<double> graph)
{
    private readonly Dictionary<string, List<(GraphNode Node, int Input)>> _consumers = BuildConsumers(graph);
    private readonly List<CensusSite> _sites = [];
    private readonly List<DiscreteSymmetry> _discrete = [];
    private readonly List<string> _notes = [];

    private sealed record Producer(GraphNode Node, int Channels, Func<int, List<ParameterEntries>> Slices, string Label);

    public SymmetryCensus Run()
    {
        foreach (var node in graph.Nodes)
            if (AsProducer(node) is { } p) Follow(p);
        var (attention, attentionNotes) = new AttentionSites(graph, _consumers).Find();
        _sites.AddRange(attention);
        _notes.AddRange(attentionNotes);
        int heads = attention.Count(s => s.Kind == SiteKind.GeneralLinear) / 2;
        if (heads > 0)
            _discrete.Add(new DiscreteSymmetry("attention", "heads (per layer, all layers counted)", heads));
        var normalization = new NormalizationSites(graph, _consumers);
        var (affine, affineNotes) = normalization.AffineRescalings();
        _sites.AddRange(affine);
        _notes.AddRange(affineNotes);
        var (normalized, normalizedNotes) = normalization.Find();
        _sites.AddRange(normalized);
        _notes.AddRange(normalizedNotes);
        SoftmaxTranslation();
        if (_sites.Count == 0)
            _notes.Insert(0, "no continuous symmetry found: no rescaling across a positively homogeneous map, no batch-normalised channel and no softmax logits layer");
        return new SymmetryCensus(_sites, _discrete, _notes);
    }

    private static Dictionary<string, List<(GraphNode, int)>> BuildConsumers(Graph<double> graph)
    {
        var map = new Dictionary<string, List<(GraphNode, int)>>();
        foreach (var n in graph.Nodes)
            for (int i = 0; i < n.Inputs.Length; i++)
            {
                if (n.Inputs[i].Length == 0) continue;
                if (!map.TryGetValue(n.Inputs[i], out var list)) map[n.Inputs[i]] = list = [];
                list.Add((n, i));
            }
        return map;
    }

    private int[]? ParamShape(GraphNode node, int input) =>
        input < node.Inputs.Length && graph.Parameter(node.Inputs[input]) is { } p ? p.Value.ShapeArray : null;

    private static long IntAttr(GraphNode n, string name, long fallback) => n.Attributes.TryGetValue(name, out var a) && a.Int is long v ? v : fallback;

    private bool TrainingBatchNorm(GraphNode n) => graph.Options.BatchNorm switch
    {
        BatchNormMode.Training => true,
        BatchNormMode.Inference => false,
        _ => graph.Opset >= 14 && IntAttr(n, "training_mode", 0) != 0,
    };

    private static ParameterEntries Block(string name, int start, int count, int stride, int repeats, double coefficient)
    {
        // `repeats` runs of `count` consecutive entries, `stride` apart, starting at `start`.
        var idx = new int[count * repeats];
        for (int r = 0; r < repeats; r++)
            for (int i = 0; i < count; i++) idx[r * count + i] = start + r * stride + i;
        return new ParameterEntries(name, idx, Enumerable.Repeat(coefficient, idx.Length).ToArray());
    }

    private Producer? AsProducer(GraphNode node)
    {
        switch (node.OpType)
        {
            case "Gemm":
            {
                if (IntAttr(node, "transA", 0) != 0 || ParamShape(node, 1) is not { Length: 2 } w) return null;
                bool transB = IntAttr(node, "transB", 0) != 0;
                int outs = transB ? w[0] : w[1], ins = transB ? w[1] : w[0];
                string? bias = BiasOf(node, 2, outs, out bool ok);
                if (!ok) return null;
                string wName = node.Inputs[1];
                return new Producer(node, outs, c =>
                {
                    var list = new List<ParameterEntries> { transB ? Block(wName, c * ins, ins, 0, 1, 1) : Block(wName, c, 1, outs, ins, 1) };
                    if (bias is not null) list.Add(Block(bias, c, 1, 0, 1, 1));
                    return list;
                }, bias is null ? wName : $"{wName}/{bias}");
            }
            case "Conv":
            {
                if (ParamShape(node, 1) is not { Length: >= 3 } w) return null;
                int per = w.Skip(1).Aggregate(1, (a, b) => a * b);
                string? bias = BiasOf(node, 2, w[0], out bool ok);
                if (!ok) return null;
                string wName = node.Inputs[1];
                return new Producer(node, w[0], c =>
                {
                    var list = new List<ParameterEntries> { Block(wName, c * per, per, 0, 1, 1) };
                    if (bias is not null) list.Add(Block(bias, c, 1, 0, 1, 1));
                    return list;
                }, bias is null ? wName : $"{wName}/{bias}");
            }
            case "BatchNormalization":
            {
                if (TrainingBatchNorm(node)) return null;
                if (ParamShape(node, 1) is not { Length: 1 } g || ParamShape(node, 2) is not { Length: 1 } b || g[0] != b[0]) return null;
                string gName = node.Inputs[1], bName = node.Inputs[2];
                return new Producer(node, g[0], c => [Block(gName, c, 1, 0, 1, 1), Block(bName, c, 1, 0, 1, 1)], $"{gName}/{bName}");
            }
            default:
                return null;
        }
    }

    private string? BiasOf(GraphNode node, int input, int outs, out bool ok)
    {
        ok = true;
        if (input >= node.Inputs.Length || node.Inputs[input].Length == 0) return null;
        if (ParamShape(node, input) is [var n] && n == outs) return node.Inputs[input];
        ok = false; // a constant or broadcast bias would not rescale with the unit
        return null;
    }

    private void Follow(Producer p)
    {
        string v = p.Node.Outputs[0];
        bool flattened = false, linear = true;
        var path = new List<string>();
        while (true)
        {
            if (graph.Outputs.Contains(v)) return;
            if (!_consumers.TryGetValue(v, out var cons) || cons.Count == 0) return;
            if (cons.Count > 1)
            {
                _notes.Add($"{p.Label}: its output '{v}' is used by {cons.Count} nodes ({string.Join(", ", cons.Select(c => $"{c.Node.OpType} '{c.Node.Name}'"))}); no rescaling crosses a fan-out (e.g. a skip connection)");
                return;
            }
            var (m, input) = cons[0];
            switch (m.OpType)
            {
                case "Relu" or "LeakyRelu":
                    linear = false;
                    path.Add(m.OpType);
                    v = m.Outputs[0];
                    continue;
                case "MaxPool" or "GlobalMaxPool" when !flattened:
                    linear = false;
                    path.Add(m.OpType);
                    v = m.Outputs[0];
                    continue;
                case "AveragePool" or "GlobalAveragePool" when !flattened:
                case "Identity":
                    path.Add(m.OpType);
                    v = m.Outputs[0];
                    continue;
                case "Flatten" when IntAttr(m, "axis", 1) == 1 && !flattened:
                    flattened = true;
                    path.Add("Flatten");
                    v = m.Outputs[0];
                    continue;
                case "Gemm" when input == 0 && IntAttr(m, "transA", 0) == 0 && ParamShape(m, 1) is { Length: 2 } w:
                {
                    bool transB = IntAttr(m, "transB", 0) != 0;
                    int outs = transB ? w[0] : w[1], ins = transB ? w[1] : w[0];
                    if (ins % p.Channels != 0 || (!flattened && ins != p.Channels)) break;
                    int block = ins / p.Channels;
                    string wName = m.Inputs[1];
                    AddRescaling(p, path, linear, $"{wName}", c => transB
                        ? Block(wName, c * block, block, ins, outs, -1)
                        : Block(wName, c * block * outs, block * outs, 0, 1, -1));
                    return;
                }
                case "Conv" when input == 0 && !flattened && IntAttr(m, "group", 1) == 1 && ParamShape(m, 1) is { Length: >= 3 } w && w[1] == p.Channels:
                {
                    int k = w.Skip(2).Aggregate(1, (a, b) => a * b);
                    string wName = m.Inputs[1];
                    AddRescaling(p, path, linear, wName, c => Block(wName, c * k, k, w[1] * k, w[0], -1));
                    return;
                }
                case "BatchNormalization" when input == 0 && path.Count == 0 && TrainingBatchNorm(m) && p.Node.OpType is "Conv" or "Gemm":
                {
                    double eps = m.Attributes.TryGetValue("epsilon", out var a) && a.Float is double e ? e : 1e-5;
                    var gens = Enumerable.Range(0, p.Channels).Select(c => new CensusGenerator($"channel {c}", GeneratorKind.Scaling, p.Slices(c))).ToList();
                    _sites.Add(new CensusSite(SiteKind.NormalizationScale, $"{p.Label} → BatchNormalization '{m.Name}' (batch statistics)",
                        $"(R>0)^{p.Channels}", "Q_c = ‖w_c‖² + b_c²", gens, exact: false,
                        note: $"ε = {eps.ToString("G3", CultureInfo.InvariantCulture)} makes the invariance approximate (relative change ~ ε/σ²)"));
                    return;
                }
            }
            _notes.Add(m.OpType == "BatchNormalization"
                ? $"{p.Label}: BatchNormalization '{m.Name}' normalises with its running statistics (constants), so the weights feeding it are not scale invariant"
                : $"{p.Label}: {m.OpType} '{m.Name}' on its path blocks rescaling (not channel-wise positively homogeneous, or not a supported consumer)");
            return;
        }
    }

    private void AddRescaling(Producer p, List<string> path, bool linear, string consumer, Func<int, ParameterEntries> consumerSlice)
    {
        string via = path.Count == 0 ? "identity" : string.Join(" → ", path);
        string where = $"{p.Label} → {via} → {consumer}";
        if (linear && p.Node.OpType is "Gemm" or "Conv")
        {
            // Nothing nonlinear between two linear maps (the path is channel-wise linear and the same for every channel):
            // the whole GL(n) acts, P → e^{tA} P on the producer's unit slices, W → W e^{−tA} on the consumer's.
            _sites.Add(new CensusSite(SiteKind.GeneralLinear, where, $"GL({p.Channels})", "(Ŵ_in Ŵ_inᵀ − W_outᵀ W_out)_ab (Ŵ_in = [W_in | b], n × n)",
                GeneralLinearGenerators(p.Channels, c => p.Slices(c), c => [consumerSlice(c)])));
            return;
        }
        var gens = Enumerable.Range(0, p.Channels)
            .Select(c => new CensusGenerator($"unit {c}", GeneratorKind.Scaling, [.. p.Slices(c), consumerSlice(c)])).ToList();
        _sites.Add(new CensusSite(SiteKind.Rescaling, where, $"(R>0)^{p.Channels}", "Q_c = ‖w_in,c‖² + b_c² − ‖w_out,c‖²", gens,
            note: linear ? $"nothing nonlinear between the maps, but the producer's slices (γ_c, β_c) cannot mix channels: only the rescalings act" : null));
        _discrete.Add(new DiscreteSymmetry(where, p.Node.OpType == "Conv" || p.Node.OpType == "BatchNormalization" ? "channels" : "hidden units", p.Channels));
    }

    /// <summary>
    /// E_ab (a, b = 0 … n − 1) of GL(n) acting on n aligned unit slices of a first map (slice a += slice b, entry by
    /// entry) and of a second map (slice b −= slice a): the tangent of P → e^{tE_ab} P, W → W e^{−tE_ab}.
    /// </summary>
    internal static List<CensusGenerator> GeneralLinearGenerators(int n, Func<int, IReadOnlyList<ParameterEntries>> first, Func<int, IReadOnlyList<ParameterEntries>> second)
    {
        static (string, int)[] Flat(IReadOnlyList<ParameterEntries> slices) => slices.SelectMany(e => e.Indices.Select(i => (e.Parameter, i))).ToArray();
        var p = Enumerable.Range(0, n).Select(c => Flat(first(c))).ToArray();
        var q = Enumerable.Range(0, n).Select(c => Flat(second(c))).ToArray();
        var gens = new List<CensusGenerator>(n * n);
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
            {
                var c = new List<Coupling>(p[a].Length + q[a].Length);
                for (int i = 0; i < p[a].Length; i++) c.Add(new Coupling(p[a][i].Item1, p[a][i].Item2, p[b][i].Item1, p[b][i].Item2, 1));
                for (int i = 0; i < q[a].Length; i++) c.Add(new Coupling(q[b][i].Item1, q[b][i].Item2, q[a][i].Item1, q[a][i].Item2, -1));
                gens.Add(new CensusGenerator($"E[{a},{b}]", c));
            }
        return gens;
    }

    private void SoftmaxTranslation()
    {
        if (graph.Outputs.Count == 0) return;
        string logits = graph.Outputs[0];
        var node = graph.Nodes.FirstOrDefault(n => n.Outputs.Contains(logits));
        if (node is null || node.OpType != "Gemm" || IntAttr(node, "transA", 0) != 0 || ParamShape(node, 1) is not { Length: 2 } w) return;
        bool transB = IntAttr(node, "transB", 0) != 0;
        int classes = transB ? w[0] : w[1], ins = transB ? w[1] : w[0];
        string? bias = BiasOf(node, 2, classes, out bool ok);
        if (!ok) return;
        string wName = node.Inputs[1];
        var gens = new List<CensusGenerator>();
        for (int j = 0; j < ins; j++)
            gens.Add(new CensusGenerator($"column {j}", GeneratorKind.Translation,
                [transB ? Block(wName, j, 1, ins, classes, 1) : Block(wName, j * classes, classes, 0, 1, 1)]));
        if (bias is not null) gens.Add(new CensusGenerator("bias", GeneratorKind.Translation, [Block(bias, 0, classes, 0, 1, 1)]));
        _sites.Add(new CensusSite(SiteKind.SoftmaxTranslation, $"{(bias is null ? wName : $"{wName}/{bias}")} → softmax cross-entropy",
            $"R^{gens.Count}", "1ᵀW (column sums over classes), 1ᵀb", gens, note: "assumes the loss is softmax cross-entropy on the first output"));
    }
}
