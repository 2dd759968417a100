using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Landscape;

/// <summary>Ritz pairs from <see cref="Lanczos.RestartedEigenvalues"/>.</summary>
/// <param name="Values">The eigenvalue estimates, ordered as in <see cref="LanczosResult.Values"/>.</param>
/// <param name="Vectors">Row i (unit norm) is the Ritz vector of <c>Values[i]</c>; the rows are orthonormal.</param>
/// <param name="Residuals">‖A·yᵢ − θᵢ·yᵢ‖ measured with one more product per pair after the run (not the recurrence's
/// estimate): some eigenvalue of A lies within it of θᵢ.</param>
/// <param name="Products">Products A·x taken, including the final residual checks.</param>
/// <param name="Restarts">Thick restarts taken.</param>
/// <param name="Converged">Whether every wanted pair reached recurrence residual ≤ tolerance·max|θ| (false: the restart limit came first; the values are then the best Ritz values found).</param>
public sealed record RestartedLanczosResult(double[] Values, Tensor<double> Vectors, double[] Residuals, long Products, int Restarts, bool Converged);

public static partial class Lanczos
{
    /// <summary>
    /// The <paramref name="count"/> eigenvalues at <paramref name="end"/> of the spectrum by thick-restart Lanczos (Wu and
    /// Simon 2000) with full reorthogonalisation: each cycle grows the basis to <paramref name="basisSize"/> vectors, then
    /// keeps the best ⌊(basisSize + count)/2⌋ Ritz vectors and the last Lanczos vector (the projected matrix becomes an
    /// arrowhead, kept here as a dense symmetric matrix QᵀAQ assembled from the Gram–Schmidt coefficients) and continues.
    /// Stops when every wanted Ritz pair has residual β·|s| ≤ tolerance·max|θ|, or after <paramref name="maxRestarts"/>
    /// restarts. Memory is basisSize + 1 vectors whatever the number of restarts.
    /// </summary>
    /// <param name="op">The symmetric operator (n×n).</param>
    /// <param name="count">How many eigenvalues, 1 ≤ count &lt; n (use a dense solver when all are wanted).</param>
    /// <param name="rng">Seeded generator for the start vector (and a fresh direction after an invariant subspace).</param>
    /// <param name="end">Which end of the spectrum.</param>
    /// <param name="basisSize">Vectors per cycle, ≥ count + 2 (0: max(2·count + 10, 20)); capped at n (then no restart is needed).</param>
    /// <param name="maxRestarts">Restarts allowed.</param>
    /// <param name="tolerance">Relative residual for convergence, in (0, 1).</param>
    /// <param name="cancellationToken">Checked every step.</param>
    /// <exception cref="ArgumentOutOfRangeException">count not in [1, n), a basis size below count + 2, a negative restart limit, a tolerance outside (0, 1).</exception>
    public static RestartedLanczosResult RestartedEigenvalues(SymmetricOperator op, int count, Random rng, SpectrumEnd end = SpectrumEnd.Largest,
        int basisSize = 0, int maxRestarts = 50, double tolerance = 1e-10, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(rng);
        int n = op.Dimension;
        if (count < 1 || count >= n)
            throw Errors.OutOfRange(nameof(count), count, $"between 1 and the operator's dimension {n} − 1 (for all eigenvalues form the matrix and use a dense solver)");
        if (basisSize != 0 && basisSize < count + 2) throw Errors.OutOfRange(nameof(basisSize), basisSize, $"0 (automatic) or at least count + 2 = {count + 2} vectors per cycle");
        if (maxRestarts < 0) throw Errors.OutOfRange(nameof(maxRestarts), maxRestarts, "a non-negative number of restarts");
        if (!(tolerance > 0 && tolerance < 1)) throw Errors.OutOfRange(nameof(tolerance), tolerance, "a relative residual in (0, 1)");
        if (!Enum.IsDefined(end)) throw Errors.OutOfRange(nameof(end), end, "a defined SpectrumEnd");
        int m = Math.Min(n, basisSize == 0 ? Math.Max(2 * count + 10, 20) : basisSize);
        int keep = Math.Max(count, (m + count) / 2);
        long before = op.Products;

        var q = new double[(long)(m + 1) * n <= Array.MaxLength ? (m + 1) * n : throw new OutOfMemoryException($"lanczos: a basis of {m + 1} vectors of {n} entries is too large; lower the basis size")];
        Span<double> Q(int i) => q.AsSpan(i * n, n);
        var h = new double[m, m];           // upper triangle of QᵀAQ (columns computed as they come); mirrored for the eigensolver
        var w = new double[n];
        RandomUnit(n, rng).CopyTo(Q(0));
        int j = 0;                          // basis vectors whose product has been taken
        double beta = 0, scale = 0;
        int restarts = 0;
        bool converged = false;
        (double[] Values, double[,] Vectors) ritz;
        int[] wanted;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            op.Multiply(Q(j), w);
            for (int i = 0; i <= j; i++) h[i, j] = 0;
            for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i <= j; i++)
                {
                    double c = TensorPrimitives.Dot<double>(Q(i), w);
                    h[i, j] += c;
                    TensorPrimitives.MultiplyAdd(Q(i), -c, w, w);
                }
            j++;
            beta = TensorPrimitives.Norm<double>(w);
            scale = Math.Max(scale, Math.Abs(h[j - 1, j - 1]) + beta);
            bool invariant = !(beta > 1e-13 * Math.Max(scale, double.Epsilon)) || !double.IsFinite(beta);
            if (invariant) beta = 0;
            ritz = DenseEigen(h, j);
            wanted = Select(ritz.Values, Math.Min(count, j), end);
            double top = Math.Max(ritz.Values.Max(Math.Abs), double.Epsilon);
            int last = j - 1;
            converged = wanted.Length == count && wanted.All(i => Math.Abs(beta * ritz.Vectors[last, i]) <= tolerance * top);
            if (converged || j == n) { converged = converged || j == n; break; }
            // The next basis vector: the remainder, or a fresh direction orthogonal to an invariant subspace.
            if (!invariant) TensorPrimitives.Divide(w, beta, Q(j));
            else FreshDirection(q, j, n, rng);
            if (j < m) continue;
            if (restarts >= maxRestarts) break;
            // Thick restart: the best `keep` Ritz vectors, then the remainder q_{m+1}; QᵀAQ becomes diag(θ) bordered by β·s_m.
            restarts++;
            var kept = Select(ritz.Values, keep, end);
            var y = new double[keep * n];
            for (int r = 0; r < keep; r++)
                for (int i = 0; i < m; i++) TensorPrimitives.MultiplyAdd(Q(i), ritz.Vectors[i, kept[r]], y.AsSpan(r * n, n), y.AsSpan(r * n, n));
            Q(m).CopyTo(Q(keep));
            y.CopyTo(q.AsSpan(0, keep * n));
            Array.Clear(h);
            for (int r = 0; r < keep; r++) h[r, r] = ritz.Values[kept[r]];
            j = keep;
            // h[r, keep] (= β·s_m,r) is recomputed when q_keep's product is taken.
        }

        int k = wanted.Length, steps = j;
        var values = wanted.Select(i => ritz.Values[i]).ToArray();
        var vectors = Tensor<double>.Zeros(k, n);
        var residuals = new double[k];
        for (int r = 0; r < k; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var row = vectors.Data.AsSpan(r * n, n);
            for (int i = 0; i < steps; i++) TensorPrimitives.MultiplyAdd(Q(i), ritz.Vectors[i, wanted[r]], row, row);
            TensorPrimitives.Divide(row, TensorPrimitives.Norm<double>(row), row);
            op.Multiply(row, w);
            TensorPrimitives.MultiplyAdd(row, -values[r], w, w);
            residuals[r] = TensorPrimitives.Norm<double>(w);
        }
        return new RestartedLanczosResult(values, vectors, residuals, op.Products - before, restarts, converged);
    }

    // Eigenpairs (ascending, vectors as columns) of the leading j×j block of the symmetric matrix whose upper triangle is h.
    private static (double[] Values, double[,] Vectors) DenseEigen(double[,] h, int j)
    {
        var t = Tensor<double>.Zeros(j, j);
        for (int a = 0; a < j; a++)
            for (int b = a; b < j; b++) t[a, b] = t[b, a] = h[a, b];
        var (values, v) = LinearAlgebra.SymmetricEigen(t, vectors: true);
        var vectors = new double[j, j];
        for (int a = 0; a < j; a++)
            for (int b = 0; b < j; b++) vectors[a, b] = v![a, b];
        return (values, vectors);
    }

    private static void FreshDirection(double[] q, int j, int n, Random rng)
    {
        var v = q.AsSpan(j * n, n);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            for (int i = 0; i < n; i++) v[i] = Gaussian.Next(rng);
            for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i < j; i++)
                {
                    var qi = q.AsSpan(i * n, n);
                    TensorPrimitives.MultiplyAdd(qi, -TensorPrimitives.Dot<double>(qi, v), v, v);
                }
            double norm = TensorPrimitives.Norm<double>(v);
            if (norm > 1e-8)
            {
                TensorPrimitives.Divide(v, norm, v);
                return;
            }
        }
        throw new InvalidOperationException($"lanczos: no direction orthogonal to the {j} basis vectors could be found (n = {n})");
    }
}
