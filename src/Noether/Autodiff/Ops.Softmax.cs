using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Autodiff;

public static partial class Ops
{
    /// <summary>
    /// Row-wise log-softmax of logits [N, K]: yᵢₖ = zᵢₖ − log Σⱼ exp zᵢⱼ, computed with the row maximum subtracted
    /// first so no exponential overflows.
    /// </summary>
    /// <remarks>Backward rule g − softmax(z) · Σₖ gₖ, written with differentiable ops: twice differentiable.</remarks>
    public static Variable<T> LogSoftmax<T>(Variable<T> logits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(logits);
        RequireMatrix(logits, "log-softmax");
        var value = Tensor<T>.Zeros(logits.Value.ShapeArray);
        SoftmaxKernels.LogSoftmax(logits.Value, value);
        int n = logits.Value.Dim(0);
        Variable<T>? y = null;
        y = logits.Tape.Record(value, [logits], g => [Subtract(g, Multiply(Exp(y!), SumTo(g, n, 1)))]);
        return y;
    }

    /// <summary>Row-wise softmax of logits [N, K] (stable: the row maximum is subtracted before exponentiating).</summary>
    /// <remarks>Backward rule p ⊙ (g − Σₖ gₖ pₖ), written with differentiable ops: twice differentiable.</remarks>
    public static Variable<T> Softmax<T>(Variable<T> logits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(logits);
        RequireMatrix(logits, "softmax");
        var value = Tensor<T>.Zeros(logits.Value.ShapeArray);
        SoftmaxKernels.Softmax(logits.Value, value);
        int n = logits.Value.Dim(0);
        Variable<T>? p = null;
        p = logits.Tape.Record(value, [logits], g => [Multiply(p!, Subtract(g, SumTo(Multiply(g, p!), n, 1)))]);
        return p;
    }

    /// <summary>
    /// Mean cross-entropy of logits [N, K] against class labels: −(1/N) Σᵢ log softmax(zᵢ)[labelᵢ], fused and stable
    /// (PyTorch's <c>cross_entropy</c> with mean reduction, applied to raw logits — not to softmax outputs).
    /// </summary>
    /// <remarks>The gradient is (softmax(z) − onehot(labels)) / N, written with differentiable ops: twice differentiable.</remarks>
    /// <param name="logits">Unnormalised scores [N, K].</param>
    /// <param name="labels">N class indices, each in [0, K).</param>
    public static Variable<T> CrossEntropy<T>(Variable<T> logits, int[] labels) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        RequireMatrix(logits, "cross-entropy");
        int n = logits.Value.Dim(0), k = logits.Value.Dim(1);
        if (labels.Length != n)
            throw Errors.Argument(nameof(labels), $"cross-entropy: logits are {Errors.Shape(logits.Shape)} but there are {labels.Length} labels (expected {n})");
        for (int i = 0; i < n; i++)
            if ((uint)labels[i] >= (uint)k) throw Errors.OutOfRange($"{nameof(labels)}[{i}]", labels[i], $"a class index in [0, {k})");
        var value = Tensor<T>.Scalar(SoftmaxKernels.CrossEntropy(logits.Value, labels));
        var tape = logits.Tape;
        return tape.Record(value, [logits], g =>
        {
            var oneHot = Tensor<T>.Zeros(n, k);
            for (int i = 0; i < n; i++) oneHot.Data[i * k + labels[i]] = T.One;
            var residual = Subtract(Softmax(logits), tape.Constant(oneHot));
            return [Multiply(residual, Scale(g, T.One / T.CreateChecked(n)))];
        });
    }

    private static void RequireMatrix<T>(Variable<T> logits, string op) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (logits.Rank != 2 || logits.Value.Dim(0) < 1 || logits.Value.Dim(1) < 1)
            throw Errors.BadShape(op, nameof(logits), logits.Shape, "a non-empty matrix [N, K] (one row of class scores per sample)");
    }
}

/// <summary>Row-wise softmax kernels on [N, K] buffers.</summary>
internal static class SoftmaxKernels
{
    public static void LogSoftmax<T>(Tensor<T> z, Tensor<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = z.Dim(0), k = z.Dim(1);
        var scratch = new T[k];
        for (int i = 0; i < n; i++)
        {
            var row = z.Data.AsSpan(i * k, k);
            var dst = y.Data.AsSpan(i * k, k);
            // (z − max) − log Σ exp(z − max): subtracting the large max first keeps the small remainder exact.
            T max = TensorPrimitives.Max<T>(row);
            if (!T.IsFinite(max))
            {
                TensorPrimitives.Subtract(row, LogSumExp(row, scratch), dst);
                continue;
            }
            TensorPrimitives.Subtract(row, max, dst);
            TensorPrimitives.Exp<T>(dst, scratch);
            TensorPrimitives.Subtract(dst, T.Log(TensorPrimitives.Sum<T>(scratch)), dst);
        }
    }

    public static void Softmax<T>(Tensor<T> z, Tensor<T> p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = z.Dim(0), k = z.Dim(1);
        for (int i = 0; i < n; i++)
        {
            var row = z.Data.AsSpan(i * k, k);
            var dst = p.Data.AsSpan(i * k, k);
            T max = TensorPrimitives.Max<T>(row);
            TensorPrimitives.Subtract(row, max, dst);
            TensorPrimitives.Exp<T>(dst, dst);
            TensorPrimitives.Divide(dst, TensorPrimitives.Sum<T>(dst), dst);
        }
    }

    /// <summary>Mean over rows of −log softmax(zᵢ)[labelᵢ] = log Σ exp(zᵢ − max) − (zᵢ[labelᵢ] − max), accumulated in double.</summary>
    public static T CrossEntropy<T>(Tensor<T> z, int[] labels) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = z.Dim(0), k = z.Dim(1);
        var scratch = new T[k];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            var row = z.Data.AsSpan(i * k, k);
            T max = TensorPrimitives.Max<T>(row);
            if (!T.IsFinite(max))
            {
                total += double.CreateTruncating(LogSumExp(row, scratch) - row[labels[i]]);
                continue;
            }
            TensorPrimitives.Subtract(row, max, scratch);
            TensorPrimitives.Exp<T>(scratch, scratch);
            total += double.CreateTruncating(T.Log(TensorPrimitives.Sum<T>(scratch)) - (row[labels[i]] - max));
        }
        return T.CreateTruncating(total / n);
    }

    /// <summary>log Σ exp(row), as max + log Σ exp(row − max); <paramref name="scratch"/> (length K) is overwritten.</summary>
    private static T LogSumExp<T>(ReadOnlySpan<T> row, Span<T> scratch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = TensorPrimitives.Max(row);
        // An infinite maximum would give ∞ − ∞ = NaN below; the limit is the maximum itself (or NaN stays NaN).
        if (!T.IsFinite(max)) return max;
        TensorPrimitives.Subtract(row, max, scratch);
        TensorPrimitives.Exp<T>(scratch, scratch);
        return max + T.Log(TensorPrimitives.Sum<T>(scratch));
    }
}
