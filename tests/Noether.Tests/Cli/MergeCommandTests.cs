using System.Text.Json.Nodes;

namespace Noether.Tests.Cli;

/// <summary>
/// <c>noether merge</c>: sweeps run as shards and merged give, byte for byte, the CSVs of the unsharded run and the same
/// summary.json apart from timings; shard folders that do not belong together are refused with one clear line.
/// </summary>
public sealed class MergeCommandTests : IClassFixture<MergeCommandTests.Runs>
{
    /// <summary>
    /// The runs the tests share (each a subprocess, so made once): drift (16 grid items, 3 shards), xavier (5 items,
    /// 2 shards) and orbit (9 items, 2 shards) unsharded and sharded, and orbit shards that do not fit the others.
    /// </summary>
    public sealed class Runs : IDisposable
    {
        public static readonly string[] Drift = ["drift", "--profile", "quick", "--steps", "400", "--records", "30", "--seed", "4"];
        public static readonly string[] Xavier = ["xavier", "--draws", "300", "--shapes", "20x10x30,10x20x10", "--integral-shape", "20x20x20", "--activations", "relu,tanh,sigmoid", "--seed", "3", "--bins", "25"];
        public static readonly string[] Orbit = ["orbit", "--shapes", "3x2x4,2x7x3,4x4x4", "--seed", "2"];
        public static readonly string[] Sharpness = ["sharpness", "--profile", "quick", "--seed", "1"];
        // Trains the quick model on a tiny random CIFAR-10 folder (100 images) in every run: about a second each.
        public string[] Ensemble => ["ensemble", "--data", "cifar10", "--data-dir", Path("cifar"), "--profile", "quick", "--members", "2", "--epsilons", "0,1,3",
            "--builders", "group,ginv,random", "--seed", "2"];
        // The quick model on the same tiny CIFAR-10 folder; 4 attacks (FGSM and PGD-2 with random start at ε = 0, 8/255), two builders.
        public string[] Attack => ["attack", "--data", "cifar10", "--data-dir", Path("cifar"), "--profile", "quick", "--members", "2", "--epsilons", "0,8/255",
            "--pgd-steps", "2", "--builders", "group,random", "--seed", "3"];
        public static readonly string[] Converge = ["converge", "--profile", "quick", "--part", "rate", "--seed", "6"];

        public string Root { get; } = Directory.CreateTempSubdirectory("noether-merge-").FullName;

        public Runs()
        {
            Run(Drift, "drift");
            for (int i = 1; i <= 3; i++) Run([.. Drift, "--shard", $"{i}/3"], $"drift-{i}");
            Run(Xavier, "xavier");
            for (int i = 1; i <= 2; i++) Run([.. Xavier, "--shard", $"{i}/2"], $"xavier-{i}");
            Run(Orbit, "orbit");
            for (int i = 1; i <= 2; i++) Run([.. Orbit, "--shard", $"{i}/2"], $"orbit-{i}");
            Run(Sharpness, "sharpness");
            for (int i = 1; i <= 2; i++) Run([.. Sharpness, "--shard", $"{i}/2"], $"sharpness-{i}");
            EnsembleCommandTests.WriteCifar(Path("cifar"), recordsPerFile: 20);
            Run(Ensemble, "ensemble");
            for (int i = 1; i <= 2; i++) Run([.. Ensemble, "--shard", $"{i}/2"], $"ensemble-{i}");
            Run(Attack, "attack");
            for (int i = 1; i <= 3; i++) Run([.. Attack, "--shard", $"{i}/3"], $"attack-{i}");
            Run(Converge, "converge");
            for (int i = 1; i <= 3; i++) Run([.. Converge, "--shard", $"{i}/3"], $"converge-{i}");
            Run([.. Orbit, "--tolerance", "1e-8", "--shard", "2/2"], "orbit-tolerance-2");
            Run([.. Orbit, "--shard", "1/3"], "orbit-1-of-3");
        }

        private void Run(string[] args, string name)
        {
            var r = CliRunner.Run([.. args, "--out", Path(name)]);
            Assert.True(r.ExitCode == 0, $"{string.Join(' ', args)}: exit {r.ExitCode}: {r.Stderr}");
        }

        public string Path(string name) => System.IO.Path.Combine(Root, name);

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }

    private readonly Runs _runs;

    public MergeCommandTests(Runs runs) => _runs = runs;

    // summary.json without what may differ between a merged and an unsharded run: wall times (and other timings, e.g.
    // converge's partSeconds, ensemble's experimentSeconds, sharpness's hessianSeconds and its "(speed)" claim), and the merge note.
    private static JsonNode Comparable(string dir)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!;
        Strip(node);
        return node;

