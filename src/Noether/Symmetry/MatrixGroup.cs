using Noether.Nn;
using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>
/// A matrix Lie group G ⊆ GL_h with a representation π acting on the hidden layer of F(X) = U σ(VX) by
/// eq. 12: g·(U, V) = (U π(g)⁻¹, g V), and its Lie algebra 𝔤 acting infinitesimally by eq. 13:
/// M̄_θ = (−U dπ(M), M V). The action is a symmetry of the loss when σ(gz) = π(g)σ(z) (Prop. 7).
/// Every public entry point validates its group or algebra element and says what is wrong with it.
/// </summary>
public abstract class MatrixGroup
{
    /// <summary>A group of h×h matrices.</summary>
    protected MatrixGroup(int size)
    {
        Errors.ThrowIfNotPositive(size, nameof(size));
        Size = size;
    }

    /// <summary>h: the group consists of h×h matrices.</summary>
    public int Size { get; }

    /// <summary>E.g. "GL(5)", "positive scaling (α = 1) on ℝ^5", "O(5)".</summary>
    public abstract string Name { get; }

    /// <summary>dim 𝔤.</summary>
    public abstract int AlgebraDimension { get; }

    /// <summary>A basis of 𝔤: E_ij for gl_h, E_kk for the diagonal algebra, E_kl − E_lk (k &lt; l) for o(h).</summary>
    public abstract IReadOnlyList<Tensor<double>> AlgebraBasis();

    /// <summary>A random element of 𝔤 with N(0, scale²) coordinates in the basis above.</summary>
    public abstract Tensor<double> RandomAlgebraElement(Random random, double scale = 1);

    /// <summary>Throws an <see cref="ArgumentException"/> naming what is wrong unless <paramref name="m"/> ∈ 𝔤.</summary>
    public abstract void ValidateAlgebraElement(Tensor<double> m, string name = "M");

    /// <summary>Throws an <see cref="ArgumentException"/> naming what is wrong unless <paramref name="g"/> ∈ G.</summary>
    public abstract void ValidateElement(Tensor<double> g, string name = "g");

    /// <summary>π(g) for a valid g (not validated: call <see cref="ValidateElement"/> first).</summary>
    public abstract Tensor<double> Representation(Tensor<double> g);

    /// <summary>π(g)⁻¹ = π(g⁻¹) for a valid g (not validated).</summary>
    public abstract Tensor<double> RepresentationOfInverse(Tensor<double> g);

    /// <summary>dπ(M) = d/dt π(exp tM) at t = 0 (not validated).</summary>
    public abstract Tensor<double> AlgebraRepresentation(Tensor<double> m);

    /// <summary>exp(tM) for M ∈ 𝔤 (B.2, the exponential map), by scaling and squaring.</summary>
    public Tensor<double> Exp(Tensor<double> m, double t = 1)
    {
        ValidateAlgebraElement(m, nameof(m));
        if (!double.IsFinite(t)) throw Errors.OutOfRange(nameof(t), t, "a finite number");
        return LinearAlgebra.Exponential(m * t);
    }

    /// <summary>
    /// I + εM for M ∈ 𝔤, validated as an element of G (for O(h) it is orthogonal only to first order in ε and is
    /// rejected unless ε‖M‖ is below the tolerance's square root; use <see cref="Exp"/> for exact elements).
    /// </summary>
    public Tensor<double> IdentityPlus(Tensor<double> m, double epsilon)
    {
        ValidateAlgebraElement(m, nameof(m));
        if (!double.IsFinite(epsilon)) throw Errors.OutOfRange(nameof(epsilon), epsilon, "a finite number");
        var g = m * epsilon;
        for (int i = 0; i < Size; i++) g.Data[i * Size + i] += 1;
        ValidateElement(g, $"I + {epsilon.ToString("G4", CultureInfo.InvariantCulture)}·M");
        return g;
    }

    /// <summary>exp(M) for a random M ∈ 𝔤 with coordinate scale <paramref name="scale"/>.</summary>
    public Tensor<double> RandomElement(Random random, double scale = 1) => Exp(RandomAlgebraElement(random, scale));

    /// <summary>g·(U, V) = (U π(g)⁻¹, g V) (eq. 12), after validating g.</summary>
    public TwoLayerParameters Apply(Tensor<double> g, TwoLayerParameters theta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        CheckWidth(theta);
        ValidateElement(g, nameof(g));
        return new TwoLayerParameters(LinearAlgebra.Multiply(theta.U, RepresentationOfInverse(g)), LinearAlgebra.Multiply(g, theta.V));
    }

