using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Symmetry;

/// <summary>The layer-pair view (U, V̂ = [V | b]) of analyze, valley and the SPEC CNN head.</summary>
public class LayerPairTests
{
    private static Sequential<double> Mlp(string arch, int seed)
    {
        var spec = ArchitectureSpec.Parse(arch);
        var rng = new Random(seed);
        var w = spec.Widths;
        var tensors = new List<(string, Tensor<double>)>();
        for (int i = 0; i + 1 < w.Count; i++)
        {
            tensors.Add(($"{2 * i}.weight", Init.Uniform(Tensor<double>.Zeros(w[i + 1], w[i]), -1, 1, rng)));
            tensors.Add(($"{2 * i}.bias", Init.Uniform(Tensor<double>.Zeros(w[i + 1]), -1, 1, rng)));
        }
        return spec.Build(tensors, "test");
    }

    [Theory]
    [InlineData("mlp:4-3-2:identity", "GeneralLinearGroup")]
    [InlineData("mlp:4-3-2:relu", "PositiveScalingGroup")]
    [InlineData("mlp:4-3-2:leaky-relu=0.2", "PositiveScalingGroup")]
    [InlineData("mlp:4-3-2:tanh", null)]
    public void Of_Mlp_GroupIsMatrixGroupForActivation(string arch, string? group)
    {
        var pairs = LayerPair.Of(ArchitectureSpec.Parse(arch), Mlp(arch, 1));
        var pair = Assert.Single(pairs);
        Assert.Equal(group, pair.Group?.GetType().Name);
        Assert.Equal("0.weight → 2.weight", pair.Name);
        Assert.Equal([2, 3], pair.U().ShapeArray);
        Assert.Equal([3, 5], pair.VHat().ShapeArray);
    }

    [Fact]
    public void Apply_GeneralLinear_KeepsTheProductUVHatAndMovesTheWeightsInPlace()
    {
        const string arch = "mlp:4-3-2:identity";
        var model = Mlp(arch, 2);
        var pair = LayerPair.Of(ArchitectureSpec.Parse(arch), model)[0];
        var before = TensorOps.MatMul(pair.U(), pair.VHat());
        var g = new Tensor<double>([2, 0.5, 0, 0, 1, 0.3, 0.1, 0, 3], 3, 3);
        var v = TensorOps.MatMul(g, pair.VHat());
        pair.Apply(g);
        Close.Assert(v, pair.VHat(), 1e-14, 1e-14, "V̂ ↦ gV̂");
        Close.Assert(before, TensorOps.MatMul(pair.U(), pair.VHat()), 1e-12, 1e-12, "U V̂ invariant");
        Assert.Equal(pair.VHat()[1, 4], model.Layers.OfType<Linear<double>>().First().Bias!.Value[1]);
    }

    [Fact]
    public void SpecCnnHead_IsTheHiddenToOutputPairWithTheBiasColumn()
    {
        var (model, _, _) = TinyCnn.Create(seed: 4, count: 1, imageSize: 6, classes: 3, channels: 2, hidden: 5);
        var head = LayerPair.SpecCnnHead(model);
        Assert.IsType<PositiveScalingGroup>(head.Group);
        Assert.Equal(model.Output.Weight.Value.Data, head.U().Data);
        var v = head.VHat();
        Assert.Equal([5, 2 * 3 * 3 + 1], v.ShapeArray);
        Assert.Equal(model.Hidden.Bias!.Value[4], v[4, 18]);
        var pairs = LayerPair.Of(ArchitectureSpec.Parse("spec-cnn"), model);
        Assert.Equal(2, pairs.Count);
        Assert.Equal(9, pairs[0].Block);
        Assert.Equal(head.Name, pairs[1].Name);
    }
}
