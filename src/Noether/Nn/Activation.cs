using Noether.Autodiff;
using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Nn;

/// <summary>
/// The family tag of an <see cref="Activation"/> (stored by name in CSV, JSON and noether.arch files), with the linear
/// symmetry group each family admits (Prop. 7).
/// </summary>
/// <remarks>Results store these by name (<see cref="Activation.FamilyName(ActivationKind)"/>); the integer values of the first five are those of earlier versions.</remarks>
public enum ActivationKind
{
    /// <summary>σ(z) = z: linear networks, symmetric under all of GL_h (Ex. 2).</summary>
    Identity,
    /// <summary>σ(z) = max(0, z): homogeneous of degree 1, symmetric under the positive diagonal scalings (Ex. 4).</summary>
    Relu,
    /// <summary>σ(z) = z for z &gt; 0, slope·z otherwise: homogeneous of degree 1, symmetric under the positive diagonal scalings (Ex. 4).</summary>
    LeakyRelu,
    /// <summary>σ(z) = 1 / (1 + e⁻ᶻ): no continuous linear symmetry.</summary>
    Sigmoid,
    /// <summary>σ(z) = tanh z: no continuous linear symmetry.</summary>
    Tanh,
    /// <summary>σ(z) = f(‖z‖) z on each column z ∈ ℝʰ: equivariant under O(h) (Ex. 5). Not elementwise (<see cref="Activation.Radial"/>).</summary>
    Radial,
    /// <summary>A user-given elementwise function (<see cref="Activation.Elementwise"/>).</summary>
    Custom,
}

/// <summary>
/// A hidden-layer activation σ of <c>F(X) = U σ(VX)</c>, the one type every part of Noether uses (the
/// <see cref="Activation{T}"/> layer, the two-layer networks, the symmetry and conservation code). It carries the
/// family tag (<see cref="Kind"/>, the name stored in files), the LeakyReLU slope (always given explicitly), the scalar
/// σ, σ′ and σ″ of an elementwise σ, the homogeneity degree α (σ(cz) = c^α σ(z) for scalars c &gt; 0, eq. 3) and the
/// differentiable tape form. Columns of a two-layer network's hidden input are samples: an elementwise σ acts on every
/// entry, a radial σ(z) = f(‖z‖) z acts on every column z ∈ ℝʰ.
/// </summary>
public sealed class Activation
{
    /// <summary>The negative-side slope PyTorch's <c>nn.LeakyReLU()</c> uses, which a stored name "leaky-relu" without a slope means.</summary>
    public const double PyTorchLeakySlope = 0.01;

    private readonly Func<Variable<double>, Variable<double>>? _tape;
    private readonly Func<double, double>? _value;
    private readonly Func<double, double>? _derivative;
    private readonly Func<double, double>? _secondDerivative;

    private Activation(ActivationKind kind, string name, Func<Variable<double>, Variable<double>>? tape,
        Func<double, double>? value, Func<double, double>? derivative, Func<double, double>? secondDerivative, double? degree, double slope = 0)
    {
        (Kind, Name, HomogeneityDegree, Slope) = (kind, name, degree, slope);
        (_tape, _value, _derivative, _secondDerivative) = (tape, value, derivative, secondDerivative);
    }

    /// <summary>The family.</summary>
    public ActivationKind Kind { get; }

    /// <summary>A short name such as "relu", "leaky-relu(0.1)" or "radial 1/(1+r)".</summary>
    public string Name { get; }

    /// <summary>The family's name as results store it: identity, relu, leaky-relu, sigmoid, tanh, radial or custom.</summary>
    public string Family => FamilyName(Kind);

    /// <summary>True when σ acts on each entry independently (every kind except <see cref="ActivationKind.Radial"/>).</summary>
    public bool IsElementwise => Kind != ActivationKind.Radial;

    /// <summary>
    /// α with σ(cz) = c^α σ(z) for every scalar c &gt; 0, or null when σ is not homogeneous. For elementwise σ
    /// this makes the positive diagonal matrices a symmetry with π(g) = g^α (Ex. 3); for radial σ only the
    /// scalar matrices cI are (they commute with the norm).
    /// </summary>
    public double? HomogeneityDegree { get; }

    /// <summary>The negative-side slope s of LeakyReLU (0 for every other kind).</summary>
    public double Slope { get; }

