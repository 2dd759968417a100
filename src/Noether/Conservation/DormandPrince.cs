namespace Noether.Conservation;

/// <summary>dy/dt = f(t, y), written into <paramref name="dydt"/>.</summary>
public delegate void OdeRightHandSide(double t, ReadOnlySpan<double> y, Span<double> dydt);

/// <summary>The states of an ODE solution at the requested times.</summary>
/// <param name="Times">The requested times (ascending).</param>
/// <param name="States">States[i] is y(Times[i]).</param>
/// <param name="Steps">Accepted steps.</param>
/// <param name="Rejected">Rejected step attempts.</param>
public sealed record OdeSolution(double[] Times, double[][] States, int Steps, int Rejected);

/// <summary>
/// The Dormand–Prince 5(4) embedded Runge–Kutta method with adaptive steps (the method of MATLAB's ode45 and SciPy's
/// RK45), local error control |eᵢ| ≤ atol + rtol·max(|yᵢ|, |ŷᵢ|). Used as an accurate gradient-flow integrator
/// (θ̇ = −∇L) for the convergence examples, where a fixed-step method would either be slow or drift.
/// Steps are shortened to land exactly on each requested time, so no interpolation error is added.
/// </summary>
public static class DormandPrince
{
    // Butcher tableau (Dormand & Prince 1980); B are the fifth-order weights (the last stage row, FSAL).
    internal const double C2 = 1.0 / 5, C3 = 3.0 / 10, C4 = 4.0 / 5, C5 = 8.0 / 9;
    internal const double A21 = 1.0 / 5;
    internal const double A31 = 3.0 / 40, A32 = 9.0 / 40;
    internal const double A41 = 44.0 / 45, A42 = -56.0 / 15, A43 = 32.0 / 9;
    internal const double A51 = 19372.0 / 6561, A52 = -25360.0 / 2187, A53 = 64448.0 / 6561, A54 = -212.0 / 729;
    internal const double A61 = 9017.0 / 3168, A62 = -355.0 / 33, A63 = 46732.0 / 5247, A64 = 49.0 / 176, A65 = -5103.0 / 18656;
    internal const double B1 = 35.0 / 384, B3 = 500.0 / 1113, B4 = 125.0 / 192, B5 = -2187.0 / 6784, B6 = 11.0 / 84;
    // Error weights: 5th-order minus embedded 4th-order coefficients.
    internal const double E1 = 71.0 / 57600, E3 = -71.0 / 16695, E4 = 71.0 / 1920, E5 = -17253.0 / 339200, E6 = 22.0 / 525, E7 = -1.0 / 40;

