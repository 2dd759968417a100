using Noether.Autodiff;
using Noether.Graphs;
using Noether.Symmetry.Census;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>One term of a <see cref="MemoryNeed"/>: what is held and its bytes.</summary>
/// <param name="Name">What the bytes are ("Adam state ×16 of 1.29e7 float32 weights").</param>
/// <param name="Bytes">Its bytes (≥ 0).</param>
public sealed record MemoryTerm(string Name, double Bytes);

/// <summary>
/// The peak memory (resident set) a run is estimated to reach, as the sum of its <see cref="Terms"/>: the runtime, the
/// data, the run's own allocations and the garbage the collector is measured to leave uncollected at the peak.
/// </summary>
/// <param name="Terms">The terms; <see cref="Bytes"/> is their sum.</param>
public sealed record MemoryNeed(IReadOnlyList<MemoryTerm> Terms)
{
    /// <summary>The estimated peak in bytes.</summary>
    public double Bytes => Terms.Sum(t => t.Bytes);

    /// <summary>One line naming every term and its size, largest first (what a refusal shows).</summary>
    public string Breakdown => string.Join("; ", Terms.Where(t => t.Bytes > 0).OrderByDescending(t => t.Bytes).Select(t => $"{t.Name}: {Show(t.Bytes)}"));

    /// <summary>Bytes in MiB or GiB ("451.2 MiB", "3.9 GiB").</summary>
    public static string Show(double bytes) => bytes >= 1 << 30
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 30):F1} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 20):F1} MiB");
}

/// <summary>
/// Peak-memory estimates of the workloads whose counts a user chooses (the CLI refuses a run whose estimate exceeds its
/// limit). Each term follows an allocation in the code (named in its comment); the constants that are not sizes of
/// allocations — the runtime and the garbage the workstation GC leaves at the peak — were measured as peak RSS
/// (<c>/usr/bin/time -v</c>, .NET 10, workstation non-concurrent GC) with scripts/measure-memory-estimates.sh.
/// Aim: peak ≤ 1.25 × estimate and estimate ≤ 2 × peak.
/// </summary>
public static class MemoryEstimate
{
    private const double MiB = 1 << 20;

    /// <summary>The process before a run allocates: runtime, libraries, console. 89 MiB measured (`xavier --draws 1000`), rounded up.</summary>
    public const double RuntimeBytes = 96 * MiB;

    /// <summary>
    /// Float32 copies of the weights at the peak of <see cref="CnnTraining"/>: value, gradient, Adam's m, v and scratch
    /// (Nn/Optimizers.cs Adam), two copies while train writes the safetensors file (SafeTensor.FromTensor, then the file's
    /// bytes), and the gradients of earlier steps the GC has not yet collected (each step allocates a new one in Ops.MatMul's
    /// backward; large-object garbage). Measured: h = 8192 peaked at 18 copies over the runtime and data, h = 4096 at 11;
    /// 16 keeps both within the aim.
    /// </summary>
    public const double TrainingWeightCopies = 16;

    /// <summary>
    /// A batch's activations held at the peak of <see cref="CnnTraining"/>, the live batch and the garbage of earlier ones:
    /// measured --channels 256 (the 1000-image evaluation batch: 405 MB of pooled maps and argmax) peaked 4.6 batches above
    /// the other terms, --channels 64 2.4.
    /// </summary>
    public const double TrainingBatchCopies = 4.5;

    /// <summary>
    /// Share of an ensemble member's temporaries still uncollected at the peak (large-object garbage). Per member, evaluating
    /// its chunk (EnsembleHeads.ChunkLogits on the test rows: H Aᵀ, σ, the block product, the bias, the copy in MemberLogits) and,
    /// when calibrated, EnsembleBuilder.DrawDistinct's int[training images], a batch of images and h×k float64 matrices.
    /// Measured at h = 32, 1000 test images: 188 KB more peak per member from 5000 to 20 000 group members; ginv (no
    /// calibration) peaked as high as group at 5000 (1237 against 1253 MiB); GCConserveMemory=9 cut group's to 657 MiB.
    /// </summary>
    public const double EnsembleGarbageShare = 0.2;

    /// <summary>
    /// Float64 values the recorded Hessian graph and one product hold per activation value of a sample (forward
    /// activations, their gradients and the double-backward's temporaries, ModelHessian / HessianOperator), plus
    /// <see cref="HessianValuesPerDirection"/> per direction of a batched product (HessianOperator.MultiplyMany, 16 at a
    /// time). Measured on the SPEC CNN (activation values per sample = conv channels × side² = 12 544): `sharpness --samples`
    /// 1024 → 4096 grew 2.19 MB per sample (21.8 float64 per activation value), --probes 1 instead of 16 saved 0.13 per
    /// direction; part of it is garbage the GC leaves (the slope from 128 to 1024 samples was 1.66 MB).
    /// </summary>
    public const double HessianValuesPerActivation = 21;

    /// <summary>See <see cref="HessianValuesPerActivation"/>: the per-direction share of a batched Hessian-vector product.</summary>
    public const double HessianValuesPerDirection = 0.15;

    /// <summary>Vectors of n float64 per Lanczos step left as garbage by its Hessian-vector product (measured; see <see cref="Sharpness(long, long, string, int, SharpnessEstimateSettings)"/>).</summary>
    public const double LanczosGarbageVectors = 2.5;

    /// <summary>
    /// Recorded forward values of one batch (<see cref="RecordedValues{T}"/>) held at the peak of <see cref="GraphTraining"/>,
    /// live and uncollected: the tape's forward values, the gradients of the backward pass (each dropped once passed on),
    /// the backward rules' temporaries and the large-object garbage of earlier steps. Measured (peak RSS over the other terms,
    /// per batch's values; docs/reliability.md): ResNet-20 float32 1.7 (batch 32 → 128 slope) and 2.4 (batch 512), the
    /// transformer fixture 3.9 (batch 128 → 2048 slope; its layout ops keep int index maps the tape walk does not see).
    /// 3.25 keeps both within the aim (ResNet-20 at 512: estimate 1.3 × peak; transformer at 2048: peak 1.2 × estimate).
    /// </summary>
    public const double GraphTrainingValueCopies = 3.25;

