using CsCheck;
using Noether.Autodiff;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Autodiff;

public class SoftmaxTests
{
    private const string Seed = "0N0XIDEW4Y50";

    private static readonly Gen<(int N, int K, double Scale, int DataSeed)> Cases =
        Gen.Select(Gen.Int[1, 6], Gen.Int[1, 7], Gen.Double[0.1, 5], Gen.Int[0, 1_000_000]);

    private static Tensor<double> Random(int seed, double scale, params int[] shape)
    {
        var rng = new Random(seed);
        var t = Tensor<double>.Zeros(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = scale * (2 * rng.NextDouble() - 1);
        return t;
    }

    private static int[] Labels(int seed, int n, int k)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => rng.Next(k)).ToArray();
    }

    /// <summary>log softmax straight from the definition, in double: z − log Σ exp z (fine for |z| ≤ 5).</summary>
    private static double NaiveLogSoftmax(Tensor<double> z, int i, int j)
    {
        int k = z.Dim(1);
        double sum = 0;
        for (int c = 0; c < k; c++) sum += Math.Exp(z[i, c]);
        return z[i, j] - Math.Log(sum);
    }

    [Fact]
    public void LogSoftmax_Value_MatchesDefinition()
    {
        Cases.Sample(c =>
        {
            var z = Random(c.DataSeed, c.Scale, c.N, c.K);
            var y = Ops.LogSoftmax(new Tape<double>().Constant(z)).Value;
            for (int i = 0; i < c.N; i++)
                for (int j = 0; j < c.K; j++) Close.Assert(NaiveLogSoftmax(z, i, j), y[i, j], 1e-13, 1e-14);
        }, iter: 100, seed: Seed);
    }

    [Fact]
    public void Softmax_RowsArePositiveAndSumToOne()
    {
        Cases.Sample(c =>
        {
            var p = Ops.Softmax(new Tape<double>().Constant(Random(c.DataSeed, c.Scale, c.N, c.K))).Value;
            for (int i = 0; i < c.N; i++)
            {
                double sum = 0;
                for (int j = 0; j < c.K; j++)
                {
                    Assert.True(p[i, j] > 0);
                    sum += p[i, j];
                }
                Close.Assert(1, sum, 1e-14);
            }
        }, iter: 100, seed: Seed);
    }

    [Fact]
    public void LogSoftmax_HugeLogits_StayFiniteAndShiftInvariant()
    {
        var z = Tensor<double>.FromArray(new[,] { { 1000.0, 999.0, -1000.0 }, { -800.0, -801.0, -799.0 } });
        var shifted = Tensor<double>.FromArray(new[,] { { 1.0, 0.0, -1999.0 }, { 0.0, -1.0, 1.0 } }); // rows shifted by −999 and +800
        var tape = new Tape<double>();
        var y = Ops.LogSoftmax(tape.Constant(z)).Value;
        var ys = Ops.LogSoftmax(tape.Constant(shifted)).Value;
        Assert.True(y.AllFinite());
        Close.Assert(ys, y, 1e-15, 1e-15);
        var f = Ops.Softmax(new Tape<float>().Constant(z.Cast<float>())).Value;
        Assert.True(f.AllFinite());
        var ce = Ops.CrossEntropy(new Tape<float>().Constant(z.Cast<float>()), [2, 2]).Value.ScalarValue;
        // Row 0: log(e¹⁰⁰⁰ + e⁹⁹⁹ + e⁻¹⁰⁰⁰) + 1000; row 1: log(e⁻⁸⁰⁰ + e⁻⁸⁰¹ + e⁻⁷⁹⁹) + 799.
        Close.Assert((2000 + Math.Log(1 + Math.Exp(-1)) + Math.Log(1 + Math.Exp(-1) + Math.Exp(-2))) / 2, ce, 1e-6);
    }

    private static void CheckGradient(ScalarFunction<double> f, Tensor<double> z, string what)
    {
        var analytic = FiniteDifference.AutodiffGradient(f, [z]);
        var numeric = FiniteDifference.Gradient(f, [z])[0];
        Assert.True(Close.RelativeError(numeric, analytic) <= 1e-6, $"{what}: relative error {Close.RelativeError(numeric, analytic):E2}");
    }

    private static void CheckHessian(ScalarFunction<double> f, Tensor<double> z, Tensor<double> v, string what)
    {
        var exact = new HessianOperator<double>(f, [z]).Multiply([v])[0].Data;
        var numeric = FiniteDifference.HessianVectorProduct(f, [z], [v]);
        Assert.True(Close.RelativeError(numeric, exact) <= 1e-5, $"{what}: relative error {Close.RelativeError(numeric, exact):E2}");
    }

    [Fact]
    public void LogSoftmax_GradientAndHessian_MatchFiniteDifferences()
    {
        Cases.Sample(c =>
        {
            var readout = Random(c.DataSeed + 1, 1, c.N, c.K);
            ScalarFunction<double> f = (tape, v) => Ops.Sum(Ops.Multiply(Ops.LogSoftmax(v[0]), tape.Constant(readout)));
            var z = Random(c.DataSeed, c.Scale, c.N, c.K);
            CheckGradient(f, z, $"{c}");
            CheckHessian(f, z, Random(c.DataSeed + 2, 1, c.N, c.K), $"{c}");
        }, iter: 100, seed: Seed);
    }

    [Fact]
    public void Softmax_GradientAndHessian_MatchFiniteDifferences()
    {
        Cases.Sample(c =>
        {
            var readout = Random(c.DataSeed + 1, 1, c.N, c.K);
            ScalarFunction<double> f = (tape, v) => Ops.Sum(Ops.Multiply(Ops.Softmax(v[0]), tape.Constant(readout)));
            var z = Random(c.DataSeed, c.Scale, c.N, c.K);
            CheckGradient(f, z, $"{c}");
            CheckHessian(f, z, Random(c.DataSeed + 2, 1, c.N, c.K), $"{c}");
        }, iter: 100, seed: Seed);
    }

    [Fact]
    public void CrossEntropy_ValueGradientAndHessian_MatchDefinitionAndFiniteDifferences()
    {
        Cases.Sample(c =>
        {
            var labels = Labels(c.DataSeed + 3, c.N, c.K);
            var z = Random(c.DataSeed, c.Scale, c.N, c.K);
            double expected = 0;
            for (int i = 0; i < c.N; i++) expected -= NaiveLogSoftmax(z, i, labels[i]) / c.N;
            ScalarFunction<double> f = (tape, v) => Ops.CrossEntropy(v[0], labels);
            Close.Assert(expected, FiniteDifference.Evaluate(f, [z]), 1e-13, 1e-15);
            CheckGradient(f, z, $"{c}");
            CheckHessian(f, z, Random(c.DataSeed + 2, 1, c.N, c.K), $"{c}");
        }, iter: 100, seed: Seed);
    }

    [Fact]
    public void CrossEntropy_Gradient_IsSoftmaxMinusOneHotOverN()
    {
        Cases.Sample(c =>
        {
            var labels = Labels(c.DataSeed + 3, c.N, c.K);
            var z = Random(c.DataSeed, c.Scale, c.N, c.K);
            var tape = new Tape<double>();
            var x = tape.Leaf(z);
            var g = tape.Gradient(Ops.CrossEntropy(x, labels), [x])[0].Value;
            for (int i = 0; i < c.N; i++)
                for (int j = 0; j < c.K; j++)
                    Close.Assert((Math.Exp(NaiveLogSoftmax(z, i, j)) - (labels[i] == j ? 1 : 0)) / c.N, g[i, j], 1e-12, 1e-15);
        }, iter: 100, seed: Seed);
    }

    [Fact]
    public void CrossEntropy_Hessian_IsSoftmaxCovarianceOverN()
    {
        // For one sample, ∂²L/∂z² = diag(p) − ppᵀ (divided by N for the mean): independent of the label.
        var z = Random(11, 2, 3, 4);
        var h = Hessian.Full<double>((tape, v) => Ops.CrossEntropy(v[0], [1, 3, 0]), [z]);
        for (int i = 0; i < 3; i++)
        {
            var p = Enumerable.Range(0, 4).Select(j => Math.Exp(NaiveLogSoftmax(z, i, j))).ToArray();
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++)
                    Close.Assert(((a == b ? p[a] : 0) - p[a] * p[b]) / 3, h[i * 4 + a, i * 4 + b], 1e-12, 1e-15);
            for (int other = 0; other < 3; other++)
                if (other != i)
                    for (int a = 0; a < 4; a++) Assert.Equal(0.0, h[i * 4 + a, other * 4]);
        }
    }

    [Fact]
    public void CrossEntropy_LabelOutOfRange_NamesTheLabel()
    {
        var z = new Tape<double>().Constant(Tensor<double>.Zeros(3, 4));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.CrossEntropy(z, [0, 4, 1]));
        Assert.Contains("labels[1]", ex.Message);
        Assert.Contains("[0, 4)", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.CrossEntropy(z, [0, -1, 1]));
    }

    [Fact]
    public void CrossEntropy_LabelCountMismatch_Throws()
    {
        var z = new Tape<double>().Constant(Tensor<double>.Zeros(3, 4));
        var ex = Assert.Throws<ArgumentException>(() => Ops.CrossEntropy(z, [0, 1]));
        Assert.Equal("labels", ex.ParamName);
        Assert.Contains("3×4", ex.Message);
    }

    [Fact]
    public void LogSoftmax_NotAMatrix_NamesLogits()
    {
        var tape = new Tape<double>();
        var ex = Assert.Throws<ArgumentException>(() => Ops.LogSoftmax(tape.Constant(Tensor<double>.Zeros(2, 3, 4))));
        Assert.Equal("logits", ex.ParamName);
        Assert.Throws<ArgumentException>(() => Ops.CrossEntropy(tape.Constant(Tensor<double>.Zeros(0, 3)), []));
    }
}
