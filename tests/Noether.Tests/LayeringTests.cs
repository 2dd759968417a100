using System.Text.RegularExpressions;

namespace Noether.Tests;

/// <summary>
/// The house rules of docs/architecture.md, read from the source: every folder of the library uses only the folders
/// below it (through `using` lines, `using static`, `global using` or a qualified name), no folder uses itself
/// through a cycle, the library never writes to the console, and MathNet's linear algebra is used only in Tensors/.
/// </summary>
public partial class LayeringTests
{
    /// <summary>The layers, lowest first: a folder may use the folders before it, never one after it.</summary>
    public static readonly string[] Layers =
    [
        "Tensors", "Autodiff", "Nn", "Graphs", "Serialization", "Data", "Interop", "Symmetry", "Conservation", "Landscape",
        "Ensembles", "Attacks", "Experiments",
    ];

    private static string Root() => Support.Repository.Root;

    private static string Library => Path.Combine(Root(), "src", "Noether");

    /// <summary>Every C# file of the library with its layer (its top folder; "" for files at the root).</summary>
    private static IEnumerable<(string Path, string Layer)> LibraryFiles() =>
        Directory.EnumerateFiles(Library, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(f =>
            {
                string rel = Path.GetRelativePath(Library, f);
                int slash = rel.IndexOf(Path.DirectorySeparatorChar);
                return (f, slash < 0 ? "" : rel[..slash]);
            });

    /// <summary>The code of a file without comments and string/char literals (so prose and messages do not count).</summary>
    internal static string CodeOnly(string source) =>
        CommentOrLiteral().Replace(source, m => m.Value.StartsWith("//", StringComparison.Ordinal) || m.Value.StartsWith("/*", StringComparison.Ordinal) ? " " : "\"\"");

    // Comments, verbatim/raw/interpolated/plain strings and char literals. Interpolation holes are dropped with their
    // string: a hole naming another layer's type would also appear in a using line or a qualified name elsewhere.
    [GeneratedRegex("""//[^\n]*|/\*.*?\*/|\"\"\"[\s\S]*?\"\"\"|[$@]*@[$]*"(?:[^"]|"")*"|[$]*"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)+'""", RegexOptions.Singleline)]
    private static partial Regex CommentOrLiteral();

    /// <summary>The library folders a piece of code uses: `using Noether.X`, `using static Noether.X.…`, `Noether.X.Y`
    /// and (inside the library's namespaces) `X.Y` for a folder name X that is not a member access.</summary>
    internal static SortedSet<string> UsedLayers(string code)
    {
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match m in NoetherQualified().Matches(code)) used.Add(m.Groups[1].Value);
        foreach (Match m in FolderQualified().Matches(code))
        {
            // `Data` and `Tensors` are also member and framework names (tensor.Data, System.Numerics.Tensors): those
            // two count only fully qualified (above).
            string name = m.Groups[1].Value;
            if (name is not ("Data" or "Tensors")) used.Add(name);
        }
        used.IntersectWith(Layers);
        return used;
    }

    [GeneratedRegex(@"\bNoether\.([A-Z][A-Za-z]*)\b")]
    private static partial Regex NoetherQualified();

    [GeneratedRegex(@"(?<![\w.])(Tensors|Autodiff|Nn|Graphs|Serialization|Data|Interop|Symmetry|Conservation|Landscape|Ensembles|Attacks|Experiments)\.[A-Z]")]
    private static partial Regex FolderQualified();

    [Fact]
    public void Library_EveryFolderIsALayer()
    {
        var folders = Directory.EnumerateDirectories(Library).Select(Path.GetFileName)
            .Where(n => n is not ("bin" or "obj")).ToArray();
        Assert.Empty(folders.Except(Layers));
    }

