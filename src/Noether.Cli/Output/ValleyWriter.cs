using System.Globalization;
using Noether.Cli.Commands;
using Noether.Cli.Figures;
using Noether.Cli.Report;
using Noether.Experiments;
using Noether.Serialization;
using Spectre.Console;

namespace Noether.Cli.Output;

/// <summary>The files, claims and table of <c>noether valley</c> from a <see cref="ValleyResult"/>.</summary>
internal static class ValleyWriter
{
    /// <summary>Writes valley-1d.csv, valley-2d.csv, summary.json and the two figures, then prints the table.</summary>
    public static void Write(string outDir, string profile, NetworkSettings net, string? cnnPath, string? modelPath, ValleyResult c, double extent, TimeSpan elapsed)
    {
        double lStar = c.LStar;
        var lines = new CsvTable("curve", "kind", "coordinate", "distance", "loss");
        foreach (var (l, kind) in c.GroupLines.Select(l => (l, "group")).Concat(c.RandomLines.Select(l => (l, "random"))))
            for (int i = 0; i < l.Loss.Length; i++) lines.AddRow(l.Label, kind, l.Coordinate[i], l.Distance[i], l.Loss[i]);
        lines.Save(Path.Combine(outDir, "valley-1d.csv"));
        var planes = new CsvTable("plane", "a", "b", "loss");
        foreach (var p in new[] { c.Random2D, c.Mixed2D, c.Group2D })
            for (int i = 0; i < p.A.Length; i++)
                for (int j = 0; j < p.B.Length; j++) planes.AddRow(p.Label, p.A[i], p.B[j], p.Loss[i, j]);
        planes.Save(Path.Combine(outDir, "valley-2d.csv"));

        double groupLineDeviation = c.GroupLineDeviation, groupPlaneDeviation = c.GroupPlaneDeviation, mixedRowSpread = c.MixedRowSpread;
        double flatWorst = c.FlatWorst, minRise = c.MinRise, maxRise = c.MaxRise, groupReach = c.GroupReach;
        var claims = new[]
        {
            LandscapeClaims.ValleyOrbitFlat.Make([flatWorst],
                Inv($"{flatWorst:0.00e+00} (1-D group paths {groupLineDeviation:0.00e+00}, group plane {groupPlaneDeviation:0.00e+00}, rows of the mixed plane {mixedRowSpread:0.00e+00}); the group paths travel ≥ {groupReach:G3} = {groupReach / c.ThetaNorm:G3}·‖θ*‖")),
            LandscapeClaims.ValleyRandomRises.Make([minRise, flatWorst],
                Inv($"max rise over α ∈ [−{extent:G3}, {extent:G3}] is {minRise:G4}·L* to {maxRise:G4}·L* over {c.RandomLines.Length} directions (‖d‖ = ‖θ*‖ = {c.ThetaNorm:G4})"),
                "at the same parameter distance the group paths stay at L* to rounding"),
        };
        var figures = new[]
        {
            new FigureRef("valley-1d.png", null, Inv($"Loss against signed parameter-space distance from θ*: group paths exp(tM)·θ* and random filter-normalised directions; right: log10 |L − L*|/L*. Measured: the group paths deviate by at most {groupLineDeviation:0.00e+00}·L* over ≥ {groupReach:G3}; the random directions rise by {minRise:G3}–{maxRise:G3}·L*.")),
            new FigureRef("valley-2d.png", null, Inv($"log10 L on 2-D slices: two random directions, a group path × a random direction, two group paths. Measured: the group plane varies by {groupPlaneDeviation:0.00e+00}·L*, each row of the mixed plane by at most {mixedRowSpread:0.00e+00}.")),
        };
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "valley",
            profile,
            settings = modelPath is null ? (object)new
            {
                cnn = cnnPath,
                activation = cnnPath is null ? net.Activation.ToString() : "LeakyRelu (SPEC CNN)",
                m = net.Shape.M, h = net.Shape.H, n = net.Shape.N, samples = net.Samples, steps = net.Steps, learningRate = net.LearningRate, seed = net.Seed, weights = net.Weights,
                extent, points = c.GroupLines[0].Loss.Length, grid = c.Random2D.A.Length, directions = c.RandomLines.Length, group = c.Subject.GroupName,
                filterNormalisation = "a filter of a linear layer W (out×in) is one row W_i,: (the incoming weights of output unit i); each row of a Gaussian d is rescaled to ‖W_i,:‖ (Li et al. 2018), so ‖d‖ = ‖θ*‖",
                distance = Distance,
            } : new
            {
                model = modelPath,
                seed = net.Seed,
                extent, points = c.GroupLines[0].Loss.Length, grid = c.Random2D.A.Length, directions = c.RandomLines.Length, group = c.Subject.GroupName,
                filterNormalisation = "a filter of a weight (rank ≥ 2) is its slice along the first axis; each filter of a Gaussian d is rescaled to θ*'s (Li et al. 2018); biases and other 1-D parameters get 0",
                paths = "each group path is exp(tM)·θ* for a random mix M of one census site's generators, scaled so that ‖Mθ*‖ = ‖θ*‖",
                distance = Distance,
            },
            model = c.Subject.Description,
            lossFunction = c.Subject.LossName,
            trained = c.Subject.Source,
            lStar,
            thetaNorm = c.ThetaNorm,
            curves = c.GroupLines.Select(l => (l, "group")).Concat(c.RandomLines.Select(l => (l, "random"))).Select(x => new
            {
                label = x.l.Label,
                kind = x.Item2,
                minDistance = x.l.Distance.Min(),
                maxDistance = x.l.Distance.Max(),
                maxRise = x.l.MaxRise,
                maxRelativeDeviation = x.l.MaxDeviation / lStar,
            }),
            planes = new[] { c.Random2D, c.Mixed2D, c.Group2D }.Select(p => new { label = p.Label, min = Min(p.Loss), max = Max(p.Loss), maxRelativeDeviation = ValleyExperiment.MaxRelativeSpread(p.Loss, lStar) }),
            flatness = new { groupLineDeviation, groupPlaneDeviation, mixedRowSpread },
            claims,
            figures,
            wallSeconds = elapsed.TotalSeconds,
        });
        ValleyFigures.Lines(c, lStar, Path.Combine(outDir, "valley-1d.png"));
        ValleyFigures.Planes(c, Path.Combine(outDir, "valley-2d.png"));

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(Inv($"valley through θ* (L* = {lStar:G6}, ‖θ*‖ = {c.ThetaNorm:G4}, {c.Subject.GroupName})")))
            .AddColumn("slice").AddColumn(new TableColumn("distance range").RightAligned()).AddColumn(new TableColumn("max rise / L*").RightAligned())
            .AddColumn(new TableColumn("max |L − L*| / L*").RightAligned());
        foreach (var l in c.GroupLines.Concat(c.RandomLines))
            table.AddRow(Markup.Escape(l.Label), Markup.Escape(Inv($"[{l.Distance.Min():G3}, {l.Distance.Max():G3}]")), ExperimentConsole.Sci(l.MaxRise / lStar), ExperimentConsole.Sci(l.MaxDeviation / lStar));
        foreach (var p in new[] { c.Random2D, c.Mixed2D, c.Group2D })
            table.AddRow(Markup.Escape(p.Label + " (2-D)"), "", ExperimentConsole.Sci((Max(p.Loss) - lStar) / lStar), ExperimentConsole.Sci(ValleyExperiment.MaxRelativeSpread(p.Loss, lStar)));
        table.Caption(Markup.Escape(Inv($"group slices flat to {flatWorst:0.00e+00} (verdict ≤ {LandscapeClaims.FlatTolerance:0e+00}); random filter-normalised lines rise by {minRise:G3}–{maxRise:G3}·L*")));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(Inv($"wall {elapsed.TotalSeconds:F1} s; wrote valley-1d.csv, valley-2d.csv, summary.json, valley-1d.png, valley-2d.png to {outDir}"));
    }

    private const string Distance = "group path: arc length ∫‖M̄_θ(τ)‖dτ (Simpson); random line: α‖d‖";

    internal static double Min(double[,] a) => a.Cast<double>().Min();

    internal static double Max(double[,] a) => a.Cast<double>().Max();

    internal static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
