using Noether.Nn;
using Noether.Symmetry;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>The loss along a 1-D slice through θ*.</summary>
/// <param name="Label">E.g. "group exp(tM)" or "random direction 1".</param>
/// <param name="Coordinate">The slice parameter: t of exp(tM), or α of θ* + αd.</param>
/// <param name="Distance">Signed distance travelled in parameter space from θ* (same sign as the coordinate): the arc length
/// ∫₀ᵗ ‖M̄_{θ(τ)}‖ dτ along a group path, α‖d‖ along a straight line. Plotting loss against it puts both on one axis.</param>
/// <param name="Loss">L at each point.</param>
public sealed record ValleyLine(string Label, double[] Coordinate, double[] Distance, double[] Loss)
{
    /// <summary>max L − L(θ*) along the slice (L(θ*) taken at the coordinate nearest to 0).</summary>
    public double MaxRise
    {
        get
        {
            int centre = Array.IndexOf(Coordinate, Coordinate.MinBy(Math.Abs));
            return Loss.Max() - Loss[centre];
        }
    }

    /// <summary>max |L − L(θ*)| along the slice.</summary>
    public double MaxDeviation
    {
        get
        {
            int centre = Array.IndexOf(Coordinate, Coordinate.MinBy(Math.Abs));
            return Loss.Max(l => Math.Abs(l - Loss[centre]));
        }
    }
}

/// <summary>The loss on a 2-D grid through θ*: <c>Loss[i, j]</c> at (A[i], B[j]).</summary>
/// <param name="Label">E.g. "group exp(sM₁)exp(tM₂)".</param>
/// <param name="A">First coordinate.</param>
/// <param name="B">Second coordinate.</param>
/// <param name="Loss">L on the grid, A-major.</param>
public sealed record ValleyPlane(string Label, double[] A, double[] B, double[,] Loss);

/// <summary>
/// A path of symmetry moves through θ*, on flat parameter vectors: θ ↦ g(t)·θ with g(0) the identity — exp(tM) for a
/// generator M of a <see cref="MatrixGroup"/> (<see cref="MatrixGroupPath"/>) or a census site's generators
/// (<see cref="CensusSitePath"/>). Along it the loss of a symmetric model stays at L(θ*) (eq. 1).
/// </summary>
public abstract class ValleyPath
{
    /// <summary>g(t)·θ, a new vector.</summary>
    public abstract double[] Move(double[] theta, double t);

    /// <summary>The signed distance travelled along τ ↦ g(τ)·θ* from τ = 0 to t (the arc length, signed like t).</summary>
    public abstract double Distance(double t);

    /// <summary>g(s)·h(t)·θ for this path's g and <paramref name="inner"/>'s h: by default the two moves in turn.</summary>
    public virtual double[] MoveAfter(ValleyPath inner, double s, double t, double[] theta)
    {
        ArgumentNullException.ThrowIfNull(inner);
        return Move(inner.Move(theta, t), s);
    }
}

/// <summary>
/// exp(tM)·θ for M in the Lie algebra of a <see cref="MatrixGroup"/> acting on a two-layer network's (U, V), flattened U then
/// V (row-major). The group's own arithmetic is used throughout (two moves compose as one product of exponentials), so a
/// chart through this path is the one <see cref="MatrixGroup"/> computes on (U, V) directly, bit for bit.
/// </summary>
public sealed class MatrixGroupPath : ValleyPath
{
    private readonly TwoLayerParameters _theta;
    private readonly Dictionary<double, Tensor<double>> _exp = [];

