using System.CommandLine;
using System.CommandLine.Parsing;

namespace Noether.Cli.Commands;

/// <summary>Options several commands share, with their validation.</summary>
internal static class CommonOptions
{
    public static Option<string> Out(string defaultPath) => new("--out")
    {
        Description = "Directory for the results (created if missing).",
        DefaultValueFactory = _ => defaultPath,
    };

    /// <summary>The profiles every experiment command offers, fastest first.</summary>
    public static readonly string[] Profiles = ["quick", "default", "full"];

    /// <summary><c>--profile quick|default|full</c> (default: default), described by <paramref name="description"/>.</summary>
    public static Option<string> Profile(string description)
    {
        var profile = new Option<string>("--profile") { Description = description, DefaultValueFactory = _ => "default" };
        profile.AcceptOnlyFromAmong(Profiles);
        return profile;
    }

    public static Option<bool> Force() => new("--force") { Description = "Write into a non-empty --out directory." };

    public static Option<int> Seed() => new("--seed") { Description = "Seed of every random draw.", DefaultValueFactory = _ => 0 };

    public static Option<int> PositiveInt(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (r.TryGet(out int v) && v <= 0) r.AddError($"{name} must be a positive integer (got {v})");
        });
        return option;
    }

    public static Option<double> PositiveDouble(string name, string description, double defaultValue)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (r.TryGet(out double v) && (!(v > 0) || double.IsInfinity(v))) r.AddError($"{name} must be a positive finite number (got {v.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
        });
        return option;
    }

    /// <summary>
    /// <c>--shard i/n</c>: run only part i of n of a sweep's grid (contiguous blocks, sizes differing by at most one);
    /// <c>noether merge</c> joins the parts into exactly the unsharded output. Null when not given.
    /// </summary>
    public static Option<Noether.Experiments.Shard?> Shard()
    {
        var option = new Option<Noether.Experiments.Shard?>("--shard")
        {
            Description = "Run only part i of n of the sweep's grid (i/n, 1 ≤ i ≤ n, e.g. 2/4; for a Slurm array: ${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}); join the parts with `noether merge`.",
        };
        option.CustomParser = r =>
        {
            string text = string.Join(' ', r.Tokens.Select(t => t.Value));
            if (Noether.Experiments.Shard.TryParse(text, out var shard)) return shard;
            r.AddError($"--shard must be {Noether.Experiments.Shard.ExpectedForm}, e.g. 2/4 (got '{text}')");
            return null;
        };
        return option;
    }
}
