using System.Text.Json.Nodes;

namespace Noether.Compare;

/// <summary>Pools the results of a twin run several times (--rounds): times are concatenated, medians recomputed.</summary>
internal static class Rounds
{
    /// <summary>Adds <paramref name="next"/>'s times to <paramref name="pooled"/>; other fields come from the latest run.</summary>
    public static JsonObject Merge(JsonObject pooled, JsonObject next)
    {
        var merged = next.DeepClone().AsObject();
        if (pooled["variants"] is JsonObject pv && merged["variants"] is JsonObject nv)
        {
            foreach (var (name, node) in pv)
                if (node is JsonObject old && nv[name] is JsonObject current) Pool(old, current);
            // The fastest variant after pooling is PyTorch's best (as the twin decides within one run).
            var best = nv.Where(kv => kv.Value?["median_ms"] is not null)
                .MinBy(kv => kv.Value!["median_ms"]!.GetValue<double>());
            if (best.Value is JsonObject b)
            {
                merged["times_ms"] = b["times_ms"]?.DeepClone();
                merged["median_ms"] = b["median_ms"]?.DeepClone();
                merged["variant"] = $"fastest of {nv.Count}: {best.Key}";
            }
        }
        else Pool(pooled, merged);
        merged["rounds"] = (pooled["rounds"]?.GetValue<int>() ?? 1) + 1;
        return merged;
    }

    /// <summary>current.times_ms ← old.times_ms ++ current.times_ms, and its median.</summary>
    private static void Pool(JsonObject old, JsonObject current)
    {
        var times = Values(old).Concat(Values(current)).ToList();
        current["times_ms"] = new JsonArray(times.Select(t => (JsonNode?)t).ToArray());
        current["median_ms"] = times.Count > 0 ? Stats.Median(times) : null;
    }

    private static IEnumerable<double> Values(JsonObject o) =>
        (o["times_ms"] as JsonArray ?? []).Select(n => n!.GetValue<double>());
}
