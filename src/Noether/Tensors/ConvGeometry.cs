namespace Noether.Tensors;

/// <summary>The sizes of one convolution, validated once at the public surface.</summary>
internal readonly record struct ConvGeometry(int N, int C, int H, int W, int O, int KH, int KW, int Stride, int Padding, int OH, int OW)
{
    /// <summary>Output positions per image and channel.</summary>
    public int P => OH * OW;

    /// <summary>Rows of the im2col matrix: one per (channel, kernel row, kernel column).</summary>
    public int CK => C * KH * KW;

    /// <summary>Elements of one input image.</summary>
    public int InSize => C * H * W;

    /// <summary>Elements of one output image.</summary>
    public int OutSize => O * OH * OW;

    /// <summary>A 1×1 kernel with stride 1 and no padding: the image already is its im2col matrix.</summary>
    public bool IsPointwise => KH == 1 && KW == 1 && Stride == 1 && Padding == 0;

    public static ConvGeometry Create(ReadOnlySpan<int> input, ReadOnlySpan<int> weight, ReadOnlySpan<int> bias, bool hasBias, int stride, int padding)
    {
        const string op = "conv2d";
        if (stride < 1) throw Errors.OutOfRange(nameof(stride), stride, "a positive stride");
        if (padding < 0) throw Errors.OutOfRange(nameof(padding), padding, "a non-negative padding");
        if (input.Length != 4) throw Errors.BadShape(op, nameof(input), input, "rank 4 [N, C, H, W]");
        if (weight.Length != 4) throw Errors.BadShape(op, nameof(weight), weight, "rank 4 [out channels, in channels, kh, kw]");
        if (input[1] != weight[1])
            throw Errors.ShapeMismatch(op, nameof(input), input, nameof(weight), weight, $"input has {input[1]} channels, weight expects {weight[1]}");
        if (hasBias && (bias.Length != 1 || bias[0] != weight[0]))
            throw Errors.ShapeMismatch(op, nameof(bias), bias, nameof(weight), weight, $"bias must be [{weight[0]}], one value per output channel");
        int h = input[2] + 2 * padding, w = input[3] + 2 * padding;
        if (weight[0] < 1 || weight[2] < 1 || weight[3] < 1 || h < weight[2] || w < weight[3])
            throw Errors.ShapeMismatch(op, nameof(input), input, nameof(weight), weight,
                $"the {weight[2]}×{weight[3]} kernel does not fit the padded {h}×{w} image");
        return new ConvGeometry(input[0], input[1], input[2], input[3], weight[0], weight[2], weight[3], stride, padding,
            (h - weight[2]) / stride + 1, (w - weight[3]) / stride + 1);
    }
}
