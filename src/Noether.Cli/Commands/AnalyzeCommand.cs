using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Noether.Cli.Report;
using Noether.Data;
using Noether.Ensembles;
using Noether.Experiments;
using Noether.Landscape;
using Noether.Nn;
using Noether.Serialization;
using Noether.Symmetry;
using Noether.Tensors;
using Spectre.Console;

namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether analyze</c>: a user's own MLP or SPEC CNN (safetensors from PyTorch or Noether): per pair of consecutive
/// weight layers the symmetry group of the hidden layer, the conserved quantity of gradient flow (Ex. 7 / Ex. 9), the
/// orbit dimension (measured and closed forms, B.6), and the sharpness of the loss on a batch (top Hessian eigenvalue by
/// Lanczos, trace by Hutchinson); optionally a model moved along its orbit (--rescale) or an ensemble of group-transformed
/// members (--ensemble).
/// </summary>
internal static class AnalyzeCommand
{
    /// <summary>GL/O orbit dimensions are measured by SVD up to this algebra dimension (h ≤ 24 for GL_h); larger ones print the closed form only.</summary>
    private const int MaxMeasuredAlgebra = 600;

    public static Command Create()
    {
        var weights = new Option<string>("--weights") { Description = "The model's weights: a .safetensors file (F32 or F64), e.g. torch's safetensors.torch.save_file(model.state_dict(), …) or `noether train`'s model.safetensors.", Required = true }.ExistingFile();
        var arch = new Option<string>("--arch") { Description = "The architecture: mlp:N0-N1-…-NL[:relu|leaky-relu[=S]|identity|sigmoid|tanh] (nn.Sequential names 0.weight, 2.weight, …) or spec-cnn[:in=,size=,channels=,hidden=,classes=,slope=] (the CNN of `noether train`). See docs/analyze.md.", Required = true };
        var data = new Option<string>("--data") { Description = "Dataset of the analysis batch: fashion-mnist or cifar10 (training split).", DefaultValueFactory = _ => "fashion-mnist" };
        data.AcceptOnlyFromAmong("fashion-mnist", "cifar10");
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder with the dataset's files (default: NOETHER_FASHION_MNIST / NOETHER_CIFAR10 or the Debian package's folder)." }.ExistingDirectory();
        var samples = CommonOptions.PositiveInt("--samples", "Images in the analysis batch (drawn with --seed from the training split; all of them if fewer).", 256);
        var probes = new Option<int>("--trace-probes") { Description = "Hutchinson probes for the Hessian trace.", DefaultValueFactory = _ => 30 };
        probes.Validators.Add(r => { if (r.TryGet(out int v) && v <= 0) r.AddError($"--trace-probes must be a positive integer (got {v})"); });
        // Each probe is a Hessian-vector product; the standard error falls like 1/√probes, so 10⁵ already gives 0.3% of one probe's.
        probes.AtMost(100_000, "each probe costs a Hessian-vector product; 10⁵ probes give a standard error of 0.3% of one probe's");
        var lanczos = new Option<int>("--lanczos-iterations") { Description = "Lanczos step limit for the top eigenvalue (0: automatic, up to 100).", DefaultValueFactory = _ => 0 };
        lanczos.Validators.Add(r => { if (r.TryGet(out int v) && v < 0) r.AddError($"--lanczos-iterations must be 0 (automatic) or a positive integer (got {v})"); });
        var noSharpness = new Option<bool>("--no-sharpness") { Description = "Skip the Hessian (top eigenvalue and trace)." };
        var rescale = new Option<bool>("--rescale") { Description = "Also write rescaled.safetensors: the model moved along its orbit by a random positive scaling g = diag(exp(s·z)) on every hidden layer that admits it (loss unchanged)." };
        var rescaleStd = CommonOptions.PositiveDouble("--rescale-std", "s, the standard deviation of log g for --rescale.", 0.5)
            .Bounded(double.Epsilon, 10, "g = exp(s·z) overflows float32 weights beyond");
        var ensemble = new Option<int?>("--ensemble") { Description = "Also write N group-transformed members (MLP: g = I + εM on GL layers, exp(εD) on positive-scaling layers; spec-cnn: the calibrated nonlinear action of Appendix H)." };
        ensemble.Validators.Add(r => { if (r.TryGet(out int? v) && v is <= 0) r.AddError($"--ensemble must be a positive number of members (got {v})"); });
        var ensembleOut = new Option<string?>("--ensemble-out") { Description = "Folder for the ensemble members (default: OUT/ensemble)." };
        var epsilon = CommonOptions.PositiveDouble("--epsilon", "ε of the ensemble's group elements.", 0.1);
        var seed = CommonOptions.Seed();
        var output = CommonOptions.Out("results/analyze");
        var force = CommonOptions.Force();

