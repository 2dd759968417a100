namespace Noether.Experiments;

/// <summary>How a measured number stands against a claim.</summary>
public enum Verdict
{
    /// <summary>A claim of the paper holds here, within the threshold its <see cref="ClaimRule.Predicted"/> states.</summary>
    Reproduced,

    /// <summary>
    /// A claim of the paper holds for some of its parts (settings, activations, strengths, shapes) and not for others;
    /// the measured text lists every part. Decided in one place: <see cref="ClaimOutcomes.OfParts"/>.
    /// </summary>
    Partial,

    /// <summary>A claim of the paper does not hold here, or there was no data (NaN, nothing measured) to judge it.</summary>
    NotReproduced,

    /// <summary>The paper's printed formula is off (docs/spec-corrections.md); the corrected one holds here.</summary>
    Corrected,

    /// <summary>A measurement nothing predicts (a speed, a count); reported, not judged.</summary>
    Measured,

    /// <summary>One of Noether's own checks (a derivation, a control, an algorithm) holds; never a claim of the paper.</summary>
    Passed,

    /// <summary>One of Noether's own checks does not hold, or had no data.</summary>
    Failed,
}

/// <summary>Where a claim comes from.</summary>
public enum ClaimOrigin
{
    /// <summary>The paper states it (an equation, a figure, a proposition).</summary>
    Paper,

    /// <summary>The paper states it with a printed formula that is off; the claim is judged in its corrected form (docs/spec-corrections.md).</summary>
    Correction,

    /// <summary>
    /// Noether's own check — a derivation the paper does not make, a control, an algorithm of Noether's, another paper's
    /// convention — or its own measurement; judged <see cref="Verdict.Passed"/>/<see cref="Verdict.Failed"/>, never "reproduced".
    /// </summary>
    Own,
}

/// <summary>
/// One row of the report's "predicted vs measured" table: every experiment command writes its rows into its
/// summary.json under <c>"claims"</c>; <c>noether reproduce</c> gathers them into report.html and its own summary.json.
/// Built by ClaimRule.Make, which decides the verdict.
/// </summary>
/// <param name="Id">Stable, unique within the command, kebab-case (e.g. "drift-flow-conserves-q").</param>
/// <param name="Source">Where the claim lives: "Fig. 3", "eq. 41", "Prop. 14", or for an own check what it rests on.</param>
/// <param name="Statement">The claim in one sentence, as the paper makes it (or as SPEC corrects it, or as Noether checks it).</param>
/// <param name="Predicted">The predicted value or relation with the threshold the verdict uses, as text.</param>
/// <param name="Measured">What this run measured, as text, with its number(s).</param>
/// <param name="Verdict">How the measurement stands against the prediction.</param>
/// <param name="Note">The setting it was measured in, or why the verdict is what it is; null if none.</param>
/// <param name="Origin">The paper, a correction of the paper, or Noether's own check (absent in summaries written before it existed: Paper).</param>
public sealed record Claim(string Id, string Source, string Statement, string Predicted, string Measured, Verdict Verdict, string? Note = null,
    ClaimOrigin Origin = ClaimOrigin.Paper);

/// <summary>What a claim's decision found, before the claim's origin turns it into a <see cref="Verdict"/>.</summary>
public enum ClaimOutcome
{
    /// <summary>Every part holds.</summary>
    Holds,

    /// <summary>Every part holds in the corrected form, and the paper's printed form fails somewhere.</summary>
    HoldsAsCorrected,

    /// <summary>Some parts hold, some do not (<see cref="ClaimOutcomes.OfParts"/>).</summary>
    Partly,

    /// <summary>No part holds, or there was nothing (or only NaN) to judge.</summary>
    Fails,

    /// <summary>Nothing is predicted: a measurement.</summary>
    Unjudged,
}

/// <summary>The shared pieces of every claim's decision.</summary>
public static class ClaimOutcomes
{
    /// <summary>A decision over parts: <see cref="OfParts"/> of how many parts satisfy <paramref name="holds"/>.</summary>
    public static ClaimOutcome PerPart(double[][] parts, Func<double[], bool> holds)
    {
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentNullException.ThrowIfNull(holds);
        return OfParts(parts.Count(holds), parts.Length);
    }

