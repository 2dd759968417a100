using System.CommandLine.Parsing;
using Noether.Ensembles;

namespace Noether.Cli.Commands;

/// <summary>
/// The options <c>noether ensemble</c> and <c>noether attack</c> share — the model (--model, or --weights and
/// --leaky-slope; --data, --data-dir) and how every ensemble is made and judged (--builders, --members, --mean-softmax, --calibration-size,
/// --condition-limit, --regularise, --test-limit) — made once per command, validated at parse time (nothing is created on
/// a bad value) and read into the experiment's settings in one place.
/// </summary>
internal sealed class EnsembleCommandOptions
{
    public Option<string?> Weights { get; } = ModelSource.Weights();

    public Option<string?> Model { get; } = new Option<string?>("--model")
    {
        Description = "A trained ONNX classifier (torch.onnx.export; output 0 the logits) instead of the SPEC CNN: the ensembles transform its last two fully connected layers (Gemm or MatMul + Add, an elementwise activation between them); nothing is trained.",
    }.ExistingFile();

    public Option<string> Data { get; } = ModelSource.Data();

    public Option<string?> DataDir { get; } = ModelSource.DataDir();

    public Option<double?> Slope { get; } = ModelSource.Slope();

    public Option<string[]?> BuilderNames { get; } = Builders();

    public Option<int?> Members { get; } = PositiveNullable("--members", "Ensemble members N ≥ 1 (default: the profile's, 10 for default).");

    public Option<bool> MeanSoftmax { get; } = new("--mean-softmax") { Description = "Predict by the arg-max of the members' mean softmax instead of the mode of their classes (the authors' printed numbers use it)." };

    public Option<int?> CalibrationSize { get; } = PositiveNullable("--calibration-size",
        "Calibration batch k of the group and shuffle members (default h). k ≤ h is required: a member reproduces the model exactly on its batch only then (Prop. 8).");

    public Option<double> ConditionLimit { get; } = ConditionLimitOption();

    public Option<bool> Regularise { get; } = new("--regularise") { Description = "Keep ill-conditioned members with a damped (Tikhonov) inverse instead of rejecting them." };

    public Option<int?> TestLimit { get; } = PositiveNullable("--test-limit", "Use only the first N test images (default: the profile's).");

    /// <summary>The model's options, to be listed first.</summary>
    public Option[] ModelOptions => [Model, Weights, Data, DataDir, Slope];

    /// <summary>The options of how the ensembles are made and judged, to be listed after the command's own.</summary>
    public Option[] ChoiceOptions => [BuilderNames, Members, MeanSoftmax, CalibrationSize, ConditionLimit, Regularise, TestLimit];

    /// <summary>The SPEC CNN a profile trains when no --weights is given (the same for both commands): quick 1 epoch on 10k images, default 5 epochs, full 10.</summary>
    public CnnTrainingSettings Training(ParseResult parse, string profile, int seed) => profile switch
    {
        "quick" => new CnnTrainingSettings(parse.GetValue(Data)!, parse.GetValue(DataDir), Epochs: 1, Seed: seed, TrainLimit: 10_000),
        "full" => new CnnTrainingSettings(parse.GetValue(Data)!, parse.GetValue(DataDir), Epochs: 10, Seed: seed),
        _ => new CnnTrainingSettings(parse.GetValue(Data)!, parse.GetValue(DataDir), Epochs: 5, Seed: seed),
    };

    /// <summary>What the command line says of the ensembles, over the profile's <paramref name="builders"/>, <paramref name="ensemble"/> and <paramref name="testLimit"/>.</summary>
    public EnsembleChoice Read(ParseResult parse, IReadOnlyList<EnsembleBuilderKind>? builders, EnsembleOptions ensemble, int? testLimit) => new(
        ParseBuilders(parse.GetValue(BuilderNames)) ?? builders,
        ensemble with
        {
            Members = parse.GetValue(Members) ?? ensemble.Members,
            CalibrationSize = parse.GetValue(CalibrationSize),
            ConditionLimit = parse.GetValue(ConditionLimit),
            Policy = parse.GetValue(Regularise) ? IllConditionedPolicy.Regularise : IllConditionedPolicy.Reject,
        },
        parse.GetValue(MeanSoftmax) ? EnsembleVote.MeanSoftmax : EnsembleVote.Mode,
        parse.GetValue(TestLimit) ?? testLimit);

    /// <summary>
    /// Checks what can be refused before --out is touched and runs <paramref name="experiment"/> on the model of --weights
    /// (or the profile's, trained or cached) in the staged --out (<see cref="SpecCnnRun.Start"/>), or on the imported graph of
    /// --model (<see cref="SpecCnnRun.StartImported"/>; --weights and --leaky-slope refused with it).
    /// </summary>
    public Task<int> Start(ParseResult parse, RunOptions run, CancellationToken token, CnnTrainingSettings training, Action<int> validate, int members,
        Shard? shard, Func<int> gridSize, Func<SpecCnnRun, int> experiment)
    {
        if (parse.GetValue(Model) is not { } modelPath)
            return SpecCnnRun.Start(parse, run, token, training, parse.GetValue(Weights), parse.GetValue(Slope), validate, members, shard, gridSize, experiment);
        foreach (var option in new Option[] { Weights, Slope })
            if (parse.GetResult(option) is { Implicit: false })
                throw Errors.Argument(option.Name, $"{option.Name} is an option of the SPEC CNN; with --model the ONNX file holds the trained model (give one or the other)");
        return SpecCnnRun.StartImported(parse, run, token, training, modelPath, validate, members, shard, gridSize, experiment);
    }

    public static Option<string> Profile(string description) => CommonOptions.Profile(description);

    private static Option<double> ConditionLimitOption()
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

    private static Option<string[]?> Builders()
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

    private static EnsembleBuilderKind[]? ParseBuilders(string[]? values) =>
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

/// <summary>What the command line says of the ensembles of <c>noether ensemble</c> or <c>noether attack</c> (<see cref="EnsembleCommandOptions.Read"/>).</summary>
/// <param name="Builders">The builders (null: all five).</param>
/// <param name="Ensemble">How every ensemble is made.</param>
/// <param name="Vote">How an ensemble predicts.</param>
/// <param name="TestLimit">The first this many test images (null: all).</param>
internal sealed record EnsembleChoice(IReadOnlyList<EnsembleBuilderKind>? Builders, EnsembleOptions Ensemble, EnsembleVote Vote, int? TestLimit);
