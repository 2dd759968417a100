using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>Seeded random matrices (the generator is always passed in; never a static one).</summary>
public static class RandomMatrix
{
    /// <summary>A rows×cols matrix of independent N(0, std²) entries, filled row by row by <see cref="Tensors.Gaussian.Fill"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size not positive, or std negative or not finite.</exception>
    public static Tensor<double> Gaussian(Random random, int rows, int cols, double std = 1)
    {
        Errors.ThrowIfNotPositive(rows, nameof(rows));
        Errors.ThrowIfNotPositive(cols, nameof(cols));
        if (!(std >= 0) || double.IsInfinity(std)) throw Errors.OutOfRange(nameof(std), std, "a finite standard deviation ≥ 0");
        var t = Tensor<double>.Zeros(rows, cols);
        Tensors.Gaussian.Fill(random, t.Data, std);
        return t;
    }
}
