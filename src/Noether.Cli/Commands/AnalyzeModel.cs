using System.Globalization;
using Noether.Autodiff;
using Noether.Conservation;
using Noether.Data;
using Noether.Nn;
using Noether.Serialization;
using Noether.Symmetry;
using Noether.Tensors;

namespace Noether.Cli.Commands;

/// <summary>
/// One pair of consecutive weight layers with the hidden layer between them, in the SPEC convention: V̂ (h × n, plus
/// the bias as a last column when the layer has one: a bias is a weight on a constant input, and the group acts on it
/// as on V) feeds the h hidden units, U (m × h) reads them. For the SPEC CNN's convolution → hidden pair the hidden
/// units are the conv channels (max-pool is positively homogeneous channel by channel) and each channel c owns a block
/// of P = pooled² columns of the next weight: U is then the (m·P) × C matrix with U[(i·P + p), c] = W[i, c·P + p], so
/// that U ↦ U π(g)⁻¹ is the channel scaling of those blocks.
/// </summary>
internal sealed class AnalyzePair
{
    public AnalyzePair(string name, string between, Parameter<double> vWeight, Parameter<double>? vBias, Parameter<double> uWeight, int block,
        MatrixGroup? group, string groupNote)
    {
        Name = name;
        Between = between;
        VWeight = vWeight;
        VBias = vBias;
        UWeight = uWeight;
        Block = block;
        Group = group;
        GroupNote = groupNote;
    }

    /// <summary>"0.weight → 2.weight".</summary>
    public string Name { get; }

    /// <summary>What sits between the two layers ("relu", "max-pool 2×2").</summary>
    public string Between { get; }

    public Parameter<double> VWeight { get; }
    public Parameter<double>? VBias { get; }
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

    /// <summary>The conserved quantity of gradient flow for this pair (Ex. 7 / Ex. 9), or null when the group is not linear.</summary>
    public ConservedQuantity? Quantity => Group switch
    {
        GeneralLinearGroup => ConservedQuantity.Imbalance(),
        PositiveScalingGroup s => ConservedQuantity.HomogeneousDiagonal(s.Degree),
        _ => null,
    };

    /// <summary>The name printed for <see cref="Quantity"/>, with V̂ when the bias is included.</summary>
    public string QuantityName => Group switch
    {
        GeneralLinearGroup => VBias is null ? "UᵀU − VVᵀ" : "UᵀU − V̂V̂ᵀ",
        PositiveScalingGroup s => (s.Degree == 1 ? "diag(UᵀU − " : string.Create(CultureInfo.InvariantCulture, $"diag({s.Degree:G4}·UᵀU − ")) + (VBias is null ? "VVᵀ)" : "V̂V̂ᵀ)"),
        _ => "none",
    };

    /// <summary>Q's two terms at the current parameters, or null.</summary>
    public QuantityTerms? Terms() => Quantity?.Terms([U(), VHat()]);

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

/// <summary>Reading, rebuilding and evaluating the user's model for <c>noether analyze</c>.</summary>
internal static class AnalyzeModel
{
    /// <summary>Reads a safetensors file whose tensors are all F32 or F64; returns them as float64 and the widest dtype.</summary>
    public static (List<(string Name, Tensor<double> Tensor)> Tensors, SafeTensorDType DType, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("--weights: a safetensors file is required");
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new ArgumentException($"--weights: {full} is a directory, expected a .safetensors file");
        if (!File.Exists(full)) throw new ArgumentException($"--weights: {full} does not exist");
        var file = SafeTensors.Read(full);
        if (file.Tensors.Count == 0) throw new ArgumentException($"{full}: the file holds no tensors");
        var dtype = SafeTensorDType.F32;
        var tensors = new List<(string, Tensor<double>)>();
        foreach (var t in file.Tensors)
        {
            if (t.DType is not (SafeTensorDType.F32 or SafeTensorDType.F64))
                throw new ArgumentException($"{full}: tensor '{t.Name}' has dtype {SafeTensors.DTypeName(t.DType)}; analyze reads F32 or F64 weights (in PyTorch: model.float() or model.double() before saving)");
            if (t.DType == SafeTensorDType.F64) dtype = SafeTensorDType.F64;
            tensors.Add((t.Name, t.ToTensor<double>()));
        }
        return (tensors, dtype, file.Metadata);
    }

    /// <summary>The layer pairs of a model built by <see cref="ArchitectureSpec.Build{T}"/>.</summary>
    public static List<AnalyzePair> Pairs(ArchitectureSpec spec, Sequential<double> model)
    {
        var pairs = new List<AnalyzePair>();
        if (model is SpecCnn<double> cnn)
        {
            int pooled = cnn.ImageSize / 2;
            pairs.Add(new AnalyzePair($"{cnn.Conv.Weight.Name} → {cnn.Hidden.Weight.Name}", "max-pool 2×2 (per channel)", cnn.Conv.Weight, cnn.Conv.Bias,
                cnn.Hidden.Weight, pooled * pooled, new PositiveScalingGroup(cnn.Conv.OutChannels, 1),
                "positive scaling of the conv channels: max-pool commutes with positive per-channel scaling (degree 1)"));
            pairs.Add(LinearPair(cnn.Hidden, cnn.Output, ActivationKind.LeakyRelu, cnn.Activation.Slope));
            return pairs;
        }
        var linears = model.Layers.OfType<Linear<double>>().ToArray();
        for (int i = 0; i + 1 < linears.Length; i++) pairs.Add(LinearPair(linears[i], linears[i + 1], spec.Activation, spec.Slope));
        return pairs;
    }

