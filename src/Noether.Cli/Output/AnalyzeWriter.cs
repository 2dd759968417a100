using System.Globalization;
using Noether.Cli.Commands;
using Noether.Cli.Report;
using Noether.Experiments;
using Noether.Serialization;
using Spectre.Console;

namespace Noether.Cli.Output;

/// <summary>The files, claims and tables of <c>noether analyze</c> from an <see cref="AnalyzeResult"/>.</summary>
internal static class AnalyzeWriter
{
    /// <summary>
    /// Writes rescaled.safetensors, the ensemble's members (into <paramref name="ensembleDir"/>), layers.csv, conserved.csv
    /// and summary.json (each file atomically), then prints the table.
    /// </summary>
    public static void Write(string outDir, string? ensembleDir, ModelFile weights, AnalyzeResult r, TimeSpan elapsed)
    {
        var s = r.Settings;
        var spec = s.Spec;
        var written = new List<string>();
        if (r.RescaledModel is not null)
        {
            ModelFile.Write(Path.Combine(outDir, "rescaled.safetensors"), r.RescaledModel.Parameters, weights.DType,
                Metadata(weights, s, "rescaled", $"positive scaling g = diag(exp({s.RescaleStd.ToString(CultureInfo.InvariantCulture)}·z)), seed {s.Seed}"));
            written.Add("rescaled.safetensors");
        }
        if (r.Members is not null)
            for (int m = 0; m < r.Members.Count; m++)
                ModelFile.Write(Path.Combine(ensembleDir!, $"member-{m:D3}.safetensors"), r.Members[m].Parameters, weights.DType,
                    Metadata(weights, s, $"ensemble member {m}", string.Create(CultureInfo.InvariantCulture, $"ε = {s.Epsilon}, seed {s.Seed}")));
        var layersCsv = new CsvTable("pair", "layers", "between", "hidden", "m", "n", "bias", "group", "algebra_dim", "orbit_measured", "orbit_closed_form",
            "orbit_paper", "quantity", "q_min", "q_max", "q_frobenius");
        foreach (var p in r.Pairs)
            layersCsv.AddRow(p.Pair, p.Layers, p.Between, p.Hidden, p.M, p.N, p.Bias ? 1 : 0, p.Group, p.AlgebraDimension, p.OrbitMeasured, p.OrbitClosedForm,
                p.OrbitPaper, p.Quantity, p.QSummary?.Min, p.QSummary?.Max, p.QSummary?.Frobenius);
        layersCsv.Save(Path.Combine(outDir, "layers.csv"));
        written.Add("layers.csv");
        if (r.Conserved.Count > 0)
        {
            var conserved = new CsvTable("pair", "row", "col", "u_term", "v_term", "q");
            foreach (var c in r.Conserved) conserved.AddRow(c.Pair, c.Row, c.Col, c.UTerm, c.VTerm, c.Q);
            conserved.Save(Path.Combine(outDir, "conserved.csv"));
            written.Add("conserved.csv");
        }
        var sharpness = r.Sharpness;
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "analyze",
            profile = (string?)null,
            weights = weights.Path,
            arch = spec.Text,
            dtype = SafeTensors.DTypeName(weights.DType),
            parameters = r.Model.ParameterCount,
            conventions = "pair i: V̂ = [V | b] (h × (n+1); the bias is a weight on a constant input and the group acts on it as on V) feeds the hidden layer, U (m × h) reads it; Q = UᵀU − V̂V̂ᵀ (identity σ, Ex. 7) or diag(α UᵀU − V̂V̂ᵀ) (homogeneous σ, Ex. 9); loss = mean cross-entropy of the logits",
            data = new { dataset = r.DataSource, samples = r.Samples, seed = s.Seed },
            orbitRankTolerance = r.OrbitRankTolerance,
            loss = r.Loss,
            accuracy = r.Accuracy,
            pairs = r.Pairs.Select(p => new
            {
                pair = p.Pair, layers = p.Layers, between = p.Between, hidden = p.Hidden, m = p.M, n = p.N, bias = p.Bias, group = p.Group, groupNote = p.GroupNote,
                algebraDimension = p.AlgebraDimension, alpha = p.Alpha, orbitMeasured = p.OrbitMeasured, orbitGap = p.OrbitGap, orbitClosedForm = p.OrbitClosedForm,
                orbitPaper = p.OrbitPaper, quantity = p.Quantity, qSummary = p.QSummary, q = p.Q,
            }),
            sharpness = sharpness is null ? null : new
            {
                topEigenvalue = sharpness.TopEigenvalues[0],
                residual = sharpness.Residuals[0],
                lanczosIterations = sharpness.LanczosIterations,
                lanczosConverged = sharpness.LanczosConverged,
                trace = sharpness.Trace!.Trace,
                traceStandardError = sharpness.Trace.StandardError,
                traceProbes = sharpness.Trace.Probes,
                hessianVectorProducts = sharpness.HessianVectorProducts,
                seconds = sharpness.Seconds,
            },
            rescale = r.Rescale,
            ensemble = r.Ensemble,
            claims = AnalyzeExperiment.Claims(r),
            figures = Array.Empty<FigureRef>(),
            wallSeconds = elapsed.TotalSeconds,
        });
        written.Add("summary.json");

        PrintTable(r);
        if (sharpness is not null)
            ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                $"sharpness: top Hessian eigenvalue {sharpness.TopEigenvalues[0]:G6} (Lanczos, {sharpness.LanczosIterations} steps, residual {sharpness.Residuals[0]:G2}{(sharpness.LanczosConverged ? "" : ", NOT converged")}), trace {sharpness.Trace!.Trace:G6} ± {sharpness.Trace.StandardError:G2} (Hutchinson, {sharpness.Trace.Probes} probes); {sharpness.Seconds:F1} s"));
        if (r.Rescale is { } rescale)
            ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                $"rescale: loss before {rescale.LossBefore:R}, after {rescale.LossAfter:R} (|Δ| = {Math.Abs(rescale.LossAfter - rescale.LossBefore):G3}, float64); as written ({SafeTensors.DTypeName(weights.DType)}) {rescale.WrittenLoss:R}; Q moved by up to {rescale.MaxQChange:G3} → rescaled.safetensors"));
        if (r.Ensemble is { } ensemble)
            ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                $"ensemble: {ensemble.Members} member(s) ({ensemble.Rejected} rejected as ill-conditioned), ε = {ensemble.Epsilon}; member loss {ensemble.MinLoss:G6} … {ensemble.MaxLoss:G6}, max |ΔL| = {ensemble.MaxAbsLossChange:G3} from the model's {r.Loss:G6} → {ensembleDir}"));
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture, $"wall {elapsed.TotalSeconds:F1} s; wrote {string.Join(", ", written)} to {outDir}"));
    }

    /// <summary>The batch line printed once the loss is known.</summary>
    public static string BatchLine(AnalyzeResult r) => string.Create(CultureInfo.InvariantCulture,
        $"batch: {r.Samples} images of {(r.Settings.Dataset == "cifar10" ? "CIFAR-10" : "Fashion-MNIST")} (training split, seed {r.Settings.Seed}); mean cross-entropy {r.Loss:G6}, accuracy {r.Accuracy * 100:F1}%");

    private static Dictionary<string, string> Metadata(ModelFile weights, AnalyzeSettings s, string what, string how) => new(weights.Metadata)
    {
        ["format"] = "pt",
        [ModelFile.ArchitectureKey] = s.Spec.Text,
        ["noether.source"] = Path.GetFileName(weights.Path),
        ["noether.transform"] = $"{what}: {how}",
    };

    private static void PrintTable(AnalyzeResult r)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"Symmetries and conserved quantities of {r.Settings.Spec.Text}"))
            .AddColumn("pair").AddColumn("σ between").AddColumn(new TableColumn("h").RightAligned()).AddColumn("group")
            .AddColumn(new TableColumn("orbit dim: measured / closed form / paper").RightAligned()).AddColumn("conserved Q")
            .AddColumn(new TableColumn("Q: min … max, Tr").RightAligned());
        foreach (var p in r.Pairs)
        {
            string orbit = p.OrbitClosedForm is null ? "–"
                : $"{(p.OrbitMeasured?.ToString(CultureInfo.InvariantCulture) ?? "n/m")}{(p.OrbitGap is double g && double.IsNaN(g) ? "*" : "")}{(p.OrbitMeasured < p.OrbitClosedForm ? " (θ not generic)" : "")} / {p.OrbitClosedForm} / {p.OrbitPaper}{(p.OrbitPaper != p.OrbitClosedForm ? " (paper off)" : "")}";
            string q = p.QSummary is { } qs ? $"{ExperimentConsole.Sci(qs.Min)} … {ExperimentConsole.Sci(qs.Max)}, {ExperimentConsole.Sci(qs.Trace)}" : "–";
            table.AddRow(Markup.Escape($"{p.Pair}: {p.Layers}"), Markup.Escape(p.Between), p.Hidden.ToString(CultureInfo.InvariantCulture), Markup.Escape(p.Group),
                Markup.Escape(orbit), Markup.Escape(p.Quantity), Markup.Escape(q));
        }
        var notes = new List<string> { "V̂ = [V | b]: a bias is a weight on a constant input" };
        if (r.Pairs.Any(p => p.Q is not null)) notes.Add("full Q in conserved.csv");
        if (r.Pairs.Any(p => p.OrbitGap is double g && double.IsNaN(g)))
            notes.Add("*: GL_h rank from h² − (h − rank U)(h − rank V̂) (dim 𝔤 too large for an SVD of the map)");
        if (r.Pairs.Any(p => p.OrbitClosedForm is not null && p.OrbitMeasured is null)) notes.Add("n/m: not measured (dim 𝔤 too large for a dense SVD)");
        table.Caption(Markup.Escape(string.Join("; ", notes)));
        ExperimentConsole.Write(table);
    }

}
