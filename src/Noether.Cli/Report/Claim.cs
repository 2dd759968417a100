namespace Noether.Cli.Report;

// The report contract's claims (Noether.Experiments.Claim, with its Verdict and ClaimOrigin) are decided in the library,
// next to the result each judges (src/Noether/Experiments/*Claims.cs); the CLI renders them.

/// <summary>
/// A figure an experiment command wrote, for the report: every command's summary.json lists its PNGs under
/// <c>"figures"</c> so that <c>noether reproduce</c> can place each next to the paper's claim it illustrates.
/// </summary>
/// <param name="File">The PNG's file name inside the command's output folder.</param>
/// <param name="PaperFigure">The paper's figure it corresponds to ("Fig. 3"), or null for a figure of our own.</param>
/// <param name="Caption">One or two sentences: what is plotted and what to look for.</param>
internal sealed record FigureRef(string File, string? PaperFigure, string Caption);
