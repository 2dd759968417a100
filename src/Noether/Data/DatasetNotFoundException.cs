namespace Noether.Data;

/// <summary>
/// A data set (or one of its files) is not where Noether looked. The message lists the places searched,
/// the missing files and, when a package provides the data set, the command that installs it
/// (for Fashion-MNIST: <c>apt-get install -y dataset-fashion-mnist</c>).
/// </summary>
public sealed class DatasetNotFoundException : FileNotFoundException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The full message (places searched, files missing, how to install).</param>
    /// <param name="missingPath">The first missing file or directory.</param>
    /// <param name="installCommand">A shell command that installs the data set, or null when none exists.</param>
    public DatasetNotFoundException(string message, string missingPath, string? installCommand)
        : base(message, missingPath)
    {
        InstallCommand = installCommand;
    }

    /// <summary>A shell command that installs the data set, or null when no package provides it.</summary>
    public string? InstallCommand { get; }
}
