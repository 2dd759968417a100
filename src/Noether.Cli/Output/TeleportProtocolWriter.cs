namespace Noether.Cli.Output;

/// <summary>
/// The files of <c>teleport-protocol</c>: curves.csv (every run's loss and wall-clock per epoch), comparison.csv (per optimiser
/// and seed: target, both times to reach it), teleports.csv (every teleport), teleport-protocol.png and summary.json with the
/// verdict per optimiser; the console shows the comparison table.
/// </summary>
internal static class TeleportProtocolWriter
{
    public static void Write(string outDir, string model, TeleportProtocolResult result, TimeSpan elapsed)
    {
        var curves = new CsvTable("optimizer", "seed", "run", "epoch", "train_loss", "seconds");
        foreach (var r in result.Runs)
            for (int e = 0; e < r.EpochLoss.Length; e++) curves.AddRow(r.Arm, r.Seed, r.Variant, e + 1, r.EpochLoss[e], r.Seconds[e]);
        curves.Save(Path.Combine(outDir, "curves.csv"));

        var comparison = new CsvTable("optimizer", "seed", "target_loss", "baseline_seconds", "teleport_seconds", "difference_seconds", "ratio", "teleport_cost_seconds",
            "reset_control_seconds");
        foreach (var a in result.Arms)
            for (int s = 0; s < a.Targets.Length; s++)
                comparison.AddRow(a.Arm, result.Settings.FirstSeed + s, a.Targets[s], a.BaselineTimes[s], a.TeleportTimes[s], a.TeleportTimes[s] - a.BaselineTimes[s],
                    a.TeleportTimes[s] / a.BaselineTimes[s], a.TeleportSeconds[s], a.ControlTimes is { } c ? c[s] : double.NaN);
        comparison.Save(Path.Combine(outDir, "comparison.csv"));

        var teleports = new CsvTable("optimizer", "seed", "run", "teleport", "epoch", "step", "loss_before", "loss_after", "grad_norm_sq_before", "grad_norm_sq_after",
            "ascent_steps", "hvps", "capped", "seconds");
        foreach (var r in result.Runs)
            foreach (var t in r.Teleports)
                teleports.AddRow(r.Arm, r.Seed, r.Variant, t.Index, t.Epoch, t.Step, t.Result.LossBefore, t.Result.LossAfter, t.Result.SquaredNormBefore, t.Result.SquaredNormAfter,
                    t.Result.Steps, t.Result.HessianVectorProducts, t.Result.Capped ? 1 : 0, t.Result.Seconds);
        teleports.Save(Path.Combine(outDir, "teleports.csv"));

        TeleportProtocolFigures.Curves(result, Path.Combine(outDir, "teleport-protocol.png"));
        var claim = TeleportProtocolClaims.Make(result);
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "teleport-protocol",
            model = Path.GetFullPath(model),
            settings = result.Settings,
            trainSamples = result.TrainCount,
            group = new { sites = result.Sites, generators = result.GroupDimension, kind = "the census's exact sites of the imported graph (per-unit positive rescalings across LeakyReLU, softmax translations)" },
            timing = "wall-clock of the training steps and the teleports, the per-epoch evaluation excluded; time to reach = first epoch whose mean training loss ≤ the baseline's final one, interpolated linearly in time from the epoch before",
            optimizers = result.Arms.Select(a => new
            {
                optimizer = a.Arm,
                verdict = a.Faster ? "faster" : "not faster",
                reached = a.Reached,
                seeds = a.Targets.Length,
                differenceSeconds = a.Difference,
                ratio = a.Ratio,
                baselineSeconds = a.BaselineTimes,
                teleportSeconds = a.TeleportTimes,
                teleportCostSeconds = a.TeleportSeconds,
                meanGradientNormGain = a.Gain,
                finalLossDifference = a.FinalLossDifference,
                resetControlSeconds = a.ControlTimes,
                resetControlDifferenceSeconds = a.ControlDifference,
            }),
            failures = result.Runs.Where(r => r.Failure is not null).Select(r => new { optimizer = r.Arm, r.Seed, run = r.Variant, r.Failure }),
            testAccuracy = result.Runs.Select(r => new { optimizer = r.Arm, r.Seed, run = r.Variant, accuracy = r.TestAccuracy }),
            claims = new[] { claim },
            figures = new[] { new FigureRef("teleport-protocol.png", "ICLR 2024 Fig. 5", "Training loss against wall-clock (teleports included): baseline, with teleports, and the reset-only control; every seed thin, the mean over seeds thick; one panel per optimiser.") },
            wallSeconds = elapsed.TotalSeconds,
        });

        var table = new Table().Border(TableBorder.Rounded).Title("time to reach the baseline's final training loss (s)")
            .AddColumn("optimizer").AddColumn(new TableColumn("baseline").RightAligned()).AddColumn(new TableColumn("teleport").RightAligned())
            .AddColumn(new TableColumn(Markup.Escape("T_tele − T_base [95%]")).RightAligned()).AddColumn(new TableColumn(Markup.Escape("ratio [95%]")).RightAligned())
            .AddColumn(new TableColumn("reached").RightAligned()).AddColumn(new TableColumn(Markup.Escape("L_final: tele − base [95%]")).RightAligned())
            .AddColumn(new TableColumn(Markup.Escape("reset only − base [95%]")).RightAligned()).AddColumn(new TableColumn("‖∇L‖² gain").RightAligned()).AddColumn("verdict");
        foreach (var a in result.Arms)
            table.AddRow(a.Arm, Format.G(a.BaselineTimes.Average()), Format.G(a.TeleportTimes.Average()),
                Interval(a.Difference), Interval(a.Ratio),
                Format.Inv($"{a.Reached}/{a.Targets.Length}"), Interval(a.FinalLossDifference), Interval(a.ControlDifference),
                Format.G(a.Gain), a.Faster ? "[green]faster[/]" : "[yellow]not faster[/]");
        ExperimentConsole.Write(table);
        foreach (var r in result.Runs.Where(r => r.Failure is not null))
            ExperimentConsole.Line(Format.Inv($"{r.Arm} seed {r.Seed} {r.Variant} stopped: {r.Failure}"));
        ExperimentConsole.Line(Format.Inv($"{claim.Id}: {claim.Verdict} ({claim.Measured}). wall {elapsed.TotalSeconds:F1} s; wrote curves.csv, comparison.csv, teleports.csv, teleport-protocol.png, summary.json to {outDir}"));
    }

    private static string Interval(TInterval? i) =>
        i is null ? "–" : Markup.Escape(Format.Inv($"{Format.G(i.Mean)} [{Format.G(i.Lower)}, {Format.G(i.Upper)}]"));
}
