namespace Noether.Cli.Report;

/// <summary>One entry of docs/spec-corrections.md: where Noether departs from the paper and why.</summary>
/// <param name="Section">The heading it sits under ("Corrections to the paper's formulas", …).</param>
/// <param name="Title">The bold lead ("eq. 47 (Appendix E, Fig. 4)").</param>
/// <param name="Text">The rest of the line.</param>
internal sealed record SpecCorrection(string Section, string Title, string Text);

/// <summary>
/// The corrections to the paper, read from docs/spec-corrections.md, which is compiled into the tool (the report must
/// list them on any machine, and SPEC.md itself is not part of the repository).
/// </summary>
internal static class SpecCorrections
{
    private const string ResourceName = "Noether.Cli.Report.spec-corrections.md";

    /// <summary>Every entry, in the file's order.</summary>
    public static IReadOnlyList<SpecCorrection> All { get; } = Parse(ReadResource());

    private static string ReadResource()
    {
        using var stream = typeof(SpecCorrections).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the embedded resource {ResourceName} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Parses the markdown: "## Section" headings and "- **Title**: text" entries, one per line.</summary>
    public static IReadOnlyList<SpecCorrection> Parse(string markdown)
    {
        var list = new List<SpecCorrection>();
        string section = "";
        foreach (var raw in markdown.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.StartsWith("## ", StringComparison.Ordinal)) section = line[3..].Trim();
            else if (line.StartsWith("- **", StringComparison.Ordinal))
            {
                int end = line.IndexOf("**", 4, StringComparison.Ordinal);
                if (end < 0) throw new FormatException($"spec-corrections.md: unterminated bold title in '{line}'");
                string title = line[4..end];
                string text = line[(end + 2)..].TrimStart(':', ' ');
                list.Add(new SpecCorrection(section, title, text));
            }
        }
        return list;
    }
}
