using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Noether.Tests.Cli;

/// <summary>Fixtures shared by the analyze tests and the bad-input suite: IDX datasets, safetensors bytes, the Python writer.</summary>
public static class AnalyzeFixtures
{
    public const string Python = "/usr/bin/python3";

    /// <summary>Pixel p of image i of <see cref="WriteIdx"/>'s images.</summary>
    public static byte Pixel(int i, int p) => (byte)((i * 37 + p * 11 + (p / 28) * 5) % 256);

    /// <summary>Label of image i.</summary>
    public static int Label(int i) => (i * 3) % 10;

    /// <summary>Writes a raw (uncompressed) Fashion-MNIST-style training split of <paramref name="count"/> 28×28 images.</summary>
    public static string WriteIdx(string dir, int count = 20)
    {
        Directory.CreateDirectory(dir);
        var images = new byte[16 + count * 784];
        BinaryPrimitives.WriteInt32BigEndian(images, 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), 28);
        for (int i = 0; i < count; i++)
            for (int p = 0; p < 784; p++) images[16 + i * 784 + p] = Pixel(i, p);
        var labels = new byte[8 + count];
        BinaryPrimitives.WriteInt32BigEndian(labels, 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), count);
        for (int i = 0; i < count; i++) labels[8 + i] = (byte)Label(i);
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte"), images);
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), labels);
        File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte"), images);
        File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte"), labels);
        return dir;
    }

    /// <summary>
    /// Safetensors bytes built by hand: 8-byte little-endian header length, the JSON header, then the raw data.
    /// <paramref name="headerLength"/> overrides the length field (to fake a header that runs past the file).
    /// </summary>
    public static byte[] SafetensorsBytes(string headerJson, byte[] data, ulong? headerLength = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>Little-endian float32 bytes of <paramref name="count"/> small values.</summary>
    public static byte[] F32(int count, float value = 0.01f)
    {
        var b = new byte[4 * count];
        for (int i = 0; i < count; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), value * (1 + i % 7));
        return b;
    }

    /// <summary>Header and data of the MLP 784-2-2-10 with biases ("0.weight" … "4.bias"); the first tensor's dtype and shape can be changed.</summary>
    public static (string Header, byte[] Data) SmallMlp(string dtypeOfFirst = "F32", int[]? firstShape = null)
    {
        var shapes = new (string Name, int[] Shape)[] { ("0.weight", firstShape ?? [2, 784]), ("0.bias", [2]), ("2.weight", [2, 2]), ("2.bias", [2]), ("4.weight", [10, 2]), ("4.bias", [10]) };
        var header = new StringBuilder("{");
        var data = new List<byte>();
        for (int k = 0; k < shapes.Length; k++)
        {
            var (name, shape) = shapes[k];
            int count = shape.Aggregate(1, (a, b) => a * b);
            string dtype = k == 0 ? dtypeOfFirst : "F32";
            int size = dtype == "F64" ? 8 : dtype == "I16" ? 2 : 4;
            var raw = dtype == "F32" ? F32(count) : new byte[count * size];
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{data.Count},{data.Count + raw.Length}]}}");
            if (k + 1 < shapes.Length) header.Append(',');
            data.AddRange(raw);
        }
        header.Append('}');
        return (header.ToString(), data.ToArray());
    }

    /// <summary>Runs tests/fixtures/write_mlp_safetensors.py; returns the stored values it prints (name → (shape, values)).</summary>
    public static Dictionary<string, (int[] Shape, double[] Values)> WriteWithPython(string path, string widths, string dtype, params string[] extra)
    {
        Assert.True(File.Exists(Python), $"{Python} is required by this test (the independent safetensors writer); install Debian's python3");
        string script = FixturePath("write_mlp_safetensors.py");
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script, path, widths, dtype }.Concat(extra)) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "the python writer did not finish");
        Assert.True(process.ExitCode == 0, $"python writer failed: {stderr.Result}");
        using var doc = JsonDocument.Parse(stdout.Result);
        var result = new Dictionary<string, (int[], double[])>();
        foreach (var p in doc.RootElement.EnumerateObject())
            result[p.Name] = (p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                p.Value.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()).ToArray());
        return result;
    }

    /// <summary>tests/fixtures/<paramref name="name"/>, found by walking up from the test binaries.</summary>
    public static string FixturePath(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures", name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"tests/fixtures/{name} not found above {AppContext.BaseDirectory}");
    }
}