        var command = new Command("analyze", "Analyse your own MLP or SPEC CNN: symmetry groups, conserved quantities, orbit dimensions and sharpness per layer pair; optionally a rescaled model or an ensemble.")
        {
            weights, arch, data, dataDir, samples, probes, lanczos, noSharpness, rescale, rescaleStd, ensemble, ensembleOut, epsilon, seed, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            ArchitectureSpec spec;
            try
            {
                spec = ArchitectureSpec.Parse(parse.GetValue(arch)!);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"--arch: {e.Message}", e);
            }
            var (tensors, dtype, metadata) = AnalyzeModel.Read(parse.GetValue(weights)!);
            string weightsPath = Path.GetFullPath(parse.GetValue(weights)!);
            var model = spec.Build(tensors, weightsPath);
            var settings = new Settings(spec, weightsPath, dtype, metadata, parse.GetValue(data)!, parse.GetValue(dataDir), parse.GetValue(samples),
                parse.GetValue(probes), parse.GetValue(lanczos), !parse.GetValue(noSharpness), parse.GetValue(rescale), parse.GetValue(rescaleStd),
                parse.GetValue(ensemble), parse.GetValue(epsilon), parse.GetValue(seed));
            if (settings.Rescale && AnalyzeModel.Pairs(spec, model).All(p => p.Group is null))
                throw new ArgumentException($"--rescale: no hidden layer of {spec.Text} admits a positive scaling (the activation is not homogeneous)");
            if (settings.Ensemble is not null && model is not SpecCnn<double> && AnalyzeModel.Pairs(spec, model).All(p => p.Group is null))
                throw new ArgumentException($"--ensemble: no hidden layer of {spec.Text} admits a linear symmetry group (the activation is not homogeneous): every member would equal the model");

