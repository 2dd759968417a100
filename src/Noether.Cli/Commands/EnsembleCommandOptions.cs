using System.CommandLine.Parsing;
using Noether.Ensembles;

namespace Noether.Cli.Commands;

/// <summary>Options <c>noether ensemble</c> and <c>noether attack</c> share, validated at parse time (nothing is created on a bad value).</summary>
internal static class EnsembleCommandOptions
{
    public static Option<string> Profile(string description) => CommonOptions.Profile(description);

    public static Option<int?> Members() => PositiveNullable("--members", "Ensemble members N ≥ 1 (default: the profile's, 10 for default).");

    public static Option<int?> TestLimit() => PositiveNullable("--test-limit", "Use only the first N test images (default: the profile's).");

    public static Option<int?> CalibrationSize() => PositiveNullable("--calibration-size",
        "Calibration batch k of the group and shuffle members (default h). k ≤ h is required: a member reproduces the model exactly on its batch only then (Prop. 8).");

    public static Option<double> ConditionLimit()
    {
        var option = new Option<double>("--condition-limit")
        {
            Description = "Members whose inverted matrix (σ(gH₀), g or P) has a larger condition number are rejected (or regularised with --regularise); NaN/∞ weights are always rejected.",
            DefaultValueFactory = _ => 1e8,
        };
        option.Validators.Add(r =>
        {
            if (r.TryGet(out double v) && (!(v >= 1) || double.IsInfinity(v)))
                r.AddError($"--condition-limit must be a finite number ≥ 1 (got {v.ToString(CultureInfo.InvariantCulture)})");
        });
        return option;
    }

    public static Option<bool> Regularise() => new("--regularise") { Description = "Keep ill-conditioned members with a damped (Tikhonov) inverse instead of rejecting them." };

    public static Option<bool> MeanSoftmax() => new("--mean-softmax") { Description = "Predict by the arg-max of the members' mean softmax instead of the mode of their classes (the authors' printed numbers use it)." };

    public static Option<string[]?> Builders()
    {
        var option = new Option<string[]?>("--builders")
        {
            Description = "Ensemble builders, comma-separated: group, ginv, random, shuffle, perm-interp (default: all five).",
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
            HelpName = "b1,b2,…",
        };
        option.Validators.Add(r =>
        {
            foreach (var item in Items(r))
            {
                try
                {
                    EnsembleOptions.ParseBuilder(item);
                }
                catch (ArgumentException)
                {
                    r.AddError($"--builders: '{item}' is not a builder; expected group, ginv, random, shuffle or perm-interp");
                    return;
                }
            }
        });
        return option;
    }

    public static EnsembleBuilderKind[]? ParseBuilders(string[]? values) =>
        values is null || values.Length == 0 ? null : values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Select(EnsembleOptions.ParseBuilder).Distinct().ToArray();

    /// <summary>A list of ε ≥ 0; items may be fractions such as 8/255.</summary>
    public static Option<double[]?> NonNegativeList(string name, string description)
    {
        var option = new Option<double[]?>(name)
        {
            Description = description,
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
            HelpName = "e1,e2,…",
        };
        option.CustomParser = r =>
        {
            var values = new List<double>();
            foreach (var item in Items(r))
            {
                if (!TryParseNumber(item, out double v))
                {
                    r.AddError($"{name}: '{item}' is not a number (fractions such as 8/255 are accepted)");
                    return null;
                }
                if (!(v >= 0) || double.IsInfinity(v))
                {
                    r.AddError($"{name}: every value must be a finite number ≥ 0 (got {item})");
                    return null;
                }
                values.Add(v);
            }
            if (values.Count == 0) r.AddError($"{name}: expected a comma-separated list");
            return values.ToArray();
        };
        return option;
    }

    /// <summary>One number ≥ 0 (fractions such as 2/255 accepted).</summary>
    public static Option<double?> NonNegative(string name, string description)
    {
        var option = new Option<double?>(name) { Description = description };
        option.CustomParser = r =>
        {
            string text = string.Join("", r.Tokens.Select(t => t.Value));
            if (!TryParseNumber(text, out double v)) { r.AddError($"{name}: '{text}' is not a number (fractions such as 2/255 are accepted)"); return null; }
            if (!(v >= 0) || double.IsInfinity(v)) { r.AddError($"{name} must be a finite number ≥ 0 (got {text})"); return null; }
            return v;
        };
        return option;
    }

    public static bool TryParseNumber(string text, out double value)
    {
        value = double.NaN;
        var parts = text.Split('/', StringSplitOptions.TrimEntries);
        if (parts.Length > 2) return false;
        if (!double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double numerator)) return false;
        if (parts.Length == 1) { value = numerator; return true; }
        if (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double denominator) || !(denominator > 0)) return false;
        value = numerator / denominator;
        return true;
    }

    private static string[] Items(SymbolResult r) =>
        r.Tokens.SelectMany(t => t.Value.Split([',', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToArray();

    private static Option<int?> PositiveNullable(string name, string description)
    {
        var option = new Option<int?>(name) { Description = description };
        option.Validators.Add(r =>
        {
            if (r.TryGet(out int? v) && v is < 1) r.AddError($"{name} must be an integer ≥ 1 (got {v})");
        });
        return option;
    }
}
