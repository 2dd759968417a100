using Noether.Autodiff;
using Noether.Data;
using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;

namespace Noether.Ensembles;

/// <summary>
/// Builds ensembles from one trained SPEC CNN by transforming its last two linear layers (paper Appendix H, eq. 78;
/// SPEC "Ensembles and attacks"): U = the output weight (classes × h), V = the hidden weight (h × features), σ the
/// LeakyReLU between them, g = I + εM or exp(εM) with M Gaussian. No retraining, no search.
/// </summary>
public static class EnsembleBuilder
{
    private const int GeneratorStream = 0, CalibrationStream = 1, ExtraStream = 2;

    /// <summary>
    /// Draws <see cref="EnsembleOptions.Members"/> members as <paramref name="options"/> says (see
    /// <see cref="EnsembleBuilderKind"/> for each construction). Members whose inverted matrix has a condition number
    /// above <see cref="EnsembleOptions.ConditionLimit"/> (or is singular) are rejected or regularised and counted; members
    /// whose weights are not finite in <typeparamref name="T"/> (NaN, or beyond float32's range for a float32 model) are
    /// always rejected and counted — the guard against the NaN losses the authors' runs produced at ε = 20.
    /// </summary>
    /// <param name="model">The trained model (float32 or float64; π is computed in float64 either way).</param>
    /// <param name="calibration">Where the group and shuffle builders draw their calibration batches (the training
    /// split, images in [0, 1] of the model's shape); may be null for the other builders and the batch-dependent reading.</param>
    /// <param name="options">Builder, ε, N, seed and the rest.</param>
    /// <param name="cancellationToken">Checked between members.</param>
    /// <exception cref="ArgumentException">Invalid options (ε &lt; 0, N &lt; 1, a calibration batch larger than h, …) or
    /// calibration data that does not fit the model or is too small.</exception>
    public static Ensemble<T> Build<T>(SpecCnn<T> model, ImageDataset? calibration, EnsembleOptions options, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        return Build(HeadedModel<T>.Of(model), calibration, options, cancellationToken);
    }

    /// <summary>
    /// The same for any model seen as features and a two-layer head (<see cref="HeadedModel{T}"/>: the SPEC CNN or an
    /// imported graph's last two fully connected layers); U, V̂ = [V | b] and σ are its head's.
    /// </summary>
    public static Ensemble<T> Build<T>(HeadedModel<T> model, ImageDataset? calibration, EnsembleOptions options, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        int h = model.Hidden;
        options.Validate(h);
        var sigma = Sigma(model.Activation);
        bool calibrated = options.Builder is EnsembleBuilderKind.Group or EnsembleBuilderKind.Shuffle && options.Reading == GroupActionReading.Calibrated;
        int k = options.CalibrationBatch(h);
        EnsembleHeads<T>? trunk = null;
        if (calibrated)
        {
            CheckCalibration(model, calibration, k);
            trunk = new EnsembleHeads<T>(model, null);
        }

        double epsilon = options.Epsilon, std = options.GeneratorStandardDeviation(h);
        bool regularise = options.Policy == IllConditionedPolicy.Regularise;
        var u = model.OutputWeight.Cast<double>();
        var members = new List<EnsembleMember>(options.Members);
        int rejected = 0;
        for (int m = 0; m < options.Members; m++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var generator = new Random(StreamSeed(options.Seed, m, GeneratorStream));
            var extra = new Random(StreamSeed(options.Seed, m, ExtraStream));
            var g = GroupElement(Gaussian.Matrix(generator, h, h, std), epsilon, options.Form);
            EnsembleMember? member = options.Builder switch
            {
                EnsembleBuilderKind.Group or EnsembleBuilderKind.Shuffle when calibrated =>
                    Calibrated(trunk!, calibration!, sigma, g, u, k, options, m, extra, regularise),
                EnsembleBuilderKind.Group => new EnsembleMember(g, u, Inversions.ConditionNumber(g), false, []),
                EnsembleBuilderKind.GroupInverse => Inverted(g, u, options.ConditionLimit, regularise),
                EnsembleBuilderKind.Random => RandomScaling(g, u, epsilon, std, extra),
                _ => Inverted(InterpolatedPermutation(h, epsilon, extra), u, options.ConditionLimit, regularise),
            };
            // Finite in float64 is not enough: the heads hold the weights in T, where a float32 model overflows at 3.4e38.
            if (member is null || !FiniteIn<T>(member.OutputWeight) || !FiniteIn<T>(member.HiddenTransform)) rejected++;
            else members.Add(member);
        }
        return new Ensemble<T>(model, options, [.. members], rejected, sigma);
    }

