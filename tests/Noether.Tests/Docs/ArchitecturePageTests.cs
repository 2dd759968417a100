using System.Text.RegularExpressions;

namespace Noether.Tests.Docs;

/// <summary>
/// docs/architecture.md's equation index: a newcomer greps an equation's number and finds its code. Every row names a
/// file that exists and cites each of the row's equation numbers ("eq. 41", "eqs. 17–18", …) in its own text.
/// </summary>
public partial class ArchitecturePageTests
{
    private static string Root() => Support.Repository.Root;

    [GeneratedRegex(@"^\| (?<eq>eqs?\. [^|]+?) \| [^|]+ \| (?<file>src/[^ |]+) \|$", RegexOptions.Multiline)]
    private static partial Regex Row();

    internal static bool Cites(string code, int number) =>
        Regex.IsMatch(code, $@"\beqs?\.[^;\n]{{0,24}}?(?<![\d.]){number}(?!\d)");

    [Fact]
    public void EquationIndex_EveryRowNamesAFileThatCitesItsEquations()
    {
        string root = Root();
        string page = File.ReadAllText(Path.Combine(root, "docs", "architecture.md")).Replace("\r\n", "\n");
        int begin = page.IndexOf("<!-- equation-index -->", StringComparison.Ordinal), end = page.IndexOf("<!-- /equation-index -->", StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, "docs/architecture.md has no equation index");
        var rows = Row().Matches(page[begin..end]).ToArray();
        Assert.True(rows.Length >= 15, $"only {rows.Length} rows in the equation index");
        foreach (var row in rows)
        {
            string file = Path.Combine(root, row.Groups["file"].Value);
            Assert.True(File.Exists(file), $"{row.Groups["file"].Value} does not exist");
            string code = File.ReadAllText(file);
            foreach (Match n in Regex.Matches(row.Groups["eq"].Value, @"\d+"))
                Assert.True(Cites(code, int.Parse(n.Value, System.Globalization.CultureInfo.InvariantCulture)), $"{row.Groups["file"].Value} does not cite {row.Groups["eq"].Value.Trim()} (number {n.Value})");
        }
    }

    [Theory]
    [InlineData("// Q_{t+1} − Q_t (eq. 41)", 41, true)]
    [InlineData("/// the multilayer action (eqs. 17–18)", 18, true)]
    [InlineData("/// eqs. 20–22", 21, false)] // a range's inner numbers are not cited by name: the index names ends
    [InlineData("// eq. 410", 41, false)]
    [InlineData("// eq. 1.5", 5, false)]
    [InlineData("// Prop. 41", 41, false)]
    public void Cites_FindsTheNumberOnlyAsAnEquation(string code, int number, bool expected) => Assert.Equal(expected, Cites(code, number));
}
