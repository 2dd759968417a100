using Noether.Autodiff;
using Noether.Graphs;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Graphs;

/// <summary>
/// Checks a graph's exact derivatives in float64 against central differences: the directional derivative ∇f·v and the
/// Hessian-vector product Hv = (∇f(x + hv) − ∇f(x − hv)) / 2h, for f = Σ w⊙y + Σ (u⊙y)² over every graph output y (the
/// square makes even linear ops have a non-zero Hessian), with respect to every float input and every parameter.
/// </summary>
internal static class GraphDerivativeCheck
{
    // Central differences with h = 1e-5 in float64: truncation error ~h²·|f'''| ≈ 1e-10 and rounding ~ε·|f|/h ≈ 1e-11
    // relative to the O(1) quantities here, so 1e-6 leaves four orders of margin and still catches any wrong rule.
    public const double Tolerance = 1e-6;

    public static void Check(Graph<double> graph, Tensor<double>[] inputs, int seed, double tolerance = Tolerance, bool parameters = true, double H = 1e-5)
    {
        var rng = new Random(seed);
        var paramList = parameters ? graph.Parameters.ToArray() : [];
        var point = inputs.Concat(paramList.Select(p => p.Value.Clone())).ToArray();
        var outputs = graph.Evaluate(inputs);
        var w = outputs.Select(o => Random(rng, o.ShapeArray)).ToArray();
        var u = outputs.Select(o => Random(rng, o.ShapeArray)).ToArray();

        ScalarFunction<double> f = (tape, vars) =>
        {
            for (int k = 0; k < paramList.Length; k++) tape.BindTo(paramList[k], vars[inputs.Length + k]);
            var run = graph.Run(tape, vars.Take(inputs.Length).ToArray());
            Variable<double>? acc = null;
            for (int o = 0; o < run.Outputs.Count; o++)
            {
                var y = run.Output(tape, o);
                var term = Ops.Add(Ops.Sum(Ops.Multiply(y, tape.Constant(w[o]))), Ops.SumOfSquares(Ops.Multiply(y, tape.Constant(u[o]))));
                acc = acc is null ? term : Ops.Add(acc, term);
            }
            return acc!;
        };

        double Value(Tensor<double>[] at)
        {
            var tape = new Tape<double>();
            return f(tape, at.Select(t => tape.Leaf(t)).ToArray()).Value.Data[0];
        }
        Tensor<double>[] Gradient(Tensor<double>[] at)
        {
            var tape = new Tape<double>();
            var vars = at.Select(t => tape.Leaf(t)).ToArray();
            return tape.Gradient(f(tape, vars), vars).Select(g => g.Value).ToArray();
        }

        var v = point.Select(t => Random(rng, t.ShapeArray)).ToArray();
        var hessian = new HessianOperator<double>(f, point);
        var gradient = Flatten(hessian.Gradient);
        var directional = gradient.Zip(Flatten(v), (a, b) => a * b).Sum();
        double fd = (Value(Shift(point, v, H)) - Value(Shift(point, v, -H))) / (2 * H);
        Close.Assert(fd, directional, tolerance, 1e-9, "∇f·v against central differences");

        var hv = Flatten(hessian.Multiply(v));
        var gPlus = Flatten(Gradient(Shift(point, v, H)));
        var gMinus = Flatten(Gradient(Shift(point, v, -H)));
        var hvFd = gPlus.Zip(gMinus, (a, b) => (a - b) / (2 * H)).ToArray();
        double err = Close.RelativeError(hv, hvFd);
        Assert.True(err <= tolerance, $"Hv against central differences of the gradient: relative error {err:E3} > {tolerance:E0} (‖Hv‖ = {Math.Sqrt(hv.Sum(x => x * x)):E3})");
    }

    public static Tensor<double> Random(Random rng, params int[] shape)
    {
        var t = Tensor<double>.Zeros(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = 2 * rng.NextDouble() - 1;
        return t;
    }

    private static Tensor<double>[] Shift(Tensor<double>[] point, Tensor<double>[] v, double h) =>
        point.Zip(v, (p, d) =>
        {
            var r = p.Clone();
            for (int i = 0; i < r.Length; i++) r.Data[i] += h * d.Data[i];
            return r;
        }).ToArray();

    private static double[] Flatten(IEnumerable<Tensor<double>> ts) => ts.SelectMany(t => t.Data).ToArray();
}
