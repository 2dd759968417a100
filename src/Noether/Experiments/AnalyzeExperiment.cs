using Noether.Autodiff;
using Noether.Conservation;
using Noether.Data;
using Noether.Ensembles;
using Noether.Landscape;
using Noether.Nn;
using Noether.Serialization;
using Noether.Symmetry;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>Settings of <see cref="AnalyzeExperiment"/>: a user's MLP or SPEC CNN analysed on a batch of training images.</summary>
/// <param name="Spec">The architecture the weights are read as.</param>
/// <param name="Dataset">fashion-mnist or cifar10 (training split).</param>
/// <param name="DataDirectory">The dataset's folder, or null for the default location.</param>
/// <param name="Samples">Images in the batch (drawn with <paramref name="Seed"/>; all of them if fewer).</param>
/// <param name="TraceProbes">Hutchinson probes for the Hessian trace.</param>
/// <param name="LanczosIterations">Lanczos step limit for the top eigenvalue (0: automatic).</param>
/// <param name="Sharpness">Estimate the Hessian's top eigenvalue and trace.</param>
/// <param name="Rescale">Also move the model along its orbit by a random positive scaling.</param>
/// <param name="RescaleStd">s, the standard deviation of log g for the rescaling.</param>
/// <param name="Ensemble">Members of a group-transformed ensemble, or null for none.</param>
/// <param name="Epsilon">ε of the ensemble's group elements.</param>
/// <param name="Seed">Seeds the batch, the rescaling and every member.</param>
public sealed record AnalyzeSettings(ArchitectureSpec Spec, string Dataset = "fashion-mnist", string? DataDirectory = null, int Samples = 256,
    int TraceProbes = 30, int LanczosIterations = 0, bool Sharpness = true, bool Rescale = false, double RescaleStd = 0.5, int? Ensemble = null,
    double Epsilon = 0.1, int Seed = 0);

/// <summary>min, max, Frobenius norm and trace of a conserved quantity (the trace of a diagonal Q is the sum of its entries).</summary>
public sealed record QuantitySummary(double Min, double Max, double Frobenius, double Trace);

/// <summary>One layer pair: its group, orbit dimension (measured, the SPEC closed form, the paper's) and conserved quantity.</summary>
/// <param name="Pair">1-based index.</param>
/// <param name="Layers">"0.weight → 2.weight".</param>
/// <param name="Between">What sits between the layers.</param>
/// <param name="Hidden">h.</param>
/// <param name="M">Rows of U.</param>
/// <param name="N">Columns of V̂.</param>
/// <param name="Bias">V̂ carries the bias.</param>
/// <param name="Group">The group's name, or "none".</param>
/// <param name="GroupNote">Why this group.</param>
/// <param name="AlgebraDimension">dim 𝔤, or null without a group.</param>
/// <param name="Alpha">The positive scaling's degree, or null.</param>
/// <param name="OrbitMeasured">The measured orbit dimension, or null when not measured.</param>
/// <param name="OrbitGap">The singular-value gap at the rank cut (NaN: rank from the GL_h kernel identity).</param>
/// <param name="OrbitClosedForm">The SPEC closed form for generic θ.</param>
/// <param name="OrbitPaper">The paper's eqs. 20–22.</param>
/// <param name="Quantity">Q's printed name.</param>
/// <param name="QSummary">Q summarised, or null without a linear group.</param>
/// <param name="Q">Q's entries (h×h row-major for GL_h, the diagonal otherwise), or null.</param>
public sealed record AnalyzePairResult(int Pair, string Layers, string Between, int Hidden, int M, int N, bool Bias, string Group, string GroupNote,
    int? AlgebraDimension, double? Alpha, int? OrbitMeasured, double? OrbitGap, int? OrbitClosedForm, int? OrbitPaper, string Quantity,
    QuantitySummary? QSummary, double[]? Q);

/// <summary>One entry of a pair's conserved quantity and its two terms (conserved.csv).</summary>
public sealed record ConservedEntry(int Pair, int Row, int Col, double UTerm, double VTerm, double Q);

