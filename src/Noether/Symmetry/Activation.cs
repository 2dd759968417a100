using System.Globalization;
using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>
/// A hidden-layer activation σ of <c>F(X) = U σ(VX)</c>. Columns of its input are samples: an elementwise σ
/// acts on every entry, a radial σ(z) = f(‖z‖) z acts on every column z ∈ ℝʰ. Besides the differentiable
/// tape form it carries what the symmetry analysis needs: whether it is elementwise, its homogeneity
/// degree α (σ(cz) = c^α σ(z) for scalars c &gt; 0, eq. 3), and for elementwise σ the scalar σ and σ'
/// used by the integral form of eq. 48.
/// </summary>
public sealed class Activation
{
    private readonly Func<Variable<double>, Variable<double>> _tape;
    private readonly Func<double, double>? _value;
    private readonly Func<double, double>? _derivative;

    private Activation(ActivationKind kind, string name, Func<Variable<double>, Variable<double>> tape,
        Func<double, double>? value, Func<double, double>? derivative, double? degree, double slope = 0)
    {
        Kind = kind;
        Name = name;
        _tape = tape;
        _value = value;
        _derivative = derivative;
        HomogeneityDegree = degree;
        Slope = slope;
    }

    /// <summary>The family (the same enum as the <see cref="Activation{T}"/> layer's; <see cref="ActivationKind.Radial"/> and <see cref="ActivationKind.Custom"/> occur only here).</summary>
    public ActivationKind Kind { get; }

    /// <summary>A short name such as "relu", "leaky-relu(0.1)" or "radial 1/(1+r)".</summary>
    public string Name { get; }

    /// <summary>True when σ acts on each entry independently (every kind except <see cref="ActivationKind.Radial"/>).</summary>
    public bool IsElementwise => Kind != ActivationKind.Radial;

    /// <summary>
    /// α with σ(cz) = c^α σ(z) for every scalar c &gt; 0, or null when σ is not homogeneous. For elementwise σ
    /// this makes the positive diagonal matrices a symmetry with π(g) = g^α (Ex. 3); for radial σ only the
    /// scalar matrices cI are (they commute with the norm).
    /// </summary>
    public double? HomogeneityDegree { get; }

    /// <summary>The negative-side slope s of LeakyReLU (0 for ReLU and for every other kind).</summary>
    public double Slope { get; }

    /// <summary>σ(x) = x.</summary>
    public static Activation Identity { get; } = new(ActivationKind.Identity, "identity", z => z, x => x, _ => 1, 1);

    /// <summary>σ(x) = max(0, x); σ'(0) is taken as 0 (as PyTorch does).</summary>
    public static Activation Relu { get; } = new(ActivationKind.Relu, "relu", Ops.Relu, x => x > 0 ? x : 0, x => x > 0 ? 1 : 0, 1);

    /// <summary>σ(x) = 1 / (1 + e⁻ˣ).</summary>
    public static Activation Sigmoid { get; } = new(ActivationKind.Sigmoid, "sigmoid", Ops.Sigmoid, LogisticValue, x =>
    {
        double s = LogisticValue(x);
        return s * (1 - s);
    }, null);

    /// <summary>σ(x) = tanh x.</summary>
    public static Activation Tanh { get; } = new(ActivationKind.Tanh, "tanh", Ops.Tanh, Math.Tanh, x =>
    {
        double c = Math.Cosh(x);
        return 1 / (c * c);
    }, null);

    /// <summary>LeakyReLU with negative-side slope <paramref name="slope"/> (s ≥ 0, s ≠ 1; s = 0 is ReLU).</summary>
    public static Activation LeakyRelu(double slope)
    {
        if (!(slope >= 0) || double.IsInfinity(slope) || slope == 1)
            throw Errors.OutOfRange(nameof(slope), slope, "a finite slope ≥ 0 other than 1 (slope 1 is the identity)");
        if (slope == 0) return Relu;
        return new Activation(ActivationKind.LeakyRelu, string.Create(CultureInfo.InvariantCulture, $"leaky-relu({slope:R})"),
            z => Ops.LeakyRelu(z, slope), x => x > 0 ? x : slope * x, x => x > 0 ? 1 : slope, 1, slope);
    }

    /// <summary>
    /// A radial rescaling activation σ(z) = f(‖z‖) z applied to each column z (Ex. 5), given as the scale
    /// factor as a function of the squared norm s = ‖z‖² (a 1×k row on the tape), so that r⁻² needs no square root.
    /// </summary>
    /// <param name="name">Shown in results.</param>
    /// <param name="scaleOfSquaredNorm">s ↦ f(√s), written with tape operations (twice differentiable if you want Hessians).</param>
    /// <param name="homogeneityDegree">α if f(cr)·c = c^α f(r) for c &gt; 0 (e.g. −1 for f(r) = r⁻²), else null.</param>
    public static Activation Radial(string name, Func<Variable<double>, Variable<double>> scaleOfSquaredNorm, double? homogeneityDegree = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(scaleOfSquaredNorm);
        return new Activation(ActivationKind.Radial, name, z => RadialApply(z, scaleOfSquaredNorm), null, null, homogeneityDegree);
    }