    /// <summary>
    /// Bytes per parameter of the census monitor (<c>train --model --monitor</c>): the census of the float64 training graph,
    /// SiteMonitor's generators and per-entry dictionaries, the float64 snapshots of every step. Measured: ResNet-20
    /// (272 186 parameters, batch 128) peaked 1074 MiB above the same run without --monitor (4.1 KB a parameter); the MLP
    /// fixture 1.4 MiB above (0.06 KB a parameter) — its census is 65 generators of small layers. The ResNet-20 value is kept.
    /// </summary>
    public const double MonitorBytesPerParameter = 4200;

    /// <summary>
    /// Recorded forward values of one batch (float64, <see cref="RecordedValues{T}"/>) held at the peak of <see cref="Curvature"/>:
    /// a Hessian-vector product records the forward pass, the gradient graph (createGraph) and differentiates both again
    /// (about 3 copies live, docs/onnx.md Memory), and every pass records a fresh graph, so the graphs of earlier passes are
    /// garbage until collected — the command collects once the heap has grown by <see cref="CurvatureCollectAbove"/>.
    /// MEASURED: see docs/reliability.md (Memory estimates).
    /// </summary>
    public const double HessianProductValueCopies = 8;

    /// <summary>Heap growth beyond which <c>curvature</c> collects between passes, besides 4 copies of the batch's values (<see cref="CurvatureCollectAbove"/>).</summary>
    public const double CurvatureCollectSlack = 256 * MiB;

    /// <summary>
    /// The heap growth (bytes) past which <c>curvature --model</c> collects garbage between per-batch passes: 4 copies of a
    /// batch's recorded float64 values (the live graph and product, about 3, and one more) and <see cref="CurvatureCollectSlack"/>,
    /// so that small graphs are not collected after every pass.
    /// </summary>
    public static double CurvatureCollectAbove((long PerSample, long Fixed) values, int batchSize)
    {
        CheckValues(values);
        Errors.ThrowIfNotPositive(batchSize, nameof(batchSize));
        return 4 * 8.0 * ((double)batchSize * values.PerSample + values.Fixed) + CurvatureCollectSlack;
    }

    /// <summary>Directions per batched Hessian-vector product (HessianOperator.DefaultBatchSize).</summary>
    public const int HessianBatch = 16;

    /// <summary>
    /// The data set as loaded (Data/Idx.cs, Data/Cifar10.cs): float32 pixels and int labels of the splits kept, plus the
    /// loader's transient buffers for the training split (IDX: the gzip file, a MemoryStream of 4× its size, the
    /// decompressed bytes and their copy, about 4 bytes per pixel; CIFAR-10: the batch files' bytes).
    /// </summary>
    /// <param name="dataset">"fashion-mnist" or "cifar10".</param>
    /// <param name="trainImages">Training images kept (all: 60 000 or 50 000).</param>
    /// <param name="testImages">Test images kept (0 when the test split is not loaded).</param>
    public static MemoryNeed Dataset(string dataset, int trainImages, int testImages)
    {
        var (_, _, pixels, _, _) = Shape(dataset);
        Errors.ThrowIfNotPositive(trainImages, nameof(trainImages));
        if (testImages < 0) throw Errors.OutOfRange(nameof(testImages), testImages, "0 or a positive count");
        double images = (double)trainImages + testImages;
        bool idx = dataset != "cifar10";
        return new MemoryNeed([
            // ImageDataset.Images (float32) and Labels (int) of both splits: Idx.PixelsToUnitInterval / Cifar10.ReadBatches.
            new MemoryTerm(Count($"{images:0} images as float32"), images * (4.0 * pixels + 4)),
            // Idx.ReadDecompressed + ReadImages: gzip bytes, MemoryStream(4 × gzip), ToArray, the copy; Cifar10: File.ReadAllBytes per batch.
            new MemoryTerm("loading buffers", (idx ? 4.0 : 1.0) * trainImages * pixels),
        ]);
    }

    /// <summary>
    /// <see cref="CnnTraining.Run(CnnTrainingSettings, IProgress{CnnTrainingProgress}?, CancellationToken)"/> plus the
    /// writing of the trained weights (the <c>train</c> command; <c>ensemble</c> and <c>attack</c> when they train).
    /// </summary>
    public static MemoryNeed CnnTraining(CnnTrainingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var (trainCount, testCount, pixels, side, inChannels) = Shape(settings.Dataset);
        double pooled = (double)(side / 2) * (side / 2);
        double weights = SpecCnnWeights(inChannels, side, settings.Channels, settings.Hidden, 10);
        // Classifier.Evaluate runs the test split in batches of 1000 (CnnTraining.Run), training in BatchSize.
        double evalBatch = Math.Min(1000, testCount), batch = Math.Min(settings.BatchSize, settings.TrainLimit ?? trainCount);
        var terms = new List<MemoryTerm> { new("runtime", RuntimeBytes) };
        terms.AddRange(ImageData(settings.Dataset, settings.TrainLimit));
        terms.Add(new MemoryTerm(Count($"{TrainingWeightCopies} float32 copies of {weights:0} weights (value, gradient, Adam m/v/scratch, file, uncollected gradients)"),
            TrainingWeightCopies * 4 * weights));
        // Ops.Conv2dMaxPool2d: pooled output + argmax per batch; backward: pooled gradient, input gradient, the scatter.
        // Evaluation: pooled + argmax and the hidden layer for 1000 images. Every batch allocates them anew (large objects).
        double train = batch * (settings.Channels * pooled * (4 + 4 + 4) + settings.Channels * (double)side * side * 4 + 4.0 * pixels + 8.0 * settings.Hidden);
        double eval = evalBatch * (settings.Channels * pooled * (4 + 4) + 4.0 * pixels + 4.0 * settings.Hidden);
        terms.Add(new MemoryTerm(Count($"activations of a batch × {TrainingBatchCopies} (live and uncollected)"), TrainingBatchCopies * Math.Max(train, eval)));
        return new MemoryNeed(terms);
    }

