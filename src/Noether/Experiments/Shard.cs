using System.Diagnostics.CodeAnalysis;

namespace Noether.Experiments;

/// <summary>
/// Part <see cref="Index"/> of <see cref="Count"/> of a sweep's grid, written "i/n" (1 ≤ i ≤ n). The grid of N items
/// (in the order the experiment documents) is cut into n contiguous blocks whose sizes differ by at most one, the
/// larger blocks first, so that concatenating the shards' outputs in shard order gives the unsharded output exactly.
/// This works because an experiment is a pure function of its settings: every item's randomness is derived from
/// (seed, item index) or drawn before the grid is split, never from a generator shared across items.
/// </summary>
public sealed record Shard
{
    /// <summary>The form <see cref="Parse"/> accepts, for messages.</summary>
    public const string ExpectedForm = "i/n with 1 ≤ i ≤ n";

    /// <summary>Part <paramref name="index"/> (1-based) of <paramref name="count"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">count &lt; 1, or index outside 1..count.</exception>
    public Shard(int index, int count)
    {
        if (count < 1 || index < 1 || index > count)
            throw Errors.ArgumentOutOfRange(nameof(index), $"{index}/{count}", $"shard '{index}/{count}': expected {ExpectedForm}");
        Index = index;
        Count = count;
    }

    /// <summary>Which part, 1-based.</summary>
    public int Index { get; }

    /// <summary>How many parts.</summary>
    public int Count { get; }

    /// <summary>Parses "i/n" (e.g. "2/4", spaces around the numbers allowed).</summary>
    /// <exception cref="ArgumentException">The text is not of the form i/n with 1 ≤ i ≤ n; the message names it.</exception>
    public static Shard Parse(string text) =>
        TryParse(text, out var shard) ? shard : throw Errors.Argument(nameof(text), $"shard '{text}': expected {ExpectedForm} (e.g. 2/4)");

    /// <summary>Parses "i/n"; false when <paramref name="text"/> is null or not of the form i/n with 1 ≤ i ≤ n.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out Shard? shard)
    {
        shard = null;
        if (text is null) return false;
        int slash = text.IndexOf('/');
        if (slash < 0 || text.IndexOf('/', slash + 1) >= 0) return false;
        if (!int.TryParse(text.AsSpan(0, slash).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int i)) return false;
        if (!int.TryParse(text.AsSpan(slash + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n)) return false;
        if (n < 1 || i < 1 || i > n) return false;
        shard = new Shard(i, n);
        return true;
    }

    /// <summary>
    /// This shard's block of a grid of <paramref name="gridSize"/> items: with q = N / n and r = N mod n, shard k
    /// (1-based) gets q + 1 items when k ≤ r, else q, starting right after shard k − 1's block.
    /// </summary>
    /// <exception cref="ArgumentException">More shards than grid items (a shard would be empty).</exception>
    public ShardRange ItemsOf(int gridSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(gridSize);
        if (Count > gridSize)
            throw Errors.Argument("shard", $"shard {this}: the sweep has only {gridSize} grid item{(gridSize == 1 ? "" : "s")}, so at most {gridSize} shard{(gridSize == 1 ? "" : "s")} (got n = {Count})");
        int q = gridSize / Count, r = gridSize % Count, k = Index - 1;
        return new ShardRange(k * q + Math.Min(k, r), q + (k < r ? 1 : 0));
    }

    /// <summary>The items <paramref name="shard"/> covers of a grid of <paramref name="gridSize"/>; all of them when it is null.</summary>
    public static ShardRange ItemsOf(Shard? shard, int gridSize) => shard is null ? new ShardRange(0, gridSize) : shard.ItemsOf(gridSize);

    /// <summary>The positions of the first shard whose index an earlier one of <paramref name="shards"/> has and of that earlier one, or null.</summary>
    public static (int First, int Repeat)? FirstRepeat(IReadOnlyList<Shard> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        var seen = new Dictionary<int, int>();
        for (int i = 0; i < shards.Count; i++)
        {
            if (seen.TryGetValue(shards[i].Index, out int first)) return (first, i);
            seen[shards[i].Index] = i;
        }
        return null;
    }

    /// <summary>The indices 1 … <paramref name="count"/> that none of <paramref name="shards"/> has, ascending.</summary>
    public static int[] Missing(IEnumerable<Shard> shards, int count) => Enumerable.Range(1, count).Except(shards.Select(s => s.Index)).ToArray();

    /// <summary>"i/n".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}

/// <summary>A contiguous block of grid items: <see cref="Start"/> (0-based) and <see cref="Length"/>.</summary>
/// <param name="Start">Index of the first item.</param>
/// <param name="Length">Number of items.</param>
public readonly record struct ShardRange(int Start, int Length)
{
    /// <summary>One past the last item.</summary>
    public int End => Start + Length;

    /// <summary>True when item <paramref name="item"/> is in the block.</summary>
    public bool Contains(int item) => item >= Start && item < End;
}
