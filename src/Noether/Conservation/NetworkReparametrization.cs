using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Conservation;

/// <summary>
/// The fields a fully connected network offers the law count (<see cref="LawCount"/>), for widths (n₀, …, n_q) listed
/// input first, W_l ∈ ℝ^{n_l×n_{l−1}}, parameter blocks ordered W₁, b₁, W₂, b₂, … (biases only when asked).
/// Marcotte et al. list widths output first; <see cref="FromOutputFirst"/> converts.
/// </summary>
public sealed class NetworkReparametrization
{
    /// <summary>A network of the given widths (input first), with or without biases.</summary>
    public NetworkReparametrization(IReadOnlyList<int> widths, bool biases)
    {
        ArgumentNullException.ThrowIfNull(widths);
        if (widths.Count < 2) throw Errors.Argument(nameof(widths), $"law count: widths must list at least an input and an output width, got {widths.Count}");
        for (int i = 0; i < widths.Count; i++) Errors.ThrowIfNotPositive(widths[i], $"{nameof(widths)}[{i}]");
        Widths = widths.ToArray();
        Biases = biases;
    }

    /// <summary>Widths (n₀, …, n_q), input first.</summary>
    public IReadOnlyList<int> Widths { get; }

    /// <summary>Whether every layer has a bias.</summary>
    public bool Biases { get; }

    /// <summary>Number of layers q.</summary>
    public int Layers => Widths.Count - 1;

    /// <summary>Σ of the hidden widths: the number of positive rescalings, one per hidden unit.</summary>
    public int HiddenUnits => Widths.Skip(1).Take(Layers - 1).Sum();

    /// <summary>D, the number of parameters.</summary>
    public int Parameters => Enumerable.Range(1, Layers).Sum(l => Widths[l] * Widths[l - 1] + (Biases ? Widths[l] : 0));

    /// <summary>
    /// A random architecture of the sizes Marcotte et al. tested: depth (layers) uniform in [<paramref name="minDepth"/>,
    /// <paramref name="maxDepth"/>], every width uniform in [<paramref name="minWidth"/>, <paramref name="maxWidth"/>].
    /// </summary>
    public static NetworkReparametrization Draw(Random random, int minDepth, int maxDepth, int minWidth, int maxWidth, bool biases)
    {
        ArgumentNullException.ThrowIfNull(random);
        Errors.ThrowIfNotPositive(minDepth, nameof(minDepth));
        Errors.ThrowIfNotPositive(minWidth, nameof(minWidth));
        if (maxDepth < minDepth) throw Errors.OutOfRange(nameof(maxDepth), maxDepth, $"≥ minDepth ({minDepth})");
        if (maxWidth < minWidth) throw Errors.OutOfRange(nameof(maxWidth), maxWidth, $"≥ minWidth ({minWidth})");
        int depth = random.Next(minDepth, maxDepth + 1);
        var widths = new int[depth + 1];
        for (int i = 0; i <= depth; i++) widths[i] = random.Next(minWidth, maxWidth + 1);
        return new NetworkReparametrization(widths, biases);
    }

    /// <summary>A network from widths listed output first (Marcotte et al.'s list_dim convention).</summary>
    public static NetworkReparametrization FromOutputFirst(IReadOnlyList<int> widths, bool biases)
    {
        ArgumentNullException.ThrowIfNull(widths);
        return new NetworkReparametrization(widths.Reverse().ToArray(), biases);
    }

    /// <summary>The parameter blocks' shapes: W₁ [n₁, n₀], b₁ [n₁], ….</summary>
    public IReadOnlyList<int[]> Shapes
    {
        get
        {
            var shapes = new List<int[]>();
            for (int l = 1; l <= Layers; l++)
            {
                shapes.Add([Widths[l], Widths[l - 1]]);
                if (Biases) shapes.Add([Widths[l]]);
            }
            return shapes;
        }
    }

    /// <summary>A Gaussian θ (standard normal entries): a generic point.</summary>
    public Tensor<double>[] RandomPoint(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Shapes.Select(s =>
        {
            var t = Tensor<double>.Zeros(s);
            Gaussian.Fill(random, t.Data);
            return t;
        }).ToArray();
    }

    /// <summary>
    /// φ of a linear network: the product W_q⋯W₁ and, with biases, every bias path W_q⋯W_{l+1} b_l (b_q itself for l = q).
    /// The function the network computes is x ↦ W_q⋯W₁ x + Σ_l W_q⋯W_{l+1} b_l, so these are its coordinates.
    /// </summary>
    public Reparametrization LinearProduct() => parameters =>
    {
        var (w, b) = Split(parameters);
        var outputs = new List<Variable<double>>();
        var product = w[0];
        for (int l = 1; l < Layers; l++) product = Ops.MatMul(w[l], product);
        outputs.Add(product);
        if (Biases)
        {
            for (int l = 0; l < Layers; l++)
            {
                var path = Ops.Reshape(b[l]!, Widths[l + 1], 1);
                for (int k = l + 1; k < Layers; k++) path = Ops.MatMul(w[k], path);
                outputs.Add(path);
            }
        }
        return outputs;
    };