/// <summary>The model moved along its orbit by g = diag(exp(s·z)) on every pair with a linear group.</summary>
/// <param name="Std">s.</param>
/// <param name="Pairs">The pairs scaled (1-based).</param>
/// <param name="LossBefore">The model's loss (float64).</param>
/// <param name="LossAfter">The moved model's loss (float64).</param>
/// <param name="WrittenLoss">The moved model's loss after rounding to the file's precision.</param>
/// <param name="MaxQChange">The largest change of any entry of Q.</param>
public sealed record AnalyzeRescale(double Std, int[] Pairs, double LossBefore, double LossAfter, double WrittenLoss, double MaxQChange);

/// <summary>The group-transformed ensemble's losses.</summary>
public sealed record AnalyzeEnsemble(int Members, int Rejected, double Epsilon, string Method, double[] Losses, double MinLoss, double MaxLoss, double MaxAbsLossChange);

/// <summary>What <see cref="AnalyzeExperiment.Run"/> measured, and the models it made (for writing).</summary>
/// <param name="Settings">The settings.</param>
/// <param name="Model">The model analysed.</param>
/// <param name="DataSource">Where the batch came from.</param>
/// <param name="Samples">Images in the batch.</param>
/// <param name="Loss">Mean cross-entropy on the batch.</param>
/// <param name="Accuracy">Fraction classified correctly.</param>
/// <param name="OrbitRankTolerance">The relative rank cut of the orbit dimensions.</param>
/// <param name="Pairs">Per layer pair.</param>
/// <param name="Conserved">Every entry of every pair's Q.</param>
/// <param name="Sharpness">Top eigenvalue and trace of the Hessian, or null.</param>
/// <param name="Rescale">The rescaling, or null.</param>
/// <param name="RescaledModel">The rescaled model, or null.</param>
/// <param name="Ensemble">The ensemble, or null.</param>
/// <param name="Members">The ensemble's members, or null.</param>
public sealed record AnalyzeResult(AnalyzeSettings Settings, Sequential<double> Model, string DataSource, int Samples, double Loss, double Accuracy,
    double OrbitRankTolerance, IReadOnlyList<AnalyzePairResult> Pairs, IReadOnlyList<ConservedEntry> Conserved, SharpnessEstimateResult? Sharpness,
    AnalyzeRescale? Rescale, Sequential<double>? RescaledModel, AnalyzeEnsemble? Ensemble, IReadOnlyList<Sequential<double>>? Members);

/// <summary>
/// <c>noether analyze</c>'s computation: a user's MLP or SPEC CNN, per pair of consecutive weight layers (<see cref="LayerPair"/>)
/// the symmetry group of the hidden layer, the conserved quantity of gradient flow (Ex. 7 / Ex. 9), the orbit dimension
/// (measured and closed forms, B.6); the Hessian's top eigenvalue and trace on a batch; optionally the model moved along
/// its orbit and an ensemble of group-transformed members. The weights are read once (<see cref="ModelFile"/>); every copy
/// is built from those tensors.
/// </summary>
public static class AnalyzeExperiment
{
    /// <summary>GL/O orbit dimensions are measured by SVD up to this algebra dimension (h ≤ 24 for GL_h); larger ones give the closed form only.</summary>
    public const int MaxMeasuredAlgebra = 600;

    /// <summary>Ensemble members whose g is worse conditioned are rejected.</summary>
    public const double MaxCondition = 1e8;

    /// <summary>
    /// The rank cut for orbit dimensions, relative to the largest singular value: 1e-9 for F64 weights (the library's
    /// default), 1e-5 for F32, whose rounding (ε ≈ 6e-8, times √size) would otherwise make every low-rank matrix look full rank.
    /// </summary>
    public static double OrbitTolerance(SafeTensorDType dtype) => dtype == SafeTensorDType.F64 ? OrbitDimension.DefaultTolerance : 1e-5;

