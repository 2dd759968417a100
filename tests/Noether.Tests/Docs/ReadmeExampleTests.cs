using Noether.Autodiff;
using Noether.Conservation;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Tests.Docs;

/// <summary>README's library example runs here, verbatim (checked below), so the docs cannot rot.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void ReadmeExample_RunsAndItsClaimsHold()
    {
        // README:BEGIN
        var rng = new Random(0);
        var net = new TwoLayerNetwork(Activation.Identity, SquaredErrorLoss.HalfSum);   // F(X) = U V X, L = ½‖Y − F‖²
        var theta = TwoLayerParameters.Gaussian(rng, m: 5, h: 50, n: 10, stdU: 0.1, stdV: 0.1);
        var x = Tensor<double>.Identity(10);
        var y = Gaussian.Matrix(rng, 5, 10);
        var q = ConservedQuantity.Imbalance();                              // Q = UᵀU − VVᵀ (Ex. 7)
        double[] q0 = q.Evaluate(theta);
        double bound = 0;                                                   // Σ η²(‖∂L/∂U‖² + ‖∂L/∂V‖²), eq. 41

        for (int step = 0; step < 5000; step++)                             // plain gradient descent, η = 0.05
        {
            var g = net.Gradient(theta, x, y);
            bound += 0.05 * 0.05 * (Math.Pow(TensorOps.Norm(g.U), 2) + Math.Pow(TensorOps.Norm(g.V), 2));
            theta = new TwoLayerParameters(theta.U - g.U * 0.05, theta.V - g.V * 0.05);
        }
        double drift = q.Evaluate(theta).Zip(q0, (a, b) => Math.Abs(a - b)).Max();   // ≤ bound: Q moves only by O(η²)

        // The exact 750×750 Hessian (double backward) at the minimum reached, and its flat directions.
        var hessian = Hessian.Full<double>((tape, p) => net.Loss(p[0], p[1], tape.Constant(x), tape.Constant(y)), [theta.U, theta.V]);
        var (eigenvalues, _) = LinearAlgebra.SymmetricEigen(hessian, vectors: false);
        int flat = eigenvalues.Count(l => Math.Abs(l) <= 1e-3);
        // README:END

        double loss = net.Loss(theta, x, y);
        Assert.True(loss < 1e-12, $"GD converged: loss {loss}");
        // Eq. 41: each step moves Q by η²(G_UᵀG_U − G_VG_Vᵀ), so the total drift is small but not zero.
        Assert.True(drift > 0 && drift <= bound, $"Q drift {drift}, eq. 41 bound {bound}");
        // At a global minimum UV = Y (5×10, rank 5) the differential (dU, dV) ↦ dU·V + U·dV is onto R^{5×10} (U has full
        // row rank), so the minimum manifold has dimension 750 − 50 = 700, and H = JᵀJ has exactly 50 non-zero eigenvalues.
        Assert.Equal(750, hessian.Dim(0));
        Assert.True(flat == 700, $"{flat} of 750 eigenvalues are ≈ 0; smallest non-flat {eigenvalues.Where(l => Math.Abs(l) > 1e-3).Min()}");
    }

    [Fact]
    public void Readme_ShowsTheTestedExampleVerbatim()
    {
        string root = FindRepositoryRoot();
        string test = File.ReadAllText(Path.Combine(root, "tests", "Noether.Tests", "Docs", "ReadmeExampleTests.cs"));
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        int begin = test.IndexOf("// README:BEGIN", StringComparison.Ordinal), end = test.IndexOf("        // README:END", StringComparison.Ordinal);
        var lines = test[begin..end].Split('\n').Skip(1).Select(l => l.Length >= 8 ? l[8..] : l.Trim()).ToArray();
        string snippet = string.Join('\n', lines).TrimEnd();
        Assert.Contains(snippet, readme.Replace("\r\n", "\n"));
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Noether.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException("Noether.slnx not found above " + AppContext.BaseDirectory);
    }
}
