using System.Text.Json;
using System.Text.Json.Nodes;

namespace Noether.Cli.Output;

/// <summary>
/// Joins the outputs of a sweep run in shards (<c>--shard i/n</c>): checks that the folders belong together, rebuilds the
/// whole result from their shard.json and writes it with the sweep command's own writer, so that a merged folder equals an
/// unsharded run.
/// </summary>
internal static class ShardMerge
{
    /// <summary>How merge rebuilds one sweep command's result and writes it.</summary>
    /// <param name="Write">Gets the merged settings/items and writes the command's files into the folder.</param>
    private sealed record Sweep(Action<Merged> Write);

    /// <summary>The joined shards, for a <see cref="Sweep"/>.</summary>
    private sealed record Merged(string OutDir, string? Profile, JsonObject Settings, JsonObject Options, JsonArray Items, TimeSpan Elapsed)
    {
        /// <summary>The settings as the library type, with no shard (the whole grid).</summary>
        public T SettingsAs<T>() => Settings.Deserialize<T>(ResultJson.Options) ?? throw new InvalidDataException("merge: the shards' settings are null");

        /// <summary>Every item, in grid order.</summary>
        public T[] ItemsAs<T>() => Items.Select(n => n.Deserialize<T>(ResultJson.Options) ?? throw new InvalidDataException("merge: a shard's result is null")).ToArray();

        /// <summary>The output-only options as one record.</summary>
        public T OptionsAs<T>() => Options.Deserialize<T>(ResultJson.Options) ?? throw new InvalidDataException("merge: the shards' options are null");

        public int Option(string name) => Options[name]?.GetValue<int>() ?? throw new InvalidDataException($"merge: the shards' shard.json lacks the option '{name}'");
    }

    /// <summary>The sweep commands merge knows, by name. A new sweep command adds one line here (see docs/sharding.md).</summary>
    private static readonly Dictionary<string, Sweep> Sweeps = new(StringComparer.Ordinal)
    {
        ["drift"] = new(m => DriftWriter.Write(m.OutDir, m.Profile ?? "default", new DriftResult(m.SettingsAs<DriftSettings>(), m.ItemsAs<DriftCurve>()), m.Elapsed)),
        ["xavier"] = new(m =>
        {
            var settings = m.SettingsAs<XavierSettings>();
            var samples = m.ItemsAs<XavierSample>();
            int linear = settings.Shapes.Count;
            XavierWriter.Write(m.OutDir, new XavierResult(settings, samples[..linear], samples[linear..]), m.Option("bins"), m.Elapsed);
        }),
        ["orbit"] = new(m => OrbitWriter.Write(m.OutDir, new OrbitTableResult(m.SettingsAs<OrbitTableSettings>(), m.ItemsAs<OrbitTableRow>()), m.Elapsed)),
        // The model and the test set's single-model accuracy are the same in every shard (checked as options); model.safetensors is not merged.
        ["ensemble"] = new(m => EnsembleWriter.WriteMerged(m.OutDir, m.Profile ?? "default", m.SettingsAs<EnsembleExperimentSettings>(),
            m.OptionsAs<EnsembleWriter.EnsembleShared>(), m.ItemsAs<EnsembleAccuracyRow>(), m.Elapsed)),
        // One item per attack (its rows); the model, the ensembles and the clean accuracies are the same in every shard (checked as options).
        ["attack"] = new(m => AttackWriter.WriteMerged(m.OutDir, m.Profile ?? "default", m.SettingsAs<AttackExperimentSettings>(),
            m.OptionsAs<AttackWriter.AttackShared>(), m.ItemsAs<AttackAccuracyRow[]>(), m.Elapsed)),
        // Fig. 6 (--part rate) only: a converge shard runs no other part.
        ["converge"] = new(m => ConvergeWriter.Write(m.OutDir, m.Profile ?? "default", ["rate"], null, null,
            ConvergenceRate.Assemble(m.SettingsAs<ConvergenceRateSettings>(), m.ItemsAs<ConvergenceRun>()),
            new Dictionary<string, double> { ["rate"] = m.Elapsed.TotalSeconds }, m.Elapsed)),
        // The Hutchinson table only (one item per batch); eigenvalues, Hutch++ and the density need the whole set's Hessian.
        ["curvature"] = new(m => CurvatureWriter.WriteMerged(m.OutDir, m.SettingsAs<CurvatureSettings>(), m.OptionsAs<CurvatureWriter.CurvatureShared>(),
            m.ItemsAs<Noether.Landscape.TraceColumn>(), m.Elapsed)),
        // Fig. 8 mode only; the 1-D network of G.1 is not part of the grid (deterministic, milliseconds) and is recomputed here.
        ["sharpness"] = new(m => SharpnessWriter.Figure8(m.OutDir, m.Profile ?? "default",
            SharpnessSpectrum.Assemble(m.SettingsAs<SharpnessSpectrumSettings>(), m.ItemsAs<SharpnessRun>()), SharpnessScalarNetwork.Run(), m.Elapsed)),
    };

