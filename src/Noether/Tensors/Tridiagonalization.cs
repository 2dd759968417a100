using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Noether.Tensors;

/// <summary>
/// Householder reduction of a symmetric matrix to tridiagonal form, T = QᵀAQ: LAPACK's blocked algorithm (dsytrd with
/// dlatrd, lower triangle; Golub &amp; Van Loan §8.3.1) with Noether's own SIMD kernels and threads. Each thread owns a
/// fixed, interleaved set of 16-column chunks of the lower triangle for the whole reduction, for both the symmetric
/// matrix-vector product each column needs and the rank-2k update after each panel, so its share of the matrix stays in
/// its core's caches instead of being re-split on every call as OpenBLAS's threaded dsymv/dsyr2k do. On the 2-core
/// development machine this takes the 750×750 Hessians of Fig. 8 from OpenBLAS dsyevd's 17–32 ms to 12–17 ms
/// (the eigenvalues after it, dsterf, take 4 ms either way; bench/README.md has the measurements).
/// </summary>
/// <remarks>
/// Storage: row c of the row-major n×n array holds column c of A's lower triangle from the diagonal on, i.e. the entries
/// a[c, c..n−1] — A's upper triangle in row-major terms, which for a symmetric A is the same numbers. The trailing update
/// works in 8-row register blocks aligned to multiples of 8, so besides its own entries it writes junk into up to 7
/// entries just left of row c's diagonal and, when n is not a multiple of 8, past the row's end into columns 0–6 of row
/// c + 1 (for the last row, into the 8 doubles of padding). Nothing reads those entries again: the update only runs on
/// rows ≥ 16, so columns 0–6 of the next row are left of its diagonal too, and the thread owning row c is the only
/// one writing there (the owner of row c + 1 writes from its own diagonal's 8-block on).
/// </remarks>
internal static unsafe class Tridiagonalization
{
    /// <summary>Columns per panel (dlatrd's block size): reflectors accumulated before one rank-2k trailing update.</summary>
    internal const int PanelWidth = 16;

    /// <summary>Columns per ownership chunk; a multiple of the 4-column kernels' width.</summary>
    internal const int ChunkWidth = 16;

    /// <summary>
    /// Below this order one thread is faster: the two barriers per column and the thread start cost more than the split
    /// work saves (measured on the 2-core machine: break-even near n = 450, two threads 1.6× faster at n = 750).
    /// </summary>
    internal const int ParallelOrder = 448;

    /// <summary>Doubles of padding after the matrix and the panel vectors, so 8-row blocks may run past row n − 1.</summary>
    private const int Pad = 8;

    /// <summary>Threads used when none are asked for: the machine's cores, at most 8 (beyond that the barriers dominate).</summary>
    internal static int DefaultThreads(int n) => n < ParallelOrder ? 1 : Math.Clamp(Environment.ProcessorCount, 1, 8);

