using Noether.Autodiff;
using Noether.Conservation;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Experiments;

/// <summary>
/// Settings of the law-count table: Marcotte, Gribonval, Peyré (NeurIPS 2023) counted the conservation laws of 50 random
/// linear nets (depth 2–4, widths 2–5) and 50 random ReLU nets (depth 2–4, widths 2–9, biases or not) symbolically and
/// found the known laws in every one. This reruns that check numerically on seeded draws of the same sizes, and counts
/// the laws of the data fields (the outputs on a Gaussian batch) beside it.
/// </summary>
public sealed record LawCountSettings
{
    /// <summary>Random linear nets.</summary>
    public int LinearNets { get; init; } = 50;

    /// <summary>Random ReLU nets.</summary>
    public int ReluNets { get; init; } = 50;

    /// <summary>Fewest layers.</summary>
    public int MinDepth { get; init; } = 2;

    /// <summary>Most layers.</summary>
    public int MaxDepth { get; init; } = 4;

    /// <summary>Largest width of a linear net (smallest is 2).</summary>
    public int MaxLinearWidth { get; init; } = 5;

    /// <summary>Largest width of a ReLU net (smallest is 2).</summary>
    public int MaxReluWidth { get; init; } = 9;

    /// <summary>Count the data fields' laws too (on a Gaussian batch of 2·⌈D / n_q⌉ + n₀ samples).</summary>
    public bool DataFields { get; init; } = true;

    /// <summary>Seed of every draw (net i uses its own generator seeded from (seed, family, i)).</summary>
    public int Seed { get; init; }

    internal void Validate()
    {
        if (LinearNets < 0) throw Errors.OutOfRange(nameof(LinearNets), LinearNets, "≥ 0");
        if (ReluNets < 0) throw Errors.OutOfRange(nameof(ReluNets), ReluNets, "≥ 0");
        Errors.ThrowIfNotPositive(MinDepth, nameof(MinDepth));
        if (MaxDepth < MinDepth) throw Errors.OutOfRange(nameof(MaxDepth), MaxDepth, $"≥ MinDepth ({MinDepth})");
        if (MaxDepth > 4) throw Errors.OutOfRange(nameof(MaxDepth), MaxDepth, "≤ 4 (a ReLU net's path products grow as the product of its widths: 9⁵ at depth 4)");
        if (MaxLinearWidth < 2) throw Errors.OutOfRange(nameof(MaxLinearWidth), MaxLinearWidth, "≥ 2");
        if (MaxReluWidth < 2) throw Errors.OutOfRange(nameof(MaxReluWidth), MaxReluWidth, "≥ 2");
        if (MaxLinearWidth > 16) throw Errors.OutOfRange(nameof(MaxLinearWidth), MaxLinearWidth, "≤ 16");
        if (MaxReluWidth > 16) throw Errors.OutOfRange(nameof(MaxReluWidth), MaxReluWidth, "≤ 16");
    }
}

/// <summary>One net of the table.</summary>
/// <param name="Family">"linear" or "relu".</param>
/// <param name="Index">Its index within the family.</param>
/// <param name="Widths">Widths, input first.</param>
/// <param name="Biases">Whether its layers have biases.</param>
/// <param name="Parameters">D.</param>
/// <param name="KnownLaws">Linear: the rank at θ of the gradients of the entries of W_l W_lᵀ + b_l b_lᵀ − W_{l+1}ᵀW_{l+1}; ReLU: Σ hidden widths.</param>
/// <param name="Phi">The count on V = span{∇φ} (path products / W_q⋯W₁ with bias paths).</param>
/// <param name="Data">The count on the data fields, or null when not asked.</param>
/// <param name="DataSamples">Samples in the data batch (0 when not asked).</param>
/// <param name="DeadUnits">Hidden units that never fire on the data batch (ReLU; 0 for linear nets).</param>
/// <param name="AlwaysOnUnits">Hidden units that fire on every sample (ReLU).</param>
public sealed record LawCountRow(string Family, int Index, IReadOnlyList<int> Widths, bool Biases, int Parameters, int KnownLaws,
    LawCountResult Phi, LawCountResult? Data, int DataSamples, int DeadUnits, int AlwaysOnUnits)
{
    /// <summary>The φ count equals the known laws.</summary>
    public bool MatchesKnown => Phi.Laws == KnownLaws;

    /// <summary>Why the data fields have more laws than φ, from what was measured (empty when they do not).</summary>
    public string DataFinding => Data is null || Data.Laws <= Phi.Laws ? ""
        : DeadUnits > 0 ? $"{DeadUnits} dead unit(s) on these data"
        : AlwaysOnUnits > 0 ? $"{AlwaysOnUnits} always-on unit(s): too few activation patterns"
        : "too few samples or activation patterns for the data to see every path";
}