        static void Strip(JsonNode? n)
        {
            if (n is JsonObject o)
            {
                foreach (var key in o.Select(p => p.Key).Where(k => k is "seconds" or "wallSeconds" or "hessianSeconds" or "partSeconds" or "experimentSeconds" or "merged").ToArray()) o.Remove(key);
                if (o["claims"] is JsonArray claims)
                    foreach (var timing in claims.Where(c => c?["statement"]?.GetValue<string>().StartsWith("(speed)", StringComparison.Ordinal) == true).ToArray())
                        claims.Remove(timing);
                foreach (var (_, child) in o) Strip(child);
            }
            else if (n is JsonArray a) foreach (var child in a) Strip(child);
        }
    }

    private void AssertMergedEqualsWhole(string command, int shards, string[] csvFiles, string[] pngFiles)
    {
        string outDir = _runs.Path($"{command}-merged");
        // Given in reverse order: merge orders the shards itself.
        var r = CliRunner.Run(["merge", .. Enumerable.Range(1, shards).Reverse().Select(i => _runs.Path($"{command}-{i}")), "--out", outDir, "--force"]);
        CliOutput.AssertSucceeded(r, outDir);
        string whole = _runs.Path(command);
        foreach (var csv in csvFiles)
            Assert.True(File.ReadAllBytes(Path.Combine(whole, csv)).SequenceEqual(File.ReadAllBytes(Path.Combine(outDir, csv))), $"{command}: merged {csv} differs from the unsharded one");
        foreach (var png in pngFiles) CliOutput.AssertPng(Path.Combine(outDir, png));
        var expected = Comparable(whole);
        var actual = Comparable(outDir);
        Assert.True(JsonNode.DeepEquals(expected, actual), $"{command}: merged summary.json differs:\n{actual.ToJsonString()}\nvs\n{expected.ToJsonString()}");
        Assert.False(File.Exists(Path.Combine(outDir, "shard.json")));

        var merged = CliOutput.Summary(outDir, command).GetProperty("merged");
        Assert.Equal(shards, merged.GetProperty("shards").GetInt32());
        // Each shard holds only its own rows, and says which part it is.
        var marker = CliOutput.Summary(_runs.Path($"{command}-2"), command).GetProperty("shard");
        Assert.Equal(2, marker.GetProperty("index").GetInt32());
        Assert.Equal(shards, marker.GetProperty("count").GetInt32());
        int wholeRows = File.ReadAllLines(Path.Combine(whole, csvFiles[0])).Length - 1;
        int shardRows = Enumerable.Range(1, shards).Sum(i => File.ReadAllLines(Path.Combine(_runs.Path($"{command}-{i}"), csvFiles[0])).Length - 1);
        Assert.Equal(wholeRows, shardRows);
        Assert.True(File.ReadAllLines(Path.Combine(_runs.Path($"{command}-1"), csvFiles[0])).Length - 1 < wholeRows);
    }

    [Fact]
    public void Drift_ThreeShardsMerged_EqualTheUnshardedRunExactly() =>
        AssertMergedEqualsWhole("drift", 3, ["drift.csv"], ["drift-q.png", "drift-loss.png"]);

    [Fact]
    public void Xavier_TwoShardsMerged_EqualTheUnshardedRunExactly() =>
        AssertMergedEqualsWhole("xavier", 2, ["xavier.csv", "xavier-draws.csv"], ["xavier-hist.png", "xavier-integral.png"]);

    [Fact]
    public void Orbit_TwoShardsMerged_EqualTheUnshardedRunExactly() =>
        AssertMergedEqualsWhole("orbit", 2, ["orbit.csv"], ["orbit.png"]);

    [Fact]
    public void Sharpness_TwoShardsMerged_EqualTheUnshardedRunExactly() =>
        AssertMergedEqualsWhole("sharpness", 2, ["sharpness-spectra.csv", "sharpness-runs.csv", "sharpness-1d.csv"], ["sharpness-fig8.png", "sharpness-centre.png"]);

    [Fact]
    public void Ensemble_TwoShardsMerged_EqualTheUnshardedRunExactly()
    {
        AssertMergedEqualsWhole("ensemble", 2, ["ensemble.csv"], ["ensemble-accuracy.png"]);
        // Each shard trained (and cached) its own model; the merged folder holds results only.
        Assert.True(File.Exists(Path.Combine(_runs.Path("ensemble-1"), "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(_runs.Path("ensemble-merged"), "model.safetensors")));
    }

    [Fact]
    public void Attack_ThreeShardsMerged_EqualTheUnshardedRunExactly()
    {
        AssertMergedEqualsWhole("attack", 3, ["attack.csv"], ["attack-accuracy.png"]);
        Assert.True(File.Exists(Path.Combine(_runs.Path("attack-1"), "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(_runs.Path("attack-merged"), "model.safetensors")));
    }

    [Fact]
    public void Converge_ThreeShardsMerged_EqualTheUnshardedRateRunExactly() =>
        AssertMergedEqualsWhole("converge", 3, ["rate.csv", "rate-curves.csv"], ["converge-rate.png"]);

    [Theory]
    [InlineData("missing", "orbit-1", "", "shard 2/2", "missing")]
    [InlineData("duplicate", "orbit-1 orbit-2 orbit-2", "", "shard 2/2 given twice", "orbit-2")]
    [InlineData("settings", "orbit-1 orbit-tolerance-2", "", "different settings", "orbit-tolerance-2", "relativeTolerance")]
    [InlineData("not a shard", "orbit-1 orbit", "", "not a shard output", "orbit")]
    [InlineData("command", "orbit-1 xavier-2", "", "'xavier' shard", "xavier-2")]
    [InlineData("counts", "orbit-1 orbit-1-of-3", "", "different shard counts", "orbit-1-of-3")]
    [InlineData("absent", "orbit-1 no-such-folder", "", "no-such-folder", "does not exist")]
    [InlineData("corrupt", "orbit-1 corrupt", "corrupt", "not a valid shard file", "corrupt")]
    [InlineData("into a shard", "orbit-1 orbit-2", "out=orbit-1", "one of the shard folders")]
    [InlineData("tampered", "orbit-1 tampered", "tampered", "orbit.csv", "differs")]
    public void Merge_ShardsThatDoNotBelongTogether_FailWithOneLineNamingTheFolder(string name, string folders, string setup, params string[] mentions)
    {
        _ = name;
        string outDir = _runs.Path($"merged-{Guid.NewGuid():N}");
        if (setup == "corrupt")
        {
            string corrupt = _runs.Path("corrupt");
            if (!Directory.Exists(corrupt))
            {
                Directory.CreateDirectory(corrupt);
                foreach (var f in Directory.GetFiles(_runs.Path("orbit-2"))) File.Copy(f, Path.Combine(corrupt, Path.GetFileName(f)));
                string shardFile = Path.Combine(corrupt, "shard.json");
                File.WriteAllText(shardFile, File.ReadAllText(shardFile)[..200]); // truncated
            }
        }
        if (setup == "tampered")
        {
            // A CSV edited after the run no longer matches the shard's own results: the merge is refused, not silently "fixed".
            string tampered = _runs.Path("tampered");
            if (!Directory.Exists(tampered))
            {
                Directory.CreateDirectory(tampered);
                foreach (var f in Directory.GetFiles(_runs.Path("orbit-2"))) File.Copy(f, Path.Combine(tampered, Path.GetFileName(f)));
                string csv = Path.Combine(tampered, "orbit.csv");
                var lines = File.ReadAllLines(csv);
                lines[1] = lines[1].Replace(",true,", ",false,", StringComparison.Ordinal);
                Assert.NotEqual(File.ReadAllLines(csv)[1], lines[1]);
                File.WriteAllText(csv, string.Join('\n', lines) + "\n");
            }
        }
        if (setup == "out=orbit-1") outDir = _runs.Path("orbit-1");
        var before = Directory.GetFiles(_runs.Path("orbit-1")).ToDictionary(f => f, File.ReadAllBytes);
        var r = CliRunner.Run(["merge", .. folders.Split(' ').Select(_runs.Path), "--out", outDir, "--force"]);
        CliRunner.AssertCleanFailure(r, mentions);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        if (setup != "out=orbit-1") Assert.False(Directory.Exists(outDir), "nothing may be written for a rejected merge");
        // The shards themselves are never touched.
        foreach (var (file, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(file));
    }

    [Fact]
    public void Merge_IntoNonEmptyFolderWithoutForce_FailsAndKeepsIt()
    {
        string outDir = _runs.Path("occupied");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "keep.txt"), "earlier result");
        var r = CliRunner.Run(["merge", _runs.Path("orbit-1"), _runs.Path("orbit-2"), "--out", outDir]);
        CliRunner.AssertCleanFailure(r, "--out", "not empty");
        Assert.Equal(["keep.txt"], Directory.GetFiles(outDir).Select(Path.GetFileName));
    }
}
