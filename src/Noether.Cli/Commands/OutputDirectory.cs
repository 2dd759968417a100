namespace Noether.Cli.Commands;

/// <summary>
/// The folder a command writes into. Checked before any work starts (so a long run never ends in "cannot
/// write"), never half-filled: every file goes through an atomic write after the computation is done.
/// </summary>
internal static class OutputDirectory
{
    public static string Prepare(string path, bool force)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("--out: an output directory is required", "--out");
        string full = Path.GetFullPath(path);
        if (File.Exists(full)) throw new ArgumentException($"--out: {full} is a file, expected a directory", "--out");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any() && !force)
            throw new ArgumentException($"--out: {full} is not empty; pass --force to overwrite the files it shares with this run", "--out");
        try
        {
            Directory.CreateDirectory(full);
            string probe = Path.Combine(full, $".noether-write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"--out: cannot write to {full} ({e.Message})", e);
        }
        return full;
    }
}