    /// <summary>True when some layer pair of <paramref name="model"/> admits a linear symmetry group (the rescaling and an MLP ensemble need one).</summary>
    public static bool HasLinearGroup(ArchitectureSpec spec, Sequential<double> model) => LayerPair.Of(spec, model).Any(p => p.Group is not null);

    /// <summary>Runs the analysis of <paramref name="model"/>, built from <paramref name="weights"/> as <see cref="AnalyzeSettings.Spec"/> says.</summary>
    /// <exception cref="ArgumentException">The model does not fit the data (parameter name "Spec"), or every ensemble member was rejected ("Epsilon").</exception>
    /// <exception cref="ArithmeticException">The loss or a conserved quantity is not finite.</exception>
    public static AnalyzeResult Run(AnalyzeSettings settings, ModelFile weights, Sequential<double> model, IProgress<ExperimentProgress>? progress = null,
        CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(model);
        var s = settings;
        var spec = s.Spec;
        int stages = 3 + (s.Sharpness ? 1 : 0) + (s.Rescale ? 1 : 0) + (s.Ensemble is null ? 0 : 1), stage = 0;
        progress?.Report(new ExperimentProgress("data", stage++, stages));
        var dataset = s.Dataset == "cifar10" ? Cifar10.Load(s.DataDirectory, train: true) : FashionMnist.Load(s.DataDirectory, train: true);
        var (inputs, labels) = Batch(spec, model, dataset, s.Samples, s.Seed);
        token.ThrowIfCancellationRequested();
        double loss = Loss(model, inputs, labels);
        if (!double.IsFinite(loss))
            throw new ArithmeticException($"analyze: the model's mean cross-entropy on the batch is {loss.ToString(CultureInfo.InvariantCulture)} (weights of {weights.Path} too large for {weights.DType} arithmetic?); nothing was written");
        double accuracy = Classifier.Evaluate(model, [(inputs, labels)]);

        progress?.Report(new ExperimentProgress("layer pairs", stage++, stages));
        double tolerance = OrbitTolerance(weights.DType);
        var pairs = LayerPair.Of(spec, model);
        var rows = new List<AnalyzePairResult>();
        var conserved = new List<ConservedEntry>();
        for (int i = 0; i < pairs.Count; i++)
        {
            token.ThrowIfCancellationRequested();
            var p = pairs[i];
            var terms = Terms(p);
            double[]? q = terms?.Value();
            if (q is not null && !q.All(double.IsFinite))
                throw new ArithmeticException($"analyze: the conserved quantity of layer pair {i + 1} ({p.Name}) is not finite (weights of {weights.Path} too large to square in float64); nothing was written");
            int h = p.Hidden;
            if (terms is not null)
                for (int k = 0; k < q!.Length; k++)
                {
                    bool matrix = q.Length == h * h && p.Group is GeneralLinearGroup;
                    conserved.Add(new ConservedEntry(i + 1, matrix ? k / h : k, matrix ? k % h : k, terms.First[k], terms.Second[k], q[k]));
                }
            var orbit = p.MeasureOrbit(MaxMeasuredAlgebra, tolerance);
            rows.Add(new AnalyzePairResult(i + 1, p.Name, p.Between, h, p.U().Dim(0), p.VHat().Dim(1), p.VBias is not null, p.Group?.Name ?? "none", p.GroupNote,
                p.Group?.AlgebraDimension, p.Alpha, orbit?.Dimension, orbit?.Gap, p.ClosedForm(), p.PaperForm(), QuantityName(p),
                q is null ? null : Summary(q, p.Group is GeneralLinearGroup ? h : 0), q));
        }

        SharpnessEstimateResult? sharpness = null;
        if (s.Sharpness)
        {
            progress?.Report(new ExperimentProgress($"Hessian: Lanczos, Hutchinson ({s.TraceProbes} probes)", stage++, stages));
            var hessian = ModelHessian.CrossEntropy(model, inputs, labels);
            sharpness = SharpnessEstimate.Run(hessian, new SharpnessEstimateSettings(TopK: 1, LanczosIterations: s.LanczosIterations, LanczosTolerance: 1e-6,
                TraceProbes: s.TraceProbes, DensityProbes: 0, Seed: s.Seed), null, token);
        }

        AnalyzeRescale? rescale = null;
        Sequential<double>? rescaled = null;
        if (s.Rescale)
        {
            progress?.Report(new ExperimentProgress("rescale", stage++, stages));
            (rescale, rescaled) = Rescale(s, weights, inputs, labels, loss, token);
        }

        AnalyzeEnsemble? ensemble = null;
        List<Sequential<double>>? members = null;
        if (s.Ensemble is int n)
        {
            progress?.Report(new ExperimentProgress("ensemble", stage++, stages));
            (ensemble, members) = BuildEnsemble(s, weights, model, dataset, n, inputs, labels, loss, token);
        }
        progress?.Report(new ExperimentProgress("done", stages, stages));
        return new AnalyzeResult(s, model, dataset.Source, labels.Length, loss, accuracy, tolerance, rows, conserved, sharpness, rescale, rescaled, ensemble, members);
    }

