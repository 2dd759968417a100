using Noether.Data;
using Noether.Ensembles;
using Noether.Landscape;
using Noether.Nn;
using Noether.Serialization;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Cli;

public sealed class SharpnessCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-sharpness-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A tiny SPEC CNN for 28×28 grey images and 10 classes (1 conv channel, h = 2: 434 parameters), saved as float32 safetensors.</summary>
    private string SaveTinyCnn(string name, int inChannels = 1, Func<string, string>? rename = null)
    {
        var model = Models.SpecCnn<float>(new Random(7), inChannels, 28, 10, channels: 1, hidden: 2, leakySlope: 0.01);
        string path = Path.Combine(_dir, name);
        SafeTensors.Write(path, model.Parameters.Select(p => (rename is null ? p.Name : rename(p.Name), p.Value)),
            new Dictionary<string, string> { ["noether.arch"] = "spec-cnn:in=1,size=28,channels=1,hidden=2,classes=10,slope=0.01" });
        return path;
    }

    /// <summary>
    /// Fig. 8 at the quick profile (the paper's 750 parameters, six init stds; ≈ 5 s, most of it GD to ‖∇L‖ ≤ 1e-9):
    /// the flat counts and the 1-D eigenvalues are recomputed here from the CSVs.
    /// </summary>
    [Fact]
    public void Sharpness_QuickProfile_FlatCountIsTheFibreDimensionAndOneDIsExact()
    {
        var r = CliRunner.Run(["sharpness", "--profile", "quick", "--out", _dir, "--force"]);
        CliOutput.AssertSucceeded(r, _dir);
        var summary = CliOutput.Summary(_dir, "sharpness");
        foreach (var f in summary.GetProperty("figures").EnumerateArray()) CliOutput.AssertPng(Path.Combine(_dir, f.GetProperty("file").GetString()!));

        // Fig. 8 shapes m = 10, h = 50, n = 5: the fibre {UV = Y} has dimension h(m + n) − mn = 700 at full rank.
        var spectra = CliOutput.AssertCsv(Path.Combine(_dir, "sharpness-spectra.csv"), "activation", "std", "q", "index", "eigenvalue");
        var runs = summary.GetProperty("runs").EnumerateArray().ToArray();
        Assert.Equal(18, runs.Length);
        foreach (var run in runs)
        {
            string activation = run.GetProperty("activation").GetString()!;
            double std = run.GetProperty("std").GetDouble();
            var eig = Enumerable.Range(0, spectra.RowCount).Where(i => spectra[i, "activation"] == activation && spectra.GetDouble(i, "std") == std)
                .Select(i => spectra.GetDouble(i, "eigenvalue")).ToArray();
            Assert.Equal(750, eig.Length);
            int flat = eig.Count(l => Math.Abs(l) <= 1e-3);
            Assert.Equal(flat, run.GetProperty("flat").GetInt32());
            if (activation == "identity")
            {
                Assert.Equal(700, run.GetProperty("fibreDimension").GetInt32());
                Assert.Equal(700, flat);
            }
        }
        // Linear, the paper's setting: the centre of the curved eigenvalues increases with Q.
        var linear = summary.GetProperty("correlations").EnumerateArray().Single(c => c.GetProperty("activation").GetString() == "identity");
        Assert.True(linear.GetProperty("medianVsQ").GetDouble() >= 0.9);

        // G.1: the second eigenvalue is √(Q² + 4) and U² − V² = Q, UV = 1 at the listed minimum.
        var oneD = CliOutput.AssertCsv(Path.Combine(_dir, "sharpness-1d.csv"), "q", "u", "v", "eigenvalue_0", "eigenvalue_1", "closed_form", "eigenvalue_1_without_half", "max_error");
        Assert.True(oneD.RowCount >= 20);
        for (int i = 0; i < oneD.RowCount; i++)
        {
            double q = oneD.GetDouble(i, "q"), u = oneD.GetDouble(i, "u"), v = oneD.GetDouble(i, "v");
            Close.Assert(1, u * v, 1e-14, 0, "UV");
            Close.Assert(q, u * u - v * v, 1e-13, 1e-13, "U² − V²");
            // The Hessian [[V², 1], [1, U²]] at UV = 1: eigenvalues 0 and U² + V² (a 2×2 matrix, computed by hand).
            Assert.True(Math.Abs(oneD.GetDouble(i, "eigenvalue_0")) <= 1e-10);
            Assert.True(Math.Abs(oneD.GetDouble(i, "eigenvalue_1") - Math.Sqrt(q * q + 4)) <= 1e-10);
            Assert.True(Math.Abs(oneD.GetDouble(i, "eigenvalue_1_without_half") - 2 * Math.Sqrt(q * q + 4)) <= 1e-10);
        }
        var claims = summary.GetProperty("claims").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.GetProperty("verdict").GetString()!);
        Assert.Equal("Corrected", claims["sharpness-1d-eigenvalues"]);
        Assert.Equal("Reproduced", claims["fig8-linear-flat-count"]);
        Assert.Equal("Reproduced", claims["fig8-identity-centre-vs-q"]);
    }

    /// <summary>
    /// --weights on a 434-parameter SPEC CNN and 16 Fashion-MNIST images: Lanczos's top eigenvalues against the dense
    /// eigendecomposition of the full Hessian (a second algorithm), per tensor against the eigenvalues of the full Hessian's
    /// diagonal blocks, and Hutchinson's trace within 4 of its standard errors of the exact trace.
    /// </summary>
    [Fact]
    public void Sharpness_Weights_TopEigenvaluesAndTraceMatchTheFullHessian()
    {
        string weights = SaveTinyCnn("tiny.safetensors");
        string modelDir = Path.Combine(_dir, "model"), layerDir = Path.Combine(_dir, "layer");
        string[] common = ["sharpness", "--weights", weights, "--samples", "16", "--top-k", "2", "--probes", "200", "--density-probes", "2", "--density-steps", "20"];
        var r = CliRunner.Run([.. common, "--out", modelDir]);
        CliOutput.AssertSucceeded(r, modelDir);
        var rl = CliRunner.Run([.. common, "--scope", "layer", "--out", layerDir]);
        CliOutput.AssertSucceeded(rl, layerDir);
        CliOutput.AssertPng(Path.Combine(modelDir, "sharpness-density.png"));
        CliOutput.AssertPng(Path.Combine(layerDir, "sharpness-density.png"));

        // The same model (float32 → float64 is exact) and batch, Hessian formed column by column.
        var model = SpecCnnCopy.FromTensors(SafeTensors.ReadTensors<double>(weights), 0.01);
        var batch = FashionMnist.Load(train: true).Subset(0, 16);
        var full = ModelHessian.CrossEntropy(model, batch.ImagesAsDouble(), batch.Labels).Full();
        var (exact, _) = LinearAlgebra.SymmetricEigen(full, vectors: false);

        var summary = CliOutput.Summary(modelDir, "sharpness");
        Assert.Equal(434, summary.GetProperty("parameters").GetInt32());
        var block = summary.GetProperty("blocks").EnumerateArray().Single();
        var top = block.GetProperty("topEigenvalues").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        // Lanczos stops at residual ≤ 1e-8·|θ|, which bounds the eigenvalue error by the same amount.
        Close.Assert([exact[^1], exact[^2]], top, 1e-6, 1e-10);
        double trace = block.GetProperty("trace").GetDouble(), se = block.GetProperty("traceStandardError").GetDouble();
        Assert.True(Math.Abs(trace - exact.Sum()) <= 4 * se, $"Hutchinson {trace} ± {se} vs exact {exact.Sum()}");

        var blocks = CliOutput.Summary(layerDir, "sharpness").GetProperty("blocks").EnumerateArray().ToArray();
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias", "5.weight", "5.bias"], blocks.Select(b => b.GetProperty("block").GetString()));
        int offset = 0;
        foreach (var b in blocks)
        {
            int n = b.GetProperty("parameters").GetInt32();
            var sub = Tensor<double>.Zeros(n, n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) sub[i, j] = full[offset + i, offset + j];
            var (subEig, _) = LinearAlgebra.SymmetricEigen(sub, vectors: false);
            var got = b.GetProperty("topEigenvalues").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(Math.Min(2, n), got.Length); // a 1-entry bias (0.bias here) gives its one eigenvalue
            Close.Assert(subEig.Reverse().Take(got.Length).ToArray(), got, 1e-6, 1e-10, b.GetProperty("block").GetString());
            offset += n;
        }
        Assert.Equal(434, offset);
    }

    [Fact]
    public void Sharpness_MissingWeightsFile_FailsNamingIt()
    {
        string outDir = Path.Combine(_dir, "out");
        var r = CliRunner.Run(["sharpness", "--weights", Path.Combine(_dir, "nope.safetensors"), "--out", outDir]);
        CliRunner.AssertCleanFailure(r, "--weights", "nope.safetensors");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Sharpness_WeightsOfAnotherArchitecture_NameTheTensorAndBothShapes()
    {
        string outDir = Path.Combine(_dir, "out");
        // Three image channels (a CIFAR model) against Fashion-MNIST's one.
        var r = CliRunner.Run(["sharpness", "--weights", SaveTinyCnn("rgb.safetensors", inChannels: 3), "--samples", "4", "--out", outDir]);
        CliRunner.AssertCleanFailure(r, "0.weight", "[1, 3, 3, 3]", "[1, 1, 3, 3]");
        Assert.Single(r.Stderr.Trim().Split('\n'));
        // A tensor under a name the SPEC CNN does not have.
        r = CliRunner.Run(["sharpness", "--weights", SaveTinyCnn("renamed.safetensors", rename: n => n == "5.bias" ? "fc.bias" : n), "--out", outDir]);
        CliRunner.AssertCleanFailure(r, "missing 5.bias", "unexpected fc.bias");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Sharpness_TopKAboveTheParameterCount_FailsNamingBoth()
    {
        string outDir = Path.Combine(_dir, "out");
        var r = CliRunner.Run(["sharpness", "--weights", SaveTinyCnn("tiny.safetensors"), "--samples", "4", "--top-k", "435", "--out", outDir]);
        CliRunner.AssertCleanFailure(r, "--top-k", "435", "434");
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(outDir));
    }

    /// <summary>
    /// --model on the zoo MLP (ONNX, 25 818 parameters) and the first 16 Fashion-MNIST training images, per tensor: the
    /// blocks of the last layer against LAPACK on their dense Hessians (<see cref="HessianOperator{T}.Full()"/> of the graph's
    /// loss over that tensor alone).
    /// </summary>
    [Fact]
    public void Sharpness_Model_PerTensorBlocksMatchTheDenseHessians()
    {
        string model = Path.Combine(Noether.Tests.Interop.OnnxZooTests.Folder, "mlp.onnx");
        string outDir = Path.Combine(_dir, "onnx");
        var r = CliRunner.Run(["sharpness", "--model", model, "--samples", "16", "--scope", "layer", "--top-k", "2", "--probes", "10", "--density-probes", "1", "--density-steps", "10", "--out", outDir]);
        CliOutput.AssertSucceeded(r, outDir);
        var summary = CliOutput.Summary(outDir, "sharpness");
        Assert.Equal("model", summary.GetProperty("mode").GetString());
        Assert.Equal(25818, summary.GetProperty("parameters").GetInt32());
        var graph = Noether.Interop.OnnxModel.Load(model).ToGraph<double>(new Noether.Graphs.GraphOptions { BatchNorm = Noether.Graphs.BatchNormMode.Inference });
        var blocks = summary.GetProperty("blocks").EnumerateArray().ToArray();
        Assert.Equal(graph.Parameters.Select(p => p.Name), blocks.Select(b => b.GetProperty("block").GetString()));
        var batch = FashionMnist.Load(train: true).Subset(0, 16);
        foreach (var name in new[] { "5.weight", "5.bias" })
        {
            var full = ModelHessian.CrossEntropy(graph, batch.ImagesAsDouble(), batch.Labels, [graph.Parameter(name)!]).Full();
            var (exact, _) = LinearAlgebra.SymmetricEigen(full, vectors: false);
            var got = blocks.Single(b => b.GetProperty("block").GetString() == name).GetProperty("topEigenvalues").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            // Lanczos on a block of ≤ 160 entries runs to its dimension: exact to rounding, 1e-8 of the largest eigenvalue.
            Close.Assert(exact.Reverse().Take(2).ToArray(), got, 0, 1e-8 * Math.Abs(exact[^1]), name);
        }
    }
}
