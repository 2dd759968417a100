using Noether.Autodiff;
using Noether.Conservation;
using Noether.Experiments;
using Noether.Graphs;
using Noether.Nn;
using Noether.Symmetry.Census;
using Noether.Tensors;

namespace Noether.Tests.Experiments;

/// <summary>
/// The report of an imported model, checked against properties it does not compute itself: the loss is constant along a
/// symmetry orbit and changes quadratically along the orbit's tangent line (∇L ⊥ Mθ); the Hessian maps each census
/// tangent t = Mθ to −Mᵀ∇L (differentiate L(e^{sM}θ) = L(θ)); random directions are filter-normalised; the data-field law
/// count of a graph equals the count of the same network written by hand (<see cref="NetworkReparametrization"/>).
/// </summary>
public class ModelReportExperimentTests
{
    [Fact]
    public void Run_MlpFixture_OrbitsFlatTangentLinesQuadraticAndChecksPass()
    {
        var (graph, _, all, labels) = CurvatureExperimentTests.Mlp(4);
        var before = graph.Parameters.Select(p => (double[])p.Value.Data.Clone()).ToArray();
        var settings = new ModelReportSettings { Radius = 0.02, LinePoints = 11, RandomDirections = 1, OrbitSites = 2, TopK = 1, TraceProbes = 4, Seed = 5 };
        var r = ModelReportExperiment.Run(graph, all, labels, settings);

        // The graph comes back unchanged.
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i], graph.Parameters[i].Value.Data);
        double l0 = ModelReportExperiment.Loss(graph, all, labels);
        var orbits = r.Lines.Where(l => l.Kind == "orbit").ToArray();
        Assert.Equal(2, orbits.Length);
        foreach (var orbit in orbits)
        {
            // The orbit is a symmetry: float64 rounding of a 16-image cross-entropy is ≈ 1e-16 relative.
            Assert.All(orbit.Loss, l => Assert.True(Math.Abs(l - l0) <= 1e-12 * l0, $"{orbit.Label}: {l} against {l0}"));
            // Unit relative speed: the distance at group parameter t is |t| + O(t²) (t ≤ 0.02 here, so within 3%).
            // Each side's group parameter is scaled so that the end points lie at ± the radius (bisection on the measured distance).
            Assert.InRange(orbit.Distance[^1], 0.02 * (1 - 1e-9), 0.02 * (1 + 1e-9));
            Assert.InRange(orbit.Distance[0], -0.02 * (1 + 1e-9), -0.02 * (1 - 1e-9));
            var grid = r.Lines.First(t => t.Kind == "tangent" && t.Label == orbit.Label).Distance;
            for (int k = 0; k < grid.Length; k++)
                if (grid[k] != 0) Assert.InRange(orbit.Distance[k] / grid[k], 0.97, 1.03);
        }
        foreach (var line in r.Lines.Where(l => l.Kind == "tangent"))
        {
            // ∇L ⊥ Mθ, so L(θ + t·Mθ) − L(θ) = ½t²·vᵀHv + O(t³): the changes at the grid's 2t and t are in ratio 4 (to O(t) = 2%).
            int mid = line.Distance.Length / 2;
            double d1 = line.Loss[mid + 1] - l0, d2 = line.Loss[mid + 2] - l0, m1 = line.Loss[mid - 1] - l0;
            Assert.True(Math.Abs(d1) > 1e-12 * l0, $"{line.Label}: the tangent line is flat to rounding ({d1})");
            Assert.InRange(d2 / d1, 3.8, 4.2);
            Assert.InRange(m1 / d1, 0.95, 1.05);
        }
        var claims = ModelReportExperiment.Claims(r);
        Assert.All(claims, c => Assert.Equal(Verdict.Passed, c.Verdict));
        Assert.Equal(r.Census.Dimension, r.Check.Orbit.Rank);
        Assert.NotNull(r.Curvature?.ModuloOrbit);
        Assert.Null(r.DataLaws);
        Assert.Contains("25,818", r.LawsNote);
    }

    [Fact]
    public void Tangents_HessianMapsEachToMinusMTransposeGradient()
    {
        var (graph, _, all, labels) = CurvatureExperimentTests.Mlp(4);
        var census = SymmetryCensus.Take(graph);
        var (tangents, dropped) = census.Tangents(graph);
        Assert.Equal(0, dropped);
        Assert.Equal(census.Dimension, tangents.Count);
        var point = graph.Parameters.Select(p => p.Value).ToArray();
        Variable<double> Loss(Tape<double> tape, IReadOnlyList<Variable<double>> leaves)
        {
            for (int i = 0; i < leaves.Count; i++) tape.BindTo(graph.Parameters[i], leaves[i]);
            return Ops.CrossEntropy(graph.Run(tape, [tape.Constant(all)]).Output(tape, 0), labels);
        }
        var hessian = new HessianOperator<double>(Loss, point);
        var tape0 = new Tape<double>();
        var leaves0 = point.Select(p => tape0.Leaf(p)).ToArray();
        var gradient = tape0.Gradient(Loss(tape0, leaves0), leaves0).SelectMany(g => g.Value.Data).ToArray();
        double gradientNorm = Math.Sqrt(gradient.Sum(g => g * g));
        var offsets = new Dictionary<string, int>();
        int d = 0;
        foreach (var p in graph.Parameters) { offsets[p.Name] = d; d += p.Value.Length; }
        var generators = census.Sites.SelectMany(s => s.Generators).ToArray();

        foreach (int g in new[] { 0, 7, 40, generators.Length - 1 })
        {
            var hv = hessian.Multiply(tangents[g], pooled: false);
            var expected = new double[d];
            if (generators[g].Kind == GeneratorKind.Scaling)
                foreach (var (p, i, a) in generators[g].Tangent(name => Enumerable.Repeat(1.0, graph.Parameter(name)!.Length).ToArray()))
                    expected[offsets[p] + i] = -a * gradient[offsets[p] + i];
            double error = Math.Sqrt(hv.Zip(expected, (x, y) => (x - y) * (x - y)).Sum());
            // Both sides are O(‖∇L‖); the rounding of a float64 Hessian-vector product over 25 818 parameters stays far below 1e-10 of it.
            Assert.True(error <= 1e-10 * Math.Max(gradientNorm, 1), $"generator {generators[g].Name} ({generators[g].Kind}): ‖Ht + Mᵀ∇L‖ = {error} (‖∇L‖ = {gradientNorm})");
        }
    }

    [Fact]
    public void Run_SmallReluGraph_DataLawCountEqualsTheHandWrittenNetwork()
    {
        var net = new NetworkReparametrization([3, 4, 2], biases: true);
        var theta = net.RandomPoint(new Random(11));
        var transB = new Dictionary<string, GraphAttribute> { ["transB"] = new() { Int = 1 } };
        var names = new[] { "w1", "b1", "w2", "b2" };
        var graph = new Graph<double>(
            [
                new GraphNode("fc1", "Gemm", ["x", "w1", "b1"], ["h"], transB),
                new GraphNode("act", "Relu", ["h"], ["a"]),
                new GraphNode("fc2", "Gemm", ["a", "w2", "b2"], ["z"], transB),
            ],
            [new GraphInput("x", ElementType.Double, [null, 3], [null, null])], ["z"],
            names.Select((n, i) => new Parameter<double>(n, theta[i].Clone())).ToArray(), new Dictionary<string, HostTensor>(), 17);
        var x = Tensor<double>.Zeros(40, 3);
        Gaussian.Fill(new Random(12), x.Data);
        var labels = Enumerable.Range(0, 40).Select(i => i % 2).ToArray();

        var r = ModelReportExperiment.Run(graph, x, labels, new ModelReportSettings { TopK = 0, RandomDirections = 0, OrbitSites = 1, Seed = 2 });
        var byHand = LawCount.Count(net.Outputs(x, Activation.Relu), theta, new Random(3));

        Assert.NotNull(r.DataLaws);
        Assert.Null(r.LawsNote);
        Assert.Equal(net.Parameters, r.DataLaws!.Parameters);
        Assert.Equal(byHand.LieDimension, r.DataLaws.LieDimension);
        Assert.True(r.DataLaws.ClearGap);
        // 40 generic inputs visit every activation pattern of 4 units in 3-D: the laws are the 4 rescalings (Marcotte et al.).
        Assert.Equal(net.HiddenUnits, r.DataLaws.Parameters - r.DataLaws.LieDimension);
    }

    [Fact]
    public void Run_BadSettings_RefusedWithTheSettingNamed()
    {
        var (graph, _, all, labels) = CurvatureExperimentTests.Mlp(4);
        Assert.Equal("LinePoints", Assert.ThrowsAny<ArgumentException>(() => ModelReportExperiment.Run(graph, all, labels, new ModelReportSettings { LinePoints = 4 })).ParamName);
        Assert.Equal("CurvatureBatches", Assert.ThrowsAny<ArgumentException>(() => ModelReportExperiment.Run(graph, all, labels, new ModelReportSettings { CurvatureBatches = 1 })).ParamName);
        Assert.Equal("labels", Assert.ThrowsAny<ArgumentException>(() => ModelReportExperiment.Run(graph, all, labels[..3], new ModelReportSettings())).ParamName);
    }
}
