using Noether.Attacks;
using Noether.Ensembles;
using Noether.Experiments;

namespace Noether.Tests.Experiments;

/// <summary>The statistics the result records compute for the claims, each against a hand computation on a small result.</summary>
public class ResultStatisticsTests
{
    private static DriftCurve Curve(string activation, double eta, bool flow, double drift, bool diverged = false, Eq41Statistics? eq41 = null) =>
        new(activation, eta, flow, [0, 1], [0, eta], [1, 0.5], [2, 2], [0, drift], drift, 0.5, diverged, eq41, flow ? 7 : 0, 0.1);

    [Fact]
    public void DriftResult_WorstFlowGroupsAndEq41Total_MatchHandComputation()
    {
        var a = new Eq41Statistics(10, 1e-12, 4, 2e-11, 0, 0.5);
        var b = new Eq41Statistics(5, 3e-12, 1, 1e-12, 2, 0.9);
        var result = new DriftResult(new DriftSettings(), [
            Curve("relu", 0.1, false, 1e-3, eq41: a), Curve("relu", 0.3, false, 2e-2, eq41: b), Curve("relu", 0, true, 1e-9),
            Curve("tanh", 0.1, false, 5e-3, diverged: true), Curve("tanh", 0, true, 4e-9),
        ]);
        Assert.Equal(2, result.FlowCurves().Length);
        Assert.Equal(3, result.DescentCurves().Length);
        var (worst, drift) = result.WorstFlow()!.Value;
        Assert.Equal(("tanh", 4e-9), (worst.Activation, drift));
        Assert.Equal(1e-9, result.FlowDrift("relu"));
        Assert.Equal(0, result.FlowDrift("sigmoid")); // no flow run
        var groups = result.DescentsByActivation();
        Assert.Equal(["relu", "tanh"], groups.Select(g => g.Activation));
        Assert.Equal([0.3, 0.1], groups[0].ByEta.Select(c => c.LearningRate)); // largest η first
        Assert.Equal(double.PositiveInfinity, DriftResult.JudgedDrift(groups[1].ByEta[0]));
        Assert.Equal(2e-2, DriftResult.JudgedDrift(groups[0].ByEta[0]));
        Assert.Equal(new Eq41Statistics(15, 3e-12, 5, 2e-11, 2, 0.9), result.Eq41Total());
    }

    [Fact]
    public void Eq41Statistics_Holds_NeedsNoViolationAndBothErrorsWithin1e10()
    {
        Assert.True(new Eq41Statistics(10, 1e-12, 4, 2e-11, 0, 0.5).Holds());
        Assert.False(new Eq41Statistics(10, 1e-12, 4, 2e-11, 1, 0.5).Holds());
        Assert.False(new Eq41Statistics(10, 2e-10, 4, 2e-11, 0, 0.5).Holds());
        Assert.False(new Eq41Statistics(10, 1e-12, 4, 2e-10, 0, 0.5).Holds());
        Assert.True(new Eq41Statistics(10, 1e-12, 0, double.NaN, 0, 0.5).Holds()); // no resolvable step: the relative error is not judged
    }

    [Fact]
    public void DriftResult_NaNFlowDrift_MakesTheWorstNaN_AndNoFlowGivesNone()
    {
        var result = new DriftResult(new DriftSettings(), [Curve("relu", 0, true, double.NaN), Curve("tanh", 0, true, 1e-9)]);
        Assert.True(double.IsNaN(result.WorstFlow()!.Value.Drift));
        Assert.Null(new DriftResult(new DriftSettings(), [Curve("relu", 0.1, false, 1e-3)]).WorstFlow());
        Assert.Null(new DriftResult(new DriftSettings(), [Curve("relu", 0.1, false, 1e-3)]).Eq41Total());
    }

    private static EnsembleAccuracyRow Row(EnsembleBuilderKind b, double e, double acc, int rejected = 0, double maxCond = 10) =>
        new(b, e, acc, acc - 0.8, 3, rejected, 0, acc, 0.9, maxCond / 2, maxCond);