    /// <summary>True when every entry is finite after conversion to <typeparamref name="T"/> (the precision the members run in).</summary>
    private static bool FiniteIn<T>(Tensor<double> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (double v in t.Data)
            if (!T.IsFinite(T.CreateTruncating(v))) return false;
        return true;
    }

    /// <summary>g = I + εM or exp(εM).</summary>
    public static Tensor<double> GroupElement(Tensor<double> m, double epsilon, GroupElementForm form)
    {
        ArgumentNullException.ThrowIfNull(m);
        if (m.Rank != 2 || m.Dim(0) != m.Dim(1) || m.Length == 0) throw Errors.BadShape("group element", nameof(m), m.Shape, "a square matrix M");
        if (!double.IsFinite(epsilon)) throw Errors.OutOfRange(nameof(epsilon), epsilon, "a finite ε");
        int h = m.Dim(0);
        if (form == GroupElementForm.Exponential) return new GeneralLinearGroup(h).Exp(m, epsilon);
        var g = Tensor<double>.Identity(h);
        for (int i = 0; i < g.Length; i++) g.Data[i] += epsilon * m.Data[i];
        return g;
    }

    /// <summary>
    /// The perm.interp matrix P = (I + (ε/2)(I + S)) / (1 + ε) for the permutation matrix S with S[i, permutation[i]] = 1.
    /// </summary>
    public static Tensor<double> InterpolatedPermutation(int[] permutation, double epsilon)
    {
        ArgumentNullException.ThrowIfNull(permutation);
        if (!(epsilon >= 0) || double.IsInfinity(epsilon)) throw Errors.OutOfRange(nameof(epsilon), epsilon, "a finite ε ≥ 0");
        int h = permutation.Length;
        if (h == 0 || permutation.Order().Where((v, i) => v != i).Any())
            throw Errors.Argument(nameof(permutation), $"perm.interp: [{string.Join(", ", permutation)}] is not a permutation of 0 … {h - 1}");
        var p = Tensor<double>.Zeros(h, h);
        double scale = 1 / (1 + epsilon);
        for (int i = 0; i < h; i++)
        {
            p.Data[i * h + i] += (1 + epsilon / 2) * scale;
            p.Data[i * h + permutation[i]] += epsilon / 2 * scale;
        }
        return p;
    }

    /// <summary>π(g, H₀) = σ(H₀) σ(gH₀)⁺ with the condition number of σ(gH₀) (h×k, columns are samples); null π when rejected.</summary>
    internal static (Tensor<double>? Pi, double Condition, bool Regularised) Pi(Tensor<double> h0, Tensor<double> g, Activation sigma, double conditionLimit, bool regularise)
    {
        var sgh = Map(TensorOps.MatMul(g, h0), sigma);
        var inversion = Inversions.PseudoInverse(sgh, conditionLimit, regularise);
        if (inversion.Inverse is null) return (null, inversion.ConditionNumber, false);
        return (TensorOps.MatMul(Map(h0, sigma), inversion.Inverse), inversion.ConditionNumber, inversion.Regularised);
    }

    /// <summary>The σ of the symmetry code matching a network's activation layer.</summary>
    internal static Activation Sigma<T>(Activation<T> layer) where T : unmanaged, IFloatingPointIeee754<T> => layer.Function.Reduced;