    /// <summary>
    /// φ of a ReLU network (any positively homogeneous σ): every path product from an input, or from a bias, to an output
    /// unit — the coordinates of the network's function on each region of fixed activation pattern (Marcotte et al. §4).
    /// </summary>
    /// <remarks>Paths are built layer by layer: T_{k+1}[a, (b, p)] = W_{k+1}[a, b]·T_k[b, p], a new column per bias.</remarks>
    public Reparametrization PathProducts() => parameters =>
    {
        var (w, b) = Split(parameters);
        var parts = new List<Variable<double>> { w[0] };
        if (Biases) parts.Add(Ops.Reshape(b[0]!, Widths[1], 1));
        for (int l = 1; l < Layers; l++)
        {
            int rows = Widths[l + 1], inner = Widths[l];
            var weight = Ops.Reshape(w[l], rows, inner, 1);
            var next = new List<Variable<double>>();
            foreach (var part in parts)
            {
                int columns = part.Value.Dim(1);
                var paths = Ops.Multiply(weight, Ops.Reshape(part, 1, inner, columns));
                next.Add(Ops.Reshape(paths, rows, inner * columns));
            }
            if (Biases) next.Add(Ops.Reshape(b[l]!, rows, 1));
            parts = next;
        }
        return parts;
    };

    /// <summary>
    /// φ = the network's outputs on a batch (<paramref name="inputs"/>, samples × n₀), with <paramref name="activation"/> on
    /// every hidden layer: the fields any model allows, whose law count holds for these data only.
    /// </summary>
    public Reparametrization Outputs(Tensor<double> inputs, Activation activation)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(activation);
        if (inputs.Rank != 2 || inputs.Dim(1) != Widths[0])
            throw Errors.BadShape("law count", nameof(inputs), inputs.Shape, $"samples × {Widths[0]} (the input width)");
        if (!activation.IsElementwise)
            throw Errors.Argument(nameof(activation), $"law count: '{activation.Name}' acts on whole columns; the network's layers need an elementwise σ");
        return parameters =>
        {
            var (w, b) = Split(parameters);
            var tape = parameters[0].Tape;
            var h = tape.Constant(inputs);
            for (int l = 0; l < Layers; l++)
            {
                var z = Ops.MatMul(h, w[l], false, true);
                if (Biases) z = Ops.Add(z, Ops.Reshape(b[l]!, 1, Widths[l + 1]));
                h = l == Layers - 1 ? z : activation.Apply(z);
            }
            return [h];
        };
    }

    /// <summary>
    /// The known conserved quantities of a linear network: for each hidden layer l the symmetric matrix
    /// W_l W_lᵀ + b_l b_lᵀ − W_{l+1}ᵀ W_{l+1} (the paper's eq. 48 between consecutive layers, biases as V̂ = [V | b]).
    /// <see cref="LawCount.FunctionalRank"/> of it is the number of independent known laws.
    /// </summary>
    public Reparametrization LinearKnownQuantities() => parameters =>
    {
        var (w, b) = Split(parameters);
        var outputs = new List<Variable<double>>();
        for (int l = 0; l < Layers - 1; l++)
        {
            var q = Ops.Subtract(Ops.MatMul(w[l], w[l], false, true), Ops.MatMul(w[l + 1], w[l + 1], true, false));
            if (Biases)
            {
                var column = Ops.Reshape(b[l]!, Widths[l + 1], 1);
                q = Ops.Add(q, Ops.MatMul(column, column, false, true));
            }
            outputs.Add(q);
        }
        if (outputs.Count == 0) outputs.Add(parameters[0].Tape.Constant(Tensor<double>.Zeros(1)));
        return outputs;
    };

    private (Variable<double>[] Weights, Variable<double>?[] Biases) Split(IReadOnlyList<Variable<double>> parameters)
    {
        int expected = Layers * (Biases ? 2 : 1);
        if (parameters.Count != expected)
            throw Errors.Argument(nameof(parameters), $"law count: {parameters.Count} parameter blocks, expected {expected}");
        var w = new Variable<double>[Layers];
        var b = new Variable<double>?[Layers];
        for (int l = 0; l < Layers; l++)
        {
            w[l] = parameters[Biases ? 2 * l : l];
            if (Biases) b[l] = parameters[2 * l + 1];
        }
        return (w, b);
    }
}
