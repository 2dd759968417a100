using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;

namespace Noether.Conservation;

/// <summary>
/// The two terms of a conserved quantity written as a difference Q = First − Second, componentwise (a scalar Q
/// has one component, the h×h imbalance matrix h² row-major). Every Q of the paper has this form (a U-term minus
/// a V-term), and the split is what the normalised drift of eq. 43 divides by.
/// </summary>
/// <param name="First">The U-side term, e.g. UᵀU or ½Tr UᵀU.</param>
/// <param name="Second">The V-side term, e.g. VVᵀ or Σ∫σ/σ'.</param>
public sealed record QuantityTerms(double[] First, double[] Second)
{
    /// <summary>Q = First − Second.</summary>
    public double[] Value()
    {
        var q = new double[First.Length];
        for (int i = 0; i < q.Length; i++) q[i] = First[i] - Second[i];
        return q;
    }

    /// <summary>max_i (|First_i| + |Second_i|): the size of the terms Q is the difference of.</summary>
    public double Magnitude()
    {
        double m = 0;
        for (int i = 0; i < First.Length; i++) m = Math.Max(m, Math.Abs(First[i]) + Math.Abs(Second[i]));
        return m;
    }
}

/// <summary>
/// A function Q(θ) that gradient flow conserves for some symmetry (Appendix C), evaluated on the parameter list of a
/// network. Two-layer lists are [U, V]; for an MLP [W₁, …, W_L] pick the pair with the indices (U = W_{i+1}, V = W_i).
/// </summary>
public abstract class ConservedQuantity
{
    /// <summary>A quantity of the pair (θ[uIndex], θ[vIndex]).</summary>
    protected ConservedQuantity(int uIndex, int vIndex)
    {
        if (uIndex < 0) throw Errors.OutOfRange(nameof(uIndex), uIndex, "a non-negative index");
        if (vIndex < 0) throw Errors.OutOfRange(nameof(vIndex), vIndex, "a non-negative index");
        UIndex = uIndex;
        VIndex = vIndex;
    }

    /// <summary>Position of U (the layer after the hidden one) in the parameter list.</summary>
    public int UIndex { get; }

    /// <summary>Position of V (the layer into the hidden one) in the parameter list.</summary>
    public int VIndex { get; }

    /// <summary>A short name, e.g. "UᵀU − VVᵀ".</summary>
    public abstract string Name { get; }

    /// <summary>
    /// True when Q is a quadratic form Q(θ) = ⟨θ, Kθ⟩ with ⟨∇L, Kθ⟩ = 0. Then one gradient-descent step changes it by
    /// exactly Q(θ − ηg) − Q(θ) = −2η⟨g, Kθ⟩ + η²Q(g) = η²Q(g): eq. 41, generalised from Tr[UᵀU − VVᵀ] to every
    /// quadratic conserved quantity (the matrix UᵀU − VVᵀ gives η²(G_UᵀG_U − G_V G_Vᵀ), diag(αUᵀU − VVᵀ) its diagonal).
    /// </summary>
    public virtual bool IsQuadratic => false;

    /// <summary>The shape of Q: [] scalar, [h] a vector, [h, h] a matrix.</summary>
    public abstract int[] ValueShape(int h);

    /// <summary>The two terms at θ.</summary>
    public QuantityTerms Terms(IReadOnlyList<Tensor<double>> theta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        if (UIndex >= theta.Count || VIndex >= theta.Count)
            throw Errors.Argument(nameof(theta), $"{Name}: the parameter list has {theta.Count} tensors but U is at {UIndex} and V at {VIndex}");
        var u = theta[UIndex];
        var v = theta[VIndex];
        ArgumentNullException.ThrowIfNull(u, $"theta[{UIndex}]");
        ArgumentNullException.ThrowIfNull(v, $"theta[{VIndex}]");
        if (u.Rank != 2 || v.Rank != 2 || u.Dim(1) != v.Dim(0))
            throw Errors.ShapeMismatch(Name, "U", u.Shape, "V", v.Shape, "U must be m×h and V h×n");
        return ComputeTerms(u, v);
    }