    /// <summary>Reads and checks the shards; returns them ordered by shard index.</summary>
    internal static (string Dir, ShardFile File)[] Load(IReadOnlyList<string> paths)
    {
        var shards = new List<(string Dir, ShardFile File)>();
        foreach (var path in paths)
        {
            string dir = Path.GetFullPath(path);
            if (!Directory.Exists(dir)) throw Errors.Argument("shard folders", $"merge: {dir} does not exist");
            string file = Path.Combine(dir, ShardOutput.FileName);
            if (!File.Exists(file))
                throw Errors.Argument("shard folders", $"merge: {dir} is not a shard output (no {ShardOutput.FileName}; run the sweep with --shard i/n)");
            ShardFile shard;
            try
            {
                shard = ResultJson.Deserialize<ShardFile>(File.ReadAllText(file));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"merge: {file} is not a valid shard file ({e.Message})", e);
            }
            if (shard.Format != ShardOutput.Format)
                throw new InvalidDataException($"merge: {file} has format '{shard.Format}', expected '{ShardOutput.Format}'");
            if (shard.Command is null || !Shard.TryParse(shard.Shard, out var s) || shard.GridSize < s.Count || shard.Items != s.ItemsOf(shard.GridSize)
                || shard.Results is null || shard.Results.Count != shard.Items.Length || shard.Settings is null || shard.Csv is null)
                throw new InvalidDataException($"merge: {file} is inconsistent (shard '{shard.Shard}', grid of {shard.GridSize}, {shard.Results?.Count} results)");
            // A wall time a day of shards cannot add up past (TimeSpan holds about 29 000 years).
            if (!(shard.WallSeconds >= 0 && shard.WallSeconds < 1e11))
                throw new InvalidDataException($"merge: {file} has wallSeconds {shard.WallSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}, expected a non-negative number of seconds");
            if (!Sweeps.ContainsKey(shard.Command))
                throw Errors.Argument("shard folders", $"merge: {dir} holds a '{shard.Command}' shard, which merge cannot join (it joins {string.Join(", ", Sweeps.Keys)})");
            foreach (var csv in shard.Csv)
                if (!File.Exists(Path.Combine(dir, csv))) throw Errors.Argument("shard folders", $"merge: {dir} lacks {csv}, which its shard.json lists");
            shards.Add((dir, shard));
        }

        var (firstDir, first) = shards[0];
        var firstShard = Shard.Parse(first.Shard);
        foreach (var (dir, f) in shards.Skip(1))
        {
            if (f.Command != first.Command) throw Errors.Argument("shard folders", $"merge: {dir} is a '{f.Command}' shard but {firstDir} is a '{first.Command}' shard");
            int count = Shard.Parse(f.Shard).Count;
            if (count != firstShard.Count)
                throw Errors.Argument("shard folders", $"merge: {dir} is shard {f.Shard} but {firstDir} is shard {first.Shard}: different shard counts");
            if (f.Profile != first.Profile)
                throw Errors.Argument("shard folders", $"merge: {dir} was run with --profile {f.Profile ?? "(none)"} but {firstDir} with --profile {first.Profile ?? "(none)"}");
            if (Difference(first.Settings, f.Settings) is { } key)
                throw Errors.Argument("shard folders", $"merge: {dir} was run with different settings than {firstDir} ({key}: {Show(f.Settings[key])} vs {Show(first.Settings[key])})");
            if (Difference(first.Options, f.Options) is { } option)
                throw Errors.Argument("shard folders", $"merge: {dir} was run with different options than {firstDir} ({option}: {Show(f.Options[option])} vs {Show(first.Options[option])})");
            if (!f.Csv.SequenceEqual(first.Csv)) throw Errors.Argument("shard folders", $"merge: {dir} lists other CSV files than {firstDir}");
        }

