using CsCheck;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Symmetry;

public class NonlinearActionTests
{
    public static TheoryData<string> Activations => new() { "tanh", "sigmoid", "relu", "leaky-relu:0.1", "identity", "radial" };

    // (seed, h, k ≤ h): g = exp(0.3·M) for a random M ∈ gl_h.
    private static readonly Gen<(int, int, int)> Sizes = Gen.Int[2, 8].SelectMany(h => Gen.Select(Gen.Int[0, 1_000_000], Gen.Const(h), Gen.Int[1, h]));

    [Theory]
    [MemberData(nameof(Activations))]
    public void Apply_FullColumnRank_KeepsOutputOnOwnBatch(string name)
    {
        var sigma = Activation.Parse(name);
        var action = new NonlinearAction(sigma);
        var net = new TwoLayerNetwork(sigma, SquaredErrorLoss.HalfSum);
        int refused = 0;
        Sizes.Sample((seed, h, k) =>
        {
            var random = new Random(seed);
            var (theta, x, _) = SymmetryFixtures.Problem(random, 3, h, 8, k); // n ≥ h so that VX can have rank k
            var g = new GeneralLinearGroup(h).RandomElement(random, 0.3);
            NonlinearActionResult moved;
            try { moved = action.Apply(g, theta, x); }
            catch (ArgumentException e) when (e.Message.Contains("rank") || e.Message.Contains("condition"))
            {
                Interlocked.Increment(ref refused); // e.g. ReLU zeroing a whole column: the precondition fails and the action says so
                return;
            }
            double err = SymmetryFixtures.RelativeMaxError(net.Output(moved.Parameters, x), net.Output(theta, x));
            Assert.True(err <= 1e-8, $"relative change on the batch {err:E3} (cond {moved.Pi.ConditionNumber:G3})");
        }, iter: 100, threads: 1);
        Assert.True(refused <= 50, $"{refused} of 100 samples were refused: too few were actually checked");
    }