    /// <summary>The conserved quantity of gradient flow for the pair's group (Ex. 7 / Ex. 9), or null when the group is not linear.</summary>
    public static ConservedQuantity? Quantity(LayerPair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        return pair.Group switch
        {
            GeneralLinearGroup => ConservedQuantity.Imbalance(),
            PositiveScalingGroup g => ConservedQuantity.HomogeneousDiagonal(g.Degree),
            _ => null,
        };
    }

    /// <summary>The name printed for <see cref="Quantity"/>, with V̂ when the bias is included.</summary>
    public static string QuantityName(LayerPair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        return pair.Group switch
        {
            GeneralLinearGroup => pair.VBias is null ? "UᵀU − VVᵀ" : "UᵀU − V̂V̂ᵀ",
            PositiveScalingGroup g => (g.Degree == 1 ? "diag(UᵀU − " : string.Create(CultureInfo.InvariantCulture, $"diag({g.Degree:G4}·UᵀU − ")) + (pair.VBias is null ? "VVᵀ)" : "V̂V̂ᵀ)"),
            _ => "none",
        };
    }

    /// <summary>Q's two terms at the pair's current parameters, or null.</summary>
    public static QuantityTerms? Terms(LayerPair pair) => Quantity(pair)?.Terms([pair.U(), pair.VHat()]);

    /// <summary>The analysis batch: inputs shaped for the model ([N, features] for an MLP, [N, C, H, W] for the CNN) and labels.</summary>
    /// <exception cref="ArgumentException">The model's input or output does not fit the data (parameter name "Spec").</exception>
    public static (Tensor<double> Inputs, int[] Labels) Batch(ArchitectureSpec spec, Sequential<double> model, ImageDataset data, int samples, int seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (model is SpecCnn<double> cnn)
        {
            if (data.Channels != cnn.InChannels || data.Height != cnn.ImageSize || data.Width != cnn.ImageSize)
                throw Errors.Argument(nameof(AnalyzeSettings.Spec), $"the weights expect {cnn.InChannels}×{cnn.ImageSize}×{cnn.ImageSize} images but {data.Source} has {data.Channels}×{data.Height}×{data.Width}");
            if (cnn.Output.OutFeatures != data.ClassCount)
                throw Errors.Argument(nameof(AnalyzeSettings.Spec), $"the model has {cnn.Output.OutFeatures} outputs but {data.Source} has {data.ClassCount} classes");
        }
        else
        {
            if (spec.Widths[0] != data.SampleSize)
                throw Errors.Argument(nameof(AnalyzeSettings.Spec), $"the input width {spec.Widths[0]} of {spec.Text} does not match the data: {data.Source} has {data.SampleSize} inputs ({data.Channels}×{data.Height}×{data.Width})");
            if (spec.Widths[^1] != data.ClassCount)
                throw Errors.Argument(nameof(AnalyzeSettings.Spec), $"the output width {spec.Widths[^1]} of {spec.Text} does not match the {data.ClassCount} classes of {data.Source}");
        }
        int[] indices;
        if (samples >= data.Count) indices = Enumerable.Range(0, data.Count).ToArray();
        else
        {
            var order = Minibatches.Order(data.Count, new Random(seed));
            indices = order[..samples];
            Array.Sort(indices);
        }
        var (inputs, labels) = data.Gather<double>(indices);
        if (model is not SpecCnn<double>) inputs = inputs.Reshape(indices.Length, data.SampleSize);
        return (inputs, labels);
    }