    [Fact]
    public void EnsembleResult_PairsChangesAndConditions_MatchHandComputation()
    {
        var rows = new[]
        {
            Row(EnsembleBuilderKind.Group, 0, 0.8), Row(EnsembleBuilderKind.Group, 0.1, 0.79, maxCond: 50), Row(EnsembleBuilderKind.Group, 1, 0.7, rejected: 1),
            Row(EnsembleBuilderKind.Random, 0, 0.8), Row(EnsembleBuilderKind.Random, 1, 0.6, rejected: 2, maxCond: 1e9),
            Row(EnsembleBuilderKind.Shuffle, 1, double.NaN, maxCond: double.NaN),
        };
        var result = new EnsembleExperimentResult(new EnsembleExperimentSettings { Ensemble = new(EnsembleBuilderKind.Group, 0, Members: 3) }, 0.8, 100, "test", "train", 6, rows, 1);
        Assert.Equal([0, 0.1, 1], result.Epsilons());
        Assert.Equal([0.1, 1], result.PositiveEpsilons());
        Assert.Same(rows[2], result.Row(EnsembleBuilderKind.Group, 1));
        Assert.Null(result.Row(EnsembleBuilderKind.Random, 0.1));
        Assert.Equal([(0.1, 0.79 - 0.8)], result.GroupChanges(0.5));
        Assert.Equal([(1.0, 0.7, 0.6)], result.GroupVersus(EnsembleBuilderKind.Random)); // ε = 0.1 has no random row
        Assert.Equal([(0.0, 0), (0.1, 0), (1.0, 3)], result.RejectedByEpsilon());
        Assert.Equal(50, result.WorstKeptCondition()); // group and shuffle only: random's 1e9 is not counted, NaN skipped
        Assert.Equal(1, result.NanAccuracies());
    }

    [Fact]
    public void AttackResult_AttacksAccuracyAndPairs_MatchHandComputation()
    {
        var clean = new LinfAttack(AttackKind.Fgsm, 0, 0, 1, false);
        var f1 = new LinfAttack(AttackKind.Fgsm, 0.01, 0.01, 1, false);
        var p1 = new LinfAttack(AttackKind.Pgd, 0.03, 0.01, 10, true);
        var p0 = new LinfAttack(AttackKind.Pgd, 0.03, 0.01, 0, false); // no step, no random start: not an attack
        var rows = new List<AttackAccuracyRow>();
        foreach (var (a, single, group) in new[] { (clean, 0.9, 0.9), (f1, 0.5, 0.6), (p1, 0.1, 0.1), (p0, 0.9, 0.9) })
        {
            rows.Add(new(ThreatModel.Transfer, a, a.Epsilon, null, single));
            rows.Add(new(ThreatModel.Transfer, a, a.Epsilon, EnsembleBuilderKind.Group, group));
        }
        rows.Add(new(ThreatModel.Adaptive, f1, 0.01, EnsembleBuilderKind.Group, 0.3));
        var result = new AttackExperimentResult(new AttackExperimentSettings(), 0.9, 50, "test", [], rows, 1);
        Assert.Equal([f1], result.Attacks(ThreatModel.Transfer, AttackKind.Fgsm));
        Assert.Equal([p1], result.Attacks(ThreatModel.Transfer, AttackKind.Pgd));
        Assert.Equal([f1, p1], result.Attacks(ThreatModel.Transfer));
        Assert.Equal([f1], result.Attacks(ThreatModel.Adaptive));
        Assert.Equal(0.3, result.Accuracy(ThreatModel.Adaptive, f1, "group"));
        Assert.True(double.IsNaN(result.Accuracy(ThreatModel.Adaptive, f1, "single")));
        Assert.Equal([(f1, 0.6, 0.5), (p1, 0.1, 0.1)], result.GroupVersus([f1, p1], "single"));
        Assert.True(double.IsNaN(result.GroupVersus([f1], "random")[0].Other));
    }

    [Fact]
    public void OrbitResult_Counts_MatchHandComputation()
    {
        static OrbitTableRow R(int m, int h, int n, OrbitGroup g, bool matches, bool paperDiffers) =>
            new(new LayerShape(m, h, n), g, h * h, 1, 1, paperDiffers ? 2 : 1, matches, paperDiffers, 1, 0, double.PositiveInfinity);
        var rows = new[]
        {
            R(2, 3, 2, OrbitGroup.Orthogonal, true, true), R(2, 5, 2, OrbitGroup.Orthogonal, true, true), R(3, 2, 3, OrbitGroup.Orthogonal, true, false),
            R(2, 5, 2, OrbitGroup.GeneralLinear, false, false), R(4, 3, 1, OrbitGroup.GeneralLinear, true, true),
        };
        var result = new OrbitTableResult(new OrbitTableSettings(), rows);
        Assert.Equal(4, result.MatchingCorrected());
        Assert.Equal(3, result.PaperDiffering());
        Assert.Equal(2, result.PaperDifferingBeyondMaxMN()); // (4, 3, 1) has h ≤ max(m, n)
        var groups = result.ByGroup();
        Assert.Equal([OrbitGroup.Orthogonal, OrbitGroup.GeneralLinear], groups.Select(g => g.Group));
        Assert.Equal((3, 2), (groups[0].Agree, groups[0].PaperWrong));
        Assert.Same(rows[1], groups[0].Example); // the wrong row with the largest h
        Assert.Equal((1, 1), (groups[1].Agree, groups[1].PaperWrong));
        Assert.Same(rows[4], groups[1].Example);
    }

