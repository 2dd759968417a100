using System.Runtime.InteropServices;
using System.Text.Json;

namespace Noether.Cli.Output;

/// <summary>
/// The one place that owns a command's output folder: a run writes into a private staging folder beside --out and only
/// a complete result replaces --out, in one rename. Until then --out is exactly what it was before the run, whatever
/// happens — a failure, Ctrl-C, a full disk, a crash.
/// </summary>
/// <remarks>
/// <para>For --out <c>P/NAME</c>:</para>
/// <list type="bullet">
/// <item><c>P/.NAME.lock</c> — held with flock for the whole run, so a second run into the same folder is refused at
/// once (the file stays: deleting a lock file races with a run that has just opened it).</item>
/// <item><c>P/.NAME.staging-PID-RANDOM</c> — where the run writes; removed if the run does not complete.</item>
/// <item>Commit: if NAME does not exist, the staging folder is renamed to it; otherwise the two are exchanged in one
/// <c>renameat2(RENAME_EXCHANGE)</c> (where the file system lacks it: NAME is renamed aside to <c>.NAME.old-PID-RANDOM</c>,
/// the staging folder renamed in, and the old one put back if that fails), then the old result is deleted.</item>
/// </list>
/// <para>Folders of a run nested in another's staging folder (the steps of <c>noether reproduce</c>, analyze's default
/// ensemble folder) stage the same way but take no lock: the outer run's lock covers them.</para>
/// </remarks>
internal sealed class OutputFolder : IDisposable
{
    private static readonly AsyncLocal<OutputFolder?> CurrentFolder = new();

    private readonly OutputFolder? _parent;
    private readonly FileStream? _lock;
    private readonly List<string> _createdAncestors;
    private readonly CliRun? _run;
    private bool _committed;
    private bool _disposed;

    private OutputFolder(string option, string target, string staging, bool existed, FileStream? lockFile, List<string> createdAncestors, OutputFolder? parent)
    {
        (Option, Target, Staging, Existed, _lock, _createdAncestors, _parent) = (option, target, staging, existed, lockFile, createdAncestors, parent);
        _run = CliRun.Current;
        _run?.Enter(this);
        CurrentFolder.Value = this;
    }

    /// <summary>The option that named the folder ("--out").</summary>
    public string Option { get; }

    /// <summary>The folder the result goes to (full path, symbolic links resolved).</summary>
    public string Target { get; }

    /// <summary>The private folder the run writes into.</summary>
    public string Staging { get; }

    /// <summary>Whether <see cref="Target"/> existed when the run began (its content is kept unless the run completes).</summary>
    public bool Existed { get; }

    /// <summary>Whether the result has replaced <see cref="Target"/>.</summary>
    public bool Committed => _committed;

    /// <summary>
    /// Checks --out, takes its lock and creates the staging folder. Refuses (an <see cref="ArgumentException"/> or
    /// <see cref="IOException"/> naming <paramref name="option"/> and the folder) an empty path, a file, a dangling link,
    /// a non-empty folder without <paramref name="force"/>, a folder another run holds, a parent that cannot be written.
    /// </summary>
    public static OutputFolder Begin(string? path, bool force, string option = "--out")
    {
        if (string.IsNullOrWhiteSpace(path)) throw Errors.Argument(option, $"{option}: an output directory is required (got an empty path)");
        if (path.Any(char.IsControl)) throw Errors.Argument(option, $"{option}: the path {Quote(path)} contains a control character (a line break or tab); choose another folder name");
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        full = ResolveLink(full, option);
        string name = Path.GetFileName(full);
        string parent = Path.GetDirectoryName(full) ?? throw Errors.Argument(option, $"{option}: {full} is a root folder; choose a folder inside it");
        CheckTarget(full, force, option);

        var created = new List<string>();
        for (string? d = parent; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) created.Add(d);
        var outer = CurrentFolder.Value;
        bool nested = outer is not null && !outer._disposed && IsInside(full, outer.Staging);
        FileStream? lockFile = null;
        string staging = Path.Combine(parent, $".{name}.staging-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..8]}");
        try
        {
            Directory.CreateDirectory(parent);
            if (!nested)
            {
                lockFile = Lock(Path.Combine(parent, $".{name}.lock"), full, option);
                RemoveStale(parent, name);
                CheckTarget(full, force, option); // again, now that no other run can change it (and a set-aside result is back)
            }
            Directory.CreateDirectory(staging);
        }
        catch (Exception e)
        {
            lockFile?.Dispose();
            RemoveEmpty(created);
            if (e is not (IOException or UnauthorizedAccessException) || e is OutputFolderBusyException) throw;
            throw new IOException($"{option}: cannot write {full} ({e.Message})", e);
        }
        return new OutputFolder(option, full, staging, Directory.Exists(full), lockFile, created, outer);
    }

