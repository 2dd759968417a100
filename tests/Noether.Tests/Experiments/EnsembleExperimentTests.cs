using Noether.Attacks;
using Noether.Data;
using Noether.Ensembles;
using Noether.Experiments;
using Noether.Nn;
using Noether.Tensors;
using static Noether.Tests.Ensembles.EnsembleFixture;

namespace Noether.Tests.Experiments;

public class EnsembleExperimentTests
{
    private static readonly Lazy<(SpecCnn<float> Model, ImageDataset Train, ImageDataset Test)> Setup = new(() => TrainedSetup(51, 52, 120, 53));

    [Fact]
    public void EnsembleExperiment_Shards_ConcatenateToTheUnshardedRows()
    {
        // 5 builders × 3 ε = 15 points; every shard recomputes the shared hidden pre-activations and single accuracy.
        var (model, train, test) = Setup.Value;
        var settings = new EnsembleExperimentSettings(Epsilons: [1, 0, 0.3], TestLimit: 60, BatchSize: 32) { Ensemble = new(EnsembleBuilderKind.Group, 0, Members: 2, Seed: 6) };
        var whole = EnsembleExperiment.Run(model, train, test, settings);
        Assert.Equal(EnsembleExperiment.GridSize(settings), whole.Rows.Count);
        var shards = Enumerable.Range(1, 4).Select(i => EnsembleExperiment.Run(model, train, test, settings with { Shard = new Shard(i, 4) })).ToArray();
        Assert.Equal(whole.Rows, shards.SelectMany(r => r.Rows)); // record equality: every number equal, in grid order
        Assert.All(shards, r => Assert.Equal(whole.SingleAccuracy, r.SingleAccuracy));
        Assert.Equal([4, 4, 4, 3], shards.Select(r => r.Rows.Count));
        // Points differ (the equality above is not between copies of one row).
        Assert.NotEqual(whole.Rows[0].Epsilon, whole.Rows[1].Epsilon);
    }

    [Fact]
    public void EnsembleExperiment_RowsMatchIndependentlyBuiltEnsembles_AndEpsilonZeroChangesNothing()
    {
        var (model, train, test) = Setup.Value;
        var settings = new EnsembleExperimentSettings(Epsilons: [0.5, 0], TestLimit: 100, BatchSize: 32) { Ensemble = new(EnsembleBuilderKind.Group, 0, Members: 3, Seed: 4) };
        var reports = new List<EnsembleExperimentProgress>();
        var result = EnsembleExperiment.Run(model, train, test, settings, new InlineProgress<EnsembleExperimentProgress>(reports.Add));

        Assert.Equal(100, result.TestCount);
        Assert.Equal(10, result.Rows.Count);
        Assert.Equal(Enumerable.Range(1, 10), reports.Select(r => r.Done));
        var subset = test.Subset(0, 100);
        double single = Classifier.Evaluate(model, Minibatches.Create(subset, 100, null, shuffle: false));
        Assert.Equal(single, result.SingleAccuracy);
        foreach (var row in result.Rows)
        {
            // Second path: build the ensemble directly and evaluate it image batch by image batch.
            var ensemble = EnsembleBuilder.Build(model, train, settings.Options(row.Builder, row.Epsilon));
            Assert.Equal(ensemble.Accuracy(subset, EnsembleVote.Mode, batchSize: 17), row.Accuracy);
            Assert.Equal(row.Accuracy - single, row.AccuracyChange, 1e-12);
            Assert.Equal((3, 0), (row.Members, row.Rejected));
            if (row.Epsilon == 0 && row.Builder != EnsembleBuilderKind.Shuffle)
            {
                Assert.Equal(0, row.AccuracyChange);
                Assert.Equal(1, row.Agreement);
                Assert.Equal(single, row.MeanMemberAccuracy, 1e-12);
            }
        }
        // Builders in order, ε ascending within each.
        Assert.Equal([0, 0.5], result.Rows.Take(2).Select(r => r.Epsilon));
        Assert.Equal(["group", "group", "ginv"], result.Rows.Take(3).Select(r => r.Name));
    }

    [Fact]
    public void EnsembleExperiment_BatchDependentReading_WithBatchesUpToH_IsTheSingleModel()
    {
        // σ(gH)⁺σ(gH) = I_k for k ≤ h: the literal reading of Appendix H changes nothing, whatever ε.
        var (model, train, test) = Setup.Value;
        var settings = new EnsembleExperimentSettings([EnsembleBuilderKind.Group], [0.5, 2])
        {
            Ensemble = new(EnsembleBuilderKind.Group, 0, Members: 3, Reading: GroupActionReading.BatchDependent, PredictionBatchSize: Hidden),
        };
        var result = EnsembleExperiment.Run(model, train, test, settings);
        Assert.All(result.Rows, r => Assert.Equal((0.0, 1.0), (r.AccuracyChange, r.Agreement)));
        var wide = EnsembleExperiment.Run(model, train, test, settings with { Ensemble = settings.Ensemble with { PredictionBatchSize = 60 } });
        Assert.Contains(wide.Rows, r => r.Agreement < 1);
    }

