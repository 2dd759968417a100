using CsCheck;
using Noether.Autodiff;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Autodiff;

public class ConvTests
{
    private const string Seed = "0N0XIDEW4Y50";

    /// <summary>A random convolution problem; sizes are drawn so the kernel always fits the padded image.</summary>
    public sealed record Case(int N, int C, int H, int W, int O, int KH, int KW, int Stride, int Padding, bool Bias, int DataSeed)
    {
        public Tensor<double> Input() => Random(DataSeed, N, C, H, W);
        public Tensor<double> Weight() => Random(DataSeed + 1, O, C, KH, KW);
        public Tensor<double> BiasValue() => Random(DataSeed + 2, O);
        public int OH => (H + 2 * Padding - KH) / Stride + 1;
        public int OW => (W + 2 * Padding - KW) / Stride + 1;
        public override string ToString() => $"N{N} C{C} {H}×{W} O{O} k{KH}×{KW} s{Stride} p{Padding} bias {Bias} seed {DataSeed}";
    }

    private static readonly Gen<Case> Cases =
        from n in Gen.Int[1, 3]
        from c in Gen.Int[1, 3]
        from o in Gen.Int[1, 3]
        from kh in Gen.Int[1, 3]
        from kw in Gen.Int[1, 3]
        from stride in Gen.Int[1, 3]
        from padding in Gen.Int[0, 2]
        from dh in Gen.Int[0, 4]
        from dw in Gen.Int[0, 4]
        from bias in Gen.Bool
        from seed in Gen.Int[0, 1_000_000]
        let h = Math.Max(1, kh - 2 * padding + dh)
        let w = Math.Max(1, kw - 2 * padding + dw)
        select new Case(n, c, h, w, o, kh, kw, stride, padding, bias, seed);

    internal static Tensor<double> Random(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var t = Tensor<double>.Zeros(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = 2 * rng.NextDouble() - 1;
        return t;
    }

    /// <summary>The definition, one output element at a time: y[n,o,i,j] = b[o] + Σ x[n,c,i·s−p+a, j·s−p+b']·w[o,c,a,b'].</summary>
    private static Tensor<double> DirectConvolution(Tensor<double> x, Tensor<double> w, Tensor<double>? b, int stride, int padding)
    {
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), wd = x.Dim(3), o = w.Dim(0), kh = w.Dim(2), kw = w.Dim(3);
        int oh = (h + 2 * padding - kh) / stride + 1, ow = (wd + 2 * padding - kw) / stride + 1;
        var y = Tensor<double>.Zeros(n, o, oh, ow);
        for (int ni = 0; ni < n; ni++)
            for (int oi = 0; oi < o; oi++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double sum = b is null ? 0 : b[oi];
                        for (int ci = 0; ci < c; ci++)
                            for (int a = 0; a < kh; a++)
                                for (int bb = 0; bb < kw; bb++)
                                {
                                    int r = i * stride - padding + a, q = j * stride - padding + bb;
                                    if (r >= 0 && r < h && q >= 0 && q < wd) sum += x[ni, ci, r, q] * w[oi, ci, a, bb];
                                }
                        y[ni, oi, i, j] = sum;
                    }
        return y;
    }

    [Fact]
    public void Conv2d_Forward_MatchesDirectLoop()
    {
        Cases.Sample(c =>
        {
            var tape = new Tape<double>();
            var b = c.Bias ? c.BiasValue() : null;
            var y = Ops.Conv2d(tape.Constant(c.Input()), tape.Constant(c.Weight()), b is null ? null : tape.Constant(b), c.Stride, c.Padding);
            Close.Assert(DirectConvolution(c.Input(), c.Weight(), b, c.Stride, c.Padding), y.Value, 1e-13, 1e-13, c.ToString());
        }, iter: 150, seed: Seed);
    }

