using Noether.Autodiff;
using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Nn;

/// <summary>
/// Updates a fixed list of parameters in place from gradients aligned with that list. Parameters not in the
/// list are left alone (freeze a layer by leaving it out). Weight decay λ is applied here, once for every
/// optimiser, as PyTorch does: coupled (L2, the gradient becomes g + λθ before the update; SGD, AdaGrad, RMSprop,
/// Adam) or decoupled (θ ← θ(1 − lr·λ) before the update; AdamW). With λ = 0 the gradient reaches the update
/// untouched.
/// </summary>
public abstract class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private double _learningRate;
    private T[]? _decayed;

    /// <summary>
    /// An optimiser over <paramref name="parameters"/> with step size <paramref name="learningRate"/> &gt; 0 and weight
    /// decay <paramref name="weightDecay"/> ≥ 0, coupled (L2) or <paramref name="decoupledWeightDecay"/>.
    /// </summary>
    protected Optimizer(IReadOnlyList<Parameter<T>> parameters, double learningRate, double weightDecay = 0, bool decoupledWeightDecay = false)
    {
        if (!(weightDecay >= 0) || double.IsInfinity(weightDecay)) throw Errors.OutOfRange(nameof(weightDecay), weightDecay, "a finite weight decay ≥ 0");
        WeightDecay = weightDecay;
        DecoupledWeightDecay = decoupledWeightDecay;
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw Errors.Argument(nameof(parameters), "optimizer: the parameter list is empty");
        var seen = new HashSet<Parameter<T>>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i] ?? throw Errors.Null($"{nameof(parameters)}[{i}]");
            if (!seen.Add(p)) throw Errors.Argument(nameof(parameters), $"optimizer: parameter '{p.Name}' is listed twice");
        }
        _parameters = [.. parameters];
        LearningRate = learningRate;
    }

    /// <summary>The parameters updated, in the order gradients are expected.</summary>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <summary>The step size (positive and finite; may be changed between steps, e.g. by a schedule).</summary>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            Errors.ThrowIfNotPositive(value, "learningRate");
            _learningRate = value;
        }
    }

    /// <summary>The weight decay λ (0: none).</summary>
    public double WeightDecay { get; }

    /// <summary>True when the decay shrinks the parameters directly (AdamW) rather than adding λθ to the gradient.</summary>
    public bool DecoupledWeightDecay { get; }

    /// <summary>Number of steps taken so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>Applies one update from <paramref name="gradients"/>[i] = ∂L/∂<see cref="Parameters"/>[i].</summary>
    public void Step(IReadOnlyList<Tensor<T>> gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        if (gradients.Count != _parameters.Length)
            throw Errors.Argument(nameof(gradients), $"optimizer: {gradients.Count} gradients for {_parameters.Length} parameters");
        for (int i = 0; i < gradients.Count; i++)
        {
            var g = gradients[i] ?? throw Errors.Null($"{nameof(gradients)}[{i}]");
            if (!g.SameShape(_parameters[i].Value))
                throw Errors.ShapeMismatch("optimizer", $"gradients[{i}]", g.Shape, _parameters[i].Name, _parameters[i].Value.Shape, "a gradient must have its parameter's shape");
        }
        StepCount++;
        for (int i = 0; i < _parameters.Length; i++)
        {
            var parameter = _parameters[i].Value.Data;
            ReadOnlySpan<T> gradient = gradients[i].Data;
            if (WeightDecay > 0)
            {
                if (DecoupledWeightDecay) TensorPrimitives.Multiply(parameter, T.CreateChecked(1 - LearningRate * WeightDecay), parameter);
                else
                {
                    // g + λθ, in a scratch buffer: the caller's gradient is not modified.
                    if (_decayed is null || _decayed.Length < parameter.Length) _decayed = new T[_parameters.Max(p => p.Length)];
                    var decayed = _decayed.AsSpan(0, parameter.Length);
                    TensorPrimitives.MultiplyAdd(parameter, T.CreateChecked(WeightDecay), gradient, decayed);
                    gradient = decayed;
                }
            }
            Update(i, parameter, gradient);
        }
    }

    /// <summary>Updates parameter <paramref name="index"/> in place; <see cref="StepCount"/> already counts this step.</summary>
    protected abstract void Update(int index, Span<T> parameter, ReadOnlySpan<T> gradient);
}

