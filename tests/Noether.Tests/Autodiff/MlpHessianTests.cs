using CsCheck;
using Noether.Autodiff;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Autodiff;

/// <summary>
/// Second-order checks on the paper's two-layer network F = U σ(VX) with L = ½‖Y − F‖²_F (SPEC "Conventions"):
/// exact Hessian-vector products against finite differences of the gradient for every activation, and the
/// linear network's full Hessian against blocks derived by hand.
/// </summary>
public class MlpHessianTests
{
    public static TheoryData<string> Activations => new(["identity", "relu", "leaky_relu", "sigmoid", "tanh", "radial"]);

    private static Variable<double> Activate(string name, Variable<double> z) => name switch
    {
        "identity" => Ops.Identity(z),
        "relu" => Ops.Relu(z),
        "leaky_relu" => Ops.LeakyRelu(z, 0.1),
        "sigmoid" => Ops.Sigmoid(z),
        "tanh" => Ops.Tanh(z),
        // Samples are columns of H = VX, so the norm runs over axis 0; f(r) = 1/(1 + r²).
        "radial" => Ops.Radial(z, 0, r => Ops.Reciprocal(Ops.AddScalar(Ops.Square(r), 1.0))),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    // Inputs: U (m×h), V (h×n), X (n×k); Y (m×k) is a constant.
    private static ScalarFunction<double> Loss(string activation, Tensor<double> y) => (tape, p) =>
        Ops.SquaredErrorLoss(Ops.MatMul(p[0], Activate(activation, Ops.MatMul(p[1], p[2]))), tape.Constant(y), SquaredErrorScaling.HalfSumOfSquares);

    private static readonly Gen<(int M, int H, int N, int K, int Seed)> Shapes =
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 5], Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[0, int.MaxValue]);

    /// <summary>
    /// 100 random networks per activation; the Hessian is taken with respect to U, V and the input X. For the
    /// kinked activations (ReLU, LeakyReLU) and the radial norm, cases with some pre-activation |(VX)_ij| &lt; 0.01
    /// (or a column norm &lt; 0.01) are skipped: the finite-difference stencil moves VX by at most
    /// 1e-5·‖v_V‖‖X‖ + 1e-5·‖V‖‖v_X‖ ≈ 1e-3 here, so a kink closer than that would be crossed.
    /// </summary>
    [Theory]
    [MemberData(nameof(Activations))]
    public void HessianVectorProduct_TwoLayerNetwork_MatchesFiniteDifferences(string activation)
    {
        Shapes.Select(s =>
        {
            var rng = new Random(s.Seed);
            var point = new[] { OpCheck.RandomTensor(rng, s.M, s.H), OpCheck.RandomTensor(rng, s.H, s.N), OpCheck.RandomTensor(rng, s.N, s.K) };
            return (Point: point, Y: OpCheck.RandomTensor(rng, s.M, s.K), s.Seed);
        })
        .Where(c => activation is not ("relu" or "leaky_relu" or "radial") || AwayFromKinks(c.Point[1], c.Point[2]))
        .Sample(c => OpCheck.HessianVectorProduct(Loss(activation, c.Y), c.Point, c.Seed), iter: 100, seed: "0N0XIDEW4Y50");
    }

    private static bool AwayFromKinks(Tensor<double> v, Tensor<double> x)
    {
        var z = TensorOps.MatMul(v, x);
        if (z.Data.Any(e => Math.Abs(e) < 0.01)) return false;
        for (int j = 0; j < z.Dim(1); j++)
        {
            double s = 0;
            for (int i = 0; i < z.Dim(0); i++) s += z[i, j] * z[i, j];
            if (Math.Sqrt(s) < 0.01) return false;
        }
        return true;
    }

    /// <summary>
    /// L = ½‖Y − UVX‖²_F with R = UVX − Y and W = VX. Differentiating ∂L/∂U = R Wᵀ and ∂L/∂V = Uᵀ R Xᵀ once more:
    /// ∂²L/∂U_ab∂U_cd = δ_ac (W Wᵀ)_bd,
    /// ∂²L/∂V_ab∂V_cd = (UᵀU)_ac (X Xᵀ)_bd,
    /// ∂²L/∂U_ab∂V_cd = U_ac (X Wᵀ)_db + δ_bc (R Xᵀ)_ad.
    /// Parameters are flattened row-major, U first. Agreement to 1e-10 relative to the largest entry.
    /// </summary>
    [Theory]
    [InlineData(3, 4, 2, 5, 1)]
    [InlineData(2, 6, 3, 3, 2)]
    [InlineData(10, 50, 5, 5, 3)]
    public void FullHessian_TwoLayerLinearNetwork_MatchesBlocksDerivedByHand(int m, int h, int n, int k, int seed)
    {
        var rng = new Random(seed);
        var u = OpCheck.RandomTensor(rng, m, h);
        var v = OpCheck.RandomTensor(rng, h, n);
        var x = OpCheck.RandomTensor(rng, n, k);
        var y = OpCheck.RandomTensor(rng, m, k);
        var actual = Hessian.Full<double>((tape, p) =>
            Ops.SquaredErrorLoss(Ops.MatMul(p[0], Ops.MatMul(p[1], tape.Constant(x))), tape.Constant(y), SquaredErrorScaling.HalfSumOfSquares), [u, v]);

        // Plain loops, independent of the library's kernels.
        double[,] U = To2D(u), V = To2D(v), X = To2D(x), Y = To2D(y);
        var W = Product(V, X);
        var R = Subtract(Product(U, W), Y);
        var WWt = Product(W, Transpose(W));
        var UtU = Product(Transpose(U), U);
        var XXt = Product(X, Transpose(X));
        var XWt = Product(X, Transpose(W));
        var RXt = Product(R, Transpose(X));
        int nu = m * h, dim = nu + h * n;
        var expected = Tensor<double>.Zeros(dim, dim);
        for (int a = 0; a < m; a++)
            for (int b = 0; b < h; b++)
            {
                int row = a * h + b;
                for (int c = 0; c < m; c++)
                    for (int d = 0; d < h; d++)
                        expected[row, c * h + d] = a == c ? WWt[b, d] : 0;
                for (int c = 0; c < h; c++)
                    for (int d = 0; d < n; d++)
                    {
                        double value = U[a, c] * XWt[d, b] + (b == c ? RXt[a, d] : 0);
                        expected[row, nu + c * n + d] = value;
                        expected[nu + c * n + d, row] = value;
                    }
            }
        for (int a = 0; a < h; a++)
            for (int b = 0; b < n; b++)
                for (int c = 0; c < h; c++)
                    for (int d = 0; d < n; d++)
                        expected[nu + a * n + b, nu + c * n + d] = UtU[a, c] * XXt[b, d];

        double scale = expected.Data.Max(Math.Abs);
        Close.Assert(expected, actual, 0, 1e-10 * scale, "Hessian");
    }

    private static double[,] To2D(Tensor<double> t)
    {
        var r = new double[t.Dim(0), t.Dim(1)];
        for (int i = 0; i < t.Dim(0); i++)
            for (int j = 0; j < t.Dim(1); j++)
                r[i, j] = t[i, j];
        return r;
    }

    private static double[,] Product(double[,] a, double[,] b)
    {
        var r = new double[a.GetLength(0), b.GetLength(1)];
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < b.GetLength(1); j++)
            {
                double s = 0;
                for (int p = 0; p < a.GetLength(1); p++) s += a[i, p] * b[p, j];
                r[i, j] = s;
            }
        return r;
    }

    private static double[,] Transpose(double[,] a)
    {
        var r = new double[a.GetLength(1), a.GetLength(0)];
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++)
                r[j, i] = a[i, j];
        return r;
    }

    private static double[,] Subtract(double[,] a, double[,] b)
    {
        var r = (double[,])a.Clone();
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++)
                r[i, j] -= b[i, j];
        return r;
    }
}
