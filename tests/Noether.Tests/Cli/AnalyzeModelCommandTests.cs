using System.Text.Json;
using Json.Schema;
using Noether.Data;
using Noether.Experiments;
using Noether.Graphs;
using Noether.Interop;
using Noether.Symmetry.Census;
using Noether.Tests.Interop;
using Noether.Tests.Support;

namespace Noether.Tests.Cli;

/// <summary>
/// <c>noether analyze --model</c> end to end on the MLP fixture: the report's files, the census in census.csv equal to the
/// library's census of the same file, the batch loss equal to an independent forward pass over the same images, and bad
/// input (a --weights option beside --model, neither model given) refused with one line.
/// </summary>
public sealed class AnalyzeModelCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-analyze-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Model => Path.Combine(OnnxZooTests.Folder, "mlp.onnx");

    [Fact]
    public void AnalyzeModel_MlpFixture_WritesTheReportWithTheLibrarysCensusAndTheBatchLoss()
    {
        string outDir = Path.Combine(_dir, "run");
        var r = CliRunner.RunInProcess(["analyze", "--model", Model, "--samples", "24", "--trace-probes", "3", "--seed", "7", "--out", outDir]);
        CliOutput.AssertSucceeded(r, outDir);
        foreach (var png in new[] { "conserved.png", "loss-lines.png" }) CliOutput.AssertPng(Path.Combine(outDir, png));
        var census = CliOutput.AssertCsv(Path.Combine(outDir, "census.csv"), "site", "kind", "location", "group", "dimension", "exact", "invariance", "orthogonality", "passed", "conserved");
        var conserved = CliOutput.AssertCsv(Path.Combine(outDir, "conserved.csv"), "site", "location", "generator", "q");
        CliOutput.AssertCsv(Path.Combine(outDir, "loss-lines.csv"), "kind", "label", "distance", "loss");
        CliOutput.AssertCsv(Path.Combine(outDir, "curvature.csv"), "quantity", "index", "value", "interval_low", "interval_high");

        var graph = OnnxModel.Load(Model).ToGraph<double>(new GraphOptions { BatchNorm = BatchNormMode.Inference });
        var expected = SymmetryCensus.Take(graph);
        Assert.Equal(expected.Sites.Select(s => s.Location).ToArray(), Enumerable.Range(0, census.RowCount).Select(i => census[i, "location"]).ToArray());
        Assert.Equal(expected.Dimension, conserved.RowCount);
        Assert.All(Enumerable.Range(0, census.RowCount), i => Assert.Equal("true", census[i, "passed"], ignoreCase: true));

        var summary = CliOutput.Summary(outDir, "analyze");
        var schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(Report.ReportAssertions.RepositoryRoot(), "docs", "model-report.schema.json")),
            new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json"))))
        {
            var validation = schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(validation.IsValid, "summary.json breaks docs/model-report.schema.json: " + string.Join("; ",
                (validation.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
        }
        // The schema can say no: the same file with a paper verdict on an own check, and without its census block.
        var text = File.ReadAllText(Path.Combine(outDir, "summary.json"));
        foreach (var broken in new[] { text.Replace("\"verdict\": \"Passed\"", "\"verdict\": \"Reproduced\""), text.Replace("\"census\":", "\"censusX\":") })
        {
            Assert.NotEqual(text, broken);
            using var doc = JsonDocument.Parse(broken);
            Assert.False(schema.Evaluate(doc.RootElement).IsValid);
        }
        Assert.Equal("model", summary.GetProperty("mode").GetString());
        Assert.Equal(expected.Dimension, summary.GetProperty("census").GetProperty("dimension").GetInt32());
        Assert.All(summary.GetProperty("claims").EnumerateArray(), c => Assert.Equal("Passed", c.GetProperty("verdict").GetString()));
        // The batch: 24 training images drawn with seed 7, as the command draws them; the loss by an independent forward pass.
        var train = FashionMnist.Load(train: true);
        var rng = new Random(7);
        var indices = Enumerable.Range(0, train.Count).OrderBy(_ => rng.Next()).Take(24).Order().ToArray();
        var (x, y) = train.Gather<double>(indices);
        Close.Assert(ModelReportExperiment.Loss(graph, x, y), CliOutput.Number(summary.GetProperty("loss")), 1e-13, 0, "batch loss");

        string html = File.ReadAllText(Path.Combine(outDir, "report.html"));
        Assert.Contains("data:image/png;base64,", html);
        foreach (var site in expected.Sites) Assert.Contains(System.Net.WebUtility.HtmlEncode(site.Location), html);
    }

    [Fact]
    public void AnalyzeModel_WithTraining_ReportsTheRunsMonitorAgainstItsOwnCsv()
    {
        // A short monitored run (SGD with momentum and decay, float64), then the report with --training. The summary's medians
        // are checked against medians computed here from monitor.csv's own columns (not through MonitorLog/SiteMonitorSummary).
        string run = Path.Combine(_dir, "train");
        CliOutput.AssertSucceeded(CliRunner.RunInProcess(["train", "--model", Model, "--epochs", "1", "--train-limit", "640", "--batch-size", "64",
            "--lr", "0.05", "--momentum", "0.9", "--weight-decay", "5e-4", "--float64", "--monitor", "2", "--out", run]), run);
        string outDir = Path.Combine(_dir, "report");
        CliOutput.AssertSucceeded(CliRunner.RunInProcess(["analyze", "--model", Model, "--training", run, "--samples", "16", "--no-sharpness", "--out", outDir]), outDir);
        foreach (var png in new[] { "training.png", "monitor.png" }) CliOutput.AssertPng(Path.Combine(outDir, png));

        var monitor = CliOutput.AssertCsv(Path.Combine(run, "monitor.csv"), "step", "kind", "site", "generator", "measured", "predicted", "residual", "breaking", "integral");
        var rows = Enumerable.Range(0, monitor.RowCount).Where(i => monitor.GetDouble(i, "measured") != 0).ToArray();
        double Median(Func<int, double> f)
        {
            var v = rows.Select(f).Order().ToArray();
            return v.Length % 2 == 1 ? v[v.Length / 2] : 0.5 * (v[v.Length / 2 - 1] + v[v.Length / 2]);
        }
        double identity = Median(i => Math.Abs(monitor.GetDouble(i, "predicted") - monitor.GetDouble(i, "measured")) / Math.Abs(monitor.GetDouble(i, "measured")));
        double integral = Median(i => Math.Abs(monitor.GetDouble(i, "integral") - monitor.GetDouble(i, "measured")) / Math.Abs(monitor.GetDouble(i, "measured")));
        var training = CliOutput.Summary(outDir, "analyze").GetProperty("training");
        var m = training.GetProperty("monitor");
        Assert.Equal(monitor.RowCount, m.GetProperty("observations").GetInt32());
        Close.Assert(identity, CliOutput.Number(m.GetProperty("medianIdentityRelative")), 1e-12, 0, "identity median");
        Close.Assert(integral, CliOutput.Number(m.GetProperty("medianIntegralRelative")), 1e-12, 0, "integral median");
        // The run's own numbers hold: the identity to rounding (float64), the momentum form within 1% over 10 steps.
        Assert.True(identity < 1e-12, $"identity median {identity:E2}");
        Assert.True(integral < 1e-2, $"integral median {integral:E2}");
        Assert.Equal(2, training.GetProperty("monitorByKind").GetArrayLength());
        Assert.Equal(1, training.GetProperty("epochs").GetInt32());
        Assert.Contains("Training run", File.ReadAllText(Path.Combine(outDir, "report.html")));
        var schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(Report.ReportAssertions.RepositoryRoot(), "docs", "model-report.schema.json")),
            new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        Assert.True(schema.Evaluate(doc.RootElement).IsValid, "summary.json with a training block breaks docs/model-report.schema.json");

        // Bad input, one line each and nothing written: a folder that is no training run, a monitor.csv with other columns,
        // --training without --model.
        string refused = Path.Combine(_dir, "refused");
        CliRunner.AssertOneLineFailure(CliRunner.RunInProcess(["analyze", "--model", Model, "--training", _dir, "--samples", "16", "--out", refused]), "--training", "training.csv");
        File.WriteAllText(Path.Combine(run, "monitor.csv"), "step,kind\n1,Rescaling\n");
        CliRunner.AssertOneLineFailure(CliRunner.RunInProcess(["analyze", "--model", Model, "--training", run, "--samples", "16", "--out", refused]), "monitor.csv", "columns");
        CliRunner.AssertOneLineFailure(CliRunner.RunInProcess(["analyze", "--weights", Model, "--arch", "mlp:784-10", "--training", run, "--out", refused]), "--training");
        Assert.False(Directory.Exists(refused));
    }

    [Fact]
    public void AnalyzeModel_WithWeightsOption_RefusedNamingIt()
    {
        string outDir = Path.Combine(_dir, "refused");
        var r = CliRunner.RunInProcess(["analyze", "--model", Model, "--rescale", "--out", outDir]);
        CliRunner.AssertOneLineFailure(r, "--rescale", "--model");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Analyze_NeitherModelNorWeights_RefusedNamingBoth()
    {
        string outDir = Path.Combine(_dir, "none");
        var r = CliRunner.RunInProcess(["analyze", "--out", outDir]);
        CliRunner.AssertOneLineFailure(r, "--weights", "--model");
        Assert.False(Directory.Exists(outDir));
    }
}
