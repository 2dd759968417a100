namespace Noether.Tests.Support;

/// <summary>The repository's folders, for tests that read its files (docs, scripts, src).</summary>
internal static class Repository
{
    /// <summary>The folder holding Noether.slnx, found upwards from the test binary.</summary>
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Noether.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        }
    }
}
