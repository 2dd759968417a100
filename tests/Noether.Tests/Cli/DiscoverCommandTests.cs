using System.Text.Json;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Tests.Cli;

public sealed class DiscoverCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-discover-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // The dimensions derived by hand (SPEC and issue 3): GL_h, diagonal scaling, so(h), so(h) ⊕ ℝ, none.
    private static int Expected(string activation, int h) => activation switch
    {
        "identity" => h * h,
        "relu" or "leaky-relu(0.1)" => h,
        "radial 1/(1+r)" => h * (h - 1) / 2,
        "radial 1/r²" => h * (h - 1) / 2 + 1,
        "tanh" or "sigmoid" => 0,
        _ => throw new InvalidOperationException(activation),
    };

    [Fact]
    public void Discover_EveryBuiltInActivation_FindsTheKnownDimensionAndAnInvariantBasis()
    {
        var r = CliRunner.Run(["discover", "--activation", "identity,relu,leaky-relu:0.1,radial,radial-inverse-square,tanh,sigmoid", "--widths", "2,3",
            "--out", _dir, "--force"]);
        CliOutput.AssertSucceeded(r, _dir);
        CliOutput.AssertPng(Path.Combine(_dir, "discover.png"));
        CliOutput.AssertCsv(Path.Combine(_dir, "discover.csv"), "activation", "h", "dimension", "known_dimension", "matches_known", "structure", "constraints",
            "relative_tolerance", "gap", "max_invariance_residual", "invariance_within_1e-9", "max_pair_residual", "max_off_diagonal", "max_symmetric_traceless");
        var basisCsv = CliOutput.AssertCsv(Path.Combine(_dir, "discover-basis.csv"), "activation", "h", "generator", "matrix", "row", "column", "value");
        var summary = CliOutput.Summary(_dir, "discover");
        var algebras = summary.GetProperty("algebras").EnumerateArray().ToArray();
        Assert.Equal(14, algebras.Length);

        var random = new Random(11);
        int entries = 0;
        foreach (var a in algebras)
        {
            string name = a.GetProperty("activation").GetString()!;
            int h = a.GetProperty("h").GetInt32();
            int dimension = a.GetProperty("dimension").GetInt32();
            Assert.True(Expected(name, h) == dimension, $"{name}, h = {h}: discovered {dimension}, expected {Expected(name, h)}");
            var basis = a.GetProperty("basis").EnumerateArray().ToArray();
            Assert.Equal(dimension, basis.Length);
            entries += dimension * 2 * h * h;
            if (dimension > 0) Assert.True(a.GetProperty("maxInvarianceResidual").GetDouble() <= 1e-9);
            var activation = name switch
            {
                "radial 1/(1+r)" => Activation.Parse("radial"),
                "radial 1/r²" => Activation.Parse("radial-inverse-square"),
                "leaky-relu(0.1)" => Activation.Parse("leaky-relu:0.1"),
                _ => Activation.Parse(name),
            };
            foreach (var g in basis) AssertInvariantByFiniteDifferences(activation, Matrix(g.GetProperty("a"), h), Matrix(g.GetProperty("b"), h), random);
        }
        Assert.Equal(entries, basisCsv.RowCount);
        Assert.True(summary.GetProperty("allMatchKnown").GetBoolean());
        Assert.Contains("B antisymmetric", r.Stdout);
        Assert.Contains("B diagonal", r.Stdout);
    }

    private static Tensor<double> Matrix(JsonElement rows, int h)
    {
        var m = Tensor<double>.Zeros(h, h);
        int i = 0;
        foreach (var row in rows.EnumerateArray())
        {
            int j = 0;
            foreach (var v in row.EnumerateArray()) m[i, j++] = v.GetDouble();
            i++;
        }
        return m;
    }

    // The generator read back from the JSON moves θ along ξ = (UA, BV); a central difference of the loss along ξ at a fresh
    // (θ, X, Y) is zero up to O(t²) and rounding for a symmetry, and of the order ‖∇L‖‖ξ‖ for a generic direction.
    private static void AssertInvariantByFiniteDifferences(Activation activation, Tensor<double> a, Tensor<double> b, Random random)
    {
        int h = a.Dim(0);
        var network = new TwoLayerNetwork(activation, SquaredErrorLoss.HalfSum);
        var theta = TwoLayerParameters.Gaussian(random, h, h, h, 1, 1 / Math.Sqrt(h));
        var x = Gaussian.Matrix(random, h, h);
        var y = Gaussian.Matrix(random, h, h);
        var xi = new TwoLayerParameters(TensorOps.MatMul(theta.U, a), TensorOps.MatMul(b, theta.V));
        const double t = 1e-5;
        double derivative = (network.Loss(theta.Add(xi, t), x, y) - network.Loss(theta.Add(xi, -t), x, y)) / (2 * t);
        double scale = network.Gradient(theta, x, y).Norm() * xi.Norm();
        Assert.True(Math.Abs(derivative) <= 1e-7 * scale, $"{activation.Name}: dL/dt = {derivative:E3} along a basis element, scale {scale:E3}");
    }
}
