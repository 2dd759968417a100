namespace Noether.Tests.Cli;

public sealed class OrbitCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-orbit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int Choose2(int k) => k * (k - 1) / 2;

    [Fact]
    public void Orbit_SevenShapes_MeasuredRankEqualsCorrectedFormsAndFlagsThePapersEq21And22()
    {
        var r = CliRunner.Run(["orbit", "--shapes", "3x2x4,4x4x4,6x3x1,5x6x2,2x7x3,3x9x2,1x6x1,4x20x3", "--out", _dir, "--force"]);
        CliOutput.AssertSucceeded(r, _dir);
        CliOutput.AssertPng(Path.Combine(_dir, "orbit.png"));
        var csv = CliOutput.AssertCsv(Path.Combine(_dir, "orbit.csv"), "m", "h", "n", "group", "algebra_dimension", "measured", "corrected", "paper", "paper_equation",
            "measured_equals_corrected", "paper_differs", "h_exceeds_max_m_n", "smallest_kept_singular_value", "largest_dropped_singular_value", "gap");
        Assert.Equal(8 * 3, csv.RowCount);
        var summary = CliOutput.Summary(_dir, "orbit");
        var rows = summary.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(24, rows.Length);
        int paperWrong = 0;
        foreach (var row in rows)
        {
            int m = row.GetProperty("m").GetInt32(), h = row.GetProperty("h").GetInt32(), n = row.GetProperty("n").GetInt32();
            string group = row.GetProperty("group").GetString()!;
            // Closed forms written out here (SPEC, "Group actions"), not taken from the library.
            (int corrected, int paper) = group switch
            {
                "GL(h)" => (h * h - Math.Max(0, h - n) * Math.Max(0, h - m), h * h - Math.Max(0, h - n) * Math.Max(0, h - m)),
                "positive scaling" => (h, Math.Min(h, Math.Max(n, m))),
                "O(h)" => (Choose2(h) - Choose2(Math.Max(0, h - m - n)), h <= Math.Max(m, n) ? Choose2(h) : Choose2(h) - Choose2(h - Math.Max(m, n))),
                _ => throw new InvalidOperationException(group),
            };
            Assert.Equal(corrected, row.GetProperty("corrected").GetInt32());
            Assert.Equal(paper, row.GetProperty("paper").GetInt32());
            Assert.True(corrected == row.GetProperty("measured").GetInt32(), $"{group} at {(m, h, n)}: measured {row.GetProperty("measured").GetInt32()}, corrected {corrected}");
            Assert.Equal(paper != corrected, row.GetProperty("paperDiffers").GetBoolean());
            if (paper != corrected)
            {
                Assert.True(h > Math.Max(m, n));
                paperWrong++;
            }
        }
        Assert.True(paperWrong >= 6, $"only {paperWrong} rows where the paper differs");
        Assert.True(summary.GetProperty("allMeasuredEqualCorrected").GetBoolean());
        Assert.Contains("wrong (eq. 21)", r.Stdout);
        Assert.Contains("wrong (eq. 22)", r.Stdout);
    }

    [Fact]
    public void Orbit_NonEmptyOutputWithoutForce_FailsAndKeepsTheEarlierFile()
    {
        string earlier = Path.Combine(_dir, "orbit.csv");
        File.WriteAllText(earlier, "earlier");
        var r = CliRunner.Run(["orbit", "--shapes", "3x2x4", "--out", _dir]);
        CliRunner.AssertCleanFailure(r, "--force");
        Assert.Equal("earlier", File.ReadAllText(earlier));
        Assert.Single(Directory.EnumerateFileSystemEntries(_dir));
    }
}
