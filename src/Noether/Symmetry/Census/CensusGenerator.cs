namespace Noether.Symmetry.Census;

/// <summary>How a generator moves the parameters it touches.</summary>
public enum GeneratorKind
{
    /// <summary>A diagonal linear vector field: θ_k ↦ a_k θ_k (rescalings). Its flow multiplies θ_k by e^{t a_k}.</summary>
    Scaling,
    /// <summary>A constant vector field: θ_k ↦ c_k (translations). Its flow adds t c_k.</summary>
    Translation,
}

/// <summary>Entries of one named parameter tensor and the coefficient of a generator on each.</summary>
public sealed record ParameterEntries(string Parameter, int[] Indices, double[] Coefficients);

/// <summary>
/// One basis element of a site's Lie algebra, as a vector field on the parameter vector: for <see cref="GeneratorKind.Scaling"/>
/// the tangent at θ is (a_k θ_k)_k, for <see cref="GeneratorKind.Translation"/> it is (c_k)_k, on the listed entries and
/// zero elsewhere. Both kinds conserve, under gradient flow, Q = ⟨θ, Mθ⟩ = Σ a_k θ_k² (scaling; M is diagonal, hence
/// symmetric) or Q = ⟨c, θ⟩ (translation), because dQ/dt = −2⟨∇L, Mθ⟩ or −⟨∇L, c⟩, which the symmetry makes zero.
/// </summary>
public sealed class CensusGenerator
{
    /// <summary>Creates a generator.</summary>
    public CensusGenerator(string name, GeneratorKind kind, IReadOnlyList<ParameterEntries> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var e in entries)
            if (e.Indices.Length != e.Coefficients.Length)
                throw new ArgumentException($"generator '{name}': parameter '{e.Parameter}' has {e.Indices.Length} indices but {e.Coefficients.Length} coefficients", nameof(entries));
        Name = name;
        Kind = kind;
        Entries = entries;
    }

    /// <summary>A short name, e.g. "unit 3".</summary>
    public string Name { get; }

    /// <summary>Scaling (linear) or translation (constant).</summary>
    public GeneratorKind Kind { get; }

    /// <summary>The entries it moves, per parameter tensor.</summary>
    public IReadOnlyList<ParameterEntries> Entries { get; }

    /// <summary>Number of parameter entries it touches.</summary>
    public int Support => Entries.Sum(e => e.Indices.Length);

    /// <summary>The tangent vector at θ, entry by entry: (parameter, index, value).</summary>
    public IEnumerable<(string Parameter, int Index, double Value)> Tangent(Func<string, double[]> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var e in Entries)
        {
            var data = Kind == GeneratorKind.Scaling ? parameters(e.Parameter) : null;
            for (int i = 0; i < e.Indices.Length; i++)
                yield return (e.Parameter, e.Indices[i], data is null ? e.Coefficients[i] : e.Coefficients[i] * data[e.Indices[i]]);
        }
    }

    /// <summary>The conserved quantity Σ a_k θ_k² (scaling) or Σ c_k θ_k (translation) at θ.</summary>
    public double Conserved(Func<string, double[]> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        double q = 0;
        foreach (var e in Entries)
        {
            var data = parameters(e.Parameter);
            for (int i = 0; i < e.Indices.Length; i++)
            {
                double x = data[e.Indices[i]];
                q += Kind == GeneratorKind.Scaling ? e.Coefficients[i] * x * x : e.Coefficients[i] * x;
            }
        }
        return q;
    }
}
