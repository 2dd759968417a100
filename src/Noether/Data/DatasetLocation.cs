namespace Noether.Data;

/// <summary>
/// Where a data set was looked for and what was found there (for <c>noether info</c> and for error messages).
/// </summary>
/// <param name="Name">The data set's name, e.g. "Fashion-MNIST".</param>
/// <param name="Directory">The directory searched (absolute), or null when no directory was given or configured.</param>
/// <param name="ChosenBy">How that directory was chosen: "argument", the environment variable's name, or "default".</param>
/// <param name="Files">The data set's files that exist there (full paths).</param>
/// <param name="Missing">The data set's file names that do not exist there.</param>
public sealed record DatasetLocation(string Name, string? Directory, string ChosenBy, IReadOnlyList<string> Files, IReadOnlyList<string> Missing)
{
    /// <summary>True when the directory exists and holds every file of the data set.</summary>
    public bool Found => Directory is not null && Missing.Count == 0;

    /// <inheritdoc/>
    public override string ToString() => Directory is null
        ? $"{Name}: no directory configured"
        : Found
            ? $"{Name}: {Directory} (chosen by {ChosenBy})"
            : $"{Name}: not found in {Directory} (chosen by {ChosenBy}; missing {string.Join(", ", Missing)})";
}
