using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Cli.Output;
using Noether.Experiments;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether teleport</c>: train a small two-layer network (or load <c>--weights</c>), then move it along its minimum with a
/// group element g, θ ↦ (U g⁻¹, g V), to a chosen Tr Q, λ_max or whole Q (paper Appendix G: Q sets the sharpness), and verify
/// that the loss did not change. Writes the weights before and after, the Q matrices, the Hessian spectra and λ_max along
/// the scalar path e^t·I.
/// </summary>
internal static class TeleportCommand
{
    private sealed record Profile(LayerShape Shape, int Samples, long Steps, double LearningRate, int PathPoints);

    private static Profile ForProfile(string name) => name switch
    {
        "quick" => new(new LayerShape(5, 4, 6), 40, 4_000, 0.05, 21),
        "full" => new(new LayerShape(10, 50, 5), 20, 20_000, 0.02, 41),
        _ => new(new LayerShape(10, 8, 12), 100, 20_000, 0.05, 41),
    };

    public static Command Create()
    {
        var profile = TeleportSetup.Profile("the paper's Fig. 8 shapes m = 10, h = 50, n = 5: 750 parameters");
        var activation = TeleportSetup.Activation();
        var shape = TeleportSetup.Shape();
        var samples = new Option<int?>("--samples") { Description = "k, the number of training samples (default: the profile's)." };
        samples.Validators.Add(r => { if (r.TryGet(out int? v) && v is <= 0) r.AddError($"--samples must be a positive integer (got {v})"); });
        var steps = new Option<long?>("--steps") { Description = "Gradient-descent step limit (default: the profile's; stops earlier once ‖∇L‖ ≤ 1e-10)." };
        steps.Validators.Add(r => { if (r.TryGet(out long? v) && v is < 0) r.AddError($"--steps must be a non-negative integer (got {v})"); });
        var lr = ListOptions.OptionalPositiveDouble("--lr", "Learning rate η (default: the profile's).");
        var weights = TeleportSetup.Weights();
        var targetTrace = new Option<double?>("--target-trace") { Description = "Target Tr Q = Tr[UᵀU − VVᵀ] (any finite number), reached along the scalar path e^τ·I in closed form." };
        targetTrace.Validators.Add(r => { if (r.TryGet(out double? v) && v is { } x && !double.IsFinite(x)) r.AddError($"--target-trace must be a finite number (got {x.ToString(CultureInfo.InvariantCulture)})"); });
        var targetSharpness = ListOptions.OptionalPositiveDouble("--target-sharpness", "Target top Hessian eigenvalue λ_max (> 0), found along the scalar path e^t·I (with --model: along the site's path, on the --input batch).");
        var targetQ = new Option<string?>("--target-q") { Description = "CSV file (no header) with the target Q: h rows of h numbers for identity σ; h numbers (diag Q) for relu/leaky-relu." };
        var seed = CommonOptions.Seed();
        var output = CommonOptions.Out("results/teleport");
        var force = CommonOptions.Force();
        var model = new ModelTeleportCommand.Options();

        var command = new Command("teleport", "Move a trained network along its minimum with a group element to a chosen Tr Q, λ_max or Q matrix (Appendix G); verify the loss is unchanged; report the sharpness before and after.")
        {
            profile, activation, shape, samples, steps, lr, weights, targetTrace, targetSharpness, targetQ, model.Model, model.Site, model.QScale, model.QShift, model.QValue, model.SharpnessScale, model.Input, model.Labels, model.Batch, model.MaxT, model.RandomMembers, model.RandomScale,
            seed, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            if (parse.GetValue(model.Model) is { } modelPath)
            {
                var teleport = ModelTeleportCommand.Read(parse, model, targetSharpness, modelPath, parse.GetValue(seed));
                return Task.FromResult(OutputFolder.Run(parse.GetValue(output), parse.GetValue(force), token, outDir => ModelTeleportCommand.Run(teleport, outDir, token)));
            }
            if (model.ModelOnly.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } orphan)
                throw Errors.Argument(orphan.Name, $"{orphan.Name} needs --model (it moves a census site of an imported model)");
            string profileName = parse.GetValue(profile)!;
            var p = ForProfile(profileName);
            var net = new TwoLayerRegressionSettings(TeleportSetup.ParseActivation(parse.GetValue(activation)!),
                parse.GetValue(shape) is { } text ? ListOptions.ParseShape(text) : p.Shape, parse.GetValue(samples) ?? p.Samples, parse.GetValue(steps) ?? p.Steps,
                parse.GetValue(lr) ?? p.LearningRate, 1.0, 0.1, parse.GetValue(seed), parse.GetValue(weights));
            var targets = new[] { parse.GetValue(targetTrace) is null ? null : "--target-trace", parse.GetValue(targetSharpness) is null ? null : "--target-sharpness", parse.GetValue(targetQ) is null ? null : "--target-q" }
                .OfType<string>().ToArray();
            if (targets.Length > 1) throw Errors.Argument("--target", $"give at most one target: got {string.Join(" and ", targets)}");
            if (net.Weights is { } w && !File.Exists(w)) throw new FileNotFoundException($"--weights: {w} not found", w);
            TeleportTarget target = parse.GetValue(targetQ) is { } qPath ? ReadTarget(qPath, net.Activation, net.Shape.H)
                : parse.GetValue(targetSharpness) is { } s ? new TeleportTarget.Sharpness(s)
                : new TeleportTarget.Trace(parse.GetValue(targetTrace) ?? 0);
            var settings = new TeleportExperimentSettings(net, target, p.PathPoints);
            return Task.FromResult(OutputFolder.Run(parse.GetValue(output), parse.GetValue(force), token, outDir =>
            {
                var clock = Stopwatch.StartNew();
                var result = ExperimentConsole.Run("teleport", (progress, t) => TeleportExperiment.Run(settings, progress, t), token);
                TeleportWriter.Write(outDir, profileName, result, clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    /// <summary>Reads the --target-q CSV: an h×h matrix (identity σ) or h numbers (scaling groups).</summary>
    private static TeleportTarget ReadTarget(string path, ActivationKind activation, int h)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--target-q: {path} not found", path);
        var rows = new List<double[]>();
        int line = 0;
        foreach (var raw in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var cells = raw.Split(',', StringSplitOptions.TrimEntries);
            var row = new double[cells.Length];
            for (int j = 0; j < cells.Length; j++)
                if (!double.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out row[j]) || !double.IsFinite(row[j]))
                    throw new FormatException($"--target-q: {path} line {line}, value {j + 1} ('{cells[j]}') is not a finite number");
            rows.Add(row);
        }
        if (activation == ActivationKind.Identity)
        {
            if (rows.Count != h || rows.Any(r => r.Length != h))
                throw Errors.Argument("--target-q", $"--target-q: {path} has {rows.Count} rows of {string.Join("/", rows.Select(r => r.Length).Distinct())} values; identity σ needs the whole h×h matrix Q = UᵀU − VVᵀ, h = {h}");
            var q = Tensor<double>.Zeros(h, h);
            for (int i = 0; i < h; i++)
                for (int j = 0; j < h; j++) q[i, j] = rows[i][j];
            return new TeleportTarget.ImbalanceMatrix(q);
        }
        var values = rows.SelectMany(r => r).ToArray();
        bool shapeOk = (rows.Count == 1 && rows[0].Length == h) || (rows.Count == h && rows.All(r => r.Length == 1));
        if (!shapeOk)
            throw Errors.Argument("--target-q", $"--target-q: {path} has {values.Length} values in {rows.Count} rows; {activation} conserves only diag(UᵀU − VVᵀ), so give h = {h} numbers in one row or one column");
        return new TeleportTarget.ImbalanceDiagonal(values);
    }
}
