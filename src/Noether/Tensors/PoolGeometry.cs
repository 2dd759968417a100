namespace Noether.Tensors;

/// <summary>The sizes of one max-pooling over H×W planes.</summary>
internal readonly record struct PoolGeometry(int H, int W, int K, int S, int OH, int OW)
{
    /// <summary>Outputs per plane.</summary>
    public int P => OH * OW;

    public static PoolGeometry Create(int h, int w, int kernelSize, int? stride, string inputName, string kernelName = "kernelSize", string strideName = "stride")
    {
        int s = stride ?? kernelSize;
        if (kernelSize < 1) throw Errors.OutOfRange(kernelName, kernelSize, "a positive window size");
        if (s < 1) throw Errors.OutOfRange(strideName, s, "a positive stride");
        if (h < kernelSize || w < kernelSize)
            throw Errors.Argument(kernelName, $"max-pool2d: {inputName} planes are {h}×{w}, smaller than the {kernelSize}×{kernelSize} window");
        return new PoolGeometry(h, w, kernelSize, s, (h - kernelSize) / s + 1, (w - kernelSize) / s + 1);
    }
}