    [Fact]
    public void Conv2d_Float32_AgreesWithFloat64()
    {
        Cases.Sample(c =>
        {
            var tape = new Tape<float>();
            var b = c.Bias ? c.BiasValue() : null;
            var y = Ops.Conv2d(tape.Constant(c.Input().Cast<float>()), tape.Constant(c.Weight().Cast<float>()),
                b is null ? null : tape.Constant(b.Cast<float>()), c.Stride, c.Padding);
            // Each output sums at most C·kh·kw + 1 = 28 products of magnitude ≤ 1: float rounding stays below 28·2⁻²³ ≈ 3e-6.
            Close.Assert(DirectConvolution(c.Input(), c.Weight(), b, c.Stride, c.Padding), y.Value.Cast<double>(), 0, 1e-5, c.ToString());
        }, iter: 100, seed: Seed);
    }

    /// <summary>A nonlinear scalar of the convolution, Σ R ⊙ y², so that every input of y matters.</summary>
    private static ScalarFunction<double> Loss(Case c, Tensor<double> readout) => (tape, v) =>
    {
        var y = Ops.Conv2d(v[0], v[1], c.Bias ? v[2] : null, c.Stride, c.Padding);
        return Ops.Sum(Ops.Multiply(Ops.Square(y), tape.Constant(readout)));
    };

    private static Tensor<double>[] Point(Case c) => c.Bias ? [c.Input(), c.Weight(), c.BiasValue()] : [c.Input(), c.Weight()];

    [Fact]
    public void Conv2d_InputWeightAndBiasGradients_MatchFiniteDifferences()
    {
        Cases.Sample(c =>
        {
            var readout = Random(c.DataSeed + 3, c.N, c.O, c.OH, c.OW);
            var f = Loss(c, readout);
            var point = Point(c);
            var analytic = FiniteDifference.AutodiffGradient(f, point);
            var numeric = FiniteDifference.Gradient(f, point).SelectMany(g => g).ToArray();
            // Quadratic loss: the central difference is exact but for rounding (≈ 1e-16/h² relative ≈ 1e-10).
            Assert.True(Close.RelativeError(numeric, analytic) <= 1e-6, $"{c}: relative error {Close.RelativeError(numeric, analytic):E2}");
        }, iter: 100, seed: Seed);
    }

