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
}
