using System.Text.RegularExpressions;
using Noether.Autodiff;
using Noether.Conservation;
using Noether.Experiments;
using Noether.Graphs;
using Noether.Interop;
using Noether.Landscape;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Symmetry.Census;
using Noether.Tensors;
using Noether.Tests.Interop;

namespace Noether.Tests.Docs;

/// <summary>
/// docs/library.md shows the library from code; every C# block on the page is one of the regions marked
/// `// example: NAME` … `// end example` in this file, verbatim, and runs here with assertions on what it computes.
/// A block on the page that is not a region here fails the test, so no example goes untested.
/// </summary>
public partial class LibraryPageTests
{
    private static string Root() => Support.Repository.Root;

    private static string Fixture(string file) => Path.Combine(OnnxZooTests.Folder, file);

    [Fact]
    public void ImportCensusAndTeleport_RunsAndItsClaimsHold()
    {
        string path = Fixture("mlp.onnx");
        string moved = Path.Combine(Path.GetTempPath(), $"noether-library-{Guid.NewGuid():N}.onnx");
        try
        {
            // example: import
            var model = OnnxModel.Load(path);                 // a torch.onnx.export of 784 → 32 → 16 → 10 (ReLU)
            var graph = model.ToGraph<double>();              // runs on Noether's tape: gradients, Hessian-vector products
            var census = SymmetryCensus.Take(graph);          // every continuous symmetry found from the graph's structure
            foreach (var site in census.Sites)
                Console.WriteLine($"{site.Location}: {site.Group}, dimension {site.Dimension}, conserves {site.Conserved}");

            // Move the first site (one rescaling per hidden unit) so that every unit's Q doubles; the function is unchanged.
            double[] Weights(string name) => graph.Parameter(name)!.Value.Data;
            var first = census.Sites[0];
            var targets = first.Generators.Select(g => 2 * g.Conserved(Weights)).ToArray();
            var result = SiteTeleport.Teleport(first, Weights, targets);
            model.Save(moved, graph.Parameters);              // loads in ONNX Runtime and, as safetensors, in PyTorch
            // end example

            Assert.Equal(65, census.Dimension);
            Assert.Equal(32, first.Dimension);
            Assert.True(result.MaxRelativeError <= 1e-8);
            Assert.Equal(targets, result.Target);
            var reloaded = OnnxModel.Load(moved).ToGraph<double>();
            // The export keeps the model's float32 initializers: the moved weights, rounded to float.
            Assert.Equal(graph.Parameter("1.weight")!.Value.Data.Select(v => (double)(float)v), reloaded.Parameter("1.weight")!.Value.Data);
        }
        finally
        {
            File.Delete(moved);
        }
    }

    [Fact]
    public void MonitorTraining_RunsAndItsClaimsHold()
    {
        var graph = OnnxModel.Load(Fixture("mlp.onnx")).ToGraph<double>();
        var (x, labels) = Symmetry.Census.SymmetryCensusTests.Batch(16);
        var batches = Enumerable.Range(0, 4).Select(k => (Tensor<double>.FromDoubles(x.Data.AsSpan(k * 4 * 784, 4 * 784).ToArray(), [4, 1, 28, 28]),
            labels.Skip(4 * k).Take(4).ToArray())).ToArray();

        // example: monitor
        var settings = new GraphTrainingSettings("sgd", Epochs: 1, BatchSize: 4, LearningRate: 0.05, Momentum: 0.9, WeightDecay: 1e-2);
        var trainer = new GraphTrainer<double>(graph, settings, sampleShape: [1, 28, 28], batchesPerEpoch: 4);
        trainer.AttachMonitor(SymmetryCensus.Take(graph).Sites, every: 1);
        trainer.TrainEpoch(batches);                          // minibatch SGD with momentum and weight decay

        // Each generator's Q after each step: measured, and predicted by the exact per-step identity (docs/monitor.md).
        double worst = trainer.Monitored.Max(s => s.Residual / (1 + Math.Abs(s.Measured)));
        // end example

        Assert.Equal(4 * 65, trainer.Monitored.Count);
        Assert.True(worst <= 1e-12, $"worst relative residual {worst:E2}");
    }

