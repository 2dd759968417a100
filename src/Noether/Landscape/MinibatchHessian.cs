using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Noether.Landscape;

/// <summary>The loss of batch <paramref name="batch"/> at the parameters <paramref name="parameters"/> (one leaf per block), recorded on <paramref name="tape"/>.</summary>
public delegate Variable<double> BatchLoss(Tape<double> tape, IReadOnlyList<Variable<double>> parameters, int batch);

/// <summary>A named contiguous range of the flattened parameter vector (one parameter tensor, or a layer).</summary>
/// <param name="Name">The block's name (e.g. "3.weight").</param>
/// <param name="Offset">First index in the flat vector.</param>
/// <param name="Length">Number of entries.</param>
public sealed record ParameterBlock(string Name, int Offset, int Length);

/// <summary>
/// The Hessian of a loss over a data set split into B batches, L(θ) = (1/B) Σ_b L_b(θ), known through products: by
/// linearity H·v = (1/B) Σ_b H_b·v, each H_b·v an exact double-backward pass through batch b alone, so memory is that
/// of one batch's graph whatever the data set's size (each product records batch b's forward pass and gradient again,
/// as PyHessian's full-data products do). With equal batch sizes and a mean loss per batch, L is the mean loss over the
/// whole set; otherwise weight the per-batch losses in <see cref="BatchLoss"/>. Any model plugs in through the
/// delegate (a <see cref="Module{T}"/> through <see cref="ForModel"/>, a graph model through its own forward pass).
/// </summary>
/// <remarks>Not thread-safe.</remarks>
public sealed class MinibatchHessian
{
    private readonly BatchLoss _loss;
    private readonly Tensor<double>[] _point;