    private static AnalyzePair LinearPair(Linear<double> v, Linear<double> u, ActivationKind activation, double slope)
    {
        int h = v.OutFeatures;
        string name = $"{v.Weight.Name} → {u.Weight.Name}";
        return activation switch
        {
            ActivationKind.Identity => new AnalyzePair(name, "identity", v.Weight, v.Bias, u.Weight, 1, new GeneralLinearGroup(h),
                "GL_h: the identity commutes with every invertible g"),
            ActivationKind.Relu => new AnalyzePair(name, "relu", v.Weight, v.Bias, u.Weight, 1, new PositiveScalingGroup(h, 1),
                "positive scaling: ReLU is homogeneous of degree α = 1"),
            ActivationKind.LeakyRelu => new AnalyzePair(name, string.Create(CultureInfo.InvariantCulture, $"leaky-relu({slope:G4})"), v.Weight, v.Bias, u.Weight, 1,
                new PositiveScalingGroup(h, 1), "positive scaling: LeakyReLU is homogeneous of degree α = 1"),
            ActivationKind.Sigmoid or ActivationKind.Tanh => new AnalyzePair(name, activation.ToString().ToLowerInvariant(), v.Weight, v.Bias, u.Weight, 1, null,
                "none linear: σ is not homogeneous; only the data-dependent action of Prop. 8 applies (no conserved Q_M of the linear form)"),
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation,
                $"activation = {activation}: a network's layer pair has one of identity, relu, leaky-relu, sigmoid or tanh"),
        };
    }

    /// <summary>The analysis batch: inputs shaped for the model ([N, features] for an MLP, [N, C, H, W] for the CNN) and labels.</summary>
    public static (Tensor<double> Inputs, int[] Labels, int[] Indices) Batch(ArchitectureSpec spec, Sequential<double> model, ImageDataset data, int samples, int seed)
    {
        if (model is SpecCnn<double> cnn)
        {
            if (data.Channels != cnn.InChannels || data.Height != cnn.ImageSize || data.Width != cnn.ImageSize)
                throw new ArgumentException($"--arch: the weights expect {cnn.InChannels}×{cnn.ImageSize}×{cnn.ImageSize} images but {data.Source} has {data.Channels}×{data.Height}×{data.Width}");
            if (cnn.Output.OutFeatures != data.ClassCount)
                throw new ArgumentException($"--arch: the model has {cnn.Output.OutFeatures} outputs but {data.Source} has {data.ClassCount} classes");
        }
        else
        {
            if (spec.Widths[0] != data.SampleSize)
                throw new ArgumentException($"--arch: the input width {spec.Widths[0]} of {spec.Text} does not match the data: {data.Source} has {data.SampleSize} inputs ({data.Channels}×{data.Height}×{data.Width})");
            if (spec.Widths[^1] != data.ClassCount)
                throw new ArgumentException($"--arch: the output width {spec.Widths[^1]} of {spec.Text} does not match the {data.ClassCount} classes of {data.Source}");
        }
        int[] indices;
        if (samples >= data.Count) indices = Enumerable.Range(0, data.Count).ToArray();
        else
        {
            var order = Minibatches.Order(data.Count, new Random(seed));
            indices = order[..samples];
            Array.Sort(indices);
        }
        var (inputs, labels) = data.Gather<double>(indices);
        if (model is not SpecCnn<double>) inputs = inputs.Reshape(indices.Length, data.SampleSize);
        return (inputs, labels, indices);
    }

    /// <summary>Mean cross-entropy of the logits (float64) and the fraction classified correctly.</summary>
    public static (double Loss, double Accuracy) Evaluate(Sequential<double> model, Tensor<double> inputs, int[] labels)
    {
        var tape = new Tape<double>();
        double loss;
        Tensor<double> logits;
        using (tape.Pause())
        {
            var output = model.Forward(tape, tape.Constant(inputs));
            logits = output.Value;
            loss = Ops.CrossEntropy(output, labels).Value.ScalarValue;
        }
        int k = logits.Dim(1), correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            int best = 0;
            for (int j = 1; j < k; j++) if (logits.Data[i * k + j] > logits.Data[i * k + best]) best = j;
            if (best == labels[i]) correct++;
        }
        return (loss, (double)correct / labels.Length);
    }

    /// <summary>Writes the model's parameters in <paramref name="dtype"/> (F32 rounds) with the given metadata, atomically.</summary>
    public static void Save(string path, Sequential<double> model, SafeTensorDType dtype, IReadOnlyDictionary<string, string> metadata)
    {
        var tensors = model.Parameters.Select(p => dtype == SafeTensorDType.F64
            ? SafeTensor.FromTensor(p.Name, p.Value)
            : SafeTensor.FromTensor(p.Name, p.Value.Cast<float>())).ToList();
        SafeTensors.Write(path, tensors, metadata);
    }

    /// <summary>A positive diagonal g = diag(exp(std·z)), z ~ N(0, 1).</summary>
    public static Tensor<double> PositiveDiagonal(int h, double std, Random rng)
    {
        var g = Tensor<double>.Zeros(h, h);
        var z = new double[h];
        Gaussian.Fill(rng, z, 1);
        for (int a = 0; a < h; a++) g.Data[a * h + a] = Math.Exp(std * z[a]);
        return g;
    }
}
