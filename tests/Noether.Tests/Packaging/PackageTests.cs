using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using Noether.Tests.Cli;

namespace Noether.Tests.Packaging;

/// <summary>
/// The NuGet packages as a user gets them: `dotnet pack` of the already-built projects (--no-build, the configuration
/// these tests were built in) into a temporary folder feed, then `dotnet tool install` of Noether.Cli from that feed
/// alone into a temporary tool path, and the installed `noether` run.
/// </summary>
public sealed class PackageFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("noether-pack-").FullName;
    public string Feed => Path.Combine(Root, "feed");
    public string ToolPath => Path.Combine(Root, "tools");
    public string Version { get; } = typeof(Noether.Cli.Commands.InfoCommand).Assembly.GetName().Version!.ToString(3);

    public PackageFixture()
    {
        string repo = Cli.Report.ReportAssertions.RepositoryRoot();
        // …/tests/Noether.Tests/bin/<Configuration>/net10.0/
        string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        foreach (var project in new[] { "src/Noether/Noether.csproj", "src/Noether.Cli/Noether.Cli.csproj" })
            PackageTests.Dotnet(["pack", Path.Combine(repo, project), "-c", configuration, "--no-build", "-o", Feed, "-nodeReuse:false"], repo);

        // Only the folder feed (no other source), and a package cache of its own: an older Noether.Cli of the same
        // version cached elsewhere must not stand in for the one just packed.
        string config = Path.Combine(Root, "nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="folder" value="{Feed}" /></packageSources></configuration>
            """);
        PackageTests.Dotnet(["tool", "install", "--tool-path", ToolPath, "--configfile", config, "--add-source", Feed, "Noether.Cli", "--version", Version], Root,
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(Root, "packages") });
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

public sealed class PackageTests(PackageFixture pack) : IClassFixture<PackageFixture>
{
    internal static CliRunner.Result Run(string file, IReadOnlyList<string> args, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        // No MSBuild node or build server may outlive the command (it would hold the redirected output open).
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        if (environment is not null) foreach (var (k, v) in environment) info.Environment[k] = v;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within 3 minutes");
        }
        return new CliRunner.Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    internal static void Dotnet(IReadOnlyList<string> args, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var r = Run("dotnet", args, workingDirectory, environment);
        Assert.True(r.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited with {r.ExitCode}:\n{r.Stdout}\n{r.Stderr}");
    }

    private CliRunner.Result Noether(params string[] args) => Run(Path.Combine(pack.ToolPath, "noether"), args, pack.Root);

    private static XElement Nuspec(ZipArchive zip, string id)
    {
        using var s = zip.GetEntry($"{id}.nuspec")!.Open();
        return XDocument.Load(s).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static string? Field(XElement metadata, string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;

    [Fact]
    public void InstalledTool_RunsHelpAndInfo()
    {
        var help = Noether("--help");
        Assert.True(help.ExitCode == 0, help.Stderr);
        Assert.Contains("Usage:", help.Stdout);
        Assert.Contains("noether [command] [options]", help.Stdout);
        Assert.Contains("reproduce", help.Stdout);

        var info = Noether("info");
        Assert.True(info.ExitCode == 0, info.Stderr);
        Assert.Matches($@"│ noether\s+│ {System.Text.RegularExpressions.Regex.Escape(pack.Version)}\s+│", info.Stdout);
        Assert.Contains("BLAS", info.Stdout);
        Assert.Contains("Fashion-MNIST", info.Stdout);
    }

    [Fact]
    public void InstalledTool_DrawsFiguresWithItsOwnFonts_AndFailsCleanlyOnBadInput()
    {
        // orbit on one small shape: milliseconds of work, one PNG drawn with the fonts the package ships.
        string outDir = Path.Combine(pack.Root, "orbit");
        var r = Noether("orbit", "--shapes", "3x2x4", "--out", outDir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        CliOutput.AssertPng(Path.Combine(outDir, "orbit.png"));
        string tool = Directory.GetDirectories(Path.Combine(pack.ToolPath, ".store"), "any", SearchOption.AllDirectories).Single();
        foreach (var font in new[] { "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE-DejaVu.txt" })
            Assert.True(File.Exists(Path.Combine(tool, "Figures", "Fonts", font)), $"{font} is not in the installed tool ({tool})");

        var bad = Noether("orbit", "--shapes", "3x2", "--out", Path.Combine(pack.Root, "never"));
        CliRunner.AssertCleanFailure(bad, "--shapes");
    }

    [Fact]
    public void ToolPackage_IsADotnetToolNamedNoether()
    {
        using var zip = ZipFile.OpenRead(Path.Combine(pack.Feed, $"Noether.Cli.{pack.Version}.nupkg"));
        var metadata = Nuspec(zip, "Noether.Cli");
        Assert.Equal("Noether.Cli", Field(metadata, "id"));
        Assert.Equal("README.md", Field(metadata, "readme"));
        var type = metadata.Descendants().Single(e => e.Name.LocalName == "packageType");
        Assert.Equal("DotnetTool", type.Attribute("name")?.Value);
        using var settings = zip.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open();
        var command = XDocument.Load(settings).Descendants("Command").Single();
        Assert.Equal("noether", command.Attribute("Name")?.Value);
        Assert.Equal("Noether.Cli.dll", command.Attribute("EntryPoint")?.Value);
        Assert.NotNull(zip.GetEntry("README.md"));
    }

    [Fact]
    public void LibraryPackage_HasTheAssemblyItsXmlDocsAndReadme()
    {
        using var zip = ZipFile.OpenRead(Path.Combine(pack.Feed, $"Noether.{pack.Version}.nupkg"));
        var metadata = Nuspec(zip, "Noether");
        Assert.Equal("Noether", Field(metadata, "id"));
        Assert.Equal(pack.Version, Field(metadata, "version"));
        Assert.Equal("README.md", Field(metadata, "readme"));
        Assert.False(string.IsNullOrWhiteSpace(Field(metadata, "description")));
        var dependencies = metadata.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).Order().ToArray();
        Assert.Equal(["MathNet.Numerics", "System.Numerics.Tensors"], dependencies);

        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("lib/net10.0/Noether.dll", entries);
        Assert.Contains("README.md", entries);
        using (var xml = zip.GetEntry("lib/net10.0/Noether.xml")!.Open())
        {
            var members = XDocument.Load(xml).Descendants("member").ToList();
            Assert.True(members.Count > 500, $"only {members.Count} documented members in Noether.xml");
            Assert.Contains(members, m => m.Attribute("name")?.Value.StartsWith("T:Noether.Tensors.Tensor`1", StringComparison.Ordinal) == true);
        }
        using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
        Assert.StartsWith("# Noether", readme.ReadToEnd());
        // The library alone: no CLI, no test or benchmark assembly in it.
        Assert.DoesNotContain(entries, e => e.Contains("Noether.Cli", StringComparison.Ordinal) || e.Contains("Tests", StringComparison.Ordinal) || e.Contains("Bench", StringComparison.Ordinal));
    }
}
