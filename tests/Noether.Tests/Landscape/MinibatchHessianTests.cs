using Noether.Landscape;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>The minibatch Hessian checked against the Hessian of the loss over all the data at once.</summary>
public class MinibatchHessianTests
{
    [Fact]
    public void Mean_EqualBatches_EqualsHessianOfTheFullBatchLoss()
    {
        var (model, batches, all, labels) = CurvatureFixtures.Mlp(1);
        var minibatch = MinibatchHessian.ForModel(model, batches);
        var full = ModelHessian.CrossEntropy(model, all, labels).Full();
        var mean = CurvatureFixtures.Dense(minibatch.Mean());
        // Equal batch sizes: the mean of batch means is the mean over all points, and H is linear in the loss; only the
        // summation order differs (≈ 1e-16 per term, a few dozen terms).
        double scale = full.Data.Max(Math.Abs);
        Close.Assert(full, mean, 0, 1e-13 * scale, "mean of batch Hessians vs full-batch Hessian");
        Assert.Equal(51, minibatch.Dimension);
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], minibatch.Blocks.Select(b => b.Name).ToArray());
    }

    [Fact]
    public void Gradient_AllBatches_EqualsFullBatchGradient()
    {
        var (model, batches, all, labels) = CurvatureFixtures.Mlp(2);
        var minibatch = MinibatchHessian.ForModel(model, batches);
        var expected = ParameterVectorGradient(ModelHessian.CrossEntropy(model, all, labels));
        Close.Assert(expected, minibatch.Gradient(), 0, 1e-14, "gradient");
        Close.Assert(Enumerable.Range(0, 4).Select(minibatch.Loss).Average(), ModelHessian.CrossEntropy(model, all, labels).Value, 1e-14, 0, "loss");
    }

    private static double[] ParameterVectorGradient(Noether.Autodiff.HessianOperator<double> h) => h.Gradient.SelectMany(t => t.Data).ToArray();

    [Fact]
    public void Mean_SubsetOfBatches_EqualsMeanOfThoseBatchHessians()
    {
        var (model, batches, _, _) = CurvatureFixtures.Mlp(3);
        var minibatch = MinibatchHessian.ForModel(model, batches);
        var h1 = minibatch.ForBatch(1).Full();
        var h3 = minibatch.ForBatch(3).Full();
        var expected = new Tensor<double>(h1.Data.Zip(h3.Data, (a, b) => (a + b) / 2).ToArray(), h1.ShapeArray);
        Close.Assert(expected, CurvatureFixtures.Dense(minibatch.Mean([1, 3])), 0, 1e-14 * h1.Data.Max(Math.Abs), "subset mean");
    }

    [Fact]
    public void Constructor_BadInput_RefusedNamingTheParameter()
    {
        var (model, batches, _, _) = CurvatureFixtures.Mlp(4);
        Assert.Equal("batches", Assert.ThrowsAny<ArgumentException>(() => MinibatchHessian.ForModel(model, [])).ParamName);
        Assert.Equal("batches", Assert.ThrowsAny<ArgumentException>(() => new MinibatchHessian((t, p, b) => p[0], [Tensor<double>.Zeros(2)], 0)).ParamName);
        var nan = Tensor<double>.Zeros(3);
        nan.Data[1] = double.NaN;
        Assert.Equal("point", Assert.ThrowsAny<ArgumentException>(() => new MinibatchHessian((t, p, b) => p[0], [nan], 1)).ParamName);
        var h = MinibatchHessian.ForModel(model, batches);
        Assert.Equal("batches", Assert.ThrowsAny<ArgumentException>(() => h.Mean([])).ParamName);
        Assert.Equal("batches", Assert.ThrowsAny<ArgumentException>(() => h.Mean([0, 0])).ParamName);
        Assert.Equal("batch", Assert.ThrowsAny<ArgumentException>(() => h.ForBatch(4)).ParamName);
    }
}