    [Fact]
    public void AttackExperiment_Shards_ConcatenateToTheUnshardedRows()
    {
        // 4 attacks (grid items), PGD with random starts: each attack's starts come from (seed, attack index), so a
        // shard that skips the attacks before it draws the same starts.
        var (model, train, test) = Setup.Value;
        var attacks = new[] { LinfAttack.Fgsm(0.05), LinfAttack.Pgd(0.1, 0.025, 2), LinfAttack.Fgsm(0.1), LinfAttack.Pgd(0.05, 0.02, 3) };
        var settings = new AttackExperimentSettings([EnsembleBuilderKind.Group, EnsembleBuilderKind.Random], Attacks: attacks, TestLimit: 40, BatchSize: 16)
        {
            Ensemble = new(EnsembleBuilderKind.Group, 0.3, Members: 2, Seed: 4),
        };
        var whole = AttackExperiment.Run(model, train, test, settings);
        Assert.Equal(4, AttackExperiment.GridSize(settings));
        Assert.Equal(AttackExperiment.GridSize(settings) * AttackExperiment.RowsPerAttack(settings), whole.Rows.Count);
        var shards = Enumerable.Range(1, 3).Select(i => AttackExperiment.Run(model, train, test, settings with { Shard = new Shard(i, 3) })).ToArray();
        Assert.Equal(whole.Rows, shards.SelectMany(r => r.Rows)); // record equality: every accuracy equal, in grid order
        Assert.Equal([2, 1, 1], shards.Select(r => r.Rows.Count / AttackExperiment.RowsPerAttack(settings)));
        Assert.All(shards, r => Assert.Equal(whole.SingleAccuracy, r.SingleAccuracy));
        Assert.All(shards, r => Assert.Equal(whole.Ensembles, r.Ensembles));
        // Shard 3 alone (attack 4: PGD with random start) equals an independent perturbation with the item's seed.
        var pgd = LinfAttacks.Perturb(AttackTarget<float>.Model(model), test.Subset(0, 40), attacks[3], EnsembleBuilder.StreamSeed(4, 3, 4), batchSize: 16);
        var single = shards[2].Rows.First(r => r.Threat == ThreatModel.Transfer && r.Builder is null);
        Assert.Equal(EnsembleExperiment.Accuracy(Classifier.Predict(model, pgd.Images), pgd.Labels), single.Accuracy);
    }

    [Fact]
    public void AttackExperiment_StrengthZeroGivesCleanAccuracies_AndThreatModelsAreLabelled()
    {
        var (model, train, test) = Setup.Value;
        var builders = new[] { EnsembleBuilderKind.Group, EnsembleBuilderKind.PermutationInterpolation };
        var attacks = new[] { LinfAttack.Fgsm(0), LinfAttack.Fgsm(0.1), LinfAttack.Pgd(0, 0, 10), LinfAttack.Pgd(0.1, 0.025, 3) };
        var settings = new AttackExperimentSettings(builders, Attacks: attacks, TestLimit: 60, BatchSize: 25) { Ensemble = new(EnsembleBuilderKind.Group, 0.3, Members: 3, Seed: 2) };
        var result = AttackExperiment.Run(model, train, test, settings);

        Assert.Equal(2, result.Ensembles.Count);
        // Per attack and threat model: single + two ensembles.
        Assert.Equal(4 * 2 * 3, result.Rows.Count);
        var subset = test.Subset(0, 60);
        foreach (var row in result.Rows.Where(r => r.Attack.Epsilon == 0))
        {
            double clean = row.Builder is null ? result.SingleAccuracy : result.Ensembles.Single(e => e.Builder == row.Builder).CleanAccuracy;
            Assert.Equal(clean, row.Accuracy);
        }
        // The transfer rows of an ensemble are its accuracy on the single model's adversarial examples.
        var fgsm = LinfAttacks.Perturb(AttackTarget<float>.Model(model), subset, LinfAttack.Fgsm(0.1), seed: 0, batchSize: 25);
        var group = EnsembleBuilder.Build(model, train, settings.Options(EnsembleBuilderKind.Group));
        var transferRow = result.Rows.Single(r => r.Threat == ThreatModel.Transfer && r.Attack == LinfAttack.Fgsm(0.1) && r.Builder == EnsembleBuilderKind.Group);
        Assert.Equal(group.Accuracy(fgsm), transferRow.Accuracy);
        var adaptive = LinfAttacks.Perturb(AttackTarget<float>.Ensemble(group), subset, LinfAttack.Fgsm(0.1), seed: 0, batchSize: 25);
        var adaptiveRow = result.Rows.Single(r => r.Threat == ThreatModel.Adaptive && r.Attack == LinfAttack.Fgsm(0.1) && r.Builder == EnsembleBuilderKind.Group);
        Assert.Equal(group.Accuracy(adaptive), adaptiveRow.Accuracy);
        Assert.Equal(["transfer", "adaptive"], result.Rows.Select(r => r.ThreatName).Distinct());
        Assert.True(result.Rows.Where(r => r.Builder is null && r.Attack.Epsilon > 0).All(r => r.Accuracy < result.SingleAccuracy),
            "attacks with ε = 0.1 should lower the single model's accuracy");
        Assert.Equal("epsilon", result.StrengthAxis(AttackKind.Fgsm));
    }

