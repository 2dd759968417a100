using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Nn;

public class OptimizerTests
{
    // A 2-parameter quadratic f(x, y) = ½(a x² + c y²), gradient (a x, c y).
    private const double A = 2, C = 0.5;

    private static Parameter<double> Point(double x, double y) => new("theta", Tensor<double>.FromDoubles([x, y], 2));

    private static Tensor<double> Gradient(Parameter<double> p) => Tensor<double>.FromDoubles([A * p.Value[0], C * p.Value[1]], 2);

    [Fact]
    public void Sgd_Momentum_MatchesHandComputedSteps()
    {
        // x₀ = 1, a = 2, lr 0.1, μ 0.9: g₁ = 2, b₁ = 2, x₁ = 0.8; g₂ = 1.6, b₂ = 3.4, x₂ = 0.46; g₃ = 0.92, b₃ = 3.98, x₃ = 0.062.
        var p = Point(1, 0);
        var sgd = new Sgd<double>([p], 0.1, momentum: 0.9);
        double[] expected = [0.8, 0.46, 0.062];
        foreach (double x in expected)
        {
            sgd.Step([Gradient(p)]);
            Close.Assert(x, p.Value[0], 1e-14);
        }
    }

    [Fact]
    public void Sgd_Nesterov_MatchesHandComputedSteps()
    {
        // g₁ = 2, b₁ = 2, step g + μb = 3.8 → x₁ = 0.62; g₂ = 1.24, b₂ = 3.04, step 1.24 + 2.736 = 3.976 → x₂ = 0.2224.
        var p = Point(1, 0);
        var sgd = new Sgd<double>([p], 0.1, momentum: 0.9, nesterov: true);
        sgd.Step([Gradient(p)]);
        Close.Assert(0.62, p.Value[0], 1e-14);
        sgd.Step([Gradient(p)]);
        Close.Assert(0.2224, p.Value[0], 1e-14);
    }

    /// <summary>PyTorch's SGD written out for scalars, as the reference sequence.</summary>
    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.9, false)]
    [InlineData(0.5, true)]
    public void Sgd_TwentySteps_MatchScalarReference(double momentum, bool nesterov)
    {
        var p = Point(1.5, -2);
        var sgd = new Sgd<double>([p], 0.05, momentum, nesterov);
        double[] theta = [1.5, -2], buffer = new double[2];
        double[] curvature = [A, C];
        for (int t = 1; t <= 20; t++)
        {
            sgd.Step([Gradient(p)]);
            for (int i = 0; i < 2; i++)
            {
                double g = curvature[i] * theta[i];
                buffer[i] = t == 1 ? g : momentum * buffer[i] + g;
                double d = momentum == 0 ? g : nesterov ? g + momentum * buffer[i] : buffer[i];
                theta[i] -= 0.05 * d;
            }
            Close.Assert(theta, p.Value.Data, 1e-14, 1e-15, $"step {t}");
        }
        Assert.Equal(20, sgd.StepCount);
    }

    [Fact]
    public void Adam_FirstStep_MovesEachCoordinateByLearningRate()
    {
        // m̂₁ = g, v̂₁ = g², so the first step is lr·g/(|g| + ε): (1, −2) with g = (2, −1) moves by ±lr (1 − ε/|g|).
        var p = Point(1, -2);
        var adam = new Adam<double>([p], 0.1);
        adam.Step([Gradient(p)]);
        Close.Assert(1 - 0.1 * 2 / (2 + 1e-8), p.Value[0], 1e-15);
        Close.Assert(-2 + 0.1 * 1 / (1 + 1e-8), p.Value[1], 1e-15);
    }

    [Fact]
    public void Adam_TwentySteps_MatchScalarReferenceWithBiasCorrection()
    {
        var p = Point(1, -2);
        const double lr = 0.05, b1 = 0.8, b2 = 0.99, eps = 1e-6;
        var adam = new Adam<double>([p], lr, b1, b2, eps);
        double[] theta = [1, -2], m = new double[2], v = new double[2];
        double[] curvature = [A, C];
        for (int t = 1; t <= 20; t++)
        {
            adam.Step([Gradient(p)]);
            for (int i = 0; i < 2; i++)
            {
                double g = curvature[i] * theta[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(b1, t)), vHat = v[i] / (1 - Math.Pow(b2, t));
                theta[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
            // The reference divides m and v by their corrections; Adam (as PyTorch) folds them into the step size:
            // equal up to a few roundings.
            Close.Assert(theta, p.Value.Data, 1e-13, 1e-15, $"step {t}");
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Optimizers_NonPositiveLearningRate_Throw(double lr)
    {
        var p = new[] { Point(1, 1) };
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd<double>(p, lr, 0.9)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam<double>(p, lr));
        var adam = new Adam<double>(p);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = lr);
    }

    [Fact]
    public void Step_GradientShapeMismatch_NamesParameter()
    {
        var adam = new Adam<double>([Point(1, 1)]);
        var ex = Assert.Throws<ArgumentException>(() => adam.Step([Tensor<double>.Zeros(3)]));
        Assert.Contains("theta", ex.Message);
        Assert.Throws<ArgumentException>(() => adam.Step([]));
        Assert.Equal(0, adam.StepCount);
    }

    [Fact]
    public void Constructors_BadHyperparameters_Throw()
    {
        var p = new[] { Point(1, 1) };
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam<double>(p, beta1: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam<double>(p, beta2: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd<double>(p, 0.1, momentum: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd<double>(p, 0.1, momentum: 0, nesterov: true));
        Assert.Throws<ArgumentException>(() => new Sgd<double>([p[0], p[0]], 0.1));
    }
}