    [Fact]
    public void Conv2d_HessianVectorProduct_MatchesFiniteDifferencesOfGradient()
    {
        Cases.Sample(c =>
        {
            var readout = Random(c.DataSeed + 3, c.N, c.O, c.OH, c.OW);
            var f = Loss(c, readout);
            var point = Point(c);
            var v = point.Select((t, i) => Random(c.DataSeed + 10 + i, t.ShapeArray)).ToArray();
            var exact = new HessianOperator<double>(f, point).Multiply(v).SelectMany(t => t.Data).ToArray();
            var numeric = FiniteDifference.HessianVectorProduct(f, point, v);
            Assert.True(Close.RelativeError(numeric, exact) <= 1e-5, $"{c}: relative error {Close.RelativeError(numeric, exact):E2}");
        }, iter: 100, seed: Seed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Conv2d_LargeBatchSplitAcrossCores_EqualsImageByImage(bool pooled)
    {
        // 16·8·16²·18 ≈ 590k multiply-adds: above the threshold where the batch is split across threads. Each image
        // alone (N = 1) runs serially; the batch result must equal the images stacked, the weight and bias gradients
        // their sum.
        var x = Random(21, 16, 2, 16, 16);
        var w = Random(22, 8, 2, 3, 3);
        var b = Random(23, 8);
        int outSide = pooled ? 8 : 16;
        var readout = Random(24, 16, 8, outSide, outSide);
        Tensor<double>[] Run(Tensor<double> xs, Tensor<double> r)
        {
            var tape = new Tape<double>();
            var (vx, vw, vb) = (tape.Leaf(xs), tape.Leaf(w), tape.Leaf(b));
            var y = pooled ? Ops.Conv2dMaxPool2d(vx, vw, vb, 1, 1, 2) : Ops.Conv2d(vx, vw, vb, 1, 1);
            var g = tape.Gradient(Ops.Sum(Ops.Multiply(y, tape.Constant(r))), [vx, vw, vb]);
            return [y.Value, g[0].Value, g[1].Value, g[2].Value];
        }
        var batch = Run(x, readout);
        if (!pooled) Close.Assert(DirectConvolution(x, w, b, 1, 1), batch[0], 1e-13, 1e-13, "forward");
        var weightSum = new double[w.Length];
        var biasSum = new double[b.Length];
        int imageIn = 2 * 16 * 16, imageOut = 8 * outSide * outSide;
        for (int n = 0; n < 16; n++)
        {
            var xn = new Tensor<double>(x.Data.AsSpan(n * imageIn, imageIn).ToArray(), 1, 2, 16, 16);
            var rn = new Tensor<double>(readout.Data.AsSpan(n * imageOut, imageOut).ToArray(), 1, 8, outSide, outSide);
            var single = Run(xn, rn);
            Close.Assert(single[0].Data, batch[0].Data.AsSpan(n * imageOut, imageOut), 0, 0, $"image {n} output");
            Close.Assert(single[1].Data, batch[1].Data.AsSpan(n * imageIn, imageIn), 0, 0, $"image {n} input gradient");
            for (int i = 0; i < weightSum.Length; i++) weightSum[i] += single[2].Data[i];
            for (int i = 0; i < biasSum.Length; i++) biasSum[i] += single[3].Data[i];
        }
        Close.Assert(weightSum, batch[2].Data, 1e-12, 1e-12, "weight gradient");
        Close.Assert(biasSum, batch[3].Data, 1e-12, 1e-12, "bias gradient");
    }

    [Theory]
    [InlineData(2, 16, 28, 16, 1)] // ResNet-20's first stage: 16×784×144 multiply-adds per image, cut into column blocks
    [InlineData(2, 64, 7, 64, 1)]  // its last stage: 64×49×576, cut into row blocks (forward, input gradient) and column blocks (weights)
    [InlineData(2, 16, 28, 32, 2)] // a stride-2 transition
    public void Conv2d_ProductsAboveOpenBlasSerialThreshold_MatchDirectLoops(int n, int c, int side, int o, int stride)
    {
        // Per-image products above 4·65536 multiply-adds are cut into blocks that OpenBLAS runs serially. The forward
        // pass must equal the direct loop, and the gradients of ⟨R, y⟩ must satisfy the adjoint identities
        // ⟨∂x, U⟩ = ⟨R, Conv(U, W)⟩ and ⟨∂W, V⟩ = ⟨R, Conv(x, V)⟩ with the right sides from the direct loop. Each side sums
        // ≈ 2·10⁵–10⁶ float64 products of magnitude ≤ 1, so rounding stays near 1e-16·√terms·max ≪ 1e-12 relative.
        var x = Random(51, n, c, side, side);
        var w = Random(52, o, c, 3, 3);
        int outSide = (side + 2 - 3) / stride + 1;
        var r = Random(53, n, o, outSide, outSide);
        var u = Random(54, n, c, side, side);
        var v = Random(55, o, c, 3, 3);
        var tape = new Tape<double>();
        var (vx, vw) = (tape.Leaf(x), tape.Leaf(w));
        var y = Ops.Conv2d(vx, vw, null, stride, 1);
        Close.Assert(DirectConvolution(x, w, null, stride, 1), y.Value, 1e-12, 1e-12, "forward");
        var g = tape.Gradient(Ops.Sum(Ops.Multiply(y, tape.Constant(r))), [vx, vw]);
        static double Dot(Tensor<double> a, Tensor<double> b) => a.Data.Zip(b.Data, (p, q) => p * q).Sum();
        double inputSide = Dot(g[0].Value, u), inputDirect = Dot(r, DirectConvolution(u, w, null, stride, 1));
        double weightSide = Dot(g[1].Value, v), weightDirect = Dot(r, DirectConvolution(x, v, null, stride, 1));
        Assert.True(Math.Abs(inputSide - inputDirect) <= 1e-12 * Math.Max(1, Math.Abs(inputDirect)), $"input gradient: {inputSide} vs {inputDirect}");
        Assert.True(Math.Abs(weightSide - weightDirect) <= 1e-12 * Math.Max(1, Math.Abs(weightDirect)), $"weight gradient: {weightSide} vs {weightDirect}");
    }

    // ---- max-pooling ------------------------------------------------------------------------------

    public sealed record PoolCase(int N, int C, int H, int W, int K, int Stride, int DataSeed)
    {
        /// <summary>Distinct values 0.01 apart in random order, so a finite-difference step cannot change any window's argmax.</summary>
        public Tensor<double> Input()
        {
            var rng = new Random(DataSeed);
            var t = Tensor<double>.Zeros(N, C, H, W);
            var order = Enumerable.Range(0, t.Length).ToArray();
            rng.Shuffle(order);
            for (int i = 0; i < t.Length; i++) t.Data[i] = 0.01 * (order[i] - t.Length / 2.0);
            return t;
        }

        public int OH => (H - K) / Stride + 1;
        public int OW => (W - K) / Stride + 1;
    }

    private static readonly Gen<PoolCase> PoolCases =
        from n in Gen.Int[1, 3]
        from c in Gen.Int[1, 3]
        from k in Gen.Int[1, 3]
        from stride in Gen.Int[1, 3]
        from dh in Gen.Int[0, 5]
        from dw in Gen.Int[0, 5]
        from seed in Gen.Int[0, 1_000_000]
        select new PoolCase(n, c, k + dh, k + dw, k, stride, seed);

    /// <summary>PyTorch's CPU rule, written out independently: scan row-major, take v when v &gt; max or v is NaN.</summary>
    private static (Tensor<double> Value, int[] Argmax) ReferencePool(Tensor<double> x, int k, int s)
    {
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3), oh = (h - k) / s + 1, ow = (w - k) / s + 1;
        var y = Tensor<double>.Zeros(n, c, oh, ow);
        var arg = new int[y.Length];
        int o = 0;
        for (int ni = 0; ni < n; ni++)
            for (int ci = 0; ci < c; ci++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++, o++)
                    {
                        double max = double.NegativeInfinity;
                        int best = ((ni * c + ci) * h + i * s) * w + j * s;
                        for (int a = 0; a < k; a++)
                            for (int b = 0; b < k; b++)
                            {
                                int idx = ((ni * c + ci) * h + i * s + a) * w + j * s + b;
                                double v = x.Data[idx];
                                if (v > max || double.IsNaN(v)) { max = v; best = idx; }
                            }
                        y.Data[o] = x.Data[best];
                        arg[o] = best;
                    }
        return (y, arg);
    }

    [Fact]
    public void MaxPool2d_Forward_MatchesReferenceScan()
    {
        PoolCases.Sample(c =>
        {
            var x = c.Input();
            var tape = new Tape<double>();
            var y = Ops.MaxPool2d(tape.Constant(x), c.K, c.Stride);
            Close.Assert(ReferencePool(x, c.K, c.Stride).Value, y.Value, 0, 0, c.ToString());
        }, iter: 100, seed: Seed);
    }

    [Fact]
    public void MaxPool2d_Gradient_MatchesFiniteDifferences()
    {
        PoolCases.Sample(c =>
        {
            var readout = Random(c.DataSeed + 1, c.N, c.C, c.OH, c.OW);
            ScalarFunction<double> f = (tape, v) => Ops.Sum(Ops.Multiply(Ops.Square(Ops.MaxPool2d(v[0], c.K, c.Stride)), tape.Constant(readout)));
            var point = new[] { c.Input() };
            var analytic = FiniteDifference.AutodiffGradient(f, point);
            var numeric = FiniteDifference.Gradient(f, point, 1e-6)[0];
            Assert.True(Close.RelativeError(numeric, analytic) <= 1e-6, $"{c}: relative error {Close.RelativeError(numeric, analytic):E2}");
        }, iter: 100, seed: Seed);
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 1)]
    [InlineData(2, 1)]
    public void MaxPool2d_TiesAndNaN_FollowPyTorchScanOrder(int k, int stride)
    {
        // Small integers make ties common; a few NaNs test propagation. Both the 2×2 fast path and the general path.
        var rng = new Random(7);
        var x = Tensor<double>.Zeros(2, 3, 6, 7);
        for (int i = 0; i < x.Length; i++) x.Data[i] = rng.Next(0, 3) - 1;
        for (int i = 0; i < 6; i++) x.Data[rng.Next(x.Length)] = double.NaN;
        var (expected, arg) = ReferencePool(x, k, stride);
        var tape = new Tape<double>();
        var input = tape.Leaf(x);
        var y = Ops.MaxPool2d(input, k, stride);
        for (int i = 0; i < y.Value.Length; i++)
            Assert.True(expected.Data[i].Equals(y.Value.Data[i]), $"output {i}: expected {expected.Data[i]}, got {y.Value.Data[i]}");
        // The gradient of Σ y lands on exactly the reference argmax positions, once per window that chose it.
        var g = tape.Gradient(Ops.Sum(Ops.MultiplyConstant(y, IsFiniteMask(y.Value))), [input])[0].Value;
        var counts = new double[x.Length];
        for (int i = 0; i < arg.Length; i++) if (!double.IsNaN(expected.Data[i])) counts[arg[i]] += 1;
        Close.Assert(counts, g.Data, 0, 0, "gradient routes");
    }

