using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Experiments;
using Noether.Landscape;
using Noether.Nn;
using Noether.Serialization;
using Noether.Symmetry;
using Noether.Tensors;
using ScottPlot;
using Spectre.Console;

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
        var targetSharpness = ListOptions.OptionalPositiveDouble("--target-sharpness", "Target top Hessian eigenvalue λ_max (> 0), found along the scalar path e^t·I.");
        var targetQ = new Option<string?>("--target-q") { Description = "CSV file (no header) with the target Q: h rows of h numbers for identity σ; h numbers (diag Q) for relu/leaky-relu." };
        var seed = CommonOptions.Seed();
        var output = CommonOptions.Out("results/teleport");
        var force = CommonOptions.Force();

        var command = new Command("teleport", "Move a trained network along its minimum with a group element to a chosen Tr Q, λ_max or Q matrix (Appendix G); verify the loss is unchanged; report the sharpness before and after.")
        {
            profile, activation, shape, samples, steps, lr, weights, targetTrace, targetSharpness, targetQ, seed, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            string profileName = parse.GetValue(profile)!;
            var p = ForProfile(profileName);
            var net = new NetworkSettings(TeleportSetup.ParseActivation(parse.GetValue(activation)!),
                parse.GetValue(shape) is { } text ? ListOptions.ParseShape(text) : p.Shape, parse.GetValue(samples) ?? p.Samples, parse.GetValue(steps) ?? p.Steps,
                parse.GetValue(lr) ?? p.LearningRate, 1.0, 0.1, parse.GetValue(seed), parse.GetValue(weights));
            var targets = new[] { parse.GetValue(targetTrace) is null ? null : "--target-trace", parse.GetValue(targetSharpness) is null ? null : "--target-sharpness", parse.GetValue(targetQ) is null ? null : "--target-q" }
                .OfType<string>().ToArray();
            if (targets.Length > 1) throw new ArgumentException($"give at most one target: got {string.Join(" and ", targets)}");
            if (net.Weights is { } w && !File.Exists(w)) throw new FileNotFoundException($"--weights: {w} not found", w);
            Tensor<double>? qMatrix = null;
            double[]? qDiagonal = null;
            if (parse.GetValue(targetQ) is { } qPath) (qMatrix, qDiagonal) = ReadTarget(qPath, net.Activation, net.Shape.H);
            return Task.FromResult(OutputFolder.Run(parse.GetValue(output), parse.GetValue(force), token, outDir =>
            {
                var clock = Stopwatch.StartNew();
                var (trained, result, path, before, after) = ExperimentConsole.Run("teleport", (progress, t) =>
                {
                    var trainedNet = TeleportSetup.Build(net, progress, t);
                    progress.Report(new ExperimentProgress("teleporting", 1, 2));
                    var problem = trainedNet.Problem;
                    var theta = trainedNet.Theta;
                    var r = qMatrix is not null ? Landscape.Teleport.ToImbalance(problem, theta, qMatrix)
                        : qDiagonal is not null ? Landscape.Teleport.ToImbalanceDiagonal(problem, theta, qDiagonal)
                        : parse.GetValue(targetSharpness) is { } s ? Landscape.Teleport.ToSharpness(problem, theta, s)
                        : Landscape.Teleport.ToTrace(problem, theta, parse.GetValue(targetTrace) ?? 0);
                    progress.Report(new ExperimentProgress("Hessian spectra and the path", 3, 4));
                    var pathRows = ScalarPath(problem, theta, r.PathParameter, p.PathPoints);
                    return (trainedNet, r, pathRows, TwoLayerHessian.Spectrum(problem, theta), TwoLayerHessian.Spectrum(problem, r.After));
                }, token);
                ExperimentConsole.Line($"teleport, profile {profileName}: {TeleportSetup.Describe(net, trained)}");
                Write(outDir, profileName, net, trained, result, path, before, after, clock.Elapsed);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    private sealed record PathRow(double T, double Distance, double TraceQ, double Sharpness, double Loss);

    // λ_max, Tr Q and L along e^t·I·θ over a range that covers the teleport's t.
    private static PathRow[] ScalarPath(TwoLayerProblem problem, TwoLayerParameters theta, double? t, int points)
    {
        double extent = Math.Max(0.5, 1.25 * Math.Abs(t ?? 0));
        var group = Landscape.Teleport.GroupFor(problem);
        var identity = Tensor<double>.Identity(problem.Hidden);
        return Valley.Symmetric(extent, points).Select(x =>
        {
            var p = group.Apply(group.Exp(identity, x), theta);
            return new PathRow(x, Valley.ArcLength(group, theta, identity, x), TensorOps.Dot(p.U, p.U) - TensorOps.Dot(p.V, p.V),
                TwoLayerHessian.Sharpness(problem, p), problem.Loss(p.U, p.V));
        }).ToArray();
    }

    /// <summary>Reads the --target-q CSV: an h×h matrix (identity σ) or h numbers (scaling groups).</summary>
    private static (Tensor<double>? Matrix, double[]? Diagonal) ReadTarget(string path, ActivationKind activation, int h)
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
                throw new ArgumentException($"--target-q: {path} has {rows.Count} rows of {string.Join("/", rows.Select(r => r.Length).Distinct())} values; identity σ needs the whole h×h matrix Q = UᵀU − VVᵀ, h = {h}", "--target-q");
            var q = Tensor<double>.Zeros(h, h);
            for (int i = 0; i < h; i++)
                for (int j = 0; j < h; j++) q[i, j] = rows[i][j];
            return (q, null);
        }
        var values = rows.SelectMany(r => r).ToArray();
        bool shapeOk = (rows.Count == 1 && rows[0].Length == h) || (rows.Count == h && rows.All(r => r.Length == 1));
        if (!shapeOk)
            throw new ArgumentException($"--target-q: {path} has {values.Length} values in {rows.Count} rows; {activation} conserves only diag(UᵀU − VVᵀ), so give h = {h} numbers in one row or one column", "--target-q");
        return (null, values);
    }

    private static void Write(string outDir, string profile, NetworkSettings net, TrainedNetwork trained, TeleportResult r, PathRow[] path, double[] before, double[] after, TimeSpan elapsed)
    {
        var meta = new Dictionary<string, string> { ["activation"] = net.Activation.ToString(), ["shape"] = $"{net.Shape.M}x{net.Shape.H}x{net.Shape.N}", ["seed"] = net.Seed.ToString(CultureInfo.InvariantCulture) };
        TeleportSetup.Save(Path.Combine(outDir, "trained.safetensors"), r.Before, meta);
        TeleportSetup.Save(Path.Combine(outDir, "teleported.safetensors"), r.After, new Dictionary<string, string>(meta) { ["target"] = r.TargetDescription });

        int h = r.Before.H;
        var qBefore = Conservation.ConservedQuantity.ImbalanceMatrixAt(r.Before.U, r.Before.V).Data;
        var qAfter = Conservation.ConservedQuantity.ImbalanceMatrixAt(r.After.U, r.After.V).Data;
        var q = new CsvTable("i", "j", "q_before", "q_after");
        for (int i = 0; i < h; i++)
            for (int j = 0; j < h; j++) q.AddRow(i, j, qBefore[i * h + j], qAfter[i * h + j]);
        q.Save(Path.Combine(outDir, "teleport-q.csv"));
        var pathCsv = new CsvTable("t", "distance", "trace_q", "sharpness", "loss");
        foreach (var row in path) pathCsv.AddRow(row.T, row.Distance, row.TraceQ, row.Sharpness, row.Loss);
        pathCsv.Save(Path.Combine(outDir, "teleport-path.csv"));
        var spectrum = new CsvTable("index", "eigenvalue_before", "eigenvalue_after");
        for (int i = 0; i < before.Length; i++) spectrum.AddRow(i, before[i], after[i]);
        spectrum.Save(Path.Combine(outDir, "teleport-spectrum.csv"));

        double traceBefore = TensorOps.Dot(r.Before.U, r.Before.U) - TensorOps.Dot(r.Before.V, r.Before.V);
        double traceAfter = TensorOps.Dot(r.After.U, r.After.U) - TensorOps.Dot(r.After.V, r.After.V);
        bool sharpnessTarget = r.TargetDescription.StartsWith("λ_max", StringComparison.Ordinal);
        var flatBefore = SpectrumSummary.Of(before);
        var flatAfter = SpectrumSummary.Of(after);
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
            new FigureRef("teleport-path.png", null, Inv($"λ_max and Tr Q along the scalar path e^t·I through the trained point, with markers at the trained and teleported points; the loss along the path ranges over {PathSpread(path):0.00e+00} relative to its start.")),
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
        DrawSpectrum(before, after, r, Path.Combine(outDir, "teleport-spectrum.png"));
        DrawPath(path, r, traceBefore, traceAfter, Path.Combine(outDir, "teleport-path.png"));

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

    private static void DrawSpectrum(double[] before, double[] after, TeleportResult r, string path)
    {
        var plot = Figure.Create(Inv($"Hessian spectrum: trained vs teleported ({r.TargetDescription})"), "eigenvalue rank (descending)", "log10 |λ|");
        double[] Log(double[] l) => l.Reverse().Select(x => Math.Log10(Math.Max(Math.Abs(x), 1e-18))).ToArray();
        var x = Enumerable.Range(1, before.Length).Select(i => (double)i).ToArray();
        var b = plot.Add.Scatter(x, Log(before), Panels.Palette[0]);
        b.LegendText = Inv($"trained: λ_max = {r.SharpnessBefore:G4}");
        b.LineWidth = 2;
        b.MarkerSize = 4;
        var a = plot.Add.Scatter(x, Log(after), Panels.Palette[1]);
        a.LegendText = Inv($"teleported: λ_max = {r.SharpnessAfter:G4}");
        a.LineWidth = 2;
        a.MarkerSize = 4;
        a.LinePattern = LinePattern.Dashed;
        plot.Add.HorizontalLine(-3, 1, Colors.Gray, LinePattern.Dotted).LegendText = "|λ| = 1e-3 (flat below)";
        plot.ShowLegend(Alignment.UpperRight);
        Figure.Save(plot, path, 900, 520);
    }

    private static void DrawPath(PathRow[] rows, TeleportResult r, double traceBefore, double traceAfter, string path)
    {
        var t = rows.Select(x => x.T).ToArray();
        var sharp = Figure.Create("λ_max along the scalar path e^t·I·θ (loss constant)", "t  (U ↦ e^(−t)·U, V ↦ e^t·V)", "λ_max of the Hessian");
        Panels.Line(sharp, t, rows.Select(x => x.Sharpness).ToArray(), Panels.Palette[0], "λ_max(t)");
        Mark(sharp, 0, r.SharpnessBefore, Panels.Palette[3], "trained");
        if (r.PathParameter is { } tp) Mark(sharp, tp, r.SharpnessAfter, Panels.Palette[2], "teleported");
        sharp.ShowLegend(Alignment.UpperCenter);
        var trace = Figure.Create("Tr Q along the same path", "t", "Tr Q = ‖U‖² − ‖V‖²");
        Panels.Line(trace, t, rows.Select(x => x.TraceQ).ToArray(), Panels.Palette[1], "Tr Q(t)");
        Mark(trace, 0, traceBefore, Panels.Palette[3], "trained");
        if (r.PathParameter is { } tq) Mark(trace, tq, traceAfter, Panels.Palette[2], "teleported");
        trace.ShowLegend(Alignment.UpperRight);
        Panels.Save([sharp, trace], 2, path);
    }

    private static void Mark(Plot plot, double x, double y, ScottPlot.Color color, string label)
    {
        var m = plot.Add.Marker(x, y, MarkerShape.FilledCircle, 10, color);
        m.LegendText = label;
    }

    // The largest relative change of the loss along the recorded path (0 for a flat orbit).
    private static double PathSpread(IReadOnlyList<PathRow> path)
    {
        if (path.Count == 0) return double.NaN;
        double start = path[0].Loss;
        return path.Max(p => Math.Abs(p.Loss - start)) / Math.Max(Math.Abs(start), double.Epsilon);
    }
}
