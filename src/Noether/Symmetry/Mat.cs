using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>Terse value-level matrix helpers over <see cref="TensorOps"/> for the symmetry and conservation code.</summary>
internal static class Mat
{
    public static Tensor<double> Mul(Tensor<double> a, Tensor<double> b, bool ta = false, bool tb = false) =>
        TensorOps.MatMul(a, b, ta, tb);

    public static Tensor<double> T(Tensor<double> a) => TensorOps.Transpose(a);

    public static Tensor<double> Add(Tensor<double> a, Tensor<double> b, double s = 1)
    {
        var r = a.Clone();
        for (int i = 0; i < r.Length; i++) r.Data[i] += s * b.Data[i];
        return r;
    }

    public static Tensor<double> Sub(Tensor<double> a, Tensor<double> b) => Add(a, b, -1);

    public static Tensor<double> Scale(Tensor<double> a, double s)
    {
        var r = a.Clone();
        for (int i = 0; i < r.Length; i++) r.Data[i] *= s;
        return r;
    }

    /// <summary>(A − Aᵀ)/2.</summary>
    public static Tensor<double> Antisymmetric(Tensor<double> a)
    {
        int n = a.Dim(0);
        var r = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                r.Data[i * n + j] = 0.5 * (a.Data[i * n + j] - a.Data[j * n + i]);
        return r;
    }

    /// <summary>(A + Aᵀ)/2.</summary>
    public static Tensor<double> Symmetric(Tensor<double> a)
    {
        int n = a.Dim(0);
        var r = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                r.Data[i * n + j] = 0.5 * (a.Data[i * n + j] + a.Data[j * n + i]);
        return r;
    }

    public static double MaxAbs(Tensor<double> a)
    {
        double m = 0;
        foreach (var x in a.Data) m = Math.Max(m, Math.Abs(x));
        return m;
    }

    public static double Norm(Tensor<double> a) => TensorOps.Norm(a);

    public static double Dot(Tensor<double> a, Tensor<double> b) => TensorOps.Dot(a, b);

    public static Tensor<double> Diagonal(Tensor<double> a)
    {
        int n = Math.Min(a.Dim(0), a.Dim(1));
        var d = Tensor<double>.Zeros(n);
        for (int i = 0; i < n; i++) d.Data[i] = a[i, i];
        return d;
    }

    public static bool IsSquare(Tensor<double> a, int n) => a.Rank == 2 && a.Dim(0) == n && a.Dim(1) == n;

    public static void CheckSquare(Tensor<double> a, int n, string op, string name)
    {
        ArgumentNullException.ThrowIfNull(a, name);
        if (!IsSquare(a, n)) throw Errors.BadShape(op, name, a.Shape, $"a {n}×{n} matrix");
        if (!a.AllFinite()) throw new ArgumentException($"{op}: {name} has non-finite entries", name);
    }
}
