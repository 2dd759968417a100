using Noether.Conservation;
using Noether.Nn;
using static Noether.Experiments.Format;

namespace Noether.Experiments;

/// <summary>Settings of the Xavier experiment (Appendix E, Figs. 4–5).</summary>
public sealed record XavierSettings
{
    /// <summary>(m, h, n) tuples of Fig. 4 (linear network, Q = ½Tr[UᵀU − VVᵀ]).</summary>
    public IReadOnlyList<LayerShape> Shapes { get; init; } = [new(100, 100, 100), new(100, 200, 100), new(200, 100, 100)];

    /// <summary>Independent Xavier draws per tuple (paper: 1000).</summary>
    public int Draws { get; init; } = 1000;

    /// <summary>Activations of Fig. 5 (eq. 48 form, elementwise σ).</summary>
    public IReadOnlyList<string> Activations { get; init; } = ["identity", "relu", "sigmoid", "tanh"];

    /// <summary>The shape of Fig. 5 (paper: m = h = n = 100).</summary>
    public LayerShape IntegralFormShape { get; init; } = new(100, 100, 100);

    /// <summary>Seed of the draws: tuple s of Fig. 4 draws from its own generator, seeded from (seed, s); Fig. 5 from one
    /// generator seeded from the seed alone, shared by every σ (so the σ are compared on the same draws).</summary>
    public int Seed { get; init; }

    /// <summary>Run only this part of the grid (<see cref="XavierExperiment.GridSize"/>); null: all of it.</summary>
    public Shard? Shard { get; init; }

    internal void Validate()
    {
        if (Shapes is null) throw Errors.Null(nameof(Shapes));
        for (int i = 0; i < Shapes.Count; i++) Shapes[i].Validate($"Shapes[{i}]");
        if (Draws < 2) throw Errors.OutOfRange(nameof(Draws), Draws, "at least 2 draws");
        ArgumentNullException.ThrowIfNull(Activations);
        IntegralFormShape.Validate(nameof(IntegralFormShape));
    }
}

/// <summary>The sample of Q over the draws next to its predicted distribution.</summary>
/// <param name="Label">"(m, h, n)" for Fig. 4 or the activation's name for Fig. 5.</param>
/// <param name="Shape">(m, h, n).</param>
/// <param name="Values">Q for each draw (for the histogram).</param>
/// <param name="Mean">Sample mean.</param>
/// <param name="Variance">Unbiased sample variance.</param>
/// <param name="PredictedMean">E[Q] derived in <see cref="XavierDistribution"/> (½(m − h) for the linear case), or NaN.</param>
/// <param name="PredictedVariance">Var[Q] derived there (½(m/h + h/n) for the linear case), or NaN.</param>
/// <param name="StandardError">√(PredictedVariance / draws) (the sample's own when no prediction exists).</param>
/// <param name="MeanZScore">(Mean − PredictedMean) / StandardError.</param>
/// <param name="WithinThreeStandardErrors">|MeanZScore| ≤ 3.</param>
/// <param name="PaperMean">The paper's eq. 47 value m − h (linear case only, else NaN).</param>
public sealed record XavierSample(string Label, LayerShape Shape, double[] Values, double Mean, double Variance, double PredictedMean,
    double PredictedVariance, double StandardError, double MeanZScore, bool WithinThreeStandardErrors, double PaperMean);

/// <summary>Figs. 4 and 5.</summary>
/// <param name="Settings">The settings it ran with.</param>
/// <param name="Linear">Fig. 4: one sample per (m, h, n) (the shard's, when sharded).</param>
/// <param name="IntegralForms">Fig. 5: one sample per activation at <see cref="XavierSettings.IntegralFormShape"/> (the shard's, when sharded).</param>
public sealed record XavierResult(XavierSettings Settings, IReadOnlyList<XavierSample> Linear, IReadOnlyList<XavierSample> IntegralForms);

/// <summary>One sample of <see cref="XavierExperiment"/> with its tests: the mean's z against the prediction and the paper's
/// value, and the variance test z = (s² − Var) / SE(s²).</summary>
/// <param name="Figure">"Fig. 4" (linear) or "Fig. 5" (eq. 48 form).</param>
/// <param name="Sample">The sample.</param>
/// <param name="PaperZ">(Mean − PaperMean) / StandardError, NaN without a paper value.</param>
/// <param name="VarianceStandardError">SE of the sample variance (from the fourth cumulant), NaN without predicted moments.</param>
/// <param name="VarianceZ">(Variance − PredictedVariance) / VarianceStandardError.</param>
/// <param name="KappaSource">Where the fourth cumulant came from: "derived", "sample" or "none".</param>
public sealed record XavierScore(string Figure, XavierSample Sample, double PaperZ, double VarianceStandardError, double VarianceZ, string KappaSource)
{
    /// <summary>|mean z| ≤ <see cref="SymmetryClaims.ZLimit"/>.</summary>
    public bool MeanPass => Math.Abs(Sample.MeanZScore) <= SymmetryClaims.ZLimit;