    /// <summary>Q(θ).</summary>
    public double[] Evaluate(IReadOnlyList<Tensor<double>> theta) => Terms(theta).Value();

    /// <summary>Q(U, V) for a two-layer network.</summary>
    public double[] Evaluate(TwoLayerParameters theta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        return ComputeTerms(theta.U, theta.V).Value();
    }

    /// <summary>The terms for valid U (m×h) and V (h×n).</summary>
    protected abstract QuantityTerms ComputeTerms(Tensor<double> u, Tensor<double> v);

    /// <summary>The whole matrix Q = UᵀU − VVᵀ (h×h), conserved for linear layers (Ex. 7; for an MLP, W_{i+1}ᵀW_{i+1} − W_iW_iᵀ).</summary>
    public static ConservedQuantity Imbalance(int uIndex = 0, int vIndex = 1) => new ImbalanceMatrix(uIndex, vIndex);

    /// <summary>The imbalance matrix of hidden layer i (1 ≤ i &lt; L) of an MLP with parameter list [W₁, …, W_L].</summary>
    public static ConservedQuantity LayerImbalance(int hiddenLayer)
    {
        if (hiddenLayer < 1) throw Errors.OutOfRange(nameof(hiddenLayer), hiddenLayer, "a hidden layer index ≥ 1");
        return new ImbalanceMatrix(hiddenLayer, hiddenLayer - 1);
    }

    /// <summary>The scalar c·Tr[UᵀU − VVᵀ]: c = 1 in eq. 41, c = ½ in eq. 45.</summary>
    public static ConservedQuantity ImbalanceTrace(double factor = 0.5, int uIndex = 0, int vIndex = 1) => new ImbalanceTrace(factor, uIndex, vIndex);

    /// <summary>diag(αUᵀU − VVᵀ) (Ex. 9), conserved for elementwise σ homogeneous of degree α (ReLU, LeakyReLU: α = 1).</summary>
    public static ConservedQuantity HomogeneousDiagonal(double alpha = 1, int uIndex = 0, int vIndex = 1) => new HomogeneousDiagonal(alpha, uIndex, vIndex);

    /// <summary>Q_M(θ) = ⟨θ, M̄_θ⟩ for symmetric M in the algebra of <paramref name="group"/> (eq. 25; see <see cref="MatrixGroup.QuadraticForm"/>).</summary>
    public static ConservedQuantity Quadratic(MatrixGroup group, Tensor<double> m, int uIndex = 0, int vIndex = 1) => new QuadraticFormQuantity(group, m, uIndex, vIndex);

    /// <summary>The scalar eq. 48 form ½Tr[UᵀU] − Σ_{a,j} ∫₀^{V_aj} σ/σ' (conserved for elementwise σ with whitened input X = I).</summary>
    public static ConservedQuantity IntegralForm(Activation activation, int uIndex = 0, int vIndex = 1) =>
        new IntegralFormQuantity(ActivationIntegral.For(activation), perUnit: false, uIndex, vIndex);

    /// <summary>
    /// The eq. 48 form per hidden unit a: ½(UᵀU)_aa − Σ_j ∫₀^{V_aj} σ/σ' (h values, each conserved on its own with X = I:
    /// d/dt of both terms is ⟨(UᵀR)_a, σ(V_a)⟩).
    /// </summary>
    public static ConservedQuantity IntegralFormPerUnit(Activation activation, int uIndex = 0, int vIndex = 1) =>
        new IntegralFormQuantity(ActivationIntegral.For(activation), perUnit: true, uIndex, vIndex);

