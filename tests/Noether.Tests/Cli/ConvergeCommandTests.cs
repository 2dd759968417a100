using System.Text.Json;
using Noether.Tests.Support;

namespace Noether.Tests.Cli;

public sealed class ConvergeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-converge-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Spearman's ρ with average ranks for ties, written here independently of Landscape.RankCorrelation.
    private static double Spearman(double[] x, double[] y)
    {
        static double[] Ranks(double[] v)
        {
            var r = new double[v.Length];
            for (int i = 0; i < v.Length; i++)
            {
                int less = v.Count(w => w < v[i]), equal = v.Count(w => w == v[i]);
                r[i] = less + (equal + 1) / 2.0;
            }
            return r;
        }
        var (a, b) = (Ranks(x), Ranks(y));
        double ma = a.Average(), mb = b.Average();
        double cov = a.Zip(b, (p, q) => (p - ma) * (q - mb)).Sum();
        return cov / Math.Sqrt(a.Sum(p => (p - ma) * (p - ma)) * b.Sum(q => (q - mb) * (q - mb)));
    }

    /// <summary>
    /// All three parts at the quick profile in one subprocess (≈ 5–10 s: 36 GD runs of 20,000 steps for Fig. 6 dominate;
    /// one run instead of three keeps the CLI start-up cost once).
    /// </summary>
    [Fact]
    public void Converge_QuickProfile_WritesEveryPartAndItsNumbersHold()
    {
        var r = CliRunner.Run(["converge", "--profile", "quick", "--out", _dir, "--force"]);
        CliOutput.AssertSucceeded(r, _dir);
        var summary = CliOutput.Summary(_dir, "converge");
        Assert.Equal("quick", summary.GetProperty("profile").GetString());

        // Every figure listed exists and every PNG written is listed.
        var figures = summary.GetProperty("figures").EnumerateArray().Select(f => f.GetProperty("file").GetString()!).ToArray();
        Assert.Equal(["converge-ellipse.png", "converge-radial.png", "converge-rate.png"], figures);
        foreach (var f in figures) CliOutput.AssertPng(Path.Combine(_dir, f));
        Assert.Equal(figures.Order(), Directory.EnumerateFiles(_dir, "*.png").Select(Path.GetFileName).Order());

        // F.1: the CSV's numerical loss agrees with the closed form recomputed here from (w₁₀, w₂₀): L(t) = w₁₀²e^{−4t} + a w₂₀²e^{−4at}.
        var ellipse = CliOutput.AssertCsv(Path.Combine(_dir, "ellipse.csv"), "q", "w1_0", "w2_0", "t", "loss_closed_form", "loss_numerical");
        double a = summary.GetProperty("ellipse").GetProperty("settings").GetProperty("a").GetDouble();
        for (int i = 0; i < ellipse.RowCount; i++)
        {
            double w1 = ellipse.GetDouble(i, "w1_0"), w2 = ellipse.GetDouble(i, "w2_0"), t = ellipse.GetDouble(i, "t");
            double closed = w1 * w1 * Math.Exp(-4 * t) + a * w2 * w2 * Math.Exp(-4 * a * t);
            // Q = w₁^{2a}/w₂² is the label of the row.
            Close.Assert(ellipse.GetDouble(i, "q"), Math.Pow(w1, 2 * a) / (w2 * w2), 1e-10);
            // Dormand–Prince at rtol 1e-12 over a smooth decay: 1e-9 leaves a margin of 10³ over the integrator's tolerance.
            Close.Assert(closed, ellipse.GetDouble(i, "loss_numerical"), 1e-9);
        }

        // F.2: acceptance numbers of the flow.
        var radial = summary.GetProperty("radial");
        Assert.True(radial.GetProperty("maxFlowDeviation").GetDouble() <= 1e-6);
        Assert.True(radial.GetProperty("maxFlowLambdaDrift").GetDouble() <= 1e-8);
        Assert.Equal(0, radial.GetProperty("boundViolations").GetInt32());
        var rcsv = CliOutput.AssertCsv(Path.Combine(_dir, "radial.csv"), "scale", "q", "step", "time", "mode", "sigma_y", "lambda", "sigma_flow", "sigma_eq59", "bound_eq69",
            "sigma_gd", "loss_flow", "loss_gd");
        for (int i = 0; i < rcsv.RowCount; i++)
        {
            // Eq. 69 row by row, with the summary's noise floor 10·rtol·σ^Y.
            double sy = rcsv.GetDouble(i, "sigma_y");
            Assert.True(Math.Abs(rcsv.GetDouble(i, "sigma_flow") - sy) <= rcsv.GetDouble(i, "bound_eq69") + 10 * 1e-12 * sy, $"row {i}");
        }

        // Fig. 6: the correlations in the summary are those of the rows in rate.csv (a run that never reached the threshold counts as MaxSteps + 1).
        var rate = CliOutput.AssertCsv(Path.Combine(_dir, "rate.csv"), "activation", "std_u", "std_v", "q", "final_q", "initial_loss", "final_loss", "steps_to_threshold", "diverged");
        long maxSteps = summary.GetProperty("rate").GetProperty("settings").GetProperty("maxSteps").GetInt64();
        var correlations = summary.GetProperty("rate").GetProperty("correlations").EnumerateArray().ToArray();
        Assert.Equal(["identity", "relu", "sigmoid", "tanh"], correlations.Select(c => c.GetProperty("activation").GetString()));
        foreach (var c in correlations)
        {
            var rows = Enumerable.Range(0, rate.RowCount).Where(i => rate[i, "activation"] == c.GetProperty("activation").GetString()).ToArray();
            Assert.Equal(9, rows.Length);
            var q = rows.Select(i => rate.GetDouble(i, "q")).ToArray();
            var steps = rows.Select(i => rate[i, "steps_to_threshold"] == "" ? maxSteps + 1.0 : rate.GetDouble(i, "steps_to_threshold")).ToArray();
            Close.Assert(Spearman(q, steps), CliOutput.Number(c.GetProperty("spearmanQ")), 1e-12, 1e-12);
            Close.Assert(Spearman(q.Select(Math.Abs).ToArray(), steps), CliOutput.Number(c.GetProperty("spearmanAbsQ")), 1e-12, 1e-12);
        }

        // The report contract: claims with verdicts; the flow claims hold.
        var claims = summary.GetProperty("claims").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.GetProperty("verdict").GetString()!);
        foreach (var id in new[] { "ellipse-closed-form", "radial-flow-eq59", "radial-lambda-conserved", "radial-eq69-bound" }) Assert.Equal("Reproduced", claims[id]);
        Assert.Contains("fig6-steps-correlate-with-q", claims.Keys);
        Assert.Contains("Claims: predicted vs measured", r.Stdout);
    }

    [Fact]
    public void Converge_OnePart_WritesOnlyThatPart()
    {
        var r = CliRunner.Run(["converge", "--part", "ellipse", "--out", _dir, "--force"]);
        CliOutput.AssertSucceeded(r, _dir);
        var summary = CliOutput.Summary(_dir, "converge");
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("radial").ValueKind);
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("rate").ValueKind);
        Assert.Equal(["converge-ellipse.png", "ellipse.csv", "summary.json"], Directory.EnumerateFiles(_dir).Select(Path.GetFileName).Order());
    }

    [Theory]
    [InlineData("--part", "ellipse,spiral", "spiral")]
    [InlineData("--profile", "huge", "--profile")]
    [InlineData("--seed", "x", "--seed")]
    public void Converge_BadOption_FailsNamingItAndWritesNothing(string option, string value, string mention)
    {
        string outDir = Path.Combine(_dir, "out");
        var r = CliRunner.Run(["converge", option, value, "--out", outDir]);
        CliRunner.AssertCleanFailure(r, mention);
        Assert.False(Directory.Exists(outDir));
    }
}
