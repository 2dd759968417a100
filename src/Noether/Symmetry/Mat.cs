using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>
/// Thin forwarders to <see cref="LinearAlgebra"/>, the <see cref="Tensor{T}"/> operators and <see cref="TensorOps"/>, kept
/// only for the files being rewritten in parallel (Landscape/Teleport, Landscape/Valley, Conservation, MatrixGroup,
/// MultilayerAction, NonlinearAction); new code calls those directly. Same operations, same results to the bit.
/// </summary>
internal static class Mat
{
    public static Tensor<double> Mul(Tensor<double> a, Tensor<double> b, bool ta = false, bool tb = false) => LinearAlgebra.Multiply(a, b, ta, tb);

    public static Tensor<double> T(Tensor<double> a) => LinearAlgebra.Transpose(a);

    /// <summary>a + s·b (elementwise; s·b and b·s round alike).</summary>
    public static Tensor<double> Add(Tensor<double> a, Tensor<double> b, double s = 1) => s == 1 ? a + b : a + b * s;

    /// <summary>a − b, which IEEE rounds exactly as the a + (−1)·b this helper used to compute.</summary>
    public static Tensor<double> Sub(Tensor<double> a, Tensor<double> b) => a - b;

    public static Tensor<double> Scale(Tensor<double> a, double s) => a * s;

    public static Tensor<double> Antisymmetric(Tensor<double> a) => LinearAlgebra.AntisymmetricPart(a);

    public static Tensor<double> Symmetric(Tensor<double> a) => LinearAlgebra.SymmetricPart(a);

    public static double MaxAbs(Tensor<double> a) => TensorOps.MaxAbs(a);

    public static double Norm(Tensor<double> a) => TensorOps.Norm(a);

    public static double Dot(Tensor<double> a, Tensor<double> b) => TensorOps.Dot(a, b);

    public static bool IsSquare(Tensor<double> a, int n) => LinearAlgebra.IsSquare(a, n);

    public static void CheckSquare(Tensor<double> a, int n, string op, string name) => LinearAlgebra.CheckSquare(a, n, op, name);
}