    /// <summary>
    /// The natural conserved quantity of a two-layer net with activation σ: UᵀU − VVᵀ for the identity, diag(αUᵀU − VVᵀ)
    /// for homogeneous elementwise σ, the per-unit eq. 48 form for other elementwise σ (valid only with X = I); radial σ
    /// has none of the form Q_M (Ex. 10): use <see cref="RadialAngularMomentum"/>.
    /// </summary>
    public static ConservedQuantity ForActivation(Activation activation)
    {
        ArgumentNullException.ThrowIfNull(activation);
        if (activation.Kind == ActivationKind.Identity) return Imbalance();
        if (!activation.IsElementwise)
            throw Errors.Argument(nameof(activation), $"'{activation.Name}' is radial: O(h) has no symmetric algebra elements, so there is no nontrivial Q_M (Ex. 10); check the angular-momentum identity instead");
        if (activation.HomogeneityDegree is double alpha) return HomogeneousDiagonal(alpha);
        return IntegralFormPerUnit(activation);
    }

    /// <summary>
    /// The imbalance matrix UᵀU − VVᵀ (Ex. 7) as an h×h tensor, symmetrised ((A + Aᵀ)/2) so the rounding of the two Gram
    /// products cannot leave it asymmetric: the form teleportation solves for and reports.
    /// </summary>
    public static Tensor<double> ImbalanceMatrixAt(Tensor<double> u, Tensor<double> v)
    {
        CheckPair(u, v, "UᵀU − VVᵀ");
        return LinearAlgebra.SymmetricPart(LinearAlgebra.Multiply(u, u, transposeA: true) - LinearAlgebra.Multiply(v, v, transposeB: true));
    }

    /// <summary>Tr[UᵀU − VVᵀ] = ‖U‖²_F − ‖V‖²_F (the quantity of eq. 41; twice the scalar Q of eq. 48 for linear and ReLU nets).</summary>
    public static double ImbalanceTraceAt(Tensor<double> u, Tensor<double> v)
    {
        CheckPair(u, v, "Tr[UᵀU − VVᵀ]");
        return TensorOps.Dot(u, u) - TensorOps.Dot(v, v);
    }

