using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Tests.Nn;

public class ClassifierTests
{
    /// <summary>Two Gaussian blobs (std 0.7) centred at ±(1.5, 1.5) in 2-D: the Bayes accuracy is about 99.9%.</summary>
    private static (Tensor<T> X, int[] Y) Blobs<T>(int n, int seed) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        var x = Tensor<T>.Zeros(n, 2);
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = rng.Next(2);
            double centre = y[i] == 0 ? -1.5 : 1.5;
            var (a, b) = Gaussian.NextPair(rng);
            x[i, 0] = T.CreateChecked(centre + 0.7 * a);
            x[i, 1] = T.CreateChecked(centre + 0.7 * b);
        }
        return (x, y);
    }

    private static IEnumerable<(Tensor<T>, int[])> Batches<T>(Tensor<T> x, int[] y, int size) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int features = x.Length / x.Dim(0);
        var shape = x.ShapeArray;
        for (int s = 0; s < y.Length; s += size)
        {
            int n = Math.Min(size, y.Length - s);
            shape[0] = n;
            yield return (new Tensor<T>(x.Data.AsSpan(s * features, n * features).ToArray(), (int[])shape.Clone()), y[s..(s + n)]);
        }
    }

    [Fact]
    public void TrainEpoch_SeparableTwoClassProblem_ReachesNinetyFivePercent()
    {
        var (x, y) = Blobs<double>(400, 1);
        var (xt, yt) = Blobs<double>(400, 2);
        var model = new Sequential<double>(new Linear<double>(2, 8, true, new Random(3), "0"), Activation<double>.Relu("1"), new Linear<double>(8, 2, true, new Random(4), "2"));
        var adam = new Adam<double>(model.Parameters, 0.05);
        for (int epoch = 0; epoch < 5; epoch++) Classifier.TrainEpoch(model, adam, Batches(x, y, 32));
        Assert.True(Classifier.Evaluate(model, Batches(xt, yt, 100)) >= 0.95);
    }

    [Fact]
    public void TrainEpoch_SmallMlp_MeanLossDecreases()
    {
        var (x, y) = Blobs<float>(256, 5);
        var model = new Sequential<float>(new Linear<float>(2, 16, true, new Random(6), "0"), Activation<float>.Tanh("1"), new Linear<float>(16, 2, true, new Random(7), "2"));
        var sgd = new Sgd<float>(model.Parameters, 0.05, momentum: 0.9);
        var losses = Enumerable.Range(0, 4).Select(_ => Classifier.TrainEpoch(model, sgd, Batches(x, y, 16))).ToArray();
        Assert.True(losses[3] < 0.5 * losses[0], $"losses {string.Join(", ", losses)}");
        Assert.Equal(4 * 16, sgd.StepCount);
    }

    [Fact]
    public void TrainEpoch_SmallCnnFloat32_LearnsWhichHalfIsBright()
    {
        // 8×8 images, noise plus a bright top or bottom half: the SPEC CNN in float32 separates them.
        var rng = new Random(8);
        int n = 256;
        var x = Tensor<float>.Zeros(n, 1, 8, 8);
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = rng.Next(2);
            for (int r = 0; r < 8; r++)
                for (int c = 0; c < 8; c++)
                    x[i, 0, r, c] = (float)(rng.NextDouble() * 0.5 + ((r < 4) == (labels[i] == 0) ? 0.5 : 0));
        }
        var model = Models.SpecCnn<float>(new Random(9), imageSize: 8, classes: 2, channels: 4, hidden: 8);
        var adam = new Adam<float>(model.Parameters, 1e-2);
        for (int epoch = 0; epoch < 3; epoch++) Classifier.TrainEpoch(model, adam, Batches(x, labels, 32));
        Assert.True(Classifier.Evaluate(model, Batches(x, labels, 64)) >= 0.95);
    }

    [Fact]
    public void TrainEpoch_NaNInput_StopsAtThatStepWithoutTouchingParameters()
    {
        var (x, y) = Blobs<double>(64, 10);
        x[40, 1] = double.NaN; // in the third batch of 16
        var model = new Linear<double>(2, 2, true, new Random(11));
        var adam = new Adam<double>(model.Parameters, 0.01);
        var progress = new List<TrainingProgress>();
        double[]? before = null;
        var recorder = new SynchronousProgress(p =>
        {
            progress.Add(p);
            before = ParameterVector.Flatten(model.Parameters);
        });
        var ex = Assert.Throws<NonFiniteLossException>(() => Classifier.TrainEpoch(model, adam, Batches(x, y, 16), recorder));
        Assert.Equal(3, ex.Step);
        Assert.Contains("step 3", ex.Message);
        Assert.Contains("input", ex.Message);
        Assert.Equal(2, progress.Count);
        Assert.Equal(before, ParameterVector.Flatten(model.Parameters));
    }

    [Fact]
    public void TrainStep_DivergingLoss_StopsNamingTheStep()
    {
        var (x, y) = Blobs<double>(16, 12);
        var model = new Linear<double>(2, 2, true, new Random(13));
        model.Weight.Value.Data[0] = 1e308; // logits overflow to ∞ → the loss is not finite
        var gd = new Sgd<double>(model.Parameters, 0.1);
        var ex = Assert.Throws<NonFiniteLossException>(() => Classifier.TrainStep(model, gd, x, y));
        Assert.Equal(1, ex.Step);
        Assert.True(double.IsNaN(ex.Loss) || double.IsInfinity(ex.Loss));
        Assert.Contains("loss", ex.Message);
    }

    [Fact]
    public void TrainEpoch_ReportsProgressAndHonoursCancellation()
    {
        var (x, y) = Blobs<double>(50, 14);
        var model = new Linear<double>(2, 2, true, new Random(15));
        var adam = new Adam<double>(model.Parameters);
        var reports = new List<TrainingProgress>();
        double mean = Classifier.TrainEpoch(model, adam, Batches(x, y, 20), new SynchronousProgress(reports.Add));
        Assert.Equal([1L, 2, 3], reports.Select(r => r.Step));
        Assert.Equal([20L, 40, 50], reports.Select(r => r.Samples));
        double weighted = (reports[0].Loss * 20 + reports[1].Loss * 20 + reports[2].Loss * 10) / 50;
        Assert.Equal(weighted, mean, 1e-12);
        Assert.Equal(mean, reports[2].MeanLoss, 1e-12);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => Classifier.TrainEpoch(model, adam, Batches(x, y, 20), cancellationToken: cts.Token));
        Assert.Throws<ArgumentException>(() => Classifier.TrainEpoch(model, adam, Array.Empty<(Tensor<double>, int[])>()));
    }

    [Fact]
    public void PredictAndEvaluate_CountArgmaxAgreement()
    {
        // A fixed linear layer whose logits are the inputs themselves: the prediction is the larger coordinate.
        var model = new Linear<double>(Tensor<double>.Identity(2), null);
        var x = Tensor<double>.FromArray(new[,] { { 1.0, 0.0 }, { 0.0, 2.0 }, { 3.0, 3.0 }, { -1.0, -2.0 } });
        Assert.Equal([0, 1, 0, 0], Classifier.Predict(model, x));
        Assert.Equal(0.75, Classifier.Evaluate(model, [(x, new[] { 0, 1, 0, 1 })]));
        Assert.Throws<ArgumentException>(() => Classifier.Evaluate(model, [(x, new[] { 0, 1 })]));
    }

    /// <summary>Reports on the calling thread (System.Progress posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