/// <summary>
/// Stochastic gradient descent with momentum, PyTorch's semantics (dampening 0): b₁ = g₁, bₜ = μ bₜ₋₁ + gₜ;
/// θ ← θ − lr·bₜ, or with Nesterov θ ← θ − lr·(gₜ + μ bₜ); with weight decay gₜ is ∇L + λθ
/// (<see href="https://pytorch.org/docs/stable/generated/torch.optim.SGD.html"/>).
/// </summary>
public sealed class Sgd<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[]?[] _buffers;

    /// <summary>SGD with step size <paramref name="learningRate"/> and momentum μ = <paramref name="momentum"/> ≥ 0.</summary>
    public Sgd(IReadOnlyList<Parameter<T>> parameters, double learningRate, double momentum = 0, bool nesterov = false, double weightDecay = 0)
        : base(parameters, learningRate, weightDecay)
    {
        if (!(momentum >= 0) || double.IsInfinity(momentum)) throw Errors.OutOfRange(nameof(momentum), momentum, "a finite momentum ≥ 0");
        if (nesterov && momentum == 0) throw Errors.OutOfRange(nameof(momentum), momentum, "a positive momentum when Nesterov is on");
        Momentum = momentum;
        Nesterov = nesterov;
        _buffers = new T[]?[parameters.Count];
    }

    /// <summary>The momentum μ.</summary>
    public double Momentum { get; }

    /// <summary>Whether the Nesterov variant is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Span<T> parameter, ReadOnlySpan<T> gradient)
    {
        T lr = T.CreateChecked(-LearningRate);
        if (Momentum == 0)
        {
            TensorPrimitives.MultiplyAdd(gradient, lr, parameter, parameter);
            return;
        }
        T mu = T.CreateChecked(Momentum);
        var b = _buffers[index];
        if (b is null) _buffers[index] = b = gradient.ToArray();
        else TensorPrimitives.MultiplyAdd(b, mu, gradient, b);
        if (Nesterov)
        {
            // θ += lr·g + (lr·μ)·b
            TensorPrimitives.MultiplyAdd(gradient, lr, parameter, parameter);
            TensorPrimitives.MultiplyAdd(b, lr * mu, parameter, parameter);
        }
        else TensorPrimitives.MultiplyAdd(b, lr, parameter, parameter);
    }
}

/// <summary>
/// Adam with PyTorch's semantics: mₜ = β₁mₜ₋₁ + (1−β₁)gₜ, vₜ = β₂vₜ₋₁ + (1−β₂)gₜ²,
/// θ ← θ − (lr / (1−β₁ᵗ))·mₜ / (√vₜ / √(1−β₂ᵗ) + ε); weight decay is L2 (gₜ = ∇L + λθ)
/// (<see href="https://pytorch.org/docs/stable/generated/torch.optim.Adam.html"/>). <see cref="AdamW{T}"/> decouples it.
/// </summary>
public class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _m;
    private readonly T[][] _v;
    private readonly T[] _scratch;

    /// <summary>Adam with PyTorch's defaults.</summary>
    public Adam(IReadOnlyList<Parameter<T>> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : this(parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: false)
    {
    }

    /// <summary>Adam with L2 or decoupled weight decay.</summary>
    protected Adam(IReadOnlyList<Parameter<T>> parameters, double learningRate, double beta1, double beta2, double epsilon, double weightDecay, bool decoupled)
        : base(parameters, learningRate, weightDecay, decoupled)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw Errors.OutOfRange(nameof(beta1), beta1, "a value in [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1)) throw Errors.OutOfRange(nameof(beta2), beta2, "a value in [0, 1)");
        if (!(epsilon >= 0) || double.IsInfinity(epsilon)) throw Errors.OutOfRange(nameof(epsilon), epsilon, "a finite ε ≥ 0");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        _m = new T[parameters.Count][];
        _v = new T[parameters.Count][];
        int largest = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            _m[i] = new T[parameters[i].Length];
            _v[i] = new T[parameters[i].Length];
            largest = Math.Max(largest, parameters[i].Length);
        }
        _scratch = new T[largest];
    }

    /// <summary>Decay of the first-moment estimate.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the second-moment estimate.</summary>
    public double Beta2 { get; }

    /// <summary>Added to the denominator for stability.</summary>
    public double Epsilon { get; }

    /// <inheritdoc/>
    protected sealed override void Update(int index, Span<T> parameter, ReadOnlySpan<T> gradient)
    {
        var m = _m[index].AsSpan();
        var v = _v[index].AsSpan();
        var denom = _scratch.AsSpan(0, parameter.Length);
        T b1 = T.CreateChecked(Beta1), b2 = T.CreateChecked(Beta2);
        double t = StepCount;
        double biasCorrection1 = 1 - Math.Pow(Beta1, t), biasCorrection2 = 1 - Math.Pow(Beta2, t);

        // m ← β₁m + (1−β₁)g ;  v ← β₂v + (1−β₂)g²
        TensorPrimitives.Multiply(m, b1, m);
        TensorPrimitives.MultiplyAdd(gradient, T.One - b1, m, m);
        TensorPrimitives.Multiply(gradient, gradient, denom);
        TensorPrimitives.Multiply(v, b2, v);
        TensorPrimitives.MultiplyAdd(denom, T.One - b2, v, v);

        // denom = √v / √(1−β₂ᵗ) + ε ;  θ ← θ − (lr/(1−β₁ᵗ))·m/denom
        TensorPrimitives.Sqrt<T>(v, denom);
        TensorPrimitives.Divide(denom, T.CreateChecked(Math.Sqrt(biasCorrection2)), denom);
        TensorPrimitives.Add(denom, T.CreateChecked(Epsilon), denom);
        TensorPrimitives.Divide(m, denom, denom);
        TensorPrimitives.MultiplyAdd(denom, T.CreateChecked(-LearningRate / biasCorrection1), parameter, parameter);
    }
}

