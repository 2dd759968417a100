using Noether.Nn;
using Noether.Symmetry;

namespace Noether.Tests.Symmetry;

/// <summary>The one activation → group map, <see cref="MatrixGroup.ForActivation"/> (Prop. 7).</summary>
public class ActivationGroupTests
{
    [Theory]
    [InlineData("identity", "GL(4)")]
    [InlineData("relu", "positive scaling (α = 1) on ℝ^4")]
    [InlineData("leaky-relu:0.2", "positive scaling (α = 1) on ℝ^4")]
    [InlineData("radial", "O(4)")]
    [InlineData("tanh", null)]
    [InlineData("sigmoid", null)]
    public void ForActivation_ReturnsTheLinearSymmetryGroup(string name, string? group)
    {
        Assert.Equal(group, MatrixGroup.ForActivation(Activation.Parse(name), 4)?.Name);
    }

    [Fact]
    public void ForActivation_PassesTheConditionLimit_AndLeakyReluOfSlopeOneReducesToGl()
    {
        Assert.Equal(1e10, ((GeneralLinearGroup)MatrixGroup.ForActivation(Activation.Identity, 4, 1e10)!).ConditionLimit);
        // LeakyReLU of slope 1 computes the identity: as a family it is homogeneous (positive scaling), reduced it is GL_h.
        Assert.Equal("positive scaling (α = 1) on ℝ^4", MatrixGroup.ForActivation(Activation.LeakyRelu(1), 4)?.Name);
        Assert.Equal("GL(4)", MatrixGroup.ForActivation(Activation.LeakyRelu(1).Reduced, 4)?.Name);
    }
}
