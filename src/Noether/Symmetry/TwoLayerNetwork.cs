using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>How the squared error between targets Y and outputs F is reduced.</summary>
public enum SquaredErrorLoss
{
    /// <summary>L = ½‖Y − F‖²_F (the SPEC's default; its Hessian is half that of the unhalved sum).</summary>
    HalfSum,
    /// <summary>L = ‖Y − F‖²_F / (m·k), PyTorch's nn.MSELoss (the authors' scripts); same flow as HalfSum with time scaled by 2/(m·k).</summary>
    Mean,
}

/// <summary>
/// θ = (U, V) of the two-layer network F(X) = U σ(VX): U is m×h, V is h×n (SPEC conventions). The tensors are
/// held, not copied; the list form <see cref="AsList"/> is [U, V].
/// </summary>
public sealed record TwoLayerParameters
{
    /// <summary>Wraps U (m×h) and V (h×n), checking that the hidden widths agree.</summary>
    public TwoLayerParameters(Tensor<double> u, Tensor<double> v)
    {
        ArgumentNullException.ThrowIfNull(u);
        ArgumentNullException.ThrowIfNull(v);
        if (u.Rank != 2) throw Errors.BadShape("two-layer parameters", "U", u.Shape, "an m×h matrix");
        if (v.Rank != 2) throw Errors.BadShape("two-layer parameters", "V", v.Shape, "an h×n matrix");
        if (u.Dim(1) != v.Dim(0))
            throw Errors.ShapeMismatch("two-layer parameters", "U", u.Shape, "V", v.Shape, $"U has {u.Dim(1)} columns but V has {v.Dim(0)} rows; both must be the hidden width h");
        U = u;
        V = v;
    }

    /// <summary>The output layer, m×h.</summary>
    public Tensor<double> U { get; }

    /// <summary>The hidden layer, h×n.</summary>
    public Tensor<double> V { get; }

    /// <summary>Output width m.</summary>
    public int M => U.Dim(0);

    /// <summary>Hidden width h.</summary>
    public int H => U.Dim(1);

    /// <summary>Input width n.</summary>
    public int N => V.Dim(1);

    /// <summary>Number of scalars, m·h + h·n.</summary>
    public int Count => U.Length + V.Length;

    /// <summary>[U, V].</summary>
    public Tensor<double>[] AsList() => [U, V];

    /// <summary>A deep copy.</summary>
    public TwoLayerParameters Copy() => new(U.Clone(), V.Clone());

    /// <summary>From a list [U, V].</summary>
    public static TwoLayerParameters FromList(IReadOnlyList<Tensor<double>> theta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        if (theta.Count != 2) throw new ArgumentException($"two-layer parameters: expected [U, V], got {theta.Count} tensors", nameof(theta));
        return new TwoLayerParameters(theta[0], theta[1]);
    }

    /// <summary>Gaussian parameters with standard deviations <paramref name="stdU"/> and <paramref name="stdV"/>.</summary>
    public static TwoLayerParameters Gaussian(Random random, int m, int h, int n, double stdU = 1, double stdV = 1) =>
        new(RandomMatrix.Gaussian(random, m, h, stdU), RandomMatrix.Gaussian(random, h, n, stdV));

    /// <summary>Xavier initialisation as in Appendix E (eq. 46): U_ij ~ N(0, 1/h), V_ij ~ N(0, 1/n).</summary>
    public static TwoLayerParameters Xavier(Random random, int m, int h, int n) =>
        Gaussian(random, m, h, n, 1 / Math.Sqrt(h), 1 / Math.Sqrt(n));

    /// <summary>θ + s·δ.</summary>
    public TwoLayerParameters Add(TwoLayerParameters delta, double s = 1)
    {
        ArgumentNullException.ThrowIfNull(delta);
        CheckSameShape(delta, nameof(delta));
        return new(Axpy(U, delta.U, s), Axpy(V, delta.V, s));
    }

    /// <summary>⟨θ, δ⟩ = ⟨U, δU⟩ + ⟨V, δV⟩.</summary>
    public double Inner(TwoLayerParameters other)
    {
        ArgumentNullException.ThrowIfNull(other);
        CheckSameShape(other, nameof(other));
        return TensorOps.Dot(U, other.U) + TensorOps.Dot(V, other.V);
    }

    /// <summary>‖θ‖ = √(‖U‖² + ‖V‖²).</summary>
    public double Norm() => Math.Sqrt(Inner(this));

    /// <inheritdoc/>
    public override string ToString() => $"(U {M}×{H}, V {H}×{N})";

    internal void CheckSameShape(TwoLayerParameters other, string name)
    {
        if (!U.SameShape(other.U) || !V.SameShape(other.V))
            throw new ArgumentException($"{name} is {other} but the parameters are {this}", name);
    }

    private static Tensor<double> Axpy(Tensor<double> x, Tensor<double> y, double s)
    {
        var r = x.Clone();
        for (int i = 0; i < r.Length; i++) r.Data[i] += s * y.Data[i];
        return r;
    }
}

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
    public TwoLayerNetwork(Activation activation, SquaredErrorLoss loss = SquaredErrorLoss.HalfSum)
    {
        ArgumentNullException.ThrowIfNull(activation);
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
        SquaredError(Ops.Subtract(y, Output(u, v, x)), LossKind);

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

    internal static Variable<double> SquaredError(Variable<double> residual, SquaredErrorLoss kind)
    {
        var s = Ops.Sum(Ops.Square(residual));
        return kind == SquaredErrorLoss.HalfSum ? Ops.Scale(s, 0.5) : Ops.Scale(s, 1.0 / residual.Value.Length);
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
