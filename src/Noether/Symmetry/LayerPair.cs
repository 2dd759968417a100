using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>
/// One pair of consecutive weight layers with the hidden layer between them, in the SPEC convention: V̂ (h × n, plus
/// the bias as a last column when the layer has one: a bias is a weight on a constant input, and the group acts on it
/// as on V) feeds the h hidden units, U (m × h) reads them. For the SPEC CNN's convolution → hidden pair the hidden
/// units are the conv channels (max-pool is positively homogeneous channel by channel) and each channel c owns a block
/// of P = pooled² columns of the next weight: U is then the (m·P) × C matrix with U[(i·P + p), c] = W[i, c·P + p], so
/// that U ↦ U π(g)⁻¹ is the channel scaling of those blocks.
/// </summary>
public sealed class LayerPair
{
    /// <summary>A pair over the given parameters (held, not copied: <see cref="Apply"/> moves them in place).</summary>
    public LayerPair(string name, string between, Parameter<double> vWeight, Parameter<double>? vBias, Parameter<double> uWeight, int block,
        MatrixGroup? group, string groupNote)
    {
        (Name, Between, VWeight, VBias, UWeight, Block, Group, GroupNote) = (name, between, vWeight, vBias, uWeight, block, group, groupNote);
    }

    /// <summary>
    /// The layer pairs of a model built by <see cref="ArchitectureSpec.Build{T}"/>: an MLP's consecutive Linear layers with
    /// <paramref name="spec"/>'s activation between them; the SPEC CNN's conv → hidden pair (the conv channels, scaled
    /// positively through max-pool) and its <see cref="SpecCnnHead"/>.
    /// </summary>
    public static IReadOnlyList<LayerPair> Of(ArchitectureSpec spec, Sequential<double> model)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(model);
        var pairs = new List<LayerPair>();
        if (model is SpecCnn<double> cnn)
        {
            int pooled = cnn.ImageSize / 2;
            pairs.Add(new LayerPair($"{cnn.Conv.Weight.Name} → {cnn.Hidden.Weight.Name}", "max-pool 2×2 (per channel)", cnn.Conv.Weight, cnn.Conv.Bias,
                cnn.Hidden.Weight, pooled * pooled, new PositiveScalingGroup(cnn.Conv.OutChannels, 1),
                "positive scaling of the conv channels: max-pool commutes with positive per-channel scaling (degree 1)"));
            pairs.Add(SpecCnnHead(cnn));
            return pairs;
        }
        var linears = model.Layers.OfType<Linear<double>>().ToArray();
        for (int i = 0; i + 1 < linears.Length; i++) pairs.Add(Linear(linears[i], linears[i + 1], spec.ActivationFunction));
        return pairs;
    }

    /// <summary>The SPEC CNN's hidden → output pair: V̂ = [V | b] of the hidden layer, U the output weight, LeakyReLU between (positive scaling).</summary>
    public static LayerPair SpecCnnHead(SpecCnn<double> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Linear(model.Hidden, model.Output, model.Activation.Function);
    }

    /// <summary>Two consecutive Linear layers with σ between them; the group is <see cref="MatrixGroup.ForActivation(Activation, int, double)"/>'s (of <see cref="Activation.Reduced"/>).</summary>
    public static LayerPair Linear(Linear<double> v, Linear<double> u, Activation activation)
    {
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(u);
        ArgumentNullException.ThrowIfNull(activation);
        int h = v.OutFeatures;
        string name = $"{v.Weight.Name} → {u.Weight.Name}";
        // LeakyReLU of slope 0 is ReLU and of slope 1 the identity (Reduced); either way the pair keeps the LeakyReLU label.
        var (between, note) = activation.Kind switch
        {
            ActivationKind.Identity => (activation.Family, "GL_h: the identity commutes with every invertible g"),
            ActivationKind.Relu => (activation.Family, "positive scaling: ReLU is homogeneous of degree α = 1"),
            ActivationKind.LeakyRelu => (string.Create(CultureInfo.InvariantCulture, $"leaky-relu({activation.Slope:G4})"), "positive scaling: LeakyReLU is homogeneous of degree α = 1"),
            ActivationKind.Sigmoid or ActivationKind.Tanh => (activation.Family, NotHomogeneous),
            _ => throw Errors.OutOfRange(nameof(activation), activation, "identity, relu, leaky-relu, sigmoid or tanh (a network's layer pair)"),
        };
        return new LayerPair(name, between, v.Weight, v.Bias, u.Weight, 1, MatrixGroup.ForActivation(activation.Reduced, h), note);
    }

    private const string NotHomogeneous = "none linear: σ is not homogeneous; only the data-dependent action of Prop. 8 applies (no conserved Q_M of the linear form)";

    /// <summary>"0.weight → 2.weight".</summary>
    public string Name { get; }

    /// <summary>What sits between the two layers ("relu", "max-pool 2×2").</summary>
    public string Between { get; }

    /// <summary>V's weight (h × n, or the conv's h × C × k × k), held: <see cref="Apply"/> moves it in place.</summary>
    public Parameter<double> VWeight { get; }

    /// <summary>V's bias (h), the last column of V̂, or null.</summary>
    public Parameter<double>? VBias { get; }

    /// <summary>U's weight (m × h·P), held.</summary>
    public Parameter<double> UWeight { get; }

    /// <summary>Columns of the U-layer's weight per hidden unit (1 for Linear → Linear).</summary>
    public int Block { get; }

    /// <summary>The linear symmetry group acting on the hidden layer, or null (sigmoid, tanh).</summary>
    public MatrixGroup? Group { get; }

    /// <summary>Why this group (or why none).</summary>
    public string GroupNote { get; }

    /// <summary>h, the number of hidden units.</summary>
    public int Hidden => VWeight.Value.Dim(0);

    /// <summary>The homogeneity degree α of the positive-scaling action (1 for the groups used here), or null.</summary>
    public double? Alpha => Group is PositiveScalingGroup s ? s.Degree : null;

    /// <summary>V̂ = [V | b] (h × (n + 1)) or V (h × n).</summary>
    public Tensor<double> VHat()
    {
        var w = VWeight.Value;
        int h = w.Dim(0), n = w.Length / h, cols = n + (VBias is null ? 0 : 1);
        var v = Tensor<double>.Zeros(h, cols);
        for (int a = 0; a < h; a++)
        {
            for (int j = 0; j < n; j++) v.Data[a * cols + j] = w.Data[a * n + j];
            if (VBias is not null) v.Data[a * cols + n] = VBias.Value.Data[a];
        }
        return v;
    }

    /// <summary>U (m·P × h), see the type's summary.</summary>
    public Tensor<double> U()
    {
        var w = UWeight.Value;
        int m = w.Dim(0), h = Hidden, p = Block;
        var u = Tensor<double>.Zeros(m * p, h);
        for (int i = 0; i < m; i++)
            for (int c = 0; c < h; c++)
                for (int q = 0; q < p; q++) u.Data[(i * p + q) * h + c] = w.Data[i * h * p + c * p + q];
        return u;
    }

    /// <summary>Moves the parameters along the orbit, in place: V̂ ↦ g V̂, U ↦ U π(g)⁻¹ (Group's action).</summary>
    public void Apply(Tensor<double> g)
    {
        ArgumentNullException.ThrowIfNull(g);
        var group = Group ?? throw new InvalidOperationException($"{Name}: no linear symmetry group acts on this pair");
        group.ValidateElement(g, "g");
        var v = TensorOps.MatMul(g, VHat());
        var u = TensorOps.MatMul(U(), group.RepresentationOfInverse(g));
        var w = VWeight.Value;
        int h = Hidden, n = w.Length / h, cols = v.Dim(1);
        for (int a = 0; a < h; a++)
        {
            for (int j = 0; j < n; j++) w.Data[a * n + j] = v.Data[a * cols + j];
            if (VBias is not null) VBias.Value.Data[a] = v.Data[a * cols + n];
        }
        var uw = UWeight.Value;
        int m = uw.Dim(0), p = Block;
        for (int i = 0; i < m; i++)
            for (int c = 0; c < h; c++)
                for (int q = 0; q < p; q++) uw.Data[i * h * p + c * p + q] = u.Data[(i * p + q) * h + c];
    }

    /// <summary>
    /// The orbit dimension at the current parameters: the rank of M ↦ (−U dπ(M), M V̂). For positive scaling the map's
    /// columns (one per unit a, supported on column a of U and row a of V̂) are mutually orthogonal, so its singular values
    /// are exactly the column norms √(α²‖U_a‖² + ‖V̂_a‖²). Otherwise U and V̂ are first replaced by the triangular
    /// factors of their thin QR decompositions (U = Q R, V̂ᵀ = Q' R'), which leaves ‖U dπ(M)‖ and ‖M V̂‖, hence every
    /// singular value of the map, unchanged, and the map is factorised by SVD when dim 𝔤 ≤ <paramref name="maxAlgebra"/>.
    /// Larger GL_h pairs use the exact identity rank = h² − (h − rank U)(h − rank V̂) (no singular values or gap then);
    /// larger pairs of other groups return null.
    /// </summary>
    public OrbitDimensionResult? MeasureOrbit(int maxAlgebra, double tolerance)
    {
        if (Group is null) return null;
        var u = U();
        var v = VHat();
        int h = Hidden;
        if (Group is PositiveScalingGroup scaling)
        {
            var s = new double[h];
            for (int a = 0; a < h; a++)
            {
                double sum = 0;
                for (int i = 0; i < u.Dim(0); i++) sum += scaling.Degree * scaling.Degree * u.Data[i * h + a] * u.Data[i * h + a];
                for (int j = 0; j < v.Dim(1); j++) sum += v.Data[a * v.Dim(1) + j] * v.Data[a * v.Dim(1) + j];
                s[a] = Math.Sqrt(sum);
            }
            Array.Sort(s, (x, y) => y.CompareTo(x));
            int rank = s[0] == 0 ? 0 : s.Count(x => x > tolerance * s[0]);
            double gap = rank >= s.Length ? double.PositiveInfinity : rank == 0 ? 0 : s[rank] == 0 ? double.PositiveInfinity : s[rank - 1] / s[rank];
            return new OrbitDimensionResult(rank, h, s, tolerance, gap);
        }
        if (Group.AlgebraDimension > maxAlgebra)
        {
            if (Group is not GeneralLinearGroup) return null;
            // The kernel of M ↦ (−UM, MV̂) is {M : range M ⊆ ker U, rows of M ⊥ range V̂}, of dimension
            // (h − rank U)(h − rank V̂) at every θ: the orbit dimension from two small SVDs instead of the h²-column map.
            int rankU = Rank(u.Dim(0) > h ? Triangular(u) : u, tolerance), rankV = Rank(v.Dim(1) > h ? Triangular(TensorOps.Transpose(v)) : v, tolerance);
            return new OrbitDimensionResult(h * h - (h - rankU) * (h - rankV), h * h, [], tolerance, double.NaN);
        }
        var ru = u.Dim(0) > h ? Triangular(u) : u;
        var rv = v.Dim(1) > h ? TensorOps.Transpose(Triangular(TensorOps.Transpose(v))) : v;
        return OrbitDimension.Measure(Group, new TwoLayerParameters(ru, rv), tolerance);
    }

    private static int Rank(Tensor<double> a, double tolerance)
    {
        var (singular, _, _) = LinearAlgebra.Svd(a, vectors: false);
        return singular.Length == 0 || singular[0] == 0 ? 0 : singular.Count(x => x > tolerance * singular[0]);
    }

    /// <summary>R of the thin QR decomposition of a tall matrix (rows ≥ columns).</summary>
    private static Tensor<double> Triangular(Tensor<double> a) => LinearAlgebra.QrTriangularFactor(a);

    /// <summary>The correct closed form (SPEC) for generic parameters, with (m, n) the sizes of U and V̂.</summary>
    public int? ClosedForm() => Group is null ? null : OrbitDimension.ClosedForm(Group, U().Dim(0), VHat().Dim(1));

    /// <summary>The paper's eqs. 20–22.</summary>
    public int? PaperForm() => Group is null ? null : OrbitDimension.PaperClosedForm(Group, U().Dim(0), VHat().Dim(1));
}
