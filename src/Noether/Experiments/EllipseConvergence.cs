using Noether.Conservation;
using Noether.Landscape;

namespace Noether.Experiments;

/// <summary>Settings of <see cref="EllipseConvergence"/> (paper Appendix F.1).</summary>
/// <param name="A">The ellipse's axis ratio a &gt; 0 in L = w₁² + a·w₂² (a = 1, the circle, makes L(t) independent of Q).</param>
/// <param name="InitialLoss">L₀, shared by every curve.</param>
/// <param name="ConservedQuantities">The Q values, each &gt; 0; null: 0.01, 0.1, 1, 10, 100.</param>
/// <param name="Duration">Curves run over t ∈ [0, Duration].</param>
/// <param name="Points">Time points per curve (≥ 2).</param>
/// <param name="RelativeTolerance">Dormand–Prince rtol for the numerical gradient flow.</param>
public sealed record EllipseConvergenceSettings(double A = 2, double InitialLoss = 1, IReadOnlyList<double>? ConservedQuantities = null,
    double Duration = 2, int Points = 101, double RelativeTolerance = 1e-12)
{
    /// <summary>The Q values used.</summary>
    public IReadOnlyList<double> QValues => ConservedQuantities ?? [0.01, 0.1, 1, 10, 100];

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        Errors.ThrowIfNotPositive((A, "a"), (InitialLoss, "initial loss"), (Duration, "duration"), (RelativeTolerance, "relative tolerance"));
        if (Points < 2) throw Errors.OutOfRange("points", Points, "at least 2 time points");
        if (QValues.Count == 0) throw Errors.Argument(nameof(ConservedQuantities), "ellipse: no Q values given");
        foreach (var q in QValues) if (!(q > 0) || double.IsInfinity(q)) throw Errors.OutOfRange("Q", q, "positive finite values (Q = w₁^{2a}/w₂² > 0)");
    }
}

/// <summary>One loss curve of the ellipse at a given Q.</summary>
/// <param name="Q">The conserved quantity w₁^{2a}/w₂².</param>
/// <param name="W10">The start's w₁ (positive root).</param>
/// <param name="W20">The start's w₂ (positive root).</param>
/// <param name="ClosedFormLoss">L(t) = (L₀ − a w₂₀²)e^{−4t} + a w₂₀² e^{−4at} at each time.</param>
/// <param name="NumericalLoss">L along the Dormand–Prince gradient flow at each time.</param>
/// <param name="MaxRelativeError">max_t |numerical − closed form| / closed form.</param>
/// <param name="MaxQDrift">max_t |Q(t) − Q| / Q along the numerical flow.</param>
/// <param name="SensitivityAtEnd">∂_Q L at the last time (the paper's expression).</param>
public sealed record EllipseCurve(double Q, double W10, double W20, double[] ClosedFormLoss, double[] NumericalLoss, double MaxRelativeError,
    double MaxQDrift, double SensitivityAtEnd);

/// <summary>The curves of <see cref="EllipseConvergence"/>.</summary>
/// <param name="Settings">The settings used.</param>
/// <param name="Times">The time points.</param>
/// <param name="Curves">One curve per Q, in the settings' order.</param>
public sealed record EllipseConvergenceResult(EllipseConvergenceSettings Settings, double[] Times, IReadOnlyList<EllipseCurve> Curves)
{
    /// <summary>max over curves of the closed form's relative error against the numerical flow.</summary>
    public double MaxRelativeError => Curves.Max(c => c.MaxRelativeError);

    /// <summary>max over curves of the relative drift of Q along the numerical flow.</summary>
    public double MaxQDrift => Curves.Max(c => c.MaxQDrift);

    /// <summary>The numerical loss at the last time, per curve (F.1: Q sets the rate).</summary>
    public double[] FinalLosses => Curves.Select(c => c.NumericalLoss[^1]).ToArray();

    /// <summary>max/min of <see cref="FinalLosses"/>: how far apart the Q put the loss at the end.</summary>
    public double FinalLossSpread
    {
        get
        {
            var ends = FinalLosses;
            return ends.Max() / ends.Min();
        }
    }
}

/// <summary>
/// Paper Appendix F.1: at a fixed initial loss, the conserved quantity Q of the ellipse L = w₁² + a·w₂² decides the whole
/// loss curve. For each Q the start (w₁₀, w₂₀) on the level set L = L₀ is solved for, then L(t) is given by the closed
/// form and checked against a numerical gradient flow. Deterministic (no randomness).
/// </summary>
public static class EllipseConvergence
{
    /// <summary>Computes the curves.</summary>
    public static EllipseConvergenceResult Run(EllipseConvergenceSettings settings, IProgress<SweepProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        double a = settings.A, l0 = settings.InitialLoss;
        var times = Enumerable.Range(0, settings.Points).Select(i => settings.Duration * i / (settings.Points - 1)).ToArray();
        var curves = new List<EllipseCurve>();
        var qs = settings.QValues;
        for (int c = 0; c < qs.Count; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double q = qs[c];
            double w20 = Ellipse.StartForConservedQuantity(a, l0, q);
            double w10 = Math.Sqrt(l0 - a * w20 * w20);
            var closed = times.Select(t => Ellipse.LossAt(a, l0, w20, t)).ToArray();
            var flow = DormandPrince.Solve((_, w, dw) => { var (g1, g2) = Ellipse.Gradient(a, w[0], w[1]); dw[0] = -g1; dw[1] = -g2; },
                0, [w10, w20], times, settings.RelativeTolerance, 1e-300, cancellationToken: cancellationToken);
            var numerical = flow.States.Select(s => Ellipse.Loss(a, s[0], s[1])).ToArray();
            double err = closed.Zip(numerical, (x, y) => Math.Abs(y - x) / x).Max();
            double qDrift = flow.States.Max(s => Math.Abs(Ellipse.ConservedQuantity(a, s[0], s[1]) - q) / q);
            curves.Add(new EllipseCurve(q, w10, w20, closed, numerical, err, qDrift, Ellipse.LossSensitivityToQ(a, l0, w20, times[^1])));
            progress?.Report(new SweepProgress("ellipse", c + 1, qs.Count));
        }
        return new EllipseConvergenceResult(settings, times, curves);
    }
}