    /// <summary>Integrates from (<paramref name="t0"/>, <paramref name="y0"/>) and returns y at each of <paramref name="times"/>.</summary>
    /// <param name="f">The right-hand side.</param>
    /// <param name="t0">Initial time.</param>
    /// <param name="y0">Initial state (not modified).</param>
    /// <param name="times">Output times, ascending, each ≥ t0.</param>
    /// <param name="relativeTolerance">rtol &gt; 0.</param>
    /// <param name="absoluteTolerance">atol &gt; 0.</param>
    /// <param name="maxSteps">Limit on step attempts; exceeding it throws.</param>
    /// <param name="cancellationToken">Checked every 1024 steps.</param>
    /// <exception cref="ArgumentException">Unordered times, times before t0, or non-positive tolerances.</exception>
    /// <exception cref="InvalidOperationException">The step size underflowed, the state became non-finite, or the step limit was hit.</exception>
    public static OdeSolution Solve(OdeRightHandSide f, double t0, ReadOnlySpan<double> y0, IReadOnlyList<double> times,
        double relativeTolerance = 1e-10, double absoluteTolerance = 1e-12, long maxSteps = 50_000_000, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(times);
        Errors.ThrowIfNotPositive(relativeTolerance, nameof(relativeTolerance));
        Errors.ThrowIfNotPositive(absoluteTolerance, nameof(absoluteTolerance));
        if (!double.IsFinite(t0)) throw Errors.OutOfRange(nameof(t0), t0, "a finite time");
        for (int i = 0; i < times.Count; i++)
            if (!double.IsFinite(times[i]) || times[i] < (i == 0 ? t0 : times[i - 1]))
                throw Errors.Argument(nameof(times), $"ode: times[{i}] = {times[i]} must be finite, ≥ t0 = {t0} and not below the previous time");
        int n = y0.Length;
        var y = y0.ToArray();
        var yNew = new double[n];
        var k1 = new double[n];
        var k2 = new double[n];
        var k3 = new double[n];
        var k4 = new double[n];
        var k5 = new double[n];
        var k6 = new double[n];
        var k7 = new double[n];
        var tmp = new double[n];
        var states = new double[times.Count][];
        double t = t0;
        f(t, y, k1);
        double h = InitialStep(y, k1, relativeTolerance, absoluteTolerance);
        long attempts = 0;
        int accepted = 0, rejected = 0;
        for (int output = 0; output < times.Count; output++)
        {
            double target = times[output];
            while (t < target)
            {
                if (++attempts > maxSteps) throw new InvalidOperationException($"ode: more than {maxSteps} steps before t = {target} (stiff or blowing up?)");
                if ((attempts & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
                bool lands = t + h >= target;
                double step = lands ? target - t : h;
                for (int i = 0; i < n; i++) tmp[i] = y[i] + step * A21 * k1[i];
                f(t + C2 * step, tmp, k2);
                for (int i = 0; i < n; i++) tmp[i] = y[i] + step * (A31 * k1[i] + A32 * k2[i]);
                f(t + C3 * step, tmp, k3);
                for (int i = 0; i < n; i++) tmp[i] = y[i] + step * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
                f(t + C4 * step, tmp, k4);
                for (int i = 0; i < n; i++) tmp[i] = y[i] + step * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
                f(t + C5 * step, tmp, k5);
                for (int i = 0; i < n; i++) tmp[i] = y[i] + step * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
                f(t + step, tmp, k6);
                for (int i = 0; i < n; i++) yNew[i] = y[i] + step * (B1 * k1[i] + B3 * k3[i] + B4 * k4[i] + B5 * k5[i] + B6 * k6[i]);
                f(t + step, yNew, k7);
                double err = 0;
                for (int i = 0; i < n; i++)
                {
                    double e = step * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
                    double sc = absoluteTolerance + relativeTolerance * Math.Max(Math.Abs(y[i]), Math.Abs(yNew[i]));
                    err = Math.Max(err, Math.Abs(e) / sc);
                }
                if (double.IsNaN(err)) throw new InvalidOperationException($"ode: the state became non-finite near t = {t:G6}");
                if (err <= 1)
                {
                    t = lands ? target : t + step;
                    (y, yNew) = (yNew, y);
                    (k1, k7) = (k7, k1); // first-same-as-last
                    accepted++;
                }
                else rejected++;
                // Standard controller: safety 0.9, order 5, growth clamped to [0.2, 5].
                double factor = err == 0 ? 5 : Math.Clamp(0.9 * Math.Pow(err, -0.2), 0.2, 5);
                double proposed = step * factor;
                // A step shortened only to land on the target should not shrink the next one.
                h = lands && err <= 1 ? Math.Max(h, proposed) : proposed;
                if (h < 1e-14 * Math.Max(1, Math.Abs(t))) throw new InvalidOperationException($"ode: the step size underflowed at t = {t:G6}");
            }
            states[output] = (double[])y.Clone();
        }
        return new OdeSolution(times.ToArray(), states, accepted, rejected);
    }

    private static double InitialStep(ReadOnlySpan<double> y, ReadOnlySpan<double> dy, double rtol, double atol)
    {
        double d0 = 0, d1 = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double sc = atol + rtol * Math.Abs(y[i]);
            d0 = Math.Max(d0, Math.Abs(y[i]) / sc);
            d1 = Math.Max(d1, Math.Abs(dy[i]) / sc);
        }
        double h = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        return Math.Max(h, 1e-12);
    }
}