            bool forced = parse.GetValue(force);
            // --out and --ensemble-out are staged apart; both replace their folders only once the run has completed (the
            // default ensemble folder lies inside --out's staging folder and goes with it).
            using var outFolder = OutputFolder.Begin(parse.GetValue(output), forced);
            string outDir = outFolder.Staging;
            OutputFolder? ensembleFolder = null;
            try
            {
                string? ensembleDir = null;
                if (settings.Ensemble is not null)
                {
                    string? requested = parse.GetValue(ensembleOut);
                    try
                    {
                        ensembleFolder = OutputFolder.Begin(requested ?? Path.Combine(outDir, "ensemble"), forced, "--ensemble-out");
                    }
                    catch (ArgumentException e) when (requested is not null)
                    {
                        throw new ArgumentException(e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal), e);
                    }
                    ensembleDir = ensembleFolder.Staging;
                }
                int exit = Run(settings, model, outDir, ensembleDir, token);
                ensembleFolder?.Commit(token);
                outFolder.Commit(token);
                return Task.FromResult(exit);
            }
            finally
            {
                ensembleFolder?.Dispose();
            }
        });
        return command;
    }

    private sealed record Settings(ArchitectureSpec Spec, string Weights, SafeTensorDType DType, IReadOnlyDictionary<string, string> Metadata, string Dataset,
        string? DataDirectory, int Samples, int TraceProbes, int LanczosIterations, bool Sharpness, bool Rescale, double RescaleStd, int? Ensemble,
        double Epsilon, int Seed);

    private static int Run(Settings s, Sequential<double> model, string outDir, string? ensembleDir, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        var spec = s.Spec;
        ExperimentConsole.Line($"Analysing {s.Weights} as {spec.Text}: {model.ParameterCount} parameters ({SafeTensors.DTypeName(s.DType)}), float64 analysis");
        var dataset = s.Dataset == "cifar10" ? Cifar10.Load(s.DataDirectory, train: true) : FashionMnist.Load(s.DataDirectory, train: true);
        var (inputs, labels, _) = AnalyzeModel.Batch(spec, model, dataset, s.Samples, s.Seed);
        token.ThrowIfCancellationRequested();
        var (loss, accuracy) = AnalyzeModel.Evaluate(model, inputs, labels);
        if (!double.IsFinite(loss))
            throw new ArithmeticException($"analyze: the model's mean cross-entropy on the batch is {loss.ToString(CultureInfo.InvariantCulture)} (weights of {s.Weights} too large for {s.DType} arithmetic?); nothing was written");
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
            $"batch: {labels.Length} images of {(s.Dataset == "cifar10" ? "CIFAR-10" : "Fashion-MNIST")} (training split, seed {s.Seed}); mean cross-entropy {loss:G6}, accuracy {accuracy * 100:F1}%"));

        var pairs = AnalyzeModel.Pairs(spec, model);
        var rows = new List<PairRow>();
        var conserved = new CsvTable("pair", "row", "col", "u_term", "v_term", "q");
        for (int i = 0; i < pairs.Count; i++)
        {
            token.ThrowIfCancellationRequested();
            var p = pairs[i];
            var terms = p.Terms();
            double[]? q = terms?.Value();
            if (q is not null && !q.All(double.IsFinite))
                throw new ArithmeticException($"analyze: the conserved quantity of layer pair {i + 1} ({p.Name}) is not finite (weights of {s.Weights} too large to square in float64); nothing was written");
            int h = p.Hidden;
            if (terms is not null)
                for (int k = 0; k < q!.Length; k++)
                {
                    bool matrix = q.Length == h * h && p.Group is GeneralLinearGroup;
                    conserved.AddRow(i + 1, matrix ? k / h : k, matrix ? k % h : k, terms.First[k], terms.Second[k], q[k]);
                }
            var orbit = p.MeasureOrbit(MaxMeasuredAlgebra, OrbitTolerance(s.DType));
            rows.Add(new PairRow(i + 1, p.Name, p.Between, h, p.U().Dim(0), p.VHat().Dim(1), p.VBias is not null, p.Group?.Name ?? "none", p.GroupNote,
                p.Group?.AlgebraDimension, p.Alpha, orbit?.Dimension, orbit?.Gap, p.ClosedForm(), p.PaperForm(), p.QuantityName,
                q is null ? null : Summary(q, p.Group is GeneralLinearGroup ? h : 0), q));
        }

        SharpnessEstimateResult? sharpness = null;
        if (s.Sharpness)
        {
            ExperimentConsole.Line($"Hessian of the mean cross-entropy w.r.t. all {model.ParameterCount} parameters: Lanczos (top eigenvalue), Hutchinson ({s.TraceProbes} probes)…");
            var hessian = ModelHessian.CrossEntropy(model, inputs, labels);
            sharpness = SharpnessEstimate.Run(hessian, new SharpnessEstimateSettings(TopK: 1, LanczosIterations: s.LanczosIterations, LanczosTolerance: 1e-6,
                TraceProbes: s.TraceProbes, DensityProbes: 0, Seed: s.Seed), null, token);
        }

        RescaleResult? rescaled = null;
        Sequential<double>? rescaledModel = null;
        if (s.Rescale) (rescaled, rescaledModel) = Rescale(s, inputs, labels, loss, token);

        EnsembleResult? ensemble = null;
        List<Sequential<double>>? members = null;
        if (s.Ensemble is int n) (ensemble, members) = BuildEnsemble(s, model, dataset, n, inputs, labels, loss, token);

        // Everything is computed: write (each file atomically).
        token.ThrowIfCancellationRequested();
        var written = new List<string>();
        if (rescaledModel is not null)
        {
            string path = Path.Combine(outDir, "rescaled.safetensors");
            AnalyzeModel.Save(path, rescaledModel, s.DType, Metadata(s, "rescaled", $"positive scaling g = diag(exp({s.RescaleStd.ToString(CultureInfo.InvariantCulture)}·z)), seed {s.Seed}"));
            rescaled = rescaled! with { WrittenLoss = WrittenLoss(s, path, inputs, labels) };
            written.Add("rescaled.safetensors");
        }
        if (members is not null)
        {
            for (int m = 0; m < members.Count; m++)
                AnalyzeModel.Save(Path.Combine(ensembleDir!, $"member-{m:D3}.safetensors"), members[m], s.DType,
                    Metadata(s, $"ensemble member {m}", string.Create(CultureInfo.InvariantCulture, $"ε = {s.Epsilon}, seed {s.Seed}")));
        }
        var layersCsv = new CsvTable("pair", "layers", "between", "hidden", "m", "n", "bias", "group", "algebra_dim", "orbit_measured", "orbit_closed_form",
            "orbit_paper", "quantity", "q_min", "q_max", "q_frobenius");
        foreach (var r in rows)
            layersCsv.AddRow(r.Pair, r.Layers, r.Between, r.Hidden, r.M, r.N, r.Bias ? 1 : 0, r.Group, r.AlgebraDimension, r.OrbitMeasured, r.OrbitClosedForm,
                r.OrbitPaper, r.Quantity, r.QSummary?.Min, r.QSummary?.Max, r.QSummary?.Frobenius);
        layersCsv.Save(Path.Combine(outDir, "layers.csv"));
        written.Add("layers.csv");
        if (conserved.RowCount > 0)
        {
            conserved.Save(Path.Combine(outDir, "conserved.csv"));
            written.Add("conserved.csv");
        }
        var claims = Claims(rows, rescaled, ensemble);
        ResultJson.Write(Path.Combine(outDir, "summary.json"), new
        {
            command = "analyze",
            profile = (string?)null,
            weights = s.Weights,
            arch = spec.Text,
            dtype = SafeTensors.DTypeName(s.DType),
            parameters = model.ParameterCount,
            conventions = "pair i: V̂ = [V | b] (h × (n+1); the bias is a weight on a constant input and the group acts on it as on V) feeds the hidden layer, U (m × h) reads it; Q = UᵀU − V̂V̂ᵀ (identity σ, Ex. 7) or diag(α UᵀU − V̂V̂ᵀ) (homogeneous σ, Ex. 9); loss = mean cross-entropy of the logits",
            data = new { dataset = dataset.Source, samples = labels.Length, seed = s.Seed },
            orbitRankTolerance = OrbitTolerance(s.DType),
            loss,
            accuracy,
            pairs = rows.Select(r => new
            {
                pair = r.Pair, layers = r.Layers, between = r.Between, hidden = r.Hidden, m = r.M, n = r.N, bias = r.Bias, group = r.Group, groupNote = r.GroupNote,
                algebraDimension = r.AlgebraDimension, alpha = r.Alpha, orbitMeasured = r.OrbitMeasured, orbitGap = r.OrbitGap, orbitClosedForm = r.OrbitClosedForm,
                orbitPaper = r.OrbitPaper, quantity = r.Quantity, qSummary = r.QSummary, q = r.Q,
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
            rescale = rescaled,
            ensemble,
            claims,
            figures = Array.Empty<FigureRef>(),
            wallSeconds = clock.Elapsed.TotalSeconds,
        });
        written.Add("summary.json");

        PrintTable(spec, rows);
        if (sharpness is not null)
            ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                $"sharpness: top Hessian eigenvalue {sharpness.TopEigenvalues[0]:G6} (Lanczos, {sharpness.LanczosIterations} steps, residual {sharpness.Residuals[0]:G2}{(sharpness.LanczosConverged ? "" : ", NOT converged")}), trace {sharpness.Trace!.Trace:G6} ± {sharpness.Trace.StandardError:G2} (Hutchinson, {sharpness.Trace.Probes} probes); {sharpness.Seconds:F1} s"));
        if (rescaled is not null)
            ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                $"rescale: loss before {rescaled.LossBefore:R}, after {rescaled.LossAfter:R} (|Δ| = {Math.Abs(rescaled.LossAfter - rescaled.LossBefore):G3}, float64); as written ({SafeTensors.DTypeName(s.DType)}) {rescaled.WrittenLoss:R}; Q moved by up to {rescaled.MaxQChange:G3} → rescaled.safetensors"));
        if (ensemble is not null)
            ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture,
                $"ensemble: {ensemble.Members} member(s) ({ensemble.Rejected} rejected as ill-conditioned), ε = {ensemble.Epsilon}; member loss {ensemble.MinLoss:G6} … {ensemble.MaxLoss:G6}, max |ΔL| = {ensemble.MaxAbsLossChange:G3} from the model's {loss:G6} → {ensembleDir}"));
        ExperimentConsole.Line(string.Create(CultureInfo.InvariantCulture, $"wall {clock.Elapsed.TotalSeconds:F1} s; wrote {string.Join(", ", written)} to {outDir}"));
        return ExitCodes.Ok;
    }

    private static Dictionary<string, string> Metadata(Settings s, string what, string how)
    {
        var metadata = new Dictionary<string, string>(s.Metadata)
        {
            ["format"] = "pt",
            ["noether.arch"] = s.Spec.Text,
            ["noether.source"] = Path.GetFileName(s.Weights),
            ["noether.transform"] = $"{what}: {how}",
        };
        return metadata;
    }

    private static double WrittenLoss(Settings s, string path, Tensor<double> inputs, int[] labels)
    {
        var (tensors, _, _) = AnalyzeModel.Read(path);
        return AnalyzeModel.Evaluate(s.Spec.Build(tensors, path), inputs, labels).Loss;
    }

    private static (RescaleResult, Sequential<double>) Rescale(Settings s, Tensor<double> inputs, int[] labels, double lossBefore, CancellationToken token)
    {
        var (tensors, _, _) = AnalyzeModel.Read(s.Weights);
        var copy = s.Spec.Build(tensors, s.Weights);
        var rng = new Random(s.Seed);
        double maxQChange = 0;
        var scaled = new List<int>();
        var pairs = AnalyzeModel.Pairs(s.Spec, copy);
        for (int i = 0; i < pairs.Count; i++)
        {
            token.ThrowIfCancellationRequested();
            var p = pairs[i];
            if (p.Group is null) continue;
            var before = p.Terms()!.Value();
            var g = AnalyzeModel.PositiveDiagonal(p.Hidden, s.RescaleStd, rng);
            // A positive diagonal g is in GL_h and in the positive-scaling group alike.
            p.Apply(g);
            var after = p.Terms()!.Value();
            for (int k = 0; k < before.Length; k++) maxQChange = Math.Max(maxQChange, Math.Abs(after[k] - before[k]));
            scaled.Add(i + 1);
        }
        double lossAfter = AnalyzeModel.Evaluate(copy, inputs, labels).Loss;
        return (new RescaleResult(s.RescaleStd, scaled.ToArray(), lossBefore, lossAfter, double.NaN, maxQChange), copy);
    }

    private static (EnsembleResult, List<Sequential<double>>) BuildEnsemble(Settings s, Sequential<double> model, ImageDataset dataset, int n,
        Tensor<double> inputs, int[] labels, double loss, CancellationToken token)
    {
        var members = new List<Sequential<double>>();
        int rejected = 0;
        string method;
        if (model is SpecCnn<double> cnn)
        {
            method = "Appendix H calibrated group action on the hidden → output pair: (U π(g, H₀), g V), g = I + εM, π computed on h training images per member";
            var built = EnsembleBuilder.Build(cnn, dataset, new EnsembleOptions(EnsembleBuilderKind.Group, s.Epsilon, n, s.Seed), token);
            rejected = built.Rejected;
            for (int m = 0; m < built.Count; m++) members.Add(built.MemberModel(m));
        }
        else
        {
            method = "exact linear group action on every hidden layer: g = I + εM (GL_h, M ~ N(0, 1/h)) or g = exp(εD) (positive scaling, D ~ N(0, 1) diagonal; I + εD could leave the group)";
            for (int m = 0; m < n; m++)
            {
                token.ThrowIfCancellationRequested();
                var (tensors, _, _) = AnalyzeModel.Read(s.Weights);
                var copy = s.Spec.Build(tensors, s.Weights);
                var rng = new Random(unchecked(s.Seed * 1_000_003 + m));
                bool ok = true;
                foreach (var p in AnalyzeModel.Pairs(s.Spec, copy))
                {
                    if (p.Group is null) continue;
                    int h = p.Hidden;
                    Tensor<double> g;
                    if (p.Group is GeneralLinearGroup)
                    {
                        g = EnsembleBuilder.GroupElement(RandomMatrix.Gaussian(rng, h, h, 1 / Math.Sqrt(h)), s.Epsilon, GroupElementForm.IdentityPlus);
                        if (!(ConditionNumber(g) <= 1e8)) { ok = false; break; }
                    }
                    else g = AnalyzeModel.PositiveDiagonal(h, s.Epsilon, rng);
                    p.Apply(g);
                }
                if (ok && copy.Parameters.All(q => q.Value.AllFinite())) members.Add(copy);
                else rejected++;
            }
        }
        if (members.Count == 0)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--ensemble: all {n} members were rejected as ill-conditioned at ε = {s.Epsilon}; lower --epsilon"));
        var losses = members.Select(m => AnalyzeModel.Evaluate(m, inputs, labels).Loss).ToArray();
        return (new EnsembleResult(members.Count, rejected, s.Epsilon, method, losses, losses.Min(), losses.Max(), losses.Max(l => Math.Abs(l - loss))), members);
    }

    /// <summary>
    /// The rank cut for orbit dimensions, relative to the largest singular value: 1e-9 for F64 weights (the library's
    /// default), 1e-5 for F32, whose rounding (ε ≈ 6e-8, times √size) would otherwise make every low-rank matrix look full rank.
    /// </summary>
    private static double OrbitTolerance(SafeTensorDType dtype) => dtype == SafeTensorDType.F64 ? OrbitDimension.DefaultTolerance : 1e-5;

    private static double ConditionNumber(Tensor<double> g)
    {
        var (singular, _, _) = LinearAlgebra.Svd(g, vectors: false);
        return singular[^1] > 0 ? singular[0] / singular[^1] : double.PositiveInfinity;
    }

    private static QSummary Summary(double[] q, int matrixSide)
    {
        double fro = Math.Sqrt(q.Sum(x => x * x));
        double? trace = null;
        if (matrixSide > 0)
        {
            double t = 0;
            for (int a = 0; a < matrixSide; a++) t += q[a * matrixSide + a];
            trace = t;
        }
        return new QSummary(q.Min(), q.Max(), fro, trace ?? q.Sum());
    }

    private static void PrintTable(ArchitectureSpec spec, List<PairRow> rows)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"Symmetries and conserved quantities of {spec.Text}"))
            .AddColumn("pair").AddColumn("σ between").AddColumn(new TableColumn("h").RightAligned()).AddColumn("group")
            .AddColumn(new TableColumn("orbit dim: measured / closed form / paper").RightAligned()).AddColumn("conserved Q")
            .AddColumn(new TableColumn("Q: min … max, Tr").RightAligned());
        foreach (var r in rows)
        {
            string orbit = r.OrbitClosedForm is null ? "–"
                : $"{(r.OrbitMeasured?.ToString(CultureInfo.InvariantCulture) ?? "n/m")}{(r.OrbitGap is double g && double.IsNaN(g) ? "*" : "")}{(r.OrbitMeasured < r.OrbitClosedForm ? " (θ not generic)" : "")} / {r.OrbitClosedForm} / {r.OrbitPaper}{(r.OrbitPaper != r.OrbitClosedForm ? " (paper off)" : "")}";
            string q = r.QSummary is { } qs ? $"{ExperimentConsole.Sci(qs.Min)} … {ExperimentConsole.Sci(qs.Max)}, {ExperimentConsole.Sci(qs.Trace)}" : "–";
            table.AddRow(Markup.Escape($"{r.Pair}: {r.Layers}"), Markup.Escape(r.Between), r.Hidden.ToString(CultureInfo.InvariantCulture), Markup.Escape(r.Group),
                Markup.Escape(orbit), Markup.Escape(r.Quantity), Markup.Escape(q));
        }
        var notes = new List<string> { "V̂ = [V | b]: a bias is a weight on a constant input" };
        if (rows.Any(r => r.Q is not null)) notes.Add("full Q in conserved.csv");
        if (rows.Any(r => r.OrbitGap is double g && double.IsNaN(g)))
            notes.Add("*: GL_h rank from h² − (h − rank U)(h − rank V̂) (dim 𝔤 too large for an SVD of the map)");
        if (rows.Any(r => r.OrbitClosedForm is not null && r.OrbitMeasured is null)) notes.Add("n/m: not measured (dim 𝔤 too large for a dense SVD)");
        table.Caption(Markup.Escape(string.Join("; ", notes)));
        ExperimentConsole.Write(table);
    }

    private static Claim[] Claims(List<PairRow> rows, RescaleResult? rescale, EnsembleResult? ensemble)
    {
        var claims = new List<Claim>();
        foreach (var r in rows.Where(r => r.OrbitClosedForm is not null))
        {
            bool measured = r.OrbitMeasured is not null;
            // Below the generic value the weights are special (e.g. rank-deficient: a larger stabiliser), which the closed
            // forms exclude; above it would contradict them. The rule leaves both "not measured" and "special" unjudged.
            bool special = measured && r.OrbitMeasured < r.OrbitClosedForm;
            bool paperOff = r.OrbitPaper != r.OrbitClosedForm;
            claims.Add(SymmetryClaims.AnalyzeOrbitDimension.Make([r.OrbitMeasured is { } m ? m : double.NaN, r.OrbitClosedForm!.Value, r.OrbitPaper is { } pp ? pp : double.NaN],
                measured ? $"rank {r.OrbitMeasured}" : "not measured (dim 𝔤 too large)",
                special ? "these weights are not generic (e.g. rank-deficient U or V̂): the stabiliser is larger and the orbit smaller than the closed form for generic θ"
                    : paperOff ? "the paper's eqs. 21–22 are wrong when h > max(m, n) (SPEC)" : null,
                idPart: r.Pair.ToString(CultureInfo.InvariantCulture),
                statement: $"orbit dimension of {r.Group} at generic parameters (pair {r.Pair}, m={r.M}, h={r.Hidden}, n={r.N})",
                predicted: $"{r.OrbitClosedForm} (SPEC); paper {r.OrbitPaper}"));
        }
        if (rescale is not null)
        {
            double change = Math.Abs(rescale.LossAfter - rescale.LossBefore);
            claims.Add(SymmetryClaims.AnalyzeLossInvariant.Make([change, rescale.LossBefore],
                string.Create(CultureInfo.InvariantCulture, $"|ΔL| = {change:G3} at L = {rescale.LossBefore:G6} (float64)")));
        }
        if (ensemble is not null)
            claims.Add(SymmetryClaims.AnalyzeEnsembleLoss.Measure(string.Create(CultureInfo.InvariantCulture, $"max |ΔL| = {ensemble.MaxAbsLossChange:G3} over {ensemble.Members} members")));
        return [.. claims];
    }

    private sealed record QSummary(double Min, double Max, double Frobenius, double Trace);

    private sealed record PairRow(int Pair, string Layers, string Between, int Hidden, int M, int N, bool Bias, string Group, string GroupNote, int? AlgebraDimension,
        double? Alpha, int? OrbitMeasured, double? OrbitGap, int? OrbitClosedForm, int? OrbitPaper, string Quantity, QSummary? QSummary, double[]? Q);

    private sealed record RescaleResult(double Std, int[] Pairs, double LossBefore, double LossAfter, double WrittenLoss, double MaxQChange);

    private sealed record EnsembleResult(int Members, int Rejected, double Epsilon, string Method, double[] Losses, double MinLoss, double MaxLoss, double MaxAbsLossChange);
}