    /// <summary>
    /// An ensemble experiment (<see cref="EnsembleExperiment"/>; also the ensembles of <c>attack</c>) of
    /// <paramref name="members"/> members on a SPEC CNN read from a file, with calibrated members (group, shuffle: the
    /// largest per member).
    /// </summary>
    /// <param name="members">Members N of one ensemble (ensembles of a sweep are built one after another).</param>
    /// <param name="hidden">The model's hidden width h.</param>
    /// <param name="channels">The model's convolution channels.</param>
    /// <param name="classes">Classes C.</param>
    /// <param name="dataset">"fashion-mnist" or "cifar10" (the training split is the calibration pool).</param>
    /// <param name="testImages">Test images evaluated (after --test-limit).</param>
    /// <param name="calibrationBatch">Calibration batch k (default h).</param>
    public static MemoryNeed Ensemble(int members, int hidden, int channels, int classes, string dataset, int testImages, int calibrationBatch)
    {
        Errors.ThrowIfNotPositive(members, nameof(members));
        Errors.ThrowIfNotPositive(hidden, nameof(hidden));
        Errors.ThrowIfNotPositive(channels, nameof(channels));
        Errors.ThrowIfNotPositive(classes, nameof(classes));
        Errors.ThrowIfNotPositive(testImages, nameof(testImages));
        Errors.ThrowIfNotPositive(calibrationBatch, nameof(calibrationBatch));
        var (_, _, pixels, side, inChannels) = Shape(dataset);
        double pooled = (double)(side / 2) * (side / 2);
        double weights = SpecCnnWeights(inChannels, side, channels, hidden, classes);
        // The model (float32), its copy as features and head (HeadedModel.Of) and U as float64 (EnsembleBuilder.Build); the trunk
        // pass per image: the pooled channels and their argmax, and the image.
        return Ensemble(members, hidden, classes, dataset, testImages, calibrationBatch,
            new MemoryTerm(Count($"model of {weights:0} weights and its copies"), 3 * 4 * weights), channels * pooled * 8 + 4.0 * pixels);
    }

    /// <summary>
    /// The same for an imported graph's ensembles (<c>ensemble</c>/<c>attack --model</c>): <paramref name="parameters"/> float32
    /// parameters (held by the graph and, for the head, copied), and a features pass that holds at most
    /// <paramref name="values"/> (<see cref="RecordedValues{T}"/> of the float32 graph) per image and in all.
    /// </summary>
    public static MemoryNeed EnsembleOnGraph(int members, int hidden, int classes, string dataset, int testImages, int calibrationBatch,
        long parameters, (long PerSample, long Fixed) values)
    {
        Errors.ThrowIfNotPositive(members, nameof(members));
        Errors.ThrowIfNotPositive(hidden, nameof(hidden));
        Errors.ThrowIfNotPositive(classes, nameof(classes));
        Errors.ThrowIfNotPositive(testImages, nameof(testImages));
        Errors.ThrowIfNotPositive(calibrationBatch, nameof(calibrationBatch));
        var need = Ensemble(members, hidden, classes, dataset, testImages, calibrationBatch,
            new MemoryTerm(Count($"model of {parameters:0} parameters and its copies"), 2 * 4.0 * parameters), 4.0 * values.PerSample);
        return new MemoryNeed([.. need.Terms, new MemoryTerm("the features pass's fixed values", 4.0 * values.Fixed)]);
    }

    private static MemoryNeed Ensemble(int members, int hidden, int classes, string dataset, int testImages, int calibrationBatch, MemoryTerm model,
        double trunkBytesPerImage)
    {
        var (trainCount, testCount, pixels, _, _) = Shape(dataset);
        double h = hidden, c = classes, b = testImages, k = calibrationBatch;
        var terms = new List<MemoryTerm> { new("runtime", RuntimeBytes) };
        terms.AddRange(Dataset(dataset, trainCount, testCount).Terms);
        terms.Add(model);
        // EnsembleExperiment.HiddenPreActivations: [test, h] float32; the trunk pass of a batch of up to 1000 images.
        terms.Add(new MemoryTerm("test hidden layer and trunk pass", b * h * 4 + 2 * Math.Min(b, 1000) * trunkBytesPerImage));
        // EnsembleMember: A (h×h) and its output weight (C×h) as float64, k calibration indices (EnsembleBuilder.Calibrated).
        double member = 8 * (h * h + c * h) + 4 * k + 200;
        // EnsembleHeads chunk of 8: transforms h×h, the block diagonal [8h, 8C] (8 × C×h per member), bias and averaging, float32.
        double heads = 4 * (h * h + 8 * h * c + c + 8 * c * c);
        // EnsembleExperiment.Evaluate: member logits [B, N, C] float32 and member predictions int[B, N].
        double evaluation = b * (4 * c + 4);
        double live = member + heads + evaluation;
        terms.Add(new MemoryTerm(Count($"{members} members × {live / 1024:F1} KB (matrices {member / 1024:F1}, heads {heads / 1024:F1}, logits of {b} images {evaluation / 1024:F1})"), members * live));
        // Per member: DrawDistinct's int[training images], the k calibration images (float32), H₀, σ(gH₀), its pseudo-inverse and
        // π (h×k float64, Calibrated / Pi); on the test rows, float32: H Aᵀ and σ of it ([B, h] each), the logits before and after
        // the bias and their copy out of the chunk ([B, C] each; EnsembleHeads.ChunkLogits, MemberLogits).
        double temporaries = 4.0 * trainCount + k * pixels * 4 + 4 * 8 * h * k + b * 4 * (2 * h + 3 * c);
        terms.Add(new MemoryTerm(Count($"uncollected garbage: {EnsembleGarbageShare * 100:F0}% of {members} × {temporaries / 1024:F0} KB of per-member temporaries"),
            EnsembleGarbageShare * members * temporaries));
        return new MemoryNeed(terms);
    }

    /// <summary>
    /// <see cref="SharpnessEstimate"/> of a SPEC CNN on a batch of training images (the <c>sharpness --weights</c> command):
    /// the float64 Hessian graph of the batch, the Lanczos bases, Hutchinson's batched products.
    /// </summary>
    /// <param name="parameters">Parameters n of the Hessian's scope (the model's).</param>
    /// <param name="activationsPerSample">Activation values of one sample's forward pass (SPEC CNN: channels × side², the convolution's output).</param>
    /// <param name="dataset">"fashion-mnist" or "cifar10" (its training split is loaded).</param>
    /// <param name="samples">Images in the batch.</param>
    /// <param name="settings">Top k, probes, density probes and steps.</param>
    public static MemoryNeed Sharpness(long parameters, long activationsPerSample, string dataset, int samples, SharpnessEstimateSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        return Sharpness(parameters, dataset, samples, settings, Hessian(parameters, activationsPerSample, samples, settings.TraceProbes > 0 ? Math.Min(HessianBatch, settings.TraceProbes) : 1));
    }