    /// <summary>σ(x) = x.</summary>
    public static Activation Identity { get; } = new(ActivationKind.Identity, "identity", null, x => x, _ => 1, _ => 0, 1);

    /// <summary>σ(x) = max(0, x); σ'(0) is taken as 0 (as PyTorch does), σ'' as 0.</summary>
    public static Activation Relu { get; } = new(ActivationKind.Relu, "relu", null, x => x > 0 ? x : 0, x => x > 0 ? 1 : 0, _ => 0, 1);

    /// <summary>σ(x) = 1 / (1 + e⁻ˣ).</summary>
    public static Activation Sigmoid { get; } = new(ActivationKind.Sigmoid, "sigmoid", null, LogisticValue, x =>
    {
        double s = LogisticValue(x);
        return s * (1 - s);
    }, x =>
    {
        double s = LogisticValue(x);
        return s * (1 - s) * (1 - 2 * s);
    }, null);

    /// <summary>σ(x) = tanh x.</summary>
    public static Activation Tanh { get; } = new(ActivationKind.Tanh, "tanh", null, Math.Tanh, x =>
    {
        double c = Math.Cosh(x);
        return 1 / (c * c);
    }, x =>
    {
        double c = Math.Cosh(x);
        return -2 * Math.Tanh(x) / (c * c);
    }, null);

    /// <summary>
    /// LeakyReLU with negative-side slope <paramref name="slope"/> (any finite number; the family stays LeakyReLU even for
    /// slope 0 or 1, as a network's layer does: see <see cref="Reduced"/> for the simplest family computing the same σ).
    /// </summary>
    public static Activation LeakyRelu(double slope)
    {
        if (!double.IsFinite(slope)) throw Errors.OutOfRange(nameof(slope), slope, "a finite slope");
        return new Activation(ActivationKind.LeakyRelu, string.Create(CultureInfo.InvariantCulture, $"leaky-relu({slope:R})"),
            null, x => x > 0 ? x : slope * x, x => x > 0 ? 1 : slope, _ => 0, 1, slope);
    }

    /// <summary>
    /// The activation of one of the five fixed families; <paramref name="leakySlope"/> is LeakyReLU's slope (ignored by the
    /// others, which have none). Radial and custom σ need their function: use <see cref="Radial"/> or <see cref="Elementwise"/>.
    /// </summary>
    public static Activation Of(ActivationKind kind, double leakySlope) => kind switch
    {
        ActivationKind.Identity => Identity,
        ActivationKind.Relu => Relu,
        ActivationKind.LeakyRelu => LeakyRelu(leakySlope),
        ActivationKind.Sigmoid => Sigmoid,
        ActivationKind.Tanh => Tanh,
        _ => throw Errors.OutOfRange(nameof(kind), kind, FixedFamilies),
    };

    /// <summary>What an error message says the five fixed families are.</summary>
    public const string FixedFamilies = "Identity, Relu, LeakyRelu, Sigmoid or Tanh (Radial and Custom need their function: Activation.Radial, Activation.Elementwise)";

    /// <summary>True for the five families whose σ is fixed by the family (and LeakyReLU's slope) alone.</summary>
    public static bool HasFixedFunction(ActivationKind kind) =>
        kind is ActivationKind.Identity or ActivationKind.Relu or ActivationKind.LeakyRelu or ActivationKind.Sigmoid or ActivationKind.Tanh;

