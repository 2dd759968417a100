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
        public Option<double?> SharpnessScale { get; } = ListOptions.OptionalPositiveDouble("--sharpness-scale", "With --model: the target λ_max is this factor times λ_max at the given weights (on the --input batch).");
        public Option<string?> Input { get; } = new("--input") { Description = "With --model and a sharpness target: the batch (.npy, the model's input shape) whose mean cross-entropy's Hessian is taken; default: a seeded N(0, 1) batch." };
        public Option<string?> Labels { get; } = new("--labels") { Description = "Class labels for --input (.npy of integers); default: seeded random labels." };
        public Option<int> Batch { get; } = CommonOptions.PositiveInt("--batch", "With --model and a sharpness target: samples of the batch (the first rows of --input, or the synthetic batch).", 32);
        public Option<double?> MaxT { get; } = ListOptions.OptionalPositiveDouble("--max-t", "With --model and a sharpness target: the search bound |t| on the site's path exp(tM) (default 5: scalings up to e^5).");
        public Option<int?> RandomMembers { get; } = new("--random-members") { Description = "With --model, instead of a target: write N random elements of the census group (every exact site at once but the softmax translation, so the outputs stay the same) applied to the model, members for an ensemble (1–100)." };
        public Option<double?> RandomScale { get; } = ListOptions.OptionalPositiveDouble("--random-scale", "With --random-members: each generator's coordinate is drawn from U(−s, s) (GL(d) sites: divided by √d); default 1.");

        public IEnumerable<Option> ModelOnly => [Site, QScale, QShift, QValue, SharpnessScale, Input, Labels, Batch, MaxT, RandomMembers, RandomScale];

        /// <summary>The options that only a sharpness target reads.</summary>
        public IEnumerable<Option> SharpnessOnly => [Input, Labels, Batch, MaxT];
    }

    /// <summary>A checked --model run: a Q target or a sharpness target with its batch.</summary>
    internal sealed record Request(ModelTeleportSettings? Q, ModelSharpnessTeleportSettings? Sharpness, string TargetOption, string? Input, string? Labels, int Batch, int Seed,
        ModelOrbitSampleSettings? Random = null);

    /// <summary>The settings of a --model run, checked before --out is touched (exactly one target, finite).</summary>
    public static Request Read(ParseResult parse, Options o, Option<double?> targetSharpness, string model, int seed)
    {
        if (!File.Exists(model)) throw new FileNotFoundException($"--model: {model} not found", model);
        if (parse.GetValue(o.RandomMembers) is { } members)
        {
            var targets = new Option[] { o.QScale, o.QShift, o.QValue, o.SharpnessScale, targetSharpness, o.Site }.Concat(o.SharpnessOnly);
            if (targets.FirstOrDefault(x => parse.GetResult(x) is { Implicit: false }) is { } other)
                throw Errors.Argument(other.Name, $"{other.Name} does not go with --random-members (random elements of the whole census group, no target or site)");
            if (members is < 1 or > 100) throw Errors.Argument("--random-members", $"--random-members must be 1 to 100 (got {members})");
            return new Request(null, null, "--random-members", null, null, 0, seed, new ModelOrbitSampleSettings(model, members, parse.GetValue(o.RandomScale) ?? 1, seed));
        }
        if (parse.GetResult(o.RandomScale) is { Implicit: false }) throw Errors.Argument("--random-scale", "--random-scale goes with --random-members");
        var given = new (string Name, SiteTargetKind? Kind, double? Value)[]
            {
                ("--q-scale", SiteTargetKind.Scale, parse.GetValue(o.QScale)), ("--q-shift", SiteTargetKind.Shift, parse.GetValue(o.QShift)), ("--q-value", SiteTargetKind.Value, parse.GetValue(o.QValue)),
                ("--target-sharpness", null, parse.GetValue(targetSharpness)), ("--sharpness-scale", null, parse.GetValue(o.SharpnessScale)),
            }
            .Where(t => t.Value is not null).ToArray();
        if (given.Length != 1)
            throw Errors.Argument("--q-scale", $"--model needs exactly one target: --q-scale, --q-shift, --q-value, --target-sharpness or --sharpness-scale (got {(given.Length == 0 ? "none" : string.Join(" and ", given.Select(t => t.Name)))})");
        var (name, kind, value) = given[0];
        if (!double.IsFinite(value!.Value)) throw Errors.Argument(name, $"{name} must be a finite number (got {value.Value.ToString(CultureInfo.InvariantCulture)})");
        int site = parse.GetValue(o.Site);
        if (site < 0) throw Errors.Argument("--site", $"--site must be a census site index ≥ 0 (got {site})");
        if (kind is { } k)
        {
            if (o.SharpnessOnly.FirstOrDefault(x => parse.GetResult(x) is { Implicit: false }) is { } orphan)
                throw Errors.Argument(orphan.Name, $"{orphan.Name} goes with a sharpness target (--target-sharpness or --sharpness-scale), not with {name}");
            return new Request(new ModelTeleportSettings(model, site, k, value.Value, seed), null, name, null, null, 0, seed);
        }
        var options = new Landscape.SiteSharpnessOptions(MaxPathParameter: parse.GetValue(o.MaxT) ?? 5, Seed: seed);
        var sharpness = new ModelSharpnessTeleportSettings(model, site, value.Value, name == "--sharpness-scale", options);
        return new Request(null, sharpness, name, parse.GetValue(o.Input), parse.GetValue(o.Labels), parse.GetValue(o.Batch), seed);
    }

    /// <summary>Runs the teleport and writes its result into <paramref name="outDir"/>.</summary>
    public static int Run(Request request, string outDir, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            if (request.Random is { } random)
                ModelTeleportWriter.WriteMembers(outDir, ModelTeleportExperiment.RunRandom(random, null, token), random, clock.Elapsed);
            else if (request.Q is { } q)
                ModelTeleportWriter.Write(outDir, ModelTeleportExperiment.Run(q, null, token), clock.Elapsed);
            else
            {
                bool synthetic = false;
                var result = ModelTeleportExperiment.RunSharpness(request.Sharpness!, graph =>
                {
                    CheckMemory(graph, request.Batch);
                    var (x, y, made) = ImportedModelData.CensusBatch(graph, request.Input, request.Labels, request.Batch, new Random(request.Seed), "--input", "--labels", "--model");
                    synthetic = made;
                    return (x, y);
                }, token);
                ModelTeleportWriter.Write(outDir, result, synthetic, clock.Elapsed);
            }
        }
        catch (ArgumentException e) when (e.ParamName is nameof(ModelTeleportSettings.Site) or "site" or "target")
        {
            string option = e.ParamName == "target" ? (request.Q is null ? request.TargetOption : "--q-value") : "--site";
            throw Errors.Argument(option, $"{option}: {Errors.Plain(e)}", e);
        }
        return ExitCodes.Ok;
    }

    // --batch is a count the user chooses: one recorded Hessian-vector product of the batch, as the census verification's.
    private static void CheckMemory(Noether.Graphs.Graph<double> graph, int batch)
    {
        if (graph.Inputs.Count != 1 || graph.Inputs[0].Shape.Skip(1).Any(d => d is null)) return;
        int[] sample = graph.Inputs[0].Shape.Skip(1).Select(d => d!.Value).ToArray();
        var need = MemoryEstimate.Census(graph.Parameters.Sum(p => (long)p.Length), MemoryEstimate.RecordedValues(graph, sample), batch,
            sample.Aggregate(1L, (a, d) => a * d), null, 1, 1);
        MemoryBudget.Check(FormattableString.Invariant($"--batch {batch}"), need);
    }
}