    [Theory]
    [InlineData("tanh")]
    [InlineData("sigmoid")]
    [InlineData("leaky-relu:0.1")]
    public void Apply_FreshBatch_ChangesOutput(string name)
    {
        // π was built from VX; on another batch X* the output moves (Prop. 8's remark).
        var sigma = Activation.Parse(name);
        var action = new NonlinearAction(sigma);
        var net = new TwoLayerNetwork(sigma, SquaredErrorLoss.HalfSum);
        var random = new Random(41);
        var (theta, x, _) = SymmetryFixtures.Problem(random, 3, 6, 4, 6);
        var fresh = Gaussian.Matrix(random, 4, 6);
        var g = new GeneralLinearGroup(6).RandomElement(random, 0.3);
        var moved = action.Apply(g, theta, x).Parameters;
        Assert.True(SymmetryFixtures.RelativeMaxError(net.Output(moved, x), net.Output(theta, x)) <= 1e-8);
        double change = SymmetryFixtures.RelativeMaxError(net.Output(moved, fresh), net.Output(theta, fresh));
        Assert.True(change > 1e-2, $"the output on a fresh batch moved by only {change:E3}");
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void Pi_Composition_EqualsPiOfProduct(string name)
    {
        // Eq. 16: π(g₁, Z) π(g₂, g₁Z) = π(g₂g₁, Z) when σ(g₁Z) has full column rank k ≤ h.
        var sigma = Activation.Parse(name);
        var action = new NonlinearAction(sigma);
        int refused = 0;
        Sizes.Sample((seed, h, k) =>
        {
            var random = new Random(seed);
            var z = Gaussian.Matrix(random, h, k);
            var group = new GeneralLinearGroup(h);
            var g1 = group.RandomElement(random, 0.3);
            var g2 = group.RandomElement(random, 0.3);
            NonlinearPi p1, p2, p21;
            try
            {
                p1 = action.Pi(g1, z);
                p2 = action.Pi(g2, SymmetryFixtures.MatMul(g1, z));
                p21 = action.Pi(SymmetryFixtures.MatMul(g2, g1), z);
            }
            catch (ArgumentException e) when (e.Message.Contains("rank") || e.Message.Contains("condition"))
            {
                Interlocked.Increment(ref refused);
                return;
            }
            var left = SymmetryFixtures.MatMul(p1.Pi, p2.Pi);
            double err = SymmetryFixtures.RelativeMaxError(left, p21.Pi);
            Assert.True(err <= 1e-8, $"composition error {err:E3} (cond {p1.ConditionNumber:G3}, {p21.ConditionNumber:G3})");
        }, iter: 100, threads: 1);
        Assert.True(refused <= 50, $"{refused} of 100 samples were refused: too few were actually checked");
    }

    [Theory]
    [InlineData(5, 5)]
    [InlineData(7, 3)]
    [InlineData(6, 1)]
    public void Pi_IdentityElement_IsProjectionOfDistanceSqrtHMinusK(int h, int k)
    {
        // π(I, Z) = σ(Z)σ(Z)⁺: the orthogonal projector onto the k-dimensional column space, so ‖π(I,Z) − I‖_F = √(h − k).
        var action = new NonlinearAction(Activation.Tanh);
        var z = Gaussian.Matrix(new Random(42), h, k);
        var pi = action.Pi(Tensor<double>.Identity(h), z).Pi;
        var diff = TensorOps.Binary(BinaryOp.Subtract, pi, Tensor<double>.Identity(h));
        Close.Assert(Math.Sqrt(h - k), TensorOps.Norm(diff), 1e-12, 1e-12);
        Close.Assert(pi, SymmetryFixtures.MatMul(pi, pi), 1e-12, 1e-12);
    }

    [Fact]
    public void Pi_RankDeficient_ThrowsWithRankKAndH()
    {
        // Two equal columns of Z make σ(gZ) rank-deficient.
        var random = new Random(43);
        var z = Gaussian.Matrix(random, 5, 3);
        for (int i = 0; i < 5; i++) z[i, 2] = z[i, 0];
        var action = new NonlinearAction(Activation.Tanh);
        var e = Assert.Throws<ArgumentException>(() => action.Pi(Tensor<double>.Identity(5), z));
        Assert.Contains("rank 2", e.Message);
        Assert.Contains("k = 3", e.Message);
        Assert.Contains("h = 5", e.Message);
    }

    [Fact]
    public void Pi_MoreSamplesThanHidden_ThrowsNamingKAndH()
    {
        var action = new NonlinearAction(Activation.Tanh);
        var e = Assert.Throws<ArgumentException>(() => action.Pi(Tensor<double>.Identity(3), Gaussian.Matrix(new Random(44), 3, 5)));
        Assert.Contains("k = 5", e.Message);
        Assert.Contains("h = 3", e.Message);
    }

    [Fact]
    public void Pi_SingularGroupElement_Throws()
    {
        var action = new NonlinearAction(Activation.Tanh);
        var g = Tensor<double>.Zeros(3, 3);
        g[0, 0] = 1;
        var e = Assert.Throws<ArgumentException>(() => action.Pi(g, Gaussian.Matrix(new Random(45), 3, 2)));
        Assert.Contains("singular", e.Message);
    }

    [Fact]
    public void Pi_ReportsConditionNumberOfSigmaGZ()
    {
        var random = new Random(46);
        var z = Gaussian.Matrix(random, 4, 4);
        var g = new GeneralLinearGroup(4).RandomElement(random, 0.2);
        var p = new NonlinearAction(Activation.Sigmoid).Pi(g, z);
        var s = Activation.Sigmoid.Evaluate(SymmetryFixtures.MatMul(g, z));
        var singular = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(4, 4, s.Data).Svd(false).S;
        Close.Assert(singular[0] / singular[3], p.ConditionNumber, 1e-8);
        Assert.Equal(4, p.Rank);
    }
}
