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
        // An independent measure of the arc length: the length of the polyline through 4 001 moved points (its error falls as
        // the square of the spacing: ~1e-7 relative here), against Simpson on ‖Mθ(τ)‖.
        const int segments = 4000;
        double t = 0.8, length = 0;
        var previous = subject.Theta;
        for (int i = 1; i <= segments; i++)
        {
            var next = path.Move(subject.Theta, t * i / segments);
            length += Math.Sqrt(next.Zip(previous, (a, b) => (a - b) * (a - b)).Sum());
            previous = next;
        }
        Assert.Equal(length, path.Distance(t), length * 1e-5);
        Assert.Equal(-path.Distance(-t), Enumerable.Range(1, segments).Sum(i =>
        {
            var a = path.Move(subject.Theta, -t * i / segments);
            var b = path.Move(subject.Theta, -t * (i - 1) / segments);
            return Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());
        }), length * 1e-5);
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