    /// <summary>The infinitesimal action M̄_θ = (−U dπ(M), M V) (eq. 13), after validating M.</summary>
    public TwoLayerParameters InfinitesimalAction(Tensor<double> m, TwoLayerParameters theta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        CheckWidth(theta);
        ValidateAlgebraElement(m, nameof(m));
        return new TwoLayerParameters(LinearAlgebra.Multiply(theta.U, AlgebraRepresentation(m)) * -1, LinearAlgebra.Multiply(m, theta.V));
    }

    /// <summary>
    /// Q_M(θ) = ⟨θ, M̄_θ⟩ = −⟨UᵀU, dπ(M)⟩ + ⟨VVᵀ, M⟩ for symmetric M ∈ 𝔤 (eq. 25). Since M̄ is linear in θ and, for
    /// symmetric M, a symmetric operator, dQ_M/dt = 2⟨θ̇, M̄_θ⟩ = −2⟨∇L, M̄_θ⟩ = 0 under gradient flow (Prop. 12).
    /// Eq. 28 prints the opposite sign, Tr[U dπ(M) Uᵀ] − Tr[VᵀMV]; either is conserved.
    /// </summary>
    public double QuadraticForm(Tensor<double> m, TwoLayerParameters theta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        ValidateAlgebraElement(m, nameof(m));
        double asym = TensorOps.MaxAbs(LinearAlgebra.AntisymmetricPart(m));
        if (asym > 1e-12 * Math.Max(1, TensorOps.MaxAbs(m)))
            throw Errors.Argument(nameof(m), string.Create(CultureInfo.InvariantCulture,
                $"Q_M needs a symmetric M (Prop. 12: the antisymmetric part gives Q ≡ 0); M's antisymmetric part has max entry {asym:G3}"));
        return theta.Inner(InfinitesimalAction(m, theta));
    }

    /// <summary>
    /// The linear symmetry group a hidden activation admits on width h (Prop. 7): GL_h for the identity, positive
    /// scaling with π(g) = g^α for elementwise homogeneous σ (Ex. 3–4), O(h) for radial σ (Ex. 5), or null
    /// when there is none (sigmoid, tanh, a non-homogeneous custom σ: see <see cref="SymmetryDiscovery"/>).
    /// </summary>
    /// <param name="activation">σ.</param>
    /// <param name="h">The hidden width.</param>
    /// <param name="conditionLimit">For GL_h: the largest accepted condition number of an element (<see cref="GeneralLinearGroup"/>).</param>
    public static MatrixGroup? ForActivation(Activation activation, int h, double conditionLimit = 1e12)
    {
        ArgumentNullException.ThrowIfNull(activation);
        return activation.Kind switch
        {
            ActivationKind.Identity => new GeneralLinearGroup(h, conditionLimit),
            ActivationKind.Radial => new OrthogonalGroup(h),
            _ when activation.HomogeneityDegree is double alpha => new PositiveScalingGroup(h, alpha),
            _ => null,
        };
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    internal void CheckWidth(TwoLayerParameters theta)
    {
        if (theta.H != Size)
            throw Errors.Argument(nameof(theta), $"{Name} acts on a hidden width of {Size}, but the parameters {theta} have h = {theta.H}");
    }

    internal Tensor<double> Unit(int i, int j)
    {
        var e = Tensor<double>.Zeros(Size, Size);
        e.Data[i * Size + j] = 1;
        return e;
    }
}

/// <summary>GL_h with π(g) = g: the symmetry of linear layers (Ex. 2); 𝔤 = gl_h, dπ(M) = M.</summary>
public sealed class GeneralLinearGroup : MatrixGroup
{
    /// <summary>GL_h; elements whose condition number exceeds <paramref name="conditionLimit"/> are rejected as singular.</summary>
    public GeneralLinearGroup(int size, double conditionLimit = 1e12) : base(size)
    {
        Errors.ThrowIfNotPositive(conditionLimit, nameof(conditionLimit));
        ConditionLimit = conditionLimit;
    }

    /// <summary>Largest accepted condition number σ_max/σ_min of an element.</summary>
    public double ConditionLimit { get; }

    /// <inheritdoc/>
    public override string Name => $"GL({Size})";

    /// <inheritdoc/>
    public override int AlgebraDimension => Size * Size;

    /// <inheritdoc/>
    public override IReadOnlyList<Tensor<double>> AlgebraBasis()
    {
        var basis = new List<Tensor<double>>(Size * Size);
        for (int i = 0; i < Size; i++)
            for (int j = 0; j < Size; j++)
                basis.Add(Unit(i, j));
        return basis;
    }