/// <summary>
/// AdamW (Loshchilov &amp; Hutter), PyTorch's semantics: θ ← θ(1 − lr·λ), then Adam's update with the plain gradient
/// (<see href="https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html"/>; PyTorch's default λ is 0.01).
/// </summary>
public sealed class AdamW<T> : Adam<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>AdamW with PyTorch's defaults.</summary>
    public AdamW(IReadOnlyList<Parameter<T>> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true)
    {
    }
}

/// <summary>
/// AdaGrad, PyTorch's semantics (lr_decay 0, initial accumulator 0): sₜ = sₜ₋₁ + gₜ², θ ← θ − lr·gₜ / (√sₜ + ε);
/// weight decay is L2 (<see href="https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html"/>).
/// </summary>
public sealed class AdaGrad<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _sum;
    private readonly T[] _scratch;

    /// <summary>AdaGrad with PyTorch's defaults (lr 0.01, ε 1e-10).</summary>
    public AdaGrad(IReadOnlyList<Parameter<T>> parameters, double learningRate = 1e-2, double epsilon = 1e-10, double weightDecay = 0)
        : base(parameters, learningRate, weightDecay)
    {
        if (!(epsilon >= 0) || double.IsInfinity(epsilon)) throw Errors.OutOfRange(nameof(epsilon), epsilon, "a finite ε ≥ 0");
        Epsilon = epsilon;
        _sum = parameters.Select(p => new T[p.Length]).ToArray();
        _scratch = new T[parameters.Max(p => p.Length)];
    }

    /// <summary>Added to the denominator for stability.</summary>
    public double Epsilon { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Span<T> parameter, ReadOnlySpan<T> gradient)
    {
        var s = _sum[index].AsSpan();
        var d = _scratch.AsSpan(0, parameter.Length);
        TensorPrimitives.MultiplyAdd(gradient, gradient, s, s);
        TensorPrimitives.Sqrt<T>(s, d);
        TensorPrimitives.Add(d, T.CreateChecked(Epsilon), d);
        TensorPrimitives.Divide(gradient, d, d);
        TensorPrimitives.MultiplyAdd(d, T.CreateChecked(-LearningRate), parameter, parameter);
    }
}

