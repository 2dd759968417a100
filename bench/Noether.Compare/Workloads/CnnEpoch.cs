namespace Noether.Compare.Workloads;

/// <summary>
/// (b) One training epoch of the SPEC CNN on all 60,000 Fashion-MNIST training images, batch 128, float32,
/// Adam lr 1e-3. The PyTorch twin (bench/compare/cnn_epoch.py) is complete.
/// </summary>
/// <remarks>
/// <para><b>NOETHER SIDE NOT YET IMPLEMENTED — for the lead to fill in after merging the Nn/ and Data/ branches.</b>
/// Until <see cref="NoetherImplemented"/> returns true the runner prints "not yet implemented" for this
/// row and never a number. To implement, mirror cnn_epoch.py exactly:</para>
/// <list type="number">
/// <item><see cref="Prepare"/> (untimed): read train-images/labels-idx*-ubyte.gz from
/// /usr/share/datasets/fashion-mnist with <c>Noether.Data</c>'s IDX reader; pixels as float32 / 255
/// (no further normalisation), shape [60000, 1, 28, 28]; labels as class indices. Also read t10k for the
/// accuracy check in <see cref="IWorkload.Finish"/>.</item>
/// <item><see cref="BeforeRun"/> (untimed): a fresh model and optimiser, seeded — <c>Sequential(Conv2d(1→16,
/// 3×3, padding 1), MaxPool2d(2), Flatten, Linear(3136→32), Activation LeakyReLU(0.01), Linear(32→10))</c>,
/// PyTorch-default-like init, <c>Adam(lr 1e-3, β 0.9/0.999, ε 1e-8)</c>. No activation between conv and pool
/// (as SPEC's model list and the twin).</item>
/// <item><see cref="Run"/> (timed): one seeded shuffle of the 60,000 indices, then 469 batches of 128 (last 96):
/// gather batch → forward → <c>Ops.CrossEntropy</c> (mean over the batch, on logits) → gradient → Adam step.</item>
/// <item><see cref="IWorkload.Finish"/> (untimed): test accuracy on t10k (expect ≈ 83–84 % after one epoch, as the
/// twin) and return it as "test_accuracy"; the runner already records the process's peak resident
/// memory (acceptance: one epoch under 1 GB — measure with <c>--only cnn</c>, as the peak is per process).</item>
/// </list>
/// </remarks>
internal sealed class CnnEpoch : IWorkload
{
    /// <inheritdoc/>
    public string Name => "cnn-epoch";

    /// <inheritdoc/>
    public string Item => "(b)";

    /// <inheritdoc/>
    public string Description => "1 epoch SPEC CNN (conv3×3·16 → pool2 → 3136→32 → LeakyReLU → 10), Adam, 60k Fashion-MNIST, batch 128, float32";

    /// <inheritdoc/>
    public double? Target => 1.5;

    /// <inheritdoc/>
    public bool NoetherImplemented => false; // set to true once Prepare/BeforeRun/Run/Finish below are real

    /// <inheritdoc/>
    public PythonTwin? Python => new("cnn_epoch.py", Name, [], NeedsInputs: false);

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context) =>
        throw new NotImplementedException("cnn-epoch: the Noether side waits for Noether.Nn and Noether.Data (see remarks)");

    /// <inheritdoc/>
    public void BeforeRun() =>
        throw new NotImplementedException("cnn-epoch: the Noether side waits for Noether.Nn and Noether.Data (see remarks)");

    /// <inheritdoc/>
    public void Run() =>
        throw new NotImplementedException("cnn-epoch: the Noether side waits for Noether.Nn and Noether.Data (see remarks)");
}
