using Noether.Autodiff;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>
/// Hessians of a module's loss, including the SPEC CNN: conv, max-pool and cross-entropy are twice differentiable, so
/// Hessian-vector products are exact double-backward passes; they are checked against central differences of the
/// first-order gradient computed the ordinary way (model parameters perturbed in place, tape.Gradient).
/// </summary>
public class ModelHessianTests
{
    private static (SpecCnn<double> Model, Tensor<double> X, int[] Labels) TinyCnn(int seed)
    {
        var rng = new Random(seed);
        var model = Models.SpecCnn<double>(rng, inChannels: 1, imageSize: 6, classes: 3, channels: 2, hidden: 4, leakySlope: 0.1);
        var x = Init.Gaussian(Tensor<double>.Zeros(5, 1, 6, 6), 1, rng);
        return (model, x, [0, 2, 1, 1, 0]);
    }

    private static double[] OrdinaryGradient(Module<double> model, Tensor<double> x, int[] labels)
    {
        var tape = new Tape<double>();
        var loss = Ops.CrossEntropy(model.Forward(tape, tape.Constant(x)), labels);
        return ParameterVector.Flatten<double>(tape.Gradient(loss, model.Parameters));
    }

    [Fact]
    public void CrossEntropy_SpecCnnHessianVectorProduct_MatchesFiniteDifferencesOfGradients()
    {
        var (model, x, labels) = TinyCnn(1);
        var hessian = ModelHessian.CrossEntropy(model, x, labels);
        int n = ParameterVector.Count(model.Parameters);
        Assert.Equal(n, hessian.Dimension);
        var rng = new Random(2);
        var dir = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var hv = hessian.Multiply(dir);
        var theta = ParameterVector.Flatten(model.Parameters);
        double step = 1e-5;
        ParameterVector.Assign(model.Parameters, theta.Select((t, i) => t + step * dir[i]).ToArray());
        var gp = OrdinaryGradient(model, x, labels);
        ParameterVector.Assign(model.Parameters, theta.Select((t, i) => t - step * dir[i]).ToArray());
        var gm = OrdinaryGradient(model, x, labels);
        ParameterVector.Assign(model.Parameters, theta);
        var fd = gp.Zip(gm, (a, b) => (a - b) / (2 * step)).ToArray();
        // Central differences: truncation O(h²)·‖∇³L‖ and rounding ~1e-16/h ≈ 1e-11; a kink of LeakyReLU or a max-pool tie
        // within h·|dir| would break this (random data keeps them away).
        Assert.True(Close.RelativeError(fd, hv) < 1e-6, $"relative error {Close.RelativeError(fd, hv):E3}");
        // And the gradient the operator recorded is the ordinary one.
        Close.Assert(OrdinaryGradient(model, x, labels), ParameterVector.Flatten<double>(hessian.Gradient), 1e-12, 1e-15);
    }

    [Fact]
    public void CrossEntropy_LastLayersOnly_IsTheMatchingBlockOfTheFullHessian()
    {
        var (model, x, labels) = TinyCnn(3);
        var full = ModelHessian.CrossEntropy(model, x, labels).Full();
        var last = new[] { model.Output.Weight, model.Output.Bias! };
        var block = ModelHessian.CrossEntropy(model, x, labels, last).Full();
        int offset = ParameterVector.Count(model.Parameters) - block.Dim(0);
        for (int i = 0; i < block.Dim(0); i++)
            for (int j = 0; j < block.Dim(0); j++)
                Close.Assert(full[offset + i, offset + j], block[i, j], 1e-12, 1e-15, $"H[{i},{j}]");
    }

    [Fact]
    public void Lanczos_OnTheCnnHessian_TopEigenvalueMatchesTheFullSpectrum()
    {
        var (model, x, labels) = TinyCnn(4);
        var hessian = ModelHessian.CrossEntropy(model, x, labels);
        var (exact, _) = LinearAlgebra.SymmetricEigen(hessian.Full(), vectors: false);
        var r = Lanczos.Eigenvalues(SymmetricOperator.FromHessian(hessian), 2, new Random(5));
        Assert.True(r.Converged);
        Close.Assert([exact[^1], exact[^2]], r.Values, 1e-8, 1e-12);
    }

    [Fact]
    public void Create_ForeignOrRepeatedParameter_ThrowsNamingIt()
    {
        var (model, x, labels) = TinyCnn(5);
        var other = new Parameter<double>("stray", Tensor<double>.Zeros(2));
        var e = Assert.Throws<ArgumentException>(() => ModelHessian.CrossEntropy(model, x, labels, [other]));
        Assert.Contains("stray", e.Message);
        Assert.Throws<ArgumentException>(() => ModelHessian.CrossEntropy(model, x, labels, [model.Output.Weight, model.Output.Weight]));
        Assert.Throws<ArgumentException>(() => ModelHessian.CrossEntropy(model, x, labels, []));
    }

    [Fact]
    public void BindTo_BadVariable_Throws()
    {
        var tape = new Tape<double>();
        var p = new Parameter<double>("w", Tensor<double>.Zeros(2, 2));
        var leaf = tape.Leaf(Tensor<double>.Zeros(2, 2));
        Assert.Throws<ArgumentException>(() => tape.BindTo(p, tape.Leaf(Tensor<double>.Zeros(3))));
        Assert.Throws<ArgumentException>(() => tape.BindTo(p, Ops.Scale(leaf, 2.0)));
        Assert.Throws<ArgumentException>(() => tape.BindTo(p, new Tape<double>().Leaf(Tensor<double>.Zeros(2, 2))));
        tape.BindTo(p, leaf);
        Assert.Same(leaf, tape.Bind(p));
        Assert.Throws<ArgumentException>(() => tape.BindTo(p, leaf));
    }
}
