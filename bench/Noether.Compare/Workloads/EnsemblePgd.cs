namespace Noether.Compare.Workloads;

/// <summary>
/// (e) Issue 5's speed item: evaluate a 10-member group ensemble on the 10,000 Fashion-MNIST test images
/// under PGD-10 (L∞, ε = 8/255, step 2/255, random start), target ≤ 1.0× PyTorch.
/// </summary>
/// <remarks>
/// <b>A SLOT, NOT YET IMPLEMENTED on either side</b>: it needs the trained CNN (safetensors weights, shared
/// by both sides so the work is identical), the group-ensemble builder (Ensembles/) and PGD (Attacks/).
/// To fill it: write bench/compare/ensemble_pgd.py (load the same weights, build the same 10 members from
/// member weights the C# side writes with <see cref="WorkloadContext.WriteInputs"/>, run the same attack with
/// the same threat model and random-start seed), set <see cref="Python"/>, implement the methods below
/// and return true from <see cref="NoetherImplemented"/>.
/// </remarks>
internal sealed class EnsemblePgd : IWorkload
{
    /// <inheritdoc/>
    public string Name => "ensemble-pgd10";

    /// <inheritdoc/>
    public string Item => "(e)";

    /// <inheritdoc/>
    public string Description => "10-member group ensemble under PGD-10 on 10,000 test images (issue 5)";

    /// <inheritdoc/>
    public double? Target => 1.0;

    /// <inheritdoc/>
    public bool NoetherImplemented => false;

    /// <inheritdoc/>
    public PythonTwin? Python => null;

    /// <inheritdoc/>
    public void Prepare(WorkloadContext context) =>
        throw new NotImplementedException("ensemble-pgd10 waits for issue 5 (Ensembles/, Attacks/)");

    /// <inheritdoc/>
    public void Run() =>
        throw new NotImplementedException("ensemble-pgd10 waits for issue 5 (Ensembles/, Attacks/)");
}
