using Noether.Benchmarks;
using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>
/// The point the Fig. 8 Hessian workloads differentiate at: U 10×50 and V 50×5 with the paper's init std 0.3, Y ~ N(0, 1)
/// (10×5), X = I₅ — drawn from the run's seed and written as the twins' inputs (bench/compare/fig8.py reads them).
/// </summary>
internal sealed record Fig8Inputs(Tensor<double> U, Tensor<double> V, Tensor<double> X, Tensor<double> Y)
{
    /// <summary>Number of parameters (750): the Hessian is Dimension × Dimension.</summary>
    public int Dimension => U.Length + V.Length;

    /// <summary>Draws the point from <paramref name="context"/>'s seed and writes it for the twin.</summary>
    public static Fig8Inputs Create(WorkloadContext context)
    {
        var (m, h, n) = Networks.Fig8;
        var random = new Random(context.Seed);
        var inputs = new Fig8Inputs(Inputs.Gaussian(random, 0.3, m, h), Inputs.Gaussian(random, 0.3, h, n),
            Tensor<double>.Identity(n), Inputs.Gaussian(random, 1.0, m, n));
        context.WriteInputs(new Dictionary<string, (double[], int[])>
        {
            ["U"] = Inputs.Entry(inputs.U), ["V"] = Inputs.Entry(inputs.V), ["X"] = Inputs.Entry(inputs.X), ["Y"] = Inputs.Entry(inputs.Y),
        });
        return inputs;
    }
}
