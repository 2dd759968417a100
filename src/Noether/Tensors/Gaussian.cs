namespace Noether.Tensors;

/// <summary>
/// Standard normal draws by Box–Muller from a <see cref="Random"/> the caller passes in (never a static one): the one
/// sampler behind every Gaussian in Noether, so equal seeds give equal draws everywhere.
/// </summary>
/// <remarks>
/// Each pair takes u₁ then u₂ from the generator and gives r·cos θ, r·sin θ with r = √(−2 ln(1 − u₁)) and θ = 2π·u₂
/// (1 − u₁ ∈ (0, 1] keeps the logarithm finite).
/// </remarks>
public static class Gaussian
{
    /// <summary>One N(0, 1) draw: r·cos θ of a fresh pair, the other half discarded so each call is self-contained.</summary>
    public static double Next(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var (r, theta) = Polar(random);
        return r * Math.Cos(theta);
    }

    /// <summary>Two independent N(0, 1) draws from one pair: (r·cos θ, r·sin θ).</summary>
    public static (double First, double Second) NextPair(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var (r, theta) = Polar(random);
        return (r * Math.Cos(theta), r * Math.Sin(theta));
    }

    /// <summary>A rows×cols matrix of independent N(0, std²) entries, filled row by row by <see cref="Fill"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size not positive, or std negative or not finite.</exception>
    public static Tensor<double> Matrix(Random random, int rows, int cols, double std = 1)
    {
        Errors.ThrowIfNotPositive(rows, nameof(rows));
        Errors.ThrowIfNotPositive(cols, nameof(cols));
        if (!(std >= 0) || double.IsInfinity(std)) throw Errors.OutOfRange(nameof(std), std, "a finite standard deviation ≥ 0");
        var t = Tensor<double>.Zeros(rows, cols);
        Fill(random, t.Data, std);
        return t;
    }

    /// <summary>Fills <paramref name="destination"/> with N(0, std²) draws, two per pair (std·r·cos θ, std·r·sin θ); an odd last entry takes <see cref="Next"/>.</summary>
    public static void Fill(Random random, Span<double> destination, double std = 1)
    {
        ArgumentNullException.ThrowIfNull(random);
        int i = 0;
        for (; i + 1 < destination.Length; i += 2)
        {
            var (r, theta) = Polar(random);
            destination[i] = std * r * Math.Cos(theta);
            destination[i + 1] = std * r * Math.Sin(theta);
        }
        if (i < destination.Length) destination[i] = std * Next(random);
    }

    /// <summary>The polar form (r, θ) of one Box–Muller pair: u₁ is drawn first.</summary>
    private static (double R, double Theta) Polar(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return (Math.Sqrt(-2.0 * Math.Log(u1)), 2.0 * Math.PI * u2);
    }
}
