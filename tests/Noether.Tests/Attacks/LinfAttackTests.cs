using Noether.Attacks;
using Noether.Data;
using Noether.Ensembles;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Ensembles;
using Noether.Tests.Support;
using static Noether.Tests.Ensembles.EnsembleFixture;

namespace Noether.Tests.Attacks;

public class LinfAttackTests
{
    private static readonly Lazy<(SpecCnn<float> Model, ImageDataset Train, ImageDataset Test)> Setup = new(() => TrainedSetup(41, 42, 96, 43));

    /// <summary>Σᵢ CE(logitsᵢ, yᵢ) computed directly from logits in float64 (log-sum-exp).</summary>
    private static double SummedCrossEntropy(Tensor<double> logits, int[] labels)
    {
        int c = logits.Dim(1);
        double total = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            var row = logits.Data.AsSpan(i * c, c);
            double max = double.NegativeInfinity;
            foreach (double v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (double v in row) sum += Math.Exp(v - max);
            total += max + Math.Log(sum) - row[labels[i]];
        }
        return total;
    }

    private static void CheckGradient(AttackTarget<double> target, Func<Tensor<double>, Tensor<double>> logits, Tensor<double> x, int[] labels)
    {
        var analytic = target.LossGradient(x, labels);
        var rng = new Random(3);
        const double step = 1e-6;
        for (int trial = 0; trial < 24; trial++)
        {
            int i = rng.Next(x.Length);
            var plus = x.Clone();
            var minus = x.Clone();
            plus.Data[i] += step;
            minus.Data[i] -= step;
            double numeric = (SummedCrossEntropy(logits(plus), labels) - SummedCrossEntropy(logits(minus), labels)) / (2 * step);
            // Central differences: O(step²) truncation, O(1e-16/step) rounding on losses of order 10.
            Close.Assert(numeric, analytic.Data[i], 1e-6, 1e-8, $"∂loss/∂x[{i}]");
        }
    }

    [Fact]
    public void LossGradient_OfTheSingleModel_MatchesFiniteDifferences()
    {
        var model = SpecCnnCopy.Convert<float, double>(Setup.Value.Model);
        var (x, labels) = Setup.Value.Test.Gather<double>(Enumerable.Range(0, 5).ToArray());
        CheckGradient(AttackTarget<double>.Model(model), model.Predict, x, labels);
    }

    [Theory]
    [InlineData(3, 8)] // one chunk
    [InlineData(5, 2)] // chunks of 2, 2, 1: the gradient is accumulated over chunks
    [InlineData(1, 1)]
    public void LossGradient_OfTheEnsembleAveragedLogits_MatchesFiniteDifferences(int count, int membersPerChunk)
    {
        // Independent forward: the mean of the stand-alone member networks' logits.
        var model = SpecCnnCopy.Convert<float, double>(Setup.Value.Model);
        var ensemble = EnsembleBuilder.Build(model, Setup.Value.Train, new EnsembleOptions(EnsembleBuilderKind.Group, 0.3, Members: count, Seed: 1))
            .WithMembersPerChunk(membersPerChunk);
        Assert.Equal(count, ensemble.Count);
        var members = Enumerable.Range(0, ensemble.Count).Select(ensemble.MemberModel).ToArray();
        Tensor<double> Mean(Tensor<double> x)
        {
            var sum = members[0].Predict(x);
            foreach (var m in members.Skip(1)) sum = TensorOps.Binary(BinaryOp.Add, sum, m.Predict(x));
            return TensorOps.Binary(BinaryOp.Multiply, sum, 1.0 / members.Length);
        }
        var (x, labels) = Setup.Value.Test.Gather<double>(Enumerable.Range(0, 5).ToArray());
        CheckGradient(AttackTarget<double>.Ensemble(ensemble), Mean, x, labels);
    }