    /// <summary>
    /// Runs <paramref name="body"/> with the staging folder and commits its result when it returns; on an exception the
    /// staging folder is removed and --out left as it was.
    /// </summary>
    public static int Run(string? path, bool force, CancellationToken token, Func<string, int> body)
    {
        using var folder = Begin(path, force);
        int exit = body(folder.Staging);
        folder.Commit(token);
        return exit;
    }

    /// <summary>
    /// Checks the staged result and makes it the content of <see cref="Target"/>: a cancellation requested before this
    /// point wins (nothing is replaced); afterwards the replacement is one rename.
    /// </summary>
    public void Commit(CancellationToken token = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed) return;
        token.ThrowIfCancellationRequested();
        Validate();
        if (!Directory.Exists(Target))
        {
            Directory.Move(Staging, Target);
        }
        else if (Exchange(Staging, Target))
        {
            DeleteTree(Staging); // now the old result
        }
        else
        {
            string old = Path.Combine(Path.GetDirectoryName(Target)!, $".{Path.GetFileName(Target)}.old-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..8]}");
            Directory.Move(Target, old);
            try
            {
                Directory.Move(Staging, Target);
            }
            catch
            {
                Directory.Move(old, Target);
                throw;
            }
            DeleteTree(old);
        }
        _committed = true;
    }

    /// <summary>Removes the staging folder unless the result was committed, and releases the lock.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_committed)
        {
            DeleteTree(Staging);
            RemoveEmpty(_createdAncestors);
        }
        _lock?.Dispose();
        _run?.Leave(this);
        CurrentFolder.Value = _parent;
    }

    /// <summary>Removes the staging folder now (a second signal: the process is about to exit); first renamed away so that a writer still running cannot refill it under its name.</summary>
    internal void Abandon()
    {
        if (_committed) return;
        string trash = Staging + ".abandoned";
        try
        {
            Directory.Move(Staging, trash);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            trash = Staging;
        }
        DeleteTree(trash);
    }

    /// <summary>A run's staging path in <paramref name="text"/> replaced by its --out, so messages name the folder the user chose.</summary>
    internal string Show(string text) => text.Replace(Staging, Target, StringComparison.Ordinal);

    /// <summary>What happened to --out when the run did not complete.</summary>
    internal string Outcome() => _committed ? $"{Target} holds the new result"
        : Existed ? $"{Option} {Target} left unchanged" : $"{Option} {Target} not created";

    /// <summary>
    /// A staged result must be complete: no temporary file of an interrupted write, and every figure its summary.json lists
    /// present (the report contract).
    /// </summary>
    private void Validate()
    {
        foreach (var file in Directory.EnumerateFiles(Staging, "*.tmp", SearchOption.AllDirectories))
            if (Path.GetFileName(file).StartsWith('.'))
                throw new IOException($"{Option}: the result is incomplete ({Path.GetRelativePath(Staging, file)} is a temporary file of an unfinished write); {Outcome()}");
        string summary = Path.Combine(Staging, "summary.json");
        if (!File.Exists(summary)) return;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(summary));
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("figures", out var figures) || figures.ValueKind != JsonValueKind.Array) return;
            foreach (var figure in figures.EnumerateArray())
                if (figure.ValueKind == JsonValueKind.Object && figure.TryGetProperty("file", out var f) && f.ValueKind == JsonValueKind.String
                    && !File.Exists(Path.Combine(Staging, f.GetString()!)))
                    throw new IOException($"{Option}: the result is incomplete (summary.json lists {f.GetString()}, which was not written); {Outcome()}");
        }
        catch (JsonException e)
        {
            throw new IOException($"{Option}: the result is incomplete (summary.json is not valid JSON: {e.Message}); {Outcome()}", e);
        }
    }

    private static void CheckTarget(string full, bool force, string option)
    {
        if (File.Exists(full)) throw Errors.Argument(option, $"{option}: {full} is a file, expected a directory");
        if (Directory.Exists(full) && !force && Directory.EnumerateFileSystemEntries(full).Any())
            throw Errors.Argument(option, $"{option}: {full} is not empty; pass --force to replace it with this run's result (it is kept until the run completes)");
    }

    /// <summary>--out given as a symbolic link: the folder it points to (a dangling or looping link refused).</summary>
    private static string ResolveLink(string full, string option)
    {
        FileSystemInfo info = new FileInfo(full);
        if (info.LinkTarget is null) return full;
        FileSystemInfo? final;
        try
        {
            final = info.ResolveLinkTarget(returnFinalTarget: true);
        }
        catch (IOException e)
        {
            throw Errors.Argument(option, $"{option}: {full} is a symbolic link that cannot be followed ({e.Message})");
        }
        if (final is null || !Path.Exists(final.FullName)) // a FileInfo: Exists is false for a folder
            throw Errors.Argument(option, $"{option}: {full} is a symbolic link to {final?.FullName ?? info.LinkTarget}, which does not exist");
        return Path.TrimEndingDirectorySeparator(final.FullName);
    }

    /// <summary>An exclusive flock on <paramref name="lockPath"/> (.NET takes it for FileShare.None), refused at once when another run holds it.</summary>
    private static FileStream Lock(string lockPath, string full, string option)
    {
        try
        {
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException e) when (File.Exists(lockPath) && e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new OutputFolderBusyException($"{option}: {full} is in use by another noether run (it holds {lockPath}); wait for it to finish or choose another folder", e);
        }
    }

    /// <summary>
    /// Staging and set-aside folders of earlier runs into the same --out that did not end (a hard kill, a power cut), found
    /// under the lock: a staging folder is removed; a set-aside result is put back if --out is missing (a crash between the
    /// two renames of a commit) and removed otherwise. A folder whose process is still alive is left alone.
    /// </summary>
    private static void RemoveStale(string parent, string name)
    {
        string prefix = $".{name}.";
        foreach (var dir in Directory.EnumerateDirectories(parent))
        {
            if (!Path.GetFileName(dir).StartsWith(prefix, StringComparison.Ordinal)) continue;
            string rest = Path.GetFileName(dir)[(name.Length + 2)..];
            bool staging = rest.StartsWith("staging-", StringComparison.Ordinal);
            bool old = rest.StartsWith("old-", StringComparison.Ordinal);
            if (!staging && !old) continue;
            var parts = rest.Split('-', '.');
            if (parts.Length < 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || Alive(pid)) continue;
            string target = Path.Combine(parent, name);
            if (old && !Directory.Exists(target) && !File.Exists(target)) Directory.Move(dir, target);
            else DeleteTree(dir);
        }
    }

    private static bool Alive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool IsInside(string path, string folder) =>
        path.StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static void DeleteTree(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a later run into the same --out removes what is left (RemoveStale).
        }
    }

    private static void RemoveEmpty(List<string> created)
    {
        foreach (var dir in created) // deepest first
        {
            try
            {
                if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    private static string Quote(string path) => "'" + string.Concat(path.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) + "'";

    /// <summary>Swaps two folders in one step (Linux renameat2 with RENAME_EXCHANGE); false where the system or file system lacks it.</summary>
    private static bool Exchange(string a, string b)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            if (RenameAt2(AtFdCwd, a, AtFdCwd, b, RenameExchange) == 0) return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
        int errno = Marshal.GetLastPInvokeError();
        const int ENOSYS = 38, EINVAL = 22, ENOTSUP = 95;
        if (errno is ENOSYS or EINVAL or ENOTSUP) return false;
        throw new IOException($"cannot replace {b} with the new result: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    private const int AtFdCwd = -100;
    private const uint RenameExchange = 2;

    [DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    private static extern int RenameAt2(int oldDirFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, int newDirFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath, uint flags);
}

/// <summary>Another run holds the output folder's lock.</summary>
internal sealed class OutputFolderBusyException(string message, Exception inner) : IOException(message, inner);

/// <summary>
/// One invocation of a command (and the steps it runs in-process): the output folders it has open, for the signal
/// handler (a second signal removes their staging folders before exiting) and for messages (which name --out).
/// </summary>
internal sealed class CliRun
{
    private static readonly AsyncLocal<CliRun?> CurrentRun = new();
    private readonly List<OutputFolder> _open = [];
    private readonly List<OutputFolder> _all = [];

    /// <summary>The run this code is part of, or null outside a command.</summary>
    public static CliRun? Current => CurrentRun.Value;

    /// <summary>The first output folder the run opened (reproduce's --out, not a step's).</summary>
    public OutputFolder? Outermost { get; private set; }

    /// <summary>Starts a run for the current flow of execution, or returns the one it is nested in (a step of reproduce).</summary>
    public static CliRun Start(out bool outermost)
    {
        outermost = CurrentRun.Value is null;
        return CurrentRun.Value ??= new CliRun();
    }

    /// <summary>Forgets the run (an outermost invocation returned).</summary>
    public static void End() => CurrentRun.Value = null;

    public void Enter(OutputFolder folder)
    {
        lock (_open)
        {
            _open.Add(folder);
            _all.Add(folder);
            Outermost ??= folder;
        }
    }

    public void Leave(OutputFolder folder)
    {
        lock (_open) _open.Remove(folder);
    }

    /// <summary>The staging folders still open, innermost first.</summary>
    public OutputFolder[] Open()
    {
        lock (_open) return [.. Enumerable.Reverse(_open)];
    }

    /// <summary><paramref name="text"/> with the staging path of every folder the run opened replaced by its --out.</summary>
    public string Show(string text)
    {
        OutputFolder[] all;
        lock (_open) all = [.. Enumerable.Reverse(_all)];
        foreach (var f in all) text = f.Show(text);
        return text;
    }

    /// <summary>What happened to the run's --out ("--out DIR left unchanged"), or null when it opened none.</summary>
    public string? Outcome() => Outermost?.Outcome();
}
