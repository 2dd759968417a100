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
        var curves = new CsvTable("optimizer", "seed", "teleport", "epoch", "train_loss", "seconds");
        foreach (var r in result.Runs)
            for (int e = 0; e < r.EpochLoss.Length; e++) curves.AddRow(r.Arm, r.Seed, r.Teleport ? 1 : 0, e + 1, r.EpochLoss[e], r.Seconds[e]);
        curves.Save(Path.Combine(outDir, "curves.csv"));

        var comparison = new CsvTable("optimizer", "seed", "target_loss", "baseline_seconds", "teleport_seconds", "difference_seconds", "ratio", "teleport_cost_seconds");
        foreach (var a in result.Arms)
            for (int s = 0; s < a.Targets.Length; s++)
                comparison.AddRow(a.Arm, result.Settings.FirstSeed + s, a.Targets[s], a.BaselineTimes[s], a.TeleportTimes[s], a.TeleportTimes[s] - a.BaselineTimes[s],
                    a.TeleportTimes[s] / a.BaselineTimes[s], a.TeleportSeconds[s]);
        comparison.Save(Path.Combine(outDir, "comparison.csv"));

        var teleports = new CsvTable("optimizer", "seed", "teleport", "epoch", "step", "loss_before", "loss_after", "grad_norm_sq_before", "grad_norm_sq_after",
            "ascent_steps", "hvps", "capped", "seconds");
        foreach (var r in result.Runs)
            foreach (var t in r.Teleports)
                teleports.AddRow(r.Arm, r.Seed, t.Index, t.Epoch, t.Step, t.Result.LossBefore, t.Result.LossAfter, t.Result.SquaredNormBefore, t.Result.SquaredNormAfter,
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
            }),
            failures = result.Runs.Where(r => r.Failure is not null).Select(r => new { optimizer = r.Arm, r.Seed, r.Teleport, r.Failure }),
            testAccuracy = result.Runs.Select(r => new { optimizer = r.Arm, r.Seed, r.Teleport, accuracy = r.TestAccuracy }),
            claims = new[] { claim },
            figures = new[] { new FigureRef("teleport-protocol.png", "ICLR 2024 Fig. 5", "Training loss against wall-clock (teleports included), baseline and with teleports, every seed thin and the mean over seeds thick, one panel per optimiser.") },
            wallSeconds = elapsed.TotalSeconds,
        });

        var table = new Table().Border(TableBorder.Rounded).Title("time to reach the baseline's final training loss (s)")
            .AddColumn("optimizer").AddColumn(new TableColumn("baseline").RightAligned()).AddColumn(new TableColumn("teleport").RightAligned())
            .AddColumn(new TableColumn(Markup.Escape("T_tele − T_base [95%]")).RightAligned()).AddColumn(new TableColumn(Markup.Escape("ratio [95%]")).RightAligned())
            .AddColumn(new TableColumn("reached").RightAligned()).AddColumn(new TableColumn("‖∇L‖² gain").RightAligned()).AddColumn("verdict");
        foreach (var a in result.Arms)
            table.AddRow(a.Arm, Format.G(a.BaselineTimes.Average()), Format.G(a.TeleportTimes.Average()),
                Markup.Escape(Format.Inv($"{Format.G(a.Difference.Mean)} [{Format.G(a.Difference.Lower)}, {Format.G(a.Difference.Upper)}]")),
                Markup.Escape(Format.Inv($"{Format.G(a.Ratio.Mean)} [{Format.G(a.Ratio.Lower)}, {Format.G(a.Ratio.Upper)}]")),
                Format.Inv($"{a.Reached}/{a.Targets.Length}"), Format.G(a.Gain), a.Faster ? "[green]faster[/]" : "[yellow]not faster[/]");
        ExperimentConsole.Write(table);
        foreach (var r in result.Runs.Where(r => r.Failure is not null))
            ExperimentConsole.Line(Format.Inv($"{r.Arm} seed {r.Seed} {(r.Teleport ? "with teleports" : "baseline")} stopped: {r.Failure}"));
        ExperimentConsole.Line(Format.Inv($"{claim.Id}: {claim.Verdict} ({claim.Measured}). wall {elapsed.TotalSeconds:F1} s; wrote curves.csv, comparison.csv, teleports.csv, teleport-protocol.png, summary.json to {outDir}"));
    }
}
