using Noether.Interop;

namespace Noether.Cli.Output;

/// <summary>
/// The files of <c>teleport --model</c>: the moved model (model.onnx, model.safetensors), summary.json, and site-teleport.csv
/// (a Q target: every generator's Q) or sharpness-path.csv (a sharpness target: every λ_max evaluated along the path); with
/// --random-members, member-K.onnx/.safetensors and members.csv.
/// </summary>
internal static class ModelTeleportWriter
{
    public static void Write(string outDir, ModelTeleportResult result, TimeSpan elapsed)
    {
        var r = result.Teleport;
        var s = r.Site;
        SaveModel(outDir, result.Model, result.Graph);
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
        PrintClaims(Format.Inv($"{s.Location}: {s.Group}, {s.Dimension} generators"), claims);
        ExperimentConsole.Line(Format.Inv($"wall {elapsed.TotalSeconds:F1} s; wrote model.onnx, model.safetensors, site-teleport.csv, summary.json to {outDir}"));
    }

    /// <summary>A sharpness teleport: the moved model, sharpness-path.csv (t, λ_max, products of every evaluation), summary.json.</summary>
    public static void Write(string outDir, ModelSharpnessTeleportResult result, bool syntheticBatch, TimeSpan elapsed)
    {
        var r = result.Teleport;
        var s = r.Site;
        SaveModel(outDir, result.Model, result.Graph);
        var csv = new CsvTable("t", "lambda_max", "hessian_vector_products");
        foreach (var sample in r.Samples) csv.AddRow(sample.T, sample.Sharpness, sample.Products);
        csv.Save(Path.Combine(outDir, "sharpness-path.csv"));
        string batch = Format.Inv($"{result.Batch}-sample {(syntheticBatch ? "N(0, 1) batch with random labels" : "batch")}");
        var claims = new[]
        {
            ModelTeleportClaims.SiteSharpnessReached.Make([r.RelativeError], Format.Inv($"λ_max {r.SharpnessBefore:G6} → {r.SharpnessAfter:G10} (target {r.Target:G6}), relative error {r.RelativeError:0.00e+00}")),
            ModelTeleportClaims.SiteFunctionUnchanged.Make([result.ProbabilityChange], Format.Inv($"max |Δp| = {result.ProbabilityChange:0.00e+00} on the {batch}")),
        };
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "teleport",
            model = Path.GetFullPath(result.Model.Source),
            settings = new { site = result.Census.Sites.ToList().IndexOf(s), location = s.Location, group = s.Group, path = r.Path, batch = result.Batch, syntheticBatch },
            target = r.Target,
            t = r.T,
            sharpnessBefore = r.SharpnessBefore,
            sharpnessAfter = r.SharpnessAfter,
            relativeError = r.RelativeError,
            lossBefore = r.LossBefore,
            lossAfter = r.LossAfter,
            relativeLossChange = result.RelativeLossChange,
            probabilityChange = result.ProbabilityChange,
            lanczosRuns = r.Samples.Count,
            hessianVectorProducts = r.Products,
            claims,
            wallSeconds = elapsed.TotalSeconds,
        });
        PrintClaims(Format.Inv($"{s.Location}: {s.Group}, t = {r.T:G6} along {r.Path}"), claims);
        ExperimentConsole.Line(Format.Inv($"loss on the batch {r.LossBefore:R} → {r.LossAfter:R} (relative change {result.RelativeLossChange:0.0e+00}); {r.Samples.Count} Lanczos runs, {r.Products} Hessian-vector products"));
        ExperimentConsole.Line(Format.Inv($"wall {elapsed.TotalSeconds:F1} s; wrote model.onnx, model.safetensors, sharpness-path.csv, summary.json to {outDir}"));
    }

    /// <summary>
    /// Random group elements: member-K.onnx and member-K.safetensors for each member, members.csv (distance from the model,
    /// max |Δp|), summary.json with the function check of every member.
    /// </summary>
    public static void WriteMembers(string outDir, ModelOrbitSampleResult result, ModelOrbitSampleSettings settings, TimeSpan elapsed)
    {
        var csv = new CsvTable("member", "file", "distance", "probability_change", "sites_moved");
        for (int k = 0; k < result.Members.Count; k++)
        {
            var m = result.Members[k];
            string name = Format.Inv($"member-{k + 1}");
            result.Model.Save(Path.Combine(outDir, name + ".onnx"), m.Parameters);
            OnnxModel.SaveSafeTensors(Path.Combine(outDir, name + ".safetensors"), m.Parameters);
            csv.AddRow(k + 1, name + ".onnx", m.Distance, m.ProbabilityChange, m.SitesMoved);
        }
        csv.Save(Path.Combine(outDir, "members.csv"));
        double worst = result.Members.Max(m => m.ProbabilityChange);
        var claims = new[]
        {
            ModelTeleportClaims.SiteFunctionUnchanged.Make([worst], Format.Inv($"max |Δp| = {worst:0.00e+00} over {result.Members.Count} members on a {result.CheckBatch}-sample batch")),
        };
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "teleport",
            mode = "random-members",
            model = Path.GetFullPath(result.Model.Source),
            settings = new { members = settings.Members, scale = settings.Scale, seed = settings.Seed },
            censusDimension = result.Census.Dimension,
            sitesMoved = result.Members[0].SitesMoved,
            members = result.Members.Select((m, k) => new { member = k + 1, distance = m.Distance, probabilityChange = m.ProbabilityChange }),
            claims,
            wallSeconds = elapsed.TotalSeconds,
        });
        PrintClaims(Format.Inv($"{result.Members.Count} random elements of the census group ({result.Members[0].SitesMoved} sites, dimension {result.Census.Dimension})"), claims);
        ExperimentConsole.Line(Format.Inv($"distance ‖θ' − θ‖/‖θ‖ from {result.Members.Min(m => m.Distance):G3} to {result.Members.Max(m => m.Distance):G3}; wall {elapsed.TotalSeconds:F1} s; wrote {result.Members.Count} × member-K.onnx/.safetensors, members.csv, summary.json to {outDir}"));
    }

    private static void SaveModel(string outDir, OnnxModel model, Noether.Graphs.Graph<double> graph)
    {
        model.Save(Path.Combine(outDir, "model.onnx"), graph.Parameters);
        OnnxModel.SaveSafeTensors(Path.Combine(outDir, "model.safetensors"), graph.Parameters);
    }

    private static void PrintClaims(string title, IEnumerable<Claim> claims)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title))
            .AddColumn("check").AddColumn(new TableColumn("measured").RightAligned()).AddColumn("verdict");
        foreach (var c in claims) table.AddRow(Markup.Escape(c.Statement), Markup.Escape(c.Measured), ExperimentConsole.Verdict(c.Verdict == Verdict.Passed));
        ExperimentConsole.Write(table);
    }
}