    /// <summary>
    /// The conserved quantity of <paramref name="group"/> at θ as teleportation reports it: UᵀU − VVᵀ row-major (h² values,
    /// symmetrised as in <see cref="ImbalanceMatrixAt"/>) for GL_h, its diagonal diag(UᵀU − VVᵀ) (Ex. 9) for positive scaling with α = 1.
    /// </summary>
    /// <exception cref="ArgumentException">Another group (O(h) has no nontrivial Q_M, Ex. 10; scaling with α ≠ 1 conserves diag(αUᵀU − VVᵀ)).</exception>
    public static double[] OfGroup(MatrixGroup group, TwoLayerParameters theta)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(theta);
        var q = ImbalanceMatrixAt(theta.U, theta.V);
        return group switch
        {
            GeneralLinearGroup => q.Data,
            PositiveScalingGroup { Degree: 1 } => Diagonal(q),
            _ => throw Errors.Argument(nameof(group), $"conserved quantity of {group.Name}: only GL_h (UᵀU − VVᵀ) and positive scaling with α = 1 (diag(UᵀU − VVᵀ)) are supported here"),
        };
    }

    /// <summary>
    /// The scalar conserved quantity of gradient flow for whitened input (X = I), paper eq. 48:
    /// Q = ½Tr[UᵀU] − Σ_{a,j} G(V_aj) with G' = σ/σ' and G(0) = 0 (SPEC "Conserved quantities"): G(v) = v²/2 for the
    /// identity, ReLU and LeakyReLU; v + eᵛ − 1 for the sigmoid; ½sinh²v for tanh. For the linear network this is
    /// ½Tr[UᵀU − VVᵀ], the trace of the conserved matrix ½(UᵀU − VVᵀ). Accumulated in one running sum (U's entries, then
    /// V's), unlike <see cref="IntegralForm"/>'s per-unit terms; the convergence and sharpness sweeps report this value.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="activation"/> is radial (<see cref="ActivationIntegral.For"/>).</exception>
    public static double IntegralFormAt(Activation activation, Tensor<double> u, Tensor<double> v)
    {
        var g = ActivationIntegral.For(activation);
        ArgumentNullException.ThrowIfNull(u);
        ArgumentNullException.ThrowIfNull(v);
        double q = 0;
        foreach (var x in u.Data) q += 0.5 * x * x;
        foreach (var x in v.Data) q -= g.Evaluate(x);
        return q;
    }

    // A scale of the quadratic terms (c of c·Tr, α of diag(αUᵀU − VVᵀ)): zero or non-finite makes Q meaningless.
    private protected static double FiniteNonzero(double value, string name, string expected) =>
        double.IsFinite(value) && value != 0 ? value : throw Errors.OutOfRange(name, value, expected);

    private static void CheckPair(Tensor<double> u, Tensor<double> v, string what)
    {
        ArgumentNullException.ThrowIfNull(u);
        ArgumentNullException.ThrowIfNull(v);
        if (u.Rank != 2 || v.Rank != 2 || u.Dim(1) != v.Dim(0))
            throw Errors.ShapeMismatch(what, "U", u.Shape, "V", v.Shape, "U must be m×h and V h×n");
    }

    // c·Σ_i U_ia² per hidden unit a, summed row by row (c·x·x per entry, the order every per-unit U-term uses).
    internal static double[] ScaledColumnSquares(Tensor<double> u, double c)
    {
        int m = u.Dim(0), h = u.Dim(1);
        var sums = new double[h];
        for (int i = 0; i < m; i++)
            for (int a = 0; a < h; a++)
            {
                double x = u.Data[i * h + a];
                sums[a] += c * x * x;
            }
        return sums;
    }

    internal static double[] Flatten(Tensor<double> t) => (double[])t.Data.Clone();

    internal static double[] Diagonal(Tensor<double> t, double scale = 1)
    {
        int h = t.Dim(0);
        var d = new double[h];
        for (int i = 0; i < h; i++) d[i] = scale * t.Data[i * h + i];
        return d;
    }
}

/// <summary>UᵀU − VVᵀ (Ex. 7).</summary>
internal sealed class ImbalanceMatrix(int uIndex, int vIndex) : ConservedQuantity(uIndex, vIndex)
{
    public override string Name => "UᵀU − VVᵀ";
    public override bool IsQuadratic => true;
    public override int[] ValueShape(int h) => [h, h];
    protected override QuantityTerms ComputeTerms(Tensor<double> u, Tensor<double> v) =>
        new(Flatten(LinearAlgebra.Multiply(u, u, transposeA: true)), Flatten(LinearAlgebra.Multiply(v, v, transposeB: true)));
}

/// <summary>c·Tr[UᵀU − VVᵀ].</summary>
internal sealed class ImbalanceTrace(double factor, int uIndex, int vIndex) : ConservedQuantity(uIndex, vIndex)
{
    private readonly double _factor = FiniteNonzero(factor, nameof(factor), "a finite nonzero factor");

    public override string Name => _factor == 1 ? "Tr[UᵀU − VVᵀ]" : FormattableString.Invariant($"{_factor:G4}·Tr[UᵀU − VVᵀ]");
    public override bool IsQuadratic => true;
    public override int[] ValueShape(int h) => [];
    protected override QuantityTerms ComputeTerms(Tensor<double> u, Tensor<double> v) =>
        new([_factor * TensorOps.Dot(u, u)], [_factor * TensorOps.Dot(v, v)]);
}

/// <summary>diag(αUᵀU − VVᵀ) (Ex. 9).</summary>
internal sealed class HomogeneousDiagonal(double alpha, int uIndex, int vIndex) : ConservedQuantity(uIndex, vIndex)
{
    private readonly double _alpha = FiniteNonzero(alpha, nameof(alpha), "a finite nonzero homogeneity degree");