    /// <summary>Mean cross-entropy of the logits (float64).</summary>
    public static double Loss(Sequential<double> model, Tensor<double> inputs, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tape = new Tape<double>();
        using (tape.Pause()) return Ops.CrossEntropy(model.Forward(tape, tape.Constant(inputs)), labels).Value.ScalarValue;
    }

    /// <summary>A positive diagonal g = diag(exp(std·z)), z ~ N(0, 1).</summary>
    public static Tensor<double> PositiveDiagonal(int h, double std, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var g = Tensor<double>.Zeros(h, h);
        var z = new double[h];
        Gaussian.Fill(rng, z, 1);
        for (int a = 0; a < h; a++) g.Data[a * h + a] = Math.Exp(std * z[a]);
        return g;
    }

    /// <summary>σ_max / σ_min of a square matrix (∞ when singular).</summary>
    public static double ConditionNumber(Tensor<double> g)
    {
        ArgumentNullException.ThrowIfNull(g);
        var (singular, _, _) = LinearAlgebra.Svd(g, vectors: false);
        return singular[^1] > 0 ? singular[0] / singular[^1] : double.PositiveInfinity;
    }

    private static (AnalyzeRescale, Sequential<double>) Rescale(AnalyzeSettings s, ModelFile weights, Tensor<double> inputs, int[] labels, double lossBefore,
        CancellationToken token)
    {
        var copy = weights.Build(s.Spec);
        var rng = new Random(s.Seed);
        double maxQChange = 0;
        var scaled = new List<int>();
        var pairs = LayerPair.Of(s.Spec, copy);
        for (int i = 0; i < pairs.Count; i++)
        {
            token.ThrowIfCancellationRequested();
            var p = pairs[i];
            if (p.Group is null) continue;
            var before = Terms(p)!.Value();
            var g = PositiveDiagonal(p.Hidden, s.RescaleStd, rng);
            // A positive diagonal g is in GL_h and in the positive-scaling group alike.
            p.Apply(g);
            var after = Terms(p)!.Value();
            for (int k = 0; k < before.Length; k++) maxQChange = Math.Max(maxQChange, Math.Abs(after[k] - before[k]));
            scaled.Add(i + 1);
        }
        double lossAfter = Loss(copy, inputs, labels);
        // The loss of the model as its file will hold it: F32 weights round once.
        double written = Loss(s.Spec.Build(ModelFile.AsStored(copy.Parameters, weights.DType), weights.Path), inputs, labels);
        return (new AnalyzeRescale(s.RescaleStd, scaled.ToArray(), lossBefore, lossAfter, written, maxQChange), copy);
    }

