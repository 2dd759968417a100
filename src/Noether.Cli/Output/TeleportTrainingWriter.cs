namespace Noether.Cli.Output;

/// <summary>The teleports of <c>train --model --teleport-at</c>: teleports.csv (one row each) and their summary.json section.</summary>
internal static class TeleportTrainingWriter
{
    /// <summary>teleports.csv: every teleport's epoch, step, loss and ‖∇L‖² on its batch before and after, and its cost.</summary>
    public static void Csv(IReadOnlyList<TrainingTeleportRecord> records, string path)
    {
        string[] columns = ["teleport", "epoch", "step", "loss_before", "loss_after", "relative_loss_change", "grad_norm_sq_before", "grad_norm_sq_after",
            "gain", "ascent_steps", "hvps", "gradients", "capped", "seconds"];
        // Sharpness teleports add their target, λ_max before and after and the path parameter t.
        bool sharpness = records.Any(r => r.Sharpness is not null);
        var csv = new CsvTable(sharpness ? [.. columns, "target_sharpness", "sharpness_before", "sharpness_after", "t"] : columns);
        foreach (var t in records)
        {
            var r = t.Result;
            object?[] cells = [t.Index, t.Epoch, t.Step, r.LossBefore, r.LossAfter, r.RelativeLossChange, r.SquaredNormBefore, r.SquaredNormAfter, r.Gain,
                r.Steps, r.HessianVectorProducts, r.Gradients, r.Capped ? 1 : 0, r.Seconds];
            csv.AddRow(t.Sharpness is { } s ? [.. cells, s.Target, s.SharpnessBefore, s.SharpnessAfter, s.T] : cells);
        }
        csv.Save(path);
    }

    /// <summary>The summary.json section: the settings, the totals and every teleport.</summary>
    public static object Summary(TrainingTeleportSettings settings, IReadOnlyList<TrainingTeleportRecord> records) => new
    {
        settings,
        count = records.Count,
        totalSeconds = records.Sum(r => r.Result.Seconds),
        hessianVectorProducts = records.Sum(r => r.Result.HessianVectorProducts),
        maxRelativeLossChange = records.Select(r => r.Result.RelativeLossChange).DefaultIfEmpty(0).Max(),
        meanGain = records.Select(r => r.Result.Gain).DefaultIfEmpty(double.NaN).Average(),
        file = "teleports.csv",
        teleports = records.Select(r => new
        {
            r.Index, r.Epoch, r.Step, r.Result.LossBefore, r.Result.LossAfter, r.Result.SquaredNormBefore, r.Result.SquaredNormAfter,
            r.Result.Steps, r.Result.HessianVectorProducts, r.Result.Capped, r.Result.Seconds,
            targetSharpness = r.Sharpness?.Target, sharpnessBefore = r.Sharpness?.SharpnessBefore, sharpnessAfter = r.Sharpness?.SharpnessAfter, t = r.Sharpness?.T,
        }),
    };

    /// <summary>One console line: how many teleports, their cost and their effect.</summary>
    public static string Line(IReadOnlyList<TrainingTeleportRecord> records) => Format.Inv(
        $"teleports: {records.Count}, {records.Sum(r => r.Result.Seconds):F2} s and {records.Sum(r => r.Result.HessianVectorProducts)} Hessian-vector products in all; ‖∇L‖² on their batches × {records.Select(r => r.Result.Gain).DefaultIfEmpty(double.NaN).Average():G4} on average; largest relative loss change {records.Select(r => r.Result.RelativeLossChange).DefaultIfEmpty(0).Max():E2}");
}
