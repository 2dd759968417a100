using Noether.Graphs;
using Noether.Landscape;
using Noether.Symmetry.Census;
using Noether.Tensors;
using Noether.Tests.Symmetry.Census;

namespace Noether.Tests.Landscape;

/// <summary>
/// Teleportation to a larger gradient norm along the census's exact sites, on the ICLR 2024 protocol's MLP (784-16-10-10,
/// LeakyReLU 0.1: 26 rescalings and the last layer's softmax translation), float64 on 16 Fashion-MNIST images. Each
/// check is against an independent computation: the loss from the graph's logits with a cross-entropy written here, the
/// ascent direction against central differences of ‖∇L‖² along the group action, and against the closed form an exact
/// linear symmetry gives (∇L(e^{tM}θ) = e^{−tMᵀ}∇L(θ), so ∂‖∇L‖²/∂t = −2⟨∇L, M∇L⟩ for a rescaling).
/// </summary>
public sealed class GradientNormTeleportTests
{
    private const string Model = "mlp_teleport.onnx";

    private static (Graph<double> Graph, GradientNormTeleport Teleport) Load()
    {
        var graph = SymmetryCensusTests.Load(Model);
        return (graph, new GradientNormTeleport(graph, GradientNormTeleport.ExactSites(SymmetryCensus.Take(graph))));
    }

    // Mean cross-entropy of the graph's float64 logits, by log-sum-exp written here (not the tape's op).
    private static double Loss(Graph<double> graph, Tensor<double> x, int[] y)
    {
        var logits = graph.Evaluate(x)[0];
        int classes = logits.Dim(1);
        double total = 0;
        for (int r = 0; r < y.Length; r++)
        {
            var row = logits.Data.AsSpan(r * classes, classes).ToArray();
            double max = row.Max();
            total += max + Math.Log(row.Sum(v => Math.Exp(v - max))) - row[y[r]];
        }
        return total / y.Length;
    }

    private static double[][] Save(Graph<double> graph) => graph.Parameters.Select(p => p.Value.Data.ToArray()).ToArray();

    private static void Restore(Graph<double> graph, double[][] saved)
    {
        for (int i = 0; i < saved.Length; i++) saved[i].CopyTo(graph.Parameters[i].Value.Data, 0);
    }

    [Fact]
    public void Census_OfTheProtocolMlp_IsItsRescalingsAndSoftmaxTranslation()
    {
        // By hand from make_zoo.py: hidden widths 16 and 10 rescale (26 generators); the last Linear 10→10's softmax
        // translation moves its 10 weight columns and its bias (11 generators).
        var (_, teleport) = Load();
        Assert.Equal(26 + 11, teleport.Dimension);
        Assert.Equal(26, teleport.Sites.Where(s => s.Kind == SiteKind.Rescaling).Sum(s => s.Dimension));
    }

    [Fact]
    public void Run_KeepsTheLossOnEveryBatch_AndRaisesTheGradientNorm()
    {
        var (graph, teleport) = Load();
        var (x, y) = SymmetryCensusTests.Batch(16);
        var (xa, ya) = (Tensor<double>.FromDoubles(x.Data.AsSpan(0, 8 * 784).ToArray(), [8, 1, 28, 28]), y[..8]);
        double before = Loss(graph, x, y), otherBefore = Loss(graph, xa, ya);
        double normBefore = teleport.Measure(x, y).SquaredNorm;

        var r = teleport.Run(x, y, new GradientNormTeleportSettings(Steps: 10, LearningRate: 0.05, SquaredNormCap: double.PositiveInfinity));

        // The group moved the parameters by a visible amount …
        Assert.Equal(10, r.Steps);
        Assert.Equal(10, r.HessianVectorProducts);
        Assert.Contains(r.Coordinates, t => Math.Abs(t) > 1e-3);
        // … and left the loss unchanged to float64 rounding, on its batch and on another one (the sites are symmetries of
        // the function, not of the batch): 1e-12 relative is ~1e4 ulps of a sum over 12 844 rounded products.
        double after = Loss(graph, x, y), otherAfter = Loss(graph, xa, ya);
        Assert.True(Math.Abs(after - before) <= 1e-12 * before, $"loss {before:R} → {after:R}");
        Assert.True(Math.Abs(otherAfter - otherBefore) <= 1e-12 * otherBefore, $"other batch's loss {otherBefore:R} → {otherAfter:R}");
        Support.Close.Assert(before, r.LossBefore, 1e-12);
        // ‖∇L‖² on the batch rose, and the result reports what a fresh gradient measures.
        double normAfter = teleport.Measure(x, y).SquaredNorm;
        Assert.True(normAfter > normBefore * 1.01, $"‖∇L‖² {normBefore:R} → {normAfter:R}");
        Support.Close.Assert(normBefore, r.SquaredNormBefore, 1e-12);
        Support.Close.Assert(normAfter, r.SquaredNormAfter, 1e-12);
    }