    [Fact]
    public void SymmetryCheckResult_Checks_JudgeEachNumberByItsRule()
    {
        var linear = new LinearSymmetryCheck(["GL(6)"], 1e-15, 1e-14, 0.2);
        var nonlinear = new NonlinearSymmetryCheck(1, 6, 4, 5, 1, 1e-13, 0.3, 1e-12, 20, 90, Math.Sqrt(2), Math.Sqrt(2));
        var checks = new SymmetryCheckResult(new SymmetryCheckSettings(), linear, nonlinear).Checks();
        Assert.Equal(10, checks.Count);
        Assert.Equal(["linear", "linear", "linear"], checks.Take(3).Select(c => c.Group));
        Assert.Equal([1e-15, 1e-14, 0.2, 5, 1e-13, 0.3, 1e-12, 20, 90, Math.Sqrt(2)], checks.Select(c => c.Value).Take(10));
        Assert.Equal("1 refused", checks[3].Expectation);
        Assert.Equal("‖π(I,Z) − I‖_F (a rank-k projection: √(h − k) = 1.414)", checks[^1].Name);
        Assert.All(checks, c => Assert.Equal(c.Rule.Judge(c.Numbers), c.Verdict));
        Assert.Null(checks.Single(c => c.Name.StartsWith("max condition", StringComparison.Ordinal)).Pass); // a measurement
        // Without a linear group only the nonlinear checks; with every draw refused they fail.
        var refused = new SymmetryCheckResult(new SymmetryCheckSettings(), null, nonlinear with { Checked = 0 }).Checks();
        Assert.Equal(7, refused.Count);
        Assert.Contains(refused, c => c.Pass == false);
    }

    [Fact]
    public void ImportedModelData_HoldOut_KeepsTheLastTenthAtLeastOne()
    {
        Assert.Equal((90, 10), ImportedModelData.HoldOut(100));
        Assert.Equal((8, 1), ImportedModelData.HoldOut(9));
        Assert.Equal((0, 1), ImportedModelData.HoldOut(1));
    }

    [Fact]
    public void Shard_FirstRepeatAndMissing_MatchHandComputation()
    {
        Shard[] given = [new(2, 4), new(1, 4), new(2, 4), new(1, 4)];
        Assert.Equal((0, 2), Shard.FirstRepeat(given));
        Assert.Null(Shard.FirstRepeat([new(2, 4), new(1, 4)]));
        Assert.Equal([3, 4], Shard.Missing(given, 4));
        Assert.Empty(Shard.Missing([new(1, 2), new(2, 2)], 2));
    }

    [Fact]
    public void MemoryLimit_ParsesSuffixes_AndRefusesANeedAboveTheLimit()
    {
        Assert.True(MemoryLimit.TryParse(" 8G ", out long g));
        Assert.Equal(8L << 30, g);
        Assert.True(MemoryLimit.TryParse("1.5K", out long k));
        Assert.Equal(1536, k);
        Assert.True(MemoryLimit.TryParse("1e6", out long plain));
        Assert.Equal(1_000_000, plain);
        Assert.False(MemoryLimit.TryParse("-1G", out _));
        Assert.False(MemoryLimit.TryParse("lots", out _));
        Assert.Equal(512, MemoryLimit.Resolve("512", "LIMIT"));
        Assert.Equal("LIMIT", Assert.Throws<ArgumentException>(() => MemoryLimit.Resolve("x", "LIMIT")).ParamName);
        Assert.Equal("1.5 GiB", MemoryLimit.Show(1.5 * (1 << 30)));
        Assert.Equal("12.0 MiB", MemoryLimit.Show(12 * (1 << 20)));
        var need = new MemoryNeed([new MemoryTerm("weights", 3 << 20)]);
        MemoryLimit.Check("--draws 5", need, 4 << 20, "LIMIT");
        var e = Assert.Throws<ArgumentException>(() => MemoryLimit.Check("--draws 5", need, 2 << 20, "LIMIT"));
        Assert.Equal("--draws", e.ParamName);
        Assert.StartsWith("--draws 5 needs an estimated 3.0 MiB of memory", e.Message, StringComparison.Ordinal);
    }
}