    /// <summary>
    /// Reduces the symmetric n×n matrix held row-major in <paramref name="a"/> (only the entries a[c, c..n−1] of each row
    /// c are read — A's upper triangle in row-major terms; the array is overwritten) to the tridiagonal T with diagonal
    /// <paramref name="diagonal"/> (n) and off-diagonal <paramref name="offDiagonal"/> (n − 1). T has A's eigenvalues.
    /// </summary>
    /// <param name="a">n·n + 8 doubles (the padding is scratch).</param>
    /// <param name="n">The order.</param>
    /// <param name="diagonal">Receives T's diagonal.</param>
    /// <param name="offDiagonal">Receives T's sub-diagonal (≥ n − 1 entries).</param>
    /// <param name="threads">Threads to split the work over (clamped to the number of 16-column chunks).</param>
    internal static void Reduce(double[] a, int n, double[] diagonal, double[] offDiagonal, int threads)
    {
        if (a.Length < (long)n * n + Pad) throw Errors.Argument(nameof(a), $"tridiagonalization: the working array needs n·n + {Pad} = {(long)n * n + Pad} doubles, got {a.Length}");
        if (n == 0) return;
        threads = Math.Clamp(threads, 1, Math.Max(1, (n + ChunkWidth - 1) / ChunkWidth));
        // Work at a scale where squares neither overflow nor underflow (as dsyevd does), by a power of two so it is exact.
        var span = a.AsSpan(0, n * n);
        double max = Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(span));
        int exponent = max > 0 && (max < MinScale || max > MaxScale) ? Math.ILogB(max) : 0;
        if (exponent != 0)
        {
            for (int i = 0; i < span.Length; i++) span[i] = Math.ScaleB(span[i], -exponent);
            max = Math.ScaleB(max, -exponent);
        }
        using (var state = new ReductionState(a, n, diagonal, offDiagonal, threads, max * NegligibleFraction))
            state.Run();
        if (exponent == 0) return;
        for (int i = 0; i < n; i++) diagonal[i] = Math.ScaleB(diagonal[i], exponent);
        for (int i = 0; i < n - 1; i++) offDiagonal[i] = Math.ScaleB(offDiagonal[i], exponent);
    }

    private static readonly double MinScale = Math.ScaleB(1.0, -100), MaxScale = Math.ScaleB(1.0, 100);

    /// <summary>
    /// A column whose part below the subdiagonal has norm at most this fraction of max |a_ij| is taken as already
    /// reduced (τ = 0): a backward error of 2⁻⁹⁰⁰·max|a_ij|, and it keeps 1/(α − β) in the reflector finite.
    /// </summary>
    private static readonly double NegligibleFraction = Math.ScaleB(1.0, -900);

    /// <summary>The reduction's buffers and the phase each thread runs, with a spinning barrier between phases.</summary>
    private sealed class ReductionState : IDisposable
    {
        private enum Phase { Product, TrailingUpdate, Exit }

        private readonly double[] _a, _d, _e;
        private readonly int _n, _threads, _stride;
        private readonly double _negligible;
        // Panel: reflectors V_k and W_k (k < PanelWidth) as length-_stride vectors, V at k·_stride, W at (PanelWidth + k)·_stride.
        private readonly double[] _panel;
        // Per thread: its partial product A·v (length _stride).
        private readonly double[][] _partial;
        // Vᵀv and Wᵀv for the current column (the dlatrd corrections), PanelWidth each.
        private readonly double[] _dots = new double[2 * PanelWidth];
        private readonly Thread[] _workers;
        private Phase _phase;
        private int _column, _current, _panelWidthUsed, _trailingStart;
        private Exception? _workerFailure;
        private int _generation, _finished;

        public ReductionState(double[] a, int n, double[] d, double[] e, int threads, double negligible)
        {
            (_a, _n, _d, _e, _threads, _negligible) = (a, n, d, e, threads, negligible);
            _stride = (n + Pad + 7) / 8 * 8;
            // Pooled (and so not zeroed): every entry is written before it is read.
            _panel = System.Buffers.ArrayPool<double>.Shared.Rent(2 * PanelWidth * _stride);
            _partial = new double[threads][];
            for (int t = 0; t < threads; t++) _partial[t] = System.Buffers.ArrayPool<double>.Shared.Rent(_stride);
            var workers = new List<Thread>(threads - 1);
            try
            {
                for (int t = 1; t < threads; t++)
                {
                    int id = t;
                    var worker = new Thread(() => WorkerLoop(id)) { IsBackground = true, Name = "Noether tridiagonalization" };
                    worker.Start();
                    workers.Add(worker);
                }
            }
            catch
            {
                // No Dispose will come: stop the workers already started and give the buffers back.
                _workers = [.. workers];
                Dispose();
                throw;
            }
            _workers = [.. workers];
        }

        public void Dispose()
        {
            if (_workers.Length > 0)
            {
                _phase = Phase.Exit;
                Volatile.Write(ref _generation, _generation + 1);
                foreach (var w in _workers) w.Join();
            }
            System.Buffers.ArrayPool<double>.Shared.Return(_panel);
            foreach (var y in _partial) System.Buffers.ArrayPool<double>.Shared.Return(y);
        }

        public void Run()
        {
            // Panels of PanelWidth columns, each followed by a rank-2k update of the rest; the last panel has no update.
            for (int p = 0; p < _n; p += PanelWidth)
            {
                int width = Math.Min(PanelWidth, _n - p);
                _panelWidthUsed = width;
                for (int k = 0; k < width; k++) ReduceColumn(p + k, k);
                if (p + width >= _n) return;
                _trailingStart = p + width;
                RunPhase(Phase.TrailingUpdate);
            }
        }

        /// <summary>The first chunk at or after column <paramref name="from"/> that thread <paramref name="id"/> owns (chunk i belongs to thread i mod threads).</summary>
        private int FirstOwnedChunk(int from, int id)
        {
            int start = from / ChunkWidth;
            return (start + ((id - start) % _threads + _threads) % _threads) * ChunkWidth;
        }

        private void ReduceColumn(int j, int k)
        {
            int n = _n, stride = _stride;
            fixed (double* a = _a, panel = _panel)
            {
                double* col = a + (long)j * n;
                // Bring column j up to date with the panel's earlier reflectors: a ← a − V·W[j]ᵀ − W·V[j]ᵀ.
                for (int q = 0; q < k; q++)
                {
                    double* vq = panel + q * stride, wq = panel + (PanelWidth + q) * stride;
                    Axpy2(col + j, vq + j, -wq[j], wq + j, -vq[j], n - j);
                }
                _d[j] = col[j];
                // Rows below j of V_k and W_k, and their padding, are read later; rows up to j never are.
                double* v = panel + k * stride, w = panel + (PanelWidth + k) * stride;
                if (j == n - 1) return;

                // Householder reflector H = I − τ·v·vᵀ with v[j+1] = 1 mapping a[j+1.., j] to β·e₁ (dlarfg).
                double alpha = col[j + 1];
                double xnorm = Norm(col + j + 2, n - j - 2);
                if (xnorm <= _negligible)
                {
                    // τ = 0: H = I, and w = 0.
                    new Span<double>(v + j, stride - j).Clear();
                    new Span<double>(w + j, stride - j).Clear();
                    _e[j] = alpha;
                    return;
                }
                double beta = -Math.CopySign(double.Hypot(alpha, xnorm), alpha);
                double tau = (beta - alpha) / beta, scale = 1 / (alpha - beta);
                _e[j] = beta;
                v[j] = 0;
                v[j + 1] = 1;
                Scale(v + j + 2, col + j + 2, scale, n - j - 2);
                new Span<double>(v + n, stride - n).Clear();

                // w = τ·(A₂₂·v − W·(Vᵀv) − V·(Wᵀv)) on rows j+1..; A₂₂ is not yet updated by this panel.
                for (int q = 0; q < k; q++)
                {
                    _dots[q] = Dot(panel + q * stride + j + 1, v + j + 1, n - j - 1);
                    _dots[PanelWidth + q] = Dot(panel + (PanelWidth + q) * stride + j + 1, v + j + 1, n - j - 1);
                }
                _column = j;
                _current = k;
                RunPhase(Phase.Product);
                w[j] = 0;
                fixed (double* y0 = _partial[0]) Scale(w + j + 1, y0 + j + 1, tau, n - j - 1);
                for (int t = 1; t < _threads; t++)
                    fixed (double* yt = _partial[t]) Axpy(w + j + 1, yt + j + 1, tau, n - j - 1);
                new Span<double>(w + n, stride - n).Clear();
                double half = -0.5 * tau * Dot(w + j + 1, v + j + 1, n - j - 1);
                Axpy(w + j + 1, v + j + 1, half, n - j - 1);
            }
        }

        private void RunPhase(Phase phase)
        {
            _phase = phase;
            if (_threads > 1)
            {
                Volatile.Write(ref _finished, 0);
                Interlocked.Increment(ref _generation);
            }
            Execute(0);
            if (_threads > 1)
            {
                WaitUntil(ref _finished, _threads - 1);
                if (_workerFailure is { } failure) throw new InvalidOperationException("tridiagonalization: a worker thread failed", failure);
            }
        }

        /// <summary>
        /// Phases last microseconds, so waiting threads spin (a pause instruction per turn) rather than yield; after
        /// a few thousand turns (≈ 0.1 ms) they fall back to yielding, so an oversubscribed machine still makes progress.
        /// </summary>
        private static void WaitUntil(ref int value, int expected)
        {
            for (int turn = 0; Volatile.Read(ref value) != expected; turn++)
            {
                if (turn < SpinTurns) Thread.SpinWait(1);
                else Thread.Yield();
            }
        }

        private static void WaitWhile(ref int value, int current)
        {
            for (int turn = 0; Volatile.Read(ref value) == current; turn++)
            {
                if (turn < SpinTurns) Thread.SpinWait(1);
                else Thread.Yield();
            }
        }

        private const int SpinTurns = 4_000;

        private void WorkerLoop(int id)
        {
            int seen = 0;
            while (true)
            {
                WaitWhile(ref _generation, seen);
                seen = Volatile.Read(ref _generation);
                if (_phase == Phase.Exit) return;
                try { Execute(id); }
                catch (Exception ex) { _workerFailure ??= ex; }
                Interlocked.Increment(ref _finished);
            }
        }

        private void Execute(int id)
        {
            if (_phase == Phase.Product) Product(id);
            else if (_phase == Phase.TrailingUpdate) TrailingUpdate(id);
        }

        /// <summary>This thread's share of A₂₂·v (its columns of the lower triangle) and of the panel corrections (its rows).</summary>
        private void Product(int id)
        {
            int n = _n, j = _column, first = j + 1, stride = _stride, corrections = _current;
            fixed (double* a = _a, panel = _panel, y = _partial[id], dots = _dots)
            {
                double* v = panel + _current * stride; // V_k, k = the column's place in the panel
                new Span<double>(y + first, n - first).Clear();
                for (int chunk = FirstOwnedChunk(first, id); chunk < n; chunk += _threads * ChunkWidth)
                {
                    int c0 = Math.Max(chunk, first), c1 = Math.Min(chunk + ChunkWidth, n);
                    int c = c0;
                    for (; c + 4 <= c1; c += 4) SymmetricProduct4(a, n, c, v, y);
                    for (; c < c1; c++) SymmetricProduct1(a, n, c, v, y);
                    for (int q = 0; q < corrections; q++)
                    {
                        double* vq = panel + q * stride, wq = panel + (PanelWidth + q) * stride;
                        Axpy2(y + c0, wq + c0, -dots[q], vq + c0, -dots[PanelWidth + q], c1 - c0);
                    }
                }
            }
        }

        /// <summary>Columns c, …, c + 3 of the lower triangle: y[i] += a[c+k, i]·v[c+k] for i ≥ c + k, y[c+k] += Σ_i a[c+k, i]·v[i].</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void SymmetricProduct4(double* a, int n, int c, double* v, double* y)
        {
            double* r0 = a + (long)c * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
            double v0 = v[c], v1 = v[c + 1], v2 = v[c + 2], v3 = v[c + 3];
            // The 4×4 diagonal block (lower part).
            double s0 = r0[c] * v0 + r0[c + 1] * v1 + r0[c + 2] * v2 + r0[c + 3] * v3;
            double s1 = r0[c + 1] * v0 + r1[c + 1] * v1 + r1[c + 2] * v2 + r1[c + 3] * v3;
            double s2 = r0[c + 2] * v0 + r1[c + 2] * v1 + r2[c + 2] * v2 + r2[c + 3] * v3;
            double s3 = r0[c + 3] * v0 + r1[c + 3] * v1 + r2[c + 3] * v2 + r3[c + 3] * v3;
            int i = c + 4;
            if (Vector256.IsHardwareAccelerated)
            {
                var b0 = Vector256.Create(v0); var b1 = Vector256.Create(v1);
                var b2 = Vector256.Create(v2); var b3 = Vector256.Create(v3);
                var t0 = Vector256<double>.Zero; var t1 = Vector256<double>.Zero;
                var t2 = Vector256<double>.Zero; var t3 = Vector256<double>.Zero;
                var u0 = Vector256<double>.Zero; var u1 = Vector256<double>.Zero;
                var u2 = Vector256<double>.Zero; var u3 = Vector256<double>.Zero;
                for (; i + 8 <= n; i += 8)
                {
                    var vi = Vector256.Load(v + i);
                    var a0 = Vector256.Load(r0 + i); var a1 = Vector256.Load(r1 + i);
                    var a2 = Vector256.Load(r2 + i); var a3 = Vector256.Load(r3 + i);
                    var lo = Vector256.FusedMultiplyAdd(a1, b1, a0 * b0);
                    var hi = Vector256.FusedMultiplyAdd(a3, b3, a2 * b2);
                    (lo + hi + Vector256.Load(y + i)).Store(y + i);
                    t0 = Vector256.FusedMultiplyAdd(a0, vi, t0); t1 = Vector256.FusedMultiplyAdd(a1, vi, t1);
                    t2 = Vector256.FusedMultiplyAdd(a2, vi, t2); t3 = Vector256.FusedMultiplyAdd(a3, vi, t3);
                    vi = Vector256.Load(v + i + 4);
                    a0 = Vector256.Load(r0 + i + 4); a1 = Vector256.Load(r1 + i + 4);
                    a2 = Vector256.Load(r2 + i + 4); a3 = Vector256.Load(r3 + i + 4);
                    lo = Vector256.FusedMultiplyAdd(a1, b1, a0 * b0);
                    hi = Vector256.FusedMultiplyAdd(a3, b3, a2 * b2);
                    (lo + hi + Vector256.Load(y + i + 4)).Store(y + i + 4);
                    u0 = Vector256.FusedMultiplyAdd(a0, vi, u0); u1 = Vector256.FusedMultiplyAdd(a1, vi, u1);
                    u2 = Vector256.FusedMultiplyAdd(a2, vi, u2); u3 = Vector256.FusedMultiplyAdd(a3, vi, u3);
                }
                t0 += u0; t1 += u1; t2 += u2; t3 += u3;
                s0 += Vector256.Sum(t0); s1 += Vector256.Sum(t1); s2 += Vector256.Sum(t2); s3 += Vector256.Sum(t3);
            }
            for (; i < n; i++)
            {
                double vi = v[i];
                y[i] += r0[i] * v0 + r1[i] * v1 + r2[i] * v2 + r3[i] * v3;
                s0 += r0[i] * vi; s1 += r1[i] * vi; s2 += r2[i] * vi; s3 += r3[i] * vi;
            }
            y[c] += s0; y[c + 1] += s1; y[c + 2] += s2; y[c + 3] += s3;
        }

        private static void SymmetricProduct1(double* a, int n, int c, double* v, double* y)
        {
            double* r = a + (long)c * n;
            double vc = v[c], s = r[c] * vc;
            for (int i = c + 1; i < n; i++)
            {
                y[i] += r[i] * vc;
                s += r[i] * v[i];
            }
            y[c] += s;
        }

        /// <summary>A₂₂ ← A₂₂ − V·Wᵀ − W·Vᵀ on this thread's columns (dsyr2k), in 4-column × 8-row register blocks.</summary>
        private void TrailingUpdate(int id)
        {
            int n = _n, s = _trailingStart, width = _panelWidthUsed, stride = _stride;
            int depth = 2 * width;
            double* coefficients = stackalloc double[2 * PanelWidth * 4];
            double** rows = stackalloc double*[2 * PanelWidth];
            fixed (double* a = _a, panel = _panel)
            {
                for (int q = 0; q < depth; q++) rows[q] = panel + (q < width ? q : PanelWidth + q - width) * stride;
                for (int chunk = FirstOwnedChunk(s, id); chunk < n; chunk += _threads * ChunkWidth)
                {
                    int c0 = Math.Max(chunk, s), c1 = Math.Min(chunk + ChunkWidth, n);
                    for (int c = c0; c < c1; c += 4)
                    {
                        int columns = Math.Min(4, c1 - c);
                        // Column c's coefficients: W_k[c] multiply V_k, V_k[c] multiply W_k.
                        for (int q = 0; q < depth; q++)
                            for (int l = 0; l < 4; l++)
                            {
                                int col = c + Math.Min(l, columns - 1);
                                coefficients[q * 4 + l] = q < width ? panel[(PanelWidth + q) * stride + col] : panel[(q - width) * stride + col];
                            }
                        UpdateColumns(a, n, c, columns, depth, rows, coefficients);
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void UpdateColumns(double* a, int n, int c, int columns, int depth, double** rows, double* coefficients)
        {
            int lastBlock = (n - 1) / 8;
            double* r0 = a + (long)c * n;
            if (Vector256.IsHardwareAccelerated && columns == 4)
            {
                double* r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
                for (int b = c / 8; b <= lastBlock; b++)
                {
                    int i = b * 8;
                    var a00 = Vector256<double>.Zero; var a01 = Vector256<double>.Zero;
                    var a10 = Vector256<double>.Zero; var a11 = Vector256<double>.Zero;
                    var a20 = Vector256<double>.Zero; var a21 = Vector256<double>.Zero;
                    var a30 = Vector256<double>.Zero; var a31 = Vector256<double>.Zero;
                    for (int q = 0; q < depth; q++)
                    {
                        double* p = rows[q] + i;
                        var p0 = Vector256.Load(p);
                        var p1 = Vector256.Load(p + 4);
                        double* k = coefficients + q * 4;
                        var k0 = Vector256.Create(k[0]);
                        a00 = Vector256.FusedMultiplyAdd(p0, k0, a00); a01 = Vector256.FusedMultiplyAdd(p1, k0, a01);
                        var k1 = Vector256.Create(k[1]);
                        a10 = Vector256.FusedMultiplyAdd(p0, k1, a10); a11 = Vector256.FusedMultiplyAdd(p1, k1, a11);
                        var k2 = Vector256.Create(k[2]);
                        a20 = Vector256.FusedMultiplyAdd(p0, k2, a20); a21 = Vector256.FusedMultiplyAdd(p1, k2, a21);
                        var k3 = Vector256.Create(k[3]);
                        a30 = Vector256.FusedMultiplyAdd(p0, k3, a30); a31 = Vector256.FusedMultiplyAdd(p1, k3, a31);
                    }
                    // Rows left of the diagonal and past n − 1 receive junk too: no one reads them (see the class remarks).
                    (Vector256.Load(r0 + i) - a00).Store(r0 + i); (Vector256.Load(r0 + i + 4) - a01).Store(r0 + i + 4);
                    (Vector256.Load(r1 + i) - a10).Store(r1 + i); (Vector256.Load(r1 + i + 4) - a11).Store(r1 + i + 4);
                    (Vector256.Load(r2 + i) - a20).Store(r2 + i); (Vector256.Load(r2 + i + 4) - a21).Store(r2 + i + 4);
                    (Vector256.Load(r3 + i) - a30).Store(r3 + i); (Vector256.Load(r3 + i + 4) - a31).Store(r3 + i + 4);
                }
                return;
            }
            for (int l = 0; l < columns; l++)
            {
                double* r = r0 + (long)l * n;
                for (int i = c + l; i < n; i++)
                {
                    double sum = 0;
                    for (int q = 0; q < depth; q++) sum += rows[q][i] * coefficients[q * 4 + l];
                    r[i] -= sum;
                }
            }
        }
    }

    /// <summary>x ← x + α·p + β·q over n entries.</summary>
    private static void Axpy2(double* x, double* p, double alpha, double* q, double beta, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(alpha); var vb = Vector256.Create(beta);
            for (; i + 4 <= n; i += 4)
                Vector256.FusedMultiplyAdd(Vector256.Load(q + i), vb, Vector256.FusedMultiplyAdd(Vector256.Load(p + i), va, Vector256.Load(x + i))).Store(x + i);
        }
        for (; i < n; i++) x[i] += alpha * p[i] + beta * q[i];
    }

    private static void Axpy(double* x, double* p, double alpha, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(alpha);
            for (; i + 4 <= n; i += 4) Vector256.FusedMultiplyAdd(Vector256.Load(p + i), va, Vector256.Load(x + i)).Store(x + i);
        }
        for (; i < n; i++) x[i] += alpha * p[i];
    }

    private static double Dot(double* x, double* y, int n)
    {
        int i = 0;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var s0 = Vector256<double>.Zero; var s1 = Vector256<double>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 4), Vector256.Load(y + i + 4), s1);
            }
            sum = Vector256.Sum(s0 + s1);
        }
        for (; i < n; i++) sum += x[i] * y[i];
        return sum;
    }

    /// <summary>‖x‖₂: a plain SIMD sum of squares, redone scaled near max |x_i| (as dnrm2 does) if it under- or overflowed.</summary>
    private static double Norm(double* x, int n)
    {
        double sum = Dot(x, x, n);
        if (sum > 1e-280 && sum < 1e280) return Math.Sqrt(sum);
        double max = 0;
        for (int i = 0; i < n; i++) max = Math.Max(max, Math.Abs(x[i]));
        if (max == 0 || double.IsInfinity(max)) return max;
        // Scale by a power of two near 1/max, entry by entry: 1/max itself overflows for subnormal max.
        int exponent = Math.ILogB(max);
        sum = 0;
        for (int i = 0; i < n; i++)
        {
            double s = Math.ScaleB(x[i], -exponent);
            sum += s * s;
        }
        return Math.ScaleB(Math.Sqrt(sum), exponent);
    }

    /// <summary>x ← α·p over n entries.</summary>
    private static void Scale(double* x, double* p, double alpha, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(alpha);
            for (; i + 4 <= n; i += 4) (Vector256.Load(p + i) * va).Store(x + i);
        }
        for (; i < n; i++) x[i] = alpha * p[i];
    }
}
