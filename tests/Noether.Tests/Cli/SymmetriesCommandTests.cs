using System.Text.Json;
using Noether.Serialization;
using Noether.Tests.Interop;
using Noether.Tests.Support;

namespace Noether.Tests.Cli;

/// <summary><c>noether symmetries</c>: the census of a zoo model written and verified; bad input refused in one line with nothing written.</summary>
public sealed class SymmetriesCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-symmetries-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Weights_and_arch_census_of_a_python_written_mlp_has_the_hand_computed_quantities()
    {
        string weights = Path.Combine(_dir, "mlp.safetensors");
        var stored = AnalyzeFixtures.WriteWithPython(weights, "784-5-4-10", "F32");
        var outDir = Path.Combine(_dir, "arch");
        var r = CliRunner.RunInProcess(["symmetries", "--weights", weights, "--arch", "mlp:784-5-4-10:relu", "--out", outDir]);
        CliOutput.AssertSucceeded(r, outDir);
        var census = CliOutput.AssertCsv(Path.Combine(outDir, "census.csv"), "site", "kind", "location", "group", "dimension", "exact", "conserved", "q_min", "q_mean", "q_max",
            "invariance", "orthogonality", "invariance_eps0", "orthogonality_eps0", "status", "discovered", "discovery_unknowns", "discovery_gap", "discovery", "note");
        var q = CliOutput.AssertCsv(Path.Combine(outDir, "conserved.csv"), "site", "generator", "q");
        // Two rescaling sites (5 and 4 hidden units across ReLU) and the softmax translation (4 + 1).
        Assert.Equal(["Rescaling", "Rescaling", "SoftmaxTranslation"], Enumerable.Range(0, census.RowCount).Select(i => census[i, "kind"]).ToArray());
        // Q of unit a between layers l and l+1: ‖W_l[a, :]‖² + b_l[a]² − ‖W_{l+1}[:, a]‖², from the values Python stored.
        string[] layers = ["0", "2", "4"];
        int[] hidden = [5, 4];
        for (int site = 0; site < 2; site++)
        {
            var (wShape, w) = stored[layers[site] + ".weight"];
            var b = stored[layers[site] + ".bias"].Values;
            var (uShape, u) = stored[layers[site + 1] + ".weight"];
            var rows = Enumerable.Range(0, q.RowCount).Where(i => q[i, "site"] == (site + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(hidden[site], rows.Length);
            for (int a = 0; a < hidden[site]; a++)
            {
                double expected = Enumerable.Range(0, wShape[1]).Sum(k => w[a * wShape[1] + k] * w[a * wShape[1] + k]) + b[a] * b[a]
                    - Enumerable.Range(0, uShape[0]).Sum(c => u[c * uShape[1] + a] * u[c * uShape[1] + a]);
                // float32-exact values, sums of ≤ 785 squares in float64.
                Close.Assert(expected, q.GetDouble(rows[a], "q"), 1e-12, 1e-14, $"site {site + 1} unit {a}");
            }
        }
    }

    [Fact]
    public void Model_and_weights_together_are_refused()
    {
        string weights = Path.Combine(_dir, "w.safetensors");
        AnalyzeFixtures.WriteWithPython(weights, "784-5-4-10", "F32");
        var outDir = Path.Combine(_dir, "both");
        var r = CliRunner.RunInProcess(["symmetries", "--model", Path.Combine(OnnxZooTests.Folder, "mlp.onnx"), "--weights", weights, "--arch", "mlp:784-5-4-10:relu", "--out", outDir]);
        CliRunner.AssertOneLineFailure(r, "--model", "--weights");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Spec_cnn_census_is_written_and_every_site_verified()
    {
        var outDir = Path.Combine(_dir, "spec");
        var r = CliRunner.RunInProcess(["symmetries", "--model", Path.Combine(OnnxZooTests.Folder, "spec_cnn.onnx"),
            "--input", Path.Combine(OnnxZooTests.Folder, "inputs.npy"), "--labels", Path.Combine(OnnxZooTests.Folder, "labels.npy"), "--out", outDir]);
        CliOutput.AssertSucceeded(r, outDir);
        foreach (var f in new[] { "census.csv", "conserved.csv", "census.png", "summary.json" }) Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var root = doc.RootElement;
        // 16 conv channels + 32 hidden units + softmax translation 32 + 1 (see SymmetryCensusTests).
        Assert.Equal(81, root.GetProperty("dimension").GetInt32());
        Assert.Equal(81, root.GetProperty("orbit").GetProperty("rank").GetInt32());
        Assert.True(root.GetProperty("all_verified").GetBoolean());
        // conserved.csv holds one Q per generator: 81 rows.
        Assert.Equal(81 + 1, File.ReadAllLines(Path.Combine(outDir, "conserved.csv")).Length);
    }

    [Fact]
    public void Discover_adds_the_discovery_per_site_to_the_table_csv_and_summary()
    {
        // spec_cnn with a limit of 500 unknowns: the conv-channel site (16·(10 + 16) = 416 unknowns) and the softmax
        // translation (every translation of 10·32 + 10 = 330 entries) are checked and agree; the hidden layer's site
        // (32·(32 + 10) = 1344) is reported as not checked — a finding, never silently dropped.
        var outDir = Path.Combine(_dir, "discover");
        var r = CliRunner.RunInProcess(["symmetries", "--model", Path.Combine(OnnxZooTests.Folder, "spec_cnn.onnx"), "--discover", "--discover-max-unknowns", "500",
            "--input", Path.Combine(OnnxZooTests.Folder, "inputs.npy"), "--labels", Path.Combine(OnnxZooTests.Folder, "labels.npy"), "--out", outDir]);
        CliOutput.AssertSucceeded(r, outDir);
        Assert.Contains("finding:", r.Stdout);
        var rows = File.ReadAllLines(Path.Combine(outDir, "census.csv"));
        var header = rows[0].Split(',');
        int discovered = Array.IndexOf(header, "discovered"), status = Array.IndexOf(header, "discovery");
        Assert.True(discovered > 0 && status > 0, rows[0]);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var root = doc.RootElement;
        var sites = root.GetProperty("sites").EnumerateArray().Select(s => s.GetProperty("discovery")).ToArray();
        Assert.Equal(new[] { "agrees", "not checked", "agrees" }, sites.Select(d => d.GetProperty("status").GetString()).ToArray());
        Assert.Equal(16, sites[0].GetProperty("discovered").GetInt32());
        Assert.Equal(33, sites[2].GetProperty("discovered").GetInt32());
        var findings = root.GetProperty("discovery").GetProperty("findings").EnumerateArray().Select(f => f.GetString()!).ToArray();
        Assert.Single(findings);
        Assert.Contains("not checked", findings[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Discover_max_inputs_without_discover_is_one_line_and_writes_nothing()
    {
        var outDir = Path.Combine(_dir, "inputs-alone");
        var r = CliRunner.RunInProcess(["symmetries", "--model", Path.Combine(OnnxZooTests.Folder, "mlp.onnx"), "--discover-max-inputs", "2048", "--out", outDir]);
        CliRunner.AssertOneLineFailure(r, "--discover-max-inputs", "--discover");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Missing_model_is_one_line_and_writes_nothing()
    {
        var outDir = Path.Combine(_dir, "none");
        var r = CliRunner.RunInProcess(["symmetries", "--model", Path.Combine(_dir, "absent.onnx"), "--out", outDir]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("absent.onnx", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(outDir));
    }
}