    /// <inheritdoc/>
    public override Tensor<double> RandomAlgebraElement(Random random, double scale = 1) => Gaussian.Matrix(random, Size, Size, scale);

    /// <inheritdoc/>
    public override void ValidateAlgebraElement(Tensor<double> m, string name = "M") => LinearAlgebra.CheckSquare(m, Size, Name + " algebra", name);

    /// <inheritdoc/>
    public override void ValidateElement(Tensor<double> g, string name = "g")
    {
        LinearAlgebra.CheckSquare(g, Size, Name, name);
        var s = LinearAlgebra.SingularValues(g, BlasProvider.Managed);
        double condition = s[^1] == 0 ? double.PositiveInfinity : s[0] / s[^1];
        if (!(condition <= ConditionLimit))
            throw Errors.Argument(name, string.Create(CultureInfo.InvariantCulture,
                $"{Name}: {name} is singular to working precision: smallest singular value {s[^1]:G3}, largest {s[0]:G3}, condition number {condition:G3} > limit {ConditionLimit:G3}"));
    }

    /// <inheritdoc/>
    public override Tensor<double> Representation(Tensor<double> g) => g;

    /// <inheritdoc/>
    public override Tensor<double> RepresentationOfInverse(Tensor<double> g) => LinearAlgebra.Inverse(g);

    /// <inheritdoc/>
    public override Tensor<double> AlgebraRepresentation(Tensor<double> m) => m;
}

/// <summary>
/// Positive diagonal matrices with π(g) = g^α: the symmetry of an elementwise activation homogeneous of degree α
/// (Ex. 3; ReLU and LeakyReLU have α = 1, Ex. 4). 𝔤 = diagonal matrices, dπ(M) = αM.
/// </summary>
public sealed class PositiveScalingGroup : MatrixGroup
{
    /// <summary>The positive scaling group on ℝʰ with homogeneity degree α ≠ 0.</summary>
    public PositiveScalingGroup(int size, double degree = 1, double offDiagonalTolerance = 1e-12) : base(size)
    {
        if (!double.IsFinite(degree) || degree == 0) throw Errors.OutOfRange(nameof(degree), degree, "a finite nonzero homogeneity degree α");
        if (!(offDiagonalTolerance >= 0)) throw Errors.OutOfRange(nameof(offDiagonalTolerance), offDiagonalTolerance, "≥ 0");
        Degree = degree;
        OffDiagonalTolerance = offDiagonalTolerance;
    }

    /// <summary>α.</summary>
    public double Degree { get; }

    /// <summary>Off-diagonal entries up to this (relative to the largest diagonal entry) are accepted as zero.</summary>
    public double OffDiagonalTolerance { get; }

    /// <inheritdoc/>
    public override string Name => string.Create(CultureInfo.InvariantCulture, $"positive scaling (α = {Degree:G4}) on ℝ^{Size}");

    /// <inheritdoc/>
    public override int AlgebraDimension => Size;

    /// <inheritdoc/>
    public override IReadOnlyList<Tensor<double>> AlgebraBasis() => Enumerable.Range(0, Size).Select(k => Unit(k, k)).ToArray();

    /// <inheritdoc/>
    public override Tensor<double> RandomAlgebraElement(Random random, double scale = 1)
    {
        var m = Tensor<double>.Zeros(Size, Size);
        for (int k = 0; k < Size; k++) m.Data[k * Size + k] = scale * Gaussian.Next(random);
        return m;
    }

    /// <inheritdoc/>
    public override void ValidateAlgebraElement(Tensor<double> m, string name = "M")
    {
        LinearAlgebra.CheckSquare(m, Size, Name + " algebra", name);
        CheckDiagonal(m, name, "algebra element");
    }

    /// <inheritdoc/>
    public override void ValidateElement(Tensor<double> g, string name = "g")
    {
        LinearAlgebra.CheckSquare(g, Size, Name, name);
        CheckDiagonal(g, name, "element");
        for (int k = 0; k < Size; k++)
        {
            double d = g.Data[k * Size + k];
            if (!(d > 0))
                throw Errors.Argument(name, string.Create(CultureInfo.InvariantCulture,
                    $"{Name}: {name}[{k},{k}] = {d:G4} is not positive; the scaling group has positive diagonal entries only"));
        }
    }

    /// <inheritdoc/>
    public override Tensor<double> Representation(Tensor<double> g) => DiagonalPower(g, Degree);

    /// <inheritdoc/>
    public override Tensor<double> RepresentationOfInverse(Tensor<double> g) => DiagonalPower(g, -Degree);

    /// <inheritdoc/>
    public override Tensor<double> AlgebraRepresentation(Tensor<double> m) => m * Degree;

