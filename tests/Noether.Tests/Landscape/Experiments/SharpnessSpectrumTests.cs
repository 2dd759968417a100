using Noether.Experiments;
using Noether.Nn;

namespace Noether.Tests.Landscape.Experiments;

public class SharpnessSpectrumTests
{
    /// <summary>
    /// Acceptance (paper's setting: U 10×50, V 50×5, X = I₅, shared init std swept over 6 values, GD at lr 0.1 on the mean
    /// loss to ‖∇‖ ≈ 1e-10): for the linear net exactly 700 of the 750 Hessian eigenvalues have |λ| ≤ 1e-3, equal to the
    /// derived fibre dimension h(m+n) − mn; the curved ones are the Kronecker sums αᵢ + βⱼ; their centre rises with Q
    /// (Spearman ≥ 0.9).
    /// </summary>
    [Fact]
    public void Run_LinearPaperSetting_FlatCountIsFibreDimensionAndCentreFollowsQ()
    {
        var r = SharpnessSpectrum.Run(new SharpnessSpectrumSettings(Activations: [ActivationKind.Identity], Stds: [0.001, 0.2, 0.4, 0.6, 0.8, 1.0]));
        Assert.Equal(6, r.Runs.Count);
        foreach (var run in r.Runs)
        {
            Assert.Equal(750, run.Eigenvalues.Length);
            Assert.True(run.GradientNorm < 1e-8, $"std {run.Std}: not converged, ‖∇‖ = {run.GradientNorm:E2}");
            Assert.Equal(700, run.FibreDimension);
            Assert.Equal(run.FibreDimension, run.Summary.Flat);
            Assert.True(run.GaussNewtonError < 1e-8, $"std {run.Std}: Kronecker-sum error {run.GaussNewtonError:E2}");
        }
        var c = Assert.Single(r.Correlations);
        Assert.True(c.MedianVsQ >= 0.9, $"ρ(Q, median) = {c.MedianVsQ:F3}");
        Assert.True(c.MeanVsQ >= 0.9, $"ρ(Q, mean) = {c.MeanVsQ:F3}");
    }

    [Fact]
    public void Validate_TooManyParametersForAFullHessian_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SharpnessSpectrum.Run(new SharpnessSpectrumSettings(Hidden: 400)));

    [Fact]
    public void Validate_CustomActivation_ThrowsNamingIt() =>
        Assert.Contains("activation = Custom: expected Identity", Assert.ThrowsAny<ArgumentException>(() => SharpnessSpectrum.Run(new SharpnessSpectrumSettings(Activations: [ActivationKind.Custom]))).Message);

    [Fact]
    public void ScalarNetwork_DefaultQ_EigenvaluesMatchClosedForms()
    {
        var points = SharpnessScalarNetwork.Run();
        Assert.Equal(21, points.Count);
        foreach (var p in points) Assert.True(p.MaxError <= 1e-10, $"Q = {p.Q}: error {p.MaxError:E2}");
    }
}
