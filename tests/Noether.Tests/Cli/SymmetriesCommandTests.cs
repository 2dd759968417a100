using System.Text.Json;
using Noether.Serialization;
using Noether.Tests.Interop;

namespace Noether.Tests.Cli;

/// <summary><c>noether symmetries</c>: the census of a zoo model written and verified; bad input refused in one line with nothing written.</summary>
public sealed class SymmetriesCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-symmetries-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

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