public sealed class AnalyzeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-analyze-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // ---- independent reference computations (plain loops over the Python writer's values) ------------------------

    private static double[,] Matrix((int[] Shape, double[] Values) t)
    {
        var m = new double[t.Shape[0], t.Shape[1]];
        for (int i = 0; i < t.Shape[0]; i++)
            for (int j = 0; j < t.Shape[1]; j++) m[i, j] = t.Values[i * t.Shape[1] + j];
        return m;
    }

    /// <summary>(UᵀU − V̂V̂ᵀ)[a, b] with V̂ = [V | bias].</summary>
    private static double Imbalance(double[,] u, double[,] v, double[]? bias, int a, int b)
    {
        double uu = 0, vv = 0;
        for (int i = 0; i < u.GetLength(0); i++) uu += u[i, a] * u[i, b];
        for (int j = 0; j < v.GetLength(1); j++) vv += v[a, j] * v[b, j];
        if (bias is not null) vv += bias[a] * bias[b];
        return uu - vv;
    }

    private static double Input(int image, int p) => AnalyzeFixtures.Pixel(image, p) / 255f;

    private static readonly double[][] Inputs = [.. Enumerable.Range(0, 20).Select(i => Enumerable.Range(0, 784).Select(p => (double)Input(i, p)).ToArray())];

    /// <summary>Mean cross-entropy of the MLP on images 0 … count−1 (float64, plain loops).</summary>
    private static double Loss(List<(double[,] W, double[]? B)> layers, Func<double, double> sigma, int count, Action<double, double>? hidden = null)
    {
        double total = 0;
        for (int i = 0; i < count; i++)
        {
            var x = Inputs[i];
            for (int l = 0; l < layers.Count; l++)
            {
                var (w, b) = layers[l];
                var y = new double[w.GetLength(0)];
                for (int r = 0; r < y.Length; r++)
                {
                    double s = b?[r] ?? 0;
                    for (int c = 0; c < x.Length; c++) s += w[r, c] * x[c];
                    bool isHidden = l + 1 < layers.Count;
                    y[r] = isHidden ? sigma(s) : s;
                    if (isHidden) hidden?.Invoke(s, y[r]);
                }
                x = y;
            }
            double max = x.Max();
            double logSum = max + Math.Log(x.Sum(z => Math.Exp(z - max)));
            total += logSum - x[AnalyzeFixtures.Label(i)];
        }
        return total / count;
    }

    /// <summary>
    /// The Hessian's diagonal of <see cref="Loss"/> by central second differences, parameter by parameter (the order
    /// does not matter for a trace or a maximum). Error per entry: truncation O(h²) plus rounding ≈ 4ε·L/h².
    /// </summary>
    private static double[] HessianDiagonal(List<(double[,] W, double[]? B)> layers, Func<double, double> sigma, int count, double h)
    {
        double centre = Loss(layers, sigma, count);
        var diagonal = new List<double>();
        double Second(Action<double> set, double value)
        {
            set(value + h);
            double plus = Loss(layers, sigma, count);
            set(value - h);
            double minus = Loss(layers, sigma, count);
            set(value);
            return (plus - 2 * centre + minus) / (h * h);
        }
        foreach (var (w, b) in layers)
        {
            for (int r = 0; r < w.GetLength(0); r++)
                for (int c = 0; c < w.GetLength(1); c++)
                {
                    (int rr, int cc) = (r, c);
                    diagonal.Add(Second(v => w[rr, cc] = v, w[r, c]));
                }
            if (b is not null)
                for (int r = 0; r < b.Length; r++)
                {
                    int rr = r;
                    diagonal.Add(Second(v => b[rr] = v, b[r]));
                }
        }
        return [.. diagonal];
    }

    [Fact]
    public void Analyze_PythonWrittenReluMlp_ConservedQuantitiesOrbitsAndLossMatchPlainLoops()
    {
        string data = AnalyzeFixtures.WriteIdx(Path.Combine(_dir, "data"));
        string weights = Path.Combine(_dir, "mlp.safetensors");
        var stored = AnalyzeFixtures.WriteWithPython(weights, "784-5-4-10", "F32");
        string outDir = Path.Combine(_dir, "out");
        var r = CliRunner.Run(["analyze", "--weights", weights, "--arch", "mlp:784-5-4-10:relu", "--data-dir", data, "--samples", "1000",
            "--trace-probes", "100", "--out", outDir]);
        CliOutput.AssertSucceeded(r, outDir);
        var summary = CliOutput.Summary(outDir, "analyze");
        var pairs = summary.GetProperty("pairs").EnumerateArray().ToArray();
        Assert.Equal(2, pairs.Length);

        var w = new[] { Matrix(stored["0.weight"]), Matrix(stored["2.weight"]), Matrix(stored["4.weight"]) };
        var b = new[] { stored["0.bias"].Values, stored["2.bias"].Values, stored["4.bias"].Values };
        int[] hidden = [5, 4];
        var csv = CliOutput.AssertCsv(Path.Combine(outDir, "conserved.csv"), "pair", "row", "col", "u_term", "v_term", "q");
        for (int p = 0; p < 2; p++)
        {
            // ReLU: diag(UᵀU − V̂V̂ᵀ) (Ex. 9, α = 1), U = the next layer's weight, V̂ = [weight | bias] of this one.
            var q = pairs[p].GetProperty("q").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(hidden[p], q.Length);
            for (int a = 0; a < hidden[p]; a++)
            {
                double expected = Imbalance(w[p + 1], w[p], b[p], a, a);
                // Same float32-exact inputs, sums of ≤ 785 products in float64: agreement to ~1e-15 relative.
                Assert.Equal(expected, q[a], 1e-13);
                int row = Enumerable.Range(0, csv.RowCount).Single(i => csv[i, "pair"] == $"{p + 1}" && csv[i, "row"] == $"{a}");
                Assert.Equal(expected, csv.GetDouble(row, "q"), 1e-13);
            }
            Assert.Equal("diag(UᵀU − V̂V̂ᵀ)", pairs[p].GetProperty("quantity").GetString());
            Assert.StartsWith("positive scaling", pairs[p].GetProperty("group").GetString());
            // Generic weights: the scaling orbit has dimension h (SPEC), measured as a rank.
            Assert.Equal(hidden[p], pairs[p].GetProperty("orbitMeasured").GetInt32());
            Assert.Equal(hidden[p], pairs[p].GetProperty("orbitClosedForm").GetInt32());
        }
        Assert.Contains("diag(UᵀU − V̂V̂ᵀ)", r.Stdout);

        // The loss on all 20 images, from the same float32 weights and the IDX pixels /255 in float32.
        var layers = Enumerable.Range(0, 3).Select(l => (w[l], (double[]?)b[l])).ToList();
        double loss = Loss(layers, z => Math.Max(0, z), 20);
        Assert.Equal(20, summary.GetProperty("data").GetProperty("samples").GetInt32());
        Assert.Equal(loss, summary.GetProperty("loss").GetDouble(), 1e-12);

        // Sharpness against the Hessian's diagonal from second differences of the plain-loop loss: λ_max ≥ max_i H_ii
        // (H_ii = e_iᵀHe_i is a Rayleigh quotient) and Hutchinson's trace within 4 of its standard errors of Σ H_ii.
        // ReLU has kinks: the step keeps every hidden pre-activation's sign inside the stencil (|Δz| ≤ h·scale), so the
        // second differences are of a smooth function.
        double minPre = double.PositiveInfinity, maxActivation = 0;
        Loss(layers, z => Math.Max(0, z), 20, (pre, post) => (minPre, maxActivation) = (Math.Min(minPre, Math.Abs(pre)), Math.Max(maxActivation, post)));
        double scale = Math.Max(1, Math.Max(maxActivation, w.Max(m => m.Cast<double>().Max(Math.Abs))));
        const double step = 1e-4;
        Assert.True(minPre > 2 * step * scale, $"a pre-activation {minPre:E2} is within the stencil (h·scale = {step * scale:E2})");
        var diagonal = HessianDiagonal(layers, z => Math.Max(0, z), 20, step);
        Assert.Equal(784 * 5 + 5 + 5 * 4 + 4 + 4 * 10 + 10, diagonal.Length);
        // Rounding: 4ε·L/h² ≈ 2e-8 per entry, so Σ over 3999 entries is good to ~1e-4; far below the probes' standard error.
        var sharpness = summary.GetProperty("sharpness");
        double top = sharpness.GetProperty("topEigenvalue").GetDouble(), maxDiagonal = diagonal.Max();
        Assert.True(top >= maxDiagonal - 1e-6, $"λ_max {top} below the largest diagonal entry {maxDiagonal}");
        double trace = sharpness.GetProperty("trace").GetDouble(), se = sharpness.GetProperty("traceStandardError").GetDouble(), exact = diagonal.Sum();
        Assert.True(Math.Abs(trace - exact) <= 4 * se, $"Hutchinson {trace} ± {se} vs Σ H_ii {exact}");
    }

    [Fact]
    public void Analyze_LinearMlpWithRescaleAndEnsemble_MatrixQuantityAndExactOrbitMoves()
    {
        string data = AnalyzeFixtures.WriteIdx(Path.Combine(_dir, "data"));
        string weights = Path.Combine(_dir, "linear.safetensors");
        // nn.Sequential(Linear, Linear, Linear) names 0, 1, 2; float64.
        var stored = AnalyzeFixtures.WriteWithPython(weights, "784-3-2-10", "F64", "--step", "1");
        string outDir = Path.Combine(_dir, "out");
        string ensembleDir = Path.Combine(_dir, "members");
        var r = CliRunner.Run(["analyze", "--weights", weights, "--arch", "mlp:784-3-2-10:identity", "--data-dir", data, "--no-sharpness",
            "--rescale", "--ensemble", "2", "--ensemble-out", ensembleDir, "--out", outDir]);
        CliOutput.AssertSucceeded(r, outDir);
        var summary = CliOutput.Summary(outDir, "analyze");
        var pairs = summary.GetProperty("pairs").EnumerateArray().ToArray();
        var w = new[] { Matrix(stored["0.weight"]), Matrix(stored["1.weight"]), Matrix(stored["2.weight"]) };
        var b = new[] { stored["0.bias"].Values, stored["1.bias"].Values, stored["2.bias"].Values };
        int[] hidden = [3, 2];
        for (int p = 0; p < 2; p++)
        {
            // Identity σ: the whole h×h matrix UᵀU − V̂V̂ᵀ (Ex. 7), row-major.
            var q = pairs[p].GetProperty("q").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            int h = hidden[p];
            Assert.Equal(h * h, q.Length);
            for (int i = 0; i < h; i++)
                for (int j = 0; j < h; j++) Assert.Equal(Imbalance(w[p + 1], w[p], b[p], i, j), q[i * h + j], 1e-13);
            Assert.Equal($"GL({h})", pairs[p].GetProperty("group").GetString());
        }
        // GL orbit dimension h² − max(0, h−n)·max(0, h−m) (eq. 20): pair 1 (m=2, h=3, n=785): 9; pair 2 (m=10, h=2, n=4): 4.
        // (The writer's sin weights have rank ≤ 2 (≤ 3 with the bias); the map's kernel {M : UM = 0, MV̂ = 0} has dimension
        // (h − rank U)(h − rank V̂) = 0 in both pairs here, so the generic value is expected.)
        Assert.Equal(9, pairs[0].GetProperty("orbitMeasured").GetInt32());
        Assert.Equal(4, pairs[1].GetProperty("orbitMeasured").GetInt32());

        // --rescale: the written model is (g V̂, U g⁻¹) for a positive diagonal g on each hidden layer, loss unchanged.
        var rescale = summary.GetProperty("rescale");
        double before = rescale.GetProperty("lossBefore").GetDouble(), after = rescale.GetProperty("lossAfter").GetDouble();
        Assert.Equal(before, after, 1e-12);
        Assert.Equal(before, rescale.GetProperty("writtenLoss").GetDouble(), 1e-12); // F64 in, F64 out
        Assert.True(rescale.GetProperty("maxQChange").GetDouble() > 1e-3);
        var moved = Noether.Serialization.SafeTensors.Read(Path.Combine(outDir, "rescaled.safetensors"));
        var w0 = moved.GetTensor<double>("0.weight");
        var b0 = moved.GetTensor<double>("0.bias");
        var w1 = moved.GetTensor<double>("1.weight");
        var b1 = moved.GetTensor<double>("1.bias");
        var w2 = moved.GetTensor<double>("2.weight");
        // g₁ = diag(s), g₂ = diag(t): W₀' = g₁W₀, b₀' = g₁b₀, W₁' = g₂W₁g₁⁻¹, b₁' = g₂b₁, W₂' = W₂g₂⁻¹, b₂' = b₂.
        var s1 = Enumerable.Range(0, 3).Select(a => w0[a, 0] / w[0][a, 0]).ToArray();
        var t2 = Enumerable.Range(0, 2).Select(c => b1[c] / b[1][c]).ToArray();
        Assert.All(s1.Concat(t2), x => Assert.True(x > 0 && Math.Abs(x - 1) > 1e-6, $"scale {x}"));
        for (int a = 0; a < 3; a++)
        {
            for (int j = 0; j < 784; j += 13) Assert.Equal(s1[a] * w[0][a, j], w0[a, j], 1e-14);
            Assert.Equal(s1[a] * b[0][a], b0[a], 1e-14);
            for (int c = 0; c < 2; c++) Assert.Equal(t2[c] * w[1][c, a] / s1[a], w1[c, a], 1e-13);
        }
        for (int i = 0; i < 10; i++)
            for (int c = 0; c < 2; c++) Assert.Equal(w[2][i, c] / t2[c], w2[i, c], 1e-13);
        Assert.Equal(b[2], moved.GetTensor<double>("2.bias").Data.ToArray());

        // --ensemble: each member computes the same function (the GL action is an exact symmetry of a linear network).
        var files = Directory.GetFiles(ensembleDir, "*.safetensors").Order().ToArray();
        Assert.Equal(["member-000.safetensors", "member-001.safetensors"], files.Select(Path.GetFileName));
        var original = Enumerable.Range(0, 3).Select(l => (w[l], (double[]?)b[l])).ToList();
        double reference = Loss(original, z => z, 20);
        Assert.Equal(reference, summary.GetProperty("loss").GetDouble(), 1e-12);
        foreach (var file in files)
        {
            var m = Noether.Serialization.SafeTensors.Read(file);
            var layers = new[] { "0", "1", "2" }.Select(k =>
            {
                var t = m.GetTensor<double>($"{k}.weight");
                var wm = new double[t.Dim(0), t.Dim(1)];
                for (int i = 0; i < t.Dim(0); i++)
                    for (int j = 0; j < t.Dim(1); j++) wm[i, j] = t[i, j];
                return (wm, (double[]?)m.GetTensor<double>($"{k}.bias").Data.ToArray());
            }).ToList();
            Assert.False(layers[0].wm[0, 0] == w[0][0, 0], "the member equals the model: no group element was applied");
            Assert.Equal(reference, Loss(layers, z => z, 20), 1e-10);
        }
    }

    [Fact]
    public void Analyze_HiddenWiderThanNeighbours_MeasuresTheCorrectedScalingOrbit()
    {
        string data = AnalyzeFixtures.WriteIdx(Path.Combine(_dir, "data"));
        string weights = Path.Combine(_dir, "wide.safetensors");
        AnalyzeFixtures.WriteWithPython(weights, "784-2-20-10", "F32");
        string outDir = Path.Combine(_dir, "out");
        var r = CliRunner.RunInProcess(["analyze", "--weights", weights, "--arch", "mlp:784-2-20-10:leaky-relu=0.2", "--data-dir", data, "--no-sharpness", "--out", outDir]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var summary = CliOutput.Summary(outDir, "analyze");
        var pair = summary.GetProperty("pairs")[1];
        // Pair 2: U is 10×20, V̂ = [W | b] is 20×3; h = 20 > max(m, n) = 10: the scaling orbit has dimension h = 20
        // (SPEC), the paper's eq. 21 says min(h, max(n, m)) = 10.
        Assert.Equal(20, pair.GetProperty("orbitMeasured").GetInt32());
        Assert.Equal(20, pair.GetProperty("orbitClosedForm").GetInt32());
        Assert.Equal(10, pair.GetProperty("orbitPaper").GetInt32());
        var claim = summary.GetProperty("claims").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "orbit-dimension-pair-2");
        Assert.Equal("Corrected", claim.GetProperty("verdict").GetString());
    }

    [Fact]
    public void Analyze_SpecCnn_ChannelScalingQuantityMatchesPlainLoopsAndRescaleKeepsTheLoss()
    {
        string data = AnalyzeFixtures.WriteIdx(Path.Combine(_dir, "data"));
        // A tiny SPEC CNN: 2 conv channels, h = 3, 10 classes, 28×28 inputs (pooled 14×14 = 196 features per channel).
        var rng = new Random(7);
        double Draw() => rng.NextDouble() - 0.5;
        var shapes = new (string Name, int[] Shape)[] { ("0.weight", [2, 1, 3, 3]), ("0.bias", [2]), ("3.weight", [3, 392]), ("3.bias", [3]), ("5.weight", [10, 3]), ("5.bias", [10]) };
        var values = shapes.ToDictionary(t => t.Name, t => Enumerable.Range(0, t.Shape.Aggregate(1, (a, b) => a * b)).Select(_ => Draw() * (t.Name == "3.weight" ? 0.1 : 1)).ToArray());
        string weights = Path.Combine(_dir, "cnn.safetensors");
        Noether.Serialization.SafeTensors.Write(weights, shapes.Select(t => (t.Name, new Noether.Tensors.Tensor<double>(values[t.Name], t.Shape))));
        string outDir = Path.Combine(_dir, "out");
        var r = CliRunner.RunInProcess(["analyze", "--weights", weights, "--arch", "spec-cnn:hidden=3,classes=10", "--data-dir", data, "--no-sharpness", "--rescale",
            "--ensemble", "2", "--out", outDir]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var summary = CliOutput.Summary(outDir, "analyze");
        var q = summary.GetProperty("pairs")[0].GetProperty("q").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(2, q.Length);
        for (int c = 0; c < 2; c++)
        {
            // Channel c owns columns c·196 … c·196 + 195 of the hidden weight; its conv filter and bias form the row of V̂.
            double u = 0, v = values["0.bias"][c] * values["0.bias"][c];
            for (int i = 0; i < 3; i++)
                for (int p = 0; p < 196; p++) u += Math.Pow(values["3.weight"][i * 392 + c * 196 + p], 2);
            for (int k = 0; k < 9; k++) v += Math.Pow(values["0.weight"][c * 9 + k], 2);
            Assert.Equal(u - v, q[c], 1e-13);
        }
        var hidden = summary.GetProperty("pairs")[1].GetProperty("q").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int a = 0; a < 3; a++)
        {
            double u = 0, v = values["3.bias"][a] * values["3.bias"][a];
            for (int i = 0; i < 10; i++) u += Math.Pow(values["5.weight"][i * 3 + a], 2);
            for (int j = 0; j < 392; j++) v += Math.Pow(values["3.weight"][a * 392 + j], 2);
            Assert.Equal(u - v, hidden[a], 1e-13);
        }
        // Channel scaling through max-pool and unit scaling through LeakyReLU leave the loss unchanged (float64).
        var rescale = summary.GetProperty("rescale");
        Assert.Equal(rescale.GetProperty("lossBefore").GetDouble(), rescale.GetProperty("lossAfter").GetDouble(), 1e-12);
        Assert.Equal([1, 2], rescale.GetProperty("pairs").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(outDir, "ensemble"), "member-*.safetensors").Length);
    }

    [Fact]
    public void Analyze_RankDeficientLinearWeights_OrbitRankIsHSquaredMinusTheKernel()
    {
        string data = AnalyzeFixtures.WriteIdx(Path.Combine(_dir, "data"));
        string weights = Path.Combine(_dir, "lowrank.safetensors");
        AnalyzeFixtures.WriteWithPython(weights, "784-16-8-10", "F64", "--step", "1");
        string outDir = Path.Combine(_dir, "out");
        var r = CliRunner.RunInProcess(["analyze", "--weights", weights, "--arch", "mlp:784-16-8-10:identity", "--data-dir", data, "--no-sharpness", "--out", outDir]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var pairs = CliOutput.Summary(outDir, "analyze").GetProperty("pairs");
        // The writer's W[i][j] = s·sin(a(i+1) + b(j+1) + c) = s[sin(a(i+1)+c)cos(b(j+1)) + cos(a(i+1)+c)sin(b(j+1))] has
        // rank 2; the bias column cos(…) adds one to V̂. The kernel of M ↦ (−UM, MV̂) is {M : range M ⊆ ker U, M V̂ = 0},
        // of dimension (h − rank U)(h − rank V̂): the orbit has h² − (h − 2)(h − 3) dimensions, not the generic h².
        Assert.Equal(16 * 16 - 14 * 13, pairs[0].GetProperty("orbitMeasured").GetInt32());
        Assert.Equal(8 * 8 - 6 * 5, pairs[1].GetProperty("orbitMeasured").GetInt32());
        Assert.Equal(256, pairs[0].GetProperty("orbitClosedForm").GetInt32());

        // Wider layers (dim 𝔤 = h² > 600) use the rank identity instead of an SVD of the map, and F32 weights a rank cut
        // (1e-5) above float32 rounding: the same kernel count must come out, h² − (h − 2)(h − 3).
        string wide = Path.Combine(_dir, "lowrank-wide.safetensors");
        AnalyzeFixtures.WriteWithPython(wide, "784-40-30-10", "F32");
        string outWide = Path.Combine(_dir, "out-wide");
        r = CliRunner.RunInProcess(["analyze", "--weights", wide, "--arch", "mlp:784-40-30-10:identity", "--data-dir", data, "--no-sharpness", "--out", outWide]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        pairs = CliOutput.Summary(outWide, "analyze").GetProperty("pairs");
        Assert.Equal(40 * 40 - 38 * 37, pairs[0].GetProperty("orbitMeasured").GetInt32());
        Assert.Equal(30 * 30 - 28 * 27, pairs[1].GetProperty("orbitMeasured").GetInt32());
    }

    public static TheoryData<string, string, string[]> MalformedFiles() => new()
    {
        // name, file bytes (as a recipe), the words stderr must contain
        { "truncated-data", "truncated", ["truncated", "4.bias"] },
        { "header-length-beyond-file", "header-beyond", ["header length", "only"] },
        { "dtype-I16", "dtype", ["0.weight", "I16", "F32 or F64"] },
        { "shape-mismatch-with-arch", "shape", ["0.weight", "[2, 100]", "[2, 784]"] },
        { "not-json-header", "garbage", ["not valid JSON"] },
        { "unexpected-tensor-name", "renamed", ["4.extra", "K.weight"] },
        { "fewer-layers-than-arch", "fewer", ["4 Linear layers", "3 weight tensor"] },
    };

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public void Analyze_MalformedSafetensors_FailsCleanlyNamingFileAndTensor(string name, string recipe, string[] mentions)
    {
        string path = Path.Combine(_dir, name + ".safetensors");
        var (header, data) = AnalyzeFixtures.SmallMlp();
        byte[] bytes = recipe switch
        {
            "truncated" => AnalyzeFixtures.SafetensorsBytes(header, data)[..^12],
            "header-beyond" => AnalyzeFixtures.SafetensorsBytes(header, data, headerLength: 1_000_000),
            "dtype" => AnalyzeFixtures.SafetensorsBytes(AnalyzeFixtures.SmallMlp("I16").Header, AnalyzeFixtures.SmallMlp("I16").Data),
            "shape" => AnalyzeFixtures.SafetensorsBytes(AnalyzeFixtures.SmallMlp(firstShape: [2, 100]).Header, AnalyzeFixtures.SmallMlp(firstShape: [2, 100]).Data),
            "garbage" => AnalyzeFixtures.SafetensorsBytes("{\"0.weight\": [1, 2", new byte[8]),
            "renamed" => AnalyzeFixtures.SafetensorsBytes(header.Replace("\"4.weight\"", "\"4.extra\"", StringComparison.Ordinal), data),
            _ => AnalyzeFixtures.SafetensorsBytes(header, data),
        };
        File.WriteAllBytes(path, bytes);
        string arch = recipe == "fewer" ? "mlp:784-2-2-2-10" : "mlp:784-2-2-10:relu";
        string outDir = Path.Combine(_dir, "out-" + name);
        var r = CliRunner.RunInProcess(["analyze", "--weights", path, "--arch", arch, "--no-sharpness", "--out", outDir]);
        CliRunner.AssertOneLineFailure(r, [path, .. mentions]);
        Assert.False(Directory.Exists(outDir), "a rejected run created its output folder");
    }
}
