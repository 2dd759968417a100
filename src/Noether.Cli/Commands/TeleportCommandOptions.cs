using System.Numerics;
using Noether.Data;
using Noether.Graphs;
using Noether.Interop;
using Noether.Symmetry.Census;

namespace Noether.Cli.Commands;

/// <summary>
/// The teleport options of <c>train --model</c> (--teleport-at, --teleports, --teleport-steps, --teleport-batch,
/// --teleport-lr, --teleport-cap), read and checked in one place: each bad value fails in one line naming its option,
/// before --out is touched.
/// </summary>
internal static class TeleportCommandOptions
{
    /// <summary>The teleport settings (null without --teleport-at), checked against the run's epochs.</summary>
    public static TrainingTeleportSettings? Read(ParseResult parse, TrainModelCommand.Options o, GraphTrainingSettings settings, int monitor)
    {
        string? at = parse.GetValue(o.TeleportAt);
        if (at is null)
        {
            if (o.TeleportDetails.FirstOrDefault(x => parse.GetResult(x) is { Implicit: false }) is { } orphan)
                throw Errors.Argument(orphan.Name, $"{orphan.Name} needs --teleport-at (the epochs to teleport at)");
            return null;
        }
        if (monitor > 0) throw Errors.Argument("--teleport-at", "--teleport-at: not with --monitor (a teleport moves the conserved quantities the monitor follows)");
        var epochs = new List<int>();
        foreach (var part in at.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int e))
                throw Errors.Argument("--teleport-at", $"--teleport-at expects epochs counted from 0, separated by commas (e.g. 0 or 2,10), not '{at}'");
            if (e < 0 || e >= settings.Epochs)
                throw Errors.Argument("--teleport-at", $"--teleport-at {e} is beyond the run: with --epochs {settings.Epochs} the epochs are 0–{settings.Epochs - 1} (0: before the first step)");
            if (epochs.Contains(e)) throw Errors.Argument("--teleport-at", $"--teleport-at lists epoch {e} twice");
            epochs.Add(e);
        }
        int count = parse.GetValue(o.Teleports), steps = parse.GetValue(o.TeleportSteps), batch = parse.GetValue(o.TeleportBatch);
        double lr = parse.GetValue(o.TeleportLr), cap = parse.GetValue(o.TeleportCap);
        if (count < 1) throw Errors.Argument("--teleports", $"--teleports must be at least 1 teleport per chosen epoch (got {count})");
        if (steps < 1) throw Errors.Argument("--teleport-steps", $"--teleport-steps must be at least 1 ascent step (got {steps})");
        if (batch < 1) throw Errors.Argument("--teleport-batch", $"--teleport-batch must be a positive number of samples (got {batch})");
        if (!(lr > 0) || double.IsInfinity(lr)) throw Errors.Argument("--teleport-lr", Format.Inv($"--teleport-lr must be a positive finite step size (got {lr})"));
        if (!(cap > 0)) throw Errors.Argument("--teleport-cap", Format.Inv($"--teleport-cap must be a positive bound on ‖∇L‖² (got {cap})"));
        return new TrainingTeleportSettings(epochs, count, steps, batch, lr, cap, settings.Seed, ReadTarget(parse, o));
    }

    // --teleport-to gradient-norm | sharpness:X | sharpness-scale:S, with --teleport-site for a sharpness target only.
    private static SharpnessTeleportTarget? ReadTarget(ParseResult parse, TrainModelCommand.Options o)
    {
        string to = parse.GetValue(o.TeleportTo) ?? "gradient-norm";
        int? site = parse.GetValue(o.TeleportSite);
        if (to == "gradient-norm")
        {
            if (site is not null) throw Errors.Argument("--teleport-site", "--teleport-site goes with --teleport-to sharpness:X or sharpness-scale:S (a gradient-norm teleport moves every exact site)");
            return null;
        }
        int colon = to.IndexOf(':');
        string kind = colon < 0 ? to : to[..colon];
        if (kind is not ("sharpness" or "sharpness-scale") || colon < 0
            || !double.TryParse(to[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double amount))
            throw Errors.Argument("--teleport-to", $"--teleport-to expects gradient-norm, sharpness:X or sharpness-scale:S with a number, not '{to}'");
        if (!(amount > 0) || double.IsInfinity(amount)) throw Errors.Argument("--teleport-to", Format.Inv($"--teleport-to {kind}: expects a positive finite number (got {amount})"));
        if (site is not { } index) throw Errors.Argument("--teleport-site", $"--teleport-to {to} needs --teleport-site (the census site to move, from 0)");
        if (index < 0) throw Errors.Argument("--teleport-site", $"--teleport-site must be a census site index ≥ 0 (got {index})");
        if (o.AscentOnly.FirstOrDefault(x => parse.GetResult(x) is { Implicit: false }) is { } orphan)
            throw Errors.Argument(orphan.Name, $"{orphan.Name} goes with the gradient-norm teleport, not with --teleport-to {to}");
        return new SharpnessTeleportTarget(index, amount, kind == "sharpness-scale");
    }

    /// <summary>
    /// Checks what needs the model and the data: a teleport target must be reachable (the census has an exact site to move
    /// along), the teleports must fit an epoch and the teleport batch the training set. Returns the float64 twin and the sites.
    /// </summary>
    public static (Graph<double> Twin, IReadOnlyList<CensusSite> Sites) Check(TrainModelCommand.Request request, OnnxModel onnx, ImageDataset train)
    {
        var t = request.Teleport!;
        int batches = Minibatches.BatchCount(train.Count, request.Settings.BatchSize);
        if (t.Count > batches)
            throw Errors.Argument("--teleports", $"--teleports {t.Count} does not fit an epoch: teleports run before the first steps of an epoch, and an epoch has {batches} steps");
        if (t.BatchSize > train.Count)
            throw Errors.Argument("--teleport-batch", $"--teleport-batch {t.BatchSize} is larger than the training set ({train.Count} samples)");
        return t.Sharpness is { } target ? ImportedModelTraining.SharpnessTeleportSite(onnx, request.ModelPath, target.Site, "--teleport-site")
            : ImportedModelTraining.TeleportSites(onnx, request.ModelPath, "--teleport-at");
    }

    /// <summary>The teleport of a run (null without --teleport-at).</summary>
    public static TrainingTeleport<T>? Create<T>(TrainModelCommand.Request request, (Graph<double> Twin, IReadOnlyList<CensusSite> Sites)? sites, ImageDataset train, int[] sampleShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (request.Teleport is not { } settings || sites is not { } s) return null;
        var teleport = new TrainingTeleport<T>(s.Twin, s.Sites, settings, train, sampleShape);
        string epochs = Format.Inv($"epoch{(settings.Epochs.Count == 1 ? "" : "s")} {string.Join(", ", settings.Epochs)}");
        CliAction.Out.MarkupLine(Markup.Escape(settings.Sharpness is { } target
            ? Format.Inv($"Teleporting at {epochs}: {settings.Count} teleports on {settings.BatchSize}-sample batches to λ_max {(target.Scale ? $"× {target.Amount}" : $"= {target.Amount}")} along site {target.Site} ({s.Sites[0].Location}, {s.Sites[0].Group})")
            : Format.Inv($"Teleporting at {epochs}: {settings.Count} teleports of {settings.Steps} ascent steps on {settings.BatchSize}-sample batches, η {settings.LearningRate}, along {s.Sites.Count} exact census sites ({teleport.Dimension} generators)")));
        return teleport;
    }
}