/// <summary>The table.</summary>
public sealed record LawCountTable(LawCountSettings Settings, IReadOnlyList<LawCountRow> Rows)
{
    /// <summary>Nets whose φ count differs from the known laws.</summary>
    public int Mismatches => Rows.Count(r => !r.MatchesKnown);

    /// <summary>Counts decided without a clear singular-value gap.</summary>
    public int Unclear => Rows.Count(r => !r.Phi.ClearGap || r.Data is { ClearGap: false });
}

/// <summary>Runs <see cref="LawCount"/> over the random nets of <see cref="LawCountSettings"/>.</summary>
public static class LawCountExperiment
{
    /// <summary>Counts every net. Pure: the result depends only on the settings.</summary>
    public static LawCountTable Run(LawCountSettings settings, IProgress<ExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var rows = new List<LawCountRow>();
        int total = settings.LinearNets + settings.ReluNets, done = 0;
        foreach (var (family, count, maxWidth) in new[] { ("linear", settings.LinearNets, settings.MaxLinearWidth), ("relu", settings.ReluNets, settings.MaxReluWidth) })
        {
            for (int i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new ExperimentProgress($"{family} net {i + 1}/{count}", done, total));
                rows.Add(CountOne(settings, family, i, maxWidth));
                done++;
            }
        }
        progress?.Report(new ExperimentProgress("done", total, total));
        return new LawCountTable(settings, rows);
    }

    private static LawCountRow CountOne(LawCountSettings settings, string family, int index, int maxWidth)
    {
        bool linear = family == "linear";
        var random = new Random(unchecked((settings.Seed * 7919 + (linear ? 1 : 2)) * 104729 + index));
        var net = NetworkReparametrization.Draw(random, settings.MinDepth, settings.MaxDepth, 2, maxWidth, biases: random.Next(2) == 1);
        var theta = net.RandomPoint(random);
        var phi = LawCount.Count(linear ? net.LinearProduct() : net.PathProducts(), theta, random);
        int known = linear ? LawCount.FunctionalRank(net.LinearKnownQuantities(), theta).Rank : net.HiddenUnits;

        LawCountResult? data = null;
        int samples = 0, dead = 0, alwaysOn = 0;
        if (settings.DataFields)
        {
            samples = 2 * (net.Parameters + net.Widths[^1] - 1) / net.Widths[^1] + net.Widths[0];
            var inputs = Tensor<double>.Zeros(samples, net.Widths[0]);
            Gaussian.Fill(random, inputs.Data);
            var activation = linear ? Activation.Identity : Activation.Relu;
            data = LawCount.Count(net.Outputs(inputs, activation), theta, random);
            if (!linear) (dead, alwaysOn) = ActivationPatterns(net, theta, inputs);
        }
        return new LawCountRow(family, index, net.Widths, net.Biases, net.Parameters, known, phi, data, samples, dead, alwaysOn);
    }

    /// <summary>Hidden ReLU units that never fire, or always fire, on the batch.</summary>
    private static (int Dead, int AlwaysOn) ActivationPatterns(NetworkReparametrization net, Tensor<double>[] theta, Tensor<double> inputs)
    {
        var tape = new Tape<double>();
        int dead = 0, on = 0;
        var h = tape.Constant(inputs);
        int block = 0;
        for (int l = 1; l < net.Layers; l++)
        {
            var z = Ops.MatMul(h, tape.Constant(theta[block++]), false, true);
            if (net.Biases) z = Ops.Add(z, tape.Constant(theta[block++].Reshape(1, net.Widths[l])));
            int n = net.Widths[l], k = inputs.Dim(0);
            for (int j = 0; j < n; j++)
            {
                int active = 0;
                for (int s = 0; s < k; s++) if (z.Value.Data[s * n + j] > 0) active++;
                if (active == 0) dead++;
                else if (active == k) on++;
            }
            h = Ops.Relu(z);
        }
        return (dead, on);
    }
}
