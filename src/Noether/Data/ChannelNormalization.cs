using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Data;

/// <summary>
/// Per-channel standardisation x ↦ (x − mean_c) / std_c of [N, C, H, W] images.
/// </summary>
/// <remarks>
/// Convention (SPEC "Ensembles and attacks"): data sets and adversarial examples live in pixel space [0, 1] —
/// attacks perturb and clip there — and normalisation is the model's first step. <see cref="Apply{T}(Variable{T})"/>
/// is differentiable, so a model that wraps it passes input gradients back to pixel space. The statistics are
/// computed from a (training) data set by <see cref="Compute"/> and are then fixed.
/// </remarks>
public sealed class ChannelNormalization
{
    private readonly double[] _mean;
    private readonly double[] _std;

    /// <summary>Creates the transform from per-channel means and standard deviations (same length; std positive and finite).</summary>
    public ChannelNormalization(double[] mean, double[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
            throw Errors.Argument(nameof(std), $"ChannelNormalization: {mean.Length} means and {std.Length} standard deviations; expected the same positive number");
        for (int c = 0; c < mean.Length; c++)
        {
            if (!double.IsFinite(mean[c])) throw Errors.OutOfRange($"{nameof(mean)}[{c}]", mean[c], "a finite number");
            Errors.ThrowIfNotPositive(std[c], $"{nameof(std)}[{c}]");
        }
        _mean = (double[])mean.Clone();
        _std = (double[])std.Clone();
    }

    /// <summary>Per-channel means.</summary>
    public IReadOnlyList<double> Mean => _mean;

    /// <summary>Per-channel standard deviations.</summary>
    public IReadOnlyList<double> Std => _std;

    /// <summary>Number of channels.</summary>
    public int Channels => _mean.Length;

    /// <summary>
    /// The mean and (population, divide-by-count) standard deviation of each channel over all images and pixels
    /// of <paramref name="data"/>, accumulated in float64 in two passes.
    /// </summary>
    /// <exception cref="ArgumentException">The data set is empty or a channel is constant (std 0).</exception>
    public static ChannelNormalization Compute(ImageDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw Errors.Argument(nameof(data), "ChannelNormalization.Compute: the data set is empty");
        int channels = data.Channels, plane = data.Height * data.Width;
        var x = data.Images.Data;
        var mean = new double[channels];
        var std = new double[channels];
        long perChannel = (long)data.Count * plane;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0;
            for (int n = 0; n < data.Count; n++)
                foreach (float v in x.AsSpan((n * channels + c) * plane, plane)) sum += v;
            double m = sum / perChannel, squares = 0;
            for (int n = 0; n < data.Count; n++)
                foreach (float v in x.AsSpan((n * channels + c) * plane, plane)) squares += (v - m) * (v - m);
            mean[c] = m;
            std[c] = Math.Sqrt(squares / perChannel);
            if (!(std[c] > 0))
                throw Errors.Argument(nameof(data), $"ChannelNormalization.Compute: channel {c} of {data.Source} is constant ({m}); it cannot be standardised");
        }
        return new ChannelNormalization(mean, std);
    }

    /// <summary>(x − mean_c) / std_c as a new tensor; <paramref name="images"/> is [N, C, H, W] with C = <see cref="Channels"/>.</summary>
    public Tensor<T> Apply<T>(Tensor<T> images) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = images?.Clone() ?? throw Errors.Null(nameof(images));
        ApplyInPlace(result);
        return result;
    }

    /// <summary>Overwrites [N, C, H, W] <paramref name="images"/> with (x − mean_c) / std_c.</summary>
    public void ApplyInPlace<T>(Tensor<T> images) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(images);
        CheckShape(images.Shape, nameof(images));
        int n = images.Dim(0), plane = images.Dim(2) * images.Dim(3);
        var data = images.Data;
        for (int i = 0; i < n; i++)
            for (int c = 0; c < Channels; c++)
            {
                T m = T.CreateTruncating(_mean[c]), s = T.CreateTruncating(_std[c]);
                foreach (ref T v in data.AsSpan((i * Channels + c) * plane, plane)) v = (v - m) / s;
            }
    }

    /// <summary>
    /// (x − mean_c) · (1 / std_c) recorded on <paramref name="images"/>' tape (twice differentiable), for a model
    /// whose inputs stay in [0, 1]: the gradient with respect to the pixels is the incoming gradient divided by std_c.
    /// </summary>
    public Variable<T> Apply<T>(Variable<T> images) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(images);
        CheckShape(images.Shape, nameof(images));
        var mean = new T[Channels];
        var inverseStd = new T[Channels];
        for (int c = 0; c < Channels; c++)
        {
            mean[c] = T.CreateTruncating(_mean[c]);
            inverseStd[c] = T.CreateTruncating(1 / _std[c]);
        }
        var tape = images.Tape;
        var centred = Ops.Subtract(images, tape.Constant(new Tensor<T>(mean, 1, Channels, 1, 1), "channel mean"));
        return Ops.Multiply(centred, tape.Constant(new Tensor<T>(inverseStd, 1, Channels, 1, 1), "1/channel std"));
    }

    private void CheckShape(ReadOnlySpan<int> shape, string name)
    {
        if (shape.Length != 4 || shape[1] != Channels)
            throw Errors.BadShape("ChannelNormalization", name, shape, $"[N, {Channels}, H, W]");
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"ChannelNormalization(mean = [{string.Join(", ", _mean.Select(m => m.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)))}], " +
        $"std = [{string.Join(", ", _std.Select(s => s.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)))}])";
}
