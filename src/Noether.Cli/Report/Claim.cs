namespace Noether.Cli.Report;

/// <summary>How a measured number stands against the paper's claim.</summary>
internal enum Verdict
{
    /// <summary>The claim holds here, within the stated tolerance.</summary>
    Reproduced,

    /// <summary>Part of the claim holds (for example for some activations or settings, not all); the note says which.</summary>
    Partial,

    /// <summary>The claim does not hold here; the note says what was measured instead.</summary>
    NotReproduced,

    /// <summary>The paper's printed formula is off (SPEC lists the correction); the corrected one holds here.</summary>
    Corrected,

    /// <summary>A measurement the paper makes no prediction for (a speed, a count); reported, not judged.</summary>
    Measured,
}

/// <summary>
/// One row of the report's "predicted vs measured" table. Every experiment command writes its rows into its
/// summary.json under <c>"claims"</c>; <c>noether reproduce</c> gathers them into report.html and its own summary.json.
/// </summary>
/// <param name="Id">Stable, unique within the command, kebab-case (e.g. "drift-flow-conserves-q").</param>
/// <param name="Source">Where the claim lives in the paper: "Fig. 3", "eq. 41", "Prop. 14", "Table 1", "Appendix H".</param>
/// <param name="Statement">The claim in one sentence, as the paper makes it (or as SPEC corrects it).</param>
/// <param name="Predicted">The predicted value or relation, as text ("≤ 1e-8", "700 of 750", "½(m − h)").</param>
/// <param name="Measured">What this run measured, as text, with its number(s).</param>
/// <param name="Verdict">How the measurement stands against the prediction.</param>
/// <param name="Note">Why a verdict is not <see cref="Verdict.Reproduced"/>, or the setting it was measured in; null if none.</param>
internal sealed record Claim(string Id, string Source, string Statement, string Predicted, string Measured, Verdict Verdict, string? Note = null);

/// <summary>
/// A figure an experiment command wrote, for the report: every command's summary.json lists its PNGs under
/// <c>"figures"</c> so that <c>noether reproduce</c> can place each next to the paper's claim it illustrates.
/// </summary>
/// <param name="File">The PNG's file name inside the command's output folder.</param>
/// <param name="PaperFigure">The paper's figure it corresponds to ("Fig. 3"), or null for a figure of our own.</param>
/// <param name="Caption">One or two sentences: what is plotted and what to look for.</param>
internal sealed record FigureRef(string File, string? PaperFigure, string Caption);
