namespace Noether.Symmetry.Census;

/// <summary>The kinds of site the census recognises (docs/census.md has the table of generators and conserved quantities).</summary>
public enum SiteKind
{
    /// <summary>Positive rescaling of a hidden unit / channel across a positively homogeneous map (ReLU, LeakyReLU, identity, max/average pooling).</summary>
    Rescaling,
    /// <summary>Scale invariance of the weights (and bias) feeding a BatchNormalization channel that normalises with batch statistics, or a LayerNorm/RMSNorm.</summary>
    NormalizationScale,
    /// <summary>GL(d) between two linear maps with nothing nonlinear between them (Gemm/Conv pairs; per attention head: W_Q/W_K, W_V/W_O).</summary>
    GeneralLinear,
    /// <summary>Translation of parameters the loss does not depend on (e.g. the key bias of attention: softmax over keys ignores it).</summary>
    Translation,
    /// <summary>Translation of the last layer's logits under softmax cross-entropy.</summary>
    SoftmaxTranslation,
    /// <summary>A LayerNorm's centring: a consumer's output row moves along 1/γ (its bias absorbing β's part), since the normalised value has zero mean. No conserved quantity.</summary>
    Centring,
    /// <summary>A bias moved into the next linear maps' biases: a LayerNorm's β into its consumers' (β_j + s, b − s W[:, j]), an attention's value bias into the output projection's. No conserved quantity.</summary>
    BetaTransfer,
    /// <summary>A value read only by LayerNorms (a transformer's residual stream): every writer may add a multiple of 1 along the features.</summary>
    StreamCentring,
}

/// <summary>
/// A place in the graph where a continuous group acts on the parameters and leaves the loss unchanged: its group, a basis
/// of its Lie algebra (<see cref="Generators"/>, whose count is the dimension) and the conserved quantity of each
/// generator. The generators of one site commute, so a group element is exp(Σ t_i M_i), applied entry by entry.
/// </summary>
public sealed class CensusSite
{
    /// <summary>Creates a site.</summary>
    public CensusSite(SiteKind kind, string location, string group, string conserved, IReadOnlyList<CensusGenerator> generators, bool exact = true, string? note = null)
    {
        ArgumentNullException.ThrowIfNull(generators);
        if (generators.Count == 0) throw Errors.Argument(nameof(generators), $"site '{location}' has no generator");
        var kinds = generators.Select(g => g.Kind).Distinct().Count();
        if (kinds != 1) throw Errors.Argument(nameof(generators), $"site '{location}' mixes scaling and translation generators");
        Kind = kind;
        Location = location;
        Group = group;
        Conserved = conserved;
        Generators = generators;
        Exact = exact;
        Note = note;
    }

    /// <summary>What acts.</summary>
    public SiteKind Kind { get; }

    /// <summary>Where: the nodes and parameters involved, e.g. "1.weight/1.bias → Relu → 3.weight".</summary>
    public string Location { get; }

    /// <summary>The group, e.g. "(R>0)^32" or "R^33".</summary>
    public string Group { get; }

    /// <summary>The conserved quantity's formula.</summary>
    public string Conserved { get; }

    /// <summary>A basis of the Lie algebra.</summary>
    public IReadOnlyList<CensusGenerator> Generators { get; }

    /// <summary>
    /// False for sites whose generators' directions depend on parameters they do not move (<see cref="SiteKind.Centring"/>,
    /// <see cref="SiteKind.BetaTransfer"/>): the vector field X(θ) is then neither linear nor a gradient, ⟨∇L, X⟩ = 0 gives
    /// no conserved function, and <see cref="CensusGenerator.Conserved"/> means nothing for them.
    /// </summary>
    public bool Conserves => Kind is not (SiteKind.Centring or SiteKind.BetaTransfer);

    /// <summary>The dimension of the group (number of generators).</summary>
    public int Dimension => Generators.Count;

    /// <summary>False when the invariance holds only approximately (e.g. broken by a normalisation's ε); the verification measures how much.</summary>
    public bool Exact { get; }

    /// <summary>Why the site is approximate, or another remark.</summary>
    public string? Note { get; }

    /// <summary>Moves the parameters by the group element exp(Σ t_i M_i), in place.</summary>
    public void Apply(Func<string, double[]> parameters, IReadOnlyList<double> t)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(t);
        if (t.Count != Generators.Count) throw Errors.Argument(nameof(t), $"site '{Location}' has {Generators.Count} generators, {t.Count} coordinates given");
        // Accumulate the exponent (scaling) or shift (translation) per entry first: the generators commute and may overlap.
        var acc = new Dictionary<(string, int), double>();
        for (int g = 0; g < t.Count; g++)
            foreach (var e in Generators[g].Entries)
                for (int i = 0; i < e.Indices.Length; i++)
                {
                    var key = (e.Parameter, e.Indices[i]);
                    acc[key] = acc.GetValueOrDefault(key) + t[g] * e.Coefficients[i];
                }
        if (Generators[0].Kind == GeneratorKind.Linear)
        {
            ApplyLinear(parameters, t);
            return;
        }
        bool scaling = Generators[0].Kind == GeneratorKind.Scaling;
        foreach (var ((name, index), s) in acc)
        {
            var data = parameters(name);
            data[index] = scaling ? data[index] * Math.Exp(s) : data[index] + s;
        }
    }

    // exp(A)θ for the sparse A = Σ t_i M_i, by its Taylor series Σ A^k θ / k! (terms until they stop mattering in float64;
    // the verification keeps ‖A‖ ≲ 1, where the series needs ~20 terms and loses nothing to cancellation).
    private void ApplyLinear(Func<string, double[]> parameters, IReadOnlyList<double> t)
    {
        var couplings = new List<(string T, int Ti, string S, int Si, double C)>();
        for (int g = 0; g < t.Count; g++)
            foreach (var c in Generators[g].Couplings) couplings.Add((c.Target, c.TargetIndex, c.Source, c.SourceIndex, t[g] * c.Coefficient));
        var term = new Dictionary<(string, int), double>();
        foreach (var c in couplings)
        {
            term[(c.S, c.Si)] = parameters(c.S)[c.Si];
            term[(c.T, c.Ti)] = parameters(c.T)[c.Ti];
        }
        var sum = new Dictionary<(string, int), double>(term);
        double scale = term.Values.Max(Math.Abs);
        for (int k = 1; k < 200; k++)
        {
            var next = new Dictionary<(string, int), double>();
            foreach (var c in couplings)
                if (term.TryGetValue((c.S, c.Si), out var x) && x != 0)
                    next[(c.T, c.Ti)] = next.GetValueOrDefault((c.T, c.Ti)) + c.C * x / k;
            double largest = 0;
            foreach (var (key, x) in next)
            {
                sum[key] = sum.GetValueOrDefault(key) + x;
                largest = Math.Max(largest, Math.Abs(x));
            }
            term = next;
            if (largest <= 1e-18 * scale) break;
        }
        foreach (var ((name, index), x) in sum) parameters(name)[index] = x;
    }
}
