using System.CommandLine;
using System.Globalization;
using Noether.Experiments;
using Noether.Landscape;
using Noether.Nn;
using Noether.Serialization;
using Noether.Symmetry;
using Noether.Tensors;

namespace Noether.Cli.Commands;

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
internal sealed record NetworkSettings(ActivationKind Activation, LayerShape Shape, int Samples, long Steps, double LearningRate, double InitStdU, double InitStdV, int Seed, string? Weights);

/// <summary>A problem and the point in it.</summary>
/// <param name="Problem">The loss ½‖Y − U σ(VX)‖² on the data.</param>
/// <param name="Theta">The trained (or loaded) point.</param>
/// <param name="Steps">GD steps taken (0 when loaded).</param>
/// <param name="GradientNorm">‖∇L‖ at the point.</param>
/// <param name="Source">"trained" or the weights file.</param>
internal sealed record TrainedNetwork(TwoLayerProblem Problem, TwoLayerParameters Theta, long Steps, double GradientNorm, string Source);

/// <summary>Options and the training step shared by <see cref="TeleportCommand"/> and <see cref="ValleyCommand"/>.</summary>
internal static class TeleportSetup
{
    public static Option<string> Profile(string full) => CommonOptions.Profile($"quick (seconds), default (under a minute on 2 cores) or full ({full}).");

    public static Option<string?> Shape()
    {
        var shape = new Option<string?>("--shape") { Description = "m×h×n of the network (default: the profile's).", HelpName = "MxHxN" };
        shape.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            try { ListOptions.ParseShape(r.Tokens[0].Value); }
            catch (FormatException e) { r.AddError($"--shape: {e.Message}"); }
        });
        return shape;
    }

    public static Option<string> Activation() => WithChoices(new Option<string>("--activation")
    {
        Description = "σ: identity (group GL_h, conserved UᵀU − VVᵀ), relu or leaky-relu (positive scaling, conserved diag(UᵀU − VVᵀ)).",
        DefaultValueFactory = _ => "identity",
    }, ["identity", "relu", "leaky-relu"]);

    public static Option<string?> Weights() => new Option<string?>("--weights")
    {
        Description = "A safetensors file with tensors U (m×h) and V (h×n) (e.g. trained.safetensors of an earlier run with the same --seed) to use instead of training.",
    }.ExistingFile();

    private static Option<string> WithChoices(Option<string> option, string[] choices)
    {
        option.AcceptOnlyFromAmong(choices);
        return option;
    }

    public static ActivationKind ParseActivation(string name) => name switch
    {
        "identity" => ActivationKind.Identity,
        "relu" => ActivationKind.Relu,
        "leaky-relu" => ActivationKind.LeakyRelu,
        _ => throw new ArgumentException($"--activation: '{name}' is not one of identity, relu, leaky-relu", nameof(name)),
    };

    /// <summary>Builds the data, then loads or trains (U, V).</summary>
    public static TrainedNetwork Build(NetworkSettings s, IProgress<ExperimentProgress>? progress, CancellationToken token)
    {
        var (m, h, n) = (s.Shape.M, s.Shape.H, s.Shape.N);
        var rng = new Random(s.Seed);
        var w0 = Init.Gaussian(Tensor<double>.Zeros(m, n), 1, rng);
        var x = Init.Gaussian(Tensor<double>.Zeros(n, s.Samples), 1 / Math.Sqrt(s.Samples), rng);
        var y = TensorOps.MatMul(w0, x);
        var noise = Init.Gaussian(Tensor<double>.Zeros(m, s.Samples), 0.3, rng);
        for (int i = 0; i < y.Length; i++) y.Data[i] += noise.Data[i];
        var problem = new TwoLayerProblem(s.Activation, h, x, y);
        var gu = Tensor<double>.Zeros(m, h);
        var gv = Tensor<double>.Zeros(h, n);
        if (s.Weights is { } path)
        {
            var theta = Load(path, s.Shape);
            problem.LossAndGradient(theta.U, theta.V, gu, gv);
            return new TrainedNetwork(problem, theta, 0, Math.Sqrt(TensorOps.Dot(gu, gu) + TensorOps.Dot(gv, gv)), path);
        }
        var (u, v) = problem.Initialise(s.InitStdU, s.InitStdV, rng);
        var report = progress is null ? null : new InlineProgress<(long Step, double Loss)>(p =>
            progress.Report(new ExperimentProgress(string.Create(CultureInfo.InvariantCulture, $"training, step {p.Step}"), p.Step, 2 * Math.Max(1, s.Steps))));
        var trace = TwoLayerDescent.Run(problem, u, v, new DescentOptions(s.LearningRate, s.Steps, GradientTolerance: 1e-10, Records: 20), report, token);
        if (trace.Diverged)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"training diverged at --lr {s.LearningRate} (loss {trace.FinalLoss}); lower --lr"));
        return new TrainedNetwork(problem, new TwoLayerParameters(u, v), trace.Steps, trace.FinalGradientNorm, "trained");
    }

    /// <summary>Reads U and V from a safetensors file and checks them against the shape (m, h, n).</summary>
    public static TwoLayerParameters Load(string path, LayerShape shape)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--weights: {path} not found", path);
        var file = SafeTensors.Read(path);
        foreach (var name in new[] { "U", "V" })
            if (!file.Contains(name))
                throw new ArgumentException($"--weights: {path} has no tensor '{name}' (it has {string.Join(", ", file.Names)}); expected U (m×h) and V (h×n)", "--weights");
        var u = file.GetTensor<double>("U");
        var v = file.GetTensor<double>("V");
        string Shape(Tensor<double> t) => string.Join("×", t.ShapeArray);
        if (!u.HasShape(shape.M, shape.H) || !v.HasShape(shape.H, shape.N))
            throw new ArgumentException(
                $"--weights: {path} holds U {Shape(u)} and V {Shape(v)}, but the network is m×h×n = {shape} (U {shape.M}×{shape.H}, V {shape.H}×{shape.N}); pass the matching --shape", "--weights");
        if (!u.AllFinite() || !v.AllFinite()) throw new ArgumentException($"--weights: {path} has non-finite entries", "--weights");
        return new TwoLayerParameters(u, v);
    }

    public static void Save(string path, TwoLayerParameters theta, IReadOnlyDictionary<string, string> metadata) =>
        SafeTensors.Write(path, new[] { ("U", theta.U), ("V", theta.V) }, metadata);

    public static string Describe(NetworkSettings s, TrainedNetwork net) => string.Create(CultureInfo.InvariantCulture,
        $"σ = {s.Activation}, (m, h, n) = {s.Shape}, k = {s.Samples} samples, loss ½‖Y − Uσ(VX)‖², {(net.Source == "trained" ? $"trained by GD (η = {s.LearningRate}, {net.Steps} steps)" : $"weights from {net.Source}")}: L = {net.Problem.Loss(net.Theta.U, net.Theta.V):G6}, ‖∇L‖ = {net.GradientNorm:G3}");
}
