using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Noether.Compare;

/// <summary>Renders the rows: a console table, results.json and results.md (both written atomically).</summary>
internal sealed class Report(Machine machine, Dictionary<string, object?> noether, JsonObject? pytorchEnv, RunSettings settings, DateTimeOffset started)
{
    private static readonly string[] Header = ["workload", "Noether ms", "PyTorch ms", "ratio", "target", "result", "check"];

    /// <summary>The main table's cells for one row.</summary>
    private static string[] Cells(Row r) =>
    [
        r.Workload.Name,
        r.NoetherStatus is not null ? "n/a" : Row.F(r.NoetherMedian, "F2"),
        r.PyTorchStatus is not null ? "n/a" : Row.F(r.PyTorchMedian, "F2"),
        r.Ratio is { } ratio ? ratio.ToString("F3", CultureInfo.InvariantCulture) : "—",
        r.Workload.Target is { } t ? "≤ " + t.ToString("0.0##", CultureInfo.InvariantCulture) : "—",
        r.Verdict,
        r.CheckDifference is { } d ? $"max|Δ| {d.ToString("0.0e+0", CultureInfo.InvariantCulture)} {(r.Agree == true ? "agree" : "DIFFER")}" : "",
    ];

    /// <summary>A plain-text table (the console output).</summary>
    public static string Table(IReadOnlyList<Row> rows)
    {
        var cells = rows.Select(Cells).Prepend(Header).ToList();
        var widths = Enumerable.Range(0, Header.Length).Select(c => cells.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        for (int i = 0; i < cells.Count; i++)
        {
            sb.AppendLine(string.Join("  ", cells[i].Select((s, c) => c is >= 1 and <= 3 ? s.PadLeft(widths[c]) : s.PadRight(widths[c]))).TrimEnd());
            if (i == 0) sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        }
        return sb.ToString();
    }

    /// <summary>GFLOP/s lines for the rows that count FLOPs.</summary>
    public string Throughput(IReadOnlyList<Row> rows)
    {
        var sb = new StringBuilder();
        foreach (var r in rows.Where(r => r.Workload.Flops is not null))
        {
            var (n, p) = (r.GFlops(r.NoetherMedian), r.GFlops(r.PyTorchMedian));
            double peak = r.Workload.Name.Contains("-f32", StringComparison.Ordinal) ? machine.PeakF32GFlops : machine.PeakF64GFlops;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"{r.Workload.Name,-24} Noether {Row.F(n),7} GFLOP/s ({Row.F(n / peak * 100, "F0"),3}% of peak)   PyTorch {Row.F(p),7} GFLOP/s ({Row.F(p / peak * 100, "F0"),3}% of peak)");
        }
        return sb.ToString();
    }

