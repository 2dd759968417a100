using Noether.Ensembles;
using Noether.Tensors;

namespace Noether.Tests.Ensembles;

public class EnsembleVotingTests
{
    private static Tensor<double> Logits(double[,,] values)
    {
        int b = values.GetLength(0), n = values.GetLength(1), c = values.GetLength(2);
        var t = Tensor<double>.Zeros(b, n, c);
        for (int i = 0; i < b; i++)
            for (int m = 0; m < n; m++)
                for (int j = 0; j < c; j++) t.Data[(i * n + m) * c + j] = values[i, m, j];
        return t;
    }

    [Fact]
    public void Mode_MostVotedClassWins_TiesGoToTheSmallestClass()
    {
        var logits = Logits(new double[,,]
        {
            // votes 2, 1, 2, 0 → class 2
            { { 0, 1, 5 }, { 0, 3, 1 }, { 1, 0, 2 }, { 9, 0, 0 } },
            // votes 2, 1, 2, 1 → tie between 1 and 2 → 1
            { { 0, 1, 5 }, { 0, 3, 1 }, { 1, 0, 2 }, { 0, 4, 0 } },
            // equal logits inside a member → its first maximum (0); votes 0, 0, 2, 2 → 0
            { { 1, 1, 0 }, { 2, 0, 2 }, { 0, 0, 1 }, { 0, 0, 3 } },
        });
        Assert.Equal([2, 1, 0], EnsembleVoting.Combine(logits, EnsembleVote.Mode));
    }

    [Fact]
    public void MeanSoftmax_AveragesProbabilities_NotVotes()
    {
        // Two confident members for class 0 … and three lukewarm ones for class 1: the vote says 1, the mean softmax 0.
        var logits = Logits(new double[,,] { { { 10, 0 }, { 10, 0 }, { 0, 0.1 }, { 0, 0.1 }, { 0, 0.1 } } });
        Assert.Equal([1], EnsembleVoting.Combine(logits, EnsembleVote.Mode));
        Assert.Equal([0], EnsembleVoting.Combine(logits, EnsembleVote.MeanSoftmax));
        double p0 = (2 * (1 / (1 + Math.Exp(-10))) + 3 * (1 / (1 + Math.Exp(0.1)))) / 5;
        Assert.True(p0 > 0.5, $"mean probability of class 0 is {p0}");
    }

    [Fact]
    public void MembersWithNaN_DoNotVote_AndARowWithoutVotesIsNeverCorrect()
    {
        var logits = Logits(new double[,,]
        {
            { { double.NaN, 0 }, { 0, 1 }, { 0, 2 } },
            { { double.NaN, 0 }, { 0, double.NaN }, { double.NaN, 1 } },
        });
        Assert.Equal([1, -1], EnsembleVoting.Combine(logits, EnsembleVote.Mode));
        Assert.Equal([1, -1], EnsembleVoting.Combine(logits, EnsembleVote.MeanSoftmax));
        Assert.Throws<ArgumentException>(() => EnsembleVoting.Combine(Tensor<double>.Zeros(2, 3), EnsembleVote.Mode));
    }
}