    /// <summary>The path exp(tM)·θ through <paramref name="theta"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="m"/> is not in the group's algebra.</exception>
    public MatrixGroupPath(MatrixGroup group, TwoLayerParameters theta, Tensor<double> m)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(theta);
        group.ValidateAlgebraElement(m, nameof(m));
        Group = group;
        _theta = theta;
        Generator = m;
    }

    /// <summary>The group.</summary>
    public MatrixGroup Group { get; }

    /// <summary>M.</summary>
    public Tensor<double> Generator { get; }

    /// <summary>θ* = (U, V) as one vector, U then V.</summary>
    public static double[] Flat(TwoLayerParameters theta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        return [.. theta.U.Data, .. theta.V.Data];
    }

    /// <summary>(U, V) shaped like <paramref name="like"/> from a vector laid out as <see cref="Flat"/> lays it out.</summary>
    /// <exception cref="ArgumentException">The vector's length is not U's and V's together.</exception>
    public static TwoLayerParameters Unflat(double[] flat, TwoLayerParameters like)
    {
        ArgumentNullException.ThrowIfNull(flat);
        ArgumentNullException.ThrowIfNull(like);
        if (flat.Length != like.Count) throw Errors.Argument(nameof(flat), $"valley: a vector of {flat.Length} entries for {like} ({like.Count} parameters)");
        return new TwoLayerParameters(new Tensor<double>(flat[..like.U.Length], like.U.ShapeArray), new Tensor<double>(flat[like.U.Length..], like.V.ShapeArray));
    }

    /// <inheritdoc/>
    public override double[] Move(double[] theta, double t) => Flat(Group.Apply(Exp(t), Unflat(theta, _theta)));

    /// <inheritdoc/>
    public override double Distance(double t) => Valley.ArcLength(Group, _theta, Generator, t);

    /// <summary>exp(sM)·exp(tM')·θ as one group element, the product of the two exponentials, when <paramref name="inner"/> is a path of the same group.</summary>
    public override double[] MoveAfter(ValleyPath inner, double s, double t, double[] theta)
    {
        if (inner is not MatrixGroupPath other || !ReferenceEquals(other.Group, Group)) return base.MoveAfter(inner, s, t, theta);
        return Flat(Group.Apply(LinearAlgebra.Multiply(Exp(s), other.Exp(t)), Unflat(theta, _theta)));
    }

    // exp(tM), kept per t: the planes meet every t of a grid many times.
    private Tensor<double> Exp(double t)
    {
        if (!_exp.TryGetValue(t, out var e)) _exp[t] = e = Group.Exp(Generator, t);
        return e;
    }
}

