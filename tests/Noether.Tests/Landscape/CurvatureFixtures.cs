using Noether.Autodiff;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Tests.Landscape;

/// <summary>Small float64 problems whose full Hessians are cheap: an MLP over labelled batches, a two-layer linear network at a zero-loss minimum, quadratic batch losses.</summary>
internal static class CurvatureFixtures
{
    /// <summary>A 4-6-3 tanh MLP (51 parameters) and 4 batches of 8 random labelled points; also all 32 points at once.</summary>
    public static (Sequential<double> Model, List<(Tensor<double> Inputs, int[] Labels)> Batches, Tensor<double> AllInputs, int[] AllLabels) Mlp(int seed, int batches = 4, int batchSize = 8)
    {
        var rng = new Random(seed);
        var model = new Sequential<double>(new Linear<double>(4, 6, true, rng, "0"), Activation<double>.Tanh("1"), new Linear<double>(6, 3, true, rng, "2"));
        var all = Init.Gaussian(Tensor<double>.Zeros(batches * batchSize, 4), 1, rng);
        var labels = Enumerable.Range(0, batches * batchSize).Select(_ => rng.Next(3)).ToArray();
        var list = new List<(Tensor<double>, int[])>();
        for (int b = 0; b < batches; b++)
        {
            var x = new Tensor<double>(all.Data.AsSpan(b * batchSize * 4, batchSize * 4).ToArray(), [batchSize, 4]);
            list.Add((x, labels[(b * batchSize)..((b + 1) * batchSize)]));
        }
        return (model, list, all, labels);
    }

    /// <summary>
    /// ½/s ‖X_b Vᵀ Uᵀ − Y_b‖² per batch with Y_b = X_b V₀ᵀ U₀ᵀ, at (U₀, V₀): a zero-loss minimum (U m×h, V h×d), or, with
    /// <paramref name="offset"/> ≠ 0, targets shifted so the point is not a minimum.
    /// </summary>
    public static (MinibatchHessian Hessian, Tensor<double> U, Tensor<double> V) LinearNetwork(int seed, int m = 3, int h = 4, int d = 5, int batches = 3, int s = 6, double offset = 0)
    {
        var rng = new Random(seed);
        var u = Init.Gaussian(Tensor<double>.Zeros(m, h), 0.7, rng);
        var v = Init.Gaussian(Tensor<double>.Zeros(h, d), 0.7, rng);
        var xs = new Tensor<double>[batches];
        var ys = new Tensor<double>[batches];
        for (int b = 0; b < batches; b++)
        {
            xs[b] = Init.Gaussian(Tensor<double>.Zeros(s, d), 1, rng);
            ys[b] = TensorOps.MatMul(TensorOps.MatMul(xs[b], v, transposeB: true), u, transposeB: true);
            for (int i = 0; i < ys[b].Length; i++) ys[b].Data[i] += offset * (rng.NextDouble() - 0.5);
        }
        BatchLoss loss = (tape, p, b) =>
        {
            var output = Ops.MatMul(Ops.MatMul(tape.Constant(xs[b]), p[1], transposeB: true), p[0], transposeB: true);
            return Ops.Scale(Ops.Sum(Ops.Square(Ops.Subtract(output, tape.Constant(ys[b])))), 0.5 / s);
        };
        return (new MinibatchHessian(loss, [u, v], batches, ["U", "V"]), u, v);
    }

    /// <summary>The tangent (U·M, −M·V) of the rescaling orbit (U, V) ↦ (U·A, A⁻¹·V) for the generator M = E_ij (flat, U then V).</summary>
    public static double[] RescalingTangent(Tensor<double> u, Tensor<double> v, int i, int j)
    {
        int m = u.Dim(0), h = u.Dim(1), d = v.Dim(1);
        var t = new double[m * h + h * d];
        for (int r = 0; r < m; r++) t[r * h + j] = u[r, i];          // (U E_ij)[r, j] = U[r, i]
        for (int c = 0; c < d; c++) t[m * h + i * d + c] = -v[j, c];  // (−E_ij V)[i, c] = −V[j, c]
        return t;
    }

    /// <summary>½ θᵀ A_b θ per batch (θ n×1): H_b = A_b exactly.</summary>
    public static MinibatchHessian Quadratic(Tensor<double>[] matrices, Tensor<double> theta) =>
        new((tape, p, b) => Ops.Scale(Ops.Sum(Ops.Multiply(p[0], Ops.MatMul(tape.Constant(matrices[b]), p[0]))), 0.5), [theta], matrices.Length);

    /// <summary>The operator applied to every unit vector: its dense matrix (row j = A e_j).</summary>
    public static Tensor<double> Dense(SymmetricOperator op) => op.MultiplyMany(Tensor<double>.Identity(op.Dimension));
}