    /// <summary>The Markdown report.</summary>
    public string Markdown(IReadOnlyList<Row> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Noether vs PyTorch").AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Run {started:yyyy-MM-dd HH:mm:ss zzz}; median of {settings.Runs * settings.Rounds} timed runs per side{(settings.Rounds > 1 ? $" ({settings.Rounds} alternating rounds of {settings.Runs})" : "")} after {settings.Warmup} warm-up run(s) per round; ratio = Noether / PyTorch (lower is better). Benchmarks are indicative, never a gate.").AppendLine();
        if (settings.Runs * settings.Rounds < 5) sb.AppendLine($"**Fewer than 5 runs: these medians are a smoke test, not a measurement.**").AppendLine();
        sb.AppendLine("| " + string.Join(" | ", Header) + " |");
        sb.AppendLine("|" + string.Join("|", Header.Select((_, c) => c is >= 1 and <= 3 ? "---:" : "---")) + "|");
        foreach (var r in rows) sb.AppendLine("| " + string.Join(" | ", Cells(r).Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))) + " |");
        sb.AppendLine();
        if (rows.Any(r => r.Workload.Flops is not null))
        {
            sb.AppendLine("## Throughput").AppendLine().AppendLine("```").Append(Throughput(rows)).AppendLine("```").AppendLine();
        }
        sb.AppendLine("## Workloads").AppendLine();
        foreach (var r in rows)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"- **{r.Workload.Name}** {r.Workload.Item}: {r.Workload.Description}.");
            if (r.PyTorch?["variant"] is { } v) sb.AppendLine(CultureInfo.InvariantCulture, $"  PyTorch: {v}.");
            if (r.PyTorch?["variants"] is JsonObject vs)
                sb.AppendLine("  PyTorch variants (median ms): " + string.Join(", ", vs.Select(kv => $"{kv.Key} {Row.F(kv.Value?["median_ms"]?.GetValue<double>(), "F2")}")) + ".");
            var facts = r.NoetherFacts.Where(kv => kv.Value is not null).Select(kv => $"{kv.Key} = {Format(kv.Value)}").ToList();
            if (facts.Count > 0) sb.AppendLine("  Noether: " + string.Join(", ", facts) + ".");
            if (r.NoetherStatus is { } ns) sb.AppendLine($"  Noether: {ns}.");
            if (r.PyTorchStatus is { } ps) sb.AppendLine($"  PyTorch: {ps}.");
            if (r.PyTorch?["check"] is JsonObject check && check["what"] is { } what)
                sb.AppendLine(CultureInfo.InvariantCulture, $"  Check: {what} = {Row.F(r.CheckDifference, "0.0e+0")} (max |value| {Row.F(check["max_abs_value"]?.GetValue<double>(), "0.0##")}).");
            if (r.PyTorch?["test_accuracy"] is { } acc) sb.AppendLine(CultureInfo.InvariantCulture, $"  PyTorch test accuracy after the epoch: {acc}.");
        }
        sb.AppendLine().AppendLine("## Machine and settings").AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"- CPU: {machine.Cpu}, {machine.Cores} cores, {machine.GHz:F3} GHz; peak {machine.PeakF64GFlops:F1} GFLOP/s float64, {machine.PeakF32GFlops:F1} float32.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Peak assumption: {machine.PeakAssumption}.");
        sb.AppendLine("- Noether: " + string.Join("; ", noether.Select(kv => $"{kv.Key}: {Format(kv.Value)}")) + ".");
        if (pytorchEnv is not null)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"- PyTorch {pytorchEnv["torch"]} (Python {pytorchEnv["python"]}): threads {pytorchEnv["threads"]} (torch.set_num_threads), mallopt {pytorchEnv["mallopt"]?.ToJsonString()}.");
            sb.AppendLine("- PyTorch native libraries loaded: " + string.Join(", ", (pytorchEnv["native_libraries"] as JsonArray ?? []).Select(x => x?.ToString())) + ".");
            sb.AppendLine().AppendLine("```").AppendLine(pytorchEnv["config"]?.ToString()?.TrimEnd()).AppendLine("```");
        }
        return sb.ToString();
    }

    /// <summary>The JSON report: everything measured, raw times included.</summary>
    public JsonObject Json(IReadOnlyList<Row> rows)
    {
        var list = new JsonArray();
        foreach (var r in rows)
        {
            var py = r.PyTorch?.DeepClone().AsObject();
            py?.Remove("env");
            var pyEnv = r.PyTorch?["env"];
            list.Add(new JsonObject
            {
                ["name"] = r.Workload.Name,
                ["item"] = r.Workload.Item,
                ["description"] = r.Workload.Description,
                ["target"] = r.Workload.Target,
                ["units_per_run"] = r.Workload.Repetitions,
                ["noether"] = new JsonObject
                {
                    ["status"] = r.NoetherStatus ?? "ok",
                    ["times_ms"] = new JsonArray(r.NoetherMs.Select(x => (JsonNode?)x).ToArray()),
                    ["median_ms"] = r.NoetherMedian,
                    ["gflops"] = r.GFlops(r.NoetherMedian),
                    ["facts"] = JsonSerializer.SerializeToNode(r.NoetherFacts),
                },
                ["pytorch"] = new JsonObject
                {
                    ["status"] = r.PyTorchStatus ?? (r.PyTorch is null ? "no twin" : "ok"),
                    ["result"] = py,
                    ["gflops"] = r.GFlops(r.PyTorchMedian),
                    ["peak_rss_mb"] = pyEnv?["peak_rss_mb"]?.DeepClone(),
                },
                ["ratio"] = r.Ratio,
                ["pass"] = r.Pass,
                ["results_agree"] = r.Agree,
                ["verdict"] = r.Verdict,
            });
        }
        var env = pytorchEnv?.DeepClone().AsObject();
        env?.Remove("peak_rss_mb");
        return new JsonObject
        {
            ["started"] = started.ToString("O", CultureInfo.InvariantCulture),
            ["runs"] = settings.Runs,
            ["warmup"] = settings.Warmup,
            ["rounds"] = settings.Rounds,
            ["seed"] = settings.Seed,
            ["ratio"] = "Noether median / PyTorch median (lower is better)",
            ["machine"] = JsonSerializer.SerializeToNode(machine),
            ["noether"] = JsonSerializer.SerializeToNode(noether),
            ["pytorch"] = env,
            ["workloads"] = list,
        };
    }

    /// <summary>Writes results.json and results.md into the output folder (each atomically).</summary>
    public (string Json, string Markdown) Write(IReadOnlyList<Row> rows, string directory)
    {
        string json = Path.Combine(directory, "results.json"), md = Path.Combine(directory, "results.md");
        AtomicFile.WriteAllText(json, Json(rows).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(md, Markdown(rows));
        return (json, md);
    }

    private static string Format(object? value) => value switch
    {
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "",
    };
}