/// <summary>
/// Charting the valley (paper: "flat minima"): the loss along paths generated by the symmetry group, θ(t) = exp(tM)·θ*,
/// which stays on the level set of θ* (eq. 1: constant up to rounding), against the loss along random filter-normalised
/// directions θ* + αd, the convention of Li et al. 2018 ("Visualizing the loss landscape of neural nets"), which rises.
/// </summary>
/// <remarks>
/// Filter normalisation for a linear layer W (out × in, y = Wx): a "filter" is one row W_{i,:}, the incoming weights of output
/// unit i (Li et al. treat a fully connected layer as a convolution with 1×1 feature maps, whose filters are these rows). Each
/// row of a Gaussian direction d is rescaled to the norm of the matching row of W: d_{i,:} ← d_{i,:}·‖W_{i,:}‖/‖d_{i,:}‖
/// (a zero row of W gives a zero row of d), so ‖d‖ = ‖θ*‖. For U (m×h) the filters are its m rows, for V (h×n) its h rows.
/// Biases, absent in the two-layer networks here, would get a zero direction as in Li et al.
/// </remarks>
public static class Valley
{
    /// <summary>Rescales each row of <paramref name="direction"/> to the norm of the same row of <paramref name="weights"/> (a copy).</summary>
    /// <exception cref="ArgumentException">Shapes differ, or not matrices.</exception>
    public static Tensor<double> FilterNormalize(Tensor<double> direction, Tensor<double> weights)
    {
        ArgumentNullException.ThrowIfNull(direction);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Rank != 2) throw Errors.BadShape("filter normalisation", nameof(weights), weights.Shape, "a matrix (out × in)");
        if (!direction.SameShape(weights)) throw Errors.ShapeMismatch("filter normalisation", nameof(direction), direction.Shape, nameof(weights), weights.Shape, "shapes must be equal");
        int rows = weights.Dim(0), cols = weights.Dim(1);
        var d = direction.Clone();
        for (int i = 0; i < rows; i++)
        {
            double dn = 0, wn = 0;
            for (int j = 0; j < cols; j++)
            {
                dn += d[i, j] * d[i, j];
                wn += weights[i, j] * weights[i, j];
            }
            double s = dn > 0 ? Math.Sqrt(wn / dn) : 0;
            for (int j = 0; j < cols; j++) d[i, j] *= s;
        }
        return d;
    }

    /// <summary>A Gaussian direction in (U, V) with every filter (row) rescaled to the norm of θ*'s (Li et al. 2018).</summary>
    public static TwoLayerParameters FilterNormalizedDirection(TwoLayerParameters theta, Random random)
    {
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(random);
        var raw = TwoLayerParameters.Gaussian(random, theta.M, theta.H, theta.N);
        return new TwoLayerParameters(FilterNormalize(raw.U, theta.U), FilterNormalize(raw.V, theta.V));
    }

    /// <summary>A random M ∈ 𝔤 scaled so that the path exp(tM)·θ* starts at speed ‖M̄_θ*‖ = ‖θ*‖ (as far per unit t as a filter-normalised line per unit α).</summary>
    /// <exception cref="ArgumentException">θ* is zero, or the group moves it nowhere.</exception>
    public static Tensor<double> UnitSpeedGenerator(MatrixGroup group, TwoLayerParameters theta, Random random)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(random);
        var m = group.RandomAlgebraElement(random);
        double speed = group.InfinitesimalAction(m, theta).Norm(), norm = theta.Norm();
        if (!(speed > 0) || !(norm > 0)) throw Errors.Argument(nameof(theta), $"valley: {group.Name} does not move θ* = {theta} (‖θ*‖ = {norm}, ‖M̄θ*‖ = {speed})");
        return m * (norm / speed);
    }

    /// <summary>
    /// Arc length ∫₀ᵗ ‖M̄_{θ(τ)}‖ dτ of θ(τ) = exp(τM)·θ* (signed like t), by composite Simpson with 2·<paramref name="intervals"/> panels;
    /// ‖M̄‖ is smooth in τ, so the error falls as the fourth power of the panel width.
    /// </summary>
    public static double ArcLength(MatrixGroup group, TwoLayerParameters theta, Tensor<double> m, double t, int intervals = 16)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(theta);
        group.ValidateAlgebraElement(m, nameof(m));
        return ArcLength(tau => group.InfinitesimalAction(m, group.Apply(group.Exp(m, tau), theta)).Norm(), t, intervals);
    }

    /// <summary>
    /// ∫₀ᵗ speed(τ) dτ (signed like t) by composite Simpson with 2·<paramref name="intervals"/> panels, for a smooth speed
    /// ‖θ'(τ)‖ of a path (the error falls as the fourth power of the panel width).
    /// </summary>
    public static double ArcLength(Func<double, double> speed, double t, int intervals = 16)
    {
        ArgumentNullException.ThrowIfNull(speed);
        Errors.ThrowIfNotPositive(intervals, nameof(intervals));
        if (!double.IsFinite(t)) throw Errors.OutOfRange(nameof(t), t, "a finite path parameter");
        if (t == 0) return 0;
        int n = 2 * intervals;
        double step = t / n, sum = 0;
        for (int i = 0; i <= n; i++) sum += (i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2) * speed(i * step);
        return sum * step / 3;
    }

    /// <summary>L(exp(tM)·θ*) for each t, with the arc length travelled.</summary>
    public static ValleyLine GroupLine(Func<TwoLayerParameters, double> loss, MatrixGroup group, TwoLayerParameters theta, Tensor<double> m, IReadOnlyList<double> ts,
        string label = "group exp(tM)·θ*")
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(theta);
        return GroupLine(Flat(loss, theta), new MatrixGroupPath(group, theta, m), MatrixGroupPath.Flat(theta), ts, label);
    }

    /// <summary>L(g(t)·θ*) for each t along <paramref name="path"/>, with the arc length travelled.</summary>
    public static ValleyLine GroupLine(Func<double[], double> loss, ValleyPath path, double[] theta, IReadOnlyList<double> ts, string label = "group exp(tM)·θ*")
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(theta);
        var t = Coordinates(ts, nameof(ts));
        var losses = t.Select(x => loss(path.Move(theta, x))).ToArray();
        var distance = t.Select(path.Distance).ToArray();
        return new ValleyLine(label, t, distance, losses);
    }

    /// <summary>L(θ* + αd) for each α, with the distance α‖d‖.</summary>
    public static ValleyLine DirectionLine(Func<TwoLayerParameters, double> loss, TwoLayerParameters theta, TwoLayerParameters direction, IReadOnlyList<double> alphas,
        string label = "direction θ* + αd")
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(direction);
        theta.CheckSameShape(direction, nameof(direction));
        return DirectionLine(Flat(loss, theta), MatrixGroupPath.Flat(theta), MatrixGroupPath.Flat(direction), direction.Norm(), alphas, label);
    }

    /// <summary>L(θ* + αd) for each α, with the distance α·<paramref name="directionNorm"/> (‖d‖ in the subject's norm).</summary>
    public static ValleyLine DirectionLine(Func<double[], double> loss, double[] theta, double[] direction, double directionNorm, IReadOnlyList<double> alphas,
        string label = "direction θ* + αd")
    {
        ArgumentNullException.ThrowIfNull(loss);
        CheckSameLength(theta, direction, nameof(direction));
        var a = Coordinates(alphas, nameof(alphas));
        return new ValleyLine(label, a, a.Select(x => x * directionNorm).ToArray(), a.Select(x => loss(Add(theta, direction, x))).ToArray());
    }

    /// <summary>L(exp(sM₁) exp(tM₂)·θ*) on the grid (s, t): a 2-D patch of the level set (when the two paths are independent).</summary>
    public static ValleyPlane GroupPlane(Func<TwoLayerParameters, double> loss, MatrixGroup group, TwoLayerParameters theta, Tensor<double> m1, Tensor<double> m2,
        IReadOnlyList<double> s, IReadOnlyList<double> t)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(theta);
        return GroupPlane(Flat(loss, theta), new MatrixGroupPath(group, theta, m1), new MatrixGroupPath(group, theta, m2), MatrixGroupPath.Flat(theta), s, t);
    }

    /// <summary>L(g₁(s) g₂(t)·θ*) on the grid (s, t) for two paths (<see cref="ValleyPath.MoveAfter"/>).</summary>
    public static ValleyPlane GroupPlane(Func<double[], double> loss, ValleyPath first, ValleyPath second, double[] theta, IReadOnlyList<double> s, IReadOnlyList<double> t)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(theta);
        var a = Coordinates(s, nameof(s));
        var b = Coordinates(t, nameof(t));
        var grid = new double[a.Length, b.Length];
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < b.Length; j++) grid[i, j] = loss(first.MoveAfter(second, a[i], b[j], theta));
        return new ValleyPlane("group exp(sM₁)exp(tM₂)·θ*", a, b, grid);
    }

    /// <summary>L(θ* + αd₁ + βd₂) on the grid (α, β) (Li et al.'s 2-D plot).</summary>
    public static ValleyPlane DirectionPlane(Func<TwoLayerParameters, double> loss, TwoLayerParameters theta, TwoLayerParameters d1, TwoLayerParameters d2,
        IReadOnlyList<double> alphas, IReadOnlyList<double> betas)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(d1);
        ArgumentNullException.ThrowIfNull(d2);
        theta.CheckSameShape(d1, nameof(d1));
        theta.CheckSameShape(d2, nameof(d2));
        return DirectionPlane(Flat(loss, theta), MatrixGroupPath.Flat(theta), MatrixGroupPath.Flat(d1), MatrixGroupPath.Flat(d2), alphas, betas);
    }

    /// <summary>L(θ* + αd₁ + βd₂) on the grid (α, β), flat vectors.</summary>
    public static ValleyPlane DirectionPlane(Func<double[], double> loss, double[] theta, double[] d1, double[] d2, IReadOnlyList<double> alphas, IReadOnlyList<double> betas)
    {
        ArgumentNullException.ThrowIfNull(loss);
        CheckSameLength(theta, d1, nameof(d1));
        CheckSameLength(theta, d2, nameof(d2));
        var a = Coordinates(alphas, nameof(alphas));
        var b = Coordinates(betas, nameof(betas));
        var grid = new double[a.Length, b.Length];
        for (int i = 0; i < a.Length; i++)
        {
            var row = Add(theta, d1, a[i]);
            for (int j = 0; j < b.Length; j++) grid[i, j] = loss(Add(row, d2, b[j]));
        }
        return new ValleyPlane("random θ* + αd₁ + βd₂", a, b, grid);
    }

    /// <summary>
    /// L(exp(sM)·(θ* + αd)) on the grid (s, α): one group path and one random direction. Since L(g·θ) = L(θ) for every θ, each
    /// row α is flat in s and equals the random line at α: the picture is a trough — the valley floor runs along the orbit.
    /// </summary>
    public static ValleyPlane MixedPlane(Func<TwoLayerParameters, double> loss, MatrixGroup group, TwoLayerParameters theta, Tensor<double> m, TwoLayerParameters direction,
        IReadOnlyList<double> s, IReadOnlyList<double> alphas)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(direction);
        theta.CheckSameShape(direction, nameof(direction));
        return MixedPlane(Flat(loss, theta), new MatrixGroupPath(group, theta, m), MatrixGroupPath.Flat(theta), MatrixGroupPath.Flat(direction), s, alphas);
    }

    /// <summary>L(g(s)·(θ* + αd)) on the grid (s, α) for a path g and a direction d, flat vectors.</summary>
    public static ValleyPlane MixedPlane(Func<double[], double> loss, ValleyPath path, double[] theta, double[] direction, IReadOnlyList<double> s, IReadOnlyList<double> alphas)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(path);
        CheckSameLength(theta, direction, nameof(direction));
        var a = Coordinates(s, nameof(s));
        var b = Coordinates(alphas, nameof(alphas));
        var grid = new double[a.Length, b.Length];
        for (int j = 0; j < b.Length; j++)
        {
            var shifted = Add(theta, direction, b[j]);
            for (int i = 0; i < a.Length; i++) grid[i, j] = loss(path.Move(shifted, a[i]));
        }
        return new ValleyPlane("group exp(sM)·(θ* + αd)", a, b, grid);
    }

    // θ + s·d entry by entry (as TwoLayerParameters.Add computes it).
    private static double[] Add(double[] theta, double[] direction, double s)
    {
        var r = (double[])theta.Clone();
        for (int i = 0; i < r.Length; i++) r[i] += s * direction[i];
        return r;
    }

    private static void CheckSameLength(double[] theta, double[] direction, string name)
    {
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(direction, name);
        if (direction.Length != theta.Length) throw Errors.Argument(name, $"valley: {name} has {direction.Length} entries, θ* has {theta.Length}");
    }

    // A loss of (U, V) as a loss of the flat vector.
    private static Func<double[], double> Flat(Func<TwoLayerParameters, double> loss, TwoLayerParameters like) => v => loss(MatrixGroupPath.Unflat(v, like));

    /// <summary><paramref name="count"/> evenly spaced points from −<paramref name="extent"/> to <paramref name="extent"/> (count odd puts one at 0).</summary>
    public static double[] Symmetric(double extent, int count)
    {
        Errors.ThrowIfNotPositive(extent, nameof(extent));
        if (count < 2) throw Errors.OutOfRange(nameof(count), count, "at least 2 points");
        return Enumerable.Range(0, count).Select(i => -extent + 2 * extent * i / (count - 1)).ToArray();
    }

    private static double[] Coordinates(IReadOnlyList<double> values, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Count == 0) throw Errors.Argument(name, $"valley: {name} is empty");
        foreach (var v in values)
            if (!double.IsFinite(v)) throw Errors.Argument(name, $"valley: {name} contains a non-finite value ({v})");
        return values.ToArray();
    }
}
