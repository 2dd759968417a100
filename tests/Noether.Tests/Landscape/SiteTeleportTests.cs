using Noether.Graphs;
using Noether.Interop;
using Noether.Landscape;
using Noether.Symmetry.Census;
using Noether.Tensors;
using Noether.Tests.Interop;
using Noether.Tests.Symmetry.Census;

namespace Noether.Tests.Landscape;

/// <summary>
/// Teleporting a census site of an imported model: the conserved quantities hit their targets (1e-8 relative: the
/// solve is closed-form or bisected to the last bit, and Q is a float64 sum of ≲ 1000 terms), the function does not
/// change (float64 on Noether's graph; float32 in ONNX Runtime on the exported model, 1e-5 as for every ORT check),
/// and targets off the orbit are refused with the reason.
/// </summary>
public sealed class SiteTeleportTests
{
    private static Func<string, double[]> Data(Graph<double> graph) => name => graph.Parameter(name)!.Value.Data;

    // The model's class probabilities (softmax over each row): what every site leaves unchanged (a softmax translation
    // shifts the logits themselves by a constant per row).
    private static double[] Probabilities(Graph<double> graph, Tensor<double> x)
    {
        var logits = graph.Evaluate(x)[0];
        int classes = logits.Dim(1);
        var p = new double[logits.Length];
        for (int r = 0; r < logits.Dim(0); r++)
        {
            var row = logits.Data.AsSpan(r * classes, classes);
            double max = row.ToArray().Max(), sum = 0;
            for (int c = 0; c < classes; c++) sum += p[r * classes + c] = Math.Exp(row[c] - max);
            for (int c = 0; c < classes; c++) p[r * classes + c] /= sum;
        }
        return p;
    }

    private static double[] Shifted(double[] q) => q.Select(v => v + (v >= 0 ? 0.25 : -0.25)).ToArray();

    [Theory]
    [InlineData("mlp.onnx", SiteKind.Rescaling)]
    [InlineData("mlp.onnx", SiteKind.SoftmaxTranslation)]
    [InlineData("resnet20.onnx", SiteKind.Rescaling)]
    [InlineData("spec_cnn.onnx", SiteKind.Rescaling)]
    public void Teleport_HitsTheTargetsAndKeepsTheFunction(string file, SiteKind kind)
    {
        var graph = SymmetryCensusTests.Load(file);
        var site = SymmetryCensus.Take(graph).Sites.First(s => s.Kind == kind);
        var (x, _) = SymmetryCensusTests.Batch(4);
        var before = Probabilities(graph, x);
        var targets = Shifted(site.Generators.Select(g => g.Conserved(Data(graph))).ToArray());

        var result = SiteTeleport.Teleport(site, Data(graph), targets);

        Assert.True(result.MaxRelativeError <= 1e-8, $"{file}: Q off its target by {result.MaxRelativeError:E2}");
        // Recomputed from the tensors after the move (not the result's own numbers).
        for (int i = 0; i < targets.Length; i++) Support.Close.Assert(targets[i], site.Generators[i].Conserved(Data(graph)), 1e-8);
        Assert.Contains(result.Coordinates, t => Math.Abs(t) > 1e-3);
        var after = Probabilities(graph, x);
        Assert.True(Support.Close.RelativeError(before, after) <= 1e-10, $"{file}: class probabilities moved by {Support.Close.RelativeError(before, after):E2}");
    }