    [Fact]
    public void OwnMatrices_GroupActionQAndSpectrum_RunAndTheirClaimsHold()
    {
        // example: own-matrices
        // Your own weights: U is m × h (output layer), V is h × n (hidden layer); a ReLU network F(X) = U relu(V X).
        var rng = new Random(3);
        var u = Tensor<double>.FromDoubles([0.5, -1.0, 0.3, 0.8, 0.2, -0.4], [2, 3]);
        var v = Tensor<double>.FromDoubles([1.0, 0.2, -0.5, 0.7, 0.3, 0.9], [3, 2]) * 0.5;
        var theta = new TwoLayerParameters(u, v);
        var x = Tensor<double>.Identity(2);
        var y = Tensor<double>.FromDoubles([1.0, 0.0, 0.0, 1.0], [2, 2]);

        // ReLU's symmetry group is positive scaling of the hidden units: g·(U, V) = (U g⁻¹, g V) (eq. 12).
        var group = MatrixGroup.ForActivation(Activation.Relu, 3)!;
        var g = group.RandomElement(rng);
        var moved = group.Apply(g, theta);
        var net = new TwoLayerNetwork(Activation.Relu, SquaredErrorLoss.HalfSum);    // L = ½‖Y − F(X)‖²
        double lossBefore = net.Loss(theta, x, y), lossAfter = net.Loss(moved, x, y);  // equal: the function is unchanged

        // Its conserved quantity: diag(UᵀU − VVᵀ), one number per hidden unit (Conservation computes every Q).
        double[] q = ConservedQuantity.OfGroup(group, theta);

        // Linear algebra in one place: g⁻¹, a pseudo-inverse with its rank, and the Hessian's spectrum at θ.
        var gInverse = LinearAlgebra.Inverse(g);
        var pinv = LinearAlgebra.PseudoInverse(v);                                   // V⁺, rank, condition number
        var problem = new TwoLayerProblem(net, 3, x, y);                            // net's loss on this batch
        double[] spectrum = TwoLayerHessian.Spectrum(problem, theta);                // all 12 eigenvalues, ascending
        // end example

        Support.Close.Assert(lossBefore, lossAfter, 1e-14);
        Assert.Equal(3, q.Length);
        var uTu = TensorOps.Transpose(u).MatMul(u);
        var vvT = v.MatMul(TensorOps.Transpose(v));
        for (int k = 0; k < 3; k++) Support.Close.Assert(uTu[k, k] - vvT[k, k], q[k], 1e-14);
        Support.Close.Assert(Tensor<double>.Identity(3).Data, g.MatMul(gInverse).Data, 1e-12, 1e-14);
        Assert.Equal(2, pinv.Rank);
        Support.Close.Assert(v.Data, v.MatMul(pinv.Matrix).MatMul(v).Data, 1e-12, 1e-14);           // V V⁺ V = V
        Assert.Equal(12, spectrum.Length);
        Assert.True(spectrum.Zip(spectrum.Skip(1), (a, b) => a <= b).All(t => t));
    }

    /// <summary>The regions of this file, by name, dedented to the page's indentation.</summary>
    [Fact]
    public void OneActivation_ItsFunctionsLayerGroupAndIntegral_RunAndTheirClaimsHold()
    {
        // example: activation
        var sigma = Activation.Parse("leaky-relu:0.2");     // a name results store (CSV, JSON, noether.arch, --activation)
        double value = sigma.Value(-1.5);                    // σ(−1.5) = −0.3; σ′ and σ″ the same way
        double slope = sigma.Derivative(-1.5), curvature = sigma.SecondDerivative(-1.5);
        var layer = new Activation<float>(sigma, "act");     // the same σ as a network layer, on whole tensors
        var group = MatrixGroup.ForActivation(sigma, 4)!;    // homogeneous of degree 1: positive scaling of 4 units

        // Your own σ: its tape form, σ and σ′ (σ″ optional); it trains, and eq. 48's Q integrates σ/σ′ numerically.
        var softplus = Activation.Elementwise("softplus", z => Ops.Log(Ops.AddScalar(Ops.Exp(z), 1.0)),
            x => Math.Log(1 + Math.Exp(x)), x => 1 / (1 + Math.Exp(-x)));
        double g = ActivationIntegral.For(softplus).Evaluate(0.5);   // G(0.5) = ∫₀^0.5 σ/σ′ dx
        // end example

        Assert.Equal(-0.3, value, 15);
        Assert.Equal(0.2, slope);
        Assert.Equal(0, curvature);
        Assert.Equal("leaky-relu", sigma.Family);
        var z = Tensor<float>.FromDoubles([-2.0, -0.5, 0.0, 1.5], [2, 2]);
        var a = layer.Predict(z);
        for (int i = 0; i < 4; i++) Support.Close.Assert(sigma.Value(z.Data[i]), a.Data[i], 1e-6, 1e-7);   // float32 rounding
        Assert.Equal("positive scaling (α = 1) on ℝ^4", group.Name);
        // σ/σ′ of softplus is (1 + e⁻ˣ) log(1 + eˣ); the trapezoid rule on 20000 intervals is exact to ~1e-10 here.
        int n = 20000;
        double sum = 0;
        for (int i = 0; i <= n; i++)
        {
            double x = 0.5 * i / n, f = (1 + Math.Exp(-x)) * Math.Log(1 + Math.Exp(x));
            sum += (i == 0 || i == n ? 0.5 : 1) * f;
        }
        Support.Close.Assert(sum * 0.5 / n, g, 1e-9);
    }

    private static Dictionary<string, string> Regions()
    {
        string source = File.ReadAllText(Path.Combine(Root(), "tests", "Noether.Tests", "Docs", "LibraryPageTests.cs")).Replace("\r\n", "\n");
        var regions = new Dictionary<string, string>();
        foreach (Match m in Region().Matches(source))
        {
            var lines = m.Groups["body"].Value.TrimEnd('\n', ' ').Split('\n');
            int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
            regions[m.Groups["name"].Value] = string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l.Trim()));
        }
        return regions;
    }

    [GeneratedRegex(@"// example: (?<name>[a-z-]+)\n(?<body>.*?)\n\s*// end example", RegexOptions.Singleline)]
    private static partial Regex Region();

    [GeneratedRegex(@"```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [Fact]
    public void LibraryPage_EveryCodeBlockIsATestedRegion_AndEveryRegionIsOnThePage()
    {
        var regions = Regions();
        Assert.NotEmpty(regions);
        string page = File.ReadAllText(Path.Combine(Root(), "docs", "library.md")).Replace("\r\n", "\n");
        var blocks = CodeBlock().Matches(page).Select(m => m.Groups["code"].Value).ToArray();
        foreach (var block in blocks)
            Assert.True(regions.ContainsValue(block), "docs/library.md has a C# block that no test runs:\n" + block);
        foreach (var (name, code) in regions)
            Assert.True(blocks.Contains(code), $"the example '{name}' of LibraryPageTests is not on docs/library.md verbatim");
    }
}
