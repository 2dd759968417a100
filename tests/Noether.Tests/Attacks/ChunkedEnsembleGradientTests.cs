using System.Numerics;
using Noether.Attacks;
using Noether.Data;
using Noether.Ensembles;
using Noether.Nn;
using Noether.Tensors;
using static Noether.Tests.Ensembles.EnsembleFixture;

namespace Noether.Tests.Attacks;

/// <summary>
/// The adaptive attack's gradient goes through the ensemble's mean member chunk by member chunk
/// (<see cref="Ensemble{T}.WithMembersPerChunk"/>) instead of through one graph over all members. The reference here is
/// that one graph: the public <see cref="AttackTarget{T}"/> constructor on <see cref="Ensemble{T}.AverageLogits"/> or
/// <see cref="Ensemble{T}.LogMeanProbabilities"/> of the same ensemble held as a single chunk, which records exactly the
/// computation the attack used before (all heads as one block-diagonal product, then the averaging product).
/// </summary>
public class ChunkedEnsembleGradientTests
{
    private static readonly Lazy<(SpecCnn<float> Model, ImageDataset Train, ImageDataset Test)> Setup = new(() => TrainedSetup(51, 52, 64, 53));

    /// <summary>The old path: one graph through every member (the ensemble as one chunk), cross-entropy, backward.</summary>
    private static AttackTarget<T> FullGraph<T>(Ensemble<T> ensemble, EnsembleAttackLoss loss) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var whole = ensemble.WithMembersPerChunk(ensemble.Count);
        return loss == EnsembleAttackLoss.AveragedLogits
            ? new AttackTarget<T>("full graph, averaged logits", whole.AverageLogits)
            : new AttackTarget<T>("full graph, mean softmax", whole.LogMeanProbabilities);
    }

    private static double MaxAbs<T>(Tensor<T> t) where T : unmanaged, IFloatingPointIeee754<T> =>
        t.Data.Max(v => Math.Abs(double.CreateTruncating(v)));

    /// <summary>max |a − b| over max |b|: an error relative to the gradient's scale (elements near 0 are not singled out).</summary>
    private static double ScaledError<TA, TB>(Tensor<TA> a, Tensor<TB> b)
        where TA : unmanaged, IFloatingPointIeee754<TA> where TB : unmanaged, IFloatingPointIeee754<TB>
    {
        double diff = 0;
        for (int i = 0; i < a.Length; i++) diff = Math.Max(diff, Math.Abs(double.CreateTruncating(a.Data[i]) - double.CreateTruncating(b.Data[i])));
        return diff / MaxAbs(b);
    }

    [Theory]
    [InlineData(EnsembleAttackLoss.AveragedLogits, 1, 1)]
    [InlineData(EnsembleAttackLoss.AveragedLogits, 5, 2)]
    [InlineData(EnsembleAttackLoss.AveragedLogits, 7, 3)]
    [InlineData(EnsembleAttackLoss.AveragedLogits, 7, 4)]
    [InlineData(EnsembleAttackLoss.AveragedProbabilities, 1, 1)]
    [InlineData(EnsembleAttackLoss.AveragedProbabilities, 5, 2)]
    [InlineData(EnsembleAttackLoss.AveragedProbabilities, 7, 3)]
    [InlineData(EnsembleAttackLoss.AveragedProbabilities, 7, 4)]
    public void ChunkedGradient_EqualsTheFullGraphGradient_InDouble(EnsembleAttackLoss loss, int count, int membersPerChunk)
    {
        // Group members (calibrated π, the ill-conditioned construction) in float64. The two computations differ only in
        // the order of the sums over members (the mean, and ∂L/∂H accumulated per chunk), so they agree to a few float64
        // ulps of the gradient's scale (measured ≤ 3.2e-16); 1e-13 (~500 ulps) allows for cancellation in other draws,
        // while a missing or doubled member would err by O(1/N).
        var model = SpecCnnCopy.Convert<float, double>(Setup.Value.Model);
        var ensemble = EnsembleBuilder.Build(model, Setup.Value.Train, new EnsembleOptions(EnsembleBuilderKind.Group, 0.3, Members: count, Seed: 7));
        Assert.Equal(count, ensemble.Count);
        var (x, labels) = Setup.Value.Test.Gather<double>(Enumerable.Range(0, 12).ToArray());
        var expected = FullGraph(ensemble, loss).LossGradient(x, labels);
        var chunked = AttackTarget<double>.Ensemble(ensemble.WithMembersPerChunk(membersPerChunk), loss).LossGradient(x, labels);
        Assert.True(MaxAbs(expected) > 0, "the reference gradient vanishes: the check would be empty");
        double error = ScaledError(chunked, expected);
        Assert.True(error < 1e-13, $"chunked vs full graph: scaled error {error:E2}");
    }

    [Theory]
    [InlineData(EnsembleAttackLoss.AveragedLogits)]
    [InlineData(EnsembleAttackLoss.AveragedProbabilities)]
    public void ChunkedGradient_InFloat32_IsAsAccurateAsTheFullGraph(EnsembleAttackLoss loss)
    {
        // Random-scaling members do not depend on the precision they are built in, so the float32 and float64 ensembles
        // hold the same (A, U) up to the one rounding to float32. Against the float64 gradient, the float32 full graph
        // errs by float32 rounding only (measured 1–5 ulps of 2⁻²⁴ relative to the gradient's scale); the chunked one sums
        // the same terms in another order, so it must be as accurate: within 16 ulps, where a wrong or missing member
        // term would err by O(1/N).
        var (model32, train, test) = Setup.Value;
        var model64 = SpecCnnCopy.Convert<float, double>(model32);
        var options = new EnsembleOptions(EnsembleBuilderKind.Random, 0.8, Members: 7, Seed: 3);
        var e32 = EnsembleBuilder.Build(model32, train, options);
        var e64 = EnsembleBuilder.Build(model64, train, options);
        Assert.Equal(7, e32.Count);
        int[] indices = [.. Enumerable.Range(0, 12)];
        var (x32, labels) = test.Gather<float>(indices);
        var (x64, _) = test.Gather<double>(indices);
        var exact = AttackTarget<double>.Ensemble(e64, loss).LossGradient(x64, labels);
        double full = ScaledError(FullGraph(e32, loss).LossGradient(x32, labels), exact);
        double chunked = ScaledError(AttackTarget<float>.Ensemble(e32.WithMembersPerChunk(3), loss).LossGradient(x32, labels), exact);
        double bound = 16 * Math.Pow(2, -24);
        Assert.True(full <= bound, $"the float32 full graph errs by {full:E2} against float64: the reference is off");
        Assert.True(chunked <= bound, $"float32 errors against float64: chunked {chunked:E2}, full graph {full:E2}");
    }

    [Theory]
    [InlineData(EnsembleAttackLoss.AveragedLogits)]
    [InlineData(EnsembleAttackLoss.AveragedProbabilities)]
    public void AdaptivePgd_GivesTheFullGraphAccuracy_ForAFixedSeed(EnsembleAttackLoss loss)
    {
        // The attack uses only the sign of each gradient entry, so the chunked gradient must lead PGD to the same
        // adversarial images (a sign can only differ where an entry is within rounding of 0) and the same accuracy.
        var (model, train, test) = Setup.Value;
        var ensemble = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Group, 0.3, Members: 7, Seed: 5));
        var attack = LinfAttack.Pgd(0.1, 0.025, steps: 5);
        var old = LinfAttacks.Perturb(FullGraph(ensemble, loss), test, attack, seed: 9, batchSize: 32);
        var chunked = LinfAttacks.Perturb(AttackTarget<float>.Ensemble(ensemble.WithMembersPerChunk(3), loss), test, attack, seed: 9, batchSize: 32);
        double clean = ensemble.Accuracy(test), before = ensemble.Accuracy(old), after = ensemble.Accuracy(chunked);
        Assert.True(before < clean, $"the attack should lower the accuracy ({clean:P1} → {before:P1}) for the comparison to mean something");
        Assert.Equal(before, after);
        int differing = 0;
        for (int i = 0; i < old.Images.Length; i++) if (old.Images.Data[i] != chunked.Images.Data[i]) differing++;
        Assert.True(differing <= old.Images.Length / 1000, $"{differing} of {old.Images.Length} adversarial pixels differ");
    }

    [Fact]
    public void MemberLogitsAndVotes_DoNotDependOnTheChunkSize()
    {
        // More rows than one block of the heads, so PredictFromHidden streams; the member logits of 3-member chunks equal
        // those of one chunk up to float32 rounding of the same sums (each logit is a sum over h = 6 products).
        var (model, train, _) = Setup.Value;
        var ensemble = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Group, 0.3, Members: 7, Seed: 11));
        var images = Images(Ensemble<float>.RowsPerBlock + 77, 54);
        var hidden = ensemble.HiddenPreActivations(images.Images);
        var whole = ensemble.WithMembersPerChunk(ensemble.Count).MemberLogitsFromHidden(hidden);
        var chunked = ensemble.WithMembersPerChunk(3).MemberLogitsFromHidden(hidden);
        Assert.Equal(whole.ShapeArray, chunked.ShapeArray);
        double error = ScaledError(chunked, whole);
        Assert.True(error < 1e-6, $"member logits, 3-member chunks vs one chunk: scaled error {error:E2}");
        foreach (var vote in new[] { EnsembleVote.Mode, EnsembleVote.MeanSoftmax })
            Assert.Equal(EnsembleVoting.Combine(chunked, vote), ensemble.WithMembersPerChunk(3).PredictFromHidden(hidden, vote));
    }
}
