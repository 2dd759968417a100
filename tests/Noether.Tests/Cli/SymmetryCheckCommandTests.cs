using Noether.Tests.Support;
namespace Noether.Tests.Cli;

public sealed class SymmetryCheckCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-symcheck-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SymmetryCheck_ReluNetwork_LinearAndNonlinearChecksPassAndTheSweepIsWritten()
    {
        var r = CliRunner.Run(["symmetry-check", "--arch", "8,6,6,3", "--activation", "relu", "--batch-size", "6", "--draws", "12", "--out", _dir, "--force"]);
        CliOutput.AssertSucceeded(r, _dir);
        CliOutput.AssertPng(Path.Combine(_dir, "symmetry-check.png"));
        CliOutput.AssertCsv(Path.Combine(_dir, "symmetry-check.csv"), "group", "check", "value", "expected", "verdict");
        var sweep = CliOutput.AssertCsv(Path.Combine(_dir, "symmetry-sweep.csv"), "epsilon", "checked", "refused", "max_output_error_on_batch",
            "median_output_change_fresh_batch", "max_composition_error", "median_condition_number", "max_condition_number");
        Assert.Equal(7, sweep.RowCount);

        var summary = CliOutput.Summary(_dir, "symmetry-check");
        var linear = summary.GetProperty("linear");
        Assert.True(linear.GetProperty("maxLossInvarianceError").GetDouble() <= 1e-10);
        Assert.True(linear.GetProperty("maxInfinitesimalResidual").GetDouble() <= 1e-10);
        Assert.True(linear.GetProperty("minControlLossChange").GetDouble() >= 1e-6, "breaking the symmetry must change the loss");
        var nonlinear = summary.GetProperty("nonlinear");
        Assert.True(nonlinear.GetProperty("checked").GetInt32() > 0);
        Assert.True(nonlinear.GetProperty("maxOutputErrorOnBatch").GetDouble() <= 1e-8);
        Assert.True(nonlinear.GetProperty("maxCompositionError").GetDouble() <= 1e-8);
        Assert.True(nonlinear.GetProperty("medianOutputChangeOnFreshBatch").GetDouble() > 1e3 * nonlinear.GetProperty("maxOutputErrorOnBatch").GetDouble());
        Assert.True(summary.GetProperty("allPass").GetBoolean());

        // k = h: π(I, Z) = I, so the change on a fresh batch is O(ε): it grows across the sweep.
        double first = sweep.GetDouble(0, "median_output_change_fresh_batch"), last = sweep.GetDouble(sweep.RowCount - 1, "median_output_change_fresh_batch");
        Assert.True(last > 10 * first, $"fresh-batch change {first:E2} at ε = 1e-3, {last:E2} at ε = 1");
        Assert.Contains("positive scaling", r.Stdout);
    }

    [Fact]
    public void SymmetryCheck_Tanh_HasOnlyTheNonlinearActionAndItsProjection()
    {
        var r = CliRunner.Run(["symmetry-check", "--arch", "6,5,4", "--activation", "tanh", "--batch-size", "3", "--draws", "6", "--no-sweep", "--out", _dir, "--force"]);
        CliOutput.AssertSucceeded(r, _dir);
        Assert.Contains("no linear symmetry group", r.Stdout);
        Assert.False(File.Exists(Path.Combine(_dir, "symmetry-sweep.csv")));
        var summary = CliOutput.Summary(_dir, "symmetry-check");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, summary.GetProperty("linear").ValueKind);
        var nonlinear = summary.GetProperty("nonlinear");
        // h = 5 > k = 3: π(I, Z) is a rank-3 projection, ‖π(I, Z) − I‖_F = √(h − k) = √2.
        Close.Assert(Math.Sqrt(2), CliOutput.Number(nonlinear.GetProperty("identityProjectionDistance")), 1e-8, 0);
        Assert.True(nonlinear.GetProperty("maxOutputErrorOnBatch").GetDouble() <= 1e-8);
    }
}