    private void CheckDiagonal(Tensor<double> a, string name, string what)
    {
        double diag = 0;
        for (int k = 0; k < Size; k++) diag = Math.Max(diag, Math.Abs(a.Data[k * Size + k]));
        for (int i = 0; i < Size; i++)
            for (int j = 0; j < Size; j++)
                if (i != j && Math.Abs(a.Data[i * Size + j]) > OffDiagonalTolerance * diag)
                    throw Errors.Argument(name, string.Create(CultureInfo.InvariantCulture,
                        $"{Name}: {name}[{i},{j}] = {a.Data[i * Size + j]:G4} but a scaling {what} must be diagonal"));
    }

    private Tensor<double> DiagonalPower(Tensor<double> g, double p)
    {
        var r = Tensor<double>.Zeros(Size, Size);
        for (int k = 0; k < Size; k++) r.Data[k * Size + k] = Math.Pow(g.Data[k * Size + k], p);
        return r;
    }
}

/// <summary>O(h) with π(g) = g: the symmetry of a radial activation σ(z) = f(‖z‖)z (Ex. 5); 𝔤 = o(h), antisymmetric M.</summary>
public sealed class OrthogonalGroup : MatrixGroup
{
    /// <summary>O(h); an element g is accepted when max|gᵀg − I| ≤ <paramref name="tolerance"/>.</summary>
    public OrthogonalGroup(int size, double tolerance = 1e-10) : base(size)
    {
        Errors.ThrowIfNotPositive(tolerance, nameof(tolerance));
        Tolerance = tolerance;
    }

    /// <summary>Accepted max|gᵀg − I| (and max|M + Mᵀ| relative to max|M| for algebra elements).</summary>
    public double Tolerance { get; }

    /// <inheritdoc/>
    public override string Name => $"O({Size})";

    /// <inheritdoc/>
    public override int AlgebraDimension => Size * (Size - 1) / 2;

    /// <inheritdoc/>
    public override IReadOnlyList<Tensor<double>> AlgebraBasis()
    {
        var basis = new List<Tensor<double>>(AlgebraDimension);
        for (int k = 0; k < Size; k++)
            for (int l = k + 1; l < Size; l++)
            {
                var e = Unit(k, l);
                e.Data[l * Size + k] = -1;
                basis.Add(e);
            }
        return basis;
    }

    /// <inheritdoc/>
    public override Tensor<double> RandomAlgebraElement(Random random, double scale = 1)
    {
        var m = Tensor<double>.Zeros(Size, Size);
        for (int k = 0; k < Size; k++)
            for (int l = k + 1; l < Size; l++)
            {
                double c = scale * Gaussian.Next(random);
                m.Data[k * Size + l] = c;
                m.Data[l * Size + k] = -c;
            }
        return m;
    }

    /// <inheritdoc/>
    public override void ValidateAlgebraElement(Tensor<double> m, string name = "M")
    {
        LinearAlgebra.CheckSquare(m, Size, Name + " algebra", name);
        double sym = 0;
        for (int i = 0; i < Size; i++)
            for (int j = i; j < Size; j++)
                sym = Math.Max(sym, Math.Abs(m.Data[i * Size + j] + m.Data[j * Size + i]));
        if (sym > Tolerance * Math.Max(1, TensorOps.MaxAbs(m)))
            throw Errors.Argument(name, string.Create(CultureInfo.InvariantCulture,
                $"{Name} algebra: {name} is not antisymmetric: max|M + Mᵀ| = {sym:G3} exceeds the tolerance {Tolerance:G3}"));
    }

    /// <inheritdoc/>
    public override void ValidateElement(Tensor<double> g, string name = "g")
    {
        LinearAlgebra.CheckSquare(g, Size, Name, name);
        var gtg = LinearAlgebra.Multiply(g, g, transposeA: true);
        for (int i = 0; i < Size; i++) gtg.Data[i * Size + i] -= 1;
        double err = TensorOps.MaxAbs(gtg);
        if (!(err <= Tolerance))
            throw Errors.Argument(name, string.Create(CultureInfo.InvariantCulture,
                $"{Name}: {name} is not orthogonal: max|gᵀg − I| = {err:G3} exceeds the tolerance {Tolerance:G3}"));
    }

    /// <inheritdoc/>
    public override Tensor<double> Representation(Tensor<double> g) => g;

    /// <inheritdoc/>
    public override Tensor<double> RepresentationOfInverse(Tensor<double> g) => LinearAlgebra.Transpose(g);

    /// <inheritdoc/>
    public override Tensor<double> AlgebraRepresentation(Tensor<double> m) => m;
}
