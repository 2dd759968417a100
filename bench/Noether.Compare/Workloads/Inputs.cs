using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>Seeded random inputs shared with the twins.</summary>
internal static class Inputs
{
    /// <summary>An r×c float64 matrix with N(0, std²) entries (seeded).</summary>
    public static Tensor<double> Gaussian(Random random, double std, int rows, int cols) =>
        Noether.Benchmarks.Networks.Gaussian(random, std, rows, cols);

    /// <summary>The bundle entries "images" and "labels" (as float64) of a labelled batch.</summary>
    public static Dictionary<string, (double[] Data, int[] Shape)> Batch(Tensor<double> images, int[] labels) => new()
    {
        ["images"] = Entry(images),
        ["labels"] = (labels.Select(l => (double)l).ToArray(), [labels.Length]),
    };

    /// <summary>The entry of a bundle for <paramref name="t"/>.</summary>
    public static (double[] Data, int[] Shape) Entry(Tensor<double> t) => (t.Data, t.ShapeArray);
}