    /// <summary>|variance z| ≤ <see cref="SymmetryClaims.ZLimit"/>.</summary>
    public bool VariancePass => Math.Abs(VarianceZ) <= SymmetryClaims.ZLimit;
}

/// <summary>
/// The distribution of Q under Xavier initialisation U_ij ~ N(0, 1/h), V_ij ~ N(0, 1/n) (eq. 46): its measured mean
/// and variance over independent draws against E[Q] = ½(m − h) and Var[Q] = ½(m/h + h/n) (the paper's eq. 47 prints
/// m − h), and the eq. 48 form for elementwise σ (Fig. 5) against the moments derived in <see cref="XavierDistribution"/>.
/// </summary>
public static class XavierExperiment
{
    /// <summary>The number of grid items: the Fig. 4 tuples, then the Fig. 5 activations.</summary>
    public static int GridSize(XavierSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Shapes.Count + settings.Activations.Count;
    }

    /// <summary>Draws and scores (the items of <see cref="XavierSettings.Shard"/> when set). Pure: each item's draws depend
    /// only on the settings and the item, never on which other items run.</summary>
    public static XavierResult Run(XavierSettings settings, IProgress<ExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var activations = settings.Activations.Select(Activation.Parse).ToArray();
        var quantities = activations.Select(a => ConservedQuantity.IntegralForm(a)).ToArray(); // throws for radial σ
        var items = Shard.ItemsOf(settings.Shard, GridSize(settings));
        int shapeCount = settings.Shapes.Count;
        var shapeIndices = Enumerable.Range(items.Start, items.Length).Where(i => i < shapeCount).ToArray();
        var activationIndices = Enumerable.Range(items.Start, items.Length).Where(i => i >= shapeCount).Select(i => i - shapeCount).ToArray();
        long total = (long)settings.Draws * (shapeIndices.Length + (activationIndices.Length > 0 ? 1 : 0));
        long done = 0;
        var trace = ConservedQuantity.ImbalanceTrace(0.5);

        var linear = new List<XavierSample>();
        foreach (int s in shapeIndices)
        {
            var shape = settings.Shapes[s];
            var random = new Random(Seeds.Derive(settings.Seed, 4, s));
            var values = new double[settings.Draws];
            for (int d = 0; d < values.Length; d++)
            {
                values[d] = trace.Evaluate(TwoLayerParameters.Xavier(random, shape.M, shape.H, shape.N))[0];
                Tick(ref done);
            }
            var predicted = XavierDistribution.LinearTrace(shape.M, shape.H, shape.N);
            linear.Add(Summarise(shape.ToString(), shape, values, predicted, shape.M - shape.H));
        }

        var forms = new List<XavierSample>();
        if (activationIndices.Length > 0)
        {
            var shape = settings.IntegralFormShape;
            var random = new Random(Seeds.Derive(settings.Seed, 5));
            var values = activationIndices.Select(_ => new double[settings.Draws]).ToArray();
            for (int d = 0; d < settings.Draws; d++)
            {
                var theta = TwoLayerParameters.Xavier(random, shape.M, shape.H, shape.N);
                for (int j = 0; j < activationIndices.Length; j++) values[j][d] = quantities[activationIndices[j]].Evaluate(theta)[0];
                Tick(ref done);
            }
            for (int j = 0; j < activationIndices.Length; j++)
            {
                var a = activations[activationIndices[j]];
                forms.Add(Summarise(a.Name, shape, values[j], XavierDistribution.IntegralForm(a, shape.M, shape.H, shape.N), double.NaN));
            }
        }
        return new XavierResult(settings, linear, forms);

        void Tick(ref long count)
        {
            count++;
            if (count % 50 == 0 || count == total)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new ExperimentProgress("Xavier draws", count, total));
            }
        }
    }

    private static XavierSample Summarise(string label, LayerShape shape, double[] values, QuantityMoments? predicted, double paperMean)
    {
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
        double predictedMean = predicted?.Mean ?? double.NaN;
        double predictedVariance = predicted?.Variance ?? double.NaN;
        double se = Math.Sqrt((predicted is null ? variance : predictedVariance) / values.Length);
        double z = (mean - predictedMean) / se;
        return new XavierSample(label, shape, values, mean, variance, predictedMean, predictedVariance, se, z, Math.Abs(z) <= 3, paperMean);
    }

    /// <summary>Scores every sample of <paramref name="result"/> (also of one merged from shards): Fig. 4's, then Fig. 5's.</summary>
    public static XavierScore[] Score(XavierResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        // A shard holds the Fig. 5 activations from its first grid item on (items: the tuples, then the activations).
        var items = Shard.ItemsOf(result.Settings.Shard, XavierExperiment.GridSize(result.Settings));
        var names = result.Settings.Activations.Skip(Math.Max(0, items.Start - result.Settings.Shapes.Count));
        var rows = result.Linear.Select(s => Score("Fig. 4", s, XavierDistribution.LinearTrace(s.Shape.M, s.Shape.H, s.Shape.N)))
            .Concat(result.IntegralForms.Zip(names, (s, name) => Score("Fig. 5", s,
                XavierDistribution.IntegralForm(Activation.Parse(name), s.Shape.M, s.Shape.H, s.Shape.N))))
            .ToArray();
        return rows;
    }

    // The variance test: z = (s² − Var) / SE(s²), SE from the derived fourth cumulant when there is one, else the sample's.
    private static XavierScore Score(string figure, XavierSample s, QuantityMoments? moments)
    {
        int n = s.Values.Length;
        double paperZ = double.IsNaN(s.PaperMean) ? double.NaN : (s.Mean - s.PaperMean) / s.StandardError;
        if (moments is null) return new XavierScore(figure, s, paperZ, double.NaN, double.NaN, "none");
        double kappa4 = moments.FourthCumulant;
        string source = "derived";
        if (double.IsNaN(kappa4))
        {
            double m2 = 0, m4 = 0;
            foreach (var v in s.Values)
            {
                double d = (v - s.Mean) * (v - s.Mean);
                m2 += d;
                m4 += d * d;
            }
            m2 /= n;
            m4 /= n;
            kappa4 = m4 - 3 * m2 * m2;
            source = "sample";
        }
        double se = Math.Sqrt(kappa4 / n + 2 * moments.Variance * moments.Variance / (n - 1));
        return new XavierScore(figure, s, paperZ, se, (s.Variance - moments.Variance) / se, source);
    }

    /// <summary>The report contract: eq. 47 (corrected to ½(m − h)), the variance, and the eq. 48 form of Fig. 5, judged by SymmetryClaims from the z-scores.</summary>
    public static List<Claim> Claims(XavierScore[] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var claims = new List<Claim>();
        var linear = rows.Where(r => r.Figure == "Fig. 4").ToArray();
        if (linear.Length > 0)
        {
            // The paper's m − h is testable only where it differs from ½(m − h) (m ≠ h).
            var parts = linear.Select(r => new[] { r.Sample.MeanZScore, r.Sample.Shape.M != r.Sample.Shape.H ? r.PaperZ : double.NaN }).ToArray();
            var claim = SymmetryClaims.XavierMean.Make(parts, $"{linear[0].Sample.Values.Length} draws per shape; " + string.Join("; ", linear.Select(r =>
                $"{r.Sample.Shape}: mean {Fixed(r.Sample.Mean, 3)} vs ½(m − h) = {Fixed(r.Sample.PredictedMean, 1)} (z = {Fixed(r.Sample.MeanZScore, 2)})" +
                (double.IsNaN(r.PaperZ) ? "" : $", paper {Fixed(r.Sample.PaperMean, 1)} (z = {Fixed(r.PaperZ, 1)})"))));
            claims.Add(claim.Verdict == Verdict.Corrected ? claim with { Note = "the printed m − h is the mean of the un-halved trace; it is rejected wherever m ≠ h" } : claim);
            claims.Add(SymmetryClaims.XavierVariance.Make(linear.Select(r => new[] { r.VarianceZ }).ToArray(),
                string.Join("; ", linear.Select(r => $"{r.Sample.Shape}: {Fixed(r.Sample.Variance, 3)} vs {Fixed(r.Sample.PredictedVariance, 3)} (z = {Fixed(r.VarianceZ, 2)})"))));
        }
        var forms = rows.Where(r => r.Figure == "Fig. 5").ToArray();
        if (forms.Length > 0)
            claims.Add(SymmetryClaims.XavierIntegralForm.Make(forms.Select(r => new[] { r.Sample.MeanZScore, double.IsNaN(r.VarianceZ) ? 0 : 1, r.VarianceZ }).ToArray(),
                string.Join("; ", forms.Select(r => $"{r.Sample.Label}: mean {Fixed(r.Sample.Mean, 3)} vs {Fixed(r.Sample.PredictedMean, 3)} (z = {Fixed(r.Sample.MeanZScore, 2)})" +
                    (double.IsNaN(r.VarianceZ) ? "" : $", variance z = {Fixed(r.VarianceZ, 2)}"))),
                $"{forms[0].Sample.Shape}, x0 = 0 in eq. 48; the paper plots the histograms without predicted moments"));
        return claims;
    }
}
