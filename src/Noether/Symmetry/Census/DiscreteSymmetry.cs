namespace Noether.Symmetry.Census;

/// <summary>A discrete symmetry: the permutations of <see cref="Count"/> interchangeable hidden units or channels (no conserved quantity).</summary>
public sealed record DiscreteSymmetry(string Location, string What, int Count)
{
    /// <summary>log10 of the group's order, log10(n!).</summary>
    public double Log10Order => Enumerable.Range(2, Math.Max(0, Count - 1)).Sum(k => Math.Log10(k));
}
