using Noether.Autodiff;
using Noether.Graphs;
using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>
/// Issue 13, a breakdown of the training-step row: one ResNet-20 layer at one stage — a convolution (3×3 with padding 1
/// or 1×1 without, stride 1 or 2, no bias) or BatchNorm with batch statistics followed by ReLU — forward and backward (the
/// gradients of the input and the parameters for a fixed output gradient), float32, batch 128, on the tape exactly as
/// <see cref="Experiments.GraphTrainer{T}.TrainStep"/> runs it (the convolution by <see cref="Ops.Conv2d{T}"/>, BatchNorm + ReLU by
/// the fused <c>ChannelOps.NormalizeBatch</c>). The twin (bench/compare/resnet_layer.py): torch.nn.functional.conv2d,
/// or relu(batch_norm(training=True)), with autograd, NCHW or channels-last, whichever is faster. Reported per layer;
/// the check: the weight gradient (convolution) or the input gradient (BatchNorm + ReLU) against PyTorch's.
/// </summary>
internal sealed class ResNetLayer : IWorkload
{
    private const int Batch = 128;
    private readonly bool conv;
    private readonly int channels, outputs, size, kernel, stride;

    /// <summary>BatchNorm + ReLU over <paramref name="channels"/> planes of <paramref name="size"/>².</summary>
    public static ResNetLayer BatchNormRelu(int channels, int size) => new(false, channels, channels, size, 0, 1);

    /// <summary>A <paramref name="kernel"/>×<paramref name="kernel"/> convolution (padding kernel div 2) from <paramref name="channels"/> to <paramref name="outputs"/> channels.</summary>
    public static ResNetLayer Convolution(int channels, int outputs, int size, int kernel = 3, int stride = 1) => new(true, channels, outputs, size, kernel, stride);

    private ResNetLayer(bool conv, int channels, int outputs, int size, int kernel, int stride)
    {
        this.conv = conv;
        this.channels = channels;
        this.outputs = outputs;
        this.size = size;
        this.kernel = kernel;
        this.stride = stride;
    }

    private int OutSize => (size + 2 * (kernel / 2) - kernel) / stride + 1;

    private float[] _x = [], _w = [], _seed = [];
    private Tensor<float> _result = null!;

    /// <inheritdoc/>
    public string Name => conv
        ? $"resnet20-conv{kernel}x{kernel}{(stride == 1 ? "" : $"s{stride}")}-c{channels}{(outputs == channels ? "" : $"-{outputs}")}-h{size}"
        : $"resnet20-bn-relu-c{channels}-h{size}";

    /// <inheritdoc/>
    public string Item => "issue 13";

    /// <inheritdoc/>
    public string Description => $"{(conv ? $"{kernel}×{kernel} convolution, stride {stride}, {channels} → {outputs} channels" : $"BatchNorm (batch statistics) + ReLU, {channels} channels")}, {size}×{size} input, batch {Batch}, float32: forward + backward, ms per layer";

    /// <inheritdoc/>
    public double? Target => null;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <summary>Layers per timed run: enough that a run lasts well above the timer's resolution.</summary>
    public int Repetitions => 10;

    /// <inheritdoc/>
    public PythonTwin? Python => new("resnet_layer.py", Name, ["--reps", Repetitions.ToString(System.Globalization.CultureInfo.InvariantCulture)], NeedsInputs: true);

    private int[] InputShape => [Batch, channels, size, size];

    private int[] OutputShape => conv ? [Batch, outputs, OutSize, OutSize] : InputShape;

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        var random = new Random(context.Seed);
        float[] Draw(int length, double scale) => Enumerable.Range(0, length).Select(_ => (float)((2 * random.NextDouble() - 1) * scale)).ToArray();
        _x = Draw(InputShape.Aggregate(1, (a, b) => a * b), 1);
        _seed = Draw(OutputShape.Aggregate(1, (a, b) => a * b), 1);
        // Kaiming-uniform scale for the kernel, as PyTorch initialises it; unused by BatchNorm (scale 1, shift 0 there).
        _w = conv ? Draw(outputs * channels * kernel * kernel, 1 / Math.Sqrt(channels * kernel * kernel)) : [];
        var inputs = new Dictionary<string, (double[], int[])>
        {
            ["x"] = (_x.Select(v => (double)v).ToArray(), InputShape),
            ["seed"] = (_seed.Select(v => (double)v).ToArray(), OutputShape),
        };
        if (conv) inputs["w"] = (_w.Select(v => (double)v).ToArray(), [outputs, channels, kernel, kernel]);
        context.WriteInputs(inputs);
    }

    /// <inheritdoc/>
    public void Run()
    {
        for (int r = 0; r < Repetitions; r++) _result = Layer();
    }

    private Tensor<float> Layer()
    {
        var tape = new Tape<float>();
        var x = tape.Leaf(new Tensor<float>(_x, InputShape));
        var seed = tape.Constant(new Tensor<float>(_seed, OutputShape));
        if (conv)
        {
            var w = tape.Leaf(new Tensor<float>(_w, outputs, channels, kernel, kernel));
            var y = Ops.Conv2d(x, w, null, stride, padding: kernel / 2);
            return tape.Gradient(y, [x, w], seed)[1].Value;
        }
        var scale = tape.Leaf(new Tensor<float>(Enumerable.Repeat(1f, channels).ToArray(), channels));
        var shift = tape.Leaf(new Tensor<float>(new float[channels], channels));
        // The composed form is only for differentiating twice; a first-order backward never calls it.
        var z = ChannelOps<float>.NormalizeBatch(x, scale, shift, 1e-5f, (_, _, _) => throw new InvalidOperationException("second order"),
            out _, out _, relu: true);
        return tape.Gradient(z, [x, scale, shift], seed)[0].Value;
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Finish(WorkloadContext context)
    {
        context.WriteResults(new Dictionary<string, (double[], int[])> { [conv ? "dw" : "dx"] = (_result.ToDoubles(), _result.ShapeArray) });
        return new Dictionary<string, object?> { ["layers_per_run"] = Repetitions };
    }
}