    /// <summary>
    /// <see cref="SharpnessEstimate"/> of an imported graph on a batch of training images (<c>sharpness --model</c>): as for the
    /// SPEC CNN, with the Hessian graph sized by the graph's recorded values (<see cref="RecordedValues{T}"/>, float64,
    /// inference-mode BatchNorm) as curvature sizes it: <see cref="HessianProductValueCopies"/> × the batch's values, plus the
    /// per-direction share of a batched product and the model (ONNX bytes and values, float64 copy and gradients).
    /// </summary>
    /// <param name="parameters">The graph's parameters n.</param>
    /// <param name="values">Its recorded values per sample and fixed.</param>
    /// <param name="dataset">"fashion-mnist" or "cifar10" (its training split is loaded).</param>
    /// <param name="samples">Images in the batch.</param>
    /// <param name="settings">Top k, probes, density probes and steps.</param>
    public static MemoryNeed Sharpness(long parameters, (long PerSample, long Fixed) values, string dataset, int samples, SharpnessEstimateSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (parameters < 1) throw Errors.OutOfRange(nameof(parameters), parameters, "a positive count");
        CheckValues(values);
        Errors.ThrowIfNotPositive(samples, nameof(samples));
        int directions = settings.TraceProbes > 0 ? Math.Min(HessianBatch, settings.TraceProbes) : 1;
        double batchValues = 8.0 * ((double)samples * values.PerSample + values.Fixed);
        return Sharpness(parameters, dataset, samples, settings, [
            new MemoryTerm(Count($"Hessian graph: {HessianProductValueCopies} × {values.PerSample} float64 values per image × {samples} images"), HessianProductValueCopies * batchValues),
            new MemoryTerm(Count($"batched products of {directions} directions"), HessianValuesPerDirection * directions * batchValues),
            new MemoryTerm(Count($"model of {parameters} parameters (ONNX, float64 copy and gradients)"), (12.0 + 6 * 8) * parameters),
        ]);
    }

    // The runtime, the data set and the batch, the Hessian's terms, the Lanczos bases and Hutchinson's probes.
    private static MemoryNeed Sharpness(long parameters, string dataset, int samples, SharpnessEstimateSettings settings, IEnumerable<MemoryTerm> hessian)
    {
        var (trainCount, _, pixels, _, _) = Shape(dataset);
        var terms = new List<MemoryTerm> { new("runtime", RuntimeBytes) };
        terms.AddRange(Dataset(dataset, trainCount, 0).Terms);
        // SharpnessWeights.Load: the batch as a float32 subset and as float64.
        terms.Add(new MemoryTerm(Count($"the {samples}-image batch"), samples * pixels * (4.0 + 8)));
        terms.AddRange(hessian);
        // Lanczos.Eigenvalues: a basis of min(n, max(100, 10k)) vectors (Lanczos.State); SLQ: Lanczos.Tridiagonalize per probe
        // holds the State basis and its copy. Every step's product allocates 3 vectors (HessianOperator.Multiply: the direction's
        // parts, the pooled result's copy, the result), mostly left uncollected: --top-k 100 (1000 steps) peaked 3.0 bases above
        // --top-k 1, --density-steps 400 3.6 bases; 2.5 keeps --top-k 20 (converged before filling its basis) within 2× its peak.
        double n = parameters;
        double top = settings.TopK > 0 ? Math.Min(n, Math.Max(Math.Max(100, 10.0 * settings.TopK), settings.LanczosIterations)) : 0;
        double density = settings.DensityProbes > 0 ? Math.Min(settings.DensitySteps, n) : 0;
        double vectors = Math.Max((1 + LanczosGarbageVectors) * top, (2 + LanczosGarbageVectors) * density);
        terms.Add(new MemoryTerm(Count($"Lanczos: {Math.Max(top, density):0} steps × {1 + LanczosGarbageVectors:0.#}–{2 + LanczosGarbageVectors:0.#} vectors of {n:0} float64"),
            8 * vectors * n + 8 * 3 * Math.Max(top, density) * Math.Max(top, density)));
        // Hutchinson.Trace: probes z and products Az of a batch (16 × n float64 each), and one value per probe.
        terms.Add(new MemoryTerm("Hutchinson probes", settings.TraceProbes > 0 ? 2 * 8 * n * Math.Min(HessianBatch, settings.TraceProbes) + 8.0 * settings.TraceProbes : 0));
        return new MemoryNeed(terms);
    }

    /// <summary>
    /// The Hessian part of <c>analyze</c> (top eigenvalue by Lanczos, Hutchinson's trace) on a float64 model.
    /// </summary>
    /// <param name="parameters">The model's parameters n.</param>
    /// <param name="activationsPerSample">Activation values of one sample's forward pass (MLP: the sum of its layer widths).</param>
    /// <param name="dataset">"fashion-mnist" or "cifar10" (its training split is loaded).</param>
    /// <param name="samples">Images in the batch.</param>
    /// <param name="traceProbes">Hutchinson probes.</param>
    /// <param name="lanczosIterations">Lanczos step limit (0: automatic, min(n, 100)).</param>
    public static MemoryNeed Analyze(long parameters, long activationsPerSample, string dataset, int samples, int traceProbes, int lanczosIterations) =>
        Sharpness(parameters, activationsPerSample, dataset, samples,
            new SharpnessEstimateSettings(TopK: 1, LanczosIterations: lanczosIterations, TraceProbes: traceProbes, DensityProbes: 0));

