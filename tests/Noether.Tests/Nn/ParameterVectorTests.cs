using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Tests.Nn;

public class ParameterVectorTests
{
    private static Parameter<double>[] Parameters() =>
    [
        new("a", Tensor<double>.FromDoubles([1, 2, 3, 4, 5, 6], 2, 3)),
        new("b", Tensor<double>.FromDoubles([7], 1)),
        new("c", Tensor<double>.FromDoubles([8, 9, 10, 11], 1, 2, 2)),
    ];

    [Fact]
    public void Flatten_ConcatenatesInRegistrationOrderRowMajor()
    {
        var p = Parameters();
        Assert.Equal(11, ParameterVector.Count(p));
        Assert.Equal(Enumerable.Range(1, 11).Select(i => (double)i), ParameterVector.Flatten(p));
    }

    [Fact]
    public void Assign_ThenFlatten_RoundTrips()
    {
        var p = Parameters();
        var theta = Enumerable.Range(0, 11).Select(i => -0.5 * i).ToArray();
        ParameterVector.Assign(p, theta);
        Assert.Equal(theta, ParameterVector.Flatten(p));
        Assert.Equal(-0.5 * 6, p[1].Value[0]);
        Assert.Equal(-0.5 * 10, p[2].Value.Data[3]);
    }

    [Fact]
    public void Unflatten_GivesTensorsShapedLikeParameters()
    {
        var p = Parameters();
        var parts = ParameterVector.Unflatten<double>(ParameterVector.Flatten(p), p);
        for (int i = 0; i < p.Length; i++)
        {
            Assert.Equal(p[i].Value.ShapeArray, parts[i].ShapeArray);
            Assert.Equal(p[i].Value.Data, parts[i].Data);
            Assert.NotSame(p[i].Value.Data, parts[i].Data);
        }
    }

    [Fact]
    public void Assign_WrongLength_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => ParameterVector.Assign<double>(Parameters(), new double[10]));
        Assert.Contains("10 values", ex.Message);
        Assert.Contains("11 scalars", ex.Message);
    }

    [Fact]
    public void AssignTensors_ShapeMismatch_NamesParameter()
    {
        var p = Parameters();
        var values = p.Select(x => x.Value.Clone()).ToArray();
        values[2] = Tensor<double>.Zeros(2, 2);
        var ex = Assert.Throws<ArgumentException>(() => ParameterVector.Assign(p, values));
        Assert.Contains("c", ex.Message);
        Assert.Contains("1×2×2", ex.Message);
    }
}
