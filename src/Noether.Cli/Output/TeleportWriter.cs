using System.Globalization;
using Noether.Cli.Commands;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Experiments;
using Noether.Nn;
using Noether.Serialization;
using Spectre.Console;

namespace Noether.Cli.Output;

/// <summary>
/// Writes a <see cref="TeleportExperimentResult"/> into the <c>teleport</c> output folder: the weights before and after
/// (safetensors U, V), the Q matrices, the path and the spectra (CSV), summary.json with the claims, the two figures, and the
/// console table.
/// </summary>
internal static class TeleportWriter
{
    public static void Write(string outDir, string profile, TeleportExperimentResult result, TimeSpan elapsed)
    {
        var net = result.Settings.Network;
        var trained = result.Trained;
        var r = result.Teleport;
        ExperimentConsole.Line($"teleport, profile {profile}: {TwoLayerRegression.Describe(net, trained)}");
        var meta = new Dictionary<string, string> { ["activation"] = net.Activation.ToString(), ["shape"] = $"{net.Shape.M}x{net.Shape.H}x{net.Shape.N}", ["seed"] = net.Seed.ToString(CultureInfo.InvariantCulture) };
        TwoLayerRegression.Save(Path.Combine(outDir, "trained.safetensors"), r.Before, meta);
        TwoLayerRegression.Save(Path.Combine(outDir, "teleported.safetensors"), r.After, new Dictionary<string, string>(meta) { ["target"] = r.TargetDescription });

        int h = r.Before.H;
        var qBefore = result.ImbalanceBefore;
        var qAfter = result.ImbalanceAfter;
        var q = new CsvTable("i", "j", "q_before", "q_after");
        for (int i = 0; i < h; i++)
            for (int j = 0; j < h; j++) q.AddRow(i, j, qBefore[i * h + j], qAfter[i * h + j]);
        q.Save(Path.Combine(outDir, "teleport-q.csv"));
        var pathCsv = new CsvTable("t", "distance", "trace_q", "sharpness", "loss");
        foreach (var row in result.Path) pathCsv.AddRow(row.T, row.Distance, row.TraceQ, row.Sharpness, row.Loss);
        pathCsv.Save(Path.Combine(outDir, "teleport-path.csv"));
        var spectrum = new CsvTable("index", "eigenvalue_before", "eigenvalue_after");
        for (int i = 0; i < result.SpectrumBefore.Length; i++) spectrum.AddRow(i, result.SpectrumBefore[i], result.SpectrumAfter[i]);
        spectrum.Save(Path.Combine(outDir, "teleport-spectrum.csv"));

        double traceBefore = result.TraceQBefore, traceAfter = result.TraceQAfter;
        bool sharpnessTarget = result.Settings.Target is TeleportTarget.Sharpness;
        var flatBefore = result.SummaryBefore;
        var flatAfter = result.SummaryAfter;
        var claims = new[]
        {
            LandscapeClaims.TeleportLossUnchanged.Make([r.RelativeLossChange], Inv($"|ΔL|/L = {r.RelativeLossChange:0.00e+00} (L = {r.LossBefore:G6} → {r.LossAfter:G6})")),
            LandscapeClaims.TeleportTargetReached.Make([r.TargetError, sharpnessTarget ? Math.Max(1, r.SharpnessAfter) : 1], Inv($"{r.TargetDescription}: error {r.TargetError:0.00e+00} ({r.Method})"),
                $"targets of {(net.Activation == ActivationKind.Identity ? "Ex. 7" : "Ex. 9")}"),
            LandscapeClaims.TeleportSharpnessMoves.Measure(Inv($"λ_max {r.SharpnessBefore:G6} → {r.SharpnessAfter:G6} with Tr Q {traceBefore:G6} → {traceAfter:G6}; flat eigenvalues (|λ| ≤ 1e-3) {flatBefore.Flat} → {flatAfter.Flat}"),
                flatBefore.Flat == flatAfter.Flat
                    ? "same loss and same number of flat eigenvalues at both points; only the curved part of the spectrum moved"
                    : "the number of flat eigenvalues differs: the point is not a critical point, where the orbit's tangent need not lie in the Hessian's kernel"),
        };
        var figures = new[]
        {
            new FigureRef("teleport-spectrum.png", "Fig. 8", Inv($"Hessian eigenvalues (descending, log10|λ|) at the trained point and after teleporting. Measured: loss {r.LossBefore:G6} → {r.LossAfter:G6}, flat eigenvalues (|λ| ≤ 1e-3) {flatBefore.Flat} → {flatAfter.Flat}, λ_max {r.SharpnessBefore:G4} → {r.SharpnessAfter:G4}.")),
            new FigureRef("teleport-path.png", null, Inv($"λ_max and Tr Q along the scalar path e^t·I through the trained point, with markers at the trained and teleported points; the loss along the path ranges over {result.PathLossSpread:0.00e+00} relative to its start.")),
        };
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "teleport",
            profile,
            settings = new
            {
                activation = net.Activation.ToString(),
                m = net.Shape.M, h = net.Shape.H, n = net.Shape.N,
                samples = net.Samples, steps = net.Steps, learningRate = net.LearningRate, initStdU = net.InitStdU, initStdV = net.InitStdV, seed = net.Seed, weights = net.Weights,
                loss = "½‖Y − Uσ(VX)‖²_F; Tr Q = Tr[UᵀU − VVᵀ] (twice eq. 48's scalar Q)",
            },
            trained = new { source = trained.Source, steps = trained.Steps, gradientNorm = trained.GradientNorm },
            result = new
            {
                group = r.Group.Name,
                method = r.Method.ToString(),
                target = r.TargetDescription,
                targetError = r.TargetError,
                lossBefore = r.LossBefore,
                lossAfter = r.LossAfter,
                relativeLossChange = r.RelativeLossChange,
                traceQBefore = traceBefore,
                traceQAfter = traceAfter,
                sharpnessBefore = r.SharpnessBefore,
                sharpnessAfter = r.SharpnessAfter,
                flatEigenvaluesBefore = flatBefore.Flat,
                flatEigenvaluesAfter = flatAfter.Flat,
                distance = r.Distance,
                pathParameter = r.PathParameter,
                iterations = r.Iterations,
                qBefore = r.QBefore,
                qAfter = r.QAfter,
            },
            claims,
            figures,
            wallSeconds = elapsed.TotalSeconds,
        });
        TeleportFigures.DrawSpectrum(result, Path.Combine(outDir, "teleport-spectrum.png"));
        TeleportFigures.DrawPath(result, Path.Combine(outDir, "teleport-path.png"));

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"teleport to {r.TargetDescription} ({r.Group.Name}, {r.Method})"))
            .AddColumn("quantity").AddColumn(new TableColumn("before").RightAligned()).AddColumn(new TableColumn("after").RightAligned()).AddColumn("check");
        table.AddRow("loss L", Sci(r.LossBefore), Sci(r.LossAfter), Markup.Escape(Inv($"|ΔL|/L = {r.RelativeLossChange:0.00e+00} ")) + ExperimentConsole.Verdict(claims[0].Verdict == Verdict.Reproduced));
        table.AddRow("Tr Q", Sci(traceBefore), Sci(traceAfter), "");
        table.AddRow("λ_max (sharpness)", Sci(r.SharpnessBefore), Sci(r.SharpnessAfter), "");
        table.AddRow("flat eigenvalues (|λ| ≤ 1e-3)", flatBefore.Flat.ToString(CultureInfo.InvariantCulture), flatAfter.Flat.ToString(CultureInfo.InvariantCulture), "");
        table.AddRow("target", "", Markup.Escape(r.TargetDescription), Markup.Escape(Inv($"error {r.TargetError:0.00e+00} ")) + ExperimentConsole.Verdict(claims[1].Verdict == Verdict.Passed));
        table.AddRow("‖g·θ − θ‖", "", Sci(r.Distance), "");
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(Inv($"wall {elapsed.TotalSeconds:F1} s; wrote trained.safetensors, teleported.safetensors, teleport-q.csv, teleport-path.csv, teleport-spectrum.csv, summary.json, teleport-spectrum.png, teleport-path.png to {outDir}"));
    }

    private static string Sci(double v) => ExperimentConsole.Sci(v);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
