using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Autodiff;

/// <summary>
/// <see cref="Noether.Autodiff.HessianOperator{T}.Multiply(IReadOnlyList{Tensor{T}})"/> recycles each product's
/// temporaries (conv, pooling and elementwise buffers) for the next one. What must hold: a product handed back is the
/// caller's to keep (later products do not overwrite it), repeated products on one operator equal the same products on
/// fresh operators, and H·v is linear in v (checked against the products of its parts, computed independently).
/// A small SPEC-shaped CNN (conv → max-pool → linear → leaky ReLU → linear) runs every pooled kernel.
/// </summary>
public class PooledProductTests
{
    private static (SpecCnn<double> Model, Tensor<double> Images, int[] Labels) Fixture() =>
        TinyCnn.Create(seed: 3, count: 6, imageSize: 8, classes: 4, channels: 3, hidden: 5);

    private static double[] RandomDirection(int n, Random random)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = random.NextDouble() * 2 - 1;
        return v;
    }

    [Fact]
    public void Products_OnOneOperator_AreKeptAndEqualFreshOperators()
    {
        var (model, images, labels) = Fixture();
        var op = ModelHessian.CrossEntropy(model, images, labels);
        var random = new Random(9);
        var directions = Enumerable.Range(0, 4).Select(_ => RandomDirection(op.Dimension, random)).ToArray();
        var products = directions.Select(v => op.Multiply(v)).ToArray();
        var snapshots = products.Select(p => (double[])p.Clone()).ToArray();
        // More products on the same operator: the ones already handed back must not change.
        foreach (var v in directions) op.Multiply(v);
        for (int k = 0; k < products.Length; k++) Assert.Equal(snapshots[k], products[k]);
        // The same product from an operator that never ran one before.
        for (int k = 0; k < directions.Length; k++)
        {
            var fresh = ModelHessian.CrossEntropy(model, images, labels).Multiply(directions[k]);
            Assert.Equal(fresh, products[k]);
        }
        // Linearity: H(a + 2b) = Ha + 2Hb, to rounding (each side sums O(10²) products of magnitude ≤ max|Hv|).
        var combined = directions[0].Zip(directions[1], (a, b) => a + 2 * b).ToArray();
        var hCombined = op.Multiply(combined);
        double scale = products[0].Concat(products[1]).Max(Math.Abs);
        for (int i = 0; i < op.Dimension; i++)
            Close.Assert(products[0][i] + 2 * products[1][i], hCombined[i], 0, 1e-12 * scale, $"H(a + 2b)[{i}]");
    }

    [Fact]
    public void TensorListProducts_AreKeptAcrossLaterProducts()
    {
        // The tensor-list overload hands back tensors (the flat one copies into a new array in any case).
        var (model, images, labels) = Fixture();
        var op = ModelHessian.CrossEntropy(model, images, labels);
        var random = new Random(4);
        Tensor<double>[] Split(double[] flat)
        {
            var parts = new Tensor<double>[op.Shapes.Count];
            int offset = 0;
            for (int i = 0; i < parts.Length; i++)
            {
                int n = op.Shapes[i].Aggregate(1, (a, b) => a * b);
                parts[i] = new Tensor<double>(flat.AsSpan(offset, n).ToArray(), op.Shapes[i]);
                offset += n;
            }
            return parts;
        }
        var v1 = RandomDirection(op.Dimension, random);
        var v2 = RandomDirection(op.Dimension, random);
        var first = op.Multiply(Split(v1));
        var kept = first.Select(t => (double[])t.Data.Clone()).ToArray();
        var second = op.Multiply(Split(v2));
        for (int i = 0; i < first.Length; i++)
        {
            Assert.Equal(kept[i], first[i].Data);
            Assert.NotSame(first[i].Data, second[i].Data);
        }
        Assert.Equal(op.Multiply(v1), first.SelectMany(t => t.Data).ToArray());
    }

    [Fact]
    public void TensorProducts_DoNotAliasTheDirections()
    {
        // f(x) = ½‖x‖² has H = I, so H·v = v: the product must still be a new tensor, not v itself.
        var op = new Noether.Autodiff.HessianOperator<double>((_, x) => Noether.Autodiff.Ops.Scale(Noether.Autodiff.Ops.Sum(Noether.Autodiff.Ops.Square(x[0])), 0.5), [Tensor<double>.Zeros(3)]);
        var v = new Tensor<double>([1.0, -2.0, 3.0], 3);
        var hv = op.Multiply([v])[0];
        Assert.NotSame(v.Data, hv.Data);
        Assert.Equal(v.Data, hv.Data);
        hv.Data[0] = 42;
        Assert.Equal(1.0, v.Data[0]);
    }
}