    [Fact]
    public void ObjectiveGradient_MatchesCentralDifferencesAlongTheGroup_AndTheCovariantClosedForm()
    {
        var (graph, teleport) = Load();
        var (x, y) = SymmetryCensusTests.Batch(16);
        var (d, _, f) = teleport.ObjectiveGradient(x, y);
        double scale = d.Max(Math.Abs);
        Assert.True(scale > 0);

        // Central differences of f(t) = ‖∇L(exp(t Mᵢ)θ)‖², the group element applied exactly. With h = 1e-4 the truncation
        // error h²/6·|f'''| ≈ 1e-8·|f'| (f is a sum of e^{−2at}g², so f''' ≈ 8f'), the rounding f·1e-16/h ≈ 1e-12·f.
        const double h = 1e-4;
        var saved = Save(graph);
        for (int i = 0; i < d.Length; i++)
        {
            double Shifted(double s)
            {
                var t = new double[d.Length];
                t[i] = s;
                teleport.Move(t);
                double value = teleport.Measure(x, y).SquaredNorm;
                Restore(graph, saved);
                return value;
            }
            double fd = (Shifted(h) - Shifted(-h)) / (2 * h);
            Assert.True(Math.Abs(fd - d[i]) <= 1e-6 * scale + 1e-10 * f, $"generator {i}: HVP {d[i]:R}, central difference {fd:R}");
        }

        // A rescaling is an exact linear symmetry: HMθ = −Mᵀ∇L, so ∂f/∂t = −2 Σ a_k g_k² from one gradient, no product.
        var tape = new Noether.Autodiff.Tape<double>();
        var loss = Noether.Autodiff.Ops.CrossEntropy(graph.Run(tape, [tape.Constant(x)]).Output(tape, 0), y);
        var g = tape.Gradient(loss, graph.Parameters);
        var byName = graph.Parameters.Select((p, k) => (p.Name, g[k].Data)).ToDictionary(p => p.Name, p => p.Data);
        int index = 0;
        foreach (var site in teleport.Sites)
            foreach (var generator in site.Generators)
            {
                double closed = site.Kind == SiteKind.Rescaling
                    ? -2 * generator.Entries.Sum(e => e.Indices.Select((k, j) => e.Coefficients[j] * byName[e.Parameter][k] * byName[e.Parameter][k]).Sum())
                    : 0; // a translation's tangent c is constant: Hc = 0, ‖∇L‖² does not change along it
                Assert.True(Math.Abs(closed - d[index]) <= 1e-9 * scale, $"{site.Kind} generator {generator.Name}: HVP {d[index]:R}, closed form {closed:R}");
                index++;
            }
    }

    [Fact]
    public void Run_StopsAtTheCap_WithoutMoving()
    {
        var (graph, teleport) = Load();
        var (x, y) = SymmetryCensusTests.Batch(16);
        double f = teleport.Measure(x, y).SquaredNorm;
        var saved = Save(graph);

        var r = teleport.Run(x, y, new GradientNormTeleportSettings(Steps: 10, LearningRate: 0.05, SquaredNormCap: f / 2));

        Assert.True(r.Capped);
        Assert.Equal(0, r.Steps);
        Assert.Equal(1, r.HessianVectorProducts);
        for (int i = 0; i < saved.Length; i++) Assert.Equal(saved[i], graph.Parameters[i].Value.Data);
    }

    [Fact]
    public void Constructor_RefusesNoSiteAndApproximateSites()
    {
        var graph = SymmetryCensusTests.Load(Model);
        var e = Assert.Throws<ArgumentException>(() => new GradientNormTeleport(graph, []));
        Assert.Contains("no census site", e.Message, StringComparison.Ordinal);

        // BatchNorm with batch statistics: the weights feeding it are scale invariant only up to its ε (approximate sites).
        var resnet = SymmetryCensusTests.Load("resnet20.onnx", new GraphOptions { BatchNorm = BatchNormMode.Training });
        var approximate = SymmetryCensus.Take(resnet).Sites.First(s => !s.Exact);
        e = Assert.Throws<ArgumentException>(() => new GradientNormTeleport(resnet, [approximate]));
        Assert.Contains("approximate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_RefuseNoStepsAndBadRates()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradientNormTeleportSettings(Steps: 0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradientNormTeleportSettings(LearningRate: double.NaN).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradientNormTeleportSettings(SquaredNormCap: 0).Validate());
    }
}