        var parsed = shards.Select(x => Shard.Parse(x.File.Shard)).ToArray();
        if (Shard.FirstRepeat(parsed) is var (i, j))
            throw Errors.Argument("shard folders", $"merge: shard {shards[j].File.Shard} given twice: {shards[i].Dir} and {shards[j].Dir}");
        if (Shard.Missing(parsed, firstShard.Count) is [var k, ..])
            throw Errors.Argument("shard folders", $"merge: shard {k}/{firstShard.Count} of '{first.Command}' is missing (given: {string.Join(", ", parsed.Select(p => p.Index).Order().Select(x => $"{x}/{firstShard.Count}"))})");
        return [.. shards.OrderBy(x => Shard.Parse(x.File.Shard).Index)];
    }

    // The first key whose value differs (keys that do not change results ignored), or null.
    private static string? Difference(JsonObject a, JsonObject b)
    {
        foreach (var key in a.Select(p => p.Key).Union(b.Select(p => p.Key)))
        {
            if (ShardOutput.IgnoredSettings.Contains(key)) continue;
            if (!JsonNode.DeepEquals(a[key], b[key])) return key;
        }
        return null;
    }

    private static string Show(JsonNode? node)
    {
        string text = node?.ToJsonString() ?? "null";
        return text.Length <= 60 ? text : text[..57] + "...";
    }

    /// <summary>Rebuilds the whole result from the shards, writes it with the command's writer and checks the per-item CSVs.</summary>
    internal static void Write(string outDir, (string Dir, ShardFile File)[] shards)
    {
        var first = shards[0].File;
        var items = new JsonArray();
        foreach (var (_, f) in shards)
            foreach (var item in f.Results) items.Add(item?.DeepClone());
        var elapsed = TimeSpan.FromSeconds(shards.Sum(s => s.File.WallSeconds));
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"merging {shards.Length} shards of '{first.Command}' ({first.GridSize} grid items, {elapsed.TotalSeconds:F1} s of shard wall time)"));
        // The shards' CSVs joined in grid order (header once); checked before anything is written.
        var joined = new Dictionary<string, string>();
        foreach (var csv in first.Csv)
        {
            var texts = shards.Select(s => File.ReadAllText(Path.Combine(s.Dir, csv))).ToArray();
            string header = HeaderOf(texts[0]);
            for (int i = 1; i < texts.Length; i++)
                if (HeaderOf(texts[i]) != header)
                    throw new InvalidDataException($"merge: {Path.Combine(shards[i].Dir, csv)} has another header than {Path.Combine(shards[0].Dir, csv)}");
            joined[csv] = header + string.Concat(texts.Select(t => t[HeaderOf(t).Length..]));
        }

        var existing = Directory.GetFiles(outDir).ToHashSet(StringComparer.Ordinal);
        Sweeps[first.Command].Write(new Merged(outDir, first.Profile, (JsonObject)first.Settings.DeepClone(), first.Options, items, elapsed));
        // The CSVs written from the rebuilt result must be the shards' CSVs joined; if not, nothing new is left behind.
        foreach (var (csv, text) in joined)
            if (File.ReadAllText(Path.Combine(outDir, csv)) != text)
            {
                foreach (var file in Directory.GetFiles(outDir).Where(f => !existing.Contains(f))) File.Delete(file);
                throw new InvalidDataException($"merge: {csv} rebuilt from the shards' results differs from their {csv} files joined; were the shards written by different versions of noether?");
            }

        string summaryPath = Path.Combine(outDir, "summary.json");
        var summary = JsonNode.Parse(File.ReadAllText(summaryPath))!.AsObject();
        summary["merged"] = new JsonObject
        {
            ["shards"] = shards.Length,
            ["gridSize"] = first.GridSize,
            ["from"] = new JsonArray([.. shards.Select(s => (JsonNode?)JsonValue.Create(s.Dir))]),
            ["note"] = "joined by `noether merge`: CSVs, summary.json and figures rebuilt from the shards' per-item results (shard.json); wallSeconds is the sum over the shards",
        };
        ResultJson.Write(summaryPath, summary);
        ExperimentConsole.Line($"merged {shards.Length} shards into {outDir}; the CSVs equal the shards' joined in grid order");
    }

    // The first line, with its newline.
    private static string HeaderOf(string text)
    {
        int end = text.IndexOf('\n');
        return end < 0 ? text : text[..(end + 1)];
    }
}
