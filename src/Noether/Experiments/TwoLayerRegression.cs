using Noether.Landscape;
using Noether.Nn;
using Noether.Serialization;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>The small regression network <c>teleport</c> and <c>valley</c> train (or load) before they act on it.</summary>
/// <param name="Activation">identity, ReLU or LeakyReLU (the σ with a linear symmetry group).</param>
/// <param name="Shape">(m, h, n).</param>
/// <param name="Samples">k: X is n×k with N(0, 1/k) entries, Y = W₀X + 0.3·N(0, 1) noise (W₀ m×n Gaussian), so the minimum loss is positive.</param>
/// <param name="Steps">Gradient-descent step limit.</param>
/// <param name="LearningRate">η.</param>
/// <param name="InitStdU">Std of U₀'s entries.</param>
/// <param name="InitStdV">Std of V₀'s entries (unequal stds give an unbalanced Q that training keeps).</param>
/// <param name="Seed">Seeds data and initialisation.</param>
/// <param name="Weights">A safetensors file with U and V to use instead of training, or null.</param>
public sealed record TwoLayerRegressionSettings(ActivationKind Activation, LayerShape Shape, int Samples, long Steps, double LearningRate, double InitStdU,
    double InitStdV, int Seed, string? Weights);

/// <summary>A problem and the point in it.</summary>
/// <param name="Problem">The loss ½‖Y − U σ(VX)‖² (sum over outputs and samples, SPEC's convention) on the data.</param>
/// <param name="Theta">The trained (or loaded) point.</param>
/// <param name="Steps">GD steps taken (0 when loaded).</param>
/// <param name="GradientNorm">‖∇L‖ at the point.</param>
/// <param name="Source">"trained" or the weights file.</param>
public sealed record TrainedTwoLayer(TwoLayerProblem Problem, TwoLayerParameters Theta, long Steps, double GradientNorm, string Source);

/// <summary>Builds the data of <see cref="TwoLayerRegressionSettings"/> and trains (or loads) (U, V) on it.</summary>
public static class TwoLayerRegression
{
    /// <summary>Builds the data, then loads or trains (U, V) by full-batch GD (stopping once ‖∇L‖ ≤ 1e-10).</summary>
    /// <exception cref="InvalidOperationException">Training diverged (the message suggests a lower --lr).</exception>
    public static TrainedTwoLayer Build(TwoLayerRegressionSettings s, IProgress<ExperimentProgress>? progress, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(s);
        var (m, h, n) = (s.Shape.M, s.Shape.H, s.Shape.N);
        var rng = new Random(s.Seed);
        var w0 = Init.Gaussian(Tensor<double>.Zeros(m, n), 1, rng);
        var x = Init.Gaussian(Tensor<double>.Zeros(n, s.Samples), 1 / Math.Sqrt(s.Samples), rng);
        var y = TensorOps.MatMul(w0, x);
        var noise = Init.Gaussian(Tensor<double>.Zeros(m, s.Samples), 0.3, rng);
        for (int i = 0; i < y.Length; i++) y.Data[i] += noise.Data[i];
        var problem = new TwoLayerProblem(new TwoLayerNetwork(Activation.Of(s.Activation, Activation.PyTorchLeakySlope), SquaredErrorLoss.HalfSum), h, x, y);
        var gu = Tensor<double>.Zeros(m, h);
        var gv = Tensor<double>.Zeros(h, n);
        if (s.Weights is { } path)
        {
            var theta = Load(path, s.Shape);
            problem.LossAndGradient(theta.U, theta.V, gu, gv);
            return new TrainedTwoLayer(problem, theta, 0, Math.Sqrt(TensorOps.Dot(gu, gu) + TensorOps.Dot(gv, gv)), path);
        }
        var (u, v) = problem.Initialise(s.InitStdU, s.InitStdV, rng);
        var report = progress is null ? null : new InlineProgress<(long Step, double Loss)>(p =>
            progress.Report(new ExperimentProgress(string.Create(CultureInfo.InvariantCulture, $"training, step {p.Step}"), p.Step, 2 * Math.Max(1, s.Steps))));
        var trace = TwoLayerDescent.Run(problem, u, v, new DescentOptions(s.LearningRate, s.Steps, GradientTolerance: 1e-10, Records: 20), report, token);
        if (trace.Diverged)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"training diverged at --lr {s.LearningRate} (loss {trace.FinalLoss}); lower --lr"));
        return new TrainedTwoLayer(problem, new TwoLayerParameters(u, v), trace.Steps, trace.FinalGradientNorm, "trained");
    }

    /// <summary>Reads U and V from a safetensors file and checks them against the shape (m, h, n).</summary>
    /// <exception cref="ArgumentException">A missing tensor, a shape that does not fit, or non-finite entries (parameter "--weights").</exception>
    public static TwoLayerParameters Load(string path, LayerShape shape)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"--weights: {path} not found", path);
        var file = SafeTensors.Read(path);
        foreach (var name in new[] { "U", "V" })
            if (!file.Contains(name))
                throw Errors.Argument("--weights", $"--weights: {path} has no tensor '{name}' (it has {string.Join(", ", file.Names)}); expected U (m×h) and V (h×n)");
        var u = file.GetTensor<double>("U");
        var v = file.GetTensor<double>("V");
        string Shape(Tensor<double> t) => string.Join("×", t.ShapeArray);
        if (!u.HasShape(shape.M, shape.H) || !v.HasShape(shape.H, shape.N))
            throw Errors.Argument("--weights", $"--weights: {path} holds U {Shape(u)} and V {Shape(v)}, but the network is m×h×n = {shape} (U {shape.M}×{shape.H}, V {shape.H}×{shape.N}); pass the matching --shape");
        if (!u.AllFinite() || !v.AllFinite()) throw Errors.Argument("--weights", $"--weights: {path} has non-finite entries");
        return new TwoLayerParameters(u, v);
    }

    /// <summary>Writes θ as the safetensors tensors U and V (the names <see cref="Load"/> reads).</summary>
    public static void Save(string path, TwoLayerParameters theta, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(theta);
        SafeTensors.Write(path, new[] { ("U", theta.U), ("V", theta.V) }, metadata);
    }

    /// <summary>One line: σ, shape, samples, loss, how θ was obtained, L and ‖∇L‖.</summary>
    public static string Describe(TwoLayerRegressionSettings s, TrainedTwoLayer net)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(net);
        return string.Create(CultureInfo.InvariantCulture,
            $"σ = {s.Activation}, (m, h, n) = {s.Shape}, k = {s.Samples} samples, loss ½‖Y − Uσ(VX)‖², {(net.Source == "trained" ? $"trained by GD (η = {s.LearningRate}, {net.Steps} steps)" : $"weights from {net.Source}")}: L = {net.Problem.Loss(net.Theta.U, net.Theta.V):G6}, ‖∇L‖ = {net.GradientNorm:G3}");
    }
}