    public override string Name => _alpha == 1 ? "diag(UᵀU − VVᵀ)" : FormattableString.Invariant($"diag({_alpha:G4}·UᵀU − VVᵀ)");
    public override bool IsQuadratic => true;
    public override int[] ValueShape(int h) => [h];

    protected override QuantityTerms ComputeTerms(Tensor<double> u, Tensor<double> v)
    {
        int h = u.Dim(1), n = v.Dim(1);
        var first = ScaledColumnSquares(u, _alpha);
        var second = new double[h];
        for (int a = 0; a < h; a++)
            for (int j = 0; j < n; j++)
            {
                double x = v.Data[a * n + j];
                second[a] += x * x;
            }
        return new QuantityTerms(first, second);
    }
}

/// <summary>Q_M = ⟨θ, M̄θ⟩ = ⟨VVᵀ, M⟩ − ⟨UᵀU, dπ(M)⟩ for symmetric M (eq. 25).</summary>
internal sealed class QuadraticFormQuantity : ConservedQuantity
{
    private readonly MatrixGroup _group;
    private readonly Tensor<double> _m;
    private readonly Tensor<double> _dpi;

    public QuadraticFormQuantity(MatrixGroup group, Tensor<double> m, int uIndex, int vIndex) : base(uIndex, vIndex)
    {
        ArgumentNullException.ThrowIfNull(group);
        group.ValidateAlgebraElement(m, nameof(m));
        // Reuse the group's symmetric-M check on a tiny probe so the message is the same everywhere.
        group.QuadraticForm(m, new TwoLayerParameters(Tensor<double>.Zeros(1, group.Size), Tensor<double>.Zeros(group.Size, 1)));
        _group = group;
        _m = m.Clone();
        _dpi = group.AlgebraRepresentation(_m);
    }

    public override string Name => $"Q_M = ⟨θ, M̄θ⟩ ({_group.Name})";
    public override bool IsQuadratic => true;
    public override int[] ValueShape(int h) => [];

    protected override QuantityTerms ComputeTerms(Tensor<double> u, Tensor<double> v)
    {
        if (u.Dim(1) != _group.Size) throw Errors.Argument(nameof(u), $"{Name}: hidden width {u.Dim(1)} but the group acts on {_group.Size}");
        return new([TensorOps.Dot(LinearAlgebra.Multiply(v, v, transposeB: true), _m)], [TensorOps.Dot(LinearAlgebra.Multiply(u, u, transposeA: true), _dpi)]);
    }
}

/// <summary>The eq. 48 form, scalar or per hidden unit.</summary>
internal sealed class IntegralFormQuantity(ActivationIntegral integral, bool perUnit, int uIndex, int vIndex) : ConservedQuantity(uIndex, vIndex)
{
    public override string Name => perUnit
        ? $"½(UᵀU)_aa − Σ_j ∫₀^V_aj σ/σ' ({integral.Activation.Name})"
        : $"½Tr[UᵀU] − Σ ∫₀^V σ/σ' ({integral.Activation.Name})";

    // Quadratic exactly when G(v) = v²/(2α), i.e. for homogeneous σ.
    public override bool IsQuadratic => integral.IsQuadratic;

    public override int[] ValueShape(int h) => perUnit ? [h] : [];

    protected override QuantityTerms ComputeTerms(Tensor<double> u, Tensor<double> v)
    {
        int h = u.Dim(1), n = v.Dim(1);
        var first = ScaledColumnSquares(u, 0.5);
        var second = new double[h];
        for (int a = 0; a < h; a++)
            for (int j = 0; j < n; j++)
                second[a] += integral.Evaluate(v.Data[a * n + j]);
        if (perUnit) return new QuantityTerms(first, second);
        return new QuantityTerms([first.Sum()], [second.Sum()]);
    }
}