    private static (AnalyzeEnsemble, List<Sequential<double>>) BuildEnsemble(AnalyzeSettings s, ModelFile weights, Sequential<double> model, ImageDataset dataset,
        int n, Tensor<double> inputs, int[] labels, double loss, CancellationToken token)
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
                var copy = weights.Build(s.Spec);
                var rng = new Random(unchecked(s.Seed * 1_000_003 + m));
                bool ok = true;
                foreach (var p in LayerPair.Of(s.Spec, copy))
                {
                    if (p.Group is null) continue;
                    int h = p.Hidden;
                    Tensor<double> g;
                    if (p.Group is GeneralLinearGroup)
                    {
                        g = EnsembleBuilder.GroupElement(Gaussian.Matrix(rng, h, h, 1 / Math.Sqrt(h)), s.Epsilon, GroupElementForm.IdentityPlus);
                        if (!(ConditionNumber(g) <= MaxCondition)) { ok = false; break; }
                    }
                    else g = PositiveDiagonal(h, s.Epsilon, rng);
                    p.Apply(g);
                }
                if (ok && copy.Parameters.All(q => q.Value.AllFinite())) members.Add(copy);
                else rejected++;
            }
        }
        if (members.Count == 0)
            throw Errors.Argument(nameof(AnalyzeSettings.Epsilon), string.Create(CultureInfo.InvariantCulture, $"all {n} members were rejected as ill-conditioned at ε = {s.Epsilon}; lower ε"));
        var losses = members.Select(m => Loss(m, inputs, labels)).ToArray();
        return (new AnalyzeEnsemble(members.Count, rejected, s.Epsilon, method, losses, losses.Min(), losses.Max(), losses.Max(l => Math.Abs(l - loss))), members);
    }

    private static QuantitySummary Summary(double[] q, int matrixSide)
    {
        double fro = Math.Sqrt(q.Sum(x => x * x));
        double? trace = null;
        if (matrixSide > 0)
        {
            double t = 0;
            for (int a = 0; a < matrixSide; a++) t += q[a * matrixSide + a];
            trace = t;
        }
        return new QuantitySummary(q.Min(), q.Max(), fro, trace ?? q.Sum());
    }

    /// <summary>The claims of an <c>analyze</c> run: each pair's orbit dimension, the rescaled model's loss, the ensemble's loss change.</summary>
    public static Claim[] Claims(AnalyzeResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var claims = new List<Claim>();
        foreach (var p in r.Pairs.Where(p => p.OrbitClosedForm is not null))
        {
            bool measured = p.OrbitMeasured is not null;
            // Below the generic value the weights are special (e.g. rank-deficient: a larger stabiliser), which the closed
            // forms exclude; above it would contradict them. The rule leaves both "not measured" and "special" unjudged.
            bool special = measured && p.OrbitMeasured < p.OrbitClosedForm;
            bool paperOff = p.OrbitPaper != p.OrbitClosedForm;
            claims.Add(SymmetryClaims.AnalyzeOrbitDimension.Make([p.OrbitMeasured is { } m ? m : double.NaN, p.OrbitClosedForm!.Value, p.OrbitPaper is { } pp ? pp : double.NaN],
                measured ? $"rank {p.OrbitMeasured}" : "not measured (dim 𝔤 too large)",
                special ? "these weights are not generic (e.g. rank-deficient U or V̂): the stabiliser is larger and the orbit smaller than the closed form for generic θ"
                    : paperOff ? "the paper's eqs. 21–22 are wrong when h > max(m, n) (SPEC)" : null,
                idPart: p.Pair.ToString(CultureInfo.InvariantCulture),
                statement: $"orbit dimension of {p.Group} at generic parameters (pair {p.Pair}, m={p.M}, h={p.Hidden}, n={p.N})",
                predicted: $"{p.OrbitClosedForm} (SPEC); paper {p.OrbitPaper}"));
        }
        if (r.Rescale is { } rescale)
        {
            double change = Math.Abs(rescale.LossAfter - rescale.LossBefore);
            claims.Add(SymmetryClaims.AnalyzeLossInvariant.Make([change, rescale.LossBefore],
                string.Create(CultureInfo.InvariantCulture, $"|ΔL| = {change:G3} at L = {rescale.LossBefore:G6} (float64)")));
        }
        if (r.Ensemble is { } ensemble)
            claims.Add(SymmetryClaims.AnalyzeEnsembleLoss.Measure(string.Create(CultureInfo.InvariantCulture, $"max |ΔL| = {ensemble.MaxAbsLossChange:G3} over {ensemble.Members} members")));
        return [.. claims];
    }
}
