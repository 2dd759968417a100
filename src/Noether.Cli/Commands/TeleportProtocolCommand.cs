using Noether.Interop;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether teleport-protocol</c>: the ICLR 2024 teleportation protocol (Zhao et al.) on an imported MLP and Fashion-MNIST —
/// per optimiser and seed a baseline and a run with teleports, the wall-clock each needs to reach the baseline's final training
/// loss (teleports included) with 95% intervals over seeds, and the verdict printed from the numbers.
/// </summary>
internal static class TeleportProtocolCommand
{
    /// <summary>The fixture the protocol runs on by default: 784-16-10-10, LeakyReLU 0.1 (tests/fixtures/onnx/make_zoo.py).</summary>
    public const string DefaultModel = "tests/fixtures/onnx/mlp_teleport.onnx";

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The MLP to train (its Linear layers are re-initialised per seed as PyTorch does).", DefaultValueFactory = _ => DefaultModel };
        var profile = CommonOptions.Profile("quick: 2 seeds × 3 epochs; default: 5 × 10; full: 5 × 40 (the authors').");
        var seeds = new Option<int?>("--seeds") { Description = "Seeds per optimiser (overrides the profile; at least 2)." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs per run (overrides the profile)." };
        var optimizers = new Option<string?>("--optimizers") { Description = "Comma-separated subset of sgd, adagrad, momentum, rmsprop, adam (default: all five)." };
        var limit = new Option<int>("--train-limit") { Description = "Training samples: the first N of Fashion-MNIST's training split (the authors train on 50000).", DefaultValueFactory = _ => 50_000 };
        var noControl = new Option<bool>("--no-control") { Description = "Skip the reset-only control run per seed (the teleport schedule without moves: what the optimiser resets alone do)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder with Fashion-MNIST's files (default: the Debian package's folder)." }.ExistingDirectory();
        var run = RunOptions.Single("results/teleport-protocol");
        var command = run.Command("teleport-protocol", "The ICLR 2024 teleportation protocol: time to reach the baseline's final training loss with and without teleports (wall-clock, teleports included), per optimiser, with 95% intervals over seeds.",
            model, profile, seeds, epochs, optimizers, limit, noControl, dataDir);
        CliAction.Set(command, (parse, token) =>
        {
            var settings = Read(parse, profile, seeds, epochs, optimizers, run.Seed) with { ResetControl = !parse.GetValue(noControl) };
            string path = parse.GetValue(model)!;
            if (!File.Exists(path)) throw Errors.Argument("--model", $"--model {path}: no such file (the protocol's MLP is {DefaultModel}, made by tests/fixtures/onnx/make_zoo.py)");
            int trainLimit = parse.GetValue(limit);
            if (trainLimit < 1) throw Errors.Argument("--train-limit", $"--train-limit must be a positive number of samples (got {trainLimit})");
            var onnx = OnnxModel.Load(path);
            var (train, test, _) = ImportedModelData.Load("fashion-mnist", parse.GetValue(dataDir), trainLimit, null, null, null, null, "--test-file");
            try
            {
                settings.Validate(train.Count); // --seeds, --epochs and --optimizers are checked above; what is left depends on the data's size
            }
            catch (ArgumentException e)
            {
                throw Errors.Argument("--train-limit", $"--train-limit {trainLimit}: {Errors.Plain(e)}", e);
            }
            ImportedModelTraining.TeleportSites(onnx, path, "--model"); // a model without an exact symmetry has no teleport target
            return run.Write(parse, token, outDir =>
            {
                ExperimentConsole.Line(Format.Inv($"Teleport protocol on {Path.GetFileName(path)}: {string.Join(", ", settings.Arms.Select(a => a.Name))}; {settings.Seeds} seeds × {settings.Epochs} epochs, batch {settings.BatchSize}, {train.Count} training samples; {settings.Teleports} teleports of {settings.TeleportSteps} steps on {settings.TeleportBatch}-sample batches"));
                var clock = Stopwatch.StartNew();
                var result = ExperimentConsole.Run("teleport-protocol", (p, t) => TeleportProtocol.Run(onnx, train, test, settings, p, t), token);
                TeleportProtocolWriter.Write(outDir, path, result, clock.Elapsed);
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static TeleportProtocolSettings Read(ParseResult parse, Option<string> profile, Option<int?> seeds, Option<int?> epochs, Option<string?> optimizers, Option<int> seed)
    {
        var settings = TeleportProtocolSettings.ForProfile(parse.GetValue(profile)!);
        if (parse.GetValue(seeds) is { } s)
        {
            if (s < 2) throw Errors.Argument("--seeds", $"--seeds must be at least 2 (a 95% interval over seeds needs two), not {s}");
            settings = settings with { Seeds = s };
        }
        if (parse.GetValue(optimizers) is { } list)
        {
            var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var unknown = names.FirstOrDefault(n => !TeleportProtocolSettings.Paper.Any(a => a.Name == n));
            if (names.Length == 0 || unknown is not null)
                throw Errors.Argument("--optimizers", $"--optimizers expects a comma-separated subset of {string.Join(", ", TeleportProtocolSettings.Paper.Select(a => a.Name))}, not '{list}'");
            settings = settings with { Arms = TeleportProtocolSettings.Paper.Where(a => names.Contains(a.Name)).ToArray() };
        }
        if (parse.GetValue(epochs) is { } e)
        {
            int latest = settings.Arms.Max(a => a.TeleportEpoch);
            if (e <= latest) throw Errors.Argument("--epochs", $"--epochs must exceed {latest}: {string.Join(" and ", settings.Arms.Where(a => a.TeleportEpoch == latest).Select(a => a.Name))} teleport{(settings.Arms.Count(a => a.TeleportEpoch == latest) == 1 ? "s" : "")} at epoch {latest} (counted from 0), not {e}");
            settings = settings with { Epochs = e };
        }
        return settings with { FirstSeed = parse.GetValue(seed) };
    }
}