    [Fact]
    public void MaxPool2d_Float32VectorPath_MatchesReferenceScan()
    {
        // Rows of ≥ 16 columns take the 8-wide float path (with an overlapping last step when OW is not a multiple of 8).
        var cases = Gen.Select(Gen.Int[1, 2], Gen.Int[1, 3], Gen.Int[2, 9], Gen.Int[16, 37], Gen.Int[0, 1_000_000]);
        cases.Sample((n, c, h, w, seed) =>
        {
            var rng = new Random(seed);
            var x = Tensor<double>.Zeros(n, c, h, w);
            for (int i = 0; i < x.Length; i++) x.Data[i] = rng.Next(0, 4) - 1.5;
            for (int i = 0; i < x.Length / 50; i++) x.Data[rng.Next(x.Length)] = double.NaN;
            var (expected, arg) = ReferencePool(x, 2, 2);
            var tape = new Tape<float>();
            var input = tape.Leaf(x.Cast<float>());
            var y = Ops.MaxPool2d(input, 2);
            for (int i = 0; i < y.Value.Length; i++)
                Assert.True(((float)expected.Data[i]).Equals(y.Value.Data[i]), $"output {i}: expected {expected.Data[i]}, got {y.Value.Data[i]}");
            var mask = IsFiniteMask(y.Value.Cast<double>()).Cast<float>();
            var g = tape.Gradient(Ops.Sum(Ops.MultiplyConstant(y, mask)), [input])[0].Value;
            var counts = new double[x.Length];
            for (int i = 0; i < arg.Length; i++) if (!double.IsNaN(expected.Data[i])) counts[arg[i]] += 1;
            Close.Assert(counts, g.Cast<double>().Data, 0, 0, "gradient routes");
        }, iter: 100, seed: Seed);
    }