/// <summary>
/// RMSprop, PyTorch's semantics (not centred): vₜ = αvₜ₋₁ + (1−α)gₜ², uₜ = gₜ / (√vₜ + ε); without momentum
/// θ ← θ − lr·uₜ, with momentum μ bₜ = μbₜ₋₁ + uₜ (b₀ = 0), θ ← θ − lr·bₜ; weight decay is L2
/// (<see href="https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html"/>).
/// </summary>
public sealed class RmsProp<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _v;
    private readonly T[][]? _b;
    private readonly T[] _scratch;

    /// <summary>RMSprop with PyTorch's defaults (lr 0.01, α 0.99, ε 1e-8).</summary>
    public RmsProp(IReadOnlyList<Parameter<T>> parameters, double learningRate = 1e-2, double alpha = 0.99, double epsilon = 1e-8, double momentum = 0, double weightDecay = 0)
        : base(parameters, learningRate, weightDecay)
    {
        if (!(alpha >= 0 && alpha < 1)) throw Errors.OutOfRange(nameof(alpha), alpha, "a value in [0, 1)");
        if (!(epsilon >= 0) || double.IsInfinity(epsilon)) throw Errors.OutOfRange(nameof(epsilon), epsilon, "a finite ε ≥ 0");
        if (!(momentum >= 0) || double.IsInfinity(momentum)) throw Errors.OutOfRange(nameof(momentum), momentum, "a finite momentum ≥ 0");
        Alpha = alpha;
        Epsilon = epsilon;
        Momentum = momentum;
        _v = parameters.Select(p => new T[p.Length]).ToArray();
        if (momentum > 0) _b = parameters.Select(p => new T[p.Length]).ToArray();
        _scratch = new T[parameters.Max(p => p.Length)];
    }

    /// <summary>Decay of the squared-gradient average.</summary>
    public double Alpha { get; }

    /// <summary>Added to the denominator for stability.</summary>
    public double Epsilon { get; }

    /// <summary>The momentum μ (0: none).</summary>
    public double Momentum { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Span<T> parameter, ReadOnlySpan<T> gradient)
    {
        var v = _v[index].AsSpan();
        var u = _scratch.AsSpan(0, parameter.Length);
        T a = T.CreateChecked(Alpha);
        TensorPrimitives.Multiply(gradient, gradient, u);
        TensorPrimitives.Multiply(v, a, v);
        TensorPrimitives.MultiplyAdd(u, T.One - a, v, v);
        TensorPrimitives.Sqrt<T>(v, u);
        TensorPrimitives.Add(u, T.CreateChecked(Epsilon), u);
        TensorPrimitives.Divide(gradient, u, u);
        if (_b is not null)
        {
            var b = _b[index].AsSpan();
            TensorPrimitives.MultiplyAdd(b, T.CreateChecked(Momentum), u, b);
            u = b;
        }
        TensorPrimitives.MultiplyAdd(u, T.CreateChecked(-LearningRate), parameter, parameter);
    }
}

/// <summary>
/// A learning rate per step: <c>constant</c>, <c>step</c> (× γ every <see cref="StepSize"/> steps) or <c>cosine</c>
/// (PyTorch's CosineAnnealingLR to 0 over the steps after warm-up), each after an optional linear warm-up whose
/// step t (0-based) uses lr·(t+1)/W. Step t counts optimiser steps from 0.
/// </summary>
/// <param name="Kind">"constant", "step" or "cosine".</param>
/// <param name="BaseRate">The peak learning rate.</param>
/// <param name="TotalSteps">Steps of the whole run (cosine reaches 0 after the last).</param>
/// <param name="WarmupSteps">Linear warm-up steps (0: none).</param>
/// <param name="StepSize">For "step": steps between decays.</param>
/// <param name="Gamma">For "step": the decay factor.</param>
public sealed record LearningRateSchedule(string Kind, double BaseRate, long TotalSteps, long WarmupSteps = 0, long StepSize = 1, double Gamma = 0.1)
{
    /// <summary>The schedule kinds.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["constant", "step", "cosine"];

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!Kinds.Contains(Kind)) throw Errors.Argument(nameof(Kind), $"schedule '{Kind}' is not known: expected {string.Join(", ", Kinds)}");
        Errors.ThrowIfNotPositive(BaseRate, "learning rate");
        Errors.ThrowIfNotPositive(TotalSteps, "total steps");
        if (WarmupSteps < 0 || WarmupSteps >= TotalSteps) throw Errors.OutOfRange("warm-up steps", WarmupSteps, $"0 ≤ warm-up < total steps ({TotalSteps})");
        Errors.ThrowIfNotPositive(StepSize, "step size");
        if (!(Gamma > 0 && Gamma <= 1)) throw Errors.OutOfRange("gamma", Gamma, "a factor in (0, 1]");
    }

    /// <summary>The learning rate of step <paramref name="step"/> (0-based); positive for every step of the run.</summary>
    public double At(long step)
    {
        if (step < WarmupSteps) return BaseRate * (step + 1) / WarmupSteps;
        long t = step - WarmupSteps, span = TotalSteps - WarmupSteps;
        double rate = Kind switch
        {
            "step" => BaseRate * Math.Pow(Gamma, t / StepSize),
            "cosine" => BaseRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(t, span) / span)),
            _ => BaseRate,
        };
        // The optimiser needs a positive rate; cosine's last step would be 0 only after the run ends.
        return Math.Max(rate, BaseRate * 1e-12);
    }
}
