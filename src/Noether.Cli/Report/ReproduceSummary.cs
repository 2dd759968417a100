using System.Text.Json;

namespace Noether.Cli.Report;

/// <summary>How a step of <c>noether reproduce</c> ended.</summary>
internal enum StepStatus
{
    /// <summary>The command exited with 0 and wrote a summary.json that follows the report contract.</summary>
    Ok,

    /// <summary>The command failed, or its summary.json is missing or breaks the contract; <see cref="StepOutcome.Error"/> says how.</summary>
    Failed,
}

/// <summary>One step of a reproduce run, as written to its summary.json and shown in report.html.</summary>
/// <param name="Name">The step's name (its folder under the run's --out).</param>
/// <param name="Command">The command line after <c>noether</c>, --out and --force included.</param>
/// <param name="Status">Ok or Failed.</param>
/// <param name="ExitCode">The command's exit code.</param>
/// <param name="Seconds">Wall time of the step.</param>
/// <param name="Error">Why the step failed (the command's stderr, or the contract breach); null when it succeeded.</param>
/// <param name="Claims">The claims from the step's summary.json (empty when it failed).</param>
/// <param name="Figures">The figures from the step's summary.json, with <see cref="FigureRef.File"/> relative to the run's folder ("drift/drift-q.png").</param>
internal sealed record StepOutcome(string Name, string[] Command, StepStatus Status, int ExitCode, double Seconds, string? Error,
    IReadOnlyList<Claim> Claims, IReadOnlyList<FigureRef> Figures);

/// <summary>The run's own summary.json (its schema: docs/summary.schema.json).</summary>
/// <param name="Command">Always "reproduce".</param>
/// <param name="Profile">quick, default or full.</param>
/// <param name="Date">When the run started (UTC).</param>
/// <param name="Machine">Where it ran.</param>
/// <param name="WallSeconds">Wall time of the whole run.</param>
/// <param name="PeakMemoryBytes">Peak resident memory of the process (every step runs in it).</param>
/// <param name="Succeeded">True when every step succeeded.</param>
/// <param name="Verdicts">How many claims got each verdict, over all steps.</param>
/// <param name="Steps">Every step, in plan order.</param>
/// <param name="Corrections">The corrections to the paper Noether follows (docs/spec-corrections.md).</param>
internal sealed record ReproduceSummary(string Command, string Profile, DateTimeOffset Date, MachineInfo Machine, double WallSeconds, long PeakMemoryBytes,
    bool Succeeded, IReadOnlyDictionary<string, int> Verdicts, IReadOnlyList<StepOutcome> Steps, IReadOnlyList<SpecCorrection> Corrections)
{
    /// <summary>Counts of every verdict (zeros included, in the enum's order) over the claims of <paramref name="steps"/>.</summary>
    public static IReadOnlyDictionary<string, int> CountVerdicts(IEnumerable<StepOutcome> steps)
    {
        var counts = Enum.GetValues<Verdict>().ToDictionary(v => v.ToString(), _ => 0);
        foreach (var c in steps.SelectMany(s => s.Claims)) counts[c.Verdict.ToString()]++;
        return counts;
    }
}

/// <summary>Reads a step's summary.json against the report contract (<see cref="Claim"/>, <see cref="FigureRef"/>).</summary>
internal static class StepSummaryReader
{
    /// <summary>
    /// The claims and figures of the step that wrote <paramref name="stepDir"/>; figure paths are returned relative to the
    /// run folder (<paramref name="stepName"/>/file). Throws <see cref="InvalidDataException"/> naming the breach when the
    /// summary is missing, not JSON, lacks "claims" or "figures", or names a PNG that is not there.
    /// </summary>
    public static (IReadOnlyList<Claim> Claims, IReadOnlyList<FigureRef> Figures) Read(string stepDir, string stepName)
    {
        string path = Path.Combine(stepDir, "summary.json");
        if (!File.Exists(path)) throw new InvalidDataException($"{stepName}: no summary.json was written to {stepDir}");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object");
            if (!root.TryGetProperty("claims", out var claimsJson) || claimsJson.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: no \"claims\" array (report contract, src/Noether/Experiments/Claim.cs)");
            if (!root.TryGetProperty("figures", out var figuresJson) || figuresJson.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: no \"figures\" array (report contract, src/Noether/Experiments/Claim.cs)");
            Claim[] claims;
            FigureRef[] figures;
            try
            {
                claims = claimsJson.Deserialize<Claim[]>(ResultJson.Options) ?? [];
                figures = figuresJson.Deserialize<FigureRef[]>(ResultJson.Options) ?? [];
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}: \"claims\" or \"figures\" do not follow the report contract ({e.Message})", e);
            }
            foreach (var c in claims)
                if (string.IsNullOrWhiteSpace(c.Id) || string.IsNullOrWhiteSpace(c.Statement) || c.Predicted is null || c.Measured is null || c.Source is null)
                    throw new InvalidDataException($"{path}: a claim lacks id, source, statement, predicted or measured");
            var relative = new List<FigureRef>();
            foreach (var f in figures)
            {
                if (string.IsNullOrWhiteSpace(f.File) || Path.IsPathRooted(f.File) || f.File.Contains("..", StringComparison.Ordinal))
                    throw new InvalidDataException($"{path}: figure file '{f.File}' must be a file name inside the step's folder");
                if (!File.Exists(Path.Combine(stepDir, f.File))) throw new InvalidDataException($"{path}: figure {f.File} is listed but was not written");
                relative.Add(f with { File = $"{stepName}/{f.File}" });
            }
            return (claims, relative);
        }
    }
}
