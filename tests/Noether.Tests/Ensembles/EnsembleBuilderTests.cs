using Noether.Ensembles;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;
using Noether.Tests.Support;
using static Noether.Tests.Ensembles.EnsembleFixture;

namespace Noether.Tests.Ensembles;

public class EnsembleBuilderTests
{
    private static readonly Lazy<(SpecCnn<float> Model, Noether.Data.ImageDataset Train, Noether.Data.ImageDataset Test)> Setup = new(() => TrainedSetup(1, 2, 64, 3));

    private static SpecCnn<double> Model64 => SpecCnnCopy.Convert<float, double>(Setup.Value.Model);

    [Fact]
    public void Group_OnItsCalibrationBatch_MemberEqualsTheModel_ToFloat64Rounding_AndDiffersElsewhere()
    {
        // Issue 5 acceptance: ≤ 1e-8 relative on the calibration batch (float64 copy of the trained float32 model).
        var model = Model64;
        var (_, train, test) = Setup.Value;
        var ensemble = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Group, 0.5, Members: 4, Seed: 7));
        Assert.Equal(4, ensemble.Count);
        for (int m = 0; m < ensemble.Count; m++)
        {
            var member = ensemble.Members[m];
            Assert.Equal(Hidden, member.CalibrationIndices.Length);
            var (calibration, _) = train.Gather<double>(member.CalibrationIndices);
            var expected = model.Predict(calibration);
            // Two independent evaluations: the stand-alone member network and the shared-trunk ensemble.
            double standAlone = RelativeError(expected, ensemble.MemberModel(m).Predict(calibration));
            double shared = RelativeError(expected, Member(ensemble.MemberLogits(calibration), m));
            Assert.True(standAlone <= 1e-8, $"member {m}: stand-alone relative error {standAlone:E2} (condition {member.ConditionNumber:E2})");
            Assert.True(shared <= 1e-8, $"member {m}: ensemble relative error {shared:E2}");

            var (other, _) = test.Gather<double>(Enumerable.Range(0, 32).ToArray());
            double elsewhere = RelativeError(model.Predict(other), ensemble.MemberModel(m).Predict(other));
            Assert.True(elsewhere > 1e-3, $"member {m}: off the calibration batch the outputs should change, relative difference {elsewhere:E2}");
        }
    }

    [Fact]
    public void Pi_AgreesWithTheSymmetryModulesNonlinearAction()
    {
        // Second implementation: NonlinearAction.Pi (MathNet SVD) on the same H₀ and g.
        var rng = new Random(5);
        var h0 = Gaussian.Matrix(rng, Hidden, Hidden);
        var g = EnsembleBuilder.GroupElement(Gaussian.Matrix(rng, Hidden, Hidden, 0.4), 1.0, GroupElementForm.IdentityPlus);
        var sigma = Activation.LeakyRelu(0.1);
        var (pi, condition, regularised) = EnsembleBuilder.Pi(h0, g, sigma, 1e8, regularise: false);
        var reference = new NonlinearAction(sigma).Pi(g, h0);
        Assert.False(regularised);
        Close.Assert(reference.ConditionNumber, condition, 1e-8);
        Close.Assert(reference.Pi, pi!, 1e-12 * condition, 1e-12 * condition);
    }

    [Theory]
    [InlineData(EnsembleBuilderKind.Group)]
    [InlineData(EnsembleBuilderKind.GroupInverse)]
    [InlineData(EnsembleBuilderKind.Random)]
    [InlineData(EnsembleBuilderKind.PermutationInterpolation)]
    public void EpsilonZero_Builder_ReproducesTheModelEverywhere(EnsembleBuilderKind builder)
    {
        // g = g' = P = I at ε = 0; for group π(I, H₀) = σ(H₀)σ(H₀)⁻¹ = I when k = h (up to cond·rounding).
        var model = Model64;
        var (_, train, test) = Setup.Value;
        var ensemble = EnsembleBuilder.Build(model, train, new EnsembleOptions(builder, 0, Members: 3, Seed: 1));
        var (x, _) = test.Gather<double>(Enumerable.Range(0, 40).ToArray());
        var expected = model.Predict(x);
        var logits = ensemble.MemberLogits(x);
        for (int m = 0; m < 3; m++)
        {
            double tolerance = 1e-14 * Math.Max(1, ensemble.Members[m].ConditionNumber) + 1e-14;
            double error = RelativeError(expected, Member(logits, m));
            Assert.True(error <= tolerance, $"{builder} member {m}: relative error {error:E2} > {tolerance:E2}");
        }
        Assert.Equal(Classifier.Predict(model, x), ensemble.Predict(x));
    }

    [Fact]
    public void MemberLogitsFromHidden_MoreRowsThanOneBlock_EqualTheLogitsOfEachRowAlone()
    {
        // Above Ensemble.RowsPerBlock rows the heads run block by block; each row's logits must not depend on the block
        // it fell in (the calibrated reading is row-wise), so one row at a time is an independent reference.
        var (_, train, _) = Setup.Value;
        var ensemble = EnsembleBuilder.Build(Model64, train, new EnsembleOptions(EnsembleBuilderKind.Group, 0.3, Members: 3, Seed: 2));
        int rows = 2 * Ensemble<double>.RowsPerBlock + 37, h = ensemble.Hidden;
        var rng = new Random(5);
        var hidden = new Tensor<double>(Enumerable.Range(0, rows * h).Select(_ => rng.NextDouble() * 4 - 2).ToArray(), rows, h);
        var all = ensemble.MemberLogitsFromHidden(hidden);
        Assert.Equal([rows, ensemble.Count, ensemble.Classes], all.Shape);
        foreach (int r in new[] { 0, 1, Ensemble<double>.RowsPerBlock - 1, Ensemble<double>.RowsPerBlock, Ensemble<double>.RowsPerBlock + 1, rows - 1 })
        {
            var one = ensemble.MemberLogitsFromHidden(new Tensor<double>(hidden.Data.AsSpan(r * h, h).ToArray(), 1, h));
            for (int m = 0; m < ensemble.Count; m++)
                for (int c = 0; c < ensemble.Classes; c++)
                    {
                    double expected = one.Data[m * ensemble.Classes + c], actual = all.Data[(r * ensemble.Count + m) * ensemble.Classes + c];
                    Assert.True(Math.Abs(expected - actual) <= 1e-12 * (1 + Math.Abs(expected)), $"row {r}, member {m}, class {c}: {actual} vs {expected}");
                }
        }
    }

    [Fact]
    public void Shuffle_AtEpsilonZero_IsTheModelWithTheIdentitysEntriesPermuted()
    {
        // SPEC: π' is π with its entries randomly permuted. At ε = 0, π = I, so U' = U·S' with S' a 0/1 matrix holding
        // h ones at random places — not the model (shuffle is the control that destroys π's structure).
        // With classes ≥ h, U has full column rank and S' = U⁺(U S') can be read back from the member.
        var (model, train) = WideOutputModel();
        var ensemble = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Shuffle, 0, Members: 3, Seed: 1));
        var u = model.Output.Weight.Value;
        const int h = 4;
        foreach (var member in ensemble.Members)
        {
            var shuffled = RecoverRight(u, member.OutputWeight);
            var entries = shuffled.Data.Select(v => Math.Round(v, 6)).ToArray();
            Assert.Equal(h, entries.Count(v => v == 1));
            Assert.Equal(h * h - h, entries.Count(v => v == 0));
            Assert.NotEqual(Tensor<double>.Identity(h).Data, entries);
        }
    }

    [Fact]
    public void Shuffle_PermutesTheEntriesOfTheGroupMembersPi()
    {
        // π = U⁺(Uπ) can be read back from a member of the wide-output model. Group and shuffle
        // with the same seed share g and H₀ member by member, so shuffle's π' must hold exactly π's entries, moved.
        var (model, train) = WideOutputModel();
        var group = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Group, 0.3, Members: 3, Seed: 4));
        var shuffle = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Shuffle, 0.3, Members: 3, Seed: 4));
        var u = model.Output.Weight.Value;
        for (int m = 0; m < 3; m++)
        {
            Assert.Equal(group.Members[m].CalibrationIndices, shuffle.Members[m].CalibrationIndices);
            Assert.Equal(group.Members[m].HiddenTransform.Data, shuffle.Members[m].HiddenTransform.Data);
            var pi = RecoverRight(u, group.Members[m].OutputWeight);
            var piShuffled = RecoverRight(u, shuffle.Members[m].OutputWeight);
            Close.Assert(pi.Data.Order().ToArray(), piShuffled.Data.Order().ToArray(), 1e-9, 1e-9);
            Assert.True(RelativeError(pi, piShuffled) > 1e-3, "the shuffled π should differ from π");
        }
    }

    [Fact]
    public void InterpolatedPermutation_HandMadeCase_MatchesTheSpecFormula()
    {
        // P = (I + (ε/2)(I + S))/(1 + ε), S[i, p[i]] = 1; ε = 1, p = (1, 2, 0): diagonal (1 + ½)/2, S entries ½/2.
        var p = EnsembleBuilder.InterpolatedPermutation([1, 2, 0], 1.0);
        Close.Assert(Tensor<double>.FromArray(new[,] { { 0.75, 0.25, 0 }, { 0, 0.75, 0.25 }, { 0.25, 0, 0.75 } }), p, 1e-15);
        // A fixed point of the permutation leaves its row as the identity's: (1 + ε)/(1 + ε) = 1.
        var q = EnsembleBuilder.InterpolatedPermutation([0, 2, 1], 3.0);
        Close.Assert(Tensor<double>.FromArray(new[,] { { 1, 0, 0 }, { 0, 2.5 / 4, 1.5 / 4 }, { 0, 1.5 / 4, 2.5 / 4 } }), q, 1e-15);
        Assert.Throws<ArgumentException>(() => EnsembleBuilder.InterpolatedPermutation([0, 0, 1], 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => EnsembleBuilder.InterpolatedPermutation([0, 1], -0.5));
    }

    [Fact]
    public void PermInterpMember_IsUPInverseAndPV_WithAPermutationStructuredP()
    {
        var model = Model64;
        const double epsilon = 2.0;
        var ensemble = EnsembleBuilder.Build(model, null, new EnsembleOptions(EnsembleBuilderKind.PermutationInterpolation, epsilon, Members: 3, Seed: 2));
        var u = model.Output.Weight.Value;
        foreach (var member in ensemble.Members)
        {
            var p = member.HiddenTransform;
            // P − I/(1+ε) − (ε/2)I/(1+ε) = (ε/2)S/(1+ε): a permutation matrix times ε/(2(1+ε)).
            var s = Tensor<double>.Zeros(Hidden, Hidden);
            for (int i = 0; i < Hidden; i++)
                for (int j = 0; j < Hidden; j++)
                    s[i, j] = (p[i, j] - (i == j ? (1 + epsilon / 2) / (1 + epsilon) : 0)) * 2 * (1 + epsilon) / epsilon;
            for (int i = 0; i < Hidden; i++)
            {
                Assert.Equal(1, Enumerable.Range(0, Hidden).Count(j => Math.Abs(s[i, j] - 1) < 1e-12));
                Assert.Equal(1, Enumerable.Range(0, Hidden).Count(j => Math.Abs(s[j, i] - 1) < 1e-12));
            }
            Close.Assert(u, TensorOps.MatMul(member.OutputWeight, p), 1e-12, 1e-14);
        }
    }

    [Fact]
    public void GroupInverse_IsAnExactSymmetryForLinearSigma_IncludingTheHiddenBias()
    {
        // LeakyReLU with slope 1 is the identity, whose symmetry group is GL_h (Ex. 2): (U g⁻¹, gV, gb) must reproduce
        // the model on any data. A hidden bias left untransformed would break this.
        var train = Images(64, 21);
        var model = SpecCnnCopy.Convert<float, double>(Untrained(22, slope: 1.0));
        var ensemble = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.GroupInverse, 0.8, Members: 3, Seed: 3));
        var (x, _) = Images(30, 23).Gather<double>(Enumerable.Range(0, 30).ToArray());
        var expected = model.Predict(x);
        for (int m = 0; m < 3; m++)
        {
            double error = RelativeError(expected, ensemble.MemberModel(m).Predict(x));
            Assert.True(error <= 1e-12 * ensemble.Members[m].ConditionNumber, $"member {m}: {error:E2}");
        }
        // For linear σ and k = h, π(g, H₀) = H₀(gH₀)⁻¹ = g⁻¹: the group member is the g⁻¹ member.
        var group = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Group, 0.8, Members: 3, Seed: 3));
        for (int m = 0; m < 3; m++)
            Close.Assert(ensemble.Members[m].OutputWeight, group.Members[m].OutputWeight, 1e-9 * group.Members[m].ConditionNumber, 1e-12);
    }

    [Fact]
    public void Random_ScalesTheColumnsOfU_AndKeepsG()
    {
        var model = Model64;
        const double epsilon = 0.5;
        var ginv = EnsembleBuilder.Build(model, null, new EnsembleOptions(EnsembleBuilderKind.GroupInverse, epsilon, Members: 2, Seed: 9));
        var random = EnsembleBuilder.Build(model, null, new EnsembleOptions(EnsembleBuilderKind.Random, epsilon, Members: 2, Seed: 9));
        var u = model.Output.Weight.Value;
        for (int m = 0; m < 2; m++)
        {
            Assert.Equal(ginv.Members[m].HiddenTransform.Data, random.Members[m].HiddenTransform.Data);
            var w = random.Members[m].OutputWeight;
            // U g' with g' = I + εD: column j of U times one factor 1 + ε d_j, the same for every row.
            for (int j = 0; j < Hidden; j++)
            {
                double factor = w[0, j] / u[0, j];
                for (int i = 1; i < Classes; i++) Close.Assert(factor, w[i, j] / u[i, j], 1e-12);
            }
        }
    }

    [Fact]
    public void ExponentialForm_IsTheMatrixExponential_AndEpsilonZeroIsTheIdentity()
    {
        var m = Gaussian.Matrix(new Random(3), 5, 5, 0.3);
        Close.Assert(new GeneralLinearGroup(5).Exp(m, 0.7), EnsembleBuilder.GroupElement(m, 0.7, GroupElementForm.Exponential), 1e-14);
        Close.Assert(Tensor<double>.Identity(5), EnsembleBuilder.GroupElement(m, 0, GroupElementForm.IdentityPlus), 0);
        var g = EnsembleBuilder.GroupElement(m, 0.7, GroupElementForm.IdentityPlus);
        for (int i = 0; i < 25; i++) Assert.Equal((i % 6 == 0 ? 1 : 0) + 0.7 * m.Data[i], g.Data[i], 1e-15);
    }

    [Fact]
    public void Build_SameSeed_SameMembers_OtherSeed_OtherMembers()
    {
        var (model, train, _) = Setup.Value;
        var options = new EnsembleOptions(EnsembleBuilderKind.Group, 0.2, Members: 2, Seed: 5);
        var a = EnsembleBuilder.Build(model, train, options);
        var b = EnsembleBuilder.Build(model, train, options);
        var c = EnsembleBuilder.Build(model, train, options with { Seed = 6 });
        Assert.Equal(a.Members[1].OutputWeight.Data, b.Members[1].OutputWeight.Data);
        Assert.Equal(a.Members[1].CalibrationIndices, b.Members[1].CalibrationIndices);
        Assert.NotEqual(a.Members[1].CalibrationIndices, c.Members[1].CalibrationIndices);
    }

    [Fact]
    public void IllConditionedCalibration_IsRejectedOrRegularised_AndCounted()
    {
        // Identical calibration images make σ(gH₀) rank one: every member's π is ill-conditioned.
        var one = Images(1, 31);
        var repeated = one.Take(Enumerable.Repeat(0, 20).ToArray());
        var model = Setup.Value.Model;
        var options = new EnsembleOptions(EnsembleBuilderKind.Group, 0.3, Members: 3, Seed: 1);
        var rejected = EnsembleBuilder.Build(model, repeated, options);
        Assert.Equal((0, 3, 0), (rejected.Count, rejected.Rejected, rejected.Regularised));
        var error = Assert.Throws<InvalidOperationException>(() => rejected.Predict(one.Images));
        Assert.Contains("rejected", error.Message);

        var regularised = EnsembleBuilder.Build(model, repeated, options with { Policy = IllConditionedPolicy.Regularise });
        Assert.Equal((3, 0, 3), (regularised.Count, regularised.Rejected, regularised.Regularised));
        Assert.All(regularised.Members, m => Assert.True(m.OutputWeight.AllFinite()));
        Assert.True(regularised.MemberLogits(one.Images).AllFinite());

        // A limit below the members' condition numbers rejects well-posed members too.
        var strict = EnsembleBuilder.Build(model, Setup.Value.Train, options with { ConditionLimit = 1 });
        Assert.Equal(3, strict.Rejected);
    }

    [Fact]
    public void WeightsBeyondTheModelsPrecision_AreRejectedAndCounted_NotTurnedIntoNaNVotes()
    {
        // random at ε = 1e40: U's columns are scaled by 1 + ε·d, |ε·d| ~ 1e39 > float32's 3.4e38 but < float64's 1.8e308.
        // The float64 members are finite and kept; in float32 the same weights would be ∞ (∞ − ∞ = NaN logits), so the
        // float32 build must reject every member and say so.
        var options = new EnsembleOptions(EnsembleBuilderKind.Random, 1e40, Members: 4, Seed: 2);
        var in64 = EnsembleBuilder.Build(Model64, null, options);
        Assert.Equal((4, 0), (in64.Count, in64.Rejected));
        double largest = in64.Members.Max(m => m.OutputWeight.Data.Max(Math.Abs));
        Assert.InRange(largest, float.MaxValue, double.MaxValue); // the premise: these weights overflow float32
        var in32 = EnsembleBuilder.Build(Setup.Value.Model, null, options);
        Assert.Equal((0, 4), (in32.Count, in32.Rejected));

        // A moderate ε keeps every float32 member, and their logits are finite.
        var moderate = EnsembleBuilder.Build(Setup.Value.Model, null, options with { Epsilon = 20 });
        Assert.Equal((4, 0), (moderate.Count, moderate.Rejected));
        Assert.True(moderate.MemberLogits(Setup.Value.Test.Images).AllFinite());
    }

    [Fact]
    public void BatchDependentReading_EqualsTheModelForBatchesUpToH_AndDependsOnTheBatchSizeBeyond()
    {
        var model = Model64;
        var (_, _, test) = Setup.Value;
        var (x, _) = test.Gather<double>(Enumerable.Range(0, 24).ToArray());
        var expected = model.Predict(x);
        var small = EnsembleBuilder.Build(model, null, new EnsembleOptions(EnsembleBuilderKind.Group, 0.5, Members: 2, Seed: 1,
            Reading: GroupActionReading.BatchDependent, PredictionBatchSize: Hidden));
        for (int m = 0; m < 2; m++)
            Assert.True(RelativeError(expected, Member(small.MemberLogits(x), m)) <= 1e-10);
        var large = EnsembleBuilder.Build(model, null, small.Options with { PredictionBatchSize = 12 });
        var larger = EnsembleBuilder.Build(model, null, small.Options with { PredictionBatchSize = 24 });
        var l12 = Member(large.MemberLogits(x), 0);
        double e12 = RelativeError(expected, l12), e1224 = RelativeError(l12, Member(larger.MemberLogits(x), 0));
        Assert.True(e12 > 1e-3 && e1224 > 1e-3, $"batch 12 vs model {e12:E2}, batch 12 vs 24 {e1224:E2}");
        Assert.Throws<NotSupportedException>(() => large.MemberModel(0));
    }

    [Fact]
    public void MemberModel_OfAFloat32Ensemble_MatchesTheSharedTrunkEvaluation()
    {
        var (model, train, test) = Setup.Value;
        var ensemble = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.PermutationInterpolation, 0.7, Members: 3, Seed: 2));
        var x = test.Images;
        var logits = ensemble.MemberLogits(x);
        for (int m = 0; m < 3; m++)
            Close.Assert(ensemble.MemberModel(m).Predict(x).Cast<double>(), Member(logits, m).Cast<double>(), 1e-4, 1e-5);
    }

    [Fact]
    public void BadInput_GivesClearArgumentExceptions()
    {
        var (model, train, _) = Setup.Value;
        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Group, -0.1)));
        Assert.Contains("epsilon", e1.Message);
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Group, 0.1, Members: 0)));
        Assert.Contains("members", e2.Message);
        var e3 = Assert.Throws<ArgumentOutOfRangeException>(() =>
            EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Group, 0.1, CalibrationSize: Hidden + 1)));
        Assert.Contains($"h = {Hidden}", e3.Message);
        Assert.Throws<ArgumentNullException>(() => EnsembleBuilder.Build(model, null, new EnsembleOptions(EnsembleBuilderKind.Shuffle, 0.1)));
        var wrongShape = new Noether.Data.ImageDataset(Tensor<float>.Zeros(10, 1, 6, 6), new int[10], Classes, null, "6×6 images");
        var e4 = Assert.Throws<ArgumentException>(() => EnsembleBuilder.Build(model, wrongShape, new EnsembleOptions(EnsembleBuilderKind.Group, 0.1)));
        Assert.Contains("1×6×6", e4.Message);
        var e5 = Assert.Throws<ArgumentException>(() => EnsembleBuilder.Build(model, train.Subset(0, Hidden - 1), new EnsembleOptions(EnsembleBuilderKind.Group, 0.1)));
        Assert.Contains("fewer than the calibration batch", e5.Message);
        Assert.Throws<ArgumentException>(() => EnsembleBuilder.Build(model, train,
            new EnsembleOptions(EnsembleBuilderKind.Random, 0.1, Reading: GroupActionReading.BatchDependent)));
        var ensemble = EnsembleBuilder.Build(model, train, new EnsembleOptions(EnsembleBuilderKind.Group, 0.1, Members: 2));
        var e6 = Assert.Throws<ArgumentException>(() => ensemble.MemberLogits(Tensor<float>.Zeros(2, 1, 6, 6)));
        Assert.Contains("[B, 1, 8, 8]", e6.Message);
        Assert.Throws<ArgumentException>(() => ensemble.MemberLogitsFromHidden(Tensor<float>.Zeros(2, Hidden + 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ensemble.MemberModel(2));
    }

    /// <summary>h = 4 hidden units and 6 classes: U (6×4) has full column rank.</summary>
    private static (SpecCnn<double> Model, Noether.Data.ImageDataset Train) WideOutputModel() =>
        (SpecCnnCopy.Convert<float, double>(Untrained(12, hidden: 4, classes: 6)), Images(128, 11));

    /// <summary>X with U X = W for U of full column rank (least squares via the normal equations, exact here).</summary>
    private static Tensor<double> RecoverRight(Tensor<double> u, Tensor<double> w)
    {
        var gram = TensorOps.MatMul(u, u, transposeA: true);
        var rhs = TensorOps.MatMul(u, w, transposeA: true);
        var (s, vectors) = LinearAlgebra.SymmetricEigen(gram);
        // gram⁻¹ = Q diag(1/λ) Qᵀ
        int n = s.Length;
        var inverse = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int q = 0; q < n; q++) sum += vectors![i, q] * vectors[j, q] / s[q];
                inverse[i, j] = sum;
            }
        return TensorOps.MatMul(inverse, rhs);
    }
}