    /// <summary>The single part of a one-part claim, or an all-NaN part of <paramref name="length"/> when it is missing or short (so the decision fails).</summary>
    public static double[] Single(double[][] parts, int length)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 1 && parts[0].Length >= length) return parts[0];
        return Enumerable.Repeat(double.NaN, length).ToArray();
    }

    /// <summary>
    /// The one definition of "partial": a claim made of <paramref name="total"/> parts (per activation, per ε, per shape,
    /// per attack strength) of which <paramref name="held"/> hold is <see cref="ClaimOutcome.Holds"/> when all hold,
    /// <see cref="ClaimOutcome.Partly"/> when some but not all hold, and <see cref="ClaimOutcome.Fails"/> when none hold
    /// or there are no parts.
    /// </summary>
    public static ClaimOutcome OfParts(int held, int total)
    {
        if (total < 0) throw Errors.OutOfRange(nameof(total), total, "a part count ≥ 0");
        if (held < 0 || held > total) throw Errors.OutOfRange(nameof(held), held, $"a count in [0, {total}]");
        return total == 0 || held == 0 ? ClaimOutcome.Fails : held == total ? ClaimOutcome.Holds : ClaimOutcome.Partly;
    }

    /// <summary><see cref="ClaimOutcome.Holds"/> when <paramref name="holds"/>, else <see cref="ClaimOutcome.Fails"/>.</summary>
    public static ClaimOutcome If(bool holds) => holds ? ClaimOutcome.Holds : ClaimOutcome.Fails;

    /// <summary>The verdict of <paramref name="outcome"/> for a claim of <paramref name="origin"/>: own checks pass or fail, never "reproduce".</summary>
    public static Verdict ToVerdict(ClaimOutcome outcome, ClaimOrigin origin) => (outcome, origin) switch
    {
        (ClaimOutcome.Unjudged, _) => Verdict.Measured,
        (ClaimOutcome.Holds or ClaimOutcome.HoldsAsCorrected, ClaimOrigin.Own) => Verdict.Passed,
        (_, ClaimOrigin.Own) => Verdict.Failed,
        (ClaimOutcome.Holds, _) => Verdict.Reproduced,
        (ClaimOutcome.HoldsAsCorrected, _) => Verdict.Corrected,
        (ClaimOutcome.Partly, _) => Verdict.Partial,
        _ => Verdict.NotReproduced,
    };

    /// <summary>A threshold as the predicted text shows it ("1e-10", "0.01", "3").</summary>
    public static string Text(double threshold) =>
        threshold.ToString(Math.Abs(threshold) < 1e-3 && threshold != 0 ? "0.###e0" : "G6", CultureInfo.InvariantCulture);
}

/// <summary>
/// A claim's rule: its id, origin, source and statement, the predicted text (written from the same constants the
/// decision uses), and the decision itself — a small function from the measured numbers to a <see cref="ClaimOutcome"/>.
/// The numbers come as parts (one array per activation, ε, shape…; a single-valued claim has one part); <see cref="Inputs"/>
/// says what each part holds. NaN or missing data never holds.
/// </summary>
public sealed class ClaimRule
{
    private readonly Func<double[][], ClaimOutcome>? decide;

