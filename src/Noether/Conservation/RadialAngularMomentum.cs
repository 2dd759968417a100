using Noether.Nn;
using Noether.Tensors;

namespace Noether.Conservation;

/// <summary>The two readings of the angular-momentum identity at one point.</summary>
/// <param name="CorrectResidual">‖A(U̇ᵀU) − A(VV̇ᵀ)‖_F: the identity in the SPEC's form.</param>
/// <param name="PaperResidual">‖A(U̇ᵀU) − A(V̇Vᵀ)‖_F: the form printed in eq. 30.</param>
/// <param name="Scale">‖U̇‖‖U‖ + ‖V̇‖‖V‖, the size of the terms before antisymmetrising.</param>
public sealed record RadialIdentityCheck(double CorrectResidual, double PaperResidual, double Scale)
{
    /// <summary>CorrectResidual / Scale.</summary>
    public double CorrectRelative => Scale == 0 ? 0 : CorrectResidual / Scale;

    /// <summary>PaperResidual / Scale.</summary>
    public double PaperRelative => Scale == 0 ? 0 : PaperResidual / Scale;
}

/// <summary>
/// The "angular momentum" identity of a radial activation (Ex. 10, eqs. 29–30). O(h) is a symmetry, but its algebra
/// is antisymmetric, so Q_M ≡ 0; instead ⟨θ̇, M̄_θ⟩ = 0 for every antisymmetric M. With M̄_θ = (−UM, MV):
/// −⟨U̇, UM⟩ + ⟨V̇, MV⟩ = ⟨−UᵀU̇ + V̇Vᵀ, M⟩ = 0 for all M ∈ o(h), i.e. A(UᵀU̇) = A(V̇Vᵀ), equivalently
/// A(U̇ᵀU) = A(VV̇ᵀ) with A(X) = (X − Xᵀ)/2. Eq. 30 prints A(U̇ᵀU) = A(V̇Vᵀ), which has the opposite sign on the
/// V side and fails: <see cref="Check"/> measures both.
/// </summary>
public static class RadialAngularMomentum
{
    /// <summary>Both residuals at θ = (U, V) with velocity θ̇ = (U̇, V̇) (for gradient flow θ̇ = −∇L).</summary>
    public static RadialIdentityCheck Check(TwoLayerParameters theta, TwoLayerParameters velocity)
    {
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(velocity);
        theta.CheckSameShape(velocity, nameof(velocity));
        var left = LinearAlgebra.AntisymmetricPart(LinearAlgebra.Multiply(velocity.U, theta.U, transposeA: true));      // A(U̇ᵀU)
        var right = LinearAlgebra.AntisymmetricPart(LinearAlgebra.Multiply(theta.V, velocity.V, transposeB: true));     // A(VV̇ᵀ)
        var paper = LinearAlgebra.AntisymmetricPart(LinearAlgebra.Multiply(velocity.V, theta.V, transposeB: true));     // A(V̇Vᵀ)
        double scale = TensorOps.Norm(velocity.U) * TensorOps.Norm(theta.U) + TensorOps.Norm(velocity.V) * TensorOps.Norm(theta.V);
        return new RadialIdentityCheck(TensorOps.Norm(left - right), TensorOps.Norm(left - paper), scale);
    }
}