    [Fact]
    public void Teleport_Mlp_UnitQuantityFromTheTensorsAndOnnxRuntimeAgree()
    {
        string path = Path.Combine(OnnxZooTests.Folder, "mlp.onnx");
        var model = OnnxModel.Load(path);
        var graph = model.ToGraph<double>();
        var site = SymmetryCensus.Take(graph).Sites[0];
        var targets = Enumerable.Range(0, site.Dimension).Select(j => 0.1 * (j - 10)).ToArray();
        SiteTeleport.Teleport(site, Data(graph), targets);

        // Unit 3 of the first hidden layer: ‖row 3 of 1.weight‖² + 1.bias[3]² − ‖column 3 of 3.weight‖², from the tensors.
        var w1 = graph.Parameter("1.weight")!.Value.Data;
        var w2 = graph.Parameter("3.weight")!.Value.Data;
        double q = Enumerable.Range(0, 784).Sum(i => w1[3 * 784 + i] * w1[3 * 784 + i]) + Math.Pow(graph.Parameter("1.bias")!.Value.Data[3], 2)
                   - Enumerable.Range(0, 16).Sum(o => w2[o * 32 + 3] * w2[o * 32 + 3]);
        Support.Close.Assert(targets[3], q, 1e-8);

        // The moved model, exported, runs in ONNX Runtime with the original outputs.
        var x = Tensor<float>.FromDoubles(SymmetryCensusTests.Batch(16).X.Data, [16, 1, 28, 28]);
        var original = OnnxZooTests.RunOrt(path, x);
        string moved = Path.Combine(Path.GetTempPath(), $"noether-site-teleport-{Guid.NewGuid():N}.onnx");
        try
        {
            model.Save(moved, graph.Parameters);
            var after = OnnxZooTests.RunOrt(moved, x);
            double err = Support.Close.RelativeError(original.Select(v => (double)v).ToArray(), after.Select(v => (double)v).ToArray());
            Assert.True(err <= 1e-5, $"ONNX Runtime outputs moved by {err:E2}");
            Assert.NotEqual(OnnxModel.Load(path).ToGraph<double>().Parameter("1.weight")!.Value.Data, OnnxModel.Load(moved).ToGraph<double>().Parameter("1.weight")!.Value.Data);
        }
        finally
        {
            File.Delete(moved);
        }
    }

    private static CensusSite ScalingSite(double[] coefficients, double[] values, out Func<string, double[]> data)
    {
        var store = (double[])values.Clone();
        data = _ => store;
        return new CensusSite(SiteKind.NormalizationScale, "test", "R+", "Q",
            [new CensusGenerator("g", GeneratorKind.Scaling, [new ParameterEntries("w", Enumerable.Range(0, values.Length).ToArray(), coefficients)])]);
    }

    [Fact]
    public void Solve_OnlyPositiveCoefficients_RefusesANonPositiveTargetAndNamesIt()
    {
        // Q = ‖w‖² (a normalisation scale) is e^{2t}‖w‖² along the orbit: every positive target, no other.
        var site = ScalingSite([1, 1], [0.6, 0.8], out var data);
        var error = Assert.Throws<ArgumentException>(() => SiteTeleport.Teleport(site, data, [-1.0]));
        Assert.Equal("target", error.ParamName);
        Assert.Contains("not reachable", error.Message);
        Assert.Contains("(0, ∞)", error.Message);
        var result = SiteTeleport.Teleport(site, data, [0.25]);
        Support.Close.Assert(0.25, result.After[0], 1e-14);
        Support.Close.Assert(0.5 * Math.Log(0.25), result.Coordinates[0], 1e-14); // e^{2t}·1 = 0.25
    }

    [Fact]
    public void Solve_GeneralCoefficients_BisectsToTheTarget()
    {
        // Q(t) = 2·e^{4t}·θ₀² − e^{−2t}·θ₁² has no quadratic closed form; the bisection must still land on the target.
        var site = ScalingSite([2, -1], [0.7, 1.3], out var data);
        var result = SiteTeleport.Teleport(site, data, [3.0]);
        double t = result.Coordinates[0];
        Support.Close.Assert(3.0, 2 * Math.Exp(4 * t) * 0.49 - Math.Exp(-2 * t) * 1.69, 1e-12);
        Support.Close.Assert(3.0, result.After[0], 1e-12);
    }

    [Fact]
    public void Teleport_GeneralLinearSite_IsRefused()
    {
        var site = new CensusSite(SiteKind.GeneralLinear, "W_Q ↔ W_K, head 0", "GL(1)", "UᵀU − VVᵀ",
            [new CensusGenerator("E_00", [new Coupling("q", 0, "q", 0, 1), new Coupling("k", 0, "k", 0, -1)])]);
        var error = Assert.Throws<ArgumentException>(() => SiteTeleport.Teleport(site, _ => [1.0], [2.0]));
        Assert.Equal("site", error.ParamName);
        Assert.Contains("matrix", error.Message);
    }
}
