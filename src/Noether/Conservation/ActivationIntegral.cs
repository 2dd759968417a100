using MathNet.Numerics;
using Noether.Nn;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Conservation;

/// <summary>
/// G(v) = ∫₀^v σ(x)/σ'(x) dx, the V-side term of the conserved quantity of eq. 48 for an elementwise σ with whitened
/// input (X = I): Q = ½Tr[UᵀU] − Σ_{a,j} G(V_aj). The lower limit x₀ = 0 (SPEC): for sigmoid and tanh σ/σ' is finite
/// everywhere, so x₀ only shifts Q by a constant.
/// <para>Closed forms: identity, ReLU, LeakyReLU: σ/σ' = x, G = v²/2 (for ReLU σ/σ' = 0/0 on x &lt; 0; the LeakyReLU
/// limit x is used — with X = I those entries of V get zero gradient, so any choice is conserved). Homogeneous σ of
/// degree α: xσ' = ασ, G = v²/(2α). Sigmoid: σ/σ' = 1/(1 − σ) = 1 + eˣ, G = v + eᵛ − 1. Tanh: σ/σ' = sinh x cosh x,
/// G = ½sinh²v. Any other elementwise σ: adaptive Gauss–Kronrod quadrature (MathNet), which refuses a σ whose σ'
/// vanishes (or σ/σ' is not finite) on [0, v].</para>
/// </summary>
public sealed class ActivationIntegral
{
    private readonly Func<double, double>? _closedForm;

    private ActivationIntegral(Activation activation, Func<double, double>? closedForm, bool quadratic, double quadraticFactor = double.NaN)
    {
        (Activation, _closedForm, IsQuadratic, QuadraticFactor) = (activation, closedForm, quadratic, quadraticFactor);
    }

    /// <summary>c with G(v) = c·v² when <see cref="IsQuadratic"/> (c = 1/(2α)), else NaN.</summary>
    public double QuadraticFactor { get; }

    /// <summary>σ.</summary>
    public Activation Activation { get; }

    /// <summary>True when G has a closed form here (otherwise <see cref="Evaluate"/> integrates numerically).</summary>
    public bool HasClosedForm => _closedForm is not null;

    /// <summary>True when G(v) = v²/(2α) (homogeneous σ): the eq. 48 form is then a quadratic conserved quantity.</summary>
    public bool IsQuadratic { get; }

    /// <summary>Relative accuracy asked of the quadrature.</summary>
    public const double QuadratureTolerance = 1e-13;

    /// <summary>The integral for σ; throws for a σ that is not elementwise (the eq. 48 form needs σ: ℝ → ℝ).</summary>
    public static ActivationIntegral For(Activation activation)
    {
        ArgumentNullException.ThrowIfNull(activation);
        if (!activation.IsElementwise)
            throw Errors.Argument(nameof(activation), $"eq. 48 needs an elementwise activation σ: ℝ → ℝ, but '{activation.Name}' acts on whole columns (radial); use the angular-momentum identity");
        return activation.Kind switch
        {
            ActivationKind.Identity or ActivationKind.Relu or ActivationKind.LeakyRelu => new(activation, v => 0.5 * v * v, true, 0.5),
            ActivationKind.Sigmoid => new(activation, v => v + Math.Exp(v) - 1, false),
            ActivationKind.Tanh => new(activation, v =>
            {
                double s = Math.Sinh(v);
                return 0.5 * s * s;
            }, false),
            _ when activation.HomogeneityDegree is double alpha => new(activation, v => v * v / (2 * alpha), true, 1 / (2 * alpha)),
            _ => new(activation, null, false),
        };
    }

    /// <summary>
    /// The two terms of the scalar eq. 48 form on a flat θ = [U row-major, V row-major] whose first <paramref name="uCount"/>
    /// entries are U: f₁ = ½‖U‖², f₂ = Σ_{a,j} G(V_aj) (Q = f₁ − f₂). Sums of squares run through TensorPrimitives (G(v) = c·v²
    /// for quadratic G), the gradient-descent drift experiment's hot path.
    /// </summary>
    public (double First, double Second) IntegralFormTerms(ReadOnlySpan<double> theta, int uCount)
    {
        if (uCount < 0 || uCount > theta.Length) throw Errors.OutOfRange(nameof(uCount), uCount, $"a count of U entries in [0, {theta.Length}]");
        double f1 = 0.5 * TensorPrimitives.SumOfSquares(theta[..uCount]);
        var v = theta[uCount..];
        if (IsQuadratic) return (f1, QuadraticFactor * TensorPrimitives.SumOfSquares(v));
        double f2 = 0;
        foreach (var x in v) f2 += Evaluate(x);
        return (f1, f2);
    }

    /// <summary>G(v): the closed form when there is one, quadrature otherwise.</summary>
    public double Evaluate(double v) => _closedForm is { } f ? f(v) : Quadrature(v);

    /// <summary>The closed form G(v); throws when σ has none.</summary>
    public double ClosedForm(double v) =>
        (_closedForm ?? throw new InvalidOperationException($"'{Activation.Name}' has no closed-form ∫σ/σ'; use Quadrature"))(v);

    /// <summary>G(v) by adaptive Gauss–Kronrod quadrature of σ(x)/σ'(x) over [0, v], always numerical.</summary>
    public double Quadrature(double v)
    {
        if (!double.IsFinite(v)) throw Errors.OutOfRange(nameof(v), v, "a finite number");
        if (v == 0) return 0;
        double a = Math.Min(0, v), b = Math.Max(0, v);
        double result = Integrate.GaussKronrod(Ratio, a, b, out _, out _, QuadratureTolerance, 30, 21);
        return v > 0 ? result : -result;
    }

    /// <summary>σ(x)/σ'(x), refusing points where it is not finite.</summary>
    public double Ratio(double x)
    {
        double d = Activation.Derivative(x);
        double r = Activation.Value(x) / d;
        if (!double.IsFinite(r))
            throw Errors.Argument(nameof(x), string.Create(CultureInfo.InvariantCulture,
                $"eq. 48 cannot handle '{Activation.Name}': σ(x)/σ'(x) is not finite at x = {x:G6} (σ = {Activation.Value(x):G6}, σ' = {d:G6}); the form needs σ' ≠ 0 between 0 and each V_aj"));
        return r;
    }
}