    [Fact]
    public void Conv2dMaxPool2d_Float32_EqualsTheTwoOpsInSequence()
    {
        var x = Random(1, 3, 2, 28, 28).Cast<float>();
        var w = Random(2, 5, 2, 3, 3).Cast<float>();
        var b = Random(3, 5).Cast<float>();
        var g = Random(4, 3, 5, 14, 14).Cast<float>();
        float[][] Run(bool fused)
        {
            var tape = new Tape<float>();
            var vx = tape.Leaf(x);
            var vw = tape.Leaf(w);
            var vb = tape.Leaf(b);
            var y = fused ? Ops.Conv2dMaxPool2d(vx, vw, vb, 1, 1, 2) : Ops.MaxPool2d(Ops.Conv2d(vx, vw, vb, 1, 1), 2);
            var grads = tape.Gradient(Ops.Sum(Ops.Multiply(y, tape.Constant(g))), [vx, vw, vb]);
            return [y.Value.Data, .. grads.Select(t => t.Value.Data)];
        }
        var (fusedResult, sequence) = (Run(true), Run(false));
        Assert.Equal(sequence[0], fusedResult[0]);
        Assert.Equal(sequence[1], fusedResult[1]);
        // Weight and bias gradients sum the same products in another order: float rounding only.
        for (int i = 2; i < 4; i++)
            Close.Assert(Array.ConvertAll(sequence[i], v => (double)v), Array.ConvertAll(fusedResult[i], v => (double)v), 1e-5, 1e-5);
    }

