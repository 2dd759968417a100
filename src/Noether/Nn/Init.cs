using Noether.Tensors;

namespace Noether.Nn;

/// <summary>
/// Seeded weight initialisers with PyTorch's fan conventions: for a weight [out, in] fanIn = in and fanOut = out;
/// for a convolution weight [O, C, kh, kw] fanIn = C·kh·kw and fanOut = O·kh·kw. Every method fills the tensor in
/// place from the generator it is given and returns it.
/// </summary>
public static class Init
{
    /// <summary>(fanIn, fanOut) of a weight shape of rank ≥ 2, as PyTorch computes them.</summary>
    public static (int FanIn, int FanOut) Fans(ReadOnlySpan<int> shape)
    {
        if (shape.Length < 2) throw Errors.BadShape("init", nameof(shape), shape, "rank ≥ 2 (fans are undefined for vectors)");
        int receptive = 1;
        for (int i = 2; i < shape.Length; i++) receptive *= shape[i];
        return (shape[1] * receptive, shape[0] * receptive);
    }

    /// <summary>Xavier/Glorot normal: N(0, σ²) with σ = gain·√(2 / (fanIn + fanOut)).</summary>
    public static Tensor<T> XavierNormal<T>(Tensor<T> tensor, Random rng, double gain = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var (fanIn, fanOut) = Fans(tensor.Shape);
        return Gaussian(tensor, gain * Math.Sqrt(2.0 / (fanIn + fanOut)), rng);
    }

    /// <summary>Xavier/Glorot uniform: U(−a, a) with a = gain·√(6 / (fanIn + fanOut)).</summary>
    public static Tensor<T> XavierUniform<T>(Tensor<T> tensor, Random rng, double gain = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var (fanIn, fanOut) = Fans(tensor.Shape);
        double a = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        return Uniform(tensor, -a, a, rng);
    }

    /// <summary>
    /// He (Kaiming normal, fan-in mode): N(0, σ²) with σ = √(2 / ((1 + slope²)·fanIn)); slope 0 is ReLU's gain √2.
    /// </summary>
    public static Tensor<T> He<T>(Tensor<T> tensor, Random rng, double negativeSlope = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var (fanIn, _) = Fans(tensor.Shape);
        return Gaussian(tensor, Math.Sqrt(2.0 / ((1 + negativeSlope * negativeSlope) * fanIn)), rng);
    }

    /// <summary>N(mean, std²) entries (the paper's toy experiments: U, V ~ N(0, σ²)).</summary>
    public static Tensor<T> Gaussian<T>(Tensor<T> tensor, double std, Random rng, double mean = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(rng);
        if (!(std >= 0) || double.IsInfinity(std)) throw Errors.OutOfRange(nameof(std), std, "a non-negative finite standard deviation");
        if (!double.IsFinite(mean)) throw Errors.OutOfRange(nameof(mean), mean, "a finite mean");
        var data = tensor.Data;
        for (int i = 0; i < data.Length; i += 2)
        {
            var (z0, z1) = Tensors.Gaussian.NextPair(rng);
            data[i] = T.CreateChecked(mean + std * z0);
            if (i + 1 < data.Length) data[i + 1] = T.CreateChecked(mean + std * z1);
        }
        return tensor;
    }

    /// <summary>U(low, high) entries.</summary>
    public static Tensor<T> Uniform<T>(Tensor<T> tensor, double low, double high, Random rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(rng);
        if (!double.IsFinite(low) || !double.IsFinite(high) || low > high)
            throw Errors.ArgumentOutOfRange(nameof(high), $"uniform: the interval [{low}, {high}] must be finite with low ≤ high");
        var data = tensor.Data;
        for (int i = 0; i < data.Length; i++) data[i] = T.CreateChecked(low + (high - low) * rng.NextDouble());
        return tensor;
    }

    /// <summary>PyTorch's default for Linear and Conv2d weights, Kaiming-uniform with a = √5: U(−1/√fanIn, 1/√fanIn).</summary>
    public static Tensor<T> KaimingUniformDefault<T>(Tensor<T> tensor, Random rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensor);
        // gain = √(2 / (1 + a²)) = √(1/3); bound = gain·√(3 / fanIn) = 1/√fanIn.
        double bound = 1 / Math.Sqrt(Fans(tensor.Shape).FanIn);
        return Uniform(tensor, -bound, bound, rng);
    }
}
