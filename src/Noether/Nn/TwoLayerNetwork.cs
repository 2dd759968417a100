using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Nn;

/// <summary>A loss value and its gradient with respect to each parameter tensor.</summary>
/// <param name="Loss">L(θ).</param>
/// <param name="Gradient">∂L/∂θ_i, in the order of the parameters.</param>
public sealed record LossGradient(double Loss, Tensor<double>[] Gradient);

/// <summary>
/// The two-layer network F(X) = U σ(VX) of the SPEC (U m×h, V h×n, X n×k with samples as columns, Y m×k) and
/// its loss L = ½‖Y − F‖²_F (or the mean, <see cref="SquaredErrorLoss"/>). Values and gradients come from the
/// autodiff tape, so every formula of the symmetry analysis is checked against one independent implementation.
/// </summary>
public sealed class TwoLayerNetwork
{
    /// <summary>A network with hidden activation <paramref name="activation"/> and the given loss reduction.</summary>
    public TwoLayerNetwork(Activation activation, SquaredErrorLoss loss)
    {
        ArgumentNullException.ThrowIfNull(activation);
        if (loss is not (SquaredErrorLoss.HalfSum or SquaredErrorLoss.Mean)) throw Errors.OutOfRange(nameof(loss), loss, "HalfSum or Mean");
        Activation = activation;
        LossKind = loss;
    }

    /// <summary>σ.</summary>
    public Activation Activation { get; }

    /// <summary>The loss reduction.</summary>
    public SquaredErrorLoss LossKind { get; }

    /// <summary>F = U σ(VX) on the tape.</summary>
    public Variable<double> Output(Variable<double> u, Variable<double> v, Variable<double> x) =>
        Ops.MatMul(u, Activation.Apply(Ops.MatMul(v, x)));

    /// <summary>L(U, V; X, Y) on the tape.</summary>
    public Variable<double> Loss(Variable<double> u, Variable<double> v, Variable<double> x, Variable<double> y) =>
        LossKind.OnTape(Ops.Subtract(y, Output(u, v, x)));

    /// <summary>F(X) = U σ(VX).</summary>
    public Tensor<double> Output(TwoLayerParameters theta, Tensor<double> x)
    {
        ArgumentNullException.ThrowIfNull(theta);
        CheckData(theta, x, null);
        var tape = new Tape<double>();
        return Output(tape.Constant(theta.U), tape.Constant(theta.V), tape.Constant(x)).Value;
    }

    /// <summary>L(θ; X, Y).</summary>
    public double Loss(TwoLayerParameters theta, Tensor<double> x, Tensor<double> y)
    {
        ArgumentNullException.ThrowIfNull(theta);
        CheckData(theta, x, y);
        var tape = new Tape<double>();
        return Loss(tape.Constant(theta.U), tape.Constant(theta.V), tape.Constant(x), tape.Constant(y)).Value.ScalarValue;
    }

    /// <summary>L(θ; X, Y) and (∂L/∂U, ∂L/∂V).</summary>
    public LossGradient LossAndGradient(TwoLayerParameters theta, Tensor<double> x, Tensor<double> y)
    {
        ArgumentNullException.ThrowIfNull(theta);
        CheckData(theta, x, y);
        var tape = new Tape<double>();
        var u = tape.Leaf(theta.U, "U");
        var v = tape.Leaf(theta.V, "V");
        var loss = Loss(u, v, tape.Constant(x), tape.Constant(y));
        var g = tape.Gradient(loss, [u, v]);
        return new LossGradient(loss.Value.ScalarValue, [g[0].Value, g[1].Value]);
    }

    /// <summary>The gradient as parameters (∂L/∂U, ∂L/∂V).</summary>
    public TwoLayerParameters Gradient(TwoLayerParameters theta, Tensor<double> x, Tensor<double> y)
    {
        var g = LossAndGradient(theta, x, y).Gradient;
        return new TwoLayerParameters(g[0], g[1]);
    }

    /// <summary>θ ↦ (L, ∇L) on the list form [U, V] for a fixed batch, for optimisers, monitors and the flow integrator.</summary>
    public Func<IReadOnlyList<Tensor<double>>, LossGradient> LossFunction(Tensor<double> x, Tensor<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        return theta => LossAndGradient(TwoLayerParameters.FromList(theta), x, y);
    }

    internal static void CheckData(TwoLayerParameters theta, Tensor<double> x, Tensor<double>? y)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 2) throw Errors.BadShape("two-layer network", "X", x.Shape, $"an n×k matrix with n = {theta.N} (columns are samples)");
        if (x.Dim(0) != theta.N)
            throw Errors.ShapeMismatch("two-layer network", "V", theta.V.Shape, "X", x.Shape, $"V has {theta.N} columns but X has {x.Dim(0)} rows");
        if (y is null) return;
        if (y.Rank != 2 || y.Dim(0) != theta.M || y.Dim(1) != x.Dim(1))
            throw Errors.BadShape("two-layer network", "Y", y.Shape, $"{theta.M}×{x.Dim(1)} (m × k)");
    }
}
