using CsCheck;
using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Tests.Support;

/// <summary>Where an op's inputs are drawn from (so finite-difference stencils stay inside the smooth region).</summary>
public enum Domain
{
    /// <summary>Uniform on [−2, 2].</summary>
    Any,
    /// <summary>Uniform on [0.5, 2]: for log, square roots, non-integer powers, divisors.</summary>
    Positive,
    /// <summary>
    /// |x| uniform on [0.1, 2] with a random sign: for ReLU-type kinks at 0 and norms. The widest
    /// central-difference stencil is h = 1e-5·max(1, |x|) ≤ 2e-5 ≪ 0.1, so no stencil crosses the kink.
    /// </summary>
    AwayFromZero,
}

/// <summary>One random instance of an op check: input tensors and a seed for the weights and directions.</summary>
public sealed record OpCase(Tensor<double>[] Inputs, int Seed)
{
    public override string ToString() => string.Join(", ", Inputs.Select(t => Errors(t))) + $"; seed {Seed}";
    private static string Errors(Tensor<double> t) => $"[{string.Join("×", t.ShapeArray)}] {{{string.Join(", ", t.Data.Select(x => x.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)))}}}";
}

/// <summary>
/// The generic checks run on every op: analytic gradients and Hessian-vector products against central
/// finite differences, on random shapes (each dimension 1–4) and values, with respect to every input.
/// </summary>
public static class OpCheck
{
    /// <summary>Random cases: dimensions d0..d3 in [1, 4] shape the inputs; values come from each input's domain.</summary>
    public static Gen<OpCase> Cases(Func<int[], int[][]> shapes, params Domain[] domains) =>
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[0, int.MaxValue])
            .SelectMany(t =>
            {
                var s = shapes([t.Item1, t.Item2, t.Item3, t.Item4]);
                var gens = s.Select((shape, i) => Values(domains.Length == 0 ? Domain.Any : domains[Math.Min(i, domains.Length - 1)])
                    .Array[Count(shape)].Select(d => new Tensor<double>(d, shape))).ToArray();
                return (gens.Length == 0 ? Gen.Const(Array.Empty<Tensor<double>>()) : All(gens)).Select(inputs => new OpCase(inputs, t.Item5));
            });

    private static Gen<Tensor<double>[]> All(Gen<Tensor<double>>[] gens)
    {
        Gen<Tensor<double>[]> acc = gens[0].Select(x => new[] { x });
        for (int i = 1; i < gens.Length; i++)
        {
            var g = gens[i];
            acc = Gen.Select(acc, g, (a, b) => a.Append(b).ToArray());
        }
        return acc;
    }

    private static Gen<double> Values(Domain d) => d switch
    {
        Domain.Positive => Gen.Double[0.5, 2],
        Domain.AwayFromZero => Gen.Select(Gen.Double[0.1, 2], Gen.Bool, (x, s) => s ? x : -x),
        _ => Gen.Double[-2, 2],
    };

    private static int Count(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    /// <summary>
    /// The scalar that exercises an op y = op(x): L = Σ W⊙y + ½ Σ y⊙y, W random (seeded). Its gradient is the
    /// op's vector-Jacobian product with cotangent W + y; its Hessian involves both the op's curvature and the
    /// backward rule's own derivative, so even linear ops get a non-trivial second-order check.
    /// </summary>
    public static ScalarFunction<double> Probe(Func<Tape<double>, IReadOnlyList<Variable<double>>, Variable<double>> op, int seed)
    {
        Tensor<double>? w = null;
        return (tape, x) =>
        {
            var y = op(tape, x);
            w ??= RandomTensor(new Random(seed), y.Value.ShapeArray);
            return Ops.Add(Ops.Sum(Ops.Multiply(tape.Constant(w), y)), Ops.Scale(Ops.Sum(Ops.Multiply(y, y)), 0.5));
        };
    }

    /// <summary>
    /// Norm floor for relative errors. Central differences with h = 1e-5 carry an absolute error of about
    /// h²·|f‴|/6 + ε·|f|/h ≈ 1e-10 for the O(1) functions here, so a vector whose norm is below 1e-3 can only be
    /// checked to an absolute 1e-9 = 1e-6 × 1e-3; above the floor the bound is purely relative.
    /// </summary>
    public const double Floor = 1e-3;

    /// <summary>Autodiff gradient of each input against central differences: relative error per input ≤ <paramref name="tolerance"/>.</summary>
    public static void Gradient(ScalarFunction<double> f, IReadOnlyList<Tensor<double>> point, double tolerance = 1e-6)
    {
        var tape = new Tape<double>();
        var inputs = point.Select(t => tape.Leaf(t.Clone())).ToArray();
        var grads = tape.Gradient(f(tape, inputs), inputs);
        var fd = FiniteDifference.Gradient(f, point);
        for (int i = 0; i < point.Count; i++)
        {
            double err = Close.RelativeError(grads[i].Value.Data, fd[i], Floor);
            if (!(err <= tolerance))
                throw new Xunit.Sdk.XunitException($"gradient of input {i}: relative error {err:E3} > {tolerance:E0}\nautodiff {Show(grads[i].Value.Data)}\nfinite differences {Show(fd[i])}");
        }
    }

    /// <summary>Exact Hessian-vector product (double backward) against central differences of the gradient along v.</summary>
    public static void HessianVectorProduct(ScalarFunction<double> f, IReadOnlyList<Tensor<double>> point, int seed, double tolerance = 1e-5)
    {
        var rng = new Random(seed ^ 0x5bd1e995);
        var v = point.Select(t => RandomTensor(rng, t.ShapeArray)).ToArray();
        var exact = new HessianOperator<double>(f, point).Multiply(v).SelectMany(t => t.Data).ToArray();
        var fd = FiniteDifference.HessianVectorProduct(f, point, v);
        double err = Close.RelativeError(exact, fd, Floor);
        if (!(err <= tolerance))
            throw new Xunit.Sdk.XunitException($"Hessian-vector product: relative error {err:E3} > {tolerance:E0}\nexact {Show(exact)}\nfinite differences {Show(fd)}");
    }

    /// <summary>A tensor of standard normal entries.</summary>
    public static Tensor<double> RandomTensor(Random rng, params int[] shape)
    {
        var t = Tensor<double>.Zeros(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = Normal(rng);
        return t;
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    public static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static string Show(IEnumerable<double> x) => string.Join(", ", x.Take(12).Select(v => v.ToString("G8", System.Globalization.CultureInfo.InvariantCulture)));
}
