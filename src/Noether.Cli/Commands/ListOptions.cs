using System.CommandLine.Parsing;
using Noether.Nn;

namespace Noether.Cli.Commands;

/// <summary>
/// Options holding lists (comma-separated, or several tokens: <c>--lr 0.1,0.01</c> or <c>--lr 0.1 0.01</c>), parsed and
/// validated at parse time so that a bad value fails before any folder is touched, with a message naming the option.
/// </summary>
internal static class ListOptions
{
    /// <summary>The activation names <see cref="Activation.Parse"/> accepts, for error messages.</summary>
    public const string ActivationNames = "identity, relu, leaky-relu[:slope], sigmoid, tanh, radial, radial-inverse-square";

    private static string Joined(ArgumentResult r) => string.Join(",", r.Tokens.Select(t => t.Value));

    private static string[] Items(string text) => text.Split([',', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static Option<T[]> List<T>(string name, string description, T[] defaultValue, Func<string, string, T> parseItem, string? valueName = null)
    {
        var option = new Option<T[]>(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
            HelpName = valueName,
        };
        option.CustomParser = r =>
        {
            string text = Joined(r);
            var items = Items(text);
            if (items.Length == 0)
            {
                r.AddError($"{name}: expected a comma-separated list, got '{text}'");
                return [];
            }
            var values = new List<T>(items.Length);
            foreach (var item in items)
            {
                try
                {
                    values.Add(parseItem(item, text));
                }
                catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
                {
                    r.AddError($"{name}: {Errors.Plain(e)}");
                    return [];
                }
            }
            return values.ToArray();
        };
        return option;
    }

    /// <summary>Positive finite numbers, e.g. learning rates.</summary>
    public static Option<double[]> PositiveDoubles(string name, string description, double[] defaultValue) =>
        List(name, description, defaultValue, (item, _) =>
        {
            if (!double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                throw new FormatException($"'{item}' is not a number");
            if (!(v > 0) || double.IsInfinity(v)) throw Errors.Argument(nameof(item), $"every value must be a positive finite number (got {item})");
            return v;
        }, "x1,x2,…");

    /// <summary>Positive integers, e.g. hidden widths.</summary>
    public static Option<int[]> PositiveInts(string name, string description, int[] defaultValue, int max = int.MaxValue) =>
        List(name, description, defaultValue, (item, _) =>
        {
            int v = ParsePositiveInt(item);
            return v <= max ? v : throw Errors.Argument(nameof(item), $"{item} is too large (at most {max})");
        }, "n1,n2,…");

    /// <summary>Activation names checked with <see cref="Activation.Parse"/>; <paramref name="elementwiseOnly"/> rejects radial ones.</summary>
    public static Option<string[]> Activations(string name, string description, string[] defaultValue, bool elementwiseOnly) =>
        List(name, description, defaultValue, (item, _) =>
        {
            Activation a;
            try
            {
                a = Activation.Parse(item);
            }
            catch (ArgumentException)
            {
                throw Errors.Argument(nameof(item), $"unknown activation '{item}'; valid: {(elementwiseOnly ? ElementwiseNames : ActivationNames)}");
            }
            if (elementwiseOnly && !a.IsElementwise)
                throw Errors.Argument(nameof(item), $"'{item}' is radial, but this command needs an elementwise σ (the eq. 48 form); valid: {ElementwiseNames}");
            return item;
        }, "σ1,σ2,…");

    private const string ElementwiseNames = "identity, relu, leaky-relu[:slope], sigmoid, tanh";

    /// <summary>(m, h, n) shapes written m×h×n (x, X or ×), e.g. <c>100x200x100,200x100x100</c>.</summary>
    public static Option<LayerShape[]> Shapes(string name, string description, LayerShape[] defaultValue, int maxHidden = int.MaxValue) =>
        List(name, description, defaultValue, (item, _) =>
        {
            var shape = ParseShape(item);
            return shape.H <= maxHidden ? shape : throw Errors.Argument(nameof(item), $"shape '{item}': h = {shape.H} is too large (at most {maxHidden})");
        }, "MxHxN,…");

    /// <summary>One (m, h, n) shape written m×h×n.</summary>
    public static Option<LayerShape> Shape(string name, string description, LayerShape defaultValue)
    {
        var option = new Option<LayerShape>(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = "MxHxN" };
        option.CustomParser = r =>
        {
            try
            {
                return ParseShape(Joined(r));
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                r.AddError($"{name}: {Errors.Plain(e)}");
                return default;
            }
        };
        return option;
    }

    /// <summary>Parses "m×h×n".</summary>
    public static LayerShape ParseShape(string item)
    {
        var parts = item.Split(['x', 'X', '×'], StringSplitOptions.TrimEntries);
        if (parts.Length != 3) throw new FormatException($"'{item}' is not a shape m×h×n such as 100x200x100");
        try
        {
            return new LayerShape(ParsePositiveInt(parts[0]), ParsePositiveInt(parts[1]), ParsePositiveInt(parts[2]));
        }
        catch (FormatException e)
        {
            throw new FormatException($"shape '{item}': {e.Message}");
        }
    }

    private static int ParsePositiveInt(string item)
    {
        if (!int.TryParse(item, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)) throw new FormatException($"'{item}' is not an integer");
        if (v <= 0) throw new FormatException($"every value must be a positive integer (got {item})");
        return v;
    }

    /// <summary>An optional positive finite number (null when absent).</summary>
    public static Option<double?> OptionalPositiveDouble(string name, string description)
    {
        var option = new Option<double?>(name) { Description = description };
        option.Validators.Add(r =>
        {
            if (r.TryGet(out double? value) && value is { } v && (!(v > 0) || double.IsInfinity(v)))
                r.AddError($"{name} must be a positive finite number (got {v.ToString(CultureInfo.InvariantCulture)})");
        });
        return option;
    }

    /// <summary>A number in (0, 1), e.g. a relative rank tolerance.</summary>
    public static Option<double> UnitInterval(string name, string description, double defaultValue)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (r.TryGet(out double v) && !(v > 0 && v < 1)) r.AddError($"{name} must be a number strictly between 0 and 1 (got {v.ToString(CultureInfo.InvariantCulture)})");
        });
        return option;
    }
}

/// <summary>Reading an option's value inside a validator.</summary>
internal static class OptionResults
{
    /// <summary>
    /// The value, or false when the token could not be converted (e.g. <c>--draws abc</c>): the parser reports that
    /// error itself, while <see cref="OptionResult.GetValueOrDefault{T}"/> would throw from inside the validator.
    /// </summary>
    public static bool TryGet<T>(this OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }
}
