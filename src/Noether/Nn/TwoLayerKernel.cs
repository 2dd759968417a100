using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Nn;

/// <summary>
/// An allocation-free loss-and-gradient of F = Uσ(VX) for one fixed batch and an elementwise σ, for the long
/// gradient-descent and flow runs of the drift experiment (hundreds of thousands of tiny steps, where the tape's
/// per-node allocation dominates). It computes exactly what <see cref="TwoLayerNetwork.LossAndGradient"/> does and
/// is tested against it. Parameters are flat: U (m×h) then V (h×n), row-major.
/// </summary>
internal sealed class TwoLayerKernel
{
    private readonly Activation _sigma;
    private readonly int _m, _h, _n, _k;
    private readonly double[]? _x; // n×k, null for X = I
    private readonly double[] _y;  // m×k
    private readonly double _lossScale, _gradScale;
    // Hidden-layer buffers are stored transposed (k×h), so every inner loop runs over h (long) rather than k (short).
    private readonly double[] _zt, _st, _dt, _r, _tt, _vt, _gvt;

    public TwoLayerKernel(Activation sigma, SquaredErrorLoss loss, int m, int h, int n, Tensor<double>? x, Tensor<double> y)
    {
        if (!sigma.IsElementwise) throw Errors.Argument(nameof(sigma), $"the fast kernel needs an elementwise activation, not '{sigma.Name}'");
        _sigma = sigma;
        _m = m; _h = h; _n = n;
        _k = x is null ? n : x.Dim(1);
        if (x is not null && (x.Rank != 2 || x.Dim(0) != n)) throw Errors.BadShape("two-layer kernel", "X", x.Shape, $"{n}×k");
        if (!y.HasShape(m, _k)) throw Errors.BadShape("two-layer kernel", "Y", y.Shape, $"{m}×{_k}");
        _x = x is null ? null : (double[])x.Data.Clone();
        _y = (double[])y.Data.Clone();
        // HalfSum: L = ½ΣR², ∂L/∂F = R. Mean: L = ΣR²/(mk), ∂L/∂F = 2R/(mk).
        _lossScale = loss.Factor(m * _k);
        _gradScale = 2 * _lossScale;
        _zt = new double[_k * h];
        _st = new double[_k * h];
        _dt = new double[_k * h];
        _r = new double[m * _k];
        _tt = new double[_k * h];
        _vt = new double[n * h];
        _gvt = new double[n * h];
    }

    public int ParameterCount => _m * _h + _h * _n;

    /// <summary>L(θ) and ∇L into <paramref name="gradient"/>, θ = [U, V] flat.</summary>
    public double LossAndGradient(ReadOnlySpan<double> theta, Span<double> gradient)
    {
        int m = _m, h = _h, n = _n, k = _k;
        var u = theta[..(m * h)];
        var v = theta.Slice(m * h, h * n);
        var gu = gradient[..(m * h)];
        var gv = gradient.Slice(m * h, h * n);

        // Zᵀ = XᵀVᵀ (k×h); for X = I it is Vᵀ.
        if (_x is null) Transpose(v, _zt, h, n);
        else
        {
            Transpose(v, _vt, h, n);
            Array.Clear(_zt);
            for (int l = 0; l < n; l++)
            {
                var vl = _vt.AsSpan(l * h, h);
                for (int j = 0; j < k; j++)
                {
                    double c = _x[l * k + j];
                    if (c != 0) TensorPrimitives.MultiplyAdd(vl, c, _zt.AsSpan(j * h, h), _zt.AsSpan(j * h, h));
                }
            }
        }
        _sigma.ApplyWithDerivative(_zt, _st, _dt);

        // R = F − Y with F_ij = ⟨U_i, Sᵀ_j⟩; the loss; then R ← ∂L/∂F.
        for (int i = 0; i < m; i++)
        {
            var ui = u.Slice(i * h, h);
            for (int j = 0; j < k; j++) _r[i * k + j] = TensorPrimitives.Dot(ui, _st.AsSpan(j * h, h)) - _y[i * k + j];
        }
        double loss = _lossScale * TensorPrimitives.Dot<double>(_r, _r);
        TensorPrimitives.Multiply(_r, _gradScale, _r);

        // ∂L/∂U_i = Σ_j R_ij Sᵀ_j;  Tᵀ_j = Σ_i R_ij U_i  (T = UᵀR).
        gu.Clear();
        Array.Clear(_tt);
        for (int i = 0; i < m; i++)
        {
            var gui = gu.Slice(i * h, h);
            var ui = u.Slice(i * h, h);
            for (int j = 0; j < k; j++)
            {
                double c = _r[i * k + j];
                TensorPrimitives.MultiplyAdd(_st.AsSpan(j * h, h), c, gui, gui);
                TensorPrimitives.MultiplyAdd(ui, c, _tt.AsSpan(j * h, h), _tt.AsSpan(j * h, h));
            }
        }
        // (∂L/∂Z)ᵀ = Tᵀ ⊙ σ'(Z)ᵀ;  ∂L/∂V = (∂L/∂Z)Xᵀ, i.e. (∂L/∂V)ᵀ_l = Σ_j X_lj (∂L/∂Z)ᵀ_j.
        TensorPrimitives.Multiply(_tt, _dt, _tt);
        if (_x is null) Transpose(_tt, gv, k, h);
        else
        {
            Array.Clear(_gvt);
            for (int l = 0; l < n; l++)
            {
                var gl = _gvt.AsSpan(l * h, h);
                for (int j = 0; j < k; j++)
                {
                    double c = _x[l * k + j];
                    if (c != 0) TensorPrimitives.MultiplyAdd(_tt.AsSpan(j * h, h), c, gl, gl);
                }
            }
            Transpose(_gvt, gv, n, h);
        }
        return loss;
    }

    // destination (cols×rows) = sourceᵀ for a rows×cols source.
    private static void Transpose(ReadOnlySpan<double> source, Span<double> destination, int rows, int cols)
    {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                destination[j * rows + i] = source[i * cols + j];
    }

}
