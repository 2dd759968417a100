using CsCheck;
using Noether.Autodiff;

namespace Noether.Tests.Autodiff;

/// <summary>
/// <see cref="Ops.PermuteIndex"/> (the index map behind Transpose and the other axis permutations of imported graphs)
/// against its definition: element (i₀, …, i_{r−1}) of the permuted tensor is element j of the source with j_{perm[d]} = i_d,
/// computed here by decoding every output position; and a second request (served from the kept maps) returns the same map.
/// </summary>
public class PermuteIndexTests
{
    private static readonly Gen<(int[] Shape, int[] Perm)> Cases =
        Gen.Int[1, 6].SelectMany(rank => Gen.Int[0, 5].Array[rank].SelectMany(shape =>
            Gen.Shuffle(Enumerable.Range(0, rank).ToArray()).Select(perm => (shape, perm))));

    [Fact]
    public void Map_equals_the_definition_and_a_repeated_request_returns_the_same_map() => Cases.Sample(c =>
    {
        var (index, outShape) = Ops.PermuteIndex(c.Shape, c.Perm);
        int rank = c.Shape.Length;
        Assert.Equal(c.Perm.Select(p => c.Shape[p]), outShape);
        int count = c.Shape.Aggregate(1, (a, b) => a * b);
        Assert.Equal(count, index.Length);
        var position = new int[rank];
        for (int i = 0; i < count; i++)
        {
            for (int d = rank - 1, rest = i; d >= 0; d--)
            {
                position[d] = rest % outShape[d];
                rest /= outShape[d];
            }
            var source = new int[rank];
            for (int d = 0; d < rank; d++) source[c.Perm[d]] = position[d];
            int flat = 0;
            for (int d = 0; d < rank; d++) flat = flat * c.Shape[d] + source[d];
            Assert.Equal(flat, index[i]);
        }
        var (again, againShape) = Ops.PermuteIndex(c.Shape, c.Perm);
        Assert.Equal(index, again);
        Assert.Equal(outShape, againShape);
    }, iter: 500, seed: "0N0XIDEW4Y50");
}
