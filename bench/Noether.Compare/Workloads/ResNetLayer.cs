using Noether.Autodiff;
using Noether.Graphs;
using Noether.Tensors;

namespace Noether.Compare.Workloads;

/// <summary>
/// Issue 13, a breakdown of the training-step row: one ResNet-20 layer kind at one stage — a 3×3 convolution C → C
/// (stride 1, padding 1, no bias) or BatchNorm with batch statistics followed by ReLU — forward and backward (the
/// gradients of the input and the parameters for a fixed output gradient), float32, batch 128, on the tape exactly as
/// <see cref="Experiments.GraphTrainer{T}.TrainStep"/> runs it (the convolution by <see cref="Ops.Conv2d{T}"/>, BatchNorm + ReLU by
/// the fused <c>ChannelOps.NormalizeBatch</c>). The twin (bench/compare/resnet_layer.py): torch.nn.functional.conv2d,
/// or relu(batch_norm(training=True)), with autograd, NCHW or channels-last, whichever is faster. Reported per layer;
/// the check: the weight gradient (convolution) or the input gradient (BatchNorm + ReLU) against PyTorch's.
/// </summary>
internal sealed class ResNetLayer(bool conv, int channels, int size) : IWorkload
{
    private const int Batch = 128;
    private float[] _x = [], _w = [], _seed = [];
    private Tensor<float> _result = null!;

    /// <inheritdoc/>
    public string Name => $"resnet20-{(conv ? "conv3x3" : "bn-relu")}-c{channels}-h{size}";

    /// <inheritdoc/>
    public string Item => "issue 13";

    /// <inheritdoc/>
    public string Description => $"{(conv ? "3×3 convolution" : "BatchNorm (batch statistics) + ReLU")}, {channels} channels, {size}×{size}, batch {Batch}, float32: forward + backward, ms per layer";

    /// <inheritdoc/>
    public double? Target => null;

    /// <inheritdoc/>
    public bool NoetherImplemented => true;

    /// <summary>Layers per timed run: enough that a run lasts well above the timer's resolution.</summary>
    public int Repetitions => 10;

    /// <inheritdoc/>
    public PythonTwin? Python => new("resnet_layer.py", Name, ["--reps", Repetitions.ToString(System.Globalization.CultureInfo.InvariantCulture)], NeedsInputs: true);

    private int[] InputShape => [Batch, channels, size, size];

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context)
    {
        var random = new Random(context.Seed);
        float[] Draw(int length, double scale) => Enumerable.Range(0, length).Select(_ => (float)((2 * random.NextDouble() - 1) * scale)).ToArray();
        int length = Batch * channels * size * size;
        _x = Draw(length, 1);
        _seed = Draw(length, 1);
        // Kaiming-uniform scale for the kernel, as PyTorch initialises it; unused by BatchNorm (scale 1, shift 0 there).
        _w = conv ? Draw(channels * channels * 9, 1 / Math.Sqrt(channels * 9)) : [];
        var inputs = new Dictionary<string, (double[], int[])>
        {
            ["x"] = (_x.Select(v => (double)v).ToArray(), InputShape),
            ["seed"] = (_seed.Select(v => (double)v).ToArray(), InputShape),
        };
        if (conv) inputs["w"] = (_w.Select(v => (double)v).ToArray(), [channels, channels, 3, 3]);
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
        var seed = tape.Constant(new Tensor<float>(_seed, InputShape));
        if (conv)
        {
            var w = tape.Leaf(new Tensor<float>(_w, channels, channels, 3, 3));
            var y = Ops.Conv2d(x, w, null, stride: 1, padding: 1);
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
