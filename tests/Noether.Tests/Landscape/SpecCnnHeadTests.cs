using Noether.Autodiff;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>The SPEC CNN's last two layers as a two-layer problem: same loss as the whole model, flat along the scaling orbit.</summary>
public class SpecCnnHeadTests
{
    private static (SpecCnn<double> Model, Tensor<double> Images, int[] Labels) Fixture() =>
        TinyCnn.Create(seed: 4, count: 7, imageSize: 6, classes: 3, channels: 2, hidden: 5);

    [Fact]
    public void Head_Loss_EqualsTheWholeModelsCrossEntropy()
    {
        var (model, images, labels) = Fixture();
        var head = new SpecCnnHead(model, images, labels);
        var tape = new Tape<double>();
        double expected = Ops.CrossEntropy(model.Forward(tape, tape.Constant(images)), labels).Value.ScalarValue;
        Close.Assert(expected, head.Loss(head.Parameters), 1e-12, 0, "head vs model");
        Assert.Equal([3, 5], head.Parameters.U.ShapeArray);
        Assert.Equal([5, 2 * 3 * 3 + 1], head.Parameters.V.ShapeArray);
    }

    [Fact]
    public void Head_GroupLineIsFlatAndDirectionsLeaveTheBiasAlone()
    {
        var (model, images, labels) = Fixture();
        var head = new SpecCnnHead(model, images, labels);
        var m = Valley.UnitSpeedGenerator(head.Group, head.Parameters, new Random(1));
        var line = Valley.GroupLine(head.Loss, head.Group, head.Parameters, m, Valley.Symmetric(1, 11));
        double l0 = head.Loss(head.Parameters);
        Assert.True(line.MaxDeviation <= 1e-12 * l0, $"deviation {line.MaxDeviation:E3}");
        var d = head.FilterNormalizedDirection(new Random(2));
        int f = head.Parameters.N - 1;
        for (int a = 0; a < head.Parameters.H; a++)
        {
            Assert.Equal(0.0, d.V[a, f]);
            double dn = 0, wn = 0;
            for (int j = 0; j < f; j++) { dn += d.V[a, j] * d.V[a, j]; wn += head.Parameters.V[a, j] * head.Parameters.V[a, j]; }
            Close.Assert(wn, dn, 1e-12, 0, $"row {a}");
        }
    }
}
