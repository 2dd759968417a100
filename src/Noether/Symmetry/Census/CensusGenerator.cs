namespace Noether.Symmetry.Census;

/// <summary>How a generator moves the parameters it touches.</summary>
public enum GeneratorKind
{
    /// <summary>A diagonal linear vector field: θ_k ↦ a_k θ_k (rescalings). Its flow multiplies θ_k by e^{t a_k}.</summary>
    Scaling,
    /// <summary>A constant vector field: θ_k ↦ c_k (translations). Its flow adds t c_k.</summary>
    Translation,
    /// <summary>A general linear vector field θ ↦ Mθ given by couplings (target entry += c · source entry), e.g. E_ab of a GL(d) site.</summary>
    Linear,
}

/// <summary>One entry of a linear generator's matrix: (Mθ)[target] += Coefficient · θ[source].</summary>
public sealed record Coupling(string Target, int TargetIndex, string Source, int SourceIndex, double Coefficient);

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
                throw Errors.Argument(nameof(entries), $"generator '{name}': parameter '{e.Parameter}' has {e.Indices.Length} indices but {e.Coefficients.Length} coefficients");
        if (kind == GeneratorKind.Linear) throw Errors.Argument(nameof(kind), $"generator '{name}': a linear generator is given by couplings");
        Name = name;
        Kind = kind;
        Entries = entries;
        Couplings = [];
    }

    /// <summary>Creates a general linear generator from its couplings.</summary>
    public CensusGenerator(string name, IReadOnlyList<Coupling> couplings)
    {
        ArgumentNullException.ThrowIfNull(couplings);
        Name = name;
        Kind = GeneratorKind.Linear;
        Couplings = couplings;
        Entries = couplings.GroupBy(c => c.Target)
            .Select(g => new ParameterEntries(g.Key, g.Select(c => c.TargetIndex).ToArray(), g.Select(c => c.Coefficient).ToArray())).ToArray();
    }

    /// <summary>The matrix entries of a <see cref="GeneratorKind.Linear"/> generator (empty otherwise).</summary>
    public IReadOnlyList<Coupling> Couplings { get; }

    /// <summary>Parameter tensors it reads or moves.</summary>
    public IEnumerable<string> Parameters => Entries.Select(e => e.Parameter).Concat(Couplings.Select(c => c.Source)).Distinct();

    /// <summary>A short name, e.g. "unit 3".</summary>
    public string Name { get; }

    /// <summary>Scaling (linear) or translation (constant).</summary>
    public GeneratorKind Kind { get; }

    /// <summary>The entries it moves, per parameter tensor.</summary>
    public IReadOnlyList<ParameterEntries> Entries { get; }

    /// <summary>Number of parameter entries it touches.</summary>
    public int Support => Kind == GeneratorKind.Linear ? Couplings.Count : Entries.Sum(e => e.Indices.Length);

    /// <summary>The tangent vector at θ, entry by entry: (parameter, index, value).</summary>
    public IEnumerable<(string Parameter, int Index, double Value)> Tangent(Func<string, double[]> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (Kind == GeneratorKind.Linear)
        {
            foreach (var c in Couplings) yield return (c.Target, c.TargetIndex, c.Coefficient * parameters(c.Source)[c.SourceIndex]);
            yield break;
        }
        foreach (var e in Entries)
        {
            var data = Kind == GeneratorKind.Scaling ? parameters(e.Parameter) : null;
            for (int i = 0; i < e.Indices.Length; i++)
                yield return (e.Parameter, e.Indices[i], data is null ? e.Coefficients[i] : e.Coefficients[i] * data[e.Indices[i]]);
        }
    }

    /// <summary>
    /// The conserved quantity ⟨θ, Mθ⟩ (scaling, linear) or ⟨c, θ⟩ (translation) at θ. For a linear generator ⟨θ, Mθ⟩ =
    /// ⟨θ, ½(M + Mᵀ)θ⟩ is conserved when Mᵀ also generates a symmetry (true of every GL(d) site: E_abᵀ = E_ba), since
    /// then dQ/dt = −⟨∇L, Mθ⟩ − ⟨∇L, Mᵀθ⟩ = 0; for E_ab it is the (a, b) entry of UᵀU − VVᵀ.
    /// </summary>
    public double Conserved(Func<string, double[]> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (Kind == GeneratorKind.Linear)
            return Couplings.Sum(c => c.Coefficient * parameters(c.Target)[c.TargetIndex] * parameters(c.Source)[c.SourceIndex]);
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