    private static Tensor<double> IsFiniteMask(Tensor<double> t)
    {
        var m = Tensor<double>.Zeros(t.ShapeArray);
        for (int i = 0; i < t.Length; i++) m.Data[i] = double.IsNaN(t.Data[i]) ? 0 : 1;
        return m;
    }

    [Fact]
    public void MaxPool2d_AllEqualWindow_RoutesToFirstElement()
    {
        var tape = new Tape<double>();
        var x = tape.Leaf(Tensor<double>.Full(0.5, 1, 1, 2, 2));
        var g = tape.Gradient(Ops.Sum(Ops.MaxPool2d(x, 2)), [x])[0].Value;
        Assert.Equal([1.0, 0, 0, 0], g.Data);
    }

    [Fact]
    public void MaxPool2d_HessianVectorProduct_MatchesFiniteDifferencesOfGradient()
    {
        PoolCases.Sample(c =>
        {
            var readout = Random(c.DataSeed + 1, c.N, c.C, c.OH, c.OW);
            ScalarFunction<double> f = (tape, v) => Ops.Sum(Ops.Multiply(Ops.Square(Ops.MaxPool2d(v[0], c.K, c.Stride)), tape.Constant(readout)));
            var point = new[] { c.Input() };
            var v = new[] { Random(c.DataSeed + 2, c.N, c.C, c.H, c.W) };
            var exact = new HessianOperator<double>(f, point).Multiply(v)[0].Data;
            var numeric = FiniteDifference.HessianVectorProduct(f, point, v, 1e-6);
            Assert.True(Close.RelativeError(numeric, exact) <= 1e-5, $"{c}: relative error {Close.RelativeError(numeric, exact):E2}");
        }, iter: 100, seed: Seed);
    }

    // ---- fused convolution + pooling ---------------------------------------------------------------

    [Fact]
    public void Conv2dMaxPool2d_ValuesAndGradients_EqualTheTwoOpsInSequence()
    {
        var cases = from c in Cases
                    from k in Gen.Int[1, 2]
                    from s in Gen.Int[1, 2]
                    where c.OH >= k && c.OW >= k
                    select (c, k, s);
        cases.Sample(t =>
        {
            var (c, k, s) = t;
            var point = Point(c);
            var readout = Random(c.DataSeed + 3, c.N, c.O, (c.OH - k) / s + 1, (c.OW - k) / s + 1);
            ScalarFunction<double> fused = (tape, v) => Ops.Sum(Ops.Multiply(Ops.Square(
                Ops.Conv2dMaxPool2d(v[0], v[1], c.Bias ? v[2] : null, c.Stride, c.Padding, k, s)), tape.Constant(readout)));
            ScalarFunction<double> sequence = (tape, v) => Ops.Sum(Ops.Multiply(Ops.Square(
                Ops.MaxPool2d(Ops.Conv2d(v[0], v[1], c.Bias ? v[2] : null, c.Stride, c.Padding), k, s)), tape.Constant(readout)));
            Close.Assert(FiniteDifference.Evaluate(sequence, point), FiniteDifference.Evaluate(fused, point), 1e-14, 1e-14, $"{c} value");
            Close.Assert(FiniteDifference.AutodiffGradient(sequence, point), FiniteDifference.AutodiffGradient(fused, point), 1e-12, 1e-12, $"{c} gradient");
            var v = point.Select((p, i) => Random(c.DataSeed + 10 + i, p.ShapeArray)).ToArray();
            Close.Assert(new HessianOperator<double>(sequence, point).Multiply(v).SelectMany(x => x.Data).ToArray(),
                new HessianOperator<double>(fused, point).Multiply(v).SelectMany(x => x.Data).ToArray(), 1e-12, 1e-12, $"{c} Hessian-vector product");
        }, iter: 100, seed: Seed);
    }