    /// <summary>The Hessian of (1/B) Σ_b <paramref name="loss"/>(θ, b) at <paramref name="point"/> (one tensor per block).</summary>
    /// <param name="loss">The loss of one batch.</param>
    /// <param name="point">θ, one tensor per parameter block, all entries finite.</param>
    /// <param name="batches">B ≥ 1.</param>
    /// <param name="blockNames">Optional names of the blocks (default "0", "1", …).</param>
    /// <param name="progress">Optional: receives the number of per-batch passes done so far.</param>
    /// <exception cref="ArgumentException">No blocks, a non-finite entry, a name count that differs from the block count.</exception>
    /// <exception cref="ArgumentOutOfRangeException">batches &lt; 1.</exception>
    public MinibatchHessian(BatchLoss loss, IReadOnlyList<Tensor<double>> point, int batches, IReadOnlyList<string>? blockNames = null,
        IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(point);
        if (batches < 1) throw Errors.OutOfRange(nameof(batches), batches, "at least one batch (the batch list is empty)");
        if (point.Count == 0) throw Errors.Argument(nameof(point), "minibatch hessian: the point has no parameter blocks");
        for (int i = 0; i < point.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(point[i], $"point[{i}]");
            int bad = Array.FindIndex(point[i].Data, x => !double.IsFinite(x));
            if (bad >= 0) throw Errors.Argument(nameof(point), $"minibatch hessian: point[{i}] has a non-finite entry {point[i].Data[bad]} at {bad}");
        }
        if (blockNames is not null && blockNames.Count != point.Count)
            throw Errors.Argument(nameof(blockNames), $"minibatch hessian: {blockNames.Count} block names for {point.Count} blocks");
        _loss = loss;
        _point = point.ToArray();
        Batches = batches;
        Progress = progress;
        var blocks = new ParameterBlock[point.Count];
        int offset = 0;
        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i] = new ParameterBlock(blockNames?[i] ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture), offset, point[i].Length);
            offset += point[i].Length;
        }
        Blocks = blocks;
        Dimension = offset;
    }

    /// <summary>
    /// The Hessian of a module's loss over labelled batches, with respect to all its parameters (registration order;
    /// blocks named after them). The model's current parameter values are the point.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="batches">The batches (inputs, labels); the loss of each is the mean cross-entropy of the logits, or <paramref name="loss"/>.</param>
    /// <param name="loss">Optional loss of (tape, output, labels); default mean cross-entropy.</param>
    /// <param name="progress">Optional: per-batch passes done.</param>
    public static MinibatchHessian ForModel(Module<double> model, IReadOnlyList<(Tensor<double> Inputs, int[] Labels)> batches,
        Func<Tape<double>, Variable<double>, int[], Variable<double>>? loss = null, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        if (batches.Count == 0) throw Errors.OutOfRange(nameof(batches), 0, "at least one batch (the batch list is empty)");
        var parameters = model.Parameters.ToArray();
        loss ??= (_, logits, labels) => Ops.CrossEntropy(logits, labels);
        return new MinibatchHessian((tape, leaves, b) =>
        {
            for (int i = 0; i < parameters.Length; i++) tape.BindTo(parameters[i], leaves[i]);
            var (x, y) = batches[b];
            return loss(tape, model.Forward(tape, tape.Constant(x)), y);
        }, parameters.Select(p => p.Value).ToArray(), batches.Count, parameters.Select(p => p.Name).ToArray(), progress);
    }

    /// <summary>B, the number of batches.</summary>
    public int Batches { get; }

    /// <summary>n, the number of parameters.</summary>
    public int Dimension { get; }

    /// <summary>The parameter blocks in flat order.</summary>
    public IReadOnlyList<ParameterBlock> Blocks { get; }

    /// <summary>Per-batch passes (operator builds) so far.</summary>
    public long Passes { get; private set; }

    private IProgress<long>? Progress { get; }

    /// <summary>The exact Hessian operator of batch <paramref name="batch"/> alone (records its forward pass and gradient).</summary>
    /// <exception cref="ArgumentOutOfRangeException">batch not in [0, B).</exception>
    public HessianOperator<double> ForBatch(int batch)
    {
        CheckBatch(batch, nameof(batch));
        var h = new HessianOperator<double>((tape, leaves) => _loss(tape, leaves, batch), _point);
        Passes++;
        Progress?.Report(Passes);
        return h;
    }

    /// <summary>H_b as a <see cref="SymmetricOperator"/> (the batch's graph is kept while the operator lives).</summary>
    public SymmetricOperator Batch(int batch) => SymmetricOperator.FromHessian(ForBatch(batch));

    /// <summary>
    /// H = (1/|S|) Σ_{b∈S} H_b over <paramref name="batches"/> (default: all B) as an operator: each product visits the batches
    /// in the given order, one graph at a time, and sums their products in that order before dividing.
    /// </summary>
    /// <exception cref="ArgumentException">An empty list, a repeated batch, or one out of range.</exception>
    public SymmetricOperator Mean(IReadOnlyList<int>? batches = null, CancellationToken cancellationToken = default)
    {
        var list = CheckBatches(batches, nameof(batches));
        int n = Dimension;
        double count = list.Length;
        return new SymmetricOperator(n, (x, y) =>
        {
            y.Clear();
            foreach (int b in list)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var hv = ForBatch(b).Multiply(x, pooled: false);
                TensorPrimitives.Add(y, hv, y);
            }
            TensorPrimitives.Divide(y, count, y);
        }, rows =>
        {
            var sum = Tensor<double>.Zeros(rows.Dim(0), n);
            foreach (int b in list)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var hv = ForBatch(b).MultiplyMany(rows, pooled: false);
                TensorPrimitives.Add(sum.Data, hv.Data, sum.Data);
            }
            TensorPrimitives.Divide(sum.Data, count, sum.Data);
            return sum;
        });
    }

    /// <summary>The loss of batch <paramref name="batch"/> at the point.</summary>
    public double Loss(int batch)
    {
        CheckBatch(batch, nameof(batch));
        var tape = new Tape<double>();
        var leaves = _point.Select(t => tape.Leaf(t)).ToArray();
        return _loss(tape, leaves, batch).Value.Data[0];
    }

    /// <summary>The mean gradient (1/|S|) Σ_{b∈S} ∇L_b over <paramref name="batches"/> (default all), flat.</summary>
    public double[] Gradient(IReadOnlyList<int>? batches = null, CancellationToken cancellationToken = default)
    {
        var list = CheckBatches(batches, nameof(batches));
        var g = new double[Dimension];
        foreach (int b in list)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var tape = new Tape<double>();
            var leaves = _point.Select(t => tape.Leaf(t)).ToArray();
            var value = _loss(tape, leaves, b);
            var grads = tape.Gradient(value, leaves);
            int offset = 0;
            foreach (var gi in grads)
            {
                TensorPrimitives.Add(g.AsSpan(offset, gi.Value.Length), gi.Value.Data.AsSpan(0, gi.Value.Length), g.AsSpan(offset, gi.Value.Length));
                offset += gi.Value.Length;
            }
            Passes++;
            Progress?.Report(Passes);
        }
        TensorPrimitives.Divide(g, list.Length, g);
        return g;
    }

    /// <summary>The block named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No such block.</exception>
    public ParameterBlock Block(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Blocks.FirstOrDefault(b => b.Name == name)
            ?? throw Errors.Argument(nameof(name), $"minibatch hessian: no block named '{name}' (blocks: {string.Join(", ", Blocks.Select(b => b.Name))})");
    }

    /// <summary>The flat range of several blocks that sit next to each other (e.g. a layer's weight and bias), for <see cref="SymmetricOperator.Block"/>.</summary>
    /// <exception cref="ArgumentException">No names, an unknown or repeated name, or blocks that are not contiguous.</exception>
    public (int Offset, int Length) Range(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0) throw Errors.Argument(nameof(names), "minibatch hessian: no block names");
        var blocks = names.Select(n => Blocks.FirstOrDefault(b => b.Name == n)
            ?? throw Errors.Argument(nameof(names), $"minibatch hessian: no block named '{n}' (blocks: {string.Join(", ", Blocks.Select(b => b.Name))})"))
            .OrderBy(b => b.Offset).ToArray();
        for (int i = 1; i < blocks.Length; i++)
        {
            if (blocks[i] == blocks[i - 1]) throw Errors.Argument(nameof(names), $"minibatch hessian: block '{blocks[i].Name}' is named twice");
            if (blocks[i].Offset != blocks[i - 1].Offset + blocks[i - 1].Length)
                throw Errors.Argument(nameof(names), $"minibatch hessian: blocks '{blocks[i - 1].Name}' and '{blocks[i].Name}' are not next to each other (a block-diagonal part needs a contiguous range)");
        }
        return (blocks[0].Offset, blocks[^1].Offset + blocks[^1].Length - blocks[0].Offset);
    }

    private void CheckBatch(int batch, string name)
    {
        if (batch < 0 || batch >= Batches) throw Errors.OutOfRange(name, batch, $"a batch index in [0, {Batches})");
    }

    internal int[] CheckBatches(IReadOnlyList<int>? batches, string name)
    {
        if (batches is null) return Enumerable.Range(0, Batches).ToArray();
        if (batches.Count == 0) throw Errors.Argument(name, "minibatch hessian: the batch list is empty");
        var seen = new HashSet<int>();
        foreach (int b in batches)
        {
            CheckBatch(b, name);
            if (!seen.Add(b)) throw Errors.Argument(name, $"minibatch hessian: batch {b} is listed twice");
        }
        return batches.ToArray();
    }
}
