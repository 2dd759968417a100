namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether laws</c>: the number of conservation laws of gradient flow, D − dim Lie(V)(θ) (Marcotte, Gribonval, Peyré,
/// NeurIPS 2023), on random linear and ReLU nets of the sizes their paper checked — with V the gradients of the
/// reparametrisation φ (valid for all data) and, beside it, V the gradients of the outputs on a data batch.
/// </summary>
internal static class LawsCommand
{
    public static Command Create()
    {
        var defaults = new LawCountSettings();
        var linear = new Option<int>("--linear-nets") { Description = "Random linear nets (depth 2–4, widths 2–5).", DefaultValueFactory = _ => defaults.LinearNets };
        var relu = new Option<int>("--relu-nets") { Description = "Random ReLU nets (depth 2–4, widths 2–9).", DefaultValueFactory = _ => defaults.ReluNets };
        foreach (var o in new[] { linear, relu })
            o.Validators.Add(r => { if (r.TryGet(out int v) && v is < 0 or > 1000) r.AddError($"{r.Option.Name} must be an integer from 0 to 1000 (got {v})"); });
        var maxDepth = new Option<int>("--max-depth") { Description = "Most layers of a net (2–4, the sizes of the paper's check; ReLU path products grow as the product of the widths).", DefaultValueFactory = _ => defaults.MaxDepth };
        maxDepth.Validators.Add(r => { if (r.TryGet(out int v) && v is < 2 or > 4) r.AddError($"--max-depth must be an integer from 2 to 4 (got {v})"); });
        var noData = new Option<bool>("--no-data") { Description = "Skip the data fields' count (the φ count alone is faster)." };
        var run = RunOptions.Single("results/laws");

        var command = run.Command("laws", "Count the conservation laws of gradient flow, D − dim Lie(V)(θ) (Marcotte et al. 2023), on random linear and ReLU nets: the reparametrisation's fields beside the known laws, and the data fields beside them.",
            linear, relu, maxDepth, noData);
        CliAction.Set(command, (parse, token) =>
        {
            var settings = new LawCountSettings
            {
                LinearNets = parse.GetValue(linear),
                ReluNets = parse.GetValue(relu),
                MaxDepth = parse.GetValue(maxDepth),
                DataFields = !parse.GetValue(noData),
                Seed = parse.GetValue(run.Seed),
            };
            return run.Write(parse, token, outDir =>
            {
                ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                    $"Counting conservation laws on {settings.LinearNets} linear and {settings.ReluNets} ReLU nets (depth {settings.MinDepth}–{settings.MaxDepth}){(settings.DataFields ? ", with the data fields" : "")}; seed {settings.Seed}"));
                var clock = Stopwatch.StartNew();
                var table = ExperimentConsole.Run("laws", (p, t) => LawCountExperiment.Run(settings, p, t), token);
                LawsWriter.Write(outDir, table, clock.Elapsed);
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
