using Noether.Tensors;

namespace Noether.Symmetry.Census;

/// <summary>
/// The span S of a census's generator tangents at θ, and its part inside a site's candidate family F: the number of
/// independent census directions the discovery must find there, dim(F ∩ S) = dim{α : Σ α_i t_i ∈ F} (the census's
/// generators being independent at θ, which the orbit check measures; their own dependencies are subtracted). It equals
/// the site's own dimension unless a combination of other sites' directions lies in the family: a LayerNorm's centring
/// and β transfer, whose consumer-bias parts cancel, reach into the family of its affine rescalings.
/// </summary>
internal sealed class CensusSpan
{
    // A census singular value counts as zero below this fraction of the largest; the Gram matrix resolves them to ~1e-8.
    private const double RankThreshold = 1e-6;

    private readonly List<(int[] Ids, double[] Values)> _tangents = [];
    private readonly Dictionary<(string, int), int> _ids = [];
    private readonly List<List<int>> _byEntry = [];
    private readonly Func<string, double[]> _data;

    /// <param name="census">The census.</param>
    /// <param name="data">The parameters θ.</param>
    /// <param name="exactOnly">Leave out the approximate sites (a normalisation's ε): a family checked on the model itself
    /// cannot find them; one checked on the ε = 0 copy can.</param>
    public CensusSpan(SymmetryCensus census, Func<string, double[]> data, bool exactOnly)
    {
        _data = data;
        foreach (var gen in census.Sites.Where(s => s.Exact || !exactOnly).SelectMany(s => s.Generators))
        {
            var sum = new Dictionary<int, double>();
            foreach (var (p, i, v) in gen.Tangent(data))
            {
                if (!_ids.TryGetValue((p, i), out int id))
                {
                    _ids[(p, i)] = id = _ids.Count;
                    _byEntry.Add([]);
                }
                sum[id] = sum.GetValueOrDefault(id) + v;
            }
            var nonzero = sum.Where(e => e.Value != 0).OrderBy(e => e.Key).ToArray();
            double norm = Math.Sqrt(nonzero.Sum(e => e.Value * e.Value));
            if (norm == 0) continue; // a generator that does not move θ adds nothing to the span
            int g = _tangents.Count;
            _tangents.Add((nonzero.Select(e => e.Key).ToArray(), nonzero.Select(e => e.Value / norm).ToArray()));
            foreach (var e in nonzero) _byEntry[e.Key].Add(g);
        }
    }

    /// <summary>dim(F ∩ S) for <paramref name="family"/>, and the gap of that rank decision (smallest kept over largest dropped singular value).</summary>
    public (int Dimension, double Gap) DimensionIn(CandidateFamily family)
    {
        var inside = new HashSet<int>(family.Entries.Where(_ids.ContainsKey).Select(e => _ids[e]));
        // The generators that touch F, and every generator linked to them through an entry outside F (only such can cancel
        // each other's parts outside F).
        var members = new HashSet<int>(inside.SelectMany(e => _byEntry[e]));
        var queue = new Queue<int>(members);
        while (queue.Count > 0)
            foreach (int e in _tangents[queue.Dequeue()].Ids)
                if (!inside.Contains(e))
                    foreach (int other in _byEntry[e])
                        if (members.Add(other)) queue.Enqueue(other);
        // A member alone on an entry outside F has coefficient 0 in every combination that lies in F: peel it off.
        bool changed = true;
        while (changed)
        {
            changed = false;
            var count = new Dictionary<int, int>();
            foreach (int g in members)
                foreach (int e in _tangents[g].Ids)
                    if (!inside.Contains(e)) count[e] = count.GetValueOrDefault(e) + 1;
            foreach (int g in members.ToArray())
                if (_tangents[g].Ids.Any(e => !inside.Contains(e) && count[e] == 1))
                {
                    members.Remove(g);
                    changed = true;
                }
        }
        if (members.Count == 0) return (0, double.PositiveInfinity);
        var list = members.Order().ToArray();
        int k = list.Length;
        // Gram of the unit tangents, and of their parts outside F: G − R Rᵀ, R the coordinates in F's orthonormal basis.
        var gram = Tensor<double>.Zeros(k, k);
        var dense = new double[_ids.Count];
        for (int a = 0; a < k; a++)
        {
            var (ia, va) = _tangents[list[a]];
            for (int x = 0; x < ia.Length; x++) dense[ia[x]] = va[x];
            for (int b = a; b < k; b++)
            {
                var (ib, vb) = _tangents[list[b]];
                double s = 0;
                for (int x = 0; x < ib.Length; x++) s += dense[ib[x]] * vb[x];
                gram[a, b] = gram[b, a] = s;
            }
            for (int x = 0; x < ia.Length; x++) dense[ia[x]] = 0;
        }
        var byParameter = _ids.GroupBy(e => e.Key.Item1).ToDictionary(g => g.Key, g => g.Select(e => (Index: e.Key.Item2, Id: e.Value)).ToArray());
        var rows = list.Select(g =>
        {
            var (ids, values) = _tangents[g];
            if (!ids.Any(inside.Contains)) return null;
            var at = ids.Select((id, x) => (id, x)).ToDictionary(t => t.id, t => values[t.x]);
            return family.Row(p =>
            {
                var full = new double[_data(p).Length];
                if (byParameter.TryGetValue(p, out var entries))
                    foreach (var (index, id) in entries)
                        if (index < full.Length && at.TryGetValue(id, out var v)) full[index] = v;
                return full;
            });
        }).ToArray();
        var outside = Tensor<double>.Zeros(k, k);
        for (int a = 0; a < k; a++)
            for (int b = a; b < k; b++)
            {
                double s = gram[a, b];
                if (rows[a] is { } ra && rows[b] is { } rb) s -= System.Numerics.Tensors.TensorPrimitives.Dot<double>(ra, rb);
                outside[a, b] = outside[b, a] = s;
            }
        var all = Singular(gram);
        var rest = Singular(outside);
        double cut = RankThreshold * all[0];
        int nullAll = all.Count(v => v <= cut), nullRest = rest.Count(v => v <= cut);
        int rank = k - nullRest;
        double kept = rank > 0 ? rest[rank - 1] : all[0], dropped = rank < k ? rest[rank] : 0;
        return (nullRest - nullAll, dropped > 0 ? kept / dropped : double.PositiveInfinity);
    }

    // Singular values (descending) from a Gram matrix's eigenvalues.
    private static double[] Singular(Tensor<double> gram) =>
        LinearAlgebra.SymmetricEigen(gram, vectors: false).Values.Select(v => Math.Sqrt(Math.Max(v, 0))).OrderDescending().ToArray();
}
