using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>
/// The loss of a <see cref="TwoLayerNetwork"/> (the one two-layer network type: σ and the loss convention) on one batch: the
/// paper's two-layer regression problem F(X) = U σ(VX) with U m×h, V h×n, X n×k (columns are samples) and targets
/// Y m×k (SPEC "Conventions"), with its loss in one of the two named conventions of <see cref="SquaredErrorLoss"/>: the paper's
/// ½‖Y − U σ(VX)‖²_F (<see cref="SquaredErrorLoss.HalfSum"/>) or ‖Y − U σ(VX)‖²_F/(m·k), PyTorch's <c>nn.MSELoss</c> as the
/// authors' scripts use it (<see cref="SquaredErrorLoss.Mean"/>); the caller always says which. Value and gradient are
/// computed directly with preallocated buffers (GD runs hundreds of thousands of steps); <see cref="Function"/> gives the
/// same loss as a tape function for exact Hessians.
/// </summary>
/// <remarks>Not thread-safe (shared buffers); use one instance per thread.</remarks>
public sealed class TwoLayerProblem
{
    private readonly Tensor<double> _z, _a, _f, _ga;

    /// <summary>The loss of <paramref name="network"/> (σ and the loss convention) with hidden width <paramref name="hidden"/> on data <paramref name="x"/> (n×k) and targets <paramref name="y"/> (m×k).</summary>
    /// <exception cref="ArgumentException">Shapes that do not fit, or a radial activation (σ must act on each entry).</exception>
    public TwoLayerProblem(TwoLayerNetwork network, int hidden, Tensor<double> x, Tensor<double> y)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (!network.Activation.IsElementwise)
            throw Errors.Argument(nameof(network), $"two-layer problem: '{network.Activation.Name}' acts on whole columns; the problem needs an elementwise σ");
        Errors.ThrowIfNotPositive(hidden, nameof(hidden));
        if (x.Rank != 2 || x.Length == 0) throw Errors.BadShape("two-layer problem", nameof(x), x.Shape, "a non-empty n×k matrix (columns are samples)");
        if (y.Rank != 2 || y.Dim(1) != x.Dim(1))
            throw Errors.ShapeMismatch("two-layer problem", nameof(y), y.Shape, nameof(x), x.Shape, "Y must be m×k with the k samples of X as columns");
        Network = network;
        Hidden = hidden;
        X = x;
        Y = y;
        XIsIdentity = x.Dim(0) == x.Dim(1) && IsIdentity(x);
        int k = x.Dim(1);
        _z = Tensor<double>.Zeros(hidden, k);
        _a = Tensor<double>.Zeros(hidden, k);
        _f = Tensor<double>.Zeros(y.Dim(0), k);
        _ga = Tensor<double>.Zeros(hidden, k);
    }

    /// <summary>The network: σ and the loss convention.</summary>
    public TwoLayerNetwork Network { get; }

    /// <summary>σ.</summary>
    public Activation Activation => Network.Activation;

    /// <summary>h.</summary>
    public int Hidden { get; }

    /// <summary>Inputs n×k.</summary>
    public Tensor<double> X { get; }

    /// <summary>Targets m×k.</summary>
    public Tensor<double> Y { get; }

    /// <summary>The loss convention: ½‖Y − F‖² (SPEC) or ‖Y − F‖²/(m·k) (the authors' scripts).</summary>
    public SquaredErrorLoss LossKind => Network.LossKind;

    // The convention as (reduction, factor ½), the form of Ops.MseLoss and of c below.
    private LossReduction Reduction => LossKind == SquaredErrorLoss.Mean ? LossReduction.Mean : LossReduction.Sum;

    private bool Half => LossKind == SquaredErrorLoss.HalfSum;

    /// <summary>X = I (whitened input), as in the paper's Appendices D, F, G; the product VX is skipped.</summary>
    public bool XIsIdentity { get; }

    /// <summary>m.</summary>
    public int Outputs => Y.Dim(0);

    /// <summary>n.</summary>
    public int Inputs => X.Dim(0);

    /// <summary>k.</summary>
    public int Samples => X.Dim(1);

    /// <summary>h(m + n): the number of parameters.</summary>
    public int ParameterCount => Hidden * (Outputs + Inputs);

    /// <summary>c in L = c·‖Y − F‖²: ½ (HalfSum) or 1/(m·k) (Mean).</summary>
    public double Scale => LossKind.Factor(Outputs * Samples);

    /// <summary>L(U, V).</summary>
    public double Loss(Tensor<double> u, Tensor<double> v)
    {
        Check(u, v);
        return Forward(u, v);
    }

    /// <summary>L(U, V), writing ∂L/∂U into <paramref name="gradU"/> and ∂L/∂V into <paramref name="gradV"/>.</summary>
    public double LossAndGradient(Tensor<double> u, Tensor<double> v, Tensor<double> gradU, Tensor<double> gradV)
    {
        Check(u, v);
        ArgumentNullException.ThrowIfNull(gradU);
        ArgumentNullException.ThrowIfNull(gradV);
        if (!gradU.SameShape(u)) throw Errors.ShapeMismatch("two-layer gradient", nameof(gradU), gradU.Shape, "U", u.Shape, "shapes must be equal");
        if (!gradV.SameShape(v)) throw Errors.ShapeMismatch("two-layer gradient", nameof(gradV), gradV.Shape, "V", v.Shape, "shapes must be equal");
        double loss = Forward(u, v);
        int m = Outputs, h = Hidden, n = Inputs, k = Samples;
        double c2 = 2 * Scale;
        // R = F − Y (kept in _f); ∂L/∂F = 2c·R.
        var f = _f.Data;
        var y = Y.Data;
        for (int i = 0; i < f.Length; i++) f[i] -= y[i];
        Blas.Gemm(false, true, m, h, k, c2, f, k, _a.Data, k, 0.0, gradU.Data, h);       // G_U = 2c R Aᵀ
        Blas.Gemm(true, false, h, k, m, c2, u.Data, h, f, k, 0.0, _ga.Data, k);          // G_A = 2c Uᵀ R
        var z = _z.Data;
        var ga = _ga.Data;
        var a = _a.Data;
        Activation.MultiplyByDerivative(z, a, ga);                                        // G_Z = G_A ⊙ σ'(Z)
        if (XIsIdentity) ga.AsSpan().CopyTo(gradV.Data);
        else Blas.Gemm(false, true, h, n, k, 1.0, ga, k, X.Data, k, 0.0, gradV.Data, n); // G_V = G_Z Xᵀ
        return loss;
    }

    /// <summary>
    /// The same loss as a tape function of the inputs [U, V] (X and Y constants), for exact Hessians by double
    /// backward (<see cref="HessianOperator{T}"/>).
    /// </summary>
    public ScalarFunction<double> Function()
    {
        var x = X;
        var y = Y;
        var sigma = Activation;
        bool identity = XIsIdentity;
        var reduction = Reduction;
        bool half = Half;
        return (tape, p) =>
        {
            if (p.Count != 2) throw Errors.Argument(nameof(p), $"two-layer loss: {p.Count} inputs, expected [U, V]");
            var z = identity ? p[1] : Ops.MatMul(p[1], tape.Constant(x));
            return Ops.SquaredErrorLoss(Ops.MatMul(p[0], sigma.Apply(z)), tape.Constant(y), Ops.SquaredErrorScalingOf(reduction, half));
        };
    }

    /// <summary>U m×h and V h×n with N(0, stdU²) and N(0, stdV²) entries drawn from <paramref name="rng"/> (U first, row-major).</summary>
    public (Tensor<double> U, Tensor<double> V) Initialise(double stdU, double stdV, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var u = Init.Gaussian(Tensor<double>.Zeros(Outputs, Hidden), stdU, rng);
        var v = Init.Gaussian(Tensor<double>.Zeros(Hidden, Inputs), stdV, rng);
        return (u, v);
    }

    private double Forward(Tensor<double> u, Tensor<double> v)
    {
        int m = Outputs, h = Hidden, n = Inputs, k = Samples;
        if (XIsIdentity) v.Data.AsSpan().CopyTo(_z.Data);
        else Blas.Gemm(false, false, h, k, n, 1.0, v.Data, n, X.Data, k, 0.0, _z.Data, k);
        Activation.Apply(_z.Data, _a.Data);
        Blas.Gemm(false, false, m, k, h, 1.0, u.Data, h, _a.Data, k, 0.0, _f.Data, k);
        double s = 0;
        var f = _f.Data;
        var y = Y.Data;
        for (int i = 0; i < f.Length; i++)
        {
            double r = f[i] - y[i];
            s += r * r;
        }
        return Scale * s;
    }

    private void Check(Tensor<double> u, Tensor<double> v)
    {
        ArgumentNullException.ThrowIfNull(u);
        ArgumentNullException.ThrowIfNull(v);
        if (!u.HasShape(Outputs, Hidden)) throw Errors.BadShape("two-layer problem", "U", u.Shape, $"{Outputs}×{Hidden} (m×h)");
        if (!v.HasShape(Hidden, Inputs)) throw Errors.BadShape("two-layer problem", "V", v.Shape, $"{Hidden}×{Inputs} (h×n)");
    }

    private static bool IsIdentity(Tensor<double> x)
    {
        int n = x.Dim(0);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (x[i, j] != (i == j ? 1.0 : 0.0)) return false;
        return true;
    }
}