    [Theory]
    [InlineData(3, 8)]
    [InlineData(5, 2)]
    [InlineData(1, 1)]
    public void LossGradient_OfTheEnsembleMeanSoftmax_MatchesFiniteDifferences(int count, int membersPerChunk)
    {
        // Cross-entropy of log p̄ is −log p̄[y]; the "logits" handed to the check are log of the mean of the stand-alone
        // members' softmax outputs (the 1e-30 inside the target's log is far below these probabilities).
        var model = SpecCnnCopy.Convert<float, double>(Setup.Value.Model);
        var ensemble = EnsembleBuilder.Build(model, Setup.Value.Train, new EnsembleOptions(EnsembleBuilderKind.Random, 0.8, Members: count, Seed: 1))
            .WithMembersPerChunk(membersPerChunk);
        Assert.Equal(count, ensemble.Count);
        var members = Enumerable.Range(0, ensemble.Count).Select(ensemble.MemberModel).ToArray();
        Tensor<double> LogMeanSoftmax(Tensor<double> x)
        {
            var result = Tensor<double>.Zeros(x.Dim(0), Classes);
            foreach (var member in members)
            {
                var logits = member.Predict(x);
                for (int i = 0; i < x.Dim(0); i++)
                {
                    double max = Enumerable.Range(0, Classes).Max(j => logits[i, j]);
                    double sum = Enumerable.Range(0, Classes).Sum(j => Math.Exp(logits[i, j] - max));
                    for (int j = 0; j < Classes; j++) result[i, j] += Math.Exp(logits[i, j] - max) / sum / members.Length;
                }
            }
            for (int i = 0; i < result.Length; i++) result.Data[i] = Math.Log(result.Data[i]);
            return result;
        }
        var (x, labels) = Setup.Value.Test.Gather<double>(Enumerable.Range(0, 5).ToArray());
        CheckGradient(AttackTarget<double>.Ensemble(ensemble, EnsembleAttackLoss.AveragedProbabilities), LogMeanSoftmax, x, labels);
    }

    [Theory]
    [InlineData("spec_cnn.onnx")]
    [InlineData("mlp.onnx")]
    public void LossGradient_OfAnImportedGraph_GoesThroughTheWholeGraph(string file)
    {
        // Independent forward: the whole graph run by the graph executor (output 0), not the features + head the target uses;
        // the input gradient must include the features' nodes (conv, pool / the first Gemm), not only the head.
        var graph = HeadedModelTests.Zoo(file);
        var target = AttackTarget<double>.Model(HeadedModel<double>.Of(graph, [1, 28, 28]));
        var (x, labels) = HeadedModelTests.TieFree(0, 5);
        CheckGradient(target, t => graph.Evaluate(t)[0], x, labels);
    }

    [Fact]
    public void LossGradient_OfAnEnsembleOnAnImportedGraph_MatchesFiniteDifferences()
    {
        // mlp_teleport.onnx: Gemm → LeakyReLU(0.1) are the features, Gemm → LeakyReLU(0.1) → Gemm the head. (mlp.onnx's ReLU
        // head has units dead on every calibration image: σ(H₀) is singular and every group member is rejected.)
        var graph = HeadedModelTests.Zoo("mlp_teleport.onnx");
        var data = HeadedModelTests.ZooImages();
        var ensemble = EnsembleBuilder.Build(HeadedModel<double>.Of(graph, [1, 28, 28]), data, new EnsembleOptions(EnsembleBuilderKind.Group, 0.3, Members: 5, Seed: 4))
            .WithMembersPerChunk(2);
        Assert.Equal(5, ensemble.Count);
        Tensor<double> Mean(Tensor<double> x)
        {
            var members = ensemble.MemberLogits(x);
            int b = x.Dim(0), n = ensemble.Count, c = ensemble.Classes;
            var mean = Tensor<double>.Zeros(b, c);
            for (int i = 0; i < b; i++)
                for (int m = 0; m < n; m++)
                    for (int j = 0; j < c; j++) mean[i, j] += members.Data[(i * n + m) * c + j] / n;
            return mean;
        }
        var (x, labels) = HeadedModelTests.TieFree(10, 5);
        CheckGradient(AttackTarget<double>.Ensemble(ensemble), Mean, x, labels);
    }

