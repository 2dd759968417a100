using System.Text.Json;
using System.Text.Json.Nodes;

namespace Noether.Cli.Output;

/// <summary>
/// What a sweep command run with <c>--shard i/n</c> leaves next to its usual outputs, so that <c>noether merge</c> can
/// join the shards: <c>shard.json</c> (the command, its settings without the shard, the grid size, this shard's
/// block and this shard's per-item results at full precision) and a <c>"shard"</c> marker in summary.json.
/// </summary>
internal static class ShardOutput
{
    /// <summary>The file name inside a shard's output folder.</summary>
    public const string FileName = "shard.json";

    /// <summary>The format tag of <see cref="FileName"/>.</summary>
    public const string Format = "noether-shard/1";

    /// <summary>Settings keys that do not change results (how many cores ran them) and may differ between shards.</summary>
    public static readonly string[] IgnoredSettings = ["parallelism"];

    /// <summary>
    /// Writes shard.json and marks summary.json (already written by the command) as a shard output.
    /// </summary>
    /// <param name="outDir">The command's output folder.</param>
    /// <param name="command">The command's name ("drift").</param>
    /// <param name="profile">Its --profile, or null for commands without one.</param>
    /// <param name="shard">The shard that ran.</param>
    /// <param name="gridSize">The size of the whole grid.</param>
    /// <param name="settings">The library settings it ran with (their "shard" property is dropped).</param>
    /// <param name="options">Output-only options the command's Write needs again at merge time (histogram bins), or null.</param>
    /// <param name="items">This shard's per-item results, in grid order.</param>
    /// <param name="csvFiles">The CSV files (names inside outDir) whose rows are per item, in grid order.</param>
    /// <param name="elapsed">The shard's wall time.</param>
    public static void Complete<TSettings, TItem>(string outDir, string command, string? profile, Shard shard, int gridSize, TSettings settings,
        object? options, IReadOnlyList<TItem> items, IReadOnlyList<string> csvFiles, TimeSpan elapsed)
    {
        var range = shard.ItemsOf(gridSize);
        if (items.Count != range.Length)
            throw new InvalidOperationException($"{command} --shard {shard}: {items.Count} results for {range.Length} grid items");
        var settingsNode = JsonSerializer.SerializeToNode(settings, ResultJson.Options)!.AsObject();
        settingsNode.Remove("shard");
        var file = new ShardFile(Format, command, profile, shard.ToString(), gridSize, range, [.. csvFiles], elapsed.TotalSeconds, settingsNode,
            options is null ? [] : JsonSerializer.SerializeToNode(options, ResultJson.Options)!.AsObject(),
            JsonSerializer.SerializeToNode(items, ResultJson.Options)!.AsArray());
        ResultJson.Write(Path.Combine(outDir, FileName), file);

        string summaryPath = Path.Combine(outDir, "summary.json");
        var summary = JsonNode.Parse(File.ReadAllText(summaryPath))!.AsObject();
        summary["shard"] = new JsonObject
        {
            ["index"] = shard.Index,
            ["count"] = shard.Count,
            ["gridSize"] = gridSize,
            ["itemStart"] = range.Start,
            ["itemCount"] = range.Length,
            ["note"] = $"part {shard} of the grid; join every part with `noether merge DIR1 … DIR{shard.Count} --out DIR` (shard.json holds this part's results)",
        };
        ResultJson.Write(summaryPath, summary);
    }
}

/// <summary>The content of shard.json (see <see cref="ShardOutput"/>).</summary>
/// <param name="Format">"noether-shard/1".</param>
/// <param name="Command">The sweep command.</param>
/// <param name="Profile">Its --profile (null when the command has none).</param>
/// <param name="Shard">"i/n".</param>
/// <param name="GridSize">Items in the whole grid.</param>
/// <param name="Items">This shard's block.</param>
/// <param name="Csv">Per-item CSV files, concatenated by merge.</param>
/// <param name="WallSeconds">The shard's wall time.</param>
/// <param name="Settings">The library settings without the shard.</param>
/// <param name="Options">Output-only options (may be empty).</param>
/// <param name="Results">This shard's per-item results, in grid order.</param>
internal sealed record ShardFile(string Format, string Command, string? Profile, string Shard, int GridSize, ShardRange Items, string[] Csv,
    double WallSeconds, JsonObject Settings, JsonObject Options, JsonArray Results);