    /// <param name="id">The claim id; a family of claims (one per baseline, activation, block) writes its varying part as "{…}".</param>
    /// <param name="origin">The paper, a correction of it, or Noether's own check.</param>
    /// <param name="source">Equation/figure of the paper, or what the own check rests on.</param>
    /// <param name="statement">The claim in one sentence.</param>
    /// <param name="predicted">The prediction with the threshold the decision uses.</param>
    /// <param name="inputs">What each part of the measured numbers holds, e.g. "per σ: [ρ]".</param>
    /// <param name="decide">The decision (NaN and missing parts must fail); null for a measurement nothing predicts.</param>
    public ClaimRule(string id, ClaimOrigin origin, string source, string statement, string predicted, string inputs, Func<double[][], ClaimOutcome>? decide)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(statement);
        ArgumentException.ThrowIfNullOrWhiteSpace(predicted);
        (Id, Origin, Source, Statement, Predicted, Inputs, this.decide) = (id, origin, source, statement, predicted, inputs ?? "", decide);
    }

    /// <summary>The claim id (with "{…}" for the varying part of a family).</summary>
    public string Id { get; }

    /// <summary>The paper, a correction of it, or Noether's own check.</summary>
    public ClaimOrigin Origin { get; }

    /// <summary>Equation/figure of the paper, or what the own check rests on.</summary>
    public string Source { get; }

    /// <summary>The claim in one sentence.</summary>
    public string Statement { get; }

    /// <summary>The prediction with the threshold the decision uses.</summary>
    public string Predicted { get; }

    /// <summary>What each part of the measured numbers holds.</summary>
    public string Inputs { get; }

    /// <summary>True when nothing is predicted and every measurement is <see cref="Verdict.Measured"/>.</summary>
    public bool IsMeasurement => decide is null;

    /// <summary>The verdict of the measured <paramref name="parts"/> (see <see cref="Inputs"/>).</summary>
    public Verdict Judge(params double[][] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        foreach (var p in parts) if (p is null) throw Errors.Null(nameof(parts), $"{Id}: a part of the measured numbers is null");
        return ClaimOutcomes.ToVerdict(decide is null ? ClaimOutcome.Unjudged : decide(parts), Origin);
    }

    /// <summary>
    /// The claim row of this run: the verdict judged from <paramref name="parts"/>, the rest from the rule unless
    /// <paramref name="idPart"/> (filling "{…}" of a family's id), <paramref name="statement"/> or <paramref name="predicted"/> say otherwise.
    /// </summary>
    public Claim Make(double[][] parts, string measured, string? note = null, string? idPart = null, string? statement = null, string? predicted = null)
    {
        ArgumentNullException.ThrowIfNull(measured);
        string id = Id;
        int open = id.IndexOf('{', StringComparison.Ordinal);
        if (open >= 0)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(idPart);
            id = id[..open] + idPart + id[(id.IndexOf('}', open) + 1)..];
        }
        else if (idPart is not null) throw Errors.Argument(nameof(idPart), $"{Id}: not a family of claims, so it takes no id part (got '{idPart}')");
        return new Claim(id, Source, statement ?? Statement, predicted ?? Predicted, measured, Judge(parts), note, Origin);
    }

    /// <summary>A claim with one part of measured numbers.</summary>
    public Claim Make(double[] numbers, string measured, string? note = null, string? idPart = null, string? statement = null, string? predicted = null) =>
        Make([numbers], measured, note, idPart, statement, predicted);

    /// <summary>The claim row of a measurement (<see cref="IsMeasurement"/>): its verdict is <see cref="Verdict.Measured"/>.</summary>
    public Claim Measure(string measured, string? note = null, string? idPart = null, string? statement = null, string? predicted = null)
    {
        if (!IsMeasurement) throw new InvalidOperationException($"{Id}: a judged claim needs its measured numbers (Make), not Measure");
        return Make(Array.Empty<double[]>(), measured, note, idPart, statement, predicted);
    }

    /// <summary>True when <paramref name="claimId"/> is this rule's id, or a member of its family.</summary>
    public bool Matches(string claimId)
    {
        int open = Id.IndexOf('{', StringComparison.Ordinal);
        if (open < 0) return claimId == Id;
        string head = Id[..open], tail = Id[(Id.IndexOf('}', open) + 1)..];
        return claimId.Length > head.Length + tail.Length && claimId.StartsWith(head, StringComparison.Ordinal) && claimId.EndsWith(tail, StringComparison.Ordinal);
    }

    /// <inheritdoc/>
    public override string ToString() => Id;
}

/// <summary>
/// How many claims got each verdict, with the paper's claims (reproduced, corrected, partial, not reproduced) apart from
/// Noether's own checks (passed, failed) and from measurements: the header of a report.
/// </summary>
public sealed record ClaimTally(int Reproduced, int Corrected, int Partial, int NotReproduced, int Passed, int Failed, int Measured)
{
    /// <summary>The tally of <paramref name="verdicts"/>.</summary>
    public static ClaimTally Of(IEnumerable<Verdict> verdicts)
    {
        ArgumentNullException.ThrowIfNull(verdicts);
        var n = new int[Enum.GetValues<Verdict>().Length];
        foreach (var v in verdicts) n[(int)v]++;
        return new ClaimTally(n[(int)Verdict.Reproduced], n[(int)Verdict.Corrected], n[(int)Verdict.Partial], n[(int)Verdict.NotReproduced],
            n[(int)Verdict.Passed], n[(int)Verdict.Failed], n[(int)Verdict.Measured]);
    }

    /// <summary>The tally of a verdict count table keyed by <see cref="Verdict"/> names (summary.json's "verdicts"; absent names count 0).</summary>
    public static ClaimTally Of(IReadOnlyDictionary<string, int> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        int N(Verdict v) => counts.TryGetValue(v.ToString(), out int c) ? c : 0;
        return new ClaimTally(N(Verdict.Reproduced), N(Verdict.Corrected), N(Verdict.Partial), N(Verdict.NotReproduced), N(Verdict.Passed), N(Verdict.Failed), N(Verdict.Measured));
    }

    /// <summary>Claims of the paper that were judged (every one but the measurements).</summary>
    public int PaperClaims => Reproduced + Corrected + Partial + NotReproduced;

    /// <summary>Noether's own checks that were judged.</summary>
    public int OwnChecks => Passed + Failed;

    /// <summary>"40 paper claims: 30 reproduced, 6 corrected, 2 partial, 2 not reproduced".</summary>
    public string PaperText => string.Create(CultureInfo.InvariantCulture,
        $"{PaperClaims} paper claims: {Reproduced} reproduced, {Corrected} corrected, {Partial} partial, {NotReproduced} not reproduced");

    /// <summary>"9 own checks: 9 passed, 0 failed".</summary>
    public string OwnText => string.Create(CultureInfo.InvariantCulture, $"{OwnChecks} of Noether's own checks: {Passed} passed, {Failed} failed");

    /// <summary>The three counts in one line.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{PaperText}; {OwnText}; {Measured} measurements (not judged)");
}