    [Fact]
    public void Fgsm_IsTheClippedSignStep_AndRaisesTheLoss()
    {
        var model = SpecCnnCopy.Convert<float, double>(Setup.Value.Model);
        var target = AttackTarget<double>.Model(model);
        var (x, labels) = Setup.Value.Test.Gather<double>(Enumerable.Range(0, 16).ToArray());
        const double epsilon = 0.05;
        var adversarial = LinfAttacks.Fgsm(target, x, labels, epsilon);
        var g = target.LossGradient(x, labels);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(Math.Clamp(x.Data[i] + epsilon * Math.Sign(g.Data[i]), 0, 1), adversarial.Data[i]);
        // To first order the summed loss rises by ε‖g‖₁ for a small ε.
        var small = LinfAttacks.Fgsm(target, x, labels, 1e-3);
        Assert.True(SummedCrossEntropy(model.Predict(small), labels) > SummedCrossEntropy(model.Predict(x), labels));
    }

    [Fact]
    public void Fgsm_StrengthZero_GivesTheCleanImagesAndAccuracy()
    {
        var (model, _, test) = Setup.Value;
        var target = AttackTarget<float>.Model(model);
        var batch = LinfAttacks.Fgsm(target, test.Images, test.Labels, 0);
        Assert.Equal(test.Images.Data, batch.Data);
        var whole = LinfAttacks.Perturb(target, test, LinfAttack.Fgsm(0), seed: 0, batchSize: 40);
        Assert.Equal(test.Images.Data, whole.Images.Data);
        double clean = Classifier.Evaluate(model, Minibatches.Create(test, 50, null, shuffle: false));
        Assert.Equal(clean, Classifier.Evaluate(model, Minibatches.Create(whole, 50, null, shuffle: false)));
        Assert.True(clean > 0.5, $"the fixture model should beat chance (0.25): {clean:P1}");
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(8.0 / 255)]
    [InlineData(0.4)]
    public void Pgd_OneStepOfSizeEpsilonWithoutRandomStart_EqualsFgsm(double epsilon)
    {
        var (model, train, test) = Setup.Value;
        var ensemble = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Group, 0.3, Members: 3, Seed: 2));
        foreach (var target in new[] { AttackTarget<float>.Model(model), AttackTarget<float>.Ensemble(ensemble) })
        {
            var fgsm = LinfAttacks.Fgsm(target, test.Images, test.Labels, epsilon);
            var pgd = LinfAttacks.Pgd(target, test.Images, test.Labels, null, epsilon, stepSize: epsilon, steps: 1, randomStart: false);
            Assert.Equal(fgsm.Data, pgd.Data);
            Assert.NotEqual(test.Images.Data, pgd.Data);
        }
    }

    [Theory]
    [InlineData(8.0 / 255, 2.0 / 255, 10)]
    [InlineData(0.3, 0.1, 5)]
    [InlineData(0.003, 0.01, 3)]
    public void Pgd_EveryExampleLiesInTheEpsilonBallAndInTheUnitBox(double epsilon, double stepSize, int steps)
    {
        var (model, train, test) = Setup.Value;
        var ensemble = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Random, 0.3, Members: 3, Seed: 2));
        foreach (var target in new[] { AttackTarget<float>.Model(model), AttackTarget<float>.Ensemble(ensemble) })
        {
            var attacked = LinfAttacks.Perturb(target, test, LinfAttack.Pgd(epsilon, stepSize, steps), seed: 5, batchSize: 40);
            int moved = 0;
            for (int i = 0; i < test.Images.Length; i++)
            {
                double clean = test.Images.Data[i], adversarial = attacked.Images.Data[i];
                // Exact, in float64 arithmetic on the float32 values: no rounding allowance.
                Assert.True(Math.Abs(adversarial - clean) <= epsilon, $"pixel {i}: |{adversarial} − {clean}| > ε = {epsilon}");
                Assert.InRange(adversarial, 0, 1);
                if (adversarial != clean) moved++;
            }
            Assert.True(moved > test.Images.Length / 2, $"only {moved} of {test.Images.Length} pixels moved");
        }
    }

    [Fact]
    public void Perturb_DataSetInBatches_EqualsOneBatch_ForTheDeterministicFgsm()
    {
        // Each image's loss depends on that image only, so batching must not change FGSM.
        var (model, _, test) = Setup.Value;
        var target = AttackTarget<float>.Model(model);
        var whole = LinfAttacks.Fgsm(target, test.Images, test.Labels, 0.05);
        var batched = LinfAttacks.Perturb(target, test, LinfAttack.Fgsm(0.05), seed: 0, batchSize: 7);
        Assert.Equal(whole.Data, batched.Images.Data);
        Assert.Equal(test.Labels, batched.Labels);
        Assert.Contains("FGSM", batched.Source);
    }

    [Fact]
    public void Pgd_IsReproducibleFromItsSeed()
    {
        var (model, _, test) = Setup.Value;
        var target = AttackTarget<float>.Model(model);
        var a = LinfAttacks.Perturb(target, test, LinfAttack.Pgd(steps: 2), seed: 3, batchSize: 32);
        var b = LinfAttacks.Perturb(target, test, LinfAttack.Pgd(steps: 2), seed: 3, batchSize: 32);
        var c = LinfAttacks.Perturb(target, test, LinfAttack.Pgd(steps: 2), seed: 4, batchSize: 32);
        Assert.Equal(a.Images.Data, b.Images.Data);
        Assert.NotEqual(a.Images.Data, c.Images.Data);
    }

    [Fact]
    public void BadInput_GivesClearArgumentExceptions()
    {
        var (model, _, test) = Setup.Value;
        var target = AttackTarget<float>.Model(model);
        var x = test.Images;
        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => LinfAttacks.Fgsm(target, x, test.Labels, -0.1));
        Assert.Contains("epsilon", e1.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LinfAttacks.Fgsm(target, x, test.Labels, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinfAttacks.Pgd(target, x, test.Labels, new Random(1), steps: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinfAttacks.Pgd(target, x, test.Labels, new Random(1), stepSize: -0.01));
        Assert.Throws<ArgumentNullException>(() => LinfAttacks.Pgd(target, x, test.Labels, null));
        Assert.Throws<ArgumentException>(() => LinfAttacks.Perturb(target, x, test.Labels, new LinfAttack(AttackKind.Fgsm, 0.1, 0.1, 2, false)));
        Assert.Throws<ArgumentException>(() => LinfAttacks.Fgsm(target, x, test.Labels[1..], 0.1));
        var outside = x.Clone();
        outside.Data[5] = 1.5f;
        var e2 = Assert.Throws<ArgumentException>(() => LinfAttacks.Fgsm(target, outside, test.Labels, 0.1));
        Assert.Contains("[0, 1]", e2.Message);
        var literal = EnsembleBuilder.Build(model, null, new EnsembleOptions(EnsembleBuilderKind.Group, 0.3, Members: 2, Reading: GroupActionReading.BatchDependent));
        Assert.Throws<ArgumentException>(() => AttackTarget<float>.Ensemble(literal));
        var e3 = Assert.Throws<ArgumentException>(() => LinfAttacks.Fgsm(target, Tensor<float>.Zeros(3, 1, 6, 6), [0, 1, 2], 0.1));
        Assert.Contains("[B, 1, 8, 8]", e3.Message);
    }
}
