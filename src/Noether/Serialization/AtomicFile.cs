using System.Text;

namespace Noether.Serialization;

/// <summary>
/// Writes files all-or-nothing: the content goes to a temporary file in the same directory, is flushed to disk,
/// and is then renamed over the target (an atomic replace on POSIX file systems). If writing fails — the callback
/// throws, the disk fills, the process is interrupted before the rename — the old file (if any) is untouched and,
/// except after a hard kill, the temporary file is deleted.
/// </summary>
/// <remarks>
/// The temporary file is named <c>.NAME.RANDOM.tmp</c> next to the target. The directory must exist (it is not
/// created). Failures to create, write or rename the file itself are reported as <see cref="IOException"/> whose
/// message names the target path; exceptions thrown by the caller's callback propagate unchanged.
/// </remarks>
public static class AtomicFile
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Writes <paramref name="path"/> with the bytes <paramref name="write"/> puts into the stream it is given.</summary>
    /// <param name="path">The target file; replaced atomically if it exists.</param>
    /// <param name="write">Writes the whole content into the (temporary file's) stream; must not close it.</param>
    /// <exception cref="IOException">The directory does not exist or is not writable, the target is a directory, or the rename failed.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? throw new IOException($"cannot write {full}: it has no parent directory");
        if (Directory.Exists(full)) throw new IOException($"cannot write {full}: it is a directory");
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"cannot write {full}: the directory {directory} does not exist");

        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        FileStream stream;
        try
        {
            stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"cannot write {full}: {e.Message}", e);
        }
        bool renamed = false;
        try
        {
            using (stream)
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            try
            {
                File.Move(temp, full, overwrite: true);
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                throw new IOException($"cannot write {full}: renaming the completed temporary file failed: {e.Message}", e);
            }
            renamed = true;
        }
        finally
        {
            if (!renamed) TryDelete(temp);
        }
    }

    /// <summary>Writes <paramref name="contents"/> as UTF-8 (no byte-order mark) all-or-nothing.</summary>
    public static void WriteAllText(string path, string contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        var bytes = Utf8NoBom.GetBytes(contents);
        Write(path, s => s.Write(bytes));
    }

    /// <summary>Writes <paramref name="bytes"/> all-or-nothing.</summary>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Write(path, s => s.Write(bytes));
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException) { /* best effort: the original error matters more */ }
    }
}
