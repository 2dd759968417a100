using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Landscape;

/// <summary>Which end of a spectrum an eigensolver looks for.</summary>
public enum SpectrumEnd
{
    /// <summary>The largest (most positive) eigenvalues, e.g. the sharpness λ_max of a Hessian.</summary>
    Largest,
    /// <summary>The smallest (most negative) eigenvalues, e.g. to detect a saddle.</summary>
    Smallest,
    /// <summary>The eigenvalues of largest absolute value.</summary>
    LargestMagnitude,
}

/// <summary>Ritz pairs from <see cref="Lanczos.Eigenvalues"/>.</summary>
/// <param name="Values">The wanted eigenvalue estimates: descending for <see cref="SpectrumEnd.Largest"/>, ascending for
/// <see cref="SpectrumEnd.Smallest"/>, by descending |θ| for <see cref="SpectrumEnd.LargestMagnitude"/>.</param>
/// <param name="Vectors">When asked for: row i (unit norm) is the Ritz vector of <c>Values[i]</c>; otherwise null.</param>
/// <param name="Residuals">‖A·yᵢ − θᵢ·yᵢ‖ for each pair (β_j·|s_ji|, exact in exact arithmetic): |θᵢ − λ| ≤ residual for some eigenvalue λ.</param>
/// <param name="Iterations">Lanczos steps taken (= products A·x).</param>
/// <param name="Converged">Whether every residual reached the tolerance (false: the iteration limit came first).</param>
public sealed record LanczosResult(double[] Values, Tensor<double>? Vectors, double[] Residuals, int Iterations, bool Converged);

/// <summary>A Lanczos tridiagonalisation Qᵀ A Q = T of j steps from a unit start vector q₁.</summary>
/// <param name="Alpha">The diagonal of T (α₁ … α_j).</param>
/// <param name="Beta">The off-diagonal (β₁ … β_{j−1}); a zero marks a restart after an invariant subspace was found.</param>
/// <param name="Basis">The orthonormal Lanczos vectors, row i = q_{i+1} (j×n).</param>
/// <param name="LastBeta">β_j, the norm of the remainder after the last step (the residual scale of every Ritz pair).</param>
public sealed record LanczosDecomposition(double[] Alpha, double[] Beta, Tensor<double> Basis, double LastBeta);