    /// <summary>A generator seed for stream <paramref name="stream"/> of member <paramref name="member"/> (SplitMix64 finaliser).</summary>
    internal static int StreamSeed(int seed, int member, int stream)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)member * 0xBF58476D1CE4E5B9UL + (ulong)stream * 0x94D049BB133111EBUL + 0x2545F4914F6CDD1DUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    private static EnsembleMember? Calibrated<T>(EnsembleHeads<T> trunk, ImageDataset calibration, Activation sigma, Tensor<double> g,
        Tensor<double> u, int k, EnsembleOptions options, int member, Random extra, bool regularise)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var indices = DrawDistinct(new Random(StreamSeed(options.Seed, member, CalibrationStream)), calibration.Count, k);
        var (images, _) = calibration.Gather<T>(indices);
        var tape = new Tape<T>();
        Tensor<T> hidden;
        using (tape.Pause()) hidden = trunk.HiddenPreActivation(tape, tape.Constant(images)).Value;
        // The paper's H₀ = V X₀ + b 1ᵀ is h×k: the transpose of the trunk's rows.
        var h0 = TensorOps.Transpose(hidden.Cast<double>());
        var (pi, condition, damped) = Pi(h0, g, sigma, options.ConditionLimit, regularise);
        if (pi is null) return null;
        if (options.Builder == EnsembleBuilderKind.Shuffle) pi = ShuffleEntries(pi, extra);
        return new EnsembleMember(g, TensorOps.MatMul(u, pi), condition, damped, indices);
    }

    private static EnsembleMember? Inverted(Tensor<double> a, Tensor<double> u, double conditionLimit, bool regularise)
    {
        var inversion = Inversions.PseudoInverse(a, conditionLimit, regularise);
        return inversion.Inverse is null ? null : new EnsembleMember(a, TensorOps.MatMul(u, inversion.Inverse), inversion.ConditionNumber, inversion.Regularised, []);
    }

    private static EnsembleMember RandomScaling(Tensor<double> g, Tensor<double> u, double epsilon, double std, Random extra)
    {
        int h = g.Dim(0);
        var d = new double[h];
        Gaussian.Fill(extra, d, std);
        var scaled = u.Clone();
        int c = u.Dim(0);
        // U g' with g' = I + εD: column j of U is scaled by 1 + ε d_j.
        for (int i = 0; i < c; i++)
            for (int j = 0; j < h; j++) scaled.Data[i * h + j] *= 1 + epsilon * d[j];
        return new EnsembleMember(g, scaled, Inversions.ConditionNumber(g), false, []);
    }

    private static Tensor<double> InterpolatedPermutation(int h, double epsilon, Random extra) =>
        InterpolatedPermutation(Minibatches.Order(h, extra), epsilon);

    private static Tensor<double> ShuffleEntries(Tensor<double> pi, Random extra)
    {
        var order = Minibatches.Order(pi.Length, extra);
        var shuffled = Tensor<double>.Zeros(pi.ShapeArray);
        for (int i = 0; i < order.Length; i++) shuffled.Data[i] = pi.Data[order[i]];
        return shuffled;
    }

    /// <summary>k distinct indices in [0, count), by a partial Fisher–Yates shuffle.</summary>
    private static int[] DrawDistinct(Random rng, int count, int k)
    {
        var pool = new int[count];
        for (int i = 0; i < count; i++) pool[i] = i;
        for (int i = 0; i < k; i++)
        {
            int j = i + rng.Next(count - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..k];
    }

    private static Tensor<double> Map(Tensor<double> z, Activation sigma)
    {
        var r = Tensor<double>.Zeros(z.ShapeArray);
        for (int i = 0; i < z.Length; i++) r.Data[i] = sigma.Value(z.Data[i]);
        return r;
    }

    private static void CheckCalibration<T>(HeadedModel<T> model, ImageDataset? calibration, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (calibration is null)
            throw Errors.Null(nameof(calibration), "the group and shuffle builders need calibration data (the training split) to compute π(g, H₀)");
        if (!calibration.SampleShape.SequenceEqual(model.SampleShape))
            throw Errors.Argument(nameof(calibration), $"calibration images are {string.Join("×", calibration.SampleShape)} but the model expects {string.Join("×", model.SampleShape)}");
        if (calibration.Count < k)
            throw Errors.Argument(nameof(calibration), $"calibration data has {calibration.Count} images, fewer than the calibration batch k = {k}");
    }
}
