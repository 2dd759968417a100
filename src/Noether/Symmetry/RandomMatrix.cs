using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>Seeded random matrices (the generator is always passed in; never a static one).</summary>
public static class RandomMatrix
{
    /// <summary>A standard normal draw (Box–Muller; one of the pair is discarded so each call is self-contained).</summary>
    public static double StandardNormal(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        double u1 = 1.0 - random.NextDouble(); // (0, 1]: log is finite
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Fills <paramref name="destination"/> with N(0, std²) draws, two per Box–Muller pair.</summary>
    public static void FillGaussian(Random random, Span<double> destination, double std = 1)
    {
        ArgumentNullException.ThrowIfNull(random);
        int i = 0;
        for (; i + 1 < destination.Length; i += 2)
        {
            double r = Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble()));
            double a = 2.0 * Math.PI * random.NextDouble();
            destination[i] = std * r * Math.Cos(a);
            destination[i + 1] = std * r * Math.Sin(a);
        }
        if (i < destination.Length) destination[i] = std * StandardNormal(random);
    }

    /// <summary>A rows×cols matrix of independent N(0, std²) entries.</summary>
    public static Tensor<double> Gaussian(Random random, int rows, int cols, double std = 1)
    {
        Errors.ThrowIfNotPositive(rows, nameof(rows));
        Errors.ThrowIfNotPositive(cols, nameof(cols));
        if (!(std >= 0) || double.IsInfinity(std)) throw Errors.OutOfRange(nameof(std), std, "a finite standard deviation ≥ 0");
        var t = Tensor<double>.Zeros(rows, cols);
        FillGaussian(random, t.Data, std);
        return t;
    }
}
