using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Symmetry.Census;

/// <summary>
/// The candidate family <see cref="CensusDiscovery"/> searches at one site, restricted to the site's own parameter
/// entries, in coordinates where its tangent map at θ is an isometry: <see cref="Row"/> turns a gradient into one
/// linear constraint on the family's coefficients.
/// </summary>
internal sealed class CandidateFamily
{
    // A block: n aligned slices (entry i of every slice plays the same role), mixed among themselves by an n×n matrix A.
    // Entry i of slice a is element Index[a][i] of parameter Parameter[a][i] (a position in the family's Parameters).
    private sealed record Block((string Parameter, int Index)[][] Slices, double[][] Basis)
    {
        public int[][] Parameter { get; init; } = [];

        public int[][] Index { get; init; } = [];
    }

    private readonly Block[] _blocks;
    private readonly (string Parameter, int Index)[]? _translations;

    private CandidateFamily(Block[] blocks, (string, int)[]? translations, string description)
    {
        _translations = translations;
        Description = description;
        Unknowns = translations?.Length ?? blocks.Sum(b => b.Slices.Length * b.Basis.Length);
        Parameters = translations is not null ? translations.Select(t => t.Item1).Distinct().ToArray()
            : blocks.SelectMany(b => b.Slices.SelectMany(s => s.Select(e => e.Parameter))).Distinct().ToArray();
        var position = Parameters.Select((p, i) => (p, i)).ToDictionary(t => t.p, t => t.i);
        _blocks = blocks.Select(b => b with
        {
            Parameter = b.Slices.Select(s => s.Select(e => position[e.Parameter]).ToArray()).ToArray(),
            Index = b.Slices.Select(s => s.Select(e => e.Index).ToArray()).ToArray(),
        }).ToArray();
        _translationParameter = translations?.Select(t => position[t.Item1]).ToArray();
    }

    private readonly int[]? _translationParameter;

    public string Description { get; }

    public int Unknowns { get; }

    public string[] Parameters { get; }

    /// <summary>
    /// The family of <paramref name="site"/> at θ, or null and why not. Scaling sites: unit u's entries with a positive
    /// coefficient form its producer slice, those with a negative one its consumer slice; GL sites: the same from the
    /// diagonal generators E_aa (couplings of an entry with itself); translation sites: every entry touched.
    /// </summary>
    public static (CandidateFamily? Family, string? Reason) Of(CensusSite site, Func<string, double[]> data)
    {
        var kind = site.Generators[0].Kind;
        if (kind == GeneratorKind.Translation)
        {
            var entries = site.Generators.SelectMany(g => g.Entries.SelectMany(e => e.Indices.Select(i => (e.Parameter, i)))).Distinct().ToArray();
            return (new CandidateFamily([], entries, $"every translation of its {entries.Length} entries"), null);
        }
        var units = kind == GeneratorKind.Scaling
            ? site.Generators.Select(g => g.Entries.SelectMany(e => e.Indices.Select((k, i) => (P: e.Parameter, I: k, C: e.Coefficients[i]))).ToArray()).ToList()
            : site.Generators.Where(g => g.Couplings.All(c => c.Target == c.Source && c.TargetIndex == c.SourceIndex))
                .Select(g => g.Couplings.Select(c => (P: c.Target, I: c.TargetIndex, C: c.Coefficient)).ToArray()).ToList();
        if (units.Count == 0) return (null, "no diagonal generator gives the units' slices");
        var producer = units.Select(u => u.Where(e => e.C > 0).Select(e => (e.P, e.I)).ToArray()).ToArray();
        var consumer = units.Select(u => u.Where(e => e.C < 0).Select(e => (e.P, e.I)).ToArray()).ToArray();
        var blocks = new List<Block>();
        foreach (var slices in new[] { producer, consumer })
        {
            if (slices.All(s => s.Length == 0)) continue;
            if (slices.Any(s => s.Length != slices[0].Length)) return (null, "its units' slices differ in length, so no map mixes them entry by entry");
            blocks.Add(new Block(slices, RowSpace(slices.Select(s => s.Select(e => data(e.P)[e.I]).ToArray()).ToArray())));
        }
        int n = units.Count;
        string what = string.Join(" × ", blocks.Select(b => $"gl({n}) on slices of {b.Slices[0].Length}"));
        return (new CandidateFamily([.. blocks], null, what), null);
    }

    /// <summary>Every parameter entry the family moves (its slices' entries, or the translated entries).</summary>
    public IEnumerable<(string Parameter, int Index)> Entries =>
        _translations ?? _blocks.SelectMany(b => b.Slices.SelectMany(s => s));

    /// <summary>The constraint ⟨g, v⟩ = 0 on the family's coefficients for the gradient <paramref name="gradient"/>.</summary>
    public double[] Row(Func<string, double[]> gradient)
    {
        var arrays = Parameters.Select(gradient).ToArray();
        var row = new double[Unknowns];
        if (_translations is not null)
        {
            for (int i = 0; i < row.Length; i++) row[i] = arrays[_translationParameter![i]][_translations[i].Index];
            return row;
        }
        int offset = 0;
        foreach (var b in _blocks)
        {
            int r = b.Basis.Length;
            var values = new double[b.Slices[0].Length];
            for (int a = 0; a < b.Slices.Length; a++)
            {
                int[] parameter = b.Parameter[a], index = b.Index[a];
                for (int i = 0; i < values.Length; i++) values[i] = arrays[parameter[i]][index[i]];
                for (int j = 0; j < r; j++) row[offset + a * r + j] = TensorPrimitives.Dot<double>(values, b.Basis[j]);
            }
            offset += b.Slices.Length * r;
        }
        return row;
    }

    // The family's tangent at θ for slice a is Σ_b A_ab θ_b = (AΘ)_a: maps with AΘ = 0 do not move θ and must not count.
    // In coordinates AΘ = C W_rᵀ, W_r the right singular vectors of Θ (n × m) above rounding, the unknowns are C (n × r)
    // and the tangent map is an isometry.
    private static double[][] RowSpace(double[][] rows)
    {
        int m = rows[0].Length;
        var t = Tensor<double>.Zeros(rows.Length, m);
        for (int i = 0; i < rows.Length; i++) rows[i].AsSpan().CopyTo(t.Data.AsSpan(i * m, m));
        var (s, _, vt) = LinearAlgebra.Svd(t, vectors: true);
        double max = s.Length > 0 ? s[0] : 0;
        int r = max > 0 ? s.Count(v => v > 1e-12 * max) : 0;
        return Enumerable.Range(0, r).Select(j => vt!.Data.AsSpan(j * m, m).ToArray()).ToArray();
    }
}
