using System.Text;
using Noether.Serialization;

namespace Noether.Tests.Serialization;

public class AtomicFileTests
{
    [Fact]
    public void Write_CallbackThrowsMidWrite_OldFileUntouchedAndNoTempFileLeft()
    {
        using var dir = new TempDirectory();
        var path = dir.File("results.csv");
        File.WriteAllText(path, "old content\n");

        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(Encoding.UTF8.GetBytes(new string('x', 100_000))); // more than one buffer's worth reaches the disk
            throw new InvalidOperationException("simulated failure");
        }));

        Assert.Equal("simulated failure", e.Message);
        Assert.Equal("old content\n", File.ReadAllText(path));
        Assert.Equal(["results.csv"], dir.FileNames());
    }

    [Fact]
    public void Write_NewFileCallbackThrows_NothingCreated()
    {
        using var dir = new TempDirectory();
        Assert.Throws<IOException>(() => AtomicFile.Write(dir.File("new.bin"), s =>
        {
            s.WriteByte(1);
            throw new IOException("disk full");
        }));
        Assert.Empty(dir.FileNames());
    }

    [Fact]
    public void WriteAllText_ReplacesExistingFileWithUtf8WithoutBom()
    {
        using var dir = new TempDirectory();
        var path = dir.File("a.txt");
        File.WriteAllText(path, "a much longer previous content that must disappear entirely");
        AtomicFile.WriteAllText(path, "é=1\n");
        Assert.Equal([0xC3, 0xA9, (byte)'=', (byte)'1', (byte)'\n'], File.ReadAllBytes(path));
        Assert.Equal(["a.txt"], dir.FileNames());
    }

    [Fact]
    public void Write_MissingDirectory_IOExceptionNamingPathAndNothingCreated()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "no-such-dir", "out.json");
        var e = Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.WriteAllText(path, "{}"));
        Assert.Contains(path, e.Message);
        Assert.Contains("does not exist", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void Write_TargetIsDirectory_IOExceptionAndDirectoryKept()
    {
        using var dir = new TempDirectory();
        var sub = Directory.CreateDirectory(Path.Combine(dir.Path, "taken")).FullName;
        var e = Assert.Throws<IOException>(() => AtomicFile.WriteAllText(sub, "x"));
        Assert.Contains("is a directory", e.Message);
        Assert.True(Directory.Exists(sub));
        Assert.Empty(dir.FileNames());
    }
}
