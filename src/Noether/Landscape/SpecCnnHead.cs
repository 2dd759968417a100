using Noether.Autodiff;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>
/// The last two linear layers of the SPEC CNN (<see cref="LayerPair.SpecCnnHead"/>) as a two-layer problem for <see cref="Valley"/> (SPEC "Ensembles and attacks": the
/// group acts on U = the output layer's weight, V = the hidden layer's weight, σ = LeakyReLU). The convolution and pooling are
/// held fixed, so the features H (f×N, one column per image) are computed once. The hidden bias b transforms with V
/// (g·(Vx + b) = gVx + gb), so it is carried as an extra column of V: V̂ = [V, b] acting on [H; 1]; the output bias c is untouched
/// by the group. Positive diagonal g keeps L(U g⁻¹, g V̂) = L(U, V̂) exactly since LeakyReLU is positively homogeneous.
/// </summary>
public sealed class SpecCnnHead
{
    private readonly Tensor<double> _features; // (f + 1) × N, last row ones
    private readonly Tensor<double> _outputBias;
    private readonly int[] _labels;
    private readonly double _slope;

    /// <summary>Computes the features of <paramref name="images"/> (N×C×H×W, as the model expects) through conv → pool → flatten.</summary>
    /// <exception cref="ArgumentException">Labels that do not match the images, or out of range.</exception>
    public SpecCnnHead(SpecCnn<double> model, Tensor<double> images, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.Rank != 4 || images.Dim(0) != labels.Length)
            throw Errors.BadShape("SPEC CNN head", nameof(images), images.Shape, $"N×C×H×W with N = {labels.Length} (one label per image)");
        int classes = model.Output.OutFeatures;
        foreach (var l in labels)
            if (l < 0 || l >= classes) throw Errors.OutOfRange(nameof(labels), l, $"class labels in [0, {classes})");
        var tape = new Tape<double>();
        Tensor<double> h;
        using (tape.Pause())
        {
            var x = tape.Constant(images);
            for (int i = 0; i < 3; i++) x = model.Layers[i].Forward(tape, x);
            h = x.Value; // N × f
        }
        int n = h.Dim(0), f = h.Dim(1);
        _features = Tensor<double>.Zeros(f + 1, n);
        for (int s = 0; s < n; s++)
        {
            for (int j = 0; j < f; j++) _features[j, s] = h[s, j];
            _features[f, s] = 1;
        }
        // U and V̂ = [V | b] are the head's layer pair (its bias column meets the features' row of ones).
        var pair = LayerPair.SpecCnnHead(model);
        Parameters = new TwoLayerParameters(pair.U(), pair.VHat());
        _outputBias = model.Output.Bias?.Value.Clone() ?? Tensor<double>.Zeros(classes);
        _labels = (int[])labels.Clone();
        _slope = model.Activation.Slope;
        Group = pair.Group!;
    }

    /// <summary>(U, [V, b]) of the model: U classes×h, V̂ h×(f + 1).</summary>
    public TwoLayerParameters Parameters { get; }

    /// <summary>Positive scaling on the hidden width (LeakyReLU is homogeneous of degree 1).</summary>
    public MatrixGroup Group { get; }

    /// <summary>The mean cross-entropy of the head with parameters <paramref name="theta"/> (U, [V, b]) on the batch.</summary>
    public double Loss(TwoLayerParameters theta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        Parameters.CheckSameShape(theta, nameof(theta));
        var z = TensorOps.MatMul(theta.V, _features);
        for (int i = 0; i < z.Length; i++) if (z.Data[i] < 0) z.Data[i] *= _slope;
        var logits = TensorOps.MatMul(theta.U, z); // classes × N
        int classes = logits.Dim(0), n = logits.Dim(1);
        double total = 0;
        for (int s = 0; s < n; s++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = Math.Max(max, logits[c, s] + _outputBias[c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(logits[c, s] + _outputBias[c] - max);
            total += max + Math.Log(sum) - (logits[_labels[s], s] + _outputBias[_labels[s]]);
        }
        return total / n;
    }

    /// <summary>
    /// A Gaussian direction filter-normalised as in Li et al. 2018: each row of U and each row of V (the weight part) rescaled to
    /// the norm of the matching row of the weights; the bias column gets a zero direction.
    /// </summary>
    public TwoLayerParameters FilterNormalizedDirection(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var raw = TwoLayerParameters.Gaussian(random, Parameters.M, Parameters.H, Parameters.N);
        var u = Valley.FilterNormalize(raw.U, Parameters.U);
        int h = Parameters.H, f = Parameters.N - 1;
        var weights = Tensor<double>.Zeros(h, f);
        var d = Tensor<double>.Zeros(h, f);
        for (int a = 0; a < h; a++)
            for (int j = 0; j < f; j++)
            {
                weights[a, j] = Parameters.V[a, j];
                d[a, j] = raw.V[a, j];
            }
        var dn = Valley.FilterNormalize(d, weights);
        var v = Tensor<double>.Zeros(h, f + 1);
        for (int a = 0; a < h; a++)
            for (int j = 0; j < f; j++) v[a, j] = dn[a, j];
        return new TwoLayerParameters(u, v);
    }
}
