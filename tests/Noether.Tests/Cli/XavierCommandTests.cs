using Noether.Tests.Support;
namespace Noether.Tests.Cli;

public sealed class XavierCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-xavier-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Xavier_SmallRun_MeasuredMeansSitWithinThreeStandardErrorsOfHalfMMinusH()
    {
        var r = CliRunner.Run(["xavier", "--draws", "400", "--shapes", "20x10x30,10x20x10", "--integral-shape", "20x20x20", "--activations", "relu,tanh",
            "--seed", "3", "--out", _dir, "--force"]);
        CliOutput.AssertSucceeded(r, _dir);
        CliOutput.AssertPng(Path.Combine(_dir, "xavier-hist.png"));
        CliOutput.AssertPng(Path.Combine(_dir, "xavier-integral.png"));
        CliOutput.AssertCsv(Path.Combine(_dir, "xavier.csv"), "figure", "label", "m", "h", "n", "draws", "mean", "predicted_mean", "paper_mean", "standard_error",
            "mean_z", "mean_within_3se", "paper_mean_z", "variance", "predicted_variance", "variance_standard_error", "variance_z", "variance_within_3se", "kappa4_source");
        var draws = CliOutput.AssertCsv(Path.Combine(_dir, "xavier-draws.csv"), "figure", "label", "m", "h", "n", "draw", "q");
        var rows = CliOutput.Summary(_dir, "xavier").GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(4, rows.Length);

        foreach (var (m, h, n) in new[] { (20, 10, 30), (10, 20, 10) })
        {
            var row = rows.Single(x => x.GetProperty("figure").GetString() == "Fig. 4" && x.GetProperty("shape").GetProperty("h").GetInt32() == h);
            // E[Q] = ½(m − h) and Var[Q] = ½(m/h + h/n) for Q = ½Tr[UᵀU − VVᵀ], U ~ N(0, 1/h), V ~ N(0, 1/n) (Appendix E, SPEC).
            Assert.Equal(0.5 * (m - h), row.GetProperty("predictedMean").GetDouble(), 1e-12);
            Assert.Equal(m - h, row.GetProperty("paperMean").GetDouble(), 1e-12);
            Close.Assert(0.5 * ((double)m / h + (double)h / n), row.GetProperty("predictedVariance").GetDouble(), 1e-12, 0);

            // Mean and variance recomputed from the individual draws the command wrote.
            var q = Enumerable.Range(0, draws.RowCount)
                .Where(i => draws[i, "figure"] == "Fig. 4" && draws[i, "h"] == h.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Select(i => draws.GetDouble(i, "q")).ToArray();
            Assert.Equal(400, q.Length);
            double mean = q.Average();
            double variance = q.Sum(v => (v - mean) * (v - mean)) / (q.Length - 1);
            Close.Assert(mean, row.GetProperty("mean").GetDouble(), 1e-12, 1e-12);
            Close.Assert(variance, row.GetProperty("variance").GetDouble(), 1e-10, 0);

            double se = Math.Sqrt(0.5 * ((double)m / h + (double)h / n) / q.Length);
            Assert.True(Math.Abs(mean - 0.5 * (m - h)) <= 3 * se, $"{(m, h, n)}: mean {mean} vs ½(m − h) = {0.5 * (m - h)}, 3 SE = {3 * se}");
            Assert.True(row.GetProperty("meanWithinThreeStandardErrors").GetBoolean());
            // m ≠ h here, and the paper's m − h is ½|m − h| = 5 away: hundreds of standard errors.
            Assert.True(Math.Abs(mean - (m - h)) > 20 * se);
        }
        Assert.Contains("E[Q]", r.Stdout);
        Assert.Contains("-5.000", r.Stdout); // ½(10 − 20), printed next to the measured mean
    }
}
