using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Benchmarks;

/// <summary>
/// The two-layer networks of the paper's toy experiments, written once for the comparison runner and the
/// BenchmarkDotNet suites (compiled into both): L = ½‖Y − U σ(V X)‖², summed over entries.
/// </summary>
public static class Networks
{
    /// <summary>Fig. 3 shapes (m, h, n): U 5×50, V 50×10, X = I₁₀, Y 5×10.</summary>
    public static readonly (int M, int H, int N) Fig3 = (5, 50, 10);

    /// <summary>Fig. 8 shapes (m, h, n): U 10×50, V 50×5, X = I₅, Y 10×5 (750 parameters).</summary>
    public static readonly (int M, int H, int N) Fig8 = (10, 50, 5);

    /// <summary>Which σ sits between the layers.</summary>
    public enum Activation
    {
        /// <summary>σ(z) = z.</summary>
        Identity,
        /// <summary>σ(z) = max(z, 0).</summary>
        Relu,
        /// <summary>σ(z) = tanh z.</summary>
        Tanh,
    }

    /// <summary>½‖Y − U σ(V X)‖² recorded on the tape of <paramref name="u"/>.</summary>
    public static Variable<double> Loss(Variable<double> u, Variable<double> v, Tensor<double> x, Tensor<double> y, Activation activation)
    {
        var tape = u.Tape;
        var hidden = Ops.MatMul(v, tape.Constant(x));
        hidden = activation switch
        {
            Activation.Relu => Ops.Relu(hidden),
            Activation.Tanh => Ops.Tanh(hidden),
            _ => hidden,
        };
        return Ops.SquaredErrorLoss(Ops.MatMul(u, hidden), tape.Constant(y), SquaredErrorScaling.HalfSumOfSquares);
    }

    /// <summary>An r×c matrix with N(0, std²) entries from a seeded generator (Box–Muller).</summary>
    public static Tensor<double> Gaussian(Random random, double std, int rows, int cols)
    {
        var data = new double[rows * cols];
        for (int i = 0; i < data.Length; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            data[i] = std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        return new Tensor<double>(data, rows, cols);
    }
}
