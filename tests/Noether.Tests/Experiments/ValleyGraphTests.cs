using Noether.Experiments;
using Noether.Landscape;
using Noether.Symmetry.Census;

namespace Noether.Tests.Experiments;

/// <summary>
/// <see cref="ValleyExperiment.GraphSubject"/> (<c>valley --model</c>) on the imported zoo MLP (784-32-16-10, ReLU) and its
/// 16 fixture images: the census's ReLU rescalings keep the loss to rounding while filter-normalised lines rise, the arc
/// lengths agree with the polyline length of the moved points, and a direction that is no symmetry, passed as a "group
/// path", fails the flatness verdict. Float64, seeded.
/// </summary>
public class ValleyGraphTests
{
    private static readonly ValleySettings Settings = new(Seed: 2, Directions: 2, Points: 7, Grid: 5, Extent: 1);

    private static ValleySubject Subject()
    {
        var (graph, _, all, labels) = CurvatureExperimentTests.Mlp(16);
        return ValleyExperiment.GraphSubject(graph, "mlp.onnx", SymmetryCensus.Take(graph), all, labels, "fixture");
    }

    [Fact]
    public void Run_ZooMlp_CensusPathsAreFlatToRoundingAndRandomLinesRise()
    {
        var subject = Subject();
        var r = ValleyExperiment.Run(subject, Settings);
        // Positive rescalings across ReLU are exact symmetries: only float64 rounding of the loss remains.
        Assert.True(r.FlatWorst <= LandscapeClaims.FlatTolerance, $"group slices deviate by {r.FlatWorst:E3}");
        Assert.True(r.MinRise > 1e-4, $"random lines rise by only {r.MinRise:E3}");
        Assert.Equal(Verdict.Reproduced, LandscapeClaims.ValleyOrbitFlat.Make([r.FlatWorst], "").Verdict);
        Assert.Equal(Verdict.Passed, LandscapeClaims.ValleyRandomRises.Make([r.MinRise, r.FlatWorst], "").Verdict);
        // The paths do move the weights: at t = ±1 each has travelled a good part of ‖θ*‖ (unit starting speed).
        Assert.True(r.GroupReach > 0.3 * r.ThetaNorm, $"group paths reach only {r.GroupReach} of ‖θ*‖ = {r.ThetaNorm}");
        Assert.Contains("census sites", subject.GroupName, StringComparison.Ordinal);
        // The loss left the graph at θ*.
        Assert.Equal(r.LStar, subject.Loss(subject.Theta));
    }

    [Fact]
    public void CensusSitePath_Distance_EqualsPolylineLengthOfTheMovedPoints()
    {
        var subject = Subject();
        var path = subject.Path(new Random(7));
        // An independent measure of the arc length: polylines through 401 moved points and through every other one,
        // Richardson-extrapolated ((4·L₄₀₀ − L₂₀₀)/3 removes the polyline's O(Δ²) shortfall), against Simpson on ‖Mθ(s)‖.
        foreach (double t in new[] { 0.8, -0.6 })
        {
            const int segments = 400;
            var points = Enumerable.Range(0, segments + 1).Select(i => i == 0 ? subject.Theta : path.Move(subject.Theta, t * i / segments)).ToArray();
            double Polyline(int step) => Enumerable.Range(0, segments / step)
                .Sum(i => Math.Sqrt(points[(i + 1) * step].Zip(points[i * step], (a, b) => (a - b) * (a - b)).Sum()));
            double length = (4 * Polyline(1) - Polyline(2)) / 3;
            Assert.Equal(Math.Sign(t) * length, path.Distance(t), length * 1e-6);
        }
        // t = ±1 ends at distance ‖θ*‖ from θ* (each side's group parameter bisected to it).
        double norm = Math.Sqrt(subject.Theta.Sum(x => x * x));
        foreach (double t in new[] { 1.0, -1.0 })
            Assert.Equal(norm, Math.Sqrt(path.Move(subject.Theta, t).Zip(subject.Theta, (a, b) => (a - b) * (a - b)).Sum()), norm * 1e-9);
    }

    /// <summary>A straight line θ + t·v offered as a "group path": no symmetry of the model.</summary>
    private sealed class LinePath(double[] direction) : ValleyPath
    {
        public override double[] Move(double[] theta, double t) => theta.Select((x, i) => x + t * direction[i]).ToArray();

        public override double Distance(double t) => t * Math.Sqrt(direction.Sum(x => x * x));
    }

    [Fact]
    public void Run_ANonSymmetryPassedAsGroupPath_IsFlaggedByTheVerdict()
    {
        var subject = Subject();
        // Filter-normalised random directions as "group paths": the refutation the flatness claim must catch.
        var fake = subject with { Path = rng => new LinePath(subject.Direction(rng)) };
        var r = ValleyExperiment.Run(fake, Settings);
        Assert.True(r.GroupLineDeviation > 1e-4, $"the fake paths deviate by only {r.GroupLineDeviation:E3}");
        // eq. 1 is the paper's claim: a failed check reads "not reproduced".
        Assert.Equal(Verdict.NotReproduced, LandscapeClaims.ValleyOrbitFlat.Make([r.FlatWorst], "").Verdict);
        Assert.Equal(Verdict.Failed, LandscapeClaims.ValleyRandomRises.Make([r.MinRise, r.FlatWorst], "").Verdict);
    }
}
