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

    /// <summary>True when no continuous symmetry was found.</summary>
    public bool IsEmpty => Sites.Count == 0;

    /// <summary>Takes the census of <paramref name="graph"/> (its structure and parameter shapes; no data needed).</summary>
    public static SymmetryCensus Take(Graph<double> graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return new CensusWalker(graph).Run();
    }
}