    [Fact]
    public void Library_NoFolderUsesAHigherOrSameRankedOtherFolder()
    {
        var violations = new List<string>();
        foreach (var (path, layer) in LibraryFiles())
        {
            int rank = Array.IndexOf(Layers, layer);
            foreach (string used in UsedLayers(CodeOnly(File.ReadAllText(path))))
                if (used != layer && (rank < 0 || Array.IndexOf(Layers, used) > rank))
                    violations.Add($"{Path.GetRelativePath(Library, path)} ({(layer.Length == 0 ? "root" : layer)}) uses {used}");
        }
        Assert.True(violations.Count == 0, "layer order broken:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Library_NeverWritesToTheConsole()
    {
        var offenders = LibraryFiles().Where(f => ConsoleUse().IsMatch(CodeOnly(File.ReadAllText(f.Path))))
            .Select(f => Path.GetRelativePath(Library, f.Path)).ToArray();
        Assert.Empty(offenders);
    }

    [GeneratedRegex(@"\bConsole\s*\.|\bAnsiConsole\b")]
    private static partial Regex ConsoleUse();

    [Fact]
    public void Library_MathNetLinearAlgebraOnlyInTensors()
    {
        var offenders = LibraryFiles().Where(f => f.Layer != "Tensors" && File.ReadAllText(f.Path).Contains("MathNet.Numerics.LinearAlgebra", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Library, f.Path)).ToArray();
        Assert.Empty(offenders);
    }

    /// <summary>One exception factory: every argument exception of src/ is built by Errors (which refuses an empty
    /// parameter name), never with `new ArgumentException(…)` at the throw site. The framework's guard helpers
    /// (ArgumentNullException.ThrowIfNull and the like) name their parameter themselves and stay allowed.</summary>
    [Fact]
    public void Source_ArgumentExceptionsComeFromErrors()
    {
        string src = Path.Combine(Root(), "src");
        var offenders = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && Path.GetFileName(f) != "Errors.cs")
            .SelectMany(f => NewArgumentException().Matches(CodeOnly(File.ReadAllText(f))).Select(m => $"{Path.GetRelativePath(src, f)}: {m.Value}"))
            .ToArray();
        Assert.True(offenders.Length == 0, $"{offenders.Length} argument exceptions built outside Errors:\n" + string.Join("\n", offenders.Take(40)));
    }

    [GeneratedRegex(@"\bnew\s+Argument(Null|OutOfRange)?Exception\s*\(")]
    private static partial Regex NewArgumentException();

    [Fact]
    public void Errors_RefusesAnUnnamedArgument()
    {
        Assert.Equal("x", Errors.Argument("x", "m").ParamName);
        Assert.Throws<InvalidOperationException>(() => Errors.Argument("", "m"));
        Assert.Matches(NewArgumentException(), CodeOnly("throw new ArgumentException(\"m\", nameof(x));"));
        Assert.DoesNotMatch(NewArgumentException(), CodeOnly("// throw new ArgumentException(\"m\");"));
    }

    // The scanner itself must see what it is meant to see (a rule that cannot fail checks nothing).
    [Theory]
    [InlineData("using Noether.Landscape;\nclass A {}", "Landscape")]
    [InlineData("using static Noether.Experiments.ClaimOutcomes;", "Experiments")]
    [InlineData("var a = Symmetry.Activation.Parse(s);", "Symmetry")]
    [InlineData("var d = new Noether.Data.ImageDataset();", "Data")]
    [InlineData("global using Noether.Attacks;", "Attacks")]
    public void UsedLayers_FindsTheReference(string code, string layer) =>
        Assert.Contains(layer, UsedLayers(CodeOnly(code)));

    [Theory]
    [InlineData("x.Data.AsSpan();")]
    [InlineData("using System.Numerics.Tensors;")]
    [InlineData("// uses Noether.Landscape.Teleport\nint a;")]
    [InlineData("throw new Exception(\"needs a Noether.Symmetry.Activation\");")]
    public void UsedLayers_IgnoresMembersFrameworkNamesCommentsAndStrings(string code) =>
        Assert.Empty(UsedLayers(CodeOnly(code)));

    [Fact]
    public void Rules_WouldCatchAnUpwardUse()
    {
        // Nn using Ensembles (the edge that once got in unnoticed) is an upward use in this order.
        Assert.True(Array.IndexOf(Layers, "Ensembles") > Array.IndexOf(Layers, "Nn"));
        Assert.Contains("Ensembles", UsedLayers(CodeOnly("using Noether.Ensembles;")));
        Assert.Matches(ConsoleUse(), CodeOnly("Console.WriteLine(x);"));
        Assert.DoesNotMatch(ConsoleUse(), CodeOnly("// Console.WriteLine(x);"));
    }
}
