using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Nn;

public class SpecCnnTests
{
    [Fact]
    public void SpecCnn_ParameterNamesAndShapes_MatchPyTorchSequentialStateDict()
    {
        // nn.Sequential(Conv2d(1,16,3,padding=1), MaxPool2d(2), Flatten(), Linear(3136,32), LeakyReLU(), Linear(32,10)).state_dict()
        var model = Models.SpecCnn<float>(new Random(1));
        (string, int[])[] expected =
        [
            ("0.weight", [16, 1, 3, 3]), ("0.bias", [16]), ("3.weight", [32, 16 * 14 * 14]), ("3.bias", [32]),
            ("5.weight", [10, 32]), ("5.bias", [10]),
        ];
        Assert.Equal(expected.Select(e => e.Item1), model.Parameters.Select(p => p.Name));
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i].Item2, model.Parameters[i].Value.ShapeArray);
        Assert.Same(model.Output, model.Layers[5]);
        Assert.Same(model.Hidden, model.Layers[3]);
        Assert.Equal(ActivationKind.LeakyRelu, model.Activation.Kind);
        Assert.Equal(0.01, model.Activation.Slope);
        Assert.Equal([5, 10], model.Predict(Tensor<float>.Zeros(5, 1, 28, 28)).ShapeArray);
    }

    [Fact]
    public void SpecCnn_Cifar_ThreeChannels32Pixels()
    {
        var model = Models.SpecCnn<float>(new Random(1), inChannels: 3, imageSize: 32, channels: 8, hidden: 16);
        Assert.Equal([8, 3, 3, 3], model.Conv.Weight.Value.ShapeArray);
        Assert.Equal([16, 8 * 16 * 16], model.Hidden.Weight.Value.ShapeArray);
        Assert.Equal([2, 10], model.Predict(Tensor<float>.Zeros(2, 3, 32, 32)).ShapeArray);
        Assert.Throws<ArgumentOutOfRangeException>(() => Models.SpecCnn<float>(new Random(1), imageSize: 27));
    }

    private static SpecCnn<double> Small(int seed) => Models.SpecCnn<double>(new Random(seed), inChannels: 2, imageSize: 6, classes: 4, channels: 3, hidden: 5, leakySlope: 0.1);

    [Fact]
    public void SpecCnn_Forward_EqualsTheOpsInSequence()
    {
        // Sequential fuses conv + pool; the unfused ops give the same logits.
        var model = Small(2);
        var x = LayerTests.Random(3, 4, 2, 6, 6);
        var tape = new Tape<double>();
        var p = model.Parameters.Select(q => tape.Constant(q.Value)).ToArray();
        var h = Ops.Flatten(Ops.MaxPool2d(Ops.Conv2d(tape.Constant(x), p[0], p[1], 1, 1), 2));
        var logits = Ops.Add(Ops.MatMul(Ops.LeakyRelu(Ops.Add(Ops.MatMul(h, p[2], transposeB: true), p[3]), 0.1), p[4], transposeB: true), p[5]);
        Close.Assert(logits.Value, model.Predict(x), 1e-14, 1e-15);
    }

    [Fact]
    public void SpecCnn_CrossEntropyGradients_MatchFiniteDifferences_ForParametersAndInput()
    {
        var model = Small(4);
        var x = LayerTests.Random(5, 3, 2, 6, 6);
        int[] labels = [1, 3, 0];
        ScalarFunction<double> f = (tape, v) =>
        {
            ParameterVector.Assign(model.Parameters, v.Skip(1).Select(t => t.Value).ToArray());
            // Forward with the given variables bound as the parameters (same objects the model holds).
            return Ops.CrossEntropy(ForwardWith(model, tape, v), labels);
        };
        var point = new[] { x }.Concat(model.Parameters.Select(p => p.Value.Clone())).ToArray();
        var analytic = FiniteDifference.AutodiffGradient(f, point);
        var numeric = FiniteDifference.Gradient(f, point).SelectMany(g => g).ToArray();
        Assert.True(Close.RelativeError(numeric, analytic) <= 1e-6, $"relative error {Close.RelativeError(numeric, analytic):E2}");
    }

    /// <summary>Runs the model on v[0] with its parameters replaced by the variables v[1..].</summary>
    private static Variable<double> ForwardWith(SpecCnn<double> model, Tape<double> tape, IReadOnlyList<Variable<double>> v)
    {
        // The tape binds each parameter to a leaf on first use; pre-seeding is not possible, so go through the ops the
        // layers use, with the fused conv + pool exactly as Sequential runs it.
        var h = Ops.Flatten(Ops.Conv2dMaxPool2d(v[0], v[1], v[2], 1, 1, 2));
        var z = Ops.LeakyRelu(Ops.Add(Ops.MatMul(h, v[3], transposeB: true), v[4]), 0.1);
        var logits = Ops.Add(Ops.MatMul(z, v[5], transposeB: true), v[6]);
        Assert.Equal(model.Predict(v[0].Value).Data, logits.Value.Data);
        return logits;
    }

    [Fact]
    public void SpecCnn_TapeGradientForParameters_EqualsGradientThroughLeaves()
    {
        var model = Small(6);
        var x = LayerTests.Random(7, 3, 2, 6, 6);
        int[] labels = [0, 2, 2];
        var tape = new Tape<double>();
        var input = tape.Leaf(x);
        var loss = Ops.CrossEntropy(model.Forward(tape, input), labels);
        var grads = tape.Gradient(loss, model.Parameters);
        var inputGrad = tape.Gradient(loss, [input])[0].Value;
        var reference = FiniteDifference.AutodiffGradient((t, v) => Ops.CrossEntropy(ForwardWith(model, t, v), labels),
            new[] { x }.Concat(model.Parameters.Select(p => p.Value)).ToArray());
        Close.Assert(reference, inputGrad.Data.Concat(grads.SelectMany(g => g.Data)).ToArray(), 1e-13, 1e-15);
    }
}
