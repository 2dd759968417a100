namespace Noether;

/// <summary>
/// A data or weights file exists but its contents are not what its format requires: a wrong magic
/// number, a truncated body, counts that disagree, a malformed header. The message always starts with
/// the file's path and then names the problem, e.g.
/// <c>"/data/train-labels-idx1-ubyte.gz: wrong magic number 0x00000803 (expected 0x00000801, an IDX label file)"</c>.
/// </summary>
/// <remarks>
/// Noether reports bad <em>arguments</em> with <see cref="ArgumentException"/>; a bad <em>file</em> is not an
/// argument error, so it derives from <see cref="FormatException"/> (as the framework's parsers do) and carries
/// the offending path in <see cref="FilePath"/>. A missing file is a <see cref="Data.DatasetNotFoundException"/>
/// (or the framework's <see cref="FileNotFoundException"/> for single files), never this type.
/// </remarks>
public sealed class DataFormatException : FormatException
{
    /// <summary>Creates the exception for <paramref name="filePath"/>; the message becomes "<c>filePath: problem</c>".</summary>
    /// <param name="filePath">The file that failed to parse.</param>
    /// <param name="problem">What is wrong with it, in words a user can act on.</param>
    /// <param name="inner">The lower-level failure, if any (e.g. a corrupt gzip stream).</param>
    public DataFormatException(string filePath, string problem, Exception? inner = null)
        : base($"{filePath}: {problem}", inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The path of the malformed file (or a description of the source when it was not a file).</summary>
    public string FilePath { get; }

    /// <summary>The problem alone, without the path.</summary>
    public string Problem { get; }
}
