using System.Numerics;
using Noether.Autodiff;
using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Nn;

/// <summary>
/// Updates a fixed list of parameters in place from gradients aligned with that list. Parameters not in the
/// list are left alone (freeze a layer by leaving it out).
/// </summary>
public abstract class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private double _learningRate;

    /// <summary>An optimiser over <paramref name="parameters"/> with step size <paramref name="learningRate"/> &gt; 0.</summary>
    protected Optimizer(IReadOnlyList<Parameter<T>> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new ArgumentException("optimizer: the parameter list is empty", nameof(parameters));
        var seen = new HashSet<Parameter<T>>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i] ?? throw new ArgumentNullException($"{nameof(parameters)}[{i}]");
            if (!seen.Add(p)) throw new ArgumentException($"optimizer: parameter '{p.Name}' is listed twice", nameof(parameters));
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

    /// <summary>Number of steps taken so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>Applies one update from <paramref name="gradients"/>[i] = ∂L/∂<see cref="Parameters"/>[i].</summary>
    public void Step(IReadOnlyList<Tensor<T>> gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        if (gradients.Count != _parameters.Length)
            throw new ArgumentException($"optimizer: {gradients.Count} gradients for {_parameters.Length} parameters", nameof(gradients));
        for (int i = 0; i < gradients.Count; i++)
        {
            var g = gradients[i] ?? throw new ArgumentNullException($"{nameof(gradients)}[{i}]");
            if (!g.SameShape(_parameters[i].Value))
                throw Errors.ShapeMismatch("optimizer", $"gradients[{i}]", g.Shape, _parameters[i].Name, _parameters[i].Value.Shape, "a gradient must have its parameter's shape");
        }
        StepCount++;
        for (int i = 0; i < _parameters.Length; i++) Update(i, _parameters[i].Value.Data, gradients[i].Data);
    }

    /// <summary>Updates parameter <paramref name="index"/> in place; <see cref="StepCount"/> already counts this step.</summary>
    protected abstract void Update(int index, Span<T> parameter, ReadOnlySpan<T> gradient);
}

/// <summary>Plain (full-batch) gradient descent: θ ← θ − lr·∇L.</summary>
public sealed class GradientDescent<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Gradient descent with step size <paramref name="learningRate"/>.</summary>
    public GradientDescent(IReadOnlyList<Parameter<T>> parameters, double learningRate) : base(parameters, learningRate)
    {
    }

    /// <inheritdoc/>
    protected override void Update(int index, Span<T> parameter, ReadOnlySpan<T> gradient) =>
        TensorPrimitives.MultiplyAdd(gradient, T.CreateChecked(-LearningRate), parameter, parameter);
}

/// <summary>
/// Stochastic gradient descent with momentum, PyTorch's semantics (dampening 0): b₁ = g₁, bₜ = μ bₜ₋₁ + gₜ;
/// θ ← θ − lr·bₜ, or with Nesterov θ ← θ − lr·(gₜ + μ bₜ).
/// </summary>
public sealed class Sgd<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[]?[] _buffers;

    /// <summary>SGD with step size <paramref name="learningRate"/> and momentum μ = <paramref name="momentum"/> ≥ 0.</summary>
    public Sgd(IReadOnlyList<Parameter<T>> parameters, double learningRate, double momentum = 0, bool nesterov = false)
        : base(parameters, learningRate)
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
/// θ ← θ − (lr / (1−β₁ᵗ))·mₜ / (√vₜ / √(1−β₂ᵗ) + ε).
/// </summary>
public sealed class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _m;
    private readonly T[][] _v;
    private readonly T[] _scratch;

    /// <summary>Adam with PyTorch's defaults.</summary>
    public Adam(IReadOnlyList<Parameter<T>> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
        : base(parameters, learningRate)
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
    protected override void Update(int index, Span<T> parameter, ReadOnlySpan<T> gradient)
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