/// <summary>
/// The Lanczos method with full reorthogonalisation (each new vector is orthogonalised twice against all previous
/// ones, so no spurious copies of converged eigenvalues appear): extreme eigenvalues of a symmetric operator from
/// products A·x alone — for a Hessian, from Hessian-vector products, never forming H (what PyHessian offers PyTorch
/// users). Memory is the j×n basis.
/// </summary>
public static partial class Lanczos
{
    /// <summary>
    /// The <paramref name="count"/> eigenvalues at <paramref name="end"/> of the spectrum (and optionally their vectors).
    /// Stops when every wanted Ritz pair has residual ≤ <paramref name="tolerance"/>·max|θ| or after
    /// <paramref name="maxIterations"/> steps.
    /// </summary>
    /// <param name="op">The symmetric operator (n×n).</param>
    /// <param name="count">How many eigenvalues, 1 ≤ count ≤ n.</param>
    /// <param name="rng">Seeded generator for the Gaussian start vector (and restarts).</param>
    /// <param name="end">Which end of the spectrum.</param>
    /// <param name="maxIterations">Step limit (≤ n is used); 0 chooses min(n, max(100, 10·count)). At n steps the result is exact up to rounding.</param>
    /// <param name="tolerance">Relative residual for convergence.</param>
    /// <param name="vectors">Also return the Ritz vectors.</param>
    /// <param name="cancellationToken">Checked every step.</param>
    /// <exception cref="ArgumentOutOfRangeException">count &lt; 1 or more eigenvalues than the operator has (its dimension); a negative limit; a tolerance not in (0, 1).</exception>
    public static LanczosResult Eigenvalues(SymmetricOperator op, int count, Random rng, SpectrumEnd end = SpectrumEnd.Largest,
        int maxIterations = 0, double tolerance = 1e-10, bool vectors = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(rng);
        int n = op.Dimension;
        if (count < 1 || count > n)
            throw Errors.OutOfRange(nameof(count), count, $"between 1 and the operator's dimension {n} (an n×n operator has n eigenvalues)");
        if (maxIterations < 0) throw Errors.OutOfRange(nameof(maxIterations), maxIterations, "0 (automatic) or a positive step limit");
        if (!(tolerance > 0 && tolerance < 1)) throw Errors.OutOfRange(nameof(tolerance), tolerance, "a relative residual in (0, 1)");
        if (!Enum.IsDefined(end)) throw Errors.OutOfRange(nameof(end), end, "a defined SpectrumEnd");
        int limit = maxIterations == 0 ? Math.Min(n, Math.Max(100, 10 * count)) : Math.Min(n, maxIterations);
        limit = Math.Max(limit, count);

        var state = new State(op, limit, rng);
        state.Start(RandomUnit(n, rng));
        (double[] Values, double[,] Vectors)? ritz = null;
        int[] wanted = [];
        double[] residuals = [];
        bool converged = false;
        int nextCheck = count;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            state.Step();
            int j = state.Steps;
            if (j < count) continue;
            bool last = j >= limit;
            if (j < nextCheck && !last && state.Beta > 0) continue;
            // Checking costs O(j³); every j/8 steps keeps it small next to the products.
            nextCheck = j + Math.Max(1, j / 8);
            ritz = TridiagonalEigen(state.Alpha, state.OffDiagonal, j);
            wanted = Select(ritz.Value.Values, count, end);
            double scale = ritz.Value.Values.Max(Math.Abs);
            residuals = wanted.Select(i => Math.Abs(state.Beta * ritz.Value.Vectors[j - 1, i])).ToArray();
            converged = residuals.All(r => r <= tolerance * Math.Max(scale, double.Epsilon));
            // A zero remainder means Q spans an invariant subspace: its Ritz values are exact eigenvalues, but others may
            // remain elsewhere, so restart with a fresh direction unless the space is exhausted.
            if (converged || last) break;
        }
        var values = wanted.Select(i => ritz!.Value.Values[i]).ToArray();
        Tensor<double>? y = null;
        if (vectors)
        {
            int j = state.Steps;
            y = Tensor<double>.Zeros(count, n);
            for (int r = 0; r < count; r++)
            {
                var row = y.Data.AsSpan(r * n, n);
                for (int i = 0; i < j; i++) TensorPrimitives.MultiplyAdd(state.Basis(i), ritz!.Value.Vectors[i, wanted[r]], row, row);
                TensorPrimitives.Divide(row, TensorPrimitives.Norm(row), row);
            }
        }
        return new LanczosResult(values, y, residuals, state.Steps, converged);
    }

    /// <summary>
    /// <paramref name="steps"/> Lanczos steps from the direction of <paramref name="start"/> (normalised here), with full
    /// reorthogonalisation; used by <see cref="StochasticLanczosQuadrature"/>. If an invariant subspace is found before
    /// the last step, the run restarts from a random direction orthogonal to it (drawn from <paramref name="rng"/>)
    /// and records a zero β there.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">steps not in [1, n], or a zero start vector.</exception>
    public static LanczosDecomposition Tridiagonalize(SymmetricOperator op, ReadOnlySpan<double> start, int steps, Random rng,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(rng);
        int n = op.Dimension;
        if (start.Length != n) throw Errors.Argument(nameof(start), $"lanczos: start has {start.Length} entries, expected {n}");
        if (steps < 1 || steps > n) throw Errors.OutOfRange(nameof(steps), steps, $"between 1 and the operator's dimension {n}");
        double norm = TensorPrimitives.Norm(start);
        if (!(norm > 0) || !double.IsFinite(norm)) throw Errors.OutOfRange(nameof(start), norm, "a non-zero finite start vector (its norm is shown)");
        var q = new double[n];
        TensorPrimitives.Divide(start, norm, q);
        var state = new State(op, steps, rng);
        state.Start(q);
        for (int i = 0; i < steps; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            state.Step();
        }
        var basis = Tensor<double>.Zeros(steps, n);
        for (int i = 0; i < steps; i++) state.Basis(i).CopyTo(basis.Data.AsSpan(i * n, n));
        return new LanczosDecomposition(state.Alpha[..steps], state.OffDiagonal[..(steps - 1)], basis, state.Beta);
    }

    /// <summary>Eigenvalues (ascending) and eigenvectors (columns) of the j×j tridiagonal matrix with diagonal α and off-diagonal β.</summary>
    public static (double[] Values, double[,] Vectors) TridiagonalEigen(ReadOnlySpan<double> alpha, ReadOnlySpan<double> beta, int j)
    {
        if (j < 1 || j > alpha.Length || j - 1 > beta.Length) throw Errors.OutOfRange(nameof(j), j, $"between 1 and {alpha.Length} (with {beta.Length} off-diagonal entries)");
        var t = Tensor<double>.Zeros(j, j);
        for (int i = 0; i < j; i++)
        {
            t[i, i] = alpha[i];
            if (i + 1 < j) t[i, i + 1] = t[i + 1, i] = beta[i];
        }
        var (values, v) = LinearAlgebra.SymmetricEigen(t, vectors: true);
        var vectors = new double[j, j];
        for (int r = 0; r < j; r++)
            for (int c = 0; c < j; c++) vectors[r, c] = v![r, c];
        return (values, vectors);
    }

    private static int[] Select(double[] ascending, int count, SpectrumEnd end)
    {
        var order = Enumerable.Range(0, ascending.Length);
        return (end switch
        {
            SpectrumEnd.Largest => order.OrderByDescending(i => ascending[i]),
            SpectrumEnd.Smallest => order.OrderBy(i => ascending[i]),
            _ => order.OrderByDescending(i => Math.Abs(ascending[i])),
        }).Take(count).ToArray();
    }

    internal static double[] RandomUnit(int n, Random rng)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = Gaussian.Next(rng);
        TensorPrimitives.Divide(v, TensorPrimitives.Norm<double>(v), v);
        return v;
    }

    /// <summary>The running recurrence: basis, α, β, and the remainder vector.</summary>
    private sealed class State(SymmetricOperator op, int capacity, Random rng)
    {
        private readonly int _n = op.Dimension;
        private readonly double[] _basis = new double[(long)capacity * op.Dimension <= Array.MaxLength ? capacity * op.Dimension : throw new OutOfMemoryException($"lanczos: a basis of {capacity} vectors of {op.Dimension} entries is too large; lower the step count")];
        private readonly double[] _w = new double[op.Dimension];
        private double _scale;

        public double[] Alpha { get; } = new double[capacity];
        public double[] OffDiagonal { get; } = new double[Math.Max(capacity - 1, 0)];
        public int Steps { get; private set; }

        /// <summary>β_j: the norm of the current remainder (0 after a breakdown at the last step).</summary>
        public double Beta { get; private set; }

        public Span<double> Basis(int i) => _basis.AsSpan(i * _n, _n);

        public void Start(ReadOnlySpan<double> unit) => unit.CopyTo(Basis(0));

        public void Step()
        {
            int j = Steps;
            if (j > 0)
            {
                // q_{j+1} = w / β_j, or a fresh orthogonal direction after a breakdown (β recorded as 0).
                if (Beta > 0) TensorPrimitives.Divide(_w, Beta, Basis(j));
                else NewDirection(j);
                OffDiagonal[j - 1] = Beta;
            }
            var q = Basis(j);
            op.Multiply(q, _w);
            double alpha = TensorPrimitives.Dot<double>(q, _w);
            Alpha[j] = alpha;
            _scale = Math.Max(_scale, Math.Abs(alpha) + (j > 0 ? OffDiagonal[j - 1] : 0));
            Orthogonalise(j + 1);
            Orthogonalise(j + 1);
            double beta = TensorPrimitives.Norm<double>(_w);
            Steps = j + 1;
            // Below rounding of ‖A‖: Q spans an invariant subspace.
            Beta = beta > 1e-13 * Math.Max(_scale, double.Epsilon) && double.IsFinite(beta) ? beta : 0;
        }

        // w −= Σ qᵢ (qᵢ·w) over the first k basis vectors (classical Gram–Schmidt; applied twice, which is enough).
        private void Orthogonalise(int k)
        {
            for (int i = 0; i < k; i++)
            {
                var qi = Basis(i);
                TensorPrimitives.MultiplyAdd(qi, -TensorPrimitives.Dot<double>(qi, _w), _w, _w);
            }
        }

        private void NewDirection(int j)
        {
            for (int attempt = 0; attempt < 10; attempt++)
            {
                for (int i = 0; i < _n; i++) _w[i] = Gaussian.Next(rng);
                Orthogonalise(j);
                Orthogonalise(j);
                double norm = TensorPrimitives.Norm<double>(_w);
                if (norm > 1e-8)
                {
                    TensorPrimitives.Divide(_w, norm, Basis(j));
                    return;
                }
            }
            throw new InvalidOperationException($"lanczos: no direction orthogonal to the {j} basis vectors could be found (n = {_n})");
        }
    }
}