    /// <summary>The same σ under its simplest family: LeakyReLU of slope 1 is the identity (symmetric under all of GL_h) and of slope 0 ReLU.</summary>
    public Activation Reduced => Kind != ActivationKind.LeakyRelu ? this : Slope == 1 ? Identity : Slope == 0 ? Relu : this;

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
        return new Activation(ActivationKind.Radial, name, z => RadialApply(z, scaleOfSquaredNorm), null, null, null, homogeneityDegree);
    }

    /// <summary>The radial activation f(r) = 1 / (1 + r): bounded, not homogeneous; its symmetry algebra is so(h).</summary>
    public static Activation RadialInverseOnePlusNorm { get; } =
        Radial("radial 1/(1+r)", s => Ops.Reciprocal(Ops.AddScalar(Ops.Sqrt(s), 1.0)));

    /// <summary>The radial activation f(r) = r⁻², i.e. σ(z) = z / ‖z‖²: homogeneous of degree −1 (Appendix F.2's h(|W|) = |W|⁻²).</summary>
    public static Activation RadialInverseSquareNorm { get; } = Radial("radial 1/r²", Ops.Reciprocal, -1);

    /// <summary>
    /// A user-given elementwise activation: its tape form (for training and gradients) and its scalar value and
    /// derivatives (for the integral form of eq. 48 and the fast kernels). All must describe the same function;
    /// without <paramref name="secondDerivative"/>, <see cref="SecondDerivative"/> throws.
    /// </summary>
    public static Activation Elementwise(string name, Func<Variable<double>, Variable<double>> tapeFunction,
        Func<double, double> value, Func<double, double> derivative, double? homogeneityDegree = null, Func<double, double>? secondDerivative = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(tapeFunction);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(derivative);
        return new Activation(ActivationKind.Custom, name, tapeFunction, value, derivative, secondDerivative, homogeneityDegree);
    }

    /// <summary>The name results store for a family: identity, relu, leaky-relu, sigmoid, tanh, radial or custom.</summary>
    public static string FamilyName(ActivationKind kind) =>
        (uint)kind < (uint)FamilyNames.Length ? FamilyNames[(int)kind] : throw Errors.OutOfRange(nameof(kind), kind, "a defined ActivationKind");

    // Indexed by the enum's values (fixed: results store the names, earlier versions the first five values).
    private static readonly string[] FamilyNames = ["identity", "relu", "leaky-relu", "sigmoid", "tanh", "radial", "custom"];

    /// <summary>
    /// Parses a name: identity | linear, relu, leaky-relu[:s] (no slope: <see cref="PyTorchLeakySlope"/>; s ≥ 0, s ≠ 1;
    /// s = 0 gives ReLU), sigmoid, tanh, radial (f(r) = 1/(1+r)), radial-inverse-square (f(r) = r⁻²).
    /// </summary>
    public static Activation Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t.StartsWith("leaky-relu", StringComparison.Ordinal) || t.StartsWith("leakyrelu", StringComparison.Ordinal))
        {
            int colon = t.IndexOfAny([':', '=']);
            if (colon < 0) return LeakyRelu(PyTorchLeakySlope);
            if (!double.TryParse(t[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double s))
                throw Errors.Argument(nameof(text), $"activation '{text}': the slope after '{t[colon]}' is not a number");
            if (!(s >= 0) || double.IsInfinity(s) || s == 1)
                throw Errors.OutOfRange("slope", s, "a finite slope ≥ 0 other than 1 (slope 1 is the identity)");
            return LeakyRelu(s).Reduced;
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

    /// <summary>
    /// σ applied to <paramref name="z"/>, recorded on z's tape: elementwise for every kind but radial, which acts on the
    /// columns of a matrix (h×k, columns are samples). Radial and custom σ are given as float64 tape functions only.
    /// </summary>
    public Variable<T> Apply<T>(Variable<T> z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(z);
        switch (Kind)
        {
            case ActivationKind.Identity: return z;
            case ActivationKind.Relu: return Ops.Relu(z);
            case ActivationKind.LeakyRelu: return Ops.LeakyRelu(z, T.CreateChecked(Slope));
            case ActivationKind.Sigmoid: return Ops.Sigmoid(z);
            case ActivationKind.Tanh: return Ops.Tanh(z);
        }
        if (Kind == ActivationKind.Radial && z.Rank != 2) throw Errors.BadShape("radial activation", nameof(z), z.Shape, "a matrix whose columns are the vectors");
        if (z is not Variable<double> d)
            throw Errors.Argument(nameof(z), $"activation '{Name}' is given as a float64 tape function; it cannot act on {typeof(T).Name} values");
        return (Variable<T>)(object)_tape!(d);
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

    /// <summary>The scalar σ'(x) of an elementwise activation (at a kink, the left derivative the tape uses).</summary>
    public double Derivative(double x) => (_derivative ?? throw NotElementwise("σ'(x)"))(x);

    /// <summary>The scalar σ''(x) of an elementwise activation (0 for the piecewise-linear families, away from the kink).</summary>
    public double SecondDerivative(double x) =>
        (_secondDerivative ?? throw (_value is null ? NotElementwise("σ''(x)") : new InvalidOperationException($"activation '{Name}' was built without σ''")))(x);

    /// <summary>
    /// a = σ(z) entry by entry, one switch per call (not per entry): the scalar formulas of <see cref="Value"/>
    /// (<see cref="ActivationKind.Sigmoid"/> as 1/(1 + e⁻ᶻ)), for the buffered two-layer loops.
    /// </summary>
    internal void Apply(ReadOnlySpan<double> z, Span<double> a)
    {
        switch (Kind)
        {
            case ActivationKind.Identity: z.CopyTo(a); break;
            case ActivationKind.Relu: for (int i = 0; i < z.Length; i++) a[i] = z[i] > 0 ? z[i] : 0; break;
            case ActivationKind.LeakyRelu:
                double slope = Slope;
                for (int i = 0; i < z.Length; i++) a[i] = z[i] > 0 ? z[i] : slope * z[i];
                break;
            case ActivationKind.Sigmoid: for (int i = 0; i < z.Length; i++) a[i] = LogisticValue(z[i]); break;
            case ActivationKind.Tanh: for (int i = 0; i < z.Length; i++) a[i] = Math.Tanh(z[i]); break;
            default:
                var f = _value ?? throw NotElementwise("σ(x)");
                for (int i = 0; i < z.Length; i++) a[i] = f(z[i]);
                break;
        }
    }

    /// <summary>
    /// g ⊙= σ'(z) entry by entry, given a = σ(z) (sigmoid' = a(1 − a), tanh' = 1 − a²; at the kink the left derivative, as
    /// the tape's ReLU), one switch per call, for the buffered two-layer loops.
    /// </summary>
    internal void MultiplyByDerivative(ReadOnlySpan<double> z, ReadOnlySpan<double> a, Span<double> g)
    {
        switch (Kind)
        {
            case ActivationKind.Identity: break;
            case ActivationKind.Relu: for (int i = 0; i < g.Length; i++) g[i] *= z[i] > 0 ? 1 : 0; break;
            case ActivationKind.LeakyRelu:
                double slope = Slope;
                for (int i = 0; i < g.Length; i++) g[i] *= z[i] > 0 ? 1 : slope;
                break;
            case ActivationKind.Sigmoid: for (int i = 0; i < g.Length; i++) g[i] *= a[i] * (1 - a[i]); break;
            case ActivationKind.Tanh: for (int i = 0; i < g.Length; i++) g[i] *= 1 - a[i] * a[i]; break;
            default:
                var d = _derivative ?? throw NotElementwise("σ'(x)");
                for (int i = 0; i < g.Length; i++) g[i] *= d(z[i]);
                break;
        }
    }

    /// <summary>
    /// s = σ(z) and d = σ'(z) entry by entry as the tape's Ops compute them (vectorised sigmoid and tanh, ReLU as z times
    /// its 0/1 mask; σ'(0) = slope), one switch per call, for the allocation-free drift kernel.
    /// </summary>
    internal void ApplyWithDerivative(ReadOnlySpan<double> z, Span<double> s, Span<double> d)
    {
        switch (Kind)
        {
            case ActivationKind.Identity:
                z.CopyTo(s);
                d.Fill(1.0);
                break;
            case ActivationKind.Relu:
            case ActivationKind.LeakyRelu:
                double slope = Slope;
                for (int i = 0; i < z.Length; i++)
                {
                    double mask = z[i] > 0 ? 1 : slope;
                    d[i] = mask;
                    s[i] = z[i] * mask;
                }
                break;
            case ActivationKind.Sigmoid:
                TensorPrimitives.Sigmoid(z, s);
                for (int i = 0; i < s.Length; i++) d[i] = s[i] * (1 - s[i]);
                break;
            case ActivationKind.Tanh:
                TensorPrimitives.Tanh(z, s);
                for (int i = 0; i < s.Length; i++) d[i] = 1 - s[i] * s[i];
                break;
            default:
                var f = _value ?? throw NotElementwise("σ(x)");
                var df = _derivative!;
                for (int i = 0; i < z.Length; i++)
                {
                    s[i] = f(z[i]);
                    d[i] = df(z[i]);
                }
                break;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    private InvalidOperationException NotElementwise(string what) =>
        new($"{what} is defined only for elementwise activations; '{Name}' acts on whole columns");

    private static double LogisticValue(double x) => 1 / (1 + Math.Exp(-x));

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
