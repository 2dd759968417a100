using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Nn;

/// <summary>
/// The bias-free MLP of B.1 in the SPEC convention: widths (n₀, …, n_L), weights W_i ∈ ℝ^{n_i × n_{i−1}}
/// (i = 1…L, held in a list in that order), H₁ = W₁X, H_{i+1} = W_{i+1} σ(H_i), output F = H_L (no output
/// activation), loss ½‖Y − F‖² (or the mean). For L = 2 this is F = Uσ(VX) with the list [W₁, W₂] = [V, U].
/// </summary>
public sealed class MultilayerNetwork
{
    private readonly int[] _widths;

    /// <summary>A network with the given widths (at least two layers: n₀, n₁, n₂) and one activation on every hidden layer.</summary>
    public MultilayerNetwork(IReadOnlyList<int> widths, Activation activation, SquaredErrorLoss loss)
    {
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(activation);
        if (widths.Count < 3)
            throw Errors.Argument(nameof(widths), $"multilayer network: widths ({string.Join(", ", widths)}) must list n₀, …, n_L with L ≥ 2 layers");
        for (int i = 0; i < widths.Count; i++) Errors.ThrowIfNotPositive(widths[i], $"widths[{i}]");
        _widths = widths.ToArray();
        Activation = activation;
        LossKind = loss;
    }

    /// <summary>(n₀, …, n_L).</summary>
    public IReadOnlyList<int> Widths => _widths;

    /// <summary>L, the number of weight matrices.</summary>
    public int Layers => _widths.Length - 1;

    /// <summary>σ on every hidden layer.</summary>
    public Activation Activation { get; }

    /// <summary>The loss reduction.</summary>
    public SquaredErrorLoss LossKind { get; }

    /// <summary>Random weights with entries N(0, std²).</summary>
    public Tensor<double>[] RandomWeights(Random random, double std = 1)
    {
        var w = new Tensor<double>[Layers];
        for (int i = 0; i < Layers; i++) w[i] = Gaussian.Matrix(random, _widths[i + 1], _widths[i], std);
        return w;
    }

    /// <summary>F(X) on the tape.</summary>
    public Variable<double> Output(IReadOnlyList<Variable<double>> weights, Variable<double> x)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var h = Ops.MatMul(weights[0], x);
        for (int i = 1; i < weights.Count; i++) h = Ops.MatMul(weights[i], Activation.Apply(h));
        return h;
    }

    /// <summary>The pre-activations H₁, …, H_L (value level).</summary>
    public Tensor<double>[] PreActivations(IReadOnlyList<Tensor<double>> weights, Tensor<double> x)
    {
        CheckData(weights, x, null);
        var tape = new Tape<double>();
        var result = new Tensor<double>[Layers];
        var h = Ops.MatMul(tape.Constant(weights[0]), tape.Constant(x));
        result[0] = h.Value;
        for (int i = 1; i < Layers; i++)
        {
            h = Ops.MatMul(tape.Constant(weights[i]), Activation.Apply(h));
            result[i] = h.Value;
        }
        return result;
    }

    /// <summary>F(X).</summary>
    public Tensor<double> Output(IReadOnlyList<Tensor<double>> weights, Tensor<double> x) => PreActivations(weights, x)[^1];

    /// <summary>L(θ; X, Y).</summary>
    public double Loss(IReadOnlyList<Tensor<double>> weights, Tensor<double> x, Tensor<double> y)
    {
        CheckData(weights, x, y);
        var tape = new Tape<double>();
        var f = Output(weights.Select(w => tape.Constant(w)).ToArray(), tape.Constant(x));
        return LossKind.OnTape(Ops.Subtract(tape.Constant(y), f)).Value.ScalarValue;
    }

    /// <summary>L(θ; X, Y) and ∂L/∂W_i for each layer.</summary>
    public LossGradient LossAndGradient(IReadOnlyList<Tensor<double>> weights, Tensor<double> x, Tensor<double> y)
    {
        CheckData(weights, x, y);
        var tape = new Tape<double>();
        var leaves = weights.Select((w, i) => tape.Leaf(w, $"W{i + 1}")).ToArray();
        var loss = LossKind.OnTape(Ops.Subtract(tape.Constant(y), Output(leaves, tape.Constant(x))));
        var g = tape.Gradient(loss, leaves);
        return new LossGradient(loss.Value.ScalarValue, g.Select(v => v.Value).ToArray());
    }

    /// <summary>θ ↦ (L, ∇L) for a fixed batch.</summary>
    public Func<IReadOnlyList<Tensor<double>>, LossGradient> LossFunction(Tensor<double> x, Tensor<double> y) => w => LossAndGradient(w, x, y);

    /// <summary>Checks that <paramref name="weights"/> match the widths.</summary>
    public void CheckWeights(IReadOnlyList<Tensor<double>> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count != Layers) throw Errors.Argument(nameof(weights), $"multilayer network: {weights.Count} weight matrices for {Layers} layers");
        for (int i = 0; i < Layers; i++)
        {
            ArgumentNullException.ThrowIfNull(weights[i], $"weights[{i}]");
            if (!weights[i].HasShape(_widths[i + 1], _widths[i]))
                throw Errors.BadShape("multilayer network", $"W{i + 1}", weights[i].Shape, $"{_widths[i + 1]}×{_widths[i]} (n_{i + 1} × n_{i})");
        }
    }

    private void CheckData(IReadOnlyList<Tensor<double>> weights, Tensor<double> x, Tensor<double>? y)
    {
        CheckWeights(weights);
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 2 || x.Dim(0) != _widths[0]) throw Errors.BadShape("multilayer network", "X", x.Shape, $"an n₀×k matrix with n₀ = {_widths[0]}");
        if (y is not null && (y.Rank != 2 || y.Dim(0) != _widths[^1] || y.Dim(1) != x.Dim(1)))
            throw Errors.BadShape("multilayer network", "Y", y.Shape, $"{_widths[^1]}×{x.Dim(1)} (n_L × k)");
    }
}
