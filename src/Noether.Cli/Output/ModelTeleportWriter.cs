using Noether.Interop;

namespace Noether.Cli.Output;

/// <summary>The files of <c>teleport --model</c>: the moved model (model.onnx, model.safetensors), site-teleport.csv, summary.json.</summary>
internal static class ModelTeleportWriter
{
    public static void Write(string outDir, ModelTeleportResult result, TimeSpan elapsed)
    {
        var r = result.Teleport;
        var s = r.Site;
        result.Model.Save(Path.Combine(outDir, "model.onnx"), result.Graph.Parameters);
        OnnxModel.SaveSafeTensors(Path.Combine(outDir, "model.safetensors"), result.Graph.Parameters);
        var csv = new CsvTable("generator", "q_before", "target", "q_after", "t");
        for (int i = 0; i < s.Generators.Count; i++) csv.AddRow(s.Generators[i].Name, r.Before[i], r.Target[i], r.After[i], r.Coordinates[i]);
        csv.Save(Path.Combine(outDir, "site-teleport.csv"));
        var claims = new[]
        {
            ModelTeleportClaims.SiteTargetReached.Make([r.MaxRelativeError], Format.Inv($"max relative error {r.MaxRelativeError:0.00e+00} over {s.Dimension} generators")),
            ModelTeleportClaims.SiteFunctionUnchanged.Make([result.ProbabilityChange], Format.Inv($"max |Δp| = {result.ProbabilityChange:0.00e+00} on a {result.CheckBatch}-sample batch")),
        };
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "teleport",
            model = Path.GetFullPath(result.Model.Source),
            settings = new { site = result.Census.Sites.ToList().IndexOf(s), location = s.Location, group = s.Group, conserved = s.Conserved, generators = s.Dimension },
            censusDimension = result.Census.Dimension,
            maxRelativeError = r.MaxRelativeError,
            probabilityChange = result.ProbabilityChange,
            claims,
            wallSeconds = elapsed.TotalSeconds,
        });
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"{s.Location}: {s.Group}, {s.Dimension} generators"))
            .AddColumn("check").AddColumn(new TableColumn("measured").RightAligned()).AddColumn("verdict");
        foreach (var c in claims) table.AddRow(Markup.Escape(c.Statement), Markup.Escape(c.Measured), ExperimentConsole.Verdict(c.Verdict == Verdict.Passed));
        ExperimentConsole.Write(table);
        ExperimentConsole.Line(Format.Inv($"wall {elapsed.TotalSeconds:F1} s; wrote model.onnx, model.safetensors, site-teleport.csv, summary.json to {outDir}"));
    }
}