    /// <summary>
    /// <c>curvature --model</c> (<see cref="CurvatureExperiment"/>): the Hessian of an ONNX graph (float64, BatchNorm in inference
    /// mode) over <paramref name="images"/> Fashion-MNIST training images in batches of <paramref name="batchSize"/>. Every
    /// Hessian-vector product records a fresh graph of one batch (MinibatchHessian); the graphs dominate, counted as
    /// <see cref="HessianProductValueCopies"/> × the batch's recorded forward values.
    /// </summary>
    /// <param name="parameters">Parameters in the Hessian's scope (the Lanczos and probe vectors' length).</param>
    /// <param name="values">The float64 graph's recorded values (<see cref="RecordedValues{T}"/>, inference-mode BatchNorm).</param>
    /// <param name="modelParameters">All parameters of the model (its float64 copy and the ONNX model's).</param>
    /// <param name="images">Images (--images).</param>
    /// <param name="batchSize">Images per batch.</param>
    /// <param name="topK">Top eigenvalues (Lanczos basis max(2k + 10, 20) + 1 and k Ritz vectors).</param>
    public static MemoryNeed Curvature(long parameters, (long PerSample, long Fixed) values, long modelParameters, int images, int batchSize, int topK)
    {
        if (parameters < 1) throw Errors.OutOfRange(nameof(parameters), parameters, "a positive count");
        if (modelParameters < parameters) throw Errors.OutOfRange(nameof(modelParameters), modelParameters, $"at least the {parameters} parameters of the Hessian's scope");
        CheckValues(values);
        Errors.ThrowIfNotPositive(images, nameof(images));
        Errors.ThrowIfNotPositive(batchSize, nameof(batchSize));
        Errors.ThrowIfNotPositive(topK, nameof(topK));
        var (trainCount, _, pixels, _, _) = Shape("fashion-mnist");
        var terms = new List<MemoryTerm> { new("runtime", RuntimeBytes) };
        terms.AddRange(Dataset("fashion-mnist", trainCount, 0).Terms);
        // CurvatureCommand: every batch gathered as float64.
        terms.Add(new MemoryTerm(Count($"{images} images as float64"), 8.0 * images * pixels));
        // The estimators' vectors: Lanczos basis (max(2k + 10, 20) + 1), Hutchinson's 16 probes and their products, the gradient and
        // three work vectors, k Ritz vectors.
        double vectors = Math.Max(2.0 * topK + 10, 20) + 1 + 32 + 4 + topK;
        terms.Add(new MemoryTerm(Count($"{vectors:0} vectors of {parameters} float64"), 8 * vectors * parameters));
        // OnnxModel (raw bytes and HostTensor doubles, 12 bytes a value) and the float64 graph's parameters.
        terms.Add(new MemoryTerm(Count($"model of {modelParameters} parameters"), (12.0 + 8) * modelParameters));
        double batch = Math.Min(batchSize, images);
        terms.Add(new MemoryTerm(Count($"Hessian-vector products: {HessianProductValueCopies} × {values.PerSample} float64 values per image × {batch:0} images (live and uncollected)"),
            HessianProductValueCopies * 8.0 * (batch * values.PerSample + values.Fixed)));
        // The garbage the command lets grow before collecting between passes besides the graphs (CurvatureCollectAbove).
        terms.Add(new MemoryTerm("garbage collected between passes", CurvatureCollectSlack));
        return new MemoryNeed(terms);
    }

