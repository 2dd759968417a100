namespace Noether.Tests.Cli;

public sealed class LawsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-laws-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Laws_SmallTable_WritesRowsWhoseCountsAreConsistent()
    {
        var r = CliRunner.Run(["laws", "--linear-nets", "2", "--relu-nets", "2", "--max-depth", "2", "--out", _dir, "--force"]);
        CliOutput.AssertSucceeded(r, _dir);
        CliOutput.AssertPng(Path.Combine(_dir, "laws.png"));
        var csv = CliOutput.AssertCsv(Path.Combine(_dir, "laws.csv"), "family", "index", "widths_input_first", "biases", "parameters", "known_laws",
            "phi_laws", "phi_matches_known", "phi_level_dimensions", "phi_gap", "phi_clear_gap", "data_samples", "data_laws", "data_level_dimensions",
            "data_gap", "data_clear_gap", "dead_units", "always_on_units", "data_finding");
        Assert.Equal(4, csv.RowCount);
        var lines = File.ReadAllLines(Path.Combine(_dir, "laws.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        foreach (var row in lines)
        {
            // Depth 2 (one hidden layer of width h): ReLU nets have h laws; every count is at most D.
            var widths = row[2].Split('-').Select(int.Parse).ToArray();
            int parameters = int.Parse(row[4]), phi = int.Parse(row[6]), data = int.Parse(row[12]);
            Assert.Equal(2, widths.Length - 1);
            Assert.InRange(phi, 0, parameters);
            Assert.True(data >= phi, $"data fields {data} < φ fields {phi}");
            if (row[0] == "relu") Assert.Equal(widths[1], phi);
            Assert.Equal(row[5] == row[6], bool.Parse(row[7]));
        }
        var summary = CliOutput.Summary(_dir, "laws");
        Assert.Equal(0, summary.GetProperty("mismatches").GetInt32());
    }

    [Theory]
    [InlineData("--max-depth", "9")]
    [InlineData("--linear-nets", "-1")]
    [InlineData("--relu-nets", "5000")]
    public void Laws_BadOption_OneLineNamingIt(string option, string value)
    {
        var r = CliRunner.RunInProcess(["laws", option, value, "--out", Path.Combine(_dir, "x")]);
        CliRunner.AssertOneLineFailure(r, option);
        Assert.False(Directory.Exists(Path.Combine(_dir, "x")));
    }
}
