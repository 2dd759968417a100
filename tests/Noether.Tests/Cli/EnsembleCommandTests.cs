using System.Text.Json;
using Noether.Data;
using Noether.Experiments;
using Noether.Serialization;
using Noether.Tensors;

namespace Noether.Tests.Cli;

/// <summary>
/// <c>noether ensemble</c> and <c>noether attack</c> end to end on tiny settings (quick profile: one epoch on 10,000
/// Fashion-MNIST images, a few hundred test images), and their bad-input contract.
/// </summary>
public sealed class EnsembleCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-ensemble-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string[] Tiny(params string[] more) =>
        ["--profile", "quick", "--test-limit", "300", "--members", "3", .. more];

    // Over 5 s: three subprocesses (train one epoch on 10,000 images and run the ensembles; rerun on the cache; attack
    // with the weights), kept in one test so that the model is trained once.
    [Fact]
    public void Ensemble_Then_Cache_Then_AttackWithItsWeights_AgreeOnTheSameModel()
    {
        string a = Path.Combine(_dir, "ensemble");
        var first = CliRunner.Run(["ensemble", .. Tiny("--epsilons", "0,0.1,20"), "--out", a]);
        CliOutput.AssertSucceeded(first, a);
        var csv = CliOutput.AssertCsv(Path.Combine(a, "ensemble.csv"), "builder", "epsilon", "accuracy", "accuracy_change", "members", "rejected", "regularised",
            "mean_member_accuracy", "agreement_with_single", "median_condition", "max_condition");
        Assert.Equal(5 * 3, csv.RowCount);
        CliOutput.AssertPng(Path.Combine(a, "ensemble-accuracy.png"));
        var summary = CliOutput.Summary(a, "ensemble");
        Assert.Equal("quick", summary.GetProperty("profile").GetString());
        Assert.Equal(300, summary.GetProperty("testImages").GetInt32());
        var rows = summary.GetProperty("rows").EnumerateArray().ToArray();
        // At ε = 0 g = I: group (π(I, H₀) = I for k = h), ginv, random and perm-interp are the model itself, so the ensemble
        // predicts exactly the single model's classes (a rounding-level difference could flip a near-tie, hence ≥ 0.99).
        foreach (var name in new[] { "group", "ginv", "random", "perm-interp" })
        {
            var zero = rows.Single(r => r.GetProperty("builder").GetString() == name && r.GetProperty("epsilon").GetDouble() == 0);
            Assert.True(zero.GetProperty("agreementWithSingle").GetDouble() >= 0.99, name);
        }
        // Every (builder, ε) either has an accuracy or reports why not: members kept + rejected = N.
        Assert.All(rows, r => Assert.Equal(3, r.GetProperty("members").GetInt32() + r.GetProperty("rejected").GetInt32()));
        var perEpsilon = summary.GetProperty("illConditionedPerEpsilon").EnumerateArray().ToArray();
        Assert.Equal([0.0, 0.1, 20.0], perEpsilon.Select(p => p.GetProperty("epsilon").GetDouble()));
        Assert.Equal(rows.Sum(r => r.GetProperty("rejected").GetInt32()), perEpsilon.Sum(p => p.GetProperty("rejected").GetInt32()));
        AssertContract(summary, "ensemble-accuracy.png", "fig9-group-vs-random", "appendix-h-ill-conditioned-pi");
        Assert.True(File.Exists(Path.Combine(a, "model.safetensors")));
        double single = summary.GetProperty("model").GetProperty("singleAccuracy").GetDouble();

        // Same folder, --force: the cached model is reused (same settings) and gives the same numbers.
        var again = CliRunner.Run(["ensemble", .. Tiny("--epsilons", "0,0.1,20"), "--out", a, "--force"]);
        CliOutput.AssertSucceeded(again, a);
        Assert.Contains("reusing the model cached", again.Stdout);
        var cachedRows = CliOutput.Summary(a, "ensemble").GetProperty("rows").EnumerateArray()
            .Select(r => r.GetProperty("accuracy").ToString()).ToArray();
        Assert.Equal(rows.Select(r => r.GetProperty("accuracy").ToString()), cachedRows);

        // The attack command on those weights: at strength 0 every attack leaves the clean accuracy, and the single
        // model's clean accuracy on the same 300 images is the ensemble command's.
        string b = Path.Combine(_dir, "attack");
        var attack = CliRunner.Run(["attack", .. Tiny("--builders", "group,random", "--epsilons", "0,8/255", "--pgd-steps", "3"),
            "--weights", Path.Combine(a, "model.safetensors"), "--out", b]);
        CliOutput.AssertSucceeded(attack, b);
        CliOutput.AssertCsv(Path.Combine(b, "attack.csv"), "threat_model", "attack", "epsilon", "step_size", "steps", "random_start", "strength", "strength_axis", "model", "accuracy");
        CliOutput.AssertPng(Path.Combine(b, "attack-accuracy.png"));
        Assert.False(File.Exists(Path.Combine(b, "model.safetensors")), "a --weights model is not copied");
        var attackSummary = CliOutput.Summary(b, "attack");
        Assert.StartsWith("weights ", attackSummary.GetProperty("model").GetProperty("origin").GetString());
        Assert.Equal(single, attackSummary.GetProperty("model").GetProperty("singleAccuracy").GetDouble());
        var clean = attackSummary.GetProperty("ensembles").EnumerateArray().ToDictionary(e => e.GetProperty("builder").GetString()!, e => e.GetProperty("cleanAccuracy").GetDouble());
        clean["single"] = single;
        var attackRows = attackSummary.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(2 * 2 * 2 * 3, attackRows.Length); // 2 threat models × (FGSM, PGD) × 2 ε × (single, group, random)
        foreach (var r in attackRows.Where(r => r.GetProperty("epsilon").GetDouble() == 0))
            Assert.Equal(clean[r.GetProperty("model").GetString()!], r.GetProperty("accuracy").GetDouble());
        // Both threat models are labelled, and for the single model they coincide.
        foreach (var attackName in new[] { "FGSM", "PGD" })
        {
            double Single(string threat) => attackRows.Single(r => r.GetProperty("threatModel").GetString() == threat && r.GetProperty("attack").GetString() == attackName
                && r.GetProperty("model").GetString() == "single" && r.GetProperty("epsilon").GetDouble() > 0).GetProperty("accuracy").GetDouble();
            Assert.Equal(Single("transfer"), Single("adaptive"));
            Assert.True(Single("transfer") < single, $"{attackName} at 8/255 must lower the accuracy");
        }
        AssertContract(attackSummary, "attack-accuracy.png", "fig10-fgsm-group-improves-robustness", "fig10-fgsm-group-vs-random", "fig10-pgd-no-gain");
        Assert.Contains("transfer", attack.Stdout);
        Assert.Contains("adaptive", attack.Stdout);
    }

    private static void AssertContract(JsonElement summary, string figure, params string[] claimIds)
    {
        var claims = summary.GetProperty("claims").EnumerateArray().ToArray();
        foreach (var id in claimIds) Assert.Contains(claims, c => c.GetProperty("id").GetString() == id);
        Assert.All(claims, c => Assert.Contains(c.GetProperty("verdict").GetString(), Enum.GetNames<Verdict>()));
        var figures = summary.GetProperty("figures").EnumerateArray().ToArray();
        Assert.Contains(figures, f => f.GetProperty("file").GetString() == figure);
    }

    [Fact]
    public void Ensemble_OnCifar10BinaryBatches_TrainsAndRuns()
    {
        // A tiny CIFAR-10 directory in the real binary format: 5 training batches and a test batch of 3073-byte records.
        string data = Path.Combine(_dir, "cifar-10-batches-bin");
        WriteCifar(data, recordsPerFile: 20);
        string outDir = Path.Combine(_dir, "out");
        var r = CliRunner.Run(["ensemble", "--data", "cifar10", "--data-dir", data, "--profile", "quick", "--members", "2", "--epsilons", "0,1",
            "--builders", "group,ginv", "--out", outDir]);
        CliOutput.AssertSucceeded(r, outDir);
        var summary = CliOutput.Summary(outDir, "ensemble");
        Assert.Equal("cifar10", summary.GetProperty("dataset").GetString());
        Assert.Equal(20, summary.GetProperty("testImages").GetInt32());
        Assert.Equal(10, summary.GetProperty("model").GetProperty("classes").GetInt32());
    }

    private static string Zoo(string file) => Path.Combine(Noether.Tests.Interop.OnnxZooTests.Folder, file);

    [Fact]
    public void Model_OnnxExport_RunsEnsembleAndAttack_WithTheGraphsOwnAccuracy()
    {
        string e = Path.Combine(_dir, "ensemble-model");
        var r = CliRunner.Run(["ensemble", "--model", Zoo("spec_cnn.onnx"), "--profile", "quick", "--test-limit", "200", "--members", "2",
            "--epsilons", "0,1", "--builders", "group,ginv", "--out", e]);
        CliOutput.AssertSucceeded(r, e);
        Assert.DoesNotContain("training", r.Stdout);
        Assert.False(File.Exists(Path.Combine(e, "model.safetensors")), "an imported model is not saved again");
        var summary = CliOutput.Summary(e, "ensemble");
        var model = summary.GetProperty("model");
        Assert.Contains("spec_cnn.onnx", model.GetProperty("origin").GetString());
        Assert.Equal(32, model.GetProperty("hidden").GetInt32());
        // The single model's accuracy, independently: the whole graph run by the graph executor (float32) on the same 200 images.
        var graph = Noether.Interop.OnnxModel.Load(Zoo("spec_cnn.onnx")).ToGraph<float>();
        var test = FashionMnist.Load(FashionMnist.DefaultDirectory, train: false).Subset(0, 200);
        var (x, labels) = test.Gather<float>(Enumerable.Range(0, 200).ToArray());
        var logits = graph.Evaluate(x)[0];
        int correct = Enumerable.Range(0, 200).Count(i => Enumerable.Range(0, 10).MaxBy(j => logits[i, j]) == labels[i]);
        Assert.Equal(correct / 200.0, model.GetProperty("singleAccuracy").GetDouble(), 12);
        var rows = summary.GetProperty("rows").EnumerateArray().ToArray();
        Assert.All(rows.Where(row => row.GetProperty("epsilon").GetDouble() == 0),
            row => Assert.True(row.GetProperty("agreementWithSingle").GetDouble() >= 0.99, row.GetProperty("builder").GetString()));

        string a = Path.Combine(_dir, "attack-model");
        var attack = CliRunner.Run(["attack", "--model", Zoo("spec_cnn.onnx"), "--profile", "quick", "--test-limit", "40", "--members", "2",
            "--builders", "group", "--epsilons", "0,8/255", "--pgd-steps", "2", "--out", a]);
        CliOutput.AssertSucceeded(attack, a);
        var attackSummary = CliOutput.Summary(a, "attack");
        Assert.Contains("spec_cnn.onnx", attackSummary.GetProperty("model").GetProperty("origin").GetString());
    }

    [Theory]
    [InlineData("ensemble", "resnet20.onnx", new string[0], new[] { "--model", "no ensemble head", "GlobalAveragePool", "Gemm" })]
    [InlineData("attack", "resnet20.onnx", new string[0], new[] { "--model", "no ensemble head", "GlobalAveragePool" })]
    [InlineData("ensemble", "spec_cnn.onnx", new[] { "--weights", "WEIGHTS" }, new[] { "--weights", "--model" })]
    [InlineData("attack", "spec_cnn.onnx", new[] { "--leaky-slope", "0.1" }, new[] { "--leaky-slope", "--model" })]
    [InlineData("ensemble", "spec_cnn.onnx", new[] { "--data", "cifar10", "--data-dir", "CIFAR" }, new[] { "--model", "3×32×32", "1×28×28" })]
    [InlineData("attack", "spec_cnn.onnx", new[] { "--members", "2000000" }, new[] { "--members 2000000", "memory" })]
    public void Model_BadInput_OneLine_NothingWritten(string command, string file, string[] more, string[] mentions)
    {
        string weights = Path.Combine(_dir, "any.safetensors");
        File.WriteAllBytes(weights, [0]);
        string cifar = Path.Combine(_dir, "cifar-10-batches-bin");
        WriteCifar(cifar, recordsPerFile: 10);
        string outDir = Path.Combine(_dir, "never");
        var r = CliRunner.Run([command, "--model", Zoo(file), "--profile", "quick", .. more.Select(m => m.Replace("WEIGHTS", weights).Replace("CIFAR", cifar)), "--out", outDir]);
        CliRunner.AssertOneLineFailure(r, mentions);
        Assert.False(Directory.Exists(outDir), "nothing may be written for a rejected invocation");
    }

    /// <summary>A CIFAR-10 folder in the real binary format with random images (labels cycle 0…9).</summary>
    internal static void WriteCifar(string dir, int recordsPerFile, int? truncateFileBy = null)
    {
        Directory.CreateDirectory(dir);
        var rng = new Random(5);
        foreach (var name in Cifar10.TrainingFiles.Append(Cifar10.TestFile))
        {
            var bytes = new byte[recordsPerFile * Cifar10.RecordSize];
            rng.NextBytes(bytes);
            for (int i = 0; i < recordsPerFile; i++) bytes[i * Cifar10.RecordSize] = (byte)(i % 10);
            if (truncateFileBy is { } cut && name == "data_batch_3.bin") bytes = bytes[..^cut];
            File.WriteAllBytes(Path.Combine(dir, name), bytes);
        }
    }

    [Theory]
    [InlineData("ensemble", "--epsilons", "0,-0.1", "--epsilons")]
    [InlineData("attack", "--epsilons", "-1/255", "--epsilons")]
    [InlineData("attack", "--ensemble-epsilon", "-0.3", "--ensemble-epsilon")]
    [InlineData("ensemble", "--members", "0", "--members")]
    [InlineData("attack", "--members", "-2", "--members")]
    [InlineData("ensemble", "--calibration-size", "33", "k = 33")]
    [InlineData("attack", "--calibration-size", "64", "h = 32")]
    [InlineData("ensemble", "--builders", "group,bogus", "bogus")]
    public void BadNumbers_FailCleanly_AndCreateNothing(string command, string option, string value, string mention)
    {
        string outDir = Path.Combine(_dir, "never");
        var r = CliRunner.Run([command, "--profile", "quick", option, value, "--out", outDir]);
        CliRunner.AssertCleanFailure(r, mention);
        Assert.False(Directory.Exists(outDir), "nothing may be written for a rejected invocation");
    }

    [Fact]
    public void WeightsThatDoNotFitTheArchitecture_NameTheTensorAndBothShapes()
    {
        // A valid SPEC CNN file except that the output layer expects h = 16 while the hidden layer has h = 32.
        string weights = Path.Combine(_dir, "bad.safetensors");
        var rng = new Random(1);
        Tensor<float> T(params int[] shape)
        {
            var t = Tensor<float>.Zeros(shape);
            for (int i = 0; i < t.Length; i++) t.Data[i] = (float)(rng.NextDouble() - 0.5);
            return t;
        }
        SafeTensors.Write(weights, new (string, Tensor<float>)[]
        {
            ("0.weight", T(16, 1, 3, 3)), ("0.bias", T(16)), ("3.weight", T(32, 3136)), ("3.bias", T(32)), ("5.weight", T(10, 16)), ("5.bias", T(10)),
        });
        string outDir = Path.Combine(_dir, "never");
        foreach (var command in new[] { "ensemble", "attack" })
        {
            var r = CliRunner.Run([command, "--profile", "quick", "--weights", weights, "--out", outDir]);
            CliRunner.AssertCleanFailure(r, "5.weight", "10×16", "10×32", "--weights");
            Assert.False(Directory.Exists(outDir));
        }
        // A missing file is named too.
        var missing = CliRunner.Run(["ensemble", "--weights", Path.Combine(_dir, "nope.safetensors"), "--out", outDir]);
        CliRunner.AssertCleanFailure(missing, "nope.safetensors");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Cifar10DirectoryWithMissingOrMalformedBatch_FailsNamingTheFile()
    {
        string outDir = Path.Combine(_dir, "never");
        string broken = Path.Combine(_dir, "broken");
        WriteCifar(broken, recordsPerFile: 4, truncateFileBy: 100);
        var malformed = CliRunner.Run(["ensemble", "--data", "cifar10", "--data-dir", broken, "--out", outDir]);
        CliRunner.AssertCleanFailure(malformed, "data_batch_3.bin");
        Assert.False(Directory.Exists(outDir));

        File.Delete(Path.Combine(broken, "data_batch_3.bin"));
        var missing = CliRunner.Run(["attack", "--data", "cifar10", "--data-dir", broken, "--out", outDir]);
        CliRunner.AssertCleanFailure(missing, "data_batch_3.bin");
        Assert.False(Directory.Exists(outDir));
    }
}