    /// <summary>
    /// <c>train --model</c> (<see cref="ImportedModelTraining"/>, <see cref="GraphTraining"/>): an ONNX graph trained in float32
    /// (or float64) with one of PyTorch's optimisers, optionally followed by the census monitor, then written as .onnx and
    /// .safetensors. The recorded values of a batch dominate (<see cref="GraphTrainingValueCopies"/> × the batch's forward values).
    /// </summary>
    /// <param name="settings">Optimiser and batch size.</param>
    /// <param name="parameters">Trainable parameters of the model.</param>
    /// <param name="values">The training graph's recorded values (<see cref="RecordedValues{T}"/>, batch-statistics BatchNorm).</param>
    /// <param name="float64">Trained in float64 (else float32).</param>
    /// <param name="monitor">The census monitor follows every step.</param>
    /// <param name="trainSamples">Training samples (a batch holds at most these).</param>
    /// <param name="data">The data as loaded (<see cref="Dataset"/> or <see cref="TensorData"/>).</param>
    public static MemoryNeed GraphTraining(GraphTrainingSettings settings, long parameters, (long PerSample, long Fixed) values, bool float64, bool monitor,
        int trainSamples, IEnumerable<MemoryTerm> data)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(data);
        settings.Validate();
        if (parameters < 0) throw Errors.OutOfRange(nameof(parameters), parameters, "a count ≥ 0");
        CheckValues(values);
        Errors.ThrowIfNotPositive(trainSamples, nameof(trainSamples));
        double size = float64 ? 8 : 4, batch = Math.Min(settings.BatchSize, trainSamples);
        string type = float64 ? "float64" : "float32";
        var terms = new List<MemoryTerm> { new("runtime", RuntimeBytes) };
        terms.AddRange(data);
        // Optimiser state per parameter (Nn/Optimizers.cs): SGD's momentum buffer, AdaGrad's sum, RMSprop's mean square (+ momentum),
        // Adam's and AdamW's two moments.
        int state = settings.Optimizer switch
        {
            "sgd" => settings.Momentum > 0 ? 1 : 0,
            "adagrad" => 1,
            "rmsprop" => settings.Momentum > 0 ? 2 : 1,
            _ => 2,
        };
        // OnnxModel: raw bytes and HostTensor doubles (12 bytes a value); the graph's values, a step's gradient, the optimiser's
        // state; writing the model: the state's copy and the serialised bytes (.onnx, .safetensors).
        terms.Add(new MemoryTerm(Count($"model of {parameters} parameters: ONNX, {type} values, gradient, {settings.Optimizer} state, files"),
            parameters * (12.0 + size * (2 + state + 2))));
        // ImportedModelTraining.MonitorSites: SymmetryCensus of the float64 training graph; GraphTrainer.TrainStep: SiteMonitor's
        // dictionaries and the float64 snapshots of every step (measured, MonitorBytesPerParameter).
        if (monitor) terms.Add(new MemoryTerm(Count($"census monitor: {MonitorBytesPerParameter / 1000:0.#} KB per parameter × {parameters}"), MonitorBytesPerParameter * parameters));
        terms.Add(new MemoryTerm(Count($"recorded values: {GraphTrainingValueCopies} × {values.PerSample} {type} values per sample × {batch:0} samples (live and uncollected)"),
            GraphTrainingValueCopies * size * (batch * values.PerSample + values.Fixed)));
        return new MemoryNeed(terms);
    }

    /// <summary>
    /// Float64 copies of a check batch's recorded values at the peak of <see cref="Census(long, ValueTuple{long, long}, int, long, IReadOnlyList{int}?, int, int)"/> (the loss and gradient graphs
    /// at θ and at the moved θ, what fused ops keep beside their recorded values, and garbage). Measured peaks (`symmetries
    /// --model --batch`, Release, scripts/measure-memory-estimates.sh, load ≈ 3): ResNet-20 951 MiB at batch 64 and 3580 MiB
    /// at 256 (slope 4.8 copies of its 375 k counted values per sample), the transformer 190 and 449 MiB at 8 and 256 (2.4
    /// copies of 58 004).
    /// </summary>
    public const double CensusValueCopies = 5;

    /// <summary>
    /// What <see cref="Census(long, ValueTuple{long, long}, int, long, IReadOnlyList{int}?, int, int)"/> holds beside the batch, the model and the runtime: the census's sites and tangents and the
    /// verification's work. The intercepts of the measured peaks above less runtime and model: at most about 80 MiB.
    /// </summary>
    public const double CensusWorkingBytes = 128 * MiB;

    /// <summary>
    /// Discovery's per-input gradients (every class's gradient over the parameters the sites touch, raw and centred, and the
    /// tapes that made them) left uncollected at its peak, beside the rows its upper bound counts: measured on the MLP fixture,
    /// `symmetries --discover` peaked 1434 MiB against 632 MiB for everything else (the transformer's peak, 695 MiB, stays far
    /// below its estimate).
    /// </summary>
    public const double DiscoveryGarbageBytes = 1024 * MiB;

    /// <summary>
    /// <c>symmetries --model</c> (<see cref="SymmetryCensus"/>, <see cref="CensusVerification"/>, optionally
    /// <see cref="CensusDiscovery"/>): the float64 model, the check batch, its gradient passes (<see cref="CensusValueCopies"/> copies of
    /// the batch's recorded values), <see cref="CensusWorkingBytes"/> and, with discovery, an UPPER BOUND on its
    /// constraint rows: every checked site may escalate to <paramref name="maxSamples"/> inputs × the classes rows of its
    /// family's length, all held until the sites' SVDs (CensusDiscovery.Run keeps every active site's rows), plus two copies
    /// of the largest for its SVD (FromRows and the decomposition's own). Real runs stop earlier (a site starts at unknowns +
    /// 64 rows, and a family above CensusDiscovery's direct limit of 2500 unknowns holds its Gram matrix, unknowns², instead
    /// of its rows), so this term over-estimates; it keeps a huge --discover-max-unknowns from running out of memory.
    /// </summary>
    /// <param name="parameters">Parameters of the model.</param>
    /// <param name="values">The float64 graph's recorded values (<see cref="RecordedValues{T}"/>, the census's BatchNorm mode).</param>
    /// <param name="batch">The check batch (--batch).</param>
    /// <param name="samplePixels">Values of one input sample.</param>
    /// <param name="familySizes">With discovery, <see cref="CensusDiscovery.CheckedFamilySizes"/>; null without.</param>
    /// <param name="classes">Logits per sample (constraint rows per discovery input).</param>
    /// <param name="maxSamples">Discovery's largest input count (<see cref="DiscoveryOptions.MaxSamples"/>).</param>
    public static MemoryNeed Census(long parameters, (long PerSample, long Fixed) values, int batch, long samplePixels,
        IReadOnlyList<int>? familySizes, int classes, int maxSamples)
    {
        if (parameters < 0) throw Errors.OutOfRange(nameof(parameters), parameters, "a count ≥ 0");
        CheckValues(values);
        Errors.ThrowIfNotPositive(batch, nameof(batch));
        if (samplePixels < 1) throw Errors.OutOfRange(nameof(samplePixels), samplePixels, "a positive count");
        Errors.ThrowIfNotPositive(classes, nameof(classes));
        Errors.ThrowIfNotPositive(maxSamples, nameof(maxSamples));
        var terms = new List<MemoryTerm>
        {
            new("runtime", RuntimeBytes),
            // OnnxModel (raw bytes and HostTensor doubles), the float64 graph, its ε = 0 copy for approximate sites, the
            // verification's moved copy and gradient.
            new(Count($"model of {parameters} parameters (ONNX, float64 graph, copies, gradient)"), parameters * (12.0 + 8 * 4)),
            new(Count($"check batch: {batch} samples of {samplePixels} float64 values"), 8.0 * batch * samplePixels),
            new(Count($"recorded values: {CensusValueCopies} × {values.PerSample} float64 values per sample × {batch} samples"),
                CensusValueCopies * 8 * ((double)batch * values.PerSample + values.Fixed)),
            new("census, verification and uncollected garbage", CensusWorkingBytes),
        };
        if (familySizes is { Count: > 0 })
        {
            double rows = (double)maxSamples * classes;
            terms.Add(new MemoryTerm(Count($"discovery (upper bound): {familySizes.Count} sites × ≤ {rows:0} constraint rows of up to {familySizes.Max()} unknowns, and the largest's SVD copies"),
                8 * rows * (familySizes.Sum(u => (double)u) + 2.0 * familySizes.Max())));
            terms.Add(new MemoryTerm("discovery's per-input gradients, uncollected", DiscoveryGarbageBytes));
        }
        return new MemoryNeed(terms);
    }

    /// <summary>
    /// <see cref="Census(long, ValueTuple{long, long}, int, long, IReadOnlyList{int}?, int, int)"/> for a model as
    /// <c>symmetries --model</c> runs it: its recorded values, sample size, classes and, with <paramref name="discovery"/>, the
    /// families that will be checked. Null when a dimension of the input other than the batch is dynamic (the batch then
    /// comes from the user's file, which bounds it).
    /// </summary>
    /// <exception cref="ArgumentException">The graph has not exactly one input.</exception>
    public static MemoryNeed? Census(Graph<double> graph, SymmetryCensus census, int batch, DiscoveryOptions? discovery)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(census);
        if (graph.Inputs.Count != 1) throw Errors.Argument(nameof(graph), $"memory estimate: the model has {graph.Inputs.Count} inputs, expected one");
        if (graph.Inputs[0].Shape.Skip(1).Any(d => d is null)) return null;
        int[] sample = graph.Inputs[0].Shape.Skip(1).Select(d => d!.Value).ToArray();
        int classes = graph.Evaluate(Tensor<double>.Zeros([1, .. sample]))[0] is { Rank: 2 } logits ? logits.Dim(1) : 1;
        var sizes = discovery is null ? null : CensusDiscovery.CheckedFamilySizes(graph, census, discovery);
        return Census(graph.Parameters.Sum(p => (long)p.Length), RecordedValues(graph, sample), batch, sample.Aggregate(1L, (a, d) => a * d),
            sizes, classes, (discovery ?? new DiscoveryOptions()).MaxSamples);
    }

    /// <summary>
    /// <c>model show --batch</c>: one float32 forward pass of an imported model on a zero batch, not recorded. Its values at
    /// the batch are bounded by what a recorded pass holds (<see cref="RecordedValues{T}"/>: an unrecorded pass lets the
    /// collector take each value once its consumers have run), plus the runtime and the model (ONNX bytes and values).
    /// </summary>
    /// <param name="parameters">Parameters of the model.</param>
    /// <param name="values">The float32 graph's recorded values.</param>
    /// <param name="batch">The batch (--batch).</param>
    public static MemoryNeed GraphForward(long parameters, (long PerSample, long Fixed) values, int batch)
    {
        if (parameters < 0) throw Errors.OutOfRange(nameof(parameters), parameters, "a count ≥ 0");
        CheckValues(values);
        Errors.ThrowIfNotPositive(batch, nameof(batch));
        return new MemoryNeed([
            new MemoryTerm("runtime", RuntimeBytes),
            new MemoryTerm(Count($"model of {parameters} parameters (ONNX, float32 values)"), parameters * (12.0 + 4)),
            new MemoryTerm(Count($"forward values: at most {values.PerSample} float32 values per sample × {batch} samples"), 4 * ((double)batch * values.PerSample + values.Fixed)),
        ]);
    }

    /// <summary>
    /// Recorded forward values (float64) of one loss evaluation held at the peak of <see cref="GraphLoss"/>: the live pass and
    /// one earlier pass not yet collected. Assumed, not measured (the loss passes of <c>valley --model</c> hold no gradient
    /// graph; a Hessian-vector product, which does, holds <see cref="HessianProductValueCopies"/>).
    /// </summary>
    public const double LossValueCopies = 2;

    /// <summary>
    /// Losses of an imported graph (float64, recorded forward passes, one after another) on <paramref name="samples"/> images of
    /// <paramref name="dataset"/>'s test split, as <c>valley --model</c> evaluates them: the runtime, the data set, the batch,
    /// the model and <see cref="LossValueCopies"/> × a pass's recorded values.
    /// </summary>
    /// <param name="parameters">The graph's parameters.</param>
    /// <param name="values">Its recorded values per sample and fixed (<see cref="RecordedValues{T}"/>).</param>
    /// <param name="dataset">"fashion-mnist" or "cifar10".</param>
    /// <param name="samples">Images in the batch.</param>
    public static MemoryNeed GraphLoss(long parameters, (long PerSample, long Fixed) values, string dataset, int samples)
    {
        if (parameters < 1) throw Errors.OutOfRange(nameof(parameters), parameters, "a positive count");
        CheckValues(values);
        Errors.ThrowIfNotPositive(samples, nameof(samples));
        var (_, testCount, pixels, _, _) = Shape(dataset);
        var terms = new List<MemoryTerm> { new("runtime", RuntimeBytes) };
        terms.AddRange(Dataset(dataset, testCount, 0).Terms); // the one split loaded (its loading buffers too)
        terms.Add(new MemoryTerm(Count($"the {samples}-image batch"), samples * pixels * (4.0 + 8)));
        terms.Add(new MemoryTerm(Count($"model of {parameters} parameters (ONNX, float64 copies)"), (12.0 + 4 * 8) * parameters));
        terms.Add(new MemoryTerm(Count($"loss passes: {LossValueCopies} × {values.PerSample} float64 values per image × {samples} images"),
            LossValueCopies * 8.0 * ((double)samples * values.PerSample + values.Fixed)));
        return new MemoryNeed(terms);
    }

    /// <summary>
    /// A built-in data set as <c>train --model</c> loads it (ImportedModelData.Load): both splits (<see cref="Dataset"/>) and,
    /// with <paramref name="trainLimit"/> below the training split, the subset's copy (ImageDataset.Subset).
    /// </summary>
    public static IEnumerable<MemoryTerm> ImageData(string dataset, int? trainLimit)
    {
        var (trainCount, testCount, pixels, _, _) = Shape(dataset);
        var terms = Dataset(dataset, trainCount, testCount).Terms.ToList();
        if (trainLimit is { } limit && limit < trainCount)
        {
            Errors.ThrowIfNotPositive(limit, nameof(trainLimit));
            terms.Add(new MemoryTerm("training subset copy", limit * (4.0 * pixels + 4)));
        }
        return terms;
    }

    /// <summary>
    /// A user's own tensors as loaded (TensorFileDataset.Load): <paramref name="samples"/> float32 samples of
    /// <paramref name="sampleValues"/> values kept (ImageDataset), and the loading's float64 copies (the file's tensor, its
    /// conversion and the values array, 24 bytes a value) and the held-out split's copy, left as garbage.
    /// </summary>
    public static IEnumerable<MemoryTerm> TensorData(long samples, long sampleValues)
    {
        if (samples < 1) throw Errors.OutOfRange(nameof(samples), samples, "a positive count");
        if (sampleValues < 1) throw Errors.OutOfRange(nameof(sampleValues), sampleValues, "a positive count");
        double values = (double)samples * sampleValues;
        return [
            new MemoryTerm(Count($"{samples} samples as float32"), values * 4 + samples * 4.0),
            new MemoryTerm("loading buffers", values * (24 + 4)),
        ];
    }

    /// <summary>
    /// Values (elements) that a recorded forward pass of <paramref name="graph"/> holds, split into a part per sample and a
    /// fixed part: every distinct buffer reachable on the tape from the graph's outputs — the input, every recorded op's
    /// result (a reshape shares its input's buffer and counts once), the bound parameters and the constants the ops use.
    /// Counted on a pass at batch 1 and one at batch 2 (zero inputs [b, …<paramref name="sampleShape"/>]): the difference
    /// is the per-sample part (a model with a fixed batch dimension runs that batch only, everything counted per sample). It
    /// is what a training step's tape holds when the backward pass starts and what a
    /// Hessian-vector product records before differentiating; the graph's options (BatchNorm mode) decide which ops run.
    /// </summary>
    /// <exception cref="ArgumentException">The graph has not exactly one input.</exception>
    public static (long PerSample, long Fixed) RecordedValues<T>(Graph<T> graph, int[] sampleShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(sampleShape);
        if (graph.Inputs.Count != 1) throw Errors.Argument(nameof(graph), $"memory estimate: the model has {graph.Inputs.Count} inputs, expected one");
        // A model whose batch dimension is fixed runs only that batch: all its values are counted per sample.
        if (graph.Inputs[0].Shape is [int fixedBatch, ..])
            return ((Held(fixedBatch) + fixedBatch - 1) / fixedBatch, 0);
        long one = Held(1), two = Held(2);
        long perSample = Math.Max(0, two - one);
        return (perSample, Math.Max(0, one - perSample));

        long Held(int batch)
        {
            var tape = new Tape<T>();
            int[] shape = [batch, .. sampleShape];
            var run = graph.Run(tape, [tape.Constant(Tensor<T>.Zeros(shape))]);
            var buffers = new HashSet<T[]>(ReferenceEqualityComparer.Instance);
            var visited = new HashSet<Variable<T>>(ReferenceEqualityComparer.Instance);
            var pending = new Stack<Variable<T>>(run.Outputs.Where(o => o.Variable is not null).Select(o => o.Variable!));
            long total = 0;
            while (pending.TryPop(out var v))
            {
                if (!visited.Add(v)) continue;
                if (buffers.Add(v.Value.Data)) total += v.Value.Data.Length;
                if (v.Parents is { } parents) foreach (var p in parents) pending.Push(p);
            }
            return total;
        }
    }

    private static void CheckValues((long PerSample, long Fixed) values)
    {
        if (values.PerSample < 1) throw Errors.OutOfRange(nameof(values), values.PerSample, "a positive count of values per sample");
        if (values.Fixed < 0) throw Errors.OutOfRange(nameof(values), values.Fixed, "a count of fixed values ≥ 0");
    }

    /// <summary><see cref="XavierExperiment"/>: 8 bytes per draw and the rows of xavier-draws.csv held until written (the existing check, unchanged; +1.2% measured).</summary>
    /// <param name="draws">Draws per sample.</param>
    /// <param name="samples">Shapes plus activations.</param>
    /// <param name="rowBytes">Bytes of one CSV row held until written.</param>
    public static MemoryNeed Xavier(long draws, int samples, int rowBytes)
    {
        Errors.ThrowIfNotPositive(samples, nameof(samples));
        if (draws < 1) throw Errors.OutOfRange(nameof(draws), draws, "a positive count");
        return new MemoryNeed([
            new MemoryTerm("runtime", RuntimeBytes),
            new MemoryTerm(Count($"{samples} samples × {draws} draws, 8 bytes and a {rowBytes}-byte CSV row each"), (double)draws * samples * (8 + rowBytes)),
        ]);
    }

    /// <summary><see cref="DiscoverExperiment"/>: the samples × 2h² constraint matrix and its full SVD (U is samples × samples) for the widest h (+7.7% measured).</summary>
    public static MemoryNeed Discover(int samples, int widestHidden)
    {
        Errors.ThrowIfNotPositive(samples, nameof(samples));
        Errors.ThrowIfNotPositive(widestHidden, nameof(widestHidden));
        double unknowns = 2.0 * widestHidden * widestHidden, s = samples;
        return new MemoryNeed([
            new MemoryTerm("runtime", RuntimeBytes),
            new MemoryTerm(Count($"the {samples} × {unknowns} constraint matrix and its SVD"), 8 * (s * s + 2 * s * unknowns + unknowns * unknowns)),
        ]);
    }

    /// <summary>The recorded Hessian graph over the batch and one batched product of <paramref name="directions"/> directions.</summary>
    private static MemoryTerm[] Hessian(long parameters, long activationsPerSample, int samples, int directions)
    {
        if (parameters < 1) throw Errors.OutOfRange(nameof(parameters), parameters, "a positive count");
        if (activationsPerSample < 1) throw Errors.OutOfRange(nameof(activationsPerSample), activationsPerSample, "a positive count");
        Errors.ThrowIfNotPositive(samples, nameof(samples));
        double perSample = 8.0 * activationsPerSample;
        return [
            // HessianOperator: the gradient graph recorded once (createGraph) and a product's pooled temporaries.
            new MemoryTerm(Count($"Hessian graph of {samples} samples"), HessianValuesPerActivation * perSample * samples),
            // HessianOperator.MultiplyMany → Tape.BatchedGradient: [directions, …] for every node of the graph.
            new MemoryTerm(Count($"batched products of {directions} directions"), HessianValuesPerDirection * directions * perSample * samples),
            // The model as float64 and the gradient, the point's leaves and a product's result (HessianOperator).
            new MemoryTerm("float64 model and gradients", 6 * 8.0 * parameters),
        ];
    }

    /// <summary>Weights of the SPEC CNN (Nn/Models.cs): conv 3×3, hidden linear on the pooled maps, output linear, with biases.</summary>
    private static double SpecCnnWeights(int inChannels, int side, int channels, int hidden, int classes) =>
        inChannels * 9.0 * channels + channels + (double)channels * (side / 2) * (side / 2) * hidden + hidden + (double)classes * hidden + classes;

    /// <summary>(training images, test images, pixel values per image, side, channels) of a data set.</summary>
    private static (int Train, int Test, int Pixels, int Side, int Channels) Shape(string dataset) => dataset switch
    {
        "fashion-mnist" => (60_000, 10_000, 28 * 28, 28, 1),
        "cifar10" => (50_000, 10_000, 3 * 32 * 32, 32, 3),
        _ => throw Errors.Argument(nameof(dataset), $"dataset '{dataset}' is not known: expected fashion-mnist or cifar10"),
    };

    private static string Count(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