    [Fact]
    public void AttackPresets_DefaultsAndPaperGrids()
    {
        var pgd = AttackPresets.Default.Where(a => a.Kind == AttackKind.Pgd).ToArray();
        Assert.Contains(LinfAttack.Pgd(), pgd);
        Assert.Equal((8.0 / 255, 2.0 / 255, 10, true), (LinfAttack.Pgd().Epsilon, LinfAttack.Pgd().StepSize, LinfAttack.Pgd().Steps, LinfAttack.Pgd().RandomStart));
        Assert.Equal([0, 0.003, 0.006, 0.009, 0.012], AttackPresets.Paper.Where(a => a.Kind == AttackKind.Fgsm).Select(a => a.Epsilon));
        Assert.Equal([0, 1, 2, 3], AttackPresets.Paper.Where(a => a.Kind == AttackKind.Pgd).Select(a => a.Steps));
        Assert.True(AttackExperiment.StepsAxis(AttackPresets.Paper, AttackKind.Pgd));
        Assert.False(AttackExperiment.StepsAxis(AttackPresets.Default, AttackKind.Pgd));
        Assert.Same(AttackPresets.Paper, AttackPresets.ByName("Paper"));
        Assert.Throws<ArgumentException>(() => AttackPresets.ByName("strong"));
    }

    [Fact]
    public void Experiments_BadInput_GiveClearArgumentExceptions()
    {
        var (model, train, test) = Setup.Value;
        Assert.Throws<ArgumentOutOfRangeException>(() => EnsembleExperiment.Run(model, train, test, new EnsembleExperimentSettings(Epsilons: [0.1, -1])));
        Assert.Throws<ArgumentOutOfRangeException>(() => EnsembleExperiment.Run(model, train, test, new EnsembleExperimentSettings { Ensemble = new(EnsembleBuilderKind.Group, 0, Members: 0) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => EnsembleExperiment.Run(model, train, test, new EnsembleExperimentSettings { Ensemble = new(EnsembleBuilderKind.Group, 0, CalibrationSize: Hidden + 1) }));
        Assert.Throws<ArgumentException>(() => EnsembleExperiment.Run(model, train, test, new EnsembleExperimentSettings(Epsilons: [])));
        var wrongClasses = new ImageDataset(test.Images, test.Labels, 10, null, "ten classes");
        var e1 = Assert.Throws<ArgumentException>(() => EnsembleExperiment.Run(model, train, wrongClasses, EnsembleExperimentSettings.Quick));
        Assert.Contains("10 classes", e1.Message);
        var wrongSize = new ImageDataset(Tensor<float>.Zeros(4, 1, 28, 28), new int[4], Classes, null, "28×28");
        var e2 = Assert.Throws<ArgumentException>(() => AttackExperiment.Run(model, train, wrongSize, AttackExperimentSettings.Quick));
        Assert.Contains("1×28×28", e2.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => AttackExperiment.Run(model, train, test,
            new AttackExperimentSettings(Attacks: [LinfAttack.Fgsm(-0.01)])));
        Assert.Throws<ArgumentOutOfRangeException>(() => AttackExperiment.Run(model, train, test, new AttackExperimentSettings { Ensemble = new(EnsembleBuilderKind.Group, -1) }));
        Assert.Throws<ArgumentException>(() => AttackExperiment.Run(model, train, test, new AttackExperimentSettings(ThreatModels: [])));
    }
}
