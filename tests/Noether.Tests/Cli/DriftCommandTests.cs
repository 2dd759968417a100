using System.Text.Json;
using Noether.Tests.Support;

namespace Noether.Tests.Cli;

public sealed class DriftCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-drift-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Drift_QuickProfile_WritesCurvesFiguresAndEq41Statistics()
    {
        var r = CliRunner.Run(["drift", "--profile", "quick", "--out", _dir, "--force"]);
        CliOutput.AssertSucceeded(r, _dir);
        var csv = CliOutput.AssertCsv(Path.Combine(_dir, "drift.csv"), "activation", "method", "learning_rate", "step", "time", "loss", "q", "delta_q_normalised");
        CliOutput.AssertPng(Path.Combine(_dir, "drift-q.png"));
        CliOutput.AssertPng(Path.Combine(_dir, "drift-loss.png"));
        var summary = CliOutput.Summary(_dir, "drift");
        var curves = summary.GetProperty("curves").EnumerateArray().ToArray();
        Assert.Equal(4 * 4, curves.Length); // 4 σ × (3 η + the flow)

        foreach (var sigma in new[] { "identity", "relu", "sigmoid", "tanh" })
        {
            var mine = curves.Where(c => c.GetProperty("activation").GetString() == sigma).ToArray();
            double Drift(double? eta) => mine.Single(c => eta is null
                ? c.GetProperty("method").GetString() == "flow"
                : c.GetProperty("method").GetString() == "gd" && c.GetProperty("learningRate").GetDouble() == eta).GetProperty("maxAbsDeltaNormalisedQ").GetDouble();
            // Per step GD moves Q by O(η²) over O(1/η) steps to the same time: the drift shrinks with η, and the
            // integrated flow conserves Q to its tolerance, orders of magnitude below any GD run.
            Assert.True(Drift(0.1) > 3 * Drift(0.01) && Drift(0.01) > 3 * Drift(0.001), $"{sigma}: {Drift(0.1):E2}, {Drift(0.01):E2}, {Drift(0.001):E2}");
            Assert.True(Drift(null) < 1e-9 && Drift(null) < 1e-3 * Drift(0.001), $"{sigma}: flow drift {Drift(null):E2}");

            // The JSON maximum is over every step, the CSV holds a subset of the steps: it can only be larger.
            double recorded = Enumerable.Range(0, csv.RowCount)
                .Where(i => csv[i, "activation"] == sigma && csv[i, "method"] == "gd" && csv[i, "learning_rate"] == "0.1")
                .Max(i => Math.Abs(csv.GetDouble(i, "delta_q_normalised")));
            Assert.InRange(recorded, 0.5 * Drift(0.1), Drift(0.1));

            foreach (var c in mine.Where(c => c.GetProperty("method").GetString() == "gd"))
            {
                var eq41 = c.GetProperty("eq41");
                bool quadratic = sigma is "identity" or "relu";
                Assert.Equal(quadratic ? JsonValueKind.Object : JsonValueKind.Null, eq41.ValueKind);
                if (!quadratic) continue;
                // Eq. 41 is exact algebra for quadratic Q: only rounding separates ΔQ from η²Q(∇L); eq. 42 never fails.
                Assert.True(eq41.GetProperty("maxErrorOverMagnitude").GetDouble() <= 1e-10);
                Assert.Equal(0, eq41.GetProperty("boundViolations").GetInt64());
                Assert.Equal(c.GetProperty("steps").GetInt64(), eq41.GetProperty("checks").GetInt64());
                Assert.True(c.GetProperty("eq41Holds").GetBoolean());
            }
        }
        Assert.True(summary.GetProperty("eq41AllHold").GetBoolean());
        Assert.Contains("gradient flow", r.Stdout);
        Assert.Contains("eq. 41", r.Stdout);
    }

    [Fact]
    public void Drift_ChosenLearningRateAndActivation_RunOnlyThatCurve()
    {
        var r = CliRunner.Run(["drift", "--lr", "0.05", "--activations", "relu", "--steps", "300", "--no-flow", "--records", "20", "--out", _dir, "--force"]);
        CliOutput.AssertSucceeded(r, _dir);
        var curves = CliOutput.Summary(_dir, "drift").GetProperty("curves").EnumerateArray().ToArray();
        var curve = Assert.Single(curves);
        Assert.Equal(0.05, curve.GetProperty("learningRate").GetDouble());
        Assert.Equal(300, curve.GetProperty("steps").GetInt64());
        var csv = CliOutput.AssertCsv(Path.Combine(_dir, "drift.csv"), "activation", "method", "learning_rate", "step", "time", "loss", "q", "delta_q_normalised");
        Assert.Equal("300", csv[csv.RowCount - 1, "step"]);
        // t = η·step in every row.
        for (int i = 0; i < csv.RowCount; i++) Close.Assert(0.05 * csv.GetDouble(i, "step"), csv.GetDouble(i, "time"), 1e-12, 1e-15);
    }
}