    [Fact]
    public void Conv2dAndPool_EmptyBatch_GiveEmptyOutputsAndZeroGradients()
    {
        var tape = new Tape<double>();
        var x = tape.Leaf(Tensor<double>.Zeros(0, 2, 6, 6));
        var w = tape.Leaf(Random(1, 3, 2, 3, 3));
        var b = tape.Leaf(Random(2, 3));
        var y = Ops.Conv2dMaxPool2d(x, w, b, 1, 1, 2);
        Assert.Equal([0, 3, 3, 3], y.Value.ShapeArray);
        var g = tape.Gradient(Ops.Sum(Ops.Add(Ops.Sum(y), Ops.Sum(Ops.Conv2d(x, w, b, 1, 1)))), [w, b]);
        Assert.All(g[0].Value.Data.Concat(g[1].Value.Data), v => Assert.Equal(0.0, v));
    }

    // ---- errors -----------------------------------------------------------------------------------

    [Fact]
    public void Conv2d_ChannelMismatch_NamesBothShapes()
    {
        var tape = new Tape<double>();
        var ex = Assert.Throws<ArgumentException>(() =>
            Ops.Conv2d(tape.Constant(Tensor<double>.Zeros(2, 3, 5, 5)), tape.Constant(Tensor<double>.Zeros(4, 2, 3, 3))));
        Assert.Contains("2×3×5×5", ex.Message);
        Assert.Contains("4×2×3×3", ex.Message);
        Assert.Equal("input", ex.ParamName);
    }

    [Fact]
    public void Conv2d_WrongBias_NamesBias()
    {
        var tape = new Tape<double>();
        var ex = Assert.Throws<ArgumentException>(() => Ops.Conv2d(tape.Constant(Tensor<double>.Zeros(1, 1, 5, 5)),
            tape.Constant(Tensor<double>.Zeros(4, 1, 3, 3)), tape.Constant(Tensor<double>.Zeros(3))));
        Assert.Equal("bias", ex.ParamName);
        Assert.Contains("[4]", ex.Message);
    }

    [Fact]
    public void Conv2d_KernelLargerThanPaddedImage_Throws()
    {
        var tape = new Tape<double>();
        var ex = Assert.Throws<ArgumentException>(() =>
            Ops.Conv2d(tape.Constant(Tensor<double>.Zeros(1, 1, 2, 2)), tape.Constant(Tensor<double>.Zeros(1, 1, 5, 5)), padding: 1));
        Assert.Contains("4×4", ex.Message);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, -1)]
    public void Conv2d_BadStrideOrPadding_Throws(int stride, int padding)
    {
        var tape = new Tape<double>();
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Ops.Conv2d(tape.Constant(Tensor<double>.Zeros(1, 1, 4, 4)), tape.Constant(Tensor<double>.Zeros(1, 1, 3, 3)), stride: stride, padding: padding));
    }

    [Fact]
    public void Conv2d_InputNotRank4_NamesInput()
    {
        var tape = new Tape<double>();
        var ex = Assert.Throws<ArgumentException>(() => Ops.Conv2d(tape.Constant(Tensor<double>.Zeros(3, 5, 5)), tape.Constant(Tensor<double>.Zeros(1, 3, 3, 3))));
        Assert.Equal("input", ex.ParamName);
        Assert.Contains("3×5×5", ex.Message);
    }

    [Fact]
    public void MaxPool2d_WindowLargerThanInput_Throws()
    {
        var tape = new Tape<double>();
        var ex = Assert.Throws<ArgumentException>(() => Ops.MaxPool2d(tape.Constant(Tensor<double>.Zeros(1, 1, 3, 3)), 4));
        Assert.Contains("3×3", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.MaxPool2d(tape.Constant(Tensor<double>.Zeros(1, 1, 3, 3)), 2, 0));
    }
}
