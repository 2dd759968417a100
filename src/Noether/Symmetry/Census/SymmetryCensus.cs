using Noether.Graphs;

namespace Noether.Symmetry.Census;

/// <summary>
/// The continuous parameter symmetries of a graph model, found from its structure (<see cref="Take"/>): every site with its
/// group, generators and conserved quantities, the discrete permutation symmetries, and notes on what blocked a
/// symmetry (a value used twice, e.g. by a skip connection's Add) or what the census does not enumerate.
/// The loss is assumed to be softmax cross-entropy on the graph's first output (the logits).
/// </summary>
public sealed class SymmetryCensus
{
    internal SymmetryCensus(IReadOnlyList<CensusSite> sites, IReadOnlyList<DiscreteSymmetry> discrete, IReadOnlyList<string> notes)
    {
        Sites = sites;
        Discrete = discrete;
        Notes = notes;
    }

    /// <summary>The continuous sites.</summary>
    public IReadOnlyList<CensusSite> Sites { get; }

    /// <summary>The permutation symmetries.</summary>
    public IReadOnlyList<DiscreteSymmetry> Discrete { get; }

    /// <summary>What blocked a symmetry or what is not enumerated, node by node.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>The sum of the sites' dimensions (the orbit dimension if the generators are independent at θ).</summary>
    public int Dimension => Sites.Sum(s => s.Dimension);

    /// <summary>
    /// Every census generator's tangent Mθ as a flat vector over <paramref name="parameters"/> (graph parameter names, in
    /// their order; null: all of them). A generator that also moves a parameter outside the selection is left out (its
    /// tangent is not a direction of the selected block's orbit); <c>Dropped</c> counts them.
    /// </summary>
    public (IReadOnlyList<double[]> Tangents, int Dropped) Tangents(Graph<double> graph, IReadOnlyList<string>? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var offset = new Dictionary<string, int>();
        int d = 0;
        foreach (var name in parameters ?? graph.Parameters.Select(p => p.Name).ToArray())
        {
            var p = graph.Parameter(name) ?? throw Errors.Argument(nameof(parameters), $"tangents: the graph has no parameter '{name}'");
            offset[name] = d;
            d += p.Value.Length;
        }
        double[] Data(string name) => graph.Parameter(name)!.Value.Data;
        var result = new List<double[]>();
        int dropped = 0;
        foreach (var generator in Sites.SelectMany(x => x.Generators))
        {
            if (!generator.Parameters.Concat(generator.Couplings.Select(c => c.Target)).All(offset.ContainsKey))
            {
                dropped++;
                continue;
            }
            var t = new double[d];
            foreach (var (p, i, v) in generator.Tangent(Data)) t[offset[p] + i] += v;
            result.Add(t);
        }
        return (result, dropped);
    }

    /// <summary>True when no continuous symmetry was found.</summary>
    public bool IsEmpty => Sites.Count == 0;

    /// <summary>Takes the census of <paramref name="graph"/> (its structure and parameter shapes; no data needed).</summary>
    public static SymmetryCensus Take(Graph<double> graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return new CensusWalker(graph).Run();
    }
}
