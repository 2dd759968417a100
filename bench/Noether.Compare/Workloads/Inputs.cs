using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>Seeded random inputs shared with the twins.</summary>
internal static class Inputs
{
    /// <summary>An r×c float64 matrix with N(0, std²) entries (Box–Muller on a seeded generator).</summary>
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

    /// <summary>The entry of a bundle for <paramref name="t"/>.</summary>
    public static (double[] Data, int[] Shape) Entry(Tensor<double> t) => (t.Data, t.ShapeArray);
}
