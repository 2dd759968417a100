using Noether.Experiments;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether teleport --model m.onnx --site N --q-scale s</c>: teleports one census site of an imported model (listed by
/// <c>noether symmetries</c>) to target conserved quantities, checks that the class probabilities did not change and writes
/// the moved model (ONNX and safetensors) with a table of every generator's Q before, target and after.
/// </summary>
internal static class ModelTeleportCommand
{
    /// <summary>The options only the --model path reads.</summary>
    internal sealed class Options
    {
        public Option<string?> Model { get; } = new("--model") { Description = "An ONNX model (torch.onnx.export): teleport one of its census sites (see `noether symmetries --model`) instead of a two-layer network." };
        public Option<int> Site { get; } = new("--site") { Description = "With --model: the census site to move (its index in `noether symmetries`' table, from 0).", DefaultValueFactory = _ => 0 };
        public Option<double?> QScale { get; } = new("--q-scale") { Description = "With --model: every generator's target Q is this factor times its Q." };
        public Option<double?> QShift { get; } = new("--q-shift") { Description = "With --model: every generator's target Q is its Q plus this shift." };
        public Option<double?> QValue { get; } = new("--q-value") { Description = "With --model: every generator's target Q is this value." };

        public IEnumerable<Option> ModelOnly => [Site, QScale, QShift, QValue];
    }

    /// <summary>The settings of a --model run, checked before --out is touched (exactly one target, finite).</summary>
    public static ModelTeleportSettings Read(ParseResult parse, Options o, string model, int seed)
    {
        if (!File.Exists(model)) throw new FileNotFoundException($"--model: {model} not found", model);
        var given = new (string Name, SiteTargetKind Kind, double? Value)[]
            { ("--q-scale", SiteTargetKind.Scale, parse.GetValue(o.QScale)), ("--q-shift", SiteTargetKind.Shift, parse.GetValue(o.QShift)), ("--q-value", SiteTargetKind.Value, parse.GetValue(o.QValue)) }
            .Where(t => t.Value is not null).ToArray();
        if (given.Length != 1)
            throw Errors.Argument("--q-scale", $"--model needs exactly one target: --q-scale, --q-shift or --q-value (got {(given.Length == 0 ? "none" : string.Join(" and ", given.Select(t => t.Name)))})");
        var (name, kind, value) = given[0];
        if (!double.IsFinite(value!.Value)) throw Errors.Argument(name, $"{name} must be a finite number (got {value.Value.ToString(CultureInfo.InvariantCulture)})");
        int site = parse.GetValue(o.Site);
        if (site < 0) throw Errors.Argument("--site", $"--site must be a census site index ≥ 0 (got {site})");
        return new ModelTeleportSettings(model, site, kind, value.Value, seed);
    }

    /// <summary>Runs the teleport and writes its result into <paramref name="outDir"/>.</summary>
    public static int Run(ModelTeleportSettings settings, string outDir, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        ModelTeleportResult result;
        try
        {
            result = ModelTeleportExperiment.Run(settings, null, token);
        }
        catch (ArgumentException e) when (e.ParamName is nameof(ModelTeleportSettings.Site) or "target")
        {
            string option = e.ParamName == "target" ? "--q-value" : "--site";
            throw Errors.Argument(option, $"{option}: {Errors.Plain(e)}", e);
        }
        ModelTeleportWriter.Write(outDir, result, clock.Elapsed);
        return ExitCodes.Ok;
    }
}
