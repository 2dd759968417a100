using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Tests.Support;

/// <summary>Central finite differences: the independent computation the autodiff is checked against.</summary>
public static class FiniteDifference
{
    /// <summary>∂f/∂x for every scalar of every input, by (f(x+h) − f(x−h)) / 2h with h scaled to |x|.</summary>
    public static double[][] Gradient(ScalarFunction<double> f, IReadOnlyList<Tensor<double>> point, double step = 1e-5)
    {
        var copies = point.Select(t => t.Clone()).ToArray();
        var result = new double[copies.Length][];
        for (int i = 0; i < copies.Length; i++)
        {
            result[i] = new double[copies[i].Length];
            for (int j = 0; j < copies[i].Length; j++)
            {
                double x = copies[i].Data[j];
                double h = step * Math.Max(1, Math.Abs(x));
                copies[i].Data[j] = x + h;
                double fp = Evaluate(f, copies);
                copies[i].Data[j] = x - h;
                double fm = Evaluate(f, copies);
                copies[i].Data[j] = x;
                result[i][j] = (fp - fm) / (2 * h);
            }
        }
        return result;
    }

    /// <summary>H·v by central differences of the autodiff gradient along v.</summary>
    public static double[] HessianVectorProduct(ScalarFunction<double> f, IReadOnlyList<Tensor<double>> point, IReadOnlyList<Tensor<double>> v, double step = 1e-5)
    {
        Tensor<double>[] Shift(double s) => point.Select((t, i) =>
        {
            var c = t.Clone();
            for (int j = 0; j < c.Length; j++) c.Data[j] += s * v[i].Data[j];
            return c;
        }).ToArray();
        var gp = AutodiffGradient(f, Shift(step));
        var gm = AutodiffGradient(f, Shift(-step));
        return gp.Zip(gm, (a, b) => (a - b) / (2 * step)).ToArray();
    }

    public static double Evaluate(ScalarFunction<double> f, IReadOnlyList<Tensor<double>> point)
    {
        var tape = new Tape<double>();
        var inputs = point.Select(t => tape.Constant(t)).ToArray();
        return f(tape, inputs).Value.ScalarValue;
    }

    public static double[] AutodiffGradient(ScalarFunction<double> f, IReadOnlyList<Tensor<double>> point)
    {
        var tape = new Tape<double>();
        var inputs = point.Select(t => tape.Leaf(t)).ToArray();
        var y = f(tape, inputs);
        return tape.Gradient(y, inputs).SelectMany(g => g.Value.Data).ToArray();
    }
}