    /// <summary>The radial activation f(r) = 1 / (1 + r): bounded, not homogeneous; its symmetry algebra is so(h).</summary>
    public static Activation RadialInverseOnePlusNorm { get; } =
        Radial("radial 1/(1+r)", s => Ops.Reciprocal(Ops.AddScalar(Ops.Sqrt(s), 1.0)));

    /// <summary>The radial activation f(r) = r⁻², i.e. σ(z) = z / ‖z‖²: homogeneous of degree −1 (Appendix F.2's h(|W|) = |W|⁻²).</summary>
    public static Activation RadialInverseSquareNorm { get; } = Radial("radial 1/r²", Ops.Reciprocal, -1);

    /// <summary>
    /// A user-given elementwise activation: its tape form (for training and gradients) and its scalar value and
    /// derivative (for the integral form of eq. 48). The three must describe the same function.
    /// </summary>
    public static Activation Elementwise(string name, Func<Variable<double>, Variable<double>> tapeFunction,
        Func<double, double> value, Func<double, double> derivative, double? homogeneityDegree = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(tapeFunction);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(derivative);
        return new Activation(ActivationKind.Custom, name, tapeFunction, value, derivative, homogeneityDegree);
    }

    /// <summary>
    /// Parses a name: identity | linear, relu, leaky-relu[:s] (default s = 0.01), sigmoid, tanh,
    /// radial (f(r) = 1/(1+r)), radial-inverse-square (f(r) = r⁻²).
    /// </summary>
    public static Activation Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t.StartsWith("leaky-relu", StringComparison.Ordinal) || t.StartsWith("leakyrelu", StringComparison.Ordinal))
        {
            int colon = t.IndexOfAny([':', '=']);
            if (colon < 0) return LeakyRelu(0.01);
            if (!double.TryParse(t[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double s))
                throw Errors.Argument(nameof(text), $"activation '{text}': the slope after '{t[colon]}' is not a number");
            return LeakyRelu(s);
        }
        return t switch
        {
            "identity" or "linear" or "none" => Identity,
            "relu" => Relu,
            "sigmoid" => Sigmoid,
            "tanh" => Tanh,
            "radial" or "radial-inverse" or "radial-1/(1+r)" => RadialInverseOnePlusNorm,
            "radial-inverse-square" or "radial-r^-2" => RadialInverseSquareNorm,
            _ => throw Errors.Argument(nameof(text), $"activation '{text}' is unknown: expected identity, relu, leaky-relu[:slope], sigmoid, tanh, radial or radial-inverse-square"),
        };
    }

    /// <summary>σ applied to <paramref name="z"/> (h×k, columns are samples), recorded on z's tape.</summary>
    public Variable<double> Apply(Variable<double> z)
    {
        ArgumentNullException.ThrowIfNull(z);
        if (Kind == ActivationKind.Radial && z.Rank != 2) throw Errors.BadShape("radial activation", nameof(z), z.Shape, "a matrix whose columns are the vectors");
        return _tape(z);
    }

    /// <summary>σ(z) as a plain tensor (no gradient).</summary>
    public Tensor<double> Evaluate(Tensor<double> z)
    {
        ArgumentNullException.ThrowIfNull(z);
        if (Kind == ActivationKind.Identity) return z.Clone();
        var tape = new Tape<double>();
        return Apply(tape.Constant(z)).Value;
    }

    /// <summary>The scalar σ(x) of an elementwise activation.</summary>
    public double Value(double x) => (_value ?? throw NotElementwise("σ(x)"))(x);

    /// <summary>The scalar σ'(x) of an elementwise activation.</summary>
    public double Derivative(double x) => (_derivative ?? throw NotElementwise("σ'(x)"))(x);

    /// <inheritdoc/>
    public override string ToString() => Name;

    private InvalidOperationException NotElementwise(string what) =>
        new($"{what} is defined only for elementwise activations; '{Name}' acts on whole columns");

    private static double LogisticValue(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    // σ(z)_{:,j} = f(‖z_j‖) z_j: the squared norms of the columns are 1ᵀ(z ⊙ z), a 1×k row, broadcast back over rows.
    private static Variable<double> RadialApply(Variable<double> z, Func<Variable<double>, Variable<double>> scaleOfSquaredNorm)
    {
        int h = z.Value.Dim(0);
        var ones = z.Tape.Constant(Tensor<double>.Ones(1, h));
        var squaredNorms = Ops.MatMul(ones, Ops.Multiply(z, z));
        var scale = scaleOfSquaredNorm(squaredNorms);
        if (!scale.Value.SameShape(squaredNorms.Value))
            throw Errors.ShapeMismatch("radial activation", "f(s)", scale.Shape, "s", squaredNorms.Shape, "the scale function must act elementwise on the 1×k row of squared norms");
        return Ops.Multiply(z, scale);
    }
}
