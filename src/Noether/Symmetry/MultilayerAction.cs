using Noether.Nn;
using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>
/// The product action of G = G₁ × … × G_{L−1} on every hidden layer of an MLP at once (eqs. 17–18, in the SPEC's
/// indexing): with g₀ = I on the input and g_L = I on the output,
/// W_i ↦ g_i W_i π_{i−1}(g_{i−1})⁻¹, so that every pre-activation becomes H_i ↦ g_i H_i and the output is unchanged
/// when σ(gz) = π(g)σ(z) on each layer (Prop. 9). Infinitesimally, W_i ↦ M_i W_i − W_i dπ_{i−1}(M_{i−1}).
/// </summary>
public sealed class MultilayerAction
{
    private readonly MatrixGroup[] _groups;

    /// <summary>The action with one group per hidden layer (group i acts on layer i, i = 1…L−1).</summary>
    public MultilayerAction(IReadOnlyList<MatrixGroup> hiddenGroups)
    {
        ArgumentNullException.ThrowIfNull(hiddenGroups);
        if (hiddenGroups.Count == 0) throw Errors.Argument(nameof(hiddenGroups), "multilayer action: at least one hidden layer group is needed");
        for (int i = 0; i < hiddenGroups.Count; i++) ArgumentNullException.ThrowIfNull(hiddenGroups[i], $"hiddenGroups[{i}]");
        _groups = hiddenGroups.ToArray();
    }

    /// <summary>G_i for hidden layers i = 1…L−1 (list index i − 1).</summary>
    public IReadOnlyList<MatrixGroup> Groups => _groups;

    /// <summary>dim 𝔤 = Σ dim 𝔤_i.</summary>
    public int AlgebraDimension => _groups.Sum(g => g.AlgebraDimension);

    /// <summary>The natural group of <paramref name="network"/>'s activation on each hidden layer (<see cref="MatrixGroup.ForActivation(Activation, int, double)"/>).</summary>
    public static MultilayerAction ForNetwork(MultilayerNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var groups = new MatrixGroup[network.Layers - 1];
        for (int i = 1; i < network.Layers; i++)
            groups[i - 1] = MatrixGroup.ForActivation(network.Activation, network.Widths[i])
                ?? throw Errors.Argument(nameof(network), $"multilayer action: activation '{network.Activation.Name}' has no linear symmetry group (only the data-dependent action of Prop. 8 applies)");
        return new MultilayerAction(groups);
    }

    /// <summary>Random elements exp(M_i), one per hidden layer.</summary>
    public Tensor<double>[] RandomElement(Random random, double scale = 1) => _groups.Select(g => g.RandomElement(random, scale)).ToArray();

    /// <summary>Random algebra elements M_i, one per hidden layer.</summary>
    public Tensor<double>[] RandomAlgebraElement(Random random, double scale = 1) => _groups.Select(g => g.RandomAlgebraElement(random, scale)).ToArray();

    /// <summary>A basis of 𝔤₁ × … × 𝔤_{L−1}: each element has one nonzero layer, taken from that layer's basis.</summary>
    public IReadOnlyList<Tensor<double>[]> AlgebraBasis()
    {
        var basis = new List<Tensor<double>[]>(AlgebraDimension);
        for (int i = 0; i < _groups.Length; i++)
            foreach (var e in _groups[i].AlgebraBasis())
            {
                var element = _groups.Select(g => Tensor<double>.Zeros(g.Size, g.Size)).ToArray();
                element[i] = e;
                basis.Add(element);
            }
        return basis;
    }

    /// <summary>g·θ (eq. 17): W_i ↦ g_i W_i π_{i−1}(g_{i−1})⁻¹, after validating every g_i.</summary>
    public Tensor<double>[] Apply(IReadOnlyList<Tensor<double>> g, IReadOnlyList<Tensor<double>> weights)
    {
        CheckLayers(g, weights, nameof(g));
        for (int i = 0; i < _groups.Length; i++) _groups[i].ValidateElement(g[i], $"g[{i}] (hidden layer {i + 1})");
        var result = new Tensor<double>[weights.Count];
        for (int i = 0; i < weights.Count; i++)
        {
            var w = weights[i];
            if (i < _groups.Length) w = LinearAlgebra.Multiply(g[i], w);
            if (i > 0) w = LinearAlgebra.Multiply(w, _groups[i - 1].RepresentationOfInverse(g[i - 1]));
            result[i] = w;
        }
        return result;
    }

    /// <summary>The infinitesimal action (eq. 18): W_i ↦ M_i W_i − W_i dπ_{i−1}(M_{i−1}), after validating every M_i.</summary>
    public Tensor<double>[] InfinitesimalAction(IReadOnlyList<Tensor<double>> m, IReadOnlyList<Tensor<double>> weights)
    {
        CheckLayers(m, weights, nameof(m));
        for (int i = 0; i < _groups.Length; i++) _groups[i].ValidateAlgebraElement(m[i], $"m[{i}] (hidden layer {i + 1})");
        var result = new Tensor<double>[weights.Count];
        for (int i = 0; i < weights.Count; i++)
        {
            var w = weights[i];
            var r = Tensor<double>.Zeros(w.ShapeArray);
            if (i < _groups.Length) r = LinearAlgebra.Multiply(m[i], w);
            if (i > 0) r = r - LinearAlgebra.Multiply(w, _groups[i - 1].AlgebraRepresentation(m[i - 1]));
            result[i] = r;
        }
        return result;
    }

    private void CheckLayers(IReadOnlyList<Tensor<double>> elements, IReadOnlyList<Tensor<double>> weights, string name)
    {
        ArgumentNullException.ThrowIfNull(elements, name);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count != _groups.Length + 1)
            throw Errors.Argument(nameof(weights), $"multilayer action: {_groups.Length} hidden groups need {_groups.Length + 1} weight matrices, got {weights.Count}");
        if (elements.Count != _groups.Length)
            throw Errors.Argument(name, $"multilayer action: {elements.Count} elements for {_groups.Length} hidden layers");
        for (int i = 0; i < weights.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(weights[i], $"weights[{i}]");
            if (weights[i].Rank != 2) throw Errors.BadShape("multilayer action", $"W{i + 1}", weights[i].Shape, "a matrix");
            int rows = i < _groups.Length ? _groups[i].Size : weights[i].Dim(0);
            int cols = i > 0 ? _groups[i - 1].Size : weights[i].Dim(1);
            if (weights[i].Dim(0) != rows || weights[i].Dim(1) != cols)
                throw Errors.BadShape("multilayer action", $"W{i + 1}", weights[i].Shape, $"{rows}×{cols} to match the hidden groups");
        }
    }
}
